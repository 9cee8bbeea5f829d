"""Elementwise binary ops: arithmetic, comparisons, logic. Forward and backward side by side.

Gradients of broadcast operands are summed back to the operand's shape (``_back``) and cast
back to its dtype, so ``float32 + float64`` gives each input a gradient of its own dtype.
"""
from __future__ import annotations

import math

from .._layout import SparseOperand
from .. import _dtype as D
from .._tensor import Tensor, _from_buffer
from ..autograd.node import Node
from ._graph import (FOR_OTHER, ALWAYS, arithmetic, attach, binary_needs_grad, edge, grad_state,
                     record_binary, unbroadcast, zeros_like_grad)
from ._operands import as_scalar, binary


class _BinaryNode(Node):
    """Remembers each operand's shape and dtype to reduce its gradient back to them.

    ``keep_a``/``keep_b``: which operand values ``_graph.arithmetic`` saves as ``a``/``b``
    (None, ``ALWAYS``, or ``FOR_OTHER``: only when the other operand's gradient needs it).
    """
    __slots__ = ("sa", "sb", "da", "db", "a", "b")
    keep_a = keep_b = None

    def _drop(self):
        self.a = self.b = None

    def grads(self, ga, gb):
        ea, eb = self.next
        if ea is None or ga is None:
            ga = None
        elif ga._shape != self.sa or ga._dtype is not self.da:
            ga = _back(ga, self.sa, self.da)
        if eb is None or gb is None:
            gb = None
        elif gb._shape != self.sb or gb._dtype is not self.db:
            gb = _back(gb, self.sb, self.db)
        return ga, gb


def _back(g, shape, dtype):
    g = unbroadcast(g, shape)
    if g._dtype.is_complex and not dtype.is_complex:
        g = g.real          # a real operand of a complex op: torch keeps the real part
    return g if g._dtype is dtype else g.to(dtype)


def _write_out(res, out):
    """``out=``: copy the result ``res`` into the user's tensor ``out`` and return it (``res``
    itself when no ``out`` was given), refusing casts torch refuses."""
    if out is None:
        return res
    from .inplace import write_out
    return write_out(out, res)


# ------------------------------------------------------------------ add / sub

class AddBackward0(_BinaryNode):
    """``b`` holds alpha when it is not 1 (other's gradient is g * alpha)."""
    __slots__ = ()

    def backward(self, g):
        alpha = self.b
        return self.grads(g, g if alpha is None else g * alpha)


def add(input: Tensor | float, other: Tensor | float, *, alpha: float = 1,
        out: Tensor | None = None, _elide=False) -> Tensor:
    """input + alpha * other, broadcasting (alpha fused as torch does: one rounding)."""
    try:
        ta, tb, xa, xb, dt, shape, dev = binary(input, other)
    except SparseOperand:       # a sparse COO operand: torch's sparse rules
        from ..sparse.arith import add as sparse_add
        return sparse_add(input, other, alpha=alpha)
    if alpha != 1:
        res = arithmetic(_alpha(dev.ops, alpha, dt, "add"), AddBackward0, ta, tb, xa, xb, dt,
                         shape, dev, False, alpha)
    else:
        res = arithmetic(dev.ops.add, AddBackward0, ta, tb, xa, xb, dt, shape, dev, _elide)
    return res if out is None else _write_out(res, out)


def _alpha(ops, alpha, dt, prim):
    """The backend computation of xa +/- alpha * xb (``_axpy``), as ``arithmetic`` calls it."""
    return lambda xa, xb: _axpy(ops, xa, xb, alpha, dt, prim)


