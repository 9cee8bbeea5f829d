"""Elementwise binary ops: arithmetic, comparisons, logic. Forward and backward side by side.

Gradients of broadcast operands are summed back to the operand's shape (``_back``) and cast
back to its dtype, so ``float32 + float64`` gives each input a gradient of its own dtype.
"""
from __future__ import annotations

from .. import _dtype as D
from .._tensor import Tensor, _make
from ..autograd.grad_mode import is_grad_enabled
from ..autograd.node import Node
from ._graph import attach, edge, unbroadcast
from ._operands import as_scalar, binary


class _BinaryNode(Node):
    """Remembers each operand's shape and dtype to reduce its gradient back to them."""
    __slots__ = ("sa", "sb", "da", "db", "a", "b")

    def _drop(self):
        self.a = self.b = None

    def grads(self, ga, gb):
        ea, eb = self.next
        return (_back(ga, self.sa, self.da) if ea is not None and ga is not None else None,
                _back(gb, self.sb, self.db) if eb is not None and gb is not None else None)


def _back(g, shape, dtype):
    g = unbroadcast(g, shape)
    return g if g._dtype is dtype else g.to(dtype)


def _record(out, cls, ta, tb, save_a=None, save_b=None):
    """Attach a binary node; ``save_*`` are the values backward reads (tensors or scalars)."""
    saved = tuple(t for t in (save_a, save_b) if isinstance(t, Tensor))
    node = cls((edge(ta), edge(tb)), saved)
    node.sa = ta._shape if ta is not None else ()
    node.sb = tb._shape if tb is not None else ()
    node.da = ta._dtype if ta is not None else None
    node.db = tb._dtype if tb is not None else None
    node.a, node.b = save_a, save_b
    return attach(out, node)


def _wants_grad(ta, tb) -> bool:
    return ((ta is not None and ta._requires_grad) or (tb is not None and tb._requires_grad)) \
        and is_grad_enabled()


def _finish(out, result):
    """Support ``out=``: copy the result into a user-given tensor."""
    if result is None:
        return out
    result.copy_(out)
    return result


# ------------------------------------------------------------------ add / sub

class AddBackward0(_BinaryNode):
    __slots__ = ()

    def backward(self, g):
        return self.grads(g, g)


def add(input, other, *, alpha=1, out=None):
    """input + alpha * other, broadcasting."""
    if alpha != 1:
        other = mul(other, alpha)
    ta, tb, xa, xb, dt, shape, dev = binary(input, other)
    res = _make(dev.ops.add(xa, xb), shape, dt, dev)
    if _wants_grad(ta, tb):
        _record(res, AddBackward0, ta, tb)
    return _finish(res, out)


class SubBackward0(_BinaryNode):
    __slots__ = ()

    def backward(self, g):
        return self.grads(g, -g if self.next[1] is not None else None)


class RsubBackward1(SubBackward0):
    __slots__ = ()


def sub(input, other, *, alpha=1, out=None):
    """input - alpha * other."""
    if alpha != 1:
        other = mul(other, alpha)
    ta, tb, xa, xb, dt, shape, dev = binary(input, other)
    if dt is D.bool_:
        raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not "
                           "supported. Use the `^` or `logical_xor()` operator instead.")
    res = _make(dev.ops.sub(xa, xb), shape, dt, dev)
    if _wants_grad(ta, tb):
        _record(res, SubBackward0 if ta is not None else RsubBackward1, ta, tb)
    return _finish(res, out)


def rsub(input, other, *, alpha=1):
    """other - alpha * input (what ``2 - x`` calls)."""
    return sub(other, input, alpha=alpha)


# ------------------------------------------------------------------ mul / div

class MulBackward0(_BinaryNode):
    __slots__ = ()

    def backward(self, g):
        ea, eb = self.next
        return self.grads(g * self.b if ea is not None else None,
                          g * self.a if eb is not None else None)


def mul(input, other, *, out=None):
    """input * other, broadcasting."""
    ta, tb, xa, xb, dt, shape, dev = binary(input, other)
    res = _make(dev.ops.mul(xa, xb), shape, dt, dev)
    if _wants_grad(ta, tb):
        # save only what the other operand's gradient needs
        _record(res, MulBackward0, ta, tb,
                save_a=(ta if ta is not None else xa) if tb is not None and tb._requires_grad
                else None,
                save_b=(tb if tb is not None else xb) if ta is not None and ta._requires_grad
                else None)
    return _finish(res, out)


class DivBackward0(_BinaryNode):
    __slots__ = ()

    def backward(self, g):
        ea, eb = self.next
        a, b = self.a, self.b
        return self.grads(g / b if ea is not None else None,
                          -g * a / (b * b) if eb is not None else None)


