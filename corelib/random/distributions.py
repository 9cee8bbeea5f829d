"""Continuous transforms over the engine's draws: uniform_, normal_, bernoulli.

Each function copies one CPU kernel of torch 2.13 and cites it; ``n`` is the element
count, results are flat arrays in C order (torch's serial kernels fill contiguous
outputs in that order).
"""
from __future__ import annotations

import numpy as np

from . import dtypes
from .fma import fma32, fma64
from .normal import normal_array

__all__ = ["uniform", "normal", "bernoulli", "cfmt", "check_uniform", "check_p"]


def cfmt(x) -> str:
    """A number as C++'s ``operator<<`` prints it in TORCH_CHECK messages (``%g``)."""
    return "%g" % x if isinstance(x, float) else str(x)


def _limits(dt: np.dtype) -> tuple[float, float]:
    info = np.finfo(dt) if dt.kind == "f" else dtypes.ml_finfo(dt)
    return float(info.min), float(info.max)


def check_uniform(dt: np.dtype, low: float, high: float) -> tuple[float, float]:
    """``uniform_impl_``'s checks (native/DistributionTemplates.h); (low, high) as floats."""
    if dt not in dtypes.FLOATS:
        raise dtypes.not_implemented("check_uniform_bounds", dt)
    low, high = float(low), float(high)
    lo_lim, hi_lim = _limits(dt)
    for name, v in (("from", low), ("to", high)):
        if not lo_lim <= v <= hi_lim:
            raise RuntimeError(f"{name} is out of bounds for {dtypes.cpp_name(dt)}")
    if low > high:
        raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found from={cfmt(low)} > to={cfmt(high)}")
    if high - low > hi_lim:
        raise RuntimeError(f"uniform_ expects to-from <= std::numeric_limits<{dtypes.scalar_name(dt)}>::max(), "
                           f"but found to={cfmt(high)} and from={cfmt(low)} which result in to-from to exceed the limit")
    return low, high


def uniform(engine, n: int, dt: np.dtype, low: float = 0.0, high: float = 1.0) -> np.ndarray:
    """``uniform_impl_`` checks + cpu ``uniform_kernel``."""
    low, high = check_uniform(dt, low, high)
    if dt == np.float64:
        # uniform_real<double>: 53 bits of random64; x * (to - from) + from, fused by GCC
        out = engine.unit_double(n)
        if (low, high) != (0.0, 1.0):  # x * 1 + 0 is x: skip the costly exact fma
            out = fma64(out, high - low, low)
            out[out == high] = low  # rounded up to `to`: replaced by `from` (measured)
        return out
    # float and half compute in float (opmath): 24 bits of random(), then one cast
    f, t = np.float32(low), np.float32(high)
    out = engine.unit_float(n)
    if (f, t) != (0.0, 1.0):
        out = fma32(out, t - f, f)
    out = out.astype(dt, copy=False)
    if (f, t) != (0.0, 1.0) or dt in dtypes.REDUCED:
        # a value that rounded up to `to` is replaced by `from` (measured); Half rounds via float
        out[out == t.astype(dt)] = f.astype(dt)
    return out


def normal(engine, n: int, dt: np.dtype, mean: float = 0.0, std: float = 1.0) -> np.ndarray:
    """``normal_impl_`` check + cpu ``normal_kernel``; see normal.py for the three paths."""
    if dt not in dtypes.FLOATS:
        raise dtypes.not_implemented("normal_kernel_cpu", dt)
    if not float(std) >= 0.0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {cfmt(float(std))}")
    return normal_array(engine, n, dt, mean, std)


def check_p(p) -> float:
    """``bernoulli_(float p)``'s check: p in [0, 1] (nan fails), returned as a float."""
    p = float(p)
    if not 0.0 <= p <= 1.0:
        raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={cfmt(p)}")
    return p


def bernoulli(engine, p, shape: tuple[int, ...], dt: np.dtype) -> np.ndarray:
    """``bernoulli_kernel`` (native/cpu/DistributionTemplates.h): one uniform per element, ``u < p``.

    A Python float p (``Tensor.bernoulli_(p)``) and a float64 array use
    ``bernoulli_distribution<double>`` (random64, 53 bits); float32/float16 arrays use
    ``bernoulli_distribution<float>`` (random(), 24 bits).  This torch build takes the
    generic kernel, not MKL's VSL stream: it consumes two 32-bit draws per element (measured).
    """
    n = int(np.prod(shape, dtype=np.int64))
    if not isinstance(p, np.ndarray):
        p = check_p(p)
        u = engine.unit_double(n)
        return (u < p).astype(dt).reshape(shape)
    if p.dtype not in dtypes.FLOATS:
        raise dtypes.not_implemented("bernoulli_tensor_cpu_p_", dtypes.resolve(p.dtype))
    try:
        p = np.broadcast_to(p, shape)  # expand_inplace(self, p)
    except ValueError:
        raise RuntimeError(f"bernoulli_: p of shape {list(p.shape)} cannot be expanded to {list(shape)}") from None
    if n and not ((p >= 0) & (p <= 1)).all():
        # torch raises mid-loop, after drawing for the elements before the bad one; we raise first
        raise RuntimeError("Expected p_in >= 0 && p_in <= 1 to be true, but got false.")
    flat = p.reshape(-1)
    if p.dtype == np.float64:
        u = engine.unit_double(n)
    else:
        u = engine.unit_float(n)
        flat = flat.astype(np.float32)
    return (u < flat).astype(dt).reshape(shape)