def _axpy(ops, xa, xb, alpha, dt, prim):
    """xa +/- alpha * xb with torch's fused multiply-add: exact product, one rounding
    (computed in float64 for float32/float16; float64 rounds twice)."""
    if dt.is_complex:
        scaled = ops.mul(xb, alpha) if not isinstance(xb, (int, float, complex)) else xb * alpha
        return getattr(ops, prim)(xa, scaled)
    if dt.is_floating_point:
        alpha = float(alpha)
        if dt.itemsize <= 4:
            import numpy
            alpha = float(numpy.float32(alpha))         # torch holds alpha in the dtype
            xa = ops.cast(xa, "float64") if not isinstance(xa, (int, float)) else float(xa)
            xb = ops.cast(xb, "float64") if not isinstance(xb, (int, float)) else float(xb)
            scaled = ops.mul(xb, alpha) if not isinstance(xb, float) else xb * alpha
            return ops.cast(getattr(ops, prim)(xa, scaled), dt.name)
    elif isinstance(alpha, float) or dt is D.bool_ and not isinstance(alpha, bool):
        raise RuntimeError("For integral input tensors, argument alpha must not be a floating "
                           "point number." if dt is not D.bool_ else
                           "Boolean alpha only supported for Boolean results.")
    else:
        alpha = int(alpha)
    scaled = ops.mul(xb, alpha) if not isinstance(xb, (int, float)) else xb * alpha
    return getattr(ops, prim)(xa, scaled)


class SubBackward0(_BinaryNode):
    """``b`` holds alpha when it is not 1."""
    __slots__ = ()

    def backward(self, g):
        if self.next[1] is None:
            return self.grads(g, None)
        alpha = self.b
        return self.grads(g, -g if alpha is None else -g * alpha)


class RsubBackward0(SubBackward0):
    """torch.rsub(tensor, tensor)."""
    __slots__ = ()


class RsubBackward1(SubBackward0):
    """scalar - tensor (``2 - x``)."""
    __slots__ = ()


def sub(input: Tensor | float, other: Tensor | float, *, alpha: float = 1,
        out: Tensor | None = None, _node=None, _elide=False) -> Tensor:
    """input - alpha * other."""
    ta, tb, xa, xb, dt, shape, dev = binary(input, other)
    ka = ta._dtype if ta is not None else type(input)
    kb = tb._dtype if tb is not None else type(other)
    if ka is _BOOL or kb is _BOOL or ka is bool or kb is bool:   # a bool tensor or scalar
        _bool_sub_error(ta, tb, input, other)
    node = _node or (SubBackward0 if ta is not None else RsubBackward1)
    if alpha != 1:
        res = arithmetic(_alpha(dev.ops, alpha, dt, "sub"), node, ta, tb, xa, xb, dt, shape,
                         dev, False, alpha)
    else:
        res = arithmetic(dev.ops.sub, node, ta, tb, xa, xb, dt, shape, dev, _elide)
    return res if out is None else _write_out(res, out)


_BOOL = D.bool_


def _bool_sub_error(ta, tb, a, b):
    """torch refuses - on bools: two bool tensors, or one bool operand (tensor or scalar)."""
    both = all(t is not None and t._dtype is D.bool_ for t in (ta, tb))
    if both:
        raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not "
                           "supported. Use the `^` or `logical_xor()` operator instead.")
    raise RuntimeError("Subtraction, the `-` operator, with a bool tensor is not supported. "
                       "If you are trying to invert a mask, use the `~` or `logical_not()` "
                       "operator instead.")


def rsub(input, other, *, alpha=1):
    """other - alpha * input (what ``2 - x`` calls)."""
    return sub(other, input, alpha=alpha,
               _node=RsubBackward0 if isinstance(other, Tensor) else None)


# ------------------------------------------------------------------ mul / div

class MulBackward0(_BinaryNode):
    __slots__ = ()
    keep_a = keep_b = FOR_OTHER

    def backward(self, g):
        ea, eb = self.next
        return self.grads(_times(g, self.b) if ea is not None else None,
                          _times(g, self.a) if eb is not None else None)


def _times(g, other):
    """g * other for a backward pass: straight on the buffers when no graph is being recorded
    and nothing needs promoting or broadcasting (the common case), else the full op."""
    if (type(other) is Tensor and not grad_state.enabled and other._dtype is g._dtype
            and other._shape == g._shape and other._device is g._device):
        return _from_buffer(g._device.ops.mul(g._data, other._data), g._shape, g._dtype, g._device)
    return g * other


def mul(input: Tensor | float, other: Tensor | float, *, out: Tensor | None = None,
        _elide=False) -> Tensor:
    """input * other, broadcasting."""
    try:
        ta, tb, xa, xb, dt, shape, dev = binary(input, other)
    except SparseOperand:       # a sparse COO operand: the product is sparse
        from ..sparse.arith import mul as sparse_mul
        return sparse_mul(input, other) if input.is_sparse else sparse_mul(other, input)
    res = arithmetic(dev.ops.mul, MulBackward0, ta, tb, xa, xb, dt, shape, dev, _elide)
    return res if out is None else _write_out(res, out)