def div(input, other, *, rounding_mode=None, out=None):
    """True division (ints promote to the default float); or 'trunc' / 'floor' rounding."""
    if rounding_mode is not None:
        if rounding_mode == "floor":
            return _finish(floor_divide(input, other), out)
        if rounding_mode == "trunc":
            q = div(input, other)
            if q._dtype is not _result_dtype(input, other):
                return _finish(q.trunc().to(_result_dtype(input, other)), out)
            return _finish(q.trunc(), out)
        raise ValueError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but "
                         f"found '{rounding_mode}'")
    ta, tb, xa, xb, dt, shape, dev = binary(input, other)
    if not dt.is_floating_point:
        dt = D.get_default_dtype()
        xa = _as_float(ta, xa, dt)
        xb = _as_float(tb, xb, dt)
    res = _make(dev.ops.div(xa, xb), shape, dt, dev)
    if _wants_grad(ta, tb):
        need_a = tb is not None and tb._requires_grad
        _record(res, DivBackward0, ta, tb, save_a=(ta if ta is not None else xa) if need_a
                else None, save_b=tb if tb is not None else xb)
    return _finish(res, out)


def _result_dtype(a, b):
    return binary(a, b)[4]


def _as_float(t, x, dt):
    if t is None:
        return float(x)
    return t._device.ops.cast(t._data, dt.name)


def true_divide(input, other, *, out=None):
    return div(input, other, out=out)


def reciprocal_scalar(scalar, t):
    """``2 / x``: scalar divided by a tensor."""
    return div(scalar, t)


# ------------------------------------------------------------ integer-style division

def floor_divide(input, other, *, out=None):
    """floor(input / other) in the promoted dtype (not differentiable)."""
    ta, tb, xa, xb, dt, shape, dev = binary(input, other)
    if dt is D.bool_:
        raise RuntimeError("\"floor_divide\" not implemented for 'Bool'")
    return _finish(_make(dev.ops.floordiv(xa, xb), shape, dt, dev), out)


class RemainderBackward0(_BinaryNode):
    __slots__ = ()

    def backward(self, g):
        eb = self.next[1]
        return self.grads(g, -g * floor_divide(self.a, self.b) if eb is not None else None)


def remainder(input, other, *, out=None):
    """Python-style modulo: the result takes the sign of ``other``."""
    ta, tb, xa, xb, dt, shape, dev = binary(input, other)
    res = _make(dev.ops.remainder(xa, xb), shape, dt, dev)
    if _wants_grad(ta, tb):
        _record(res, RemainderBackward0, ta, tb, save_a=ta if ta is not None else xa,
                save_b=tb if tb is not None else xb)
    return _finish(res, out)


def fmod(input, other, *, out=None):
    """C-style modulo: the result takes the sign of ``input``."""
    r = remainder(input, other)
    if not isinstance(other, Tensor) and other == 0:
        return _finish(r, out)
    wrong = (r != 0).logical_and((r < 0).logical_xor(_lt0(input)))
    return _finish(r.where(wrong.logical_not(), r - other), out)


def _lt0(x):
    return x < 0 if isinstance(x, Tensor) else x < 0


# --------------------------------------------------------------------------- pow

class PowBackward0(_BinaryNode):
    """tensor ** scalar."""
    __slots__ = ()

    def backward(self, g):
        (a,), e = self.saved, self.b
        if e == 0:
            return self.grads(g * 0, None)
        return self.grads(g * e * a.pow(e - 1), None)


class PowBackward1(_BinaryNode):
    """tensor ** tensor; d/db is 0 where a == 0 and b >= 0 (as torch)."""
    __slots__ = ()

    def backward(self, g):
        ea, eb = self.next
        a, b = self.a, self.b
        ga = g * b * a.pow(b - 1) if ea is not None else None
        gb = None
        if eb is not None:
            gb = g * a.pow(b) * a.log()
            gb = gb.masked_fill((a == 0).logical_and(b >= 0), 0)
        return self.grads(ga, gb)


class PowBackward2(_BinaryNode):
    """scalar ** tensor."""
    __slots__ = ()

    def backward(self, g):
        import math
        base = self.a
        out = self.b
        return self.grads(None, g * out * math.log(base) if base > 0 else
                          g * out * float("nan") if base < 0 else g * 0)


def pow(input, exponent, *, out=None):
    """input ** exponent, elementwise; ints to a negative int power raise as in torch."""
    ta, tb, xa, xb, dt, shape, dev = binary(input, exponent)
    if tb is None and not dt.is_floating_point and isinstance(exponent, int) and exponent < 0:
        raise RuntimeError("Integers to negative integer powers are not allowed.")
    if tb is None and exponent == 2 and dt.is_floating_point:
        data = dev.ops.mul(xa, xa)          # x*x is exact and faster than pow
    else:
        data = dev.ops.pow(xa, xb)
    res = _make(data, shape, dt, dev)
    if _wants_grad(ta, tb):
        if tb is None:
            _record(res, PowBackward0, ta, None, save_a=ta, save_b=exponent)
        elif ta is None:
            _record(res, PowBackward2, None, tb, save_a=input, save_b=res.detach())
        else:
            _record(res, PowBackward1, ta, tb, save_a=ta, save_b=tb)
    return _finish(res, out)


def square(input):
    return pow(input, 2)


# -------------------------------------------------------------- maximum / minimum

