"""Elementwise special functions (``torch.special``): erfc with an accurate upper tail, and
xlog1py, entr, ndtr, log_ndtr resting on it.

All are written in other frontend ops (every backend for free). Two have a backward of their
own where the composite's gradient would differ from torch's at special values (xlog1py at
x == 0, entr at 0 and below 0).
"""
from __future__ import annotations

import math

from .. import _dtype as D
from .._tensor import Tensor
from ..autograd.grad_mode import is_grad_enabled, no_grad
from ..autograd.node import Node
from ._graph import named, unbroadcast, with_node
from .ternary import where
from .math_extra import _float, _promoted
from .unary import erf, exp, log, log1p

_TAIL = 2.0          # erfc switches from 1 - erf(x) to the continued fraction here
_TERMS = 60          # enough for double precision from _TAIL on (checked against torch)
_LN2 = math.log(2.0)
_LOG_SQRT_PI = 0.5 * math.log(math.pi)


def _erfc_fraction(x):
    """The continued fraction erfc(x) = exp(-x^2) / (sqrt(pi) K(x)), K = x + (1/2)/(x + 1/(x
    + (3/2)/(x + ...))), returned as K: accurate to double precision for x >= 2 where
    1 - erf(x) has lost its leading digits to cancellation."""
    k = x
    for n in range(_TERMS, 0, -1):
        k = x + (n * 0.5) / k
    return k


def erfc64(x):
    """erfc of a float64 tensor, with full relative accuracy in the upper tail (erfc(10) is
    2.1e-45, not 0). Each branch sees its input clamped to its own side so the branch that
    is not taken gives a zero gradient, never nan."""
    low, high = x.clamp(max=_TAIL), x.clamp(min=_TAIL)
    tail = exp(-high * high) / (math.sqrt(math.pi) * _erfc_fraction(high))
    return where(x < _TAIL, 1 - erf(low), tail)


def _log_erfc64(t):
    """log(erfc(t)) for float64 t >= 0, without underflow (t = 30: erfc is 0 in double)."""
    low, high = t.clamp(max=_TAIL), t.clamp(min=_TAIL)
    tail = -high * high - _LOG_SQRT_PI - log(_erfc_fraction(high))
    return where(t < _TAIL, log(1 - erf(low)), tail)


def _in_float64(fn, input):
    x = _float(input)
    if x._dtype is D.float64:
        return fn(x)
    return fn(x.double()).to(x._dtype)


class ErfcBackward0(Node):
    """torch's formula g * -2/sqrt(pi) * exp(-x^2): nan at a nan input even where g is 0, as
    torch's (the composed branches' clamps would give 0 there)."""
    __slots__ = ("x",)

    def backward(self, g):
        (e,) = self.next
        if e is None:
            return (None,)
        x = self.x
        return (g * (-2.0 / math.sqrt(math.pi)) * exp(-(x * x)),)

    def _drop(self):
        self.x = None


def erfc(input):
    """1 - erf(x), computed in float64 (the continued fraction in the upper tail)."""
    x = _float(input)
    with no_grad():
        out = _in_float64(erfc64, x)
    return with_node(out, ErfcBackward0, (x,), x=x)


def ndtr(input):
    """The standard normal CDF, erfc(-x / sqrt(2)) / 2: accurate in the left tail too."""
    return _in_float64(lambda x: 0.5 * erfc64(x * -math.sqrt(0.5)), input)


def _log_ndtr64(x):
    neg, pos = x.clamp(max=0.0), x.clamp(min=0.0)
    left = _log_erfc64(neg * -math.sqrt(0.5)) - _LN2          # x < 0: log(erfc(-x/sqrt2)/2)
    right = log1p(-0.5 * erfc64(pos * math.sqrt(0.5)))        # x >= 0: log1p(-ndtr(-x))
    return where(x < 0, left, right)


def log_ndtr(input):
    """log of the standard normal CDF, accurate in both tails (log_ndtr(-40) = -804.6,
    log_ndtr(10) = -7.6e-24), as torch.special.log_ndtr."""
    return named(_in_float64(_log_ndtr64, input), "SpecialLogNdtrBackward0")


_GILES_CENTRAL = (2.81022636e-08, 3.43273939e-07, -3.5233877e-06, -4.39150654e-06,
                  0.00021858087, -0.00125372503, -0.00417768164, 0.246640727, 1.50140941)
_GILES_TAIL = (-0.000200214257, 0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773,
               -0.0076224613, 0.00943887047, 1.00167406, 2.83297682)


