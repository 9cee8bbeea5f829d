"""Elementwise unary ops. Each primitive's backward sits right below its forward.

Integer and bool inputs of floating functions (exp, sin, ...) are first cast to the default
float dtype, as torch does. Ops whose derivative is best written with their output (exp,
tanh, sigmoid, ...) save a detached alias of it -- no reference cycle between a tensor and its
grad_fn -- and, when differentiated again (create_graph), recompute it from the input.
"""
from __future__ import annotations

import math

from .. import _dtype as D
from .._tensor import Tensor, _from_buffer
from ..autograd.node import Node
from ._graph import grad_state, record_unary, zeros_like_grad
from .inplace import write_out


class _UnaryNode(Node):
    __slots__ = ("x", "y", "dtype")

    def _drop(self):
        self.x = self.y = None

    def out(self, fn):
        """The forward output: the saved alias, or recomputed with graph under create_graph."""
        return fn(self.x) if grad_state.enabled else self.y


def _float_input(x):
    """x's buffer and dtype, cast to the default float dtype when x is integral or bool."""
    if x._dtype.is_floating_point or x._dtype.is_complex:
        return x._data, x._dtype
    dt = D.get_default_dtype()
    return x._device.ops.cast(x._data, dt.name), dt


def _unary(prim, node_cls=None, *, floating=True, keep="none", doc=""):
    """Build the frontend function for backend primitive ``prim``.

    :param keep: what the node needs: "input", "output" (alias + input for recompute) or
        "none" (see ``_graph.record_unary``).
    """
    def op(input: Tensor, *, out: Tensor | None = None) -> Tensor:
        dt = input._dtype
        dev = input._device
        data = input._data
        if floating and not (dt.is_floating_point or dt.is_complex):
            dt = D.get_default_dtype()
            data = dev.ops.cast(data, dt.name)
        res = _from_buffer(getattr(dev.ops, prim)(data), input._shape, dt, dev)
        if node_cls is not None and input._requires_grad and grad_state.enabled:
            record_unary(res, node_cls, input, keep)
        if out is not None:
            write_out(out, res)
            return out
        return res
    op.__name__ = prim
    op.__doc__ = doc or f"Elementwise {prim}."
    return op


def _like(g, data):
    """A gradient buffer wrapped like ``g`` (the no-graph fast paths of backward)."""
    return _from_buffer(data, g._shape, g._dtype, g._device)


# ----------------------------------------------------------------- sign family

class NegBackward0(_UnaryNode):
    __slots__ = ()

    def backward(self, g):
        return (-g,)


def neg(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """-input (bool tensors raise, as in torch)."""
    if input._dtype is D.bool_:
        raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. If "
                           "you are trying to invert a mask, use the `~` or `logical_not()` "
                           "operator instead.")
    return _neg(input, out=out)


_neg = _unary("neg", NegBackward0, floating=False)
negative = neg


class AbsBackward0(_UnaryNode):
    __slots__ = ()

    def backward(self, g):
        return (g * self.x.sign(),)


_abs = _unary("abs", AbsBackward0, floating=False, keep="input")


