"""Compiled float32 Adam/AdamW update of one parameter: the numpy kernel's operations, in its
order and rounding (float32 throughout, no fused multiply-adds), in two passes instead of
~12. Two loops, not one: with three arrays written in one loop, LLVM's alias checks exceed
its budget and the loop stays scalar (slower than numpy)."""
from __future__ import annotations

import math

import numpy as np
from numba import njit


@njit(cache=True, nogil=True, error_model="numpy")
def _moments(g, m, v, sign, lerp_small, weight, beta2, one_minus_beta2):
    for i in range(g.size):
        gi = g[i] * sign                                   # * -1 for maximize: exact
        t = gi - m[i]
        m[i] = m[i] + t * weight if lerp_small else gi - t * weight
        v[i] = v[i] * beta2 + gi * gi * one_minus_beta2


@njit(cache=True, nogil=True, error_model="numpy")
def _coupled_decay(g, p, sign, wd, out):
    for i in range(g.size):
        out[i] = g[i] * sign + wd * p[i]


@njit(cache=True, nogil=True, error_model="numpy")
def _amsgrad(vmax, v):
    for i in range(v.size):
        top, vi = vmax[i], v[i]
        vmax[i] = vi if vi >= top or vi != vi else top     # np.maximum: nan wins


@njit(cache=True, nogil=True, error_model="numpy")
def _update(p, m, v, decay, bias_correction2_sqrt, eps, step_size):
    for i in range(p.size):
        root = np.float32(math.sqrt(np.float64(v[i])))      # rounded once, as float32's sqrt
        p[i] = p[i] * decay - m[i] / (root / bias_correction2_sqrt + eps) * step_size


def adam(p, g, m, v, vmax, sign, decay, wd, lerp_small, weight, beta2, one_minus_beta2,
         bias_correction2_sqrt, eps, step_size):
    """One parameter's step; scalars are float32 (numpy casts the numpy kernel's Python floats
    so); decay is 1 - lr * wd for AdamW (then wd is 0), else 1; sign is -1 to maximize."""
    if wd != 0:                 # Adam's L2 term; AdamW passes wd 0 and decays p instead
        decayed = np.empty_like(g)
        _coupled_decay(g, p, sign, wd, decayed)
        g, sign = decayed, np.float32(1)
    _moments(g, m, v, sign, lerp_small, weight, beta2, one_minus_beta2)
    if vmax is not None:
        _amsgrad(vmax, v)
        v = vmax
    _update(p, m, v, decay, bias_correction2_sqrt, eps, step_size)
