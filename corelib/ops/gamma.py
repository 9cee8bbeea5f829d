"""The gamma family: lgamma, digamma, polygamma (trigamma and the Hurwitz zeta behind it),
mvlgamma, zeta.

Each forward is the Cephes algorithm torch's CPU kernels use (ATen/native/Math.h; 3-clause
BSD Cephes Math Library, S. L. Moshier), evaluated elementwise in float64 with frontend ops
and masks instead of branches, then rounded once to the input's dtype -- so every backend
runs it, and float64 results agree with torch to a few ulp. lgamma is Cephes' ``lgam``
(torch calls libm's lgamma; both are accurate to ~1e-15 relative away from the roots 1, 2).
Each op has its own backward node with torch's formula (lgamma' = digamma,
digamma' = polygamma(1), polygamma(n)' = polygamma(n + 1)), built of these same ops, so
gradients of gradients work.
"""
from __future__ import annotations

import math

from .. import _dtype as D
from .._tensor import Tensor
from ..autograd.grad_mode import no_grad
from ..autograd.node import Node
from ._operands import broadcast_shapes
from ._graph import unbroadcast, with_node
from .gather import where
from .math_extra import _float, _promoted
from .unary import log, sin, tan

_LOG_PI = math.log(math.pi)
_LS2PI = 0.5 * math.log(2 * math.pi)
_MACHEP = 1.11022302462515654042e-16

# lgam: Stirling correction for x >= 13, and the rational approximation on [2, 3)
_LGAM_A = (8.11614167470508450300e-4, -5.95061904284301438324e-4, 7.93650340457716943945e-4,
           -2.77777777730099687205e-3, 8.33333333333331927722e-2)
_LGAM_B = (-1.37825152569120859100e3, -3.88016315134637840924e4, -3.31612992738871184744e5,
           -1.16237097492762307383e6, -1.72173700820839662146e6, -8.53555664245765465627e5)
_LGAM_C = (1.0, -3.51815701436523470549e2, -1.70642106651881159223e4, -2.20528590553854454839e5,
           -1.13933444367982507207e6, -2.53252307177582951285e6, -2.01889141433532773231e6)
# digamma's asymptotic series (B_2k / 2k) and psi(10)
_PSI_A = (8.33333333333333333333e-2, -2.10927960927960927961e-2, 7.57575757575757575758e-3,
          -4.16666666666666666667e-3, 3.96825396825396825397e-3, -8.33333333333333333333e-3,
          8.33333333333333333333e-2)
_PSI_10 = 2.25175258906672110764
# Hurwitz zeta: Euler-Maclaurin denominators (2k)! / B_2k
_EULER = 0.57721566490153286061


def _riemann_zeta_minus_1(k):
    """zeta(k) - 1 for an integer k >= 2 in double: 999 terms plus the Euler-Maclaurin tail."""
    n = 1000
    terms = [m ** -float(k) for m in range(2, n)]
    terms += [n ** (1.0 - k) / (k - 1), 0.5 * n ** -float(k), k * n ** (-k - 1.0) / 12,
              -k * (k + 1) * (k + 2) * n ** (-k - 3.0) / 720]
    return math.fsum(terms)


# lgamma(1 + e) = -gamma e + sum_k (-1)^k zeta(k) / k e^k, lgamma(2 + e) = (1 - gamma) e +
# sum_k (-1)^k (zeta(k) - 1) / k e^k, for |e| < _NEAR (28 terms reach 2^-53 there);
# highest power first, divided by e (the caller multiplies by e)
_NEAR = 0.25
_ZM1 = {k: _riemann_zeta_minus_1(k) for k in range(2, 30)}
_TAYLOR_AT_1 = tuple((-1) ** k * (1.0 + _ZM1[k]) / k for k in range(29, 1, -1)) + (-_EULER,)
_TAYLOR_AT_2 = tuple((-1) ** k * _ZM1[k] / k for k in range(29, 1, -1)) + (1.0 - _EULER,)
_ZETA_LOWEST_Q = -990.0        # below this, torch's loop would sum over 1000 direct terms
_ZETA_A = (12.0, -720.0, 30240.0, -1209600.0, 47900160.0, -1.8924375803183791606e9, 7.47242496e10,
           -2.950130727918164224e12, 1.1646782814350067249e14, -4.5979787224074726105e15,
           1.8152105401943546773e17, -7.1661652561756670113e18)