def abs(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """|x| (no kernel for bool, as torch)."""
    if input._dtype is D.bool_:
        raise NotImplementedError("\"abs_cpu\" not implemented for 'Bool'")
    if input._dtype.is_complex:
        from .complex_ops import abs_complex
        res = abs_complex(input)
        return res if out is None else write_out(out, res)
    return _abs(input, out=out)
absolute = abs


class SignBackward0(_UnaryNode):
    __slots__ = ()

    def backward(self, g):
        return (zeros_like_grad(g),)


_sign = _unary("sign", SignBackward0, floating=False)


def sign(input, *, out=None):
    """-1, 0 or 1; torch gives 0 for nan (the backend primitive gives nan)."""
    if input._dtype is D.bool_:
        return input.clone() if out is None else write_out(out, input)
    res = _sign(input)
    if input._dtype.is_floating_point:
        ops = input._device.ops
        ops.assign(res._data, ops.where(ops.isnan(res._data), 0.0, res._data))
    return res if out is None else write_out(out, res)

# --------------------------------------------------------------- exp / log family


class ExpBackward0(_UnaryNode):
    __slots__ = ()

    def backward(self, g):
        return (g * self.out(exp),)


exp = _unary("exp", ExpBackward0, keep="output")


class Expm1Backward0(_UnaryNode):
    __slots__ = ()

    def backward(self, g):
        return (g * (self.out(expm1) + 1),)


expm1 = _unary("expm1", Expm1Backward0, keep="output")


class LogBackward0(_UnaryNode):
    __slots__ = ()

    def backward(self, g):
        return (g / self.x,)


log = _unary("log", LogBackward0, keep="input")


class Log1PBackward0(_UnaryNode):
    __slots__ = ()

    def backward(self, g):
        return (g / (self.x + 1),)


log1p = _unary("log1p", Log1PBackward0, keep="input")


class Log2Backward0(_UnaryNode):
    __slots__ = ()

    def backward(self, g):
        return (g / (self.x * _LN2),)


class Log10Backward0(_UnaryNode):
    __slots__ = ()

    def backward(self, g):
        return (g / (self.x * _LN10),)


_LN2, _LN10 = math.log(2.0), math.log(10.0)


def _log_base(ops, data, dt, ln_base):
    """log(x) / ln(base), through float64 for narrower floats so results round as torch's
    log2/log10 do (there is no log2 primitive)."""
    if dt.name == "float64":
        return ops.div(ops.log(data), ln_base)
    wide = ops.log(ops.cast(data, "float64"))
    return ops.cast(ops.div(wide, ln_base), dt.name)


def _composite_unary(name, node_cls, compute, keep="input", *, doc=""):
    """Build a float unary op written in other primitives; ``doc`` becomes its docstring."""
    def op(input: Tensor, *, out: Tensor | None = None) -> Tensor:
        data, dt = _float_input(input)
        dev = input._device
        res = _from_buffer(compute(dev.ops, data, dt), input._shape, dt, dev)
        if input._requires_grad and grad_state.enabled:
            record_unary(res, node_cls, input, keep)
        return res if out is None else write_out(out, res)
    op.__name__ = name
    op.__doc__ = doc or f"Elementwise {name}."
    return op


log2 = _composite_unary("log2", Log2Backward0, lambda ops, x, dt: _log_base(ops, x, dt, _LN2),
                        doc="Base-2 logarithm of each element; integer inputs give floats.")
log10 = _composite_unary("log10", Log10Backward0,
                         lambda ops, x, dt: _log_base(ops, x, dt, _LN10),
                         doc="Base-10 logarithm of each element; integer inputs give floats.")


class Exp2Backward0(_UnaryNode):
    __slots__ = ()

    def backward(self, g):
        return (g * (self.out(exp2) * _LN2),)


exp2 = _composite_unary("exp2", Exp2Backward0, lambda ops, x, dt: ops.pow(2.0, x), "output",
                        doc="2 ** input, elementwise; integer inputs give floats.")


class SqrtBackward0(_UnaryNode):
    __slots__ = ()

    def backward(self, g):
        if not grad_state.enabled:       # no graph to build: one buffer expression
            ops = g._device.ops
            return (_like(g, ops.div(g._data, ops.mul(self.y._data, 2.0))),)
        return (g / (sqrt(self.x) * 2),)


sqrt = _unary("sqrt", SqrtBackward0, keep="output")


class RsqrtBackward0(_UnaryNode):
    __slots__ = ()

    def backward(self, g):
        return (-0.5 * g * self.out(rsqrt).pow(3),)


def _rsqrt(ops, x, dt):
    """1/sqrt(x); half precision computes in float32 and rounds once, as torch's kernel."""
    if dt.itemsize == 2:
        return ops.cast(ops.reciprocal(ops.sqrt(ops.cast(x, "float32"))), dt.name)
    return ops.reciprocal(ops.sqrt(x))


rsqrt = _composite_unary("rsqrt", RsqrtBackward0, _rsqrt, "output",
                         doc="1 / sqrt(input), elementwise; integer inputs give floats.")


class ReciprocalBackward0(_UnaryNode):
    __slots__ = ()

    def backward(self, g):
        y = self.out(reciprocal)
        return (-g * (y * y),)      # torch's order: 0 * (y * y = inf) is nan, as there


reciprocal = _unary("reciprocal", ReciprocalBackward0, keep="output")

# ------------------------------------------------------------------ trigonometry


class SinBackward0(_UnaryNode):
    __slots__ = ()

    def backward(self, g):
        if not grad_state.enabled:
            ops = g._device.ops
            return (_like(g, ops.mul(g._data, ops.cos(self.x._data))),)
        return (g * self.x.cos(),)


sin = _unary("sin", SinBackward0, keep="input")


class CosBackward0(_UnaryNode):
    __slots__ = ()

    def backward(self, g):
        if not grad_state.enabled:
            ops = g._device.ops
            return (_like(g, ops.mul(g._data, ops.neg(ops.sin(self.x._data)))),)
        return (g * -self.x.sin(),)


cos = _unary("cos", CosBackward0, keep="input")


class TanBackward0(_UnaryNode):
    __slots__ = ()

    def backward(self, g):
        y = self.out(tan)
        return (g * (y * y + 1),)


tan = _unary("tan", TanBackward0, keep="output")


class AsinBackward0(_UnaryNode):
    __slots__ = ()

    def backward(self, g):
        return (g * (1 - self.x * self.x).rsqrt(),)


asin = _unary("asin", AsinBackward0, keep="input")
arcsin = asin


class AcosBackward0(_UnaryNode):
    __slots__ = ()

    def backward(self, g):
        return (-g * (1 - self.x * self.x).rsqrt(),)


acos = _unary("acos", AcosBackward0, keep="input")
arccos = acos


class AtanBackward0(_UnaryNode):
    __slots__ = ()

    def backward(self, g):
        return (g / (self.x * self.x + 1),)


atan = _unary("atan", AtanBackward0, keep="input")
arctan = atan


class SinhBackward0(_UnaryNode):
    __slots__ = ()

    def backward(self, g):
        return (g * self.x.cosh(),)


sinh = _unary("sinh", SinhBackward0, keep="input")


class CoshBackward0(_UnaryNode):
    __slots__ = ()

    def backward(self, g):
        return (g * self.x.sinh(),)


cosh = _unary("cosh", CoshBackward0, keep="input")


class TanhBackward0(_UnaryNode):
    __slots__ = ()

    def backward(self, g):
        if not grad_state.enabled:
            ops, y = g._device.ops, self.y._data
            return (_like(g, ops.mul(g._data, ops.sub(1.0, ops.mul(y, y)))),)
        y = tanh(self.x)
        return (g * (1 - y * y),)


tanh = _unary("tanh", TanhBackward0, keep="output")


class SigmoidBackward0(_UnaryNode):
    """grad * (1 - y) * y, in torch's order."""
    __slots__ = ()

    def backward(self, g):
        if not grad_state.enabled:
            ops, y = g._device.ops, self.y._data
            return (_like(g, ops.mul(ops.mul(g._data, ops.sub(1.0, y)), y)),)
        y = sigmoid(self.x)
        return (g * (1 - y) * y,)


sigmoid = _unary("sigmoid", SigmoidBackward0, keep="output")


class ErfBackward0(_UnaryNode):
    __slots__ = ()

    def backward(self, g):
        x = self.x
        return (g * (2.0 / math.sqrt(math.pi)) * (-(x * x)).exp(),)


erf = _unary("erf", ErfBackward0, keep="input")

# ------------------------------------------------------------------- rounding


class _ZeroGrad(_UnaryNode):
    """Rounding is piecewise constant: torch returns zeros (not ``g * 0``, nan for inf)."""
    __slots__ = ()

    def backward(self, g):
        return (zeros_like_grad(g),)


class FloorBackward0(_ZeroGrad):
    __slots__ = ()


class CeilBackward0(_ZeroGrad):
    __slots__ = ()


class RoundBackward0(_ZeroGrad):
    __slots__ = ()


class RoundBackward1(_ZeroGrad):
    """round(decimals=...)."""
    __slots__ = ()


class TruncBackward0(_ZeroGrad):
    __slots__ = ()


def _rounding(prim, cls):
    raw = _unary(prim, cls, floating=False)

    def op(input, *, out=None):
        if input._dtype is D.bool_:
            raise NotImplementedError(f"\"{prim}_vml_cpu\" not implemented for 'Bool'")
        if not input._dtype.is_floating_point:   # integers are already rounded
            return input.clone() if out is None else write_out(out, input)
        return raw(input, out=out)
    op.__name__ = prim
    op.__doc__ = f"Elementwise {prim} (integer tensors are returned unchanged)."
    return op


floor = _rounding("floor", FloorBackward0)
ceil = _rounding("ceil", CeilBackward0)
trunc = _rounding("trunc", TruncBackward0)
fix = trunc
_round = _rounding("round", RoundBackward0)


def _round_decimals(ops, data, dt, decimals):
    # torch: decimals > 0 -> rint(x * 10**d) / 10**d; decimals < 0 -> rint(x / 10**-d) * 10**-d
    if decimals > 0:
        scale = 10.0 ** decimals
        return ops.div(ops.round(ops.mul(data, scale)), scale)
    scale = 10.0 ** -decimals
    return ops.mul(ops.round(ops.div(data, scale)), scale)


def round(input, *, decimals=0, out=None):
    """Round half to even; ``decimals`` scales first, as torch does."""
    if decimals == 0:
        return _round(input, out=out)
    if not input._dtype.is_floating_point:
        raise RuntimeError("round_cpu not implemented for integer types with decimals != 0")
    op = _composite_unary("round", RoundBackward1,
                          lambda ops, x, dt: _round_decimals(ops, x, dt, decimals), "none")
    return op(input, out=out)


class FracBackward0(_UnaryNode):
    __slots__ = ()

    def backward(self, g):
        return (g,)


def frac(input, *, out=None):
    """x - trunc(x) (floating inputs only, as torch)."""
    if not input._dtype.is_floating_point:
        raise NotImplementedError(f"\"frac_cpu\" not implemented for "
                                  f"'{D.legacy_name(input._dtype)}'")
    return _frac(input, out=out)


_frac = _composite_unary("frac", FracBackward0, lambda ops, x, dt: ops.sub(x, ops.trunc(x)),
                         "none")

# ------------------------------------------------------------- predicates / logic


def _predicate(prim, doc):
    def op(input: Tensor) -> Tensor:
        return _from_buffer(getattr(input._device.ops, prim)(input._data), input._shape, D.bool_,
                     input._device)
    op.__name__ = prim
    op.__doc__ = doc
    return op


logical_not = _predicate("logical_not", "Elementwise not; a bool tensor.")
_isnan = _predicate("isnan", "True where the element is nan.")
_isinf = _predicate("isinf", "True where the element is +-inf.")


def isnan(input: Tensor) -> Tensor:
    """A bool tensor, True where input is NaN (never for integer dtypes)."""
    if not input._dtype.is_floating_point:
        return _zeros_bool(input)
    return _isnan(input)


def isinf(input: Tensor) -> Tensor:
    """A bool tensor, True where input is +inf or -inf."""
    if not input._dtype.is_floating_point:
        return _zeros_bool(input)
    return _isinf(input)


def isfinite(input: Tensor) -> Tensor:
    """A bool tensor, True where input is neither inf nor NaN."""
    if not input._dtype.is_floating_point:
        return _zeros_bool(input).logical_not()
    return _isnan(input).logical_or(_isinf(input)).logical_not()


def isposinf(input: Tensor) -> Tensor:
    """A bool tensor, True where input is +inf."""
    return isinf(input).logical_and(input > 0)


def isneginf(input: Tensor) -> Tensor:
    """A bool tensor, True where input is -inf."""
    return isinf(input).logical_and(input < 0)


def _zeros_bool(input):
    dev = input._device
    return _from_buffer(dev.ops.full(input._shape, False, "bool"), input._shape, D.bool_, dev)


def bitwise_not(input):
    """~x for integer and bool tensors."""
    if input._dtype.is_floating_point:
        raise NotImplementedError(f"\"bitwise_not_cpu\" not implemented for "
                                  f"'{D.legacy_name(input._dtype)}'")
    return _from_buffer(input._device.ops.bitwise_not(input._data), input._shape, input._dtype,
                 input._device)