class DivBackward0(_BinaryNode):
    __slots__ = ()
    keep_a, keep_b = FOR_OTHER, ALWAYS

    def backward(self, g):
        ea, eb = self.next
        a, b = self.a, self.b
        # torch: grad / other and -grad * ((self / other) / other) (no overflow of other**2)
        return self.grads(g / b if ea is not None else None,
                          -g * ((a / b) / b) if eb is not None else None)


class DivBackward2(_BinaryNode):
    """div with rounding_mode: piecewise constant, so zero gradients (as torch)."""
    __slots__ = ()

    def backward(self, g):
        ea, eb = self.next
        return self.grads(zeros_like_grad(g) if ea is not None else None,
                          zeros_like_grad(g) if eb is not None else None)


def div(input: Tensor | float, other: Tensor | float, *, rounding_mode: str | None = None,
        out: Tensor | None = None, _elide=False) -> Tensor:
    """True division (ints promote to the default float); or 'trunc' / 'floor' rounding."""
    if rounding_mode is not None:
        return _write_out(_rounding_div(input, other, rounding_mode), out)
    ta, tb, xa, xb, dt, shape, dev = binary(input, other)
    if not (dt.is_floating_point or dt.is_complex):
        dt = D.get_default_dtype()
        # a Python int operand as written: binary() wrapped it into the integer dtype
        # (uint8 / -1 is -1.0 in torch, not 1 / 255)
        xa = _as_float(ta, input if ta is None else xa, dt)
        xb = _as_float(tb, other if tb is None else xb, dt)
    res = arithmetic(dev.ops.div, DivBackward0, ta, tb, xa, xb, dt, shape, dev, _elide)
    return res if out is None else _write_out(res, out)


def _rounding_div(input, other, mode):
    if mode not in ("trunc", "floor"):
        raise ValueError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but "
                         f"found '{mode}'")
    ta, tb, xa, xb, dt, shape, dev = binary(input, other)
    ops = dev.ops
    if dt is D.bool_:
        raise NotImplementedError(f"\"div_{mode}_cpu\" not implemented for 'Bool'")
    if not dt.is_floating_point:
        _check_int_divisor(tb, xb, shape)
    if mode == "floor":
        data = ops.floordiv(xa, xb)
    elif dt.is_floating_point:
        data = ops.trunc(ops.div(xa, xb))
    else:
        # C division on integers: floor, plus one where the remainder is non-zero and the
        # operands' signs differ
        q = ops.floordiv(xa, xb)
        fix = ops.logical_and(ops.ne(ops.remainder(xa, xb), 0),
                              ops.ne(ops.lt(xa, 0), ops.lt(xb, 0)))
        data = ops.add(q, ops.cast(fix, dt.name))
    res = _from_buffer(data, shape, dt, dev)
    if dt.is_floating_point and binary_needs_grad(ta, tb):
        record_binary(res, DivBackward2, ta, tb)
    return res


def _check_int_divisor(tb, xb, shape):
    """Integer division by zero raises on the CPU in torch (it would be undefined in C).

    torch checks inside the kernel, so an empty result divides nothing and never raises.
    A device tensor divisor is left to the backend, which must not read it back per op: opencl
    flags a zero in its kernels and raises RuntimeError('ZeroDivisionError ...') at the next
    ``.item()``/``synchronize`` of the thread (as it does for out-of-range indices)."""
    if 0 in shape:
        return
    if tb is None:
        if xb == 0:
            raise RuntimeError("ZeroDivisionError")
        return
    dev = tb._device
    if dev.host_memory and tb.numel() and bool(dev.ops.to_host(dev.ops.eq(xb, 0)).any()):
        raise RuntimeError("ZeroDivisionError")


def _as_float(t, x, dt):
    if t is None:
        return float(x)
    return t._device.ops.cast(t._data, dt.name)


