"""Recording the autograd graph: the one tuned implementation every op family uses.

An op records when one of its inputs requires grad and grad mode is on -- ``needs_grad``, or
``binary_needs_grad`` for the two operands of a binary op (None for a Python scalar) --, and
then makes its node and attaches it to its output.

:meth:`Node.__init__ <plugrad.autograd.node.Node.__init__>` is the plain way to make a node:
``cls(tuple(edge(t) for t in inputs), saved)``. ``record_binary`` and ``record_unary`` fill
the same slots by hand (``object.__new__``, no ``edge()`` calls, the version of each saved
tensor read inline) because they run once per recorded elementwise op, the hottest path of
the graph: 100-op chain fwd+bwd 3.52 -> 3.27 us/op with them (torch 3.03-3.21, commits
843702b, d4d7a26). ``tests/frontend/test_record.py`` proves that the nodes they make equal the plainly
built ones, slot by slot.

Grad mode is read one way: the thread-local attribute ``grad_state.enabled`` (an attribute
read, ~20 ns; ``is_grad_enabled()`` adds a call). ``arithmetic`` is the one tail of the four
arithmetic operators (add, sub, mul, div): the elision size test, the result tensor, the grad
test and the recording, written once and costing no call more than the inline copies they
replace: a + b 2x2 side by side, one thread, min of 30x1000 alternating 8 times: median
1648 ns before, 1671 after (+1.4%, ten arguments passed instead of four to ``_from_buffer``); the
100-op chain fwd+bwd within noise.
"""
from __future__ import annotations

from .._tensor import Tensor, _from_buffer
from ..autograd import anomaly as _anomaly
from ..autograd.grad_mode import _state as grad_state
from ..autograd.node import Node
from . import _elision

_new = object.__new__


def edge(t):
    """The graph edge for input ``t``: its grad_fn, itself if a leaf needing grad, else None."""
    if type(t) is not Tensor and not isinstance(t, Tensor):
        return None
    fn = t._grad_fn
    if fn is not None:
        return fn
    return t if t._requires_grad else None


def needs_grad(*tensors) -> bool:
    """True when any input requires grad and grad mode is on (the only time to record)."""
    for t in tensors:
        if isinstance(t, Tensor) and t._requires_grad:
            return grad_state.enabled
    return False


def binary_needs_grad(ta, tb) -> bool:
    """``needs_grad`` for a binary op's operands, each a Tensor or None (a Python scalar)."""
    return ((ta is not None and ta._requires_grad) or (tb is not None and tb._requires_grad)) \
        and grad_state.enabled


ALWAYS, FOR_OTHER = "always", "for_other"      # what a binary node keeps (``keep_a``/``keep_b``)


def arithmetic(compute, cls, ta, tb, xa, xb, dtype, shape, dev, elide, extra=None):
    """The shared tail of ``add``/``sub``/``mul``/``div``, after operand resolution.

    Runs ``compute(xa, xb)`` (the backend primitive) -- into a large invisible temporary
    operand's buffer when the operator path allows it (``elide``: ``a + b``, see
    :mod:`._elision`) --, wraps the result and records ``cls`` when an operand requires grad
    and grad mode is on. The node keeps the operands its ``keep_a``/``keep_b`` name, or
    ``extra`` (add/sub's alpha) as ``b``. It sets the slots ``_from_buffer`` sets itself: this runs
    once per arithmetic operator, where a call more cost ~40 ns of a ~1.7 us ``a + b``.
    """
    ga = ta is not None and ta._requires_grad
    gb = tb is not None and tb._requires_grad
    if elide and dev.host_memory and (ta if ta is not None else tb)._data.size >= \
            _elision.min_elements:
        if (ga or gb) and grad_state.enabled:
            # an operand the node will save for the other's gradient must keep its values
            # ((y * g).sum().backward() read the product as g: bias grads were garbage)
            keep_a, keep_b = cls.keep_a, cls.keep_b
            buf = _elision.reusable(
                None if keep_a is ALWAYS or keep_a is FOR_OTHER and gb else ta,
                None if keep_b is ALWAYS or keep_b is FOR_OTHER and ga else tb, shape, dtype)
        else:
            buf = _elision.reusable(ta, tb, shape, dtype)
        data = compute(xa, xb) if buf is None else compute(xa, xb, out=buf)
    else:
        data = compute(xa, xb)
    out = _new(Tensor)
    out._data = data
    out._shape = shape
    out._dtype = dtype
    out._device = dev
    if (ga or gb) and grad_state.enabled:
        keep_a, keep_b = cls.keep_a, cls.keep_b
        save_a = (ta if ta is not None else xa) if keep_a is ALWAYS or (
            keep_a is FOR_OTHER and gb) else None
        save_b = extra if extra is not None else (tb if tb is not None else xb) if (
            keep_b is ALWAYS or keep_b is FOR_OTHER and ga) else None
        return record_binary(out, cls, ta, tb, save_a, save_b)
    out._requires_grad = False
    out._grad_fn = None
    return out


def attach(out, node):
    """Make ``node`` the grad_fn of ``out``."""
    out._grad_fn = node
    out._requires_grad = True
    return out


