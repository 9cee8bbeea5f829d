"""Exact fused multiply-add for numpy arrays (numpy has no ``fma`` ufunc).

torch's CPU kernels are compiled with ``-mfma`` and GCC's default ``-ffp-contract=fast``,
so ``a * b + c`` in a kernel usually becomes one ``vfmadd`` with a single rounding.  To get
the same bits we emulate that single rounding:

* float32: the product of two floats is exact in float64, and the float64 sum rounds to the
  same float as the exact sum unless it lands exactly halfway between two floats (or in
  float32's subnormal range); those rare lanes are redone with round-to-odd, which at 53
  bits followed by round-to-nearest at 24 bits equals one rounding.
* float64: the product is split exactly (Veltkamp/Dekker) and the low parts are joined with
  round-to-odd (Boldo & Melquiond, "Emulation of FMA and correctly rounded sums: proved
  algorithms using rounding to odd", IEEE TC 2008).
Exact for finite inputs away from overflow and the subnormal range, which covers every
value the random transforms feed it.
"""
from __future__ import annotations

import math

import numpy as np

__all__ = ["fma32", "fma64"]

_CHUNK = 1 << 16
_SPLIT = np.float64(134217729.0)  # 2**27 + 1, Veltkamp's splitter for binary64
_LOW29 = np.uint64((1 << 29) - 1)  # the float64 mantissa bits below float32's...
_HALF29 = np.uint64(1 << 28)  # ...when they hold exactly half a float32 ulp


def _two_sum(a, b):
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


def _two_prod(a, b):
    p = a * b
    t = _SPLIT * a
    ah = t - (t - a)
    al = a - ah
    t = _SPLIT * b
    bh = t - (t - b)
    bl = b - bh
    return p, ((ah * bh - p) + ah * bl + al * bh) + al * bl


def _round_to_odd(s, err):
    """Move the round-to-nearest sum ``s`` to its odd neighbour on the side of ``err`` when inexact."""
    bits = s.view(np.int64)
    even_inexact = (err != 0) & ((bits & 1) == 0)
    # int64 bits of a double are sign-magnitude: +1 grows |s|, -1 shrinks it
    step = np.where((err > 0) == (s > 0), 1, -1)
    return np.where(even_inexact, bits + step, bits).view(np.float64)


def _chunked(kernel, a, b, c) -> np.ndarray:
    """Run ``kernel`` over 64K-element slices: its dozen passes then stay in cache (~4x faster)."""
    shape = np.broadcast_shapes(np.shape(a), np.shape(b), np.shape(c))
    n = math.prod(shape)
    if n <= _CHUNK:
        return kernel(a, b, c)
    args = [np.broadcast_to(x, shape).reshape(-1) if np.ndim(x) else x for x in (a, b, c)]
    parts = [kernel(*(x[i:i + _CHUNK] if np.ndim(x) else x for x in args)) for i in range(0, n, _CHUNK)]
    return np.concatenate(parts).reshape(shape)


def _fma32(a, b, c) -> np.ndarray:
    p = np.multiply(a, b, dtype=np.float64)  # exact: 24 + 24 bits
    s = np.asarray(np.add(p, c, dtype=np.float64))
    out = s.astype(np.float32)
    suspect = np.bitwise_and(s.view(np.uint64), _LOW29) == _HALF29
    suspect |= np.abs(s) < 2.0 ** -125
    if suspect.any():
        p = np.broadcast_to(p, s.shape)[suspect]
        c = np.broadcast_to(np.asarray(c, np.float64), s.shape)[suspect]
        s2, err = _two_sum(p, c)
        out[suspect] = _round_to_odd(s2, err).astype(np.float32)
    return out


def _fma64(a, b, c) -> np.ndarray:
    a, b, c = (np.asarray(x, np.float64) for x in (a, b, c))
    ph, pl = _two_prod(a, b)
    th, tl = _two_sum(c, ph)
    v, verr = _two_sum(tl, pl)
    return np.asarray(th + _round_to_odd(np.asarray(v), np.asarray(verr)))


def fma32(a, b, c) -> np.ndarray:
    """float32 ``a * b + c`` with one rounding, like ``_mm256_fmadd_ps``; inputs hold float32 values."""
    return _chunked(_fma32, a, b, c)


def fma64(a, b, c) -> np.ndarray:
    """float64 ``a * b + c`` with one rounding, like ``vfmadd213sd``."""
    return _chunked(_fma64, a, b, c)
