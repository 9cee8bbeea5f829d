"""Compiled ``x[rows] += values`` for float32 (the embedding backward): numpy's ``add.at``
walks the rows one at a time through its generic machinery; this adds them in the same
order, so the sums are bitwise numpy's."""
from __future__ import annotations

from numba import njit


@njit(cache=True, nogil=True, error_model="numpy")
def rows_in_range(rows, n):
    for r in rows:
        if r < -n or r >= n:
            return False
    return True


@njit(cache=True, nogil=True, error_model="numpy")
def add_rows(x, rows, values):
    """x (n, m), rows (k,) all within [-n, n), values (k, m): x[rows[i]] += values[i] in order."""
    n, m = x.shape
    for i in range(rows.size):
        r = rows[i]
        if r < 0:
            r += n
        for j in range(m):
            x[r, j] += values[i, j]
