"""numpy port of ``log256_ps`` / ``sincos256_ps`` from aten/src/ATen/native/cpu/avx_mathfun.h.

torch's ``normal_fill_16_AVX2`` (native/cpu/DistributionTemplates.h) turns float32
uniforms into normals with these Cephes-style routines, on the AVX2 *and* AVX512 kernels of
x86 wheels.  They are plain float32 arithmetic, so numpy reproduces them bit for bit
provided every step rounds where GCC's code rounds: GCC fuses some ``mul`` + ``add`` pairs
into FMAs (``-mfma -ffp-contract=fast``).  Which pairs it fused was measured against
torch 2.13 over 2**20 samples (the comments name each one); any other choice leaves
0.01-1 % of the samples one ulp off.
"""
from __future__ import annotations

import numpy as np

from .fma import fma32

__all__ = ["log_ps", "sincos_ps"]

_f = np.float32
_ONE = _f(1.0)
_HALF = _f(0.5)
_MIN_NORM_POS = np.array(0x00800000, np.uint32).view(np.float32)
_INV_MANT_MASK = np.uint32(~0x7F800000 & 0xFFFFFFFF)
_HALF_BITS = np.array(0.5, np.float32).view(np.uint32)
_SIGN = np.uint32(0x80000000)

_SQRTHF = _f(0.707106781186547524)
_LOG_P = [_f(v) for v in (7.0376836292e-2, -1.1514610310e-1, 1.1676998740e-1, -1.2420140846e-1,
                          1.4249322787e-1, -1.6668057665e-1, 2.0000714765e-1, -2.4999993993e-1,
                          3.3333331174e-1)]
_LOG_Q1 = _f(-2.12194440e-4)
_LOG_Q2 = _f(0.693359375)

_DP = [_f(-0.78515625), _f(-2.4187564849853515625e-4), _f(-3.77489497744594108e-8)]
_SINCOF = [_f(-1.9515295891e-4), _f(8.3321608736e-3), _f(-1.6666654611e-1)]
_COSCOF = [_f(2.443315711809948e-005), _f(-1.388731625493765e-003), _f(4.166664568298827e-002)]
_FOPI = _f(1.27323954473516)  # 4 / pi


def log_ps(x: np.ndarray) -> np.ndarray:
    """``log256_ps``: natural log of positive float32 values (NaN for x <= 0)."""
    x = np.asarray(x, np.float32)
    invalid = x <= 0
    x = np.maximum(x, _MIN_NORM_POS)  # cut off denormals
    bits = x.view(np.uint32)
    e = ((bits >> 23).astype(np.int32) - 0x7F).astype(np.float32) + _ONE
    x = ((bits & _INV_MANT_MASK) | _HALF_BITS).view(np.float32)  # mantissa in [0.5, 1)
    # if x < SQRTHF: e -= 1, x = x + x - 1 else x = x - 1
    mask = x < _SQRTHF
    tmp = np.where(mask, x, _f(0))
    x = x - _ONE
    e = e - np.where(mask, _ONE, _f(0))
    x = x + tmp
    z = x * x
    y = _LOG_P[0]
    for p in _LOG_P[1:]:
        y = fma32(y, x, p)  # Horner step: fused
    y = y * x
    y = fma32(y, z, e * _LOG_Q1)  # y*z + e*q1: GCC fuses the y*z product, not e*q1
    y = y - z * _HALF  # z*0.5 is exact, fused or not
    x = x + y
    x = fma32(e, _LOG_Q2, x)  # fused
    x[invalid] = np.nan
    return x


def sincos_ps(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``sincos256_ps``: (sin x, cos x) for float32 x, Cephes range reduction by pi/4."""
    x = np.asarray(x, np.float32)
    sign_sin = x.view(np.uint32) & _SIGN
    x = np.abs(x)
    j = (x * _FOPI).astype(np.int32)  # _mm256_cvttps_epi32 truncates
    j = (j + 1) & ~1
    y = j.astype(np.float32)
    sign_sin = sign_sin ^ ((j & 4) << 29).astype(np.uint32)
    sign_cos = ((~(j - 2) & 4) << 29).astype(np.uint32)
    poly_mask = (j & 2) == 0
    # extended precision modular arithmetic x = ((x - y*DP1) - y*DP2) - y*DP3, each step fused
    for dp in _DP:
        x = fma32(y, dp, x)
    z = x * x
    # cosine polynomial, valid for 0 <= x <= pi/4
    yc = fma32(_COSCOF[0], z, _COSCOF[1])
    yc = fma32(yc, z, _COSCOF[2])
    yc = yc * z
    yc = fma32(yc, z, -(z * _HALF))  # y*z - z*0.5: GCC fuses y*z into a vfmsub
    yc = yc + _ONE
    # sine polynomial
    ys = fma32(_SINCOF[0], z, _SINCOF[1])
    ys = fma32(ys, z, _SINCOF[2])
    ys = ys * z
    ys = fma32(ys, x, x)
    # select per lane, keeping avx_mathfun's add/sub sequence so signed zeros match
    ysin2 = np.where(poly_mask, ys, _f(0))
    ysin1 = np.where(poly_mask, _f(0), yc)
    s = ysin1 + ysin2
    c = (yc - ysin1) + (ys - ysin2)
    s = (s.view(np.uint32) ^ sign_sin).view(np.float32)
    c = (c.view(np.uint32) ^ sign_cos).view(np.float32)
    return s, c