def true_divide(input: Tensor, other: Tensor | float, *, out: Tensor | None = None) -> Tensor:
    """Same as :func:`div` without rounding_mode: input / other as floats."""
    return div(input, other, out=out)


# ------------------------------------------------------------ integer-style division

def floor_divide(input, other, *, out=None):
    """floor(input / other) in the promoted dtype (not differentiable)."""
    ta, tb, xa, xb, dt, shape, dev = binary(input, other)
    if dt is D.bool_:
        raise NotImplementedError("\"div_floor_cpu\" not implemented for 'Bool'")
    if not dt.is_floating_point:
        _check_int_divisor(tb, xb, shape)
    res = _from_buffer(dev.ops.floordiv(xa, xb), shape, dt, dev)
    if dt.is_floating_point and binary_needs_grad(ta, tb):
        attach(res, NotImplementedBackward("floor_divide", (edge(ta), edge(tb))))
    return res if out is None else _write_out(res, out)


class NotImplementedBackward(Node):
    """torch's grad_fn for ops without a derivative: the output requires grad, and backward
    through it raises."""
    __slots__ = ("op",)

    def __init__(self, op, next_edges):
        super().__init__(next_edges)
        self.op = op

    def name(self):
        return "torch::autograd::NotImplemented"

    def backward(self, g):
        raise RuntimeError(f"derivative for aten::{self.op} is not implemented")


class RemainderBackward0(_BinaryNode):
    """tensor % scalar: the gradient passes through."""
    __slots__ = ()

    def backward(self, g):
        return self.grads(g, None)


class RemainderBackward1(_BinaryNode):
    """tensor % tensor: d/dother = -floor(self / other) (as torch)."""
    __slots__ = ()

    def backward(self, g):
        eb = self.next[1]
        return self.grads(g, -g * div(self.a, self.b, rounding_mode="floor")
                          if eb is not None else None)


def remainder(input, other, *, out=None):
    """Python-style modulo: the result takes the sign of ``other``."""
    ta, tb, xa, xb, dt, shape, dev = binary(input, other)
    if dt is D.bool_:
        raise NotImplementedError("\"remainder_cpu\" not implemented for 'Bool'")
    if not dt.is_floating_point:
        _check_int_divisor(tb, xb, shape)
    res = _from_buffer(dev.ops.remainder(xa, xb), shape, dt, dev)
    if binary_needs_grad(ta, tb):
        if tb is None:
            record_binary(res, RemainderBackward0, ta, None)
        else:
            record_binary(res, RemainderBackward1, ta, tb, save_a=ta if ta is not None else xa,
                    save_b=tb)
    return res if out is None else _write_out(res, out)


class FmodBackward0(RemainderBackward0):
    __slots__ = ()


class FmodBackward1(_BinaryNode):
    """d/dother = -trunc(self / other) (as torch)."""
    __slots__ = ()

    def backward(self, g):
        eb = self.next[1]
        return self.grads(g, -g * div(self.a, self.b, rounding_mode="trunc")
                          if eb is not None else None)


def fmod(input, other, *, out=None):
    """C-style modulo: the result takes the sign of ``input``."""
    if not isinstance(input, Tensor):
        raise TypeError(f"fmod() received an invalid combination of arguments - got "
                        f"({type(input).__name__}, {type(other).__name__})")
    ta, tb, xa, xb, dt, shape, dev = binary(input, other)
    if dt is D.bool_:
        raise NotImplementedError("\"fmod_cpu\" not implemented for 'Bool'")
    ops = dev.ops
    if not dt.is_floating_point:
        _check_int_divisor(tb, xb, shape)
    # fmod(a, b) = sign(a) * (|a| mod |b|): with both operands non-negative, Python's modulo
    # is C's and exact (no correction by b, which would round)
    mag = ops.remainder(ops.abs(xa) if ta is not None else abs(xa),
                        ops.abs(xb) if tb is not None else abs(xb))
    if ta is None:
        negative = xa < 0 or (isinstance(xa, float) and math.copysign(1.0, xa) < 0)
    elif dt.is_floating_point:     # the sign bit: -0.0 gives -0.0, as C's fmod
        negative = ops.lt(ops.atan2(xa, -1.0), 0)
    else:
        negative = ops.lt(xa, 0)
    if isinstance(negative, bool):
        data = ops.neg(mag) if negative else mag
    else:
        data = ops.where(negative, ops.neg(mag), mag)
    res = _from_buffer(data, shape, dt, dev)
    if binary_needs_grad(ta, tb):
        if tb is None:
            record_binary(res, FmodBackward0, ta, None)
        else:
            record_binary(res, FmodBackward1, ta, tb, save_a=ta if ta is not None else xa, save_b=tb)
    return res if out is None else _write_out(res, out)