def with_node(result, cls, inputs, out_attr=None, /, **attrs):
    """``result`` (computed under no_grad) as a fresh result of one ``cls`` node over ``inputs``.

    For ops computed as a composition but recorded as the single node torch records, with its
    own backward formula. ``attrs`` are set on the node; its tensors are the saved ones (their
    versions checked at backward). ``out_attr`` names the attribute that gets a detached alias
    of the result (saved too) when the formula reads the output.
    """
    res = _from_buffer(result._data, result._shape, result._dtype, result._device)
    if needs_grad(*inputs):
        if out_attr is not None:
            attrs[out_attr] = res.detach()
        saved = tuple(v for v in attrs.values() if isinstance(v, Tensor))
        node = cls(tuple(edge(t) for t in inputs), saved)
        for name, value in attrs.items():
            setattr(node, name, value)
        attach(res, node)
    return res


def record_binary(out, cls, ta, tb, save_a=None, save_b=None):
    """Attach a binary node (a ``_BinaryNode``: it remembers each operand's shape and dtype
    to reduce its gradient back to them); ``save_*`` are the values backward reads (tensors
    or scalars), kept as ``node.a`` / ``node.b``."""
    node = _new(cls)
    if ta is not None:
        fn = ta._grad_fn
        ea = fn if fn is not None else (ta if ta._requires_grad else None)
        node.sa, node.da = ta._shape, ta._dtype
    else:
        ea = None
        node.sa, node.da = (), None
    if tb is not None:
        fn = tb._grad_fn
        eb = fn if fn is not None else (tb if tb._requires_grad else None)
        node.sb, node.db = tb._shape, tb._dtype
    else:
        eb = None
        node.sb, node.db = (), None
    node.next = (ea, eb)
    # (None -- nothing saved -- is the common case and answers first)
    ta_saved = save_a is not None and (type(save_a) is Tensor or isinstance(save_a, Tensor))
    tb_saved = save_b is not None and (type(save_b) is Tensor or isinstance(save_b, Tensor))
    if ta_saved and tb_saved:
        va, vb = save_a._vc, save_b._vc
        node.saved = (save_a, save_b)
        node.versions = (va[0] if va else 0, vb[0] if vb else 0)
    elif ta_saved or tb_saved:
        t = save_a if ta_saved else save_b
        v = t._vc
        node.saved = (t,)
        node.versions = (v[0] if v else 0,)
    else:
        node.saved = node.versions = ()
    node.a, node.b = save_a, save_b
    if _anomaly.enabled:
        import traceback
        node.trace = traceback.format_stack()[:-2]
    out._grad_fn = node
    out._requires_grad = True
    return out


def record_unary(out, cls, x, keep):
    """Attach a unary node (a ``_UnaryNode``) for ``out = f(x)``.

    :param keep: what backward reads: ``"input"`` (x, saved), ``"output"`` (a detached alias
        of out, saved, plus x to recompute it under create_graph) or ``"none"``.
    """
    node = _new(cls)
    fn = x._grad_fn
    node.next = (fn if fn is not None else x,)
    if keep == "input":
        vc = x._vc
        node.saved, node.versions = (x,), (vc[0] if vc else 0,)
        node.x = x
    elif keep == "output":
        alias = out.detach()
        node.saved, node.versions = (alias,), (0,)
        node.x, node.y = x, alias
    else:
        node.saved = node.versions = ()
    node.dtype = x._dtype
    if _anomaly.enabled:
        import traceback
        node.trace = traceback.format_stack()[:-2]
    out._grad_fn = node
    out._requires_grad = True
    return out


def unbroadcast(grad, shape):
    """Sum ``grad`` down to ``shape`` (the inverse of broadcasting), with frontend ops."""
    gshape = grad._shape
    if gshape == shape:
        return grad
    lead = len(gshape) - len(shape)
    dims = tuple(range(lead)) + tuple(
        i + lead for i, s in enumerate(shape) if s == 1 and gshape[i + lead] != 1)
    if dims:
        grad = grad.sum(dims, keepdim=True)
    if lead:
        grad = grad.reshape(shape)
    elif grad._shape != shape:
        grad = grad.reshape(shape)
    return grad


def zeros_like_grad(g):
    """Zeros shaped like ``g`` (torch returns these, not ``g * 0``, which is nan for inf)."""
    dev = g._device
    return _from_buffer(dev.ops.full(g._shape, 0.0, g._dtype.name), g._shape, g._dtype, dev)


def named(result, name):
    """Give a composite op's result a grad_fn named as torch names it (one identity node)."""
    if result._grad_fn is None:
        return result
    node = _alias_class(name)((result._grad_fn,))
    out = _from_buffer(result._data, result._shape, result._dtype, result._device)
    return attach(out, node)


class _Alias(Node):
    __slots__ = ()

    def backward(self, g):
        return (g,)


_ALIASES: dict = {}


def _alias_class(name):
    cls = _ALIASES.get(name)
    if cls is None:
        cls = _ALIASES[name] = type(name, (_Alias,), {"__slots__": ()})
    return cls
