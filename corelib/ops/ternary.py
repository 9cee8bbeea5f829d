"""Elementwise selection, the contract's ternary group: ``where`` (forward and backward)."""
from __future__ import annotations

from .. import _dtype as D
from .._tensor import Tensor, _from_buffer
from ..autograd.node import Node
from ._graph import attach, edge, needs_grad
from .indexing import _back
from .inplace import write_out


class WhereBackward0(Node):
    __slots__ = ("cond", "sa", "sb", "da", "db")

    def backward(self, g):
        ea, eb = self.next
        zero = g * 0
        ga = _back(g.where(self.cond, zero), self.sa, self.da) if ea is not None else None
        gb = _back(zero.where(self.cond, g), self.sb, self.db) if eb is not None else None
        return ga, gb

    def _drop(self):
        self.cond = None


def where(condition: Tensor, input: Tensor | float | None = None,
          other: Tensor | float | None = None, *, out: Tensor | None = None):
    """condition ? input : other (broadcasting); one argument gives nonzero as a tuple."""
    if not isinstance(condition, Tensor):
        raise TypeError("where(): argument 'condition' must be Tensor")
    if input is None and other is None:
        return condition.nonzero(as_tuple=True)     # (a method: no import of .gather)
    if condition._dtype is not D.bool_:
        if condition._dtype is D.uint8:
            condition = condition != 0
        else:
            raise RuntimeError(f"where expected condition to be a boolean tensor, but got a "
                               f"tensor with dtype {D.legacy_name(condition._dtype)}")
    from ._operands import binary, broadcast_shapes, _same_device, as_scalar
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        # two scalars: torch wraps both (ints -> int64, floats -> the default dtype)
        dt = D.result_type(D.scalar_dtype(input), D.SCALAR, D.scalar_dtype(other), D.SCALAR)
        dev = condition._device
        res = _from_buffer(dev.ops.where(condition._data, as_scalar(input, dt), as_scalar(other, dt)),
                    condition._shape, dt, dev)
        return res if out is None else write_out(out, res)
    ta, tb, xa, xb, dt, shape, dev = binary(input, other)
    if condition._device is not dev:
        condition, _ = _same_device(condition, ta if ta is not None else tb)
    shape = broadcast_shapes(condition._shape, shape)
    res = _from_buffer(dev.ops.where(condition._data, xa, xb), shape, dt, dev)
    if needs_grad(ta, tb):
        node = WhereBackward0((edge(ta), edge(tb)), (condition,))
        node.cond = condition
        node.sa = ta._shape if ta is not None else ()
        node.sb = tb._shape if tb is not None else ()
        node.da = ta._dtype if ta is not None else None
        node.db = tb._dtype if tb is not None else None
        attach(res, node)
    if out is not None:
        return write_out(out, res)
    return res


def where_method(self, condition, other):
    """``Tensor.where(condition, other)``: ``where(condition, self, other)``."""
    return where(condition, self, other)