# --------------------------------------------------------------------------- pow

class PowBackward0(_BinaryNode):
    """tensor ** scalar: zeros for exponent 0, else grad * (e * x**(e-1)) (torch's order)."""
    __slots__ = ()

    def backward(self, g):
        a, e = self.a, self.b
        if e == 0:
            return self.grads(zeros_like_grad(g), None)
        return self.grads(g * (a.pow(e - 1) * e), None)


class PowBackward1(_BinaryNode):
    """tensor ** tensor; d/dself is 0 where the exponent is 0, d/dexponent is 0 where
    self == 0 and exponent >= 0 (as torch)."""
    __slots__ = ("out",)

    def backward(self, g):
        ea, eb = self.next
        a, b = self.a, self.b
        ga = gb = None
        if ea is not None:
            ga = (g * (b * a.pow(b - 1))).masked_fill(b == 0, 0)
        if eb is not None:
            result = a.pow(b) if grad_state.enabled else self.out
            # log in the result's dtype: an integer base would take the default float32 (a
            # float64 exponent's gradient lost digits)
            base = a if a._dtype is result._dtype else a.to(result._dtype)
            gb = g * (result * base.log()).masked_fill((a == 0).logical_and(b >= 0), 0)
        return self.grads(ga, gb)

    def _drop(self):
        self.a = self.b = self.out = None


class PowBackward2(_BinaryNode):
    """scalar ** tensor: grad * result * log(base); for base 0 zero where exponent >= 0."""
    __slots__ = ("out",)

    def backward(self, g):
        base, b = self.a, self.b
        result = pow(base, b) if grad_state.enabled else self.out
        scale = result * (math.log(base) if base > 0 else -math.inf if base == 0 else math.nan)
        if base == 0:
            scale = scale.masked_fill(b >= 0, 0)
        return self.grads(None, g * scale)

    def _drop(self):
        self.b = self.out = None


def pow(input: Tensor | float, exponent: Tensor | float, *,
        out: Tensor | None = None) -> Tensor:
    """input ** exponent, elementwise; ints to a negative int power raise as in torch."""
    ta, tb, xa, xb, dt, shape, dev = binary(input, exponent)
    if dt is D.bool_:
        raise NotImplementedError("\"pow\" not implemented for 'Bool'")
    if tb is None and not (dt.is_floating_point or dt.is_complex) and isinstance(exponent, int) \
            and exponent < 0:
        raise RuntimeError("Integers to negative integer powers are not allowed.")
    if tb is None and exponent == 2 and dt.is_floating_point:
        data = dev.ops.mul(xa, xa)          # x*x is exact and faster than pow
    elif tb is not None and dt.is_signed and not (dt.is_floating_point or dt.is_complex):
        data = _int_pow(dev, xa, xb, dt)
    else:
        data = dev.ops.pow(xa, xb)
    res = _from_buffer(data, shape, dt, dev)
    if binary_needs_grad(ta, tb):
        if tb is None:
            record_binary(res, PowBackward0, ta, None, save_a=ta, save_b=exponent)
        else:
            alias = res.detach()
            if ta is None:
                node = record_binary(res, PowBackward2, None, tb, save_a=input, save_b=tb)._grad_fn
            else:
                node = record_binary(res, PowBackward1, ta, tb, save_a=ta, save_b=tb)._grad_fn
            node.saved = node.saved + (alias,)
            node.versions = node.versions + (alias._version,)
            node.out = alias
    return res if out is None else _write_out(res, out)


