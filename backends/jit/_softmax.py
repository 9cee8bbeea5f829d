"""Compiled float32 softmax along the last axis of a (rows, n) C-contiguous array: the max,
the exponentials and their sum per row while it sits in cache, instead of numpy's five
passes over the whole array."""
from __future__ import annotations

import numpy as np
from numba import njit

from ._scalar import bits_float32, exp_nonpositive, float32_bits


@njit(inline="always", error_model="numpy")
def _order_key(v):
    """An int64 ordered as the float32 v is (nan above +inf), so the max vectorizes."""
    bits = float32_bits(v)
    return bits ^ ((bits >> 31) & 0x7FFFFFFF)


@njit(cache=True, nogil=True, error_model="numpy")
def _row_max(row):
    top = _order_key(row[0])
    for j in range(1, row.size):
        key = _order_key(row[j])
        top = key if key > top else top
    return bits_float32(top ^ ((top >> 31) & 0x7FFFFFFF))


@njit(cache=True, nogil=True, error_model="numpy", fastmath={"reassoc", "contract"})
def _row_sum(row):
    total = 0.0
    for j in range(row.size):
        total += row[j]
    return total


@njit(cache=True, nogil=True, error_model="numpy")
def softmax(x, out):
    rows, n = x.shape
    for i in range(rows):
        row, dest = x[i], out[i]
        # a nan anywhere makes the sum nan, so the whole row is nan, as numpy's and torch's
        top = _row_max(row)
        for j in range(n):
            dest[j] = np.float32(exp_nonpositive(np.float64(row[j] - top)))
        total = np.float32(_row_sum(dest))
        for j in range(n):
            dest[j] = dest[j] / total