def _horner(coefs, w):
    p = w.new_full((), coefs[0]).expand(w._shape)
    for c in coefs[1:]:
        p = c + p * w
    return p


def _inverse_core(a, q):
    """y >= 0 with erf(y) = a and erfc(y) = q = 1 - a, for 0 <= a < 1, each given exactly:
    Giles' single-precision guess (M. Giles, 2010) polished by four Newton steps on
    erf(y) = a for a <= 0.5, on log(erfc(y)) = log(q) above (nearly quadratic, so Newton
    converges fast out to q = 2**-53 and, for ndtri, far below)."""
    w = -log(q * (1 + a))
    central = _horner(_GILES_CENTRAL, w.clamp(max=5.0) - 2.5)
    tail = _horner(_GILES_TAIL, w.clamp(min=5.0).sqrt() - 3)
    y = where(w < 5, central, tail) * a
    y = where((a > 0.5).logical_and(w > 36.0), (w - w.log()).sqrt(), y)  # far below float32
    half_sqrt_pi = 0.5 * math.sqrt(math.pi)
    log_q = log(where(a <= 0.5, 1.0, q))
    for _ in range(4):
        central_step = (erf(y) - a) * half_sqrt_pi * exp(y * y)
        log_erfc = _log_erfc64(y.clamp(min=0.0))
        tail_step = (log_q - log_erfc) * half_sqrt_pi * exp(log_erfc + y * y)
        y = y - where(a <= 0.5, central_step, tail_step)
    return y


def _erfinv64(x):
    """erfinv of float64 x (1 - |x| is exact by Sterbenz where the tail branch uses it)."""
    a = x.abs()
    a = where(a < 1, a, 0.0)                               # |x| >= 1 and nan: masked below
    y = _inverse_core(a, 1 - a)
    y = where(x.abs() == 1, math.inf, where(x.abs() > 1, math.nan, y))
    y = where(x.isnan(), x, y)
    return where(x == 0, x, where(x < 0, -y, y))            # keeps -0.0


def _ndtri64(p):
    """ndtri(p) = -sqrt(2) erfcinv(2 p), on the side of 0.5 where p (or 1 - p, exact) is small,
    so the left tail keeps full relative precision (ndtri(1e-300) = -37.04)."""
    small = where(p > 0.5, 1 - p, p)
    small = where((small > 0).logical_and(small <= 0.5), small, 0.5)   # edges masked below
    q = 2 * small
    y = _inverse_core(1 - q, q) * math.sqrt(2.0)            # 1 - q exact for q in [0.5, 1]
    y = where(p > 0.5, y, -y)
    y = where(p == 0.5, 0.0, y)
    y = where(p == 0, -math.inf, where(p == 1, math.inf, y))
    y = where((p < 0).logical_or(p > 1), math.nan, y)
    return where(p.isnan(), p, y)


class SpecialNdtriBackward0(Node):
    """torch's formula g * sqrt(2 pi) * exp(ndtri(p)^2 / 2)."""
    __slots__ = ("x", "out")

    def backward(self, g):
        (e,) = self.next
        if e is None:
            return (None,)
        out = ndtri(self.x) if is_grad_enabled() else self.out
        return (g * math.sqrt(2 * math.pi) * exp(out * out * 0.5),)

    def _drop(self):
        self.x = self.out = None


def ndtri(input):
    """The inverse of ndtr on (0, 1); -inf at 0, inf at 1, nan outside."""
    x = _float(input)
    with no_grad():
        out = _in_float64(_ndtri64, x)
    return with_node(out, SpecialNdtriBackward0, (x,), "out", x=x)


class ErfinvBackward0(Node):
    """torch's formula g * sqrt(pi) / 2 * exp(erfinv(x)^2) (recomputed under create_graph)."""
    __slots__ = ("x", "out")

    def backward(self, g):
        (e,) = self.next
        if e is None:
            return (None,)
        out = erfinv(self.x) if is_grad_enabled() else self.out
        return (g * (0.5 * math.sqrt(math.pi)) * exp(out * out),)

    def _drop(self):
        self.x = self.out = None


def erfinv(input):
    """The inverse of erf on (-1, 1); +-inf at +-1, nan outside."""
    x = _float(input)
    with no_grad():
        out = _in_float64(_erfinv64, x)
    return with_node(out, ErfinvBackward0, (x,), "out", x=x)


