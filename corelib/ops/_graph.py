"""Small helpers every op module uses to record the graph."""
from __future__ import annotations

from .._tensor import Tensor, _make
from ..autograd.node import Node
from ..autograd.grad_mode import is_grad_enabled


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
            return is_grad_enabled()
    return False


def attach(out, node):
    """Make ``node`` the grad_fn of ``out``."""
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
    return _make(dev.ops.full(g._shape, 0.0, g._dtype.name), g._shape, g._dtype, dev)


def named(result, name):
    """Give a composite op's result a grad_fn named as torch names it (one identity node)."""
    if result._grad_fn is None:
        return result
    node = _alias_class(name)((result._grad_fn,))
    out = _make(result._data, result._shape, result._dtype, result._device)
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
