"""Elementwise math beyond the primitives: logit, atanh, sinc, hypot, logaddexp, xlogy,
fmax, copysign ...

Most are composites: written in other frontend ops (so gradients, double gradients and every
backend come for free), with torch's grad_fn name through ``named``. Four families have a
backward of their own (hypot, xlogy, fmax/fmin, copysign): their composite's gradient would
differ from torch's formula at special values (an infinite or zero operand, nan); each
node's docstring says where.
"""
from __future__ import annotations

import math

from .. import _dtype as D
from .._tensor import Tensor
from ..autograd.grad_mode import is_grad_enabled, no_grad
from ..autograd.node import Node
from ._graph import named, unbroadcast, with_node, zeros_like_grad
from .binary import atan2, maximum, minimum, pow
from .inplace import write_out
from .ternary import where as where_scalar_safe
from .unary import abs, exp, isnan, log, log1p, sign, sin, sqrt


def _float(x):
    return x if x._dtype.is_floating_point else x.to(D.get_default_dtype())


def _promoted(input, other, name=None):
    """Both operands as tensors of their promoted dtype; integral results become the default
    float, or raise NotImplementedError (torch's wording) when ``name`` has no integer kernel."""
    from ._operands import binary
    dt = binary(input, other)[4]            # Python scalars count as wrapped numbers
    if not dt.is_floating_point:
        if name is not None:
            raise NotImplementedError(f"\"{name}_cpu\" not implemented for "
                                      f"'{D.legacy_name(dt)}'")
        dt = D.get_default_dtype()          # before wrapping scalars: xlogy(uint8, -1)
    if not isinstance(input, Tensor):
        input = other.new_full((), input, dtype=dt)
    if not isinstance(other, Tensor):
        other = input.new_full((), other, dtype=dt)
    return (input if input._dtype is dt else input.to(dt),
            other if other._dtype is dt else other.to(dt))


def _in_float32(fn, a, b):
    """Half inputs are computed in float32 and rounded once, as torch's opmath kernels do
    (hypot(200, 200) does not overflow float16 on the way)."""
    if a._dtype is not D.float16:
        return fn(a, b)
    return fn(a.float(), b.float()).to(D.float16)


# ------------------------------------------------------------------------------- unary

def logit(input, eps=None):
    """log(p / (1 - p)), with p clamped to [eps, 1 - eps] when eps is given."""
    p = _float(input)
    if eps is not None:
        p = p.clamp(eps, 1 - eps)
    return named(log(p / (1 - p)), "LogitBackward0")


def atanh(input):
    """Inverse hyperbolic tangent, (log1p(x) - log1p(-x)) / 2: no cancellation near 0, and
    +-inf at +-1, nan outside [-1, 1], as torch."""
    x = _float(input)
    return named((log1p(x) - log1p(-x)) * 0.5, "AtanhBackward0")


_LN2 = math.log(2.0)
_BIG = 2.0 ** 28      # beyond it 1 + x*x == x*x in float64 already: log(2|x|) is exact


class AsinhBackward0(Node):
    """torch's formula, g / sqrt(x**2 + 1) (the composite's where-branches would give nan)."""
    __slots__ = ("x",)

    def backward(self, g):
        x = self.x
        return (g * (x * x + 1).rsqrt(),)

    def _drop(self):
        self.x = None


class AcoshBackward0(Node):
    """torch's formula, g / sqrt(x**2 - 1)."""
    __slots__ = ("x",)

    def backward(self, g):
        x = self.x
        return (g * (x * x - 1).rsqrt(),)

    def _drop(self):
        self.x = None


def _asinh(x):
    a = x.abs()
    small = a < _BIG
    safe = a.masked_fill(small.logical_not(), 1.0)             # a*a must not overflow
    near = log1p(safe + safe * safe / (1 + sqrt(1 + safe * safe)))   # no cancellation at 0
    far = log(a) + _LN2
    return copysign(where_scalar_safe(small, near, far), x)


def _acosh(x):
    t = x - 1
    small = x < _BIG
    safe = t.masked_fill(small.logical_not(), 0.0)
    near = log1p(safe + sqrt(safe * (safe + 2)))                 # exact near 1: no log(1 + tiny)
    far = log(x) + _LN2
    return where_scalar_safe(small, near, far)