def _zeros(x):
    return x.new_zeros(x.shape)


def _polevl(x, coefs):
    """coefs[0] x^n + ... + coefs[n] by Horner's rule."""
    p = _zeros(x) + coefs[0]
    for c in coefs[1:]:
        p = p * x + c
    return p


def _lgamma_positive(x):
    """log Gamma(x) for float64 x > 0 (other values give garbage, masked by the caller)."""
    big = x.clamp(min=13.0)
    stirling = (big - 0.5) * log(big) - big + _LS2PI
    p = 1.0 / (big * big)
    stirling = where(big > 1e8, stirling, stirling + _polevl(p, _LGAM_A) / big)
    # x < 13: move u into [2, 3) keeping Gamma(x) = z * Gamma(u)
    u = x.clamp(max=13.0)
    z = _zeros(x) + 1.0
    for _ in range(11):
        down = u >= 3
        u = where(down, u - 1, u)
        z = where(down, z * u, z)
    for _ in range(2):
        up = u < 2
        z = where(up, z / u, z)
        u = where(up, u + 1, u)
    t = u - 2
    small = log(z.abs()) + t * _polevl(t, _LGAM_B) / _polevl(t, _LGAM_C)
    # near the roots 1 and 2, Taylor series in the exact e = x - 1, x - 2 (the recurrence's
    # log(1 / x) would cost ~1e-16 absolute, i.e. all relative digits as lgamma -> 0)
    e1, e2 = x - 1, x - 2
    near1 = e1 * _polevl(e1.clamp(-_NEAR, _NEAR), _TAYLOR_AT_1)
    near2 = e2 * _polevl(e2.clamp(-_NEAR, _NEAR), _TAYLOR_AT_2)
    small = where(e1.abs() < _NEAR, near1, where(e2.abs() < _NEAR, near2, small))
    return where(x >= 13, stirling, small)


def _lgamma64(x):
    q = x.abs()
    pos = _lgamma_positive(where(q > 0, q, 1.0))
    # x < 0: Gamma(x) Gamma(1 - x) = pi / sin(pi x) with Gamma(1 - x) = q Gamma(q), q = -x
    p = q.floor()
    frac = q - p
    frac = where(frac > 0.5, p + 1 - q, frac)
    neg = _LOG_PI - log((q * sin(math.pi * frac)).abs()) - pos
    neg = where(q < 1e-8, -log(q) - _EULER * x, neg)           # q sin(pi q) would underflow
    out = where(x < 0, neg, pos)
    out = where((x <= 0).logical_and(x == x.floor()), math.inf, out)      # poles, +-0
    out = where(q == math.inf, math.inf, out)
    return where(x.isnan(), x, out)


def _digamma64(x):
    reflect = x < 0
    u = where(reflect, 1 - x, x)
    u = where(u.isfinite().logical_and(u > 0), u, 1.0)
    shift = _zeros(x)
    for _ in range(10):
        low = u < 10
        shift = where(low, shift - 1 / u, shift)
        u = where(low, u + 1, u)
    z = 1.0 / (u * u)
    y = where(u < 1e17, z * _polevl(z, _PSI_A), 0.0)
    out = where(u == 10, shift + _PSI_10, shift + log(u) - 0.5 / u - y)
    r = x - x.trunc()                                 # pi / tan(pi r): the fraction keeps digits
    out = where(reflect, out - math.pi / tan(math.pi * r), out)
    out = where(reflect.logical_and(x == x.trunc()), math.nan, out)        # negative integers, -inf
    out = where(x == 0, where(x.signbit(), math.inf, -math.inf), out)
    out = where(x == math.inf, math.inf, out)
    return where(x.isnan(), x, out)


