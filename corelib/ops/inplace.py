"""In-place ops: writing into a tensor's buffer while keeping autograd correct.

Without autograd an in-place op is one backend call with ``out=``. With autograd, the result
is computed out of place (recording the graph), written into the buffer, and the tensor's
history is rebased onto the new node; for a view, the *base* gets a ``CopySlices`` node so
gradients flow through the untouched region of the base and into the written value.
"""
from __future__ import annotations

from .. import _dtype as D
from .._tensor import Tensor
from ..autograd.grad_mode import is_grad_enabled, no_grad
from ..autograd.node import Node
from ._graph import attach, edge, unbroadcast
from .views import replay_view

def can_cast(src: D.dtype, dst: D.dtype) -> bool:
    """torch.can_cast: no float -> integral and no non-bool -> bool."""
    if src.category > dst.category:
        return False
    return True


def write_out(out, result):
    """``out=``: copy ``result`` into the user's tensor, refusing a cast torch refuses (a
    float result into an int64 ``out`` would truncate)."""
    if not can_cast(result._dtype, out._dtype):
        raise RuntimeError(f"result type {D.legacy_name(result._dtype)} can't be cast to the "
                           f"desired output type {D.legacy_name(out._dtype)}")
    return out.copy_(result)


NO_GRAD_VIEW = (
    "A view was created in no_grad mode and is being modified inplace with grad mode enabled. "
    "Given that this use case is ambiguous and error-prone, it is forbidden. You can clarify "
    "your code by moving both the view and the inplace either both inside the no_grad block "
    "(if you don't want the inplace to be tracked) or both outside (if you want the inplace "
    "to be tracked).")


def check_inplace(x):
    """Refuse in-place ops on leaves that require grad (and their views), as torch does."""
    if not is_grad_enabled():
        return
    base = x._base
    # a leaf: no history -- also a view whose base never required grad (a.reshape(2, 3)
    # .requires_grad_() is a leaf in torch)
    if x._requires_grad and x._grad_fn is None and (base is None or not base._requires_grad):
        raise RuntimeError("a leaf Variable that requires grad is being used in an in-place "
                           "operation.")
    if base is None:
        return
    if x._no_grad_view and base._requires_grad:
        raise RuntimeError(NO_GRAD_VIEW)
    leaf_view = base._requires_grad and base._grad_fn is None
    if not leaf_view and x._grad_fn is not None:
        # a view of such a leaf view: its view node leads straight to that leaf tensor
        parents = x._grad_fn.next
        leaf_view = len(parents) == 1 and isinstance(parents[0], Tensor) and \
            parents[0]._grad_fn is None and parents[0]._base is base
    if leaf_view:
        raise RuntimeError("a view of a leaf Variable that requires grad is being used in an "
                           "in-place operation.")


OVERLAP = ("unsupported operation: more than one element of the written-to tensor refers to a "
           "single memory location. Please clone() the tensor before performing the operation.")
# in-place ops torch lets write through a broadcast (every aliased element gets one value, or
# torch only warns): fill_/zero_, masked_fill_, index_fill_, index_put_ and x[index] = v
_MAY_OVERLAP = frozenset({"masked_fill", "index_fill", "index_put"})


def check_no_internal_overlap(x):
    """torch's assert_no_internal_overlap: refuse to write into a tensor whose elements share
    memory (a stride-0 axis of size > 1, as ``expand`` makes), which an elementwise write
    would update once per alias (``x.expand(2, 3).add_(1)`` added 2 on opencl). Only views can
    overlap, so a tensor that owns its buffer costs one attribute test."""
    if x._base is None or not x._shape:
        return
    shape = x._shape
    for d, s in enumerate(x._device.ops.strides(x._data)):
        if s == 0 and shape[d] > 1:
            if 0 in shape:
                return
            raise RuntimeError(OVERLAP)


def _cast_result(x, res):
    if res._dtype is x._dtype:
        return res._data
    if not can_cast(res._dtype, x._dtype):
        raise RuntimeError(f"result type {D.legacy_name(res._dtype)} can't be cast to the desired "
                           f"output type {D.legacy_name(x._dtype)}")
    return x._device.ops.cast(res._data, x._dtype.name)


def apply_inplace(x, op, *args, **kwargs):
    """x.op_(*args): compute op(x, *args) and write it into x (the general path)."""
    check_inplace(x)
    if x._base is not None and getattr(op, "__name__", "") not in _MAY_OVERLAP:
        check_no_internal_overlap(x)
    res = op(x, *args, **kwargs)
    if res._shape != x._shape:
        raise RuntimeError(f"output with shape {list(x._shape)} doesn't match the broadcast "
                           f"shape {list(res._shape)}")
    data = _cast_result(x, res)
    node = res._grad_fn
    if node is not None:
        _snapshot_saved_self(node, x)
    x._device.ops.assign(x._data, data)
    x._bump_version()
    if node is not None:
        if x._base is None:
            x._grad_fn = node
            x._requires_grad = True
        else:
            _copy_slices(x, Ellipsis, res)
    return x