def _unary_float(fn, node, input, out):
    x = _float(input)
    with no_grad():
        res = fn(x.float()).to(x._dtype) if x._dtype in (D.float16, D.bfloat16) else fn(x)
    res = with_node(res, node, (x,), None, x=x)
    return res if out is None else write_out(out, res)


def asinh(input, *, out=None):
    """Inverse hyperbolic sine, accurate at every magnitude: log1p form near 0 (the naive
    log(x + sqrt(x*x + 1)) cancels to 0 there) and log(2|x|) for huge |x| (x*x overflows)."""
    return _unary_float(_asinh, AsinhBackward0, input, out)


def acosh(input, *, out=None):
    """Inverse hyperbolic cosine: log1p(t + sqrt(t(t + 2))), t = x - 1, exact near 1; log(2x)
    for huge x; nan below 1, as torch."""
    return _unary_float(_acosh, AcoshBackward0, input, out)


def sgn(input):
    """sign(x) (for real tensors torch's sgn is sign)."""
    return named(sign(input), "SgnBackward0")


def sinc(input):
    """sin(pi x) / (pi x), and 1 at 0."""
    x = _float(input)
    px = x * math.pi
    zero = x == 0
    return named(where_scalar_safe(zero, 1.0, sin(px) / px.masked_fill(zero, 1.0)),
                 "SincBackward0")


def deg2rad(input: Tensor) -> Tensor:
    """input converted from degrees to radians (times pi/180); integer inputs give floats."""
    return named(_float(input) * (math.pi / 180.0), "Deg2RadBackward0")


