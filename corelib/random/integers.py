"""Integer draws: ``random_`` (with and without bounds, so ``randint``) and ``randperm``.

Transforms copy aten/src/ATen/core/TransformationHelper.h (``uniform_int``,
``uniform_int_from_to``, ``uniform_int_full_range``), the bound checks copy
native/DistributionTemplates.h (``random_from_to_impl``, ``update_from``/``update_to``,
``check_from_to_in_range``) and ``randperm_cpu`` copies native/TensorFactories.cpp.
"""
from __future__ import annotations

import math
import warnings

import numpy as np

from . import dtypes

__all__ = ["plan", "random_", "randperm"]

_I64_MIN, _I64_MAX = -(1 << 63), (1 << 63) - 1
_U64 = (1 << 64) - 1
_DIGITS = {"float16": 11, "bfloat16": 8, "float32": 24, "float64": 53}
# randperm keeps torch's old Fisher-Yates below this n (uint32 max / 20)
_RANDPERM_SMALL = 0xFFFFFFFF // 20


def _int_limits(dt: np.dtype) -> tuple[int, int]:
    return (0, 1) if dt == np.bool_ else (int(np.iinfo(dt).min), int(np.iinfo(dt).max))


def _cast_from_int64(values: np.ndarray, dt: np.dtype) -> np.ndarray:
    """``static_cast<T>(int64)``; Half has no int constructor, so it rounds through float."""
    if dt in dtypes.REDUCED:
        return values.astype(np.float32).astype(dt)
    return values.astype(dt)


def _through_float(v: int, dt: np.dtype) -> int:
    """``static_cast<int64_t>(static_cast<scalar_t>(v))`` for a float scalar_t (x86: NaN/inf/overflow -> INT64_MIN)."""
    with np.errstate(over="ignore"):
        f = float(_cast_from_int64(np.array([v], np.int64), dt)[0])
    return int(f) if np.isfinite(f) and -2.0 ** 63 <= f < 2.0 ** 63 else _I64_MIN


def _update_from(frm: int, dt: np.dtype) -> int:
    """Smallest from' >= from whose dtype rounding stays >= from (update_from)."""
    plus1 = _through_float(frm + 1, dt)
    if plus1 < frm:
        n = max(abs(frm + 1).bit_length() - 1, 0)
        frm = plus1 + (1 << (n - _DIGITS[dt.name] + 1))
    return frm


def _update_to(to: int, dt: np.dtype) -> int:
    """Largest to' <= to whose dtype rounding of to' - 1 stays < to (update_to)."""
    minus1 = _through_float(to - 1, dt)
    if minus1 >= to:
        n = max(abs(to - 1).bit_length() - 1, 0)
        to = minus1 - (1 << (n - _DIGITS[dt.name] + 1))
    return to


def _check_in_range(frm: int, to_inc: int, dt: np.dtype) -> None:
    """check_from_to_in_range: bounds error, plus torch's precision warning for float dtypes."""
    if dt in dtypes.FLOATS:
        info = np.finfo(dt) if dt.kind == "f" else dtypes.ml_finfo(dt)
        lo, hi = float(info.min), float(info.max)
    else:
        lo, hi = _int_limits(dt)
    for name, v in (("from", frm), ("to - 1", to_inc)):
        if not lo <= v <= hi:
            raise RuntimeError(f"{name} is out of bounds for {dtypes.cpp_name(dt)}")
    if dt in dtypes.FLOATS:
        d = _DIGITS[dt.name]
        for name, v in (("from", frm), ("to - 1", to_inc)):
            if v < -(1 << d) or v > (1 << d):
                warnings.warn(f"{name} is out of bounds [-(2^{d}), 2^{d}]. Due to precision limitations "
                              f"{dtypes.cpp_name(dt)} can support discrete uniform distribution only within "
                              "this range. This warning will become an error in version 1.7 release, "
                              "please fix the code in advance", UserWarning, stacklevel=4)


def plan(dt: np.dtype, low: int | None = None, high: int | None = None) -> tuple[int, int, int]:
    """``(bits, span, base)`` of ``random_(low, high)`` on ``dt``, after torch's checks and warnings.

    Each element draws one ``random()`` (bits=32) or ``random64()`` (bits=64) value ``v`` and
    is ``(v % span if span else v) + base`` modulo 2**64, read as int64 and cast to ``dt``
    (torch's ``uniform_int*`` transforms).  The device kernel ``mt19937_generate`` takes these
    numbers as its 'integer' transform, so host and device share one source of truth.
    """
    if low is None and high is None:
        # random_() without bounds: uniform_int<T>, [0, 2**digits] for floats, [0, max] for
        # ints; random64 for int64/double only, and bool is random() & 1 (== % 2)
        if dt == np.bool_:
            return 32, 2, 0
        bits = 64 if dt in (np.dtype("int64"), np.dtype("float64")) else 32
        mod = (1 << _DIGITS[dt.name]) + 1 if dt in dtypes.FLOATS else _int_limits(dt)[1] + 1
        return bits, mod, 0
    frm = 0 if low is None else int(low)
    is_float = dt in dtypes.FLOATS
    if high is not None:
        to = int(high)
        if not frm < to:
            raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={frm} >= to={to}")
        if is_float:
            frm, to = _update_from(frm, dt), _update_to(to, dt)
            if not frm < to:
                raise RuntimeError("random_ expects 'from' casted to dtype to be less than 'to' casted to dtype, "
                                   f"but got from={frm} >= to={to}")
        _check_in_range(frm, to - 1, dt)
        span = (to - frm) & _U64
    elif frm != _I64_MIN:
        if is_float:
            to_inc = min(1 << _DIGITS[dt.name], _I64_MAX)
            frm = _update_from(frm, dt)
            if not frm < to_inc:
                raise RuntimeError("random_ expects 'from' casted to dtype to be less than or equal to 'to_inc' "
                                   f"casted to dtype, but got from={frm} > to_inc={to_inc}")
        else:
            to_inc = _int_limits(dt)[1]
        _check_in_range(frm, to_inc, dt)
        span = (to_inc - frm + 1) & _U64
    else:
        # [int64 min, int64 max]: random_full_64_bits_range_kernel, uniform_int_full_range
        if dt.name not in ("int64", "float64", "float32", "bfloat16"):
            raise RuntimeError("random_full_64_bits_range_kernel_cpu handles only int64, double, float and bfloat16")
        return 64, 0, 0
    # uniform_int_from_to_distribution: ranges of 2**28 and up draw random64 (any dtype) to
    # bound the modulo skew, smaller ones one random().  Measured on torch 2.13, which no
    # longer uses the older 2**32 cut.
    return (64 if span >= 1 << 28 else 32), span, frm