def _int_pow(dev, xa, xb, dt):
    """Signed integers to tensor powers: a negative exponent gives 1 for base 1, +-1 for base
    -1 (by its parity) and 0 otherwise, as torch's powi (numpy raises ValueError instead)."""
    ops, name = dev.ops, dt.name
    if not hasattr(xa, "shape"):                  # a Python int base
        xa = ops.full((), xa, name)
    data = ops.pow(xa, ops.maximum(xb, 0))
    odd = ops.cast(ops.ne(ops.remainder(xb, 2), 0), name)
    minus_one = ops.mul(ops.cast(ops.eq(xa, -1), name), ops.sub(1, ops.mul(odd, 2)))
    small = ops.add(ops.cast(ops.eq(xa, 1), name), minus_one)
    return ops.where(ops.lt(xb, 0), small, data)


def square(input: Tensor) -> Tensor:
    """input * input, elementwise (bool inputs give int64, as in torch)."""
    if input._dtype is D.bool_:
        return pow(input.to(D.int64), 2)
    return pow(input, 2)


# -------------------------------------------------------------- maximum / minimum

class MaximumBackward0(_BinaryNode):
    """The gradient goes to the larger input; ties split it in half (as torch)."""
    __slots__ = ()

    def backward(self, g):
        a, b = self.a, self.b
        ea, eb = self.next
        tie = a == b
        half = g.where(tie.logical_not(), g / 2) if ea is not None or eb is not None else None
        return self.grads(half.masked_fill(a < b, 0) if ea is not None else None,
                          half.masked_fill(b < a, 0) if eb is not None else None)


class MinimumBackward0(_BinaryNode):
    __slots__ = ()

    def backward(self, g):
        a, b = self.a, self.b
        ea, eb = self.next
        half = g.where((a == b).logical_not(), g / 2)
        return self.grads(half.masked_fill(a > b, 0) if ea is not None else None,
                          half.masked_fill(b > a, 0) if eb is not None else None)


