"""The regularized incomplete gamma functions P(a, x) (``special.gammainc``, ``torch.igamma``)
and Q(a, x) = 1 - P (``special.gammaincc``, ``torch.igammac``).

Computed in float64 as Cephes does (torch's kernels come from it): the power series of P
where x <= 1 or x <= a, Legendre's continued fraction for Q elsewhere, so the smaller tail
keeps its relative precision; each as a vectorized loop over the whole tensor that stops
when every element has converged. Gradients: in x only, as torch (``a`` raises
NotImplementedError).
"""
from __future__ import annotations

import math

from .. import _dtype as D
from ..autograd.grad_mode import no_grad
from ..autograd.node import Node
from ._graph import unbroadcast, with_node
from ._operands import broadcast_shapes
from .gamma import _lgamma64
from .gather import where
from .math_extra import _promoted
from .unary import exp, log

_MACHEP = 1.11022302462515654042e-16
_BIG, _BIGINV = 4.503599627370496e15, 2.22044604925031308085e-16
_MAX_TERMS = 4000       # series / fraction steps; a ~ 1e5 with x ~ a needs ~2000
_CHECK_EVERY = 32       # steps between two (host-synchronizing) convergence tests


def _log_prefactor(a, x):
    """log(x^a e^-x / Gamma(a))."""
    return a * log(x) - x - _lgamma64(a)


def _series_p(a, x):
    """P(a, x) by its power series (Cephes igam)."""
    r, c, total = a, x * 0 + 1, x * 0 + 1
    done = x != x       # an element stops at its own first small term, as Cephes' loop
    for step in range(_MAX_TERMS):
        r = r + 1
        c = c * x / r
        total = where(done, total, total + c)
        done = done.logical_or((c / total).abs() <= _MACHEP)
        if step % _CHECK_EVERY == 0 and bool(done.all()):
            break
    return total * exp(_log_prefactor(a, x)) / a


def _fraction_q(a, x):
    """Q(a, x) by Legendre's continued fraction (Cephes igamc)."""
    y = 1 - a
    z = x + y + 1
    c = x * 0
    pkm2, qkm2 = x * 0 + 1, x
    pkm1, qkm1 = x + 1, z * x
    ans = pkm1 / qkm1
    done = x != x
    for step in range(_MAX_TERMS):
        c = c + 1
        y = y + 1
        z = z + 2
        yc = y * c
        pk = pkm1 * z - pkm2 * yc
        qk = qkm1 * z - qkm2 * yc
        nonzero = qk != 0
        r = pk / where(nonzero, qk, 1.0)
        err = where(nonzero, ((ans - r) / r).abs(), 1.0)
        ans = where(nonzero.logical_and(done.logical_not()), r, ans)
        # frozen at the first step within MACHEP, as Cephes' loop: later steps only
        # wobble in the last bit and would keep the batch going
        done = done.logical_or(err <= _MACHEP)
        pkm2, pkm1, qkm2, qkm1 = pkm1, pk, qkm1, qk
        big = pk.abs() > _BIG
        if bool(big.any()):
            pkm2, pkm1 = where(big, pkm2 * _BIGINV, pkm2), where(big, pkm1 * _BIGINV, pkm1)
            qkm2, qkm1 = where(big, qkm2 * _BIGINV, qkm2), where(big, qkm1 * _BIGINV, qkm1)
        if step % _CHECK_EVERY == 0 and bool(done.all()):
            break
    return ans * exp(_log_prefactor(a, x))


def _igamma64(a, x, upper):
    """P(a, x) (Q when ``upper``) of broadcast float64 a, x, with torch's edge values."""
    nan = (a < 0).logical_or(x < 0).logical_or(a.isnan()).logical_or(x.isnan()) \
        .logical_or((a == 0).logical_and(x == 0)) \
        .logical_or(a.isinf().logical_and(x.isinf()))
    one = (a == 0).logical_or(x.isinf())            # P = 1 (a == 0 < x, or x infinite)
    zero = (x == 0).logical_or(a.isinf())           # P = 0
    edge = nan.logical_or(one).logical_or(zero)
    a_ok, x_ok = where(edge, 1.0, a), where(edge, 1.0, x)
    by_fraction = (x_ok > 1).logical_and(x_ok > a_ok)
    # each method on its own elements only (the others get a harmless stand-in)
    p_series = _series_p(where(by_fraction, 1.0, a_ok), where(by_fraction, 0.5, x_ok))
    q_fraction = _fraction_q(where(by_fraction, a_ok, 1.0), where(by_fraction, x_ok, 2.0))
    if upper:
        out = where(by_fraction, q_fraction, 1 - p_series)
        out = where(one, 0.0, where(zero, 1.0, out))
    else:
        out = where(by_fraction, 1 - q_fraction, p_series)
        out = where(one, 1.0, where(zero, 0.0, out))
    return where(nan, math.nan, out)


class IgammaBackward0(Node):
    """d P / dx = x^(a-1) e^-x / Gamma(a); no derivative in a (torch raises)."""
    __slots__ = ("a", "x")
    _sign, _label = 1.0, "igamma"

    def backward(self, g):
        ea, ex = self.next
        if ea is not None:
            raise NotImplementedError(f"the derivative for '{self._label}: input' is not "
                                      "implemented.")
        a, x = self.a, self.x
        density = exp((a - 1) * log(x) - x - _lgamma_any(a))
        return None, unbroadcast(g * (self._sign * density), x._shape)

    def _drop(self):
        self.a = self.x = None


class IgammacBackward0(IgammaBackward0):
    __slots__ = ()
    _sign, _label = -1.0, "igammac"


def _lgamma_any(a):
    from .gamma import lgamma
    return lgamma(a)


def _igamma(input, other, upper):
    name = "igammac" if upper else "igamma"
    a, x = _promoted(input, other, name)
    shape = broadcast_shapes(a._shape, x._shape)
    ab, xb = a.broadcast_to(shape), x.broadcast_to(shape)
    with no_grad():
        a64 = ab if ab._dtype is D.float64 else ab.double()
        x64 = xb if xb._dtype is D.float64 else xb.double()
        out = _igamma64(a64, x64, upper)
        out = out if ab._dtype is D.float64 else out.to(ab._dtype)
    return with_node(out, IgammacBackward0 if upper else IgammaBackward0, (a, x), a=a, x=x)


def gammainc(input, other):
    """The regularized lower incomplete gamma function P(a, x)."""
    return _igamma(input, other, False)


def gammaincc(input, other):
    """The regularized upper incomplete gamma function Q(a, x) = 1 - P(a, x)."""
    return _igamma(input, other, True)


__all__ = ["gammainc", "gammaincc"]
