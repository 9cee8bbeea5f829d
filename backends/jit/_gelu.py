"""Compiled float32 erf, exact gelu and its backward: one pass each over 1-d contiguous arrays.

The float32 arithmetic follows torch's operation order and the numpy kernels' (x * 0.5 *
(1 + erf(x * M_SQRT1_2))); erf itself is float64 inside (:mod:`._scalar`) and rounded once.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

from ._scalar import erf_abs, exp_nonpositive

SQRT1_2 = np.float32(0.7071067811865476)
HALF = np.float32(0.5)
MINUS_HALF = np.float32(-0.5)
ONE = np.float32(1.0)
BETA = np.float32(0.3989422804014327)          # 1 / sqrt(2 pi), torch's kBeta * M_SQRT1_2


@njit(inline="always", error_model="numpy")
def _erf32(u):
    """erf of a float32, the sign put back by copysign (so erf(-0.0) == -0.0)."""
    v = np.float64(u)
    return np.float32(math.copysign(erf_abs(abs(v)), v))


@njit(cache=True, nogil=True, error_model="numpy", fastmath={"contract"})
def erf(x, out):
    for i in range(x.size):
        out[i] = _erf32(x[i])


@njit(cache=True, nogil=True, error_model="numpy", fastmath={"contract"})
def gelu(x, out, cdf):
    for i in range(x.size):
        xi = x[i]
        one_plus = _erf32(xi * SQRT1_2) + ONE
        out[i] = xi * HALF * one_plus
        cdf[i] = one_plus * HALF


@njit(cache=True, nogil=True, error_model="numpy", fastmath={"contract"})
def gelu_backward(g, x, cdf, out):
    for i in range(x.size):
        xi = x[i]
        e = np.float32(exp_nonpositive(np.float64(xi * xi * MINUS_HALF)))
        out[i] = g[i] * (cdf[i] + e * BETA * xi)