def _trigamma64(x):
    reflect = x < 0.5
    s = sin(math.pi * x)
    out = where(reflect, -(math.pi * math.pi) / (s * s), _zeros(x))
    u = where(reflect, 1 - x, x)
    for _ in range(6):
        out = out + 1 / (u * u)
        u = u + 1
    ixx = 1 / (u * u)
    out = out + (1 + 1 / (2 * u) + ixx * (1.0 / 6 - ixx * (1.0 / 30 - ixx * (1.0 / 42)))) / u
    return where(reflect, -out, out)


def _zeta64(x, q):
    """Hurwitz zeta(x, q) for float64 tensors of one shape: torch's Euler-Maclaurin loop,
    with each element's early exits kept by masks (so results equal the scalar loop's)."""
    q_safe = where(q.isfinite().logical_and(q >= _ZETA_LOWEST_Q), q, 1.0)
    lowest = float(q_safe.min()) if q.numel() else 0.0
    first_terms = max(9, int(math.floor(9.0 - lowest)) + 1)      # until a > 9 for every element
    s = q_safe.pow(-x)
    a = q_safe
    b = _zeros(x)
    done = x != x                       # returned early from the first loop (all False here)
    looping = x == x                    # still in the first loop
    result = s
    for i in range(1, first_terms + 1):
        step = looping.logical_and(done.logical_not())
        a = where(step, a + 1, a)
        b = where(step, a.pow(-x), b)
        s = where(step, s + b, s)
        stop = step.logical_and(-_MACHEP * s < b).logical_and(b < _MACHEP * s)
        result = where(stop, s, result)
        done = done.logical_or(stop)
        looping = looping.logical_and((a <= 9) if i >= 9 else looping)
    w = a
    s = s + b * w / (x - 1) - 0.5 * b
    a = _zeros(x) + 1.0
    k = 0.0
    series_done = done
    for c in _ZETA_A:
        a = a * (x + k)
        b = b / w
        t = a * b / c
        s = where(series_done, s, s + t)
        stop = series_done.logical_not().logical_and((t / s).abs() < _MACHEP)
        result = where(stop, s, result)
        series_done = series_done.logical_or(stop)
        k += 1.0
        a = a * (x + k)
        b = b / w
        k += 1.0
    result = where(series_done, result, s)
    result = where(q < _ZETA_LOWEST_Q, math.nan, result)     # would need > 1000 direct terms
    result = where(q == math.inf, math.nan, result)
    result = where((q <= 0).logical_and(x != x.floor()), math.nan, result)
    result = where((q <= 0).logical_and(q == q.floor()), math.inf, result)
    result = where(x < 1, math.nan, where(x == 1, math.inf, result))
    return where(x.isnan().logical_or(q.isnan()), math.nan, result)


def _in_float64(fn, *tensors):
    dtype = tensors[0]._dtype
    args = [t if t._dtype is D.float64 else t.double() for t in tensors]
    out = fn(*args)
    return out if dtype is D.float64 else out.to(dtype)


def _unary(fn, x, node_cls, **saved):
    """Forward ``fn`` in float64 without recording, then attach ``node_cls`` (saving x)."""
    with no_grad():
        out = _in_float64(fn, x)
    return with_node(out, node_cls, (x,), x=x, **saved)


class LgammaBackward0(Node):
    """d lgamma(x) = digamma(x) dx."""
    __slots__ = ("x",)

    def backward(self, g):
        return (g * digamma(self.x),) if self.next[0] is not None else (None,)

    def _drop(self):
        self.x = None


class DigammaBackward0(Node):
    """d digamma(x) = polygamma(1, x) dx."""
    __slots__ = ("x",)

    def backward(self, g):
        return (g * polygamma(1, self.x),) if self.next[0] is not None else (None,)

    def _drop(self):
        self.x = None


class PolygammaBackward0(Node):
    """d polygamma(n, x) = polygamma(n + 1, x) dx."""
    __slots__ = ("x", "n")

    def backward(self, g):
        return (g * polygamma(self.n + 1, self.x),) if self.next[0] is not None else (None,)

    def _drop(self):
        self.x = None