class MaximumBackward0(_BinaryNode):
    """Gradient goes to the larger input; ties split it evenly (as torch)."""
    __slots__ = ()

    def backward(self, g):
        a, b = self.a, self.b
        half = g * 0.5
        ga = g.where(a > b, half.where(a == b, g * 0))
        gb = g.where(b > a, half.where(a == b, g * 0))
        return self.grads(ga, gb)


class MinimumBackward0(_BinaryNode):
    __slots__ = ()

    def backward(self, g):
        a, b = self.a, self.b
        half = g * 0.5
        ga = g.where(a < b, half.where(a == b, g * 0))
        gb = g.where(b < a, half.where(a == b, g * 0))
        return self.grads(ga, gb)


def maximum(input, other, *, out=None):
    """Elementwise max of two tensors, nan-propagating."""
    return _finish(_extremum(input, other, "maximum", MaximumBackward0), out)


def minimum(input, other, *, out=None):
    return _finish(_extremum(input, other, "minimum", MinimumBackward0), out)


def _extremum(input, other, prim, cls):
    if not isinstance(other, Tensor) or not isinstance(input, Tensor):
        raise TypeError(f"{prim}(): argument 'other' (position 2) must be Tensor, not "
                        f"{type(other).__name__}")
    ta, tb, xa, xb, dt, shape, dev = binary(input, other)
    res = _make(getattr(dev.ops, prim)(xa, xb), shape, dt, dev)
    if _wants_grad(ta, tb):
        _record(res, cls, ta, tb, save_a=ta, save_b=tb)
    return res


class Atan2Backward0(_BinaryNode):
    __slots__ = ()

    def backward(self, g):
        a, b = self.a, self.b
        denom = a * a + b * b
        return self.grads(g * b / denom, -g * a / denom)


def atan2(input, other, *, out=None):
    ta, tb, xa, xb, dt, shape, dev = binary(input, other)
    if not dt.is_floating_point:
        dt = D.get_default_dtype()
        xa, xb = _as_float(ta, xa, dt), _as_float(tb, xb, dt)
    res = _make(dev.ops.atan2(xa, xb), shape, dt, dev)
    if _wants_grad(ta, tb):
        _record(res, Atan2Backward0, ta, tb, save_a=ta, save_b=tb)
    return _finish(res, out)


# ------------------------------------------------------- comparisons and logic

def _compare(prim):
    def compare(input, other, *, out=None):
        ta, tb, xa, xb, dt, shape, dev = binary(input, other)
        return _finish(_make(getattr(dev.ops, prim)(xa, xb), shape, D.bool_, dev), out)
    compare.__name__ = prim
    compare.__doc__ = f"Elementwise ``{prim}`` comparison; a bool tensor, never differentiable."
    return compare


eq, ne, lt, le, gt, ge = (_compare(n) for n in ("eq", "ne", "lt", "le", "gt", "ge"))
greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne


def _logical(prim):
    def logical(input, other, *, out=None):
        ta, tb, xa, xb, dt, shape, dev = binary(input, other)
        return _finish(_make(getattr(dev.ops, prim)(xa, xb), shape, D.bool_, dev), out)
    logical.__name__ = prim
    return logical


logical_and, logical_or, logical_xor = (_logical(n) for n in
                                        ("logical_and", "logical_or", "logical_xor"))


def _bitwise(prim, symbol):
    def bitwise(input, other, *, out=None):
        ta, tb, xa, xb, dt, shape, dev = binary(input, other)
        if dt.is_floating_point:
            raise RuntimeError(f"\"{prim}_cpu\" not implemented for '{_legacy(dt)}'")
        return _finish(_make(getattr(dev.ops, prim)(xa, xb), shape, dt, dev), out)
    bitwise.__name__ = prim
    return bitwise


def _legacy(dt):
    return {"float32": "Float", "float64": "Double", "float16": "Half",
            "bfloat16": "BFloat16"}.get(dt.name, dt.name)


bitwise_and = _bitwise("bitwise_and", "&")
bitwise_or = _bitwise("bitwise_or", "|")
bitwise_xor = _bitwise("bitwise_xor", "^")


def eq_all(a, b):
    """torch.equal: same shape and all elements equal."""
    if a._shape != b._shape:
        return False
    return bool(eq(a, b).all())


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    return bool(isclose(input, other, rtol, atol, equal_nan).all())


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    if isinstance(other, Tensor) and input._dtype is not other._dtype:
        raise RuntimeError(f"{input._dtype} did not match {other._dtype}")
    diff = (input - other).abs()
    close = diff <= atol + rtol * (other.abs() if isinstance(other, Tensor) else abs(other))
    close = close.logical_or(input == other)
    if equal_nan:
        close = close.logical_or(input.isnan().logical_and(
            other.isnan() if isinstance(other, Tensor) else False))
    return close


__all__ = ["add", "sub", "rsub", "mul", "div", "true_divide", "floor_divide", "remainder",
           "fmod", "pow", "square", "maximum", "minimum", "atan2", "eq", "ne", "lt", "le", "gt",
           "ge", "greater", "greater_equal", "less", "less_equal", "not_equal", "logical_and",
           "logical_or", "logical_xor", "bitwise_and", "bitwise_or", "bitwise_xor", "allclose",
           "isclose", "as_scalar"]
