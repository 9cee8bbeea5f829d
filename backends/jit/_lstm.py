"""Compiled float32 LSTM cell, forward and backward: one pass over a time step's gates
where numpy makes about a dozen. Gates are (rows, 4H) in the order i, f, g, o; states
(rows, H); all C-contiguous.

sigmoid and tanh are evaluated in float64 from :func:`._scalar.exp_nonpositive` (no libm
call) and rounded once to float32; the cell arithmetic is float32 in the numpy kernel's
order (c' = f * c + i * g, h = o * tanh(c'); the backward's products as backends/xp/nn.py
writes them). ``error_model="numpy"``: with Python's (a zero check before every division)
LLVM does not vectorize the loops, 4x slower.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

from ._scalar import exp_nonpositive

ONE = np.float32(1.0)
FLAGS = dict(fastmath={"contract"}, error_model="numpy")


@njit(inline="always", **FLAGS)
def _sigmoid(u):
    """1 / (1 + exp(-u)) of a float32, through exp of a non-positive argument."""
    v = np.float64(u)
    e = exp_nonpositive(-abs(v))
    s = 1.0 / (1.0 + e)
    return np.float32(s if v >= 0.0 else e * s)


@njit(inline="always", **FLAGS)
def _tanh(u):
    """tanh of a float32: (1 - e) / (1 + e) with e = exp(-2|u|), its odd series near 0
    (where 1 - e cancels)."""
    v = np.float64(u)
    a = abs(v)
    e = exp_nonpositive(-2.0 * a)
    z = v * v
    small = v * (1.0 - z * (1.0 / 3.0 - z * (2.0 / 15.0 - z * (17.0 / 315.0))))
    return np.float32(small if a < 1e-3 else math.copysign((1.0 - e) / (1.0 + e), v))


@njit(inline="always", **FLAGS)
def _sigmoids(pre_a, pre_b, out, lo, hi):
    """out[lo:hi] = sigmoid(pre_b + pre_a): three arrays a loop, which LLVM vectorizes (a
    loop over all nine arrays of a step it does not)."""
    for j in range(lo, hi):
        out[j] = _sigmoid(pre_b[j] + pre_a[j])


@njit(inline="always", **FLAGS)
def _tanhs(pre_a, pre_b, out, lo, hi):
    for j in range(lo, hi):
        out[j] = _tanh(pre_b[j] + pre_a[j])


@njit(cache=True, nogil=True, **FLAGS)
def lstm_cell(ig, hg, c, h_out, c_out, ws):
    rows, h = c.shape
    for r in range(rows):
        a, b, w = ig[r], hg[r], ws[r]
        _sigmoids(a, b, w, 0, 2 * h)
        _tanhs(a, b, w, 2 * h, 3 * h)
        _sigmoids(a, b, w, 3 * h, 4 * h)
        _cell(w, c[r], c_out[r], h_out[r], h)


@njit(inline="always", **FLAGS)
def _cell(w, cr, co, ho, h):
    for k in range(h):
        cn = w[h + k] * cr[k] + w[k] * w[2 * h + k]
        co[k] = cn
        ho[k] = w[3 * h + k] * _tanh(cn)


@njit(cache=True, nogil=True, **FLAGS)
def lstm_cell_backward(gh, gc, c, cn, ws, dgates, dc_prev):
    rows, h = c.shape
    for r in range(rows):
        w, d, dp = ws[r], dgates[r], dc_prev[r]
        _output_gate(w, gh[r], gc[r], cn[r], d, dp, h)
        _cell_gates(w, c[r], d, dp, h)


@njit(inline="always", **FLAGS)
def _output_gate(w, ghr, gcr, cnr, d, dp, h):
    """d(o) into d, the cell state's gradient dcell into dp (finished by _cell_gates)."""
    for k in range(h):
        go = w[3 * h + k]
        tc = _tanh(cnr[k])
        dh = ghr[k]
        dp[k] = ((ONE - tc * tc) * go) * dh + gcr[k]
        d[3 * h + k] = (((ONE - go) * go) * tc) * dh


@njit(inline="always", **FLAGS)
def _cell_gates(w, cr, d, dp, h):
    for k in range(h):
        gi, gf, gg = w[k], w[h + k], w[2 * h + k]
        dcell = dp[k]
        d[k] = (((ONE - gi) * gi) * gg) * dcell
        d[h + k] = (((ONE - gf) * gf) * cr[k]) * dcell
        d[2 * h + k] = ((ONE - gg * gg) * gi) * dcell
        dp[k] = dcell * gf