class MvlgammaBackward0(Node):
    """d mvlgamma(x, p) = sum_j digamma(x - j / 2) dx."""
    __slots__ = ("x", "p")

    def backward(self, g):
        if self.next[0] is None:
            return (None,)
        total = digamma(self.x)
        for j in range(1, self.p):
            total = total + digamma(self.x - j / 2)
        return (g * total,)

    def _drop(self):
        self.x = None


def lgamma(input):
    """log |Gamma(x)|: +inf at 0 and the negative integers, as torch.lgamma."""
    return _unary(_lgamma64, _float(input), LgammaBackward0)


def digamma(input):
    """Gamma'(x) / Gamma(x): -inf at +0, +inf at -0, nan at the negative integers."""
    return _unary(_digamma64, _float(input), DigammaBackward0)


def _polygamma64(n):
    if n == 0:
        return _digamma64
    if n == 1:
        return _trigamma64
    factor = (1.0 if n % 2 else -1.0) * math.exp(math.lgamma(n + 1.0))
    return lambda x: factor * _zeta64(_zeros(x) + (n + 1.0), x)


def polygamma(n, input):
    """The n-th derivative of digamma: torch.polygamma(n, input)."""
    if isinstance(n, bool) or not isinstance(n, int):
        if isinstance(n, Tensor) or not float(n).is_integer():
            raise TypeError(f"polygamma(): argument 'n' (position 1) must be int, not {type(n).__name__}")
        n = int(n)
    if n < 0:
        raise RuntimeError("polygamma(n, x) does not support negative n.")
    return _unary(_polygamma64(n), _float(input), PolygammaBackward0, n=n)


def polygamma_method(self, n):
    """Tensor.polygamma(n) (and polygamma_(n)): self is the input."""
    return polygamma(n, self)


def mvlgamma(input, p):
    """The multivariate log-gamma of dimension p: sum_j lgamma(x - j/2) + p(p-1)/4 log(pi)."""
    if not isinstance(p, int) or isinstance(p, bool):
        raise TypeError(f"mvlgamma(): argument 'p' (position 2) must be int, not {type(p).__name__}")
    if p < 1:
        raise RuntimeError("p has to be greater than or equal to 1")
    x = _float(input)
    with no_grad():
        # as torch: the shifted arguments x - j/2 and the sum in x's own dtype
        from .creation import arange
        shifts = arange(-(p - 1) * 0.5, 0.25, 0.5, dtype=x._dtype, device=x._device)
        out = lgamma(x.unsqueeze(-1) + shifts).sum(-1) + p * (p - 1) / 4 * _LOG_PI
    return with_node(out, MvlgammaBackward0, (x,), x=x, p=p)


class SpecialZetaBackward0(Node):
    """torch has no derivative of zeta in x (NotImplementedError); in q: -x zeta(x + 1, q)."""
    __slots__ = ("x", "q")

    def backward(self, g):
        ex, eq = self.next
        if ex is not None:
            raise NotImplementedError("the derivative for 'zeta' is not implemented.")
        gq = unbroadcast(g * -self.x * zeta(self.x + 1, self.q), self.q._shape) if eq is not None else None
        return None, gq

    def _drop(self):
        self.x = self.q = None


class SpecialZetaBackward1(SpecialZetaBackward0):     # x was a Python number
    __slots__ = ()


class SpecialZetaBackward2(SpecialZetaBackward0):     # q was a Python number
    __slots__ = ()


def zeta(input, other):
    """The Hurwitz zeta function sum_k (k + q)^-x (torch.special.zeta(x, q))."""
    x, q = _promoted(input, other)
    if not x._dtype.is_floating_point:
        x, q = x.to(D.get_default_dtype()), q.to(D.get_default_dtype())
    shape = broadcast_shapes(x._shape, q._shape)
    xb, qb = x.broadcast_to(shape), q.broadcast_to(shape)
    with no_grad():
        out = _in_float64(_zeta64, xb, qb)
    cls = (SpecialZetaBackward0 if isinstance(input, Tensor) and isinstance(other, Tensor)
           else SpecialZetaBackward2 if isinstance(input, Tensor) else SpecialZetaBackward1)
    return with_node(out, cls, (x, q), x=x, q=q)


__all__ = ["digamma", "lgamma", "mvlgamma", "polygamma", "zeta"]
