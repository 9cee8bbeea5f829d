"""torch.special's Bessel functions of the first and second kind and the modified ones of the
second kind: bessel_j0/j1/y0/y1, modified_bessel_i0/i1/k0/k1, scaled_modified_bessel_k0/k1,
spherical_bessel_j0.

torch's own algorithms (Cephes rational and Chebyshev approximations, ATen/native/Math.h),
evaluated in float64 with frontend ops (each branch on a clamped copy of x, then selected)
and rounded once to the input dtype. As in torch these are not differentiable: the result
never requires grad.
"""
from __future__ import annotations

import math

from .. import _dtype as D
from .._tensor import _from_buffer
from ..autograd.grad_mode import no_grad
from . import _bessel_tables as T
from .bessel import _i0_64, _i1_64
from .gather import where
from .math_extra import _float
from .unary import cos, exp, log, sin

_SQRT_2_OVER_PI = 0.797884560802865355879892119868763737
_TWO_OVER_PI = 0.636619772367581343075535053490057448
_PI_4 = 0.785398163397448309615660845819875721
_3PI_4 = 2.356194490192344928846982537459627163


def _horner(coefs, w):
    p = w.new_zeros(w.shape)
    for c in coefs:
        p = p * w + c
    return p


def _clenshaw(coefs, y):
    """Cephes' chbevl: 0.5 (b0 - b2) of the Chebyshev series at y."""
    p = y.new_zeros(y.shape)
    q = p
    a = p + coefs[0]
    for c in coefs[1:]:
        p = q
        q = a
        a = y * q - p + c
    return 0.5 * (a - p)


def _asymptotic(t, x, phase, sin_first):
    """The x > 5 form: sqrt(2/(pi x)) (P/Q cos(x - phase) -+ 5/x R/S sin(x - phase))."""
    w = (5.0 / x) * (5.0 / x)
    pp, pq = _horner(t[0], w), _horner(t[1], w)
    qp, qq = _horner(t[2], w), _horner(t[3], w)
    if sin_first:
        val = pp / pq * sin(x - phase) + 5.0 / x * (qp / qq) * cos(x - phase)
    else:
        val = pp / pq * cos(x - phase) - 5.0 / x * (qp / qq) * sin(x - phase)
    return val * _SQRT_2_OVER_PI / x.sqrt()


def _j0_64(x):
    a = x.abs()
    s = a.clamp(max=5.0)
    z = s * s
    small = (z - 5.78318596294678452118e+00) * (z - 3.04712623436620863991e+01) \
        * _horner(T.J0_RP, z) / _horner(T.J0_RQ, z)
    small = where(s < 1e-5, 1.0 - z / 4.0, small)
    big = _asymptotic((T.J0_PP, T.J0_PQ, T.J0_QP, T.J0_QQ), a.clamp(min=5.0), _PI_4, False)
    return where(a <= 5, small, big)


def _j1_64(x):
    a = x.abs()
    s = a.clamp(max=5.0)
    z = s * s
    small = _horner(T.J1_RP, z) / _horner(T.J1_RQ, z) * s \
        * (z - 1.46819706421238932572e+01) * (z - 4.92184563216946036703e+01)
    big = _asymptotic((T.J1_PP, T.J1_PQ, T.J1_QP, T.J1_QQ), a.clamp(min=5.0), _3PI_4, False)
    out = where(a <= 5, small, big)
    return where(x < 0, -out, out)


def _y0_64(x):
    s = x.clamp(min=1e-300, max=5.0)
    z = s * s
    small = _horner(T.Y0_YP, z) / _horner(T.Y0_YQ, z) + _TWO_OVER_PI * log(s) * _j0_64(s)
    big = _asymptotic((T.Y0_PP, T.Y0_PQ, T.Y0_QP, T.Y0_QQ), x.clamp(min=5.0), _PI_4, True)
    out = where(x <= 5, small, big)
    out = where(x < 0, math.nan, out)
    return where(x == 0, -math.inf, out)


