"""The ``cuda`` backend: CuPy, registered through the ``plugrad.backends`` entry point.

It reuses the array-module implementation it shares with numpy (:mod:`plugrad.backends.xp`)
and adds the CUDA runtime (devices, streams, memory) and fused CuPy kernels.
Importing this module is cheap: CuPy is imported only by ``is_available`` and ``load``.
"""
from __future__ import annotations

import functools

from ..plugins import BackendSpec, hookimpl


@functools.lru_cache(maxsize=None)
def _probe():
    """(cupy module or None, reason it is unusable or None), computed once."""
    try:
        import cupy
    except Exception as exc:  # ImportError, or a broken CUDA install raising at import
        return None, f"cupy not importable: {type(exc).__name__}: {exc}"
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as exc:
        return None, f"no CUDA device: {type(exc).__name__}: {exc}"
    if count < 1:
        return None, "no CUDA device: cupy sees 0 devices"
    return cupy, None


def is_available():
    cupy, reason = _probe()
    return True if cupy is not None else reason


def device_count():
    cupy, _ = _probe()
    return cupy.cuda.runtime.getDeviceCount() if cupy is not None else 0


def load():
    from .cuda_runtime import CupyBackend
    cupy, reason = _probe()
    if cupy is None:
        raise RuntimeError(reason)
    return CupyBackend(cupy)


@hookimpl
def plugrad_backends():
    yield BackendSpec(name="cuda", load=load, priority=10, aliases=("gpu",),
                      is_available=is_available, device_count=device_count,
                      description="CuPy on NVIDIA GPUs")