def ldexp(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
    """input * 2**other (integer inputs give floats)."""
    res = named(input * pow(2.0, other), "LdexpBackward0")
    return res if out is None else write_out(out, res)


def rad2deg(input: Tensor) -> Tensor:
    """input converted from radians to degrees (times 180/pi); integer inputs give floats."""
    return named(_float(input) * (180.0 / math.pi), "Rad2DegBackward0")


def signbit(input):
    """True where the sign bit is set (-0.0 and -nan included)."""
    if not input._dtype.is_floating_point:
        return input < 0
    with no_grad():
        ones = input.new_ones(()).expand(input._shape)
        return copysign(ones, input) < 0


def nan_to_num(input, nan=0.0, posinf=None, neginf=None):
    """nan, +inf and -inf replaced (by default with 0 and the dtype's largest/lowest)."""
    if not input._dtype.is_floating_point:
        return input.clone()
    from .._type_info import finfo
    info = finfo(input._dtype)
    top = float(info.max) if posinf is None else posinf
    bottom = float(info.min) if neginf is None else neginf
    out = input.masked_fill(isnan(input), nan)
    out = out.masked_fill(input == math.inf, top).masked_fill(input == -math.inf, bottom)
    return named(out, "NanToNumBackward0")


# ------------------------------------------------------------------------------ binary

def _hypot(a, b):
    """max * sqrt(1 + (min / max)**2): squaring the legs themselves overflows above
    sqrt(max) and underflows below sqrt(tiny) (torch's float64 hypot(0, 1.3e154) is 1.3e154
    and hypot(0, 1.6e-177) is 1.6e-177)."""
    x, y = a.abs(), b.abs()
    m = maximum(x, y)
    r = minimum(x, y) / where_scalar_safe(m == 0, 1.0, m)
    return m * sqrt(1 + r * r)


class HypotBackward0(Node):
    """torch's formulas, g * a / out and g * b / out (the composite's own gradient is nan
    at an infinite leg, where torch's is 0 for the other leg)."""
    __slots__ = ("a", "b", "out")

    def backward(self, g):
        a, b = self.a, self.b
        out = hypot(a, b) if is_grad_enabled() else self.out    # create_graph: differentiable
        ea, eb = self.next
        return (unbroadcast(g * a / out, a._shape) if ea is not None else None,
                unbroadcast(g * b / out, b._shape) if eb is not None else None)

    def _drop(self):
        self.a = self.b = self.out = None


def hypot(input, other):
    """sqrt(a**2 + b**2), without overflow; inf when either leg is (IEEE, torch)."""
    a, b = _promoted(input, other, "hypot")
    with no_grad():
        out = _in_float32(_hypot, a, b)
        out = where_scalar_safe(a.isinf().logical_or(b.isinf()), math.inf, out)
    return with_node(out, HypotBackward0, (a, b), "out", a=a, b=b)


def logaddexp(input, other):
    """log(exp(a) + exp(b)), stably: max + log1p(exp(-|a - b|))."""
    input, other = _promoted(input, other, "logaddexp")

    def compute(a, b):
        out = maximum(a, b) + log1p(exp(-(a - b).abs()))
        same_inf = (a == b).logical_and(a.isinf())          # inf - inf would be nan
        return where_scalar_safe(same_inf, a, out)
    return named(_in_float32(compute, input, other), "LogaddexpBackward0")


def logaddexp2(input, other):
    """log2(2**a + 2**b)."""
    input, other = _promoted(input, other, "logaddexp2")
    ln2 = math.log(2.0)
    return named(logaddexp(input * ln2, other * ln2) / ln2, "Logaddexp2Backward0")


class XlogyBackward0(Node):
    """torch's formulas: d/dx = xlogy(g, y), 0 where x == 0 and y <= 0 (a where() over
    x * log(y) gave 0 * -inf = nan there; a zero g gives 0 even at y == 0), d/dy = g * x / y."""
    __slots__ = ("a", "b")

    def backward(self, g):
        a, b = self.a, self.b
        ea, eb = self.next
        # torch: (a == 0) & (b <= 0) for a tensor b; for a Python-scalar b, a == 0 unless b > 0
        # (xlogy.Scalar_Other), so a nan scalar masks too
        drop = (b <= 0) if type(self) is not XlogyBackward2 else (b > 0).logical_not()
        ga = unbroadcast(xlogy(g, b).masked_fill((a == 0).logical_and(drop), 0), a._shape) \
            if ea is not None else None
        gb = unbroadcast(g * a / b, b._shape) if eb is not None else None
        return ga, gb

    def _drop(self):
        self.a = self.b = None


class XlogyBackward1(XlogyBackward0):   # torch's name when self is a Python scalar
    __slots__ = ()


class XlogyBackward2(XlogyBackward0):   # ... and when other is
    __slots__ = ()


def xlogy(input, other):
    """x * log(y), 0 where x == 0 (unless y is nan), as torch defines it."""
    cls = XlogyBackward0 if isinstance(input, Tensor) and isinstance(other, Tensor) else \
        XlogyBackward2 if isinstance(input, Tensor) else XlogyBackward1
    x, y = _promoted(input, other)
    with no_grad():
        zero = (x == 0).logical_and(y.isnan().logical_not())
        out = where_scalar_safe(zero, 0.0, x * log(y))
    return with_node(out, cls, (x, y), a=x, b=y)


class FmaxBackward0(Node):
    """The gradient goes to input where it is >= other or other is nan, else to other (ties
    go to input, as torch's fmax/fmin backward)."""
    __slots__ = ("a", "b", "upper", "da", "db")

    def backward(self, g):
        from .binary import _back
        a, b = self.a, self.b
        ea, eb = self.next
        take_a = (a >= b if self.upper else a <= b).logical_or(b.isnan())
        ga = _back(g.masked_fill(take_a.logical_not(), 0), a._shape, self.da) \
            if ea is not None else None
        gb = _back(g.masked_fill(take_a, 0), b._shape, self.db) if eb is not None else None
        return ga, gb

    def _drop(self):
        self.a = self.b = None


class FminBackward0(FmaxBackward0):
    __slots__ = ()


def _fextreme(input, other, upper):
    from ._operands import binary
    if not isinstance(input, Tensor) or not isinstance(other, Tensor):
        raise TypeError(f"{'fmax' if upper else 'fmin'}(): argument 'other' must be Tensor")
    dt = binary(input, other)[4]
    a = input if input._dtype is dt else input.detach().to(dt)
    b = other if other._dtype is dt else other.detach().to(dt)
    with no_grad():
        best = maximum(a, b) if upper else minimum(a, b)
        if dt.is_floating_point:
            best = where_scalar_safe(isnan(a), b, where_scalar_safe(isnan(b), a, best))
    return with_node(best, FmaxBackward0 if upper else FminBackward0, (input, other),
                     a=a, b=b, upper=upper, da=input._dtype, db=other._dtype)


def fmax(input, other):
    """Elementwise max that ignores nan (nan only where both are nan)."""
    return _fextreme(input, other, True)


def fmin(input: Tensor, other: Tensor) -> Tensor:
    """Elementwise min that ignores nan (nan only where both are nan)."""
    return _fextreme(input, other, False)


class CopysignBackward0(Node):
    """d/dself = result / self (0 where self is 0); other gets zeros (as torch)."""
    __slots__ = ("x", "y", "oshape", "odtype")

    def backward(self, g):
        ex, eo = self.next
        gx = go = None
        if ex is not None:
            with no_grad():     # +-1 (or 0): piecewise constant, so no graph through it
                ratio = (self.y / self.x).masked_fill(self.x == 0, 0)
            gx = unbroadcast(g * ratio, self.x._shape)
        if eo is not None:
            go = zeros_like_grad(g)
            go = unbroadcast(go, self.oshape)
            go = go if go._dtype is self.odtype else go.to(self.odtype)
        return gx, go

    def _drop(self):
        self.x = self.y = None


def copysign(input, other):
    """|input| with the sign (bit) of other: atan2 tells -0.0 from 0.0."""
    x, o = _promoted(input, other)
    with no_grad():
        negative = atan2(o, -1.0) < 0              # the sign bit: -0.0 counts, as in torch
        mag = abs(x)
        result = where_scalar_safe(negative, -mag, mag)
    return with_node(result, CopysignBackward0, (x, o), "y", x=x, oshape=o._shape,
                     odtype=o._dtype)


def float_power(input, exponent):
    """input ** exponent computed in float64."""
    a = input.to(D.float64) if isinstance(input, Tensor) else float(input)
    b = exponent.to(D.float64) if isinstance(exponent, Tensor) else float(exponent)
    return pow(a, b)


def heaviside(input, values):
    """0 where x < 0, values where x == 0, 1 where x > 0 (not differentiable)."""
    if input._dtype is not values._dtype:
        raise RuntimeError("heaviside is not yet implemented for tensors with different dtypes")
    with no_grad():
        positive = (input > 0).to(input._dtype)
        return where_scalar_safe(input == 0, values, positive)


def dist(input, other, p=2):
    """The p-norm of input - other."""
    return named((input - other).norm(p), "DistBackward0")


__all__ = ["asinh", "acosh", "logit", "sgn", "sinc", "deg2rad", "rad2deg", "signbit", "nan_to_num",
           "hypot", "logaddexp", "logaddexp2", "xlogy", "fmax", "fmin", "copysign",
           "float_power", "heaviside", "dist", "positive", "renorm", "isreal", "is_nonzero"]


def positive(input):
    """``+input``: the tensor itself (torch refuses bool)."""
    if input._dtype is D.bool_:
        raise RuntimeError("The `+` operator, on a bool tensor is not supported.")
    return input


def renorm(input, p, dim, maxnorm, *, out=None):
    """Each slice along ``dim`` whose p-norm exceeds ``maxnorm`` scaled down to it (torch's
    maxnorm / (norm + 1e-7) factor); differentiable through the norm, as torch."""
    from .linalg_compose import vector_norm
    if not p > 0:
        raise RuntimeError("renorm: non-positive-norm not supported")
    if maxnorm < 0:
        raise RuntimeError(f"renorm: expected maxnorm to be >= 0 but got {maxnorm:g}")
    if input.dim() <= 1:
        raise RuntimeError(f"renorm: input needs at least 2 dimensions, got {input.dim()} "
                           f"dimensions")
    from .._tensor import _wrap_dim
    d = _wrap_dim(dim, input.dim())
    others = [i for i in range(input.dim()) if i != d]
    norm = vector_norm(input, p, dim=others, keepdim=True)
    factor = where_scalar_safe(norm > maxnorm, maxnorm / (norm + 1e-7), 1.0)
    res = named(input * factor, "RenormBackward0")
    return res if out is None else write_out(out, res)


def isreal(input):
    """True where an element has no imaginary part (everywhere for real dtypes)."""
    if input._dtype.is_complex:
        return input.imag == 0
    return input.new_ones(input.shape, dtype=D.bool_)


def is_nonzero(input):
    """``bool`` of a one-element tensor, with torch's errors for any other size."""
    if input.numel() == 0:
        raise RuntimeError("Boolean value of Tensor with no values is ambiguous")
    if input.numel() > 1:
        raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
    return bool(input.reshape(()).item())
