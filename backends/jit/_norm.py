"""Compiled float32 layer norm, forward and backward, over (rows, n) C-contiguous arrays.

Row statistics accumulate in float64 (torch's and the numpy kernels' are float32 sums, so the
results agree within float32 rounding); the per-element float32 arithmetic keeps torch's
order: out = (x * rstd + (-mean * rstd)) * weight + bias.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

# only the row and column sums may be reassociated (so LLVM vectorizes them); the per-element
# formulas are compiled without it, in the written order
SUMS = {"reassoc", "contract"}


@njit(cache=True, nogil=True, error_model="numpy", fastmath=SUMS)
def _row_moments(row):
    """(mean, biased variance) of a float32 row, two passes in float64."""
    n = row.size
    total = 0.0
    for j in range(n):
        total += row[j]
    mean = total / n
    squares = 0.0
    for j in range(n):
        d = row[j] - mean
        squares += d * d
    return mean, squares / n


@njit(cache=True, nogil=True, error_model="numpy")
def layer_norm(x, weight, bias, eps, out, mean, rstd):
    rows, n = x.shape
    for i in range(rows):
        m, var = _row_moments(x[i])
        m32 = np.float32(m)
        r32 = np.float32(1.0 / math.sqrt(var + eps))
        mean[i], rstd[i] = m32, r32
        shift = -m32 * r32
        for j in range(n):
            y = x[i, j] * r32 + shift
            if weight is not None:
                y = y * weight[j]
            if bias is not None:
                y = y + bias[j]
            out[i, j] = y


@njit(cache=True, nogil=True, error_model="numpy", fastmath=SUMS)
def _row_sums(gw, xhat):
    """(sum(gw), sum(gw * xhat)) of two float32 rows, in float64."""
    s, p = 0.0, 0.0
    for j in range(gw.size):
        s += gw[j]
        p += np.float64(gw[j]) * xhat[j]
    return s, p


@njit(cache=True, nogil=True, error_model="numpy", fastmath=SUMS)
def _add_columns(dweight, dbias, g, xhat):
    for j in range(g.size):
        dweight[j] += np.float64(g[j]) * xhat[j]
        dbias[j] += g[j]


@njit(cache=True, nogil=True, error_model="numpy")
def layer_norm_backward(g, x, weight, mean, rstd, dx, dweight, dbias):
    """dx (rows, n) float32; dweight, dbias (n,) float64 sums, zeroed by the caller."""
    rows, n = x.shape
    xhat = np.empty(n, np.float32)
    gw = np.empty(n, np.float32)
    for i in range(rows):
        r32 = rstd[i]
        shift = -mean[i] * r32
        for j in range(n):
            xhat[j] = x[i, j] * r32 + shift
            gw[j] = g[i, j] * weight[j] if weight is not None else g[i, j]
        _add_columns(dweight, dbias, g[i], xhat)
        s, p = _row_sums(gw, xhat)
        proj = np.float32(p / n)
        mean_gw = np.float32(s / n)
        # the numpy kernel's order: ((gw - xhat * proj) - mean(gw)) * rstd
        for j in range(n):
            dx[i, j] = ((gw[j] - xhat[j] * proj) - mean_gw) * r32