class SpecialXlog1PyBackward0(Node):
    """torch's formulas: d/dx = g * log1p(y), 0 where x == 0 and y <= -1; d/dy = g x / (1+y)."""
    __slots__ = ("a", "b")

    def backward(self, g):
        a, b = self.a, self.b
        ea, eb = self.next
        drop = (b <= -1) if type(self) is not SpecialXlog1PyBackward2 else (b > -1).logical_not()
        ga = unbroadcast((g * log1p(b)).masked_fill((a == 0).logical_and(drop), 0), a._shape) \
            if ea is not None else None
        gb = unbroadcast(g * a / (1 + b), b._shape) if eb is not None else None
        return ga, gb

    def _drop(self):
        self.a = self.b = None


class SpecialXlog1PyBackward1(SpecialXlog1PyBackward0):   # input is a Python scalar
    __slots__ = ()


class SpecialXlog1PyBackward2(SpecialXlog1PyBackward0):   # other is a Python scalar
    __slots__ = ()


def xlog1py(input, other):
    """x * log1p(y), 0 where x == 0 (unless y is nan), as torch.special.xlog1py."""
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        raise TypeError("xlog1py(): argument 'input' must be Tensor")
    cls = SpecialXlog1PyBackward0 if isinstance(input, Tensor) and isinstance(other, Tensor) \
        else SpecialXlog1PyBackward2 if isinstance(input, Tensor) else SpecialXlog1PyBackward1
    x, y = _promoted(input, other)
    with no_grad():
        zero = (x == 0).logical_and(y.isnan().logical_not())
        out = where(zero, 0.0, x * log1p(y))
    return with_node(out, cls, (x, y), a=x, b=y)


class SpecialEntrBackward0(Node):
    """torch's formula g * -(1 + log(x)): +inf at 0, nan below 0."""
    __slots__ = ("x",)

    def backward(self, g):
        (e,) = self.next
        return (g * -(1 + log(self.x)),) if e is not None else (None,)

    def _drop(self):
        self.x = None


def entr(input):
    """-x log(x) elementwise: 0 at 0, -inf below 0, nan at nan."""
    x = _float(input)
    with no_grad():
        safe = x.masked_fill(x <= 0, 1.0)
        out = where(x == 0, 0.0, where(x < 0, -math.inf, -(x * log(safe))))
        out = where(x.isnan(), x, out)
    return with_node(out, SpecialEntrBackward0, (x,), x=x)




def _erfcx_y100(y):
    """Johnson's piecewise Chebyshev fit of erfcx on y = 400 / (4 + |x|) in [0, 100): each
    element gathers its piece's 7 coefficients (one table lookup, no branches)."""
    from ._erfcx_table import ERFCX_Y100
    from .creation import tensor as _tensor
    table = _tensor(ERFCX_Y100, dtype=D.float64, device=y._device)           # (100, 7)
    piece = where(y.isnan(), 0.0, y.clamp(0.0, 99.0).floor())      # nan: masked by the caller
    coefs = table[piece.long()]                                              # (..., 7)
    t = 2 * y - (2 * piece + 1)
    p = coefs[..., 6]
    for k in range(5, -1, -1):
        p = coefs[..., k] + p * t
    return where(y >= 100, 1.0, p)


def _erfcx64(x):
    ispi = 0.56418958354775628694807945156
    pos = x.clamp(min=0.0)
    mid = _erfcx_y100(400 / (4 + pos))
    xx = pos * pos
    cf = ispi * (xx * (xx + 4.5) + 2) / (pos * (xx * (xx + 5) + 3.75))
    far = where(pos > 5e7, ispi / pos, cf)
    positive = where(pos > 50, far, mid)
    neg = x.clamp(min=-26.7, max=0.0)
    twice = 2 * exp(neg * neg)
    negative = where(x < -6.1, twice, twice - _erfcx_y100(400 / (4 - neg)))
    out = where(x >= 0, positive, where(x < -26.7, math.inf, negative))
    return where(x.isnan(), x, out)


class SpecialErfcxBackward0(Node):
    """torch's formula g * (2 x erfcx(x) - 2 / sqrt(pi))."""
    __slots__ = ("x", "out")

    def backward(self, g):
        (e,) = self.next
        if e is None:
            return (None,)
        out = erfcx(self.x) if is_grad_enabled() else self.out
        return (g * (2 * self.x * out - 2 / math.sqrt(math.pi)),)

    def _drop(self):
        self.x = self.out = None


def erfcx(input):
    """The scaled complementary error function exp(x^2) erfc(x), finite far into both tails."""
    x = _float(input)
    with no_grad():
        out = _in_float64(_erfcx64, x)
    return with_node(out, SpecialErfcxBackward0, (x,), "out", x=x)


__all__ = ["erfc", "erfc64", "erfcx", "erfinv", "ndtri", "ndtr", "log_ndtr", "xlog1py", "entr"]