def _snapshot_saved_self(node, x):
    """If the new node saved x itself, keep x's pre-write values instead (torch clones too)."""
    if not node.saved or not any(t is x for t in node.saved):
        return
    with no_grad():
        snapshot = x.detach().clone()
    node.saved = tuple(snapshot if t is x else t for t in node.saved)
    node.versions = tuple(t._vc[0] if t._vc else 0 for t in node.saved)
    for cls in type(node).__mro__:
        for slot in getattr(cls, "__slots__", ()):
            if slot not in ("saved", "next") and getattr(node, slot, None) is x:
                setattr(node, slot, snapshot)


def commit_region(x, view, key, value, advanced):
    """After ``x[key] = value`` wrote the data: bump versions and rebase autograd history."""
    x._bump_version()
    if not is_grad_enabled():
        return
    value_grad = isinstance(value, Tensor) and value._requires_grad
    if not (x._requires_grad or value_grad):
        return
    _copy_slices(x, key, value)


class CopySlices(Node):
    """grad_fn of a base written through a view: grad flows to the old base except in the
    written region, and from that region to the written value."""
    __slots__ = ("view_fn", "key", "vshape", "vdtype")

    def name(self):
        return "torch::autograd::CopySlices"

    def backward(self, g):
        e_base, e_value = self.next
        g_base = g_value = None
        region_of = self._region
        if e_base is not None:
            # differentiable (a clone with the region zeroed), so create_graph sees through
            g_base = g.clone()
            target = replay_view(g_base, self.view_fn)
            target[self.key] = 0
        if e_value is not None:
            g_value = region_of(g)
            g_value = unbroadcast(g_value, self.vshape) if g_value._shape != self.vshape else \
                g_value
            if g_value._dtype is not self.vdtype:
                g_value = g_value.to(self.vdtype)
        return g_base, g_value

    def _region(self, g):
        view = replay_view(g, self.view_fn)
        return view if self.key is Ellipsis else view[self.key]

    def _drop(self):
        self.key = None


def _copy_slices(x, key, value):
    """Give x's base (or x itself) a CopySlices node for a write of ``value`` at x[key]."""
    if x._no_grad_view and x._base is not None:
        raise RuntimeError(NO_GRAD_VIEW)
    base = x._base if x._base is not None else x
    view_fn = x._view_fn if x._base is not None else None
    value_t = value if isinstance(value, Tensor) else None
    node = CopySlices((edge(base), edge(value_t)))
    node.view_fn, node.key = view_fn, key
    node.vshape = value_t._shape if value_t is not None else ()
    node.vdtype = value_t._dtype if value_t is not None else base._dtype
    attach(base, node)
    if x is not base:
        with _enabled():
            rebuilt = replay_view(base, view_fn)
        x._grad_fn = rebuilt._grad_fn
        x._requires_grad = True


def _enabled():
    from ..autograd.grad_mode import enable_grad
    return enable_grad()

# --------------------------------------------------------------- fast no-grad in-place


def fast_binary_(x, other, prim):
    """x.<prim>_(other) without autograd: one backend call writing into x's buffer.

    Returns None when the fast path does not apply (autograd, promotion, broadcasting of x).
    """
    if (x._requires_grad or x._no_grad_view) and is_grad_enabled():
        return None
    if x._base is not None:
        check_no_internal_overlap(x)
    if isinstance(other, Tensor):
        if other._requires_grad and is_grad_enabled():
            return None
        if other._device is not x._device or other._dtype is not x._dtype:
            return None
        if other._shape != x._shape:
            from ._operands import broadcast_shapes
            if broadcast_shapes(x._shape, other._shape) != x._shape:
                raise RuntimeError(f"output with shape {list(x._shape)} doesn't match the "
                                   f"broadcast shape "
                                   f"{list(broadcast_shapes(x._shape, other._shape))}")
        operand = other._data
    elif isinstance(other, (int, float, bool)) and not isinstance(other, bool):
        # a number into a bool tensor (torch: "result type Long can't be cast to ... Bool")
        # or a float into an integer one: the general path raises torch's error
        if x._dtype is D.bool_ or isinstance(other, float) and not x._dtype.is_floating_point:
            return None
        operand = float(other) if x._dtype.is_floating_point else int(other)
    else:
        return None
    getattr(x._device.ops, prim)(x._data, operand, out=x._data)
    x._bump_version()
    return x
