"""torch's normal_ on CPU: three Box-Muller variants chosen by size and dtype.

``normal_kernel`` (aten/src/ATen/native/cpu/DistributionTemplates.h) picks:

* fewer than 16 elements, any float dtype: ``at::normal_distribution<double>``
  (core/DistributionsHelper.h), one pair of 53-bit uniforms per *two* samples, the second
  sample cached in the generator (``next_double_normal_sample``, part of get_state);
* float64, 16 or more: ``normal_fill`` over ``normal_fill_16<double>`` with glibc's
  log/cos/sin; sizes not divisible by 16 redraw 16 uniforms and recompute the last 16;
* float32 / float16 / bfloat16, 16 or more: ``normal_fill_16_AVX2`` (avx_mathfun.h), run
  in float32; float32 recomputes the last 16 from 16 fresh uniforms, the reduced types
  recompute them from the leftover uniforms plus ``16 - size % 16`` fresh ones
  (measured on torch 2.13: that is what the reduced-precision branch does).

glibc is reached through Python's ``math`` module, which calls the same libm functions
torch's scalar code calls, so float64 matches bit for bit on the same machine.
"""
from __future__ import annotations

import math

import numpy as np

from .avx_mathfun import log_ps, sincos_ps
from .dtypes import REDUCED
from .fma import fma32, fma64

__all__ = ["normal_array"]

_TWO_PI = 2.0 * math.pi  # 2.0f * c10::pi<double> is computed in double
_TWO_PI_F = np.float32(_TWO_PI)  # _mm256_set1_ps(2.0f * c10::pi<double>)
_CHUNK_ROWS = 2048


def _cast(values: np.ndarray, dtype: np.dtype) -> np.ndarray:
    # static_cast<Half>(double) goes through c10::Half(float): round to float first (BFloat16
    # too)
    if dtype in REDUCED and values.dtype == np.float64:
        values = values.astype(np.float32)
    return values.astype(dtype, copy=False)


def _scalar_normals(engine, n: int, mean: float, std: float) -> np.ndarray:
    """``at::normal_distribution<double>`` n times, sharing the generator's cached sample."""
    out = np.empty(n, np.float64)
    for i in range(n):
        cached = engine.next_double_normal
        if cached is not None:
            engine.next_double_normal = None
            out[i] = cached
            continue
        u1, u2 = engine.unit_double(2).tolist()
        r = math.sqrt(-2.0 * math.log1p(-u2))
        theta = _TWO_PI * u1
        engine.next_double_normal = r * math.sin(theta)
        out[i] = r * math.cos(theta)
    return fma64(out, std, mean)  # transformation::normal: val * std + mean, fused


def _fill16_double(u: np.ndarray, mean: float, std: float) -> np.ndarray:
    """``normal_fill_16<double>`` on rows of 16 uniforms: glibc log/cos/sin via ``math``."""
    log_u1 = np.array(list(map(math.log, (1.0 - u[:, :8]).ravel().tolist())))
    radius = np.sqrt(-2.0 * log_u1)
    theta = (_TWO_PI * u[:, 8:]).ravel().tolist()
    cos = np.array(list(map(math.cos, theta)))
    sin = np.array(list(map(math.sin, theta)))
    # radius * cos(theta) * std + mean: GCC fuses the last multiply-add
    first = fma64(radius * cos, std, mean).reshape(-1, 8)
    second = fma64(radius * sin, std, mean).reshape(-1, 8)
    return np.concatenate([first, second], axis=1)


def _fill16_float(u: np.ndarray, mean: np.float32, std: np.float32) -> np.ndarray:
    """``normal_fill_16_AVX2`` on rows of 16 float32 uniforms, in cache-sized chunks.

    Its ~150 numpy passes are memory-bound on whole arrays; 2048-row chunks stay in L2
    and run about 4x faster.
    """
    if len(u) > _CHUNK_ROWS:
        return np.concatenate([_fill16_float(u[i:i + _CHUNK_ROWS], mean, std)
                               for i in range(0, len(u), _CHUNK_ROWS)])
    radius = np.sqrt(np.float32(-2.0) * log_ps(np.float32(1.0) - u[:, :8]))
    sin, cos = sincos_ps(_TWO_PI_F * u[:, 8:])
    if std == 1 and mean == 0 and not np.signbit(mean):
        # fma(n, 1, +0) is n + 0: exact, but it still turns -0.0 into +0.0
        first, second = radius * cos + np.float32(0), radius * sin + np.float32(0)
    else:
        first = fma32(radius * cos, std, mean)  # _mm256_fmadd_ps(n1, std, mean)
        second = fma32(radius * sin, std, mean)
    return np.concatenate([first, second], axis=1)


def _normal_fill(engine, n: int, mean: float, std: float, dtype: np.dtype) -> np.ndarray:
    if dtype == np.float64:
        u = engine.unit_double(n)
        fill, mean, std = _fill16_double, float(mean), float(std)
    else:
        u = engine.unit_float(n)
        fill, mean, std = _fill16_float, np.float32(mean), np.float32(std)
    full = n - n % 16
    out = np.empty(n, u.dtype)
    out[:full] = fill(u[:full].reshape(-1, 16), mean, std).ravel()
    if full != n:
        if dtype in REDUCED:
            # reduced types: the leftover uniforms, topped up with fresh ones
            fresh = engine.unit_float(16 - (n - full))
            tail = np.concatenate([u[full:], fresh])
        else:
            tail = engine.unit_double(16) if dtype == np.float64 else engine.unit_float(16)
        out[n - 16:] = fill(tail.reshape(1, 16), mean, std).ravel()
    return out


def normal_array(engine, n: int, dtype: np.dtype, mean: float = 0.0, std: float = 1.0) -> np.ndarray:
    """n samples of N(mean, std**2) in ``dtype`` (a float dtype), as torch's CPU normal_ makes them."""
    if n < 16:
        return _cast(_scalar_normals(engine, n, float(mean), float(std)), dtype)
    return _cast(_normal_fill(engine, n, mean, std, dtype), dtype)