def maximum(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Elementwise max of two tensors, nan-propagating."""
    return _write_out(_extremum(input, other, "maximum", MaximumBackward0), out)


def minimum(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Elementwise min of two tensors (broadcast), NaN-propagating."""
    return _write_out(_extremum(input, other, "minimum", MinimumBackward0), out)


def _extremum(input, other, prim, cls):
    if not isinstance(input, Tensor):
        raise TypeError(f"{prim}(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(input).__name__}")
    if not isinstance(other, Tensor):
        raise TypeError(f"{prim}(): argument 'other' (position 2) must be Tensor, not "
                        f"{type(other).__name__}")
    ta, tb, xa, xb, dt, shape, dev = binary(input, other)
    res = _from_buffer(getattr(dev.ops, prim)(xa, xb), shape, dt, dev)
    if binary_needs_grad(ta, tb):
        record_binary(res, cls, ta, tb, save_a=ta, save_b=tb)
    return res


class Atan2Backward0(_BinaryNode):
    __slots__ = ()

    def backward(self, g):
        a, b = self.a, self.b
        ea, eb = self.next
        denom = a * a + b * b
        # torch's gradient is 0 where a*a + b*b is exactly 0 (at (0, 0), and where it
        # underflows to 0); a tiny non-zero sum whose reciprocal overflows stays nan
        recip = denom.reciprocal().masked_fill(denom == 0, 0)
        return self.grads(g * (b * recip) if ea is not None else None,
                          g * (-a * recip) if eb is not None else None)


def atan2(input: Tensor, other: Tensor | float, *, out: Tensor | None = None) -> Tensor:
    """Elementwise arctangent of input / other, using both signs to pick the quadrant
    (radians in [-pi, pi]); integer inputs give floats. Alias: ``arctan2``."""
    ta, tb, xa, xb, dt, shape, dev = binary(input, other)
    if not dt.is_floating_point:
        dt = D.get_default_dtype()
        xa = _as_float(ta, input if ta is None else xa, dt)    # unwrapped, as in div
        xb = _as_float(tb, other if tb is None else xb, dt)
    res = _from_buffer(dev.ops.atan2(xa, xb), shape, dt, dev)
    if binary_needs_grad(ta, tb):
        record_binary(res, Atan2Backward0, ta, tb, save_a=_in_dtype(ta, xa, dt),
                save_b=_in_dtype(tb, xb, dt))
    return res if out is None else _write_out(res, out)


def _in_dtype(t, x, dt):
    """An operand as backward formulas need it: the tensor itself, or its values already
    cast to the result dtype ``x`` (detached: the cast operand has no gradient to pass)."""
    if t is None or t._dtype is dt:
        return t
    return _from_buffer(x, t._shape, dt, t._device)


# ------------------------------------------------------------ fused composites


def lerp(input, end, weight, *, out=None):
    """input + weight * (end - input); torch switches to end - (end - input) * (1 - weight)
    for weight >= 0.5 so that weight 1 gives ``end`` exactly."""
    from ._graph import named
    if not isinstance(input, Tensor) or not isinstance(end, Tensor):
        raise TypeError(f"lerp() received an invalid combination of arguments - got "
                        f"({type(input).__name__}, {type(end).__name__}, "
                        f"{type(weight).__name__})")
    for name, t in (("end", end), ("weight", weight)):
        if isinstance(t, Tensor) and t._dtype is not input._dtype:
            raise RuntimeError(f"expected dtype {D.c_name(input._dtype)} for `{name}` but got "
                               f"dtype {D.c_name(t._dtype)}")
    if not input._dtype.is_floating_point:
        kind = "tensor" if isinstance(weight, Tensor) else "scalar"
        raise NotImplementedError(f"\"lerp_kernel_{kind}\" not implemented for "
                                  f"'{D.legacy_name(input._dtype)}'")
    if input._dtype.itemsize == 2:      # half: computed in float32, rounded once (torch)
        w = weight.float() if isinstance(weight, Tensor) else weight
        result = lerp(input.float(), end.float(), w).to(input._dtype)
        return _write_out(named(result, "LerpBackward1" if isinstance(weight, Tensor) else
                                "LerpBackward0"), out)
    diff = sub(end, input)
    if isinstance(weight, Tensor):
        low = add(input, mul(weight, diff))
        high = sub(end, mul(diff, rsub(weight, 1)))
        result = low.where(weight.abs() < 0.5, high)
        return _write_out(named(result, "LerpBackward1"), out)
    if abs(weight) < 0.5:
        result = add(input, mul(diff, weight))
    else:
        result = sub(end, mul(diff, 1 - weight))
    return _write_out(named(result, "LerpBackward0"), out)


def _all_half(*tensors):
    """The common half dtype (float16/bfloat16) of tensors that all have it, else None."""
    dt = getattr(tensors[0], "_dtype", None)
    if dt is None or dt.itemsize != 2 or not dt.is_floating_point:
        return None
    return dt if all(getattr(t, "_dtype", None) is dt for t in tensors) else None


def addcmul(input, tensor1, tensor2, *, value=1, out=None):
    """input + value * tensor1 * tensor2."""
    from ._graph import named
    half = _all_half(input, tensor1, tensor2)
    if half is not None:                # computed in float32, rounded once (torch's opmath)
        result = addcmul(input.float(), tensor1.float(), tensor2.float(), value=value)
        return _write_out(named(result.to(half), "AddcmulBackward0"), out)
    prod = mul(tensor1, tensor2) if value == 1 else mul(mul(tensor1, value), tensor2)
    return _write_out(named(add(input, prod), "AddcmulBackward0"), out)


def addcdiv(input, tensor1, tensor2, *, value=1, out=None):
    """input + value * tensor1 / tensor2."""
    from ._graph import named
    if not tensor1._dtype.is_floating_point and not tensor2._dtype.is_floating_point:
        raise RuntimeError("Integer division with addcdiv is no longer supported, and in a "
                           "future release addcdiv will perform a true division of tensor1 and "
                           "tensor2. The historic addcdiv behavior can be implemented as "
                           "(input + value * torch.trunc(tensor1 / tensor2)).to(input.dtype) "
                           "for integer inputs and as (input + value * tensor1 / tensor2) for "
                           "float inputs. The future addcdiv behavior is just the latter "
                           "implementation: (input + value * tensor1 / tensor2), for all dtypes.")
    half = _all_half(input, tensor1, tensor2)
    if half is not None:                # computed in float32, rounded once (torch's opmath)
        result = addcdiv(input.float(), tensor1.float(), tensor2.float(), value=value)
        return _write_out(named(result.to(half), "AddcdivBackward0"), out)
    quot = div(tensor1, tensor2) if value == 1 else div(mul(tensor1, value), tensor2)
    return _write_out(named(add(input, quot), "AddcdivBackward0"), out)


# ------------------------------------------------------- comparisons and logic

def _compare(prim):
    def compare(input, other, *, out=None):
        ta, tb, xa, xb, dt, shape, dev = binary(input, other)
        return _write_out(_from_buffer(getattr(dev.ops, prim)(xa, xb), shape, D.bool_, dev), out)
    compare.__name__ = prim
    compare.__doc__ = f"Elementwise ``{prim}`` comparison; a bool tensor, never differentiable."
    return compare


eq, ne, lt, le, gt, ge = (_compare(n) for n in ("eq", "ne", "lt", "le", "gt", "ge"))
greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne


def _logical(prim, symbol):
    def logical(input, other, *, out=None):
        ta, tb, xa, xb, dt, shape, dev = binary(input, other)
        return _write_out(_from_buffer(getattr(dev.ops, prim)(xa, xb), shape, D.bool_, dev), out)
    logical.__name__ = prim
    logical.__doc__ = (f"Elementwise logical {symbol} of input and other (broadcast), non-zero as"
                       " True; a bool tensor.")
    return logical


logical_and, logical_or, logical_xor = (_logical(n, s) for n, s in
                                        (("logical_and", "and"), ("logical_or", "or"),
                                         ("logical_xor", "xor")))


def _bitwise(prim, symbol):
    def bitwise(input, other, *, out=None):
        ta, tb, xa, xb, dt, shape, dev = binary(input, other)
        if dt.is_floating_point:
            raise NotImplementedError(f"\"{prim}_cpu\" not implemented for '{_legacy(dt)}'")
        return _write_out(_from_buffer(getattr(dev.ops, prim)(xa, xb), shape, dt, dev), out)
    bitwise.__name__ = prim
    bitwise.__doc__ = (f"Elementwise input {symbol} other (broadcast) for integer and bool"
                       " tensors;"
                       " floats raise.")
    return bitwise


def _legacy(dt):
    return D.legacy_name(dt)


bitwise_and = _bitwise("bitwise_and", "&")
bitwise_or = _bitwise("bitwise_or", "|")
bitwise_xor = _bitwise("bitwise_xor", "^")


def eq_all(a, b):
    """torch.equal: same shape and all elements equal."""
    if a._shape != b._shape:
        return False
    return bool(eq(a, b).all())


def allclose(input: Tensor, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08,
             equal_nan: bool = False) -> bool:
    """True if every |input - other| <= atol + rtol * |other| (see :func:`isclose`)."""
    return bool(isclose(input, other, rtol, atol, equal_nan).all())


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """|input - other| <= atol + rtol * |other|, elementwise, as torch computes it."""
    if isinstance(other, Tensor) and input._dtype is not other._dtype:
        raise RuntimeError(f"{_legacy(input._dtype)} did not match {_legacy(other._dtype)}")
    if rtol < 0:
        raise RuntimeError(f"rtol must be greater than or equal to zero, but got {rtol}")
    if atol < 0:
        raise RuntimeError(f"atol must be greater than or equal to zero, but got {atol}")
    close = eq(input, other)
    if equal_nan and input._dtype.is_floating_point:
        close = close.logical_or(input.isnan().logical_and(
            other.isnan() if isinstance(other, Tensor) else other != other))
    if rtol == 0 and atol == 0:
        return close
    if input._dtype is D.bool_:
        return close
    from ..autograd.grad_mode import no_grad
    with no_grad():
        allowed = (other * rtol).abs() + atol if isinstance(other, Tensor) else \
            abs(rtol * other) + atol
        actual = (input - other).abs()
        return close.logical_or(actual.isfinite().logical_and(actual <= allowed))


__all__ = ["add", "sub", "rsub", "mul", "div", "true_divide", "floor_divide", "remainder",
           "fmod", "pow", "square", "maximum", "minimum", "atan2", "eq", "ne", "lt", "le", "gt",
           "ge", "greater", "greater_equal", "less", "less_equal", "not_equal", "logical_and",
           "logical_or", "logical_xor", "bitwise_and", "bitwise_or", "bitwise_xor", "allclose",
           "isclose", "as_scalar"]
