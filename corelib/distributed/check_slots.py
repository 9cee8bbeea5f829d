"""The cross-rank argument check carried inside a small all-reduce's own message.

A separate check collective costs a second round trip, which for small all-reduces is as long
as the data's own. Instead a few slots appended to the data carry a hash of the call's
signature, and the reduction itself says whether every rank sent the same one:

- MAX and MIN: each digit ``d`` of the hash and ``-d``; max(d) == d and max(-d) == -d hold
  together only when every rank's ``d`` is the same (likewise for MIN);
- SUM (and AVG before its division): each digit and its square; sum(d) == n d and
  sum(d^2) == n d^2 hold together only when every rank's ``d`` is ``d`` (Cauchy-Schwarz).

Digits are small enough that every sum is exact in the message's dtype, so an equal
signature always passes and a different one (hash collisions aside: 1 in 2^30) never does.
Messages whose sizes differ across ranks leave the slots misaligned, so they fail too (or MPI
reports the truncation). PRODUCT, bitwise ops and narrow dtypes keep the separate check.
"""
from __future__ import annotations

import functools
import zlib

import numpy as np

HASH_BITS = 30
_EXACT_BITS = {np.dtype(np.float32): 24, np.dtype(np.float64): 53,
               np.dtype(np.int32): 31, np.dtype(np.int64): 63}
_SIGNED = ("max", "min")


@functools.lru_cache(maxsize=256)
def slots(signature: tuple, kind: str, dtype: np.dtype, size: int):
    """``(sent, wanted)``: the slots this rank appends and what they hold after the reduction
    when every rank sent the same (both read-only); None when this dtype cannot carry them
    exactly. ``kind`` is "sum", "max" or "min"; ``size`` the number of ranks."""
    exact = _EXACT_BITS.get(np.dtype(dtype))
    if exact is None:
        return None
    bits = (exact - size.bit_length()) // 2 if kind == "sum" else exact - 1
    bits = min(bits, HASH_BITS)
    if bits < 4:
        return None
    h = zlib.crc32(np.asarray(signature, dtype=np.int64).tobytes()) & ((1 << HASH_BITS) - 1)
    count = -(-HASH_BITS // bits)           # the same on every rank, whatever the hash
    d = np.asarray([(h >> (i * bits)) & ((1 << bits) - 1) for i in range(count)], dtype=dtype)
    pair = -d if kind in _SIGNED else d * d
    sent = np.concatenate([d, pair])
    wanted = sent * size if kind == "sum" else sent.copy()
    sent.flags.writeable = wanted.flags.writeable = False
    return sent, wanted