def random_(engine, n: int, dt: np.dtype, low: int | None = None, high: int | None = None) -> np.ndarray:
    """``Tensor.random_()``, ``random_(to)`` (low=0) and ``random_(from, to)``; ``high=None`` with a
    ``low`` means [low, dtype max].  ``randint(low, high)`` is ``random_(low, high)``."""
    bits, span, base = plan(dt, low, high)
    if n == 0:
        return np.empty(0, dt)
    val = engine.random64(n) if bits == 64 else engine.random32(n).astype(np.uint64)
    if span:
        with np.errstate(over="ignore"):
            val = (val % np.uint64(span)) + np.uint64(base & _U64)  # unsigned wrap, as in C++
    return _cast_from_int64(val.view(np.int64), dt)


def _check_randperm(n: int, dt: np.dtype) -> None:
    if n < 0:
        raise RuntimeError(f"Trying to create tensor with negative dimension {n}: [{n}]")
    if dt == np.bool_:
        raise dtypes.not_implemented("randperm", dt)
    if dt in dtypes.FLOATS:  # check_supported_max_int_with_precision
        d = _DIGITS[dt.name]
        if n > (1 << d) + 1:
            limit = "2049" if d == 11 else f"2^{d}+1"
            raise RuntimeError(f"n cannot be greater than {limit} for {dtypes.scalar_name(dt)} type.")
    elif max(n - 1, 0) > _int_limits(dt)[1]:
        raise RuntimeError(f"value cannot be converted to type {dt.name}_t without overflow")


_PLAIN_SWAPS_BELOW = 300_000


def _swap_sequence(n: int, picks: np.ndarray) -> np.ndarray:
    """``for i: swap(r[i], r[picks[i]])`` over ``r = arange(n)``, with ``picks[i] >= i``.

    Consecutive swaps whose positions are all distinct are disjoint transpositions, so a run
    of them is applied as two fancy-index assignments; a run ends where a later step's
    position was already touched.  Runs average about sqrt(n - i) steps, so 1M elements
    take ~2000 numpy rounds instead of 1M Python swaps.
    """
    if n < _PLAIN_SWAPS_BELOW:
        # a plain Python loop is faster until the vectorised runs amortise (measured: 0.1 ms
        # vs 0.8 ms at n=1797, 29 vs 43 ms at n=200k, 530 vs 190 ms at n=1M)
        r = list(range(n))
        for k, z in enumerate(picks.tolist()):
            r[k], r[z] = r[z], r[k]
        return np.array(r, dtype=np.int64)
    r = np.arange(n, dtype=np.int64)
    steps = len(picks)
    i = 0
    while i < steps:
        if steps - i < 64:
            rest = r.tolist()
            for k, z in zip(range(i, steps), picks[i:].tolist()):
                rest[k], rest[z] = rest[z], rest[k]
            return np.array(rest, dtype=np.int64)
        width = min(steps - i, max(32, int(3 * math.sqrt(n - i))))
        idx = np.arange(i, i + width)
        z = picks[i:i + width]
        # step t may join while no earlier step in the run targets a position in [t, run end)
        targets = np.minimum.accumulate(np.where(z > idx, z, n))
        clash = np.flatnonzero(idx[1:] >= targets[:-1])
        end = width if clash.size == 0 else int(clash[0]) + 1
        # ...and while its target is not shared with an earlier step of the run
        order = np.argsort(z[:end], kind="stable")
        dup = np.flatnonzero(z[:end][order][1:] == z[:end][order][:-1])
        if dup.size:
            end = min(end, int(order[dup + 1].min()))
        ii, zz = idx[:end], z[:end]
        r[ii], r[zz] = r[zz], r[ii]
        i += end
    return r


def randperm(engine, n: int, dt: np.dtype) -> np.ndarray:
    """``randperm_cpu``: Fisher-Yates with ``random() % (n - i)``; inside-out with random64 for huge n."""
    n = int(n)
    _check_randperm(n, dt)
    if n < _RANDPERM_SMALL:
        offsets = np.arange(max(n - 1, 0), dtype=np.int64)
        picks = engine.random32(len(offsets)).astype(np.int64) % (n - offsets) + offsets
        return _cast_from_int64(_swap_sequence(n, picks), dt)
    # The inside-out variant is a plain Python loop here: correct, but minutes long at this size.
    perm = [0] * n
    draws = engine.random64(n)
    for i in range(n):
        z = int(draws[i]) % (i + 1)
        perm[i] = perm[z]
        perm[z] = i
    return _cast_from_int64(np.array(perm, dtype=np.int64), dt)