def _y1_64(x):
    s = x.clamp(min=1e-300, max=5.0)
    z = s * s
    small = s * (_horner(T.Y1_YP, z) / _horner(T.Y1_YQ, z)) \
        + _TWO_OVER_PI * (_j1_64(s) * log(s) - 1.0 / s)
    big = _asymptotic((T.Y1_PP, T.Y1_PQ, T.Y1_QP, T.Y1_QQ), x.clamp(min=5.0), _3PI_4, True)
    out = where(x <= 5, small, big)
    out = where(x < 0, math.nan, out)
    return where(x == 0, -math.inf, out)


def _k_parts(x, table_a, table_b, order):
    """(the x <= 2 value without the exp(x) scaling, the x > 2 value times exp(x))."""
    s = x.clamp(min=1e-300, max=2.0)
    cheb = _clenshaw(table_a, s * s - 2.0)
    if order == 0:
        small = cheb - log(0.5 * s) * _i0_64(s)
    else:
        small = log(0.5 * s) * _i1_64(s) + cheb / s
    b = x.clamp(min=2.0)
    big_scaled = _clenshaw(table_b, 8.0 / b - 2.0) / b.sqrt()
    return s, small, b, big_scaled


def _edges_k(x, out):
    out = where(x < 0, math.nan, out)
    return where(x == 0, math.inf, out)


def _k0_64(x):
    s, small, b, big = _k_parts(x, T.K0_A, T.K0_B, 0)
    return _edges_k(x, where(x <= 2, small, exp(-b) * big))


def _k1_64(x):
    s, small, b, big = _k_parts(x, T.K1_A, T.K1_B, 1)
    return _edges_k(x, where(x <= 2, small, exp(-b) * big))


def _k0e_64(x):
    s, small, b, big = _k_parts(x, T.K0E_A, T.K0E_B, 0)
    return _edges_k(x, where(x <= 2, small * exp(s), big))


def _k1e_64(x):
    s, small, b, big = _k_parts(x, T.K1E_A, T.K1E_B, 1)
    return _edges_k(x, where(x <= 2, small * exp(s), big))


def _spherical_j0_64(x):
    z = x * x
    series = 1.0 + z * (-1.0 / 6.0 + z * (1.0 / 120.0 + z * (-1.0 / 5040.0 + z * (
        1.0 / 362880.0 + z * (-1.0 / 39916800.0 + z * (1.0 / 6227020800.0))))))
    safe = where(x.abs() < 0.5, 1.0, x)
    out = where(x.abs() < 0.5, series, sin(safe) / safe)
    return where(x.isinf(), 0.0, out)


def _make_op(name, fn):
    def op(input):
        x = _float(input)
        with no_grad():
            out = fn(x if x._dtype is D.float64 else x.double())
            out = out if x._dtype is D.float64 else out.to(x._dtype)
        return _from_buffer(out._data, out._shape, out._dtype, out._device)
    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"torch.special.{name}, computed in float64 with torch's approximation."
    return op


bessel_j0 = _make_op("bessel_j0", _j0_64)
bessel_j1 = _make_op("bessel_j1", _j1_64)
bessel_y0 = _make_op("bessel_y0", _y0_64)
bessel_y1 = _make_op("bessel_y1", _y1_64)
modified_bessel_i0 = _make_op("modified_bessel_i0", _i0_64)
modified_bessel_i1 = _make_op("modified_bessel_i1", _i1_64)
modified_bessel_k0 = _make_op("modified_bessel_k0", _k0_64)
modified_bessel_k1 = _make_op("modified_bessel_k1", _k1_64)
scaled_modified_bessel_k0 = _make_op("scaled_modified_bessel_k0", _k0e_64)
scaled_modified_bessel_k1 = _make_op("scaled_modified_bessel_k1", _k1e_64)
spherical_bessel_j0 = _make_op("spherical_bessel_j0", _spherical_j0_64)

__all__ = ["bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1", "modified_bessel_i0",
           "modified_bessel_i1", "modified_bessel_k0", "modified_bessel_k1",
           "scaled_modified_bessel_k0", "scaled_modified_bessel_k1", "spherical_bessel_j0"]
