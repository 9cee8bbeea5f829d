"""The ``cuda`` backend: CuPy, registered through the ``plugrad.backends`` entry point.

It reuses the array-module implementation it shares with numpy (:mod:`plugrad.backends.xp`)
and adds the CUDA runtime (devices, memory statistics, peer copies) and fused CUDA kernels
(:mod:`.backend`, :mod:`.nn`, :mod:`.templates`).
Importing this module is cheap: CuPy is imported only by ``is_available`` and ``load``.
"""
from __future__ import annotations

import functools
import importlib

from ...plugins import BackendSpec, hookimpl

INSTALL_HINT = ("install CuPy for your CUDA version: pip install 'plugrad[cuda]' "
                "(cupy-cuda13x, CUDA 13) or 'plugrad[cuda12]' (cupy-cuda12x, CUDA 12)")


def probe(import_module=importlib.import_module):
    """(cupy module or None, the reason it cannot be used or None).

    Never raises: a missing CuPy, a CuPy that fails to import (a broken CUDA install) and a
    machine without a driver or device all become a reason string for ``python -m plugrad
    info`` and the error of ``.to('cuda')``.
    """
    try:
        cupy = import_module("cupy")
    except ModuleNotFoundError as exc:
        return None, f"cupy not installed ({exc}); {INSTALL_HINT}"
    except Exception as exc:
        return None, f"cupy not importable: {type(exc).__name__}: {exc}"
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as exc:  # CUDARuntimeError: no driver, driver too old, no device
        return None, f"no usable CUDA device: {type(exc).__name__}: {exc}"
    if count < 1:
        return None, "no CUDA device: cupy sees 0 devices (is CUDA_VISIBLE_DEVICES empty?)"
    return cupy, None


@functools.lru_cache(maxsize=None)
def _probe():
    """:func:`probe`, computed once per process (tests call ``_probe.cache_clear()``)."""
    return probe()


def is_available():
    cupy, reason = _probe()
    return True if cupy is not None else reason


def device_count():
    cupy, _ = _probe()
    return cupy.cuda.runtime.getDeviceCount() if cupy is not None else 0


def load():
    from .backend import CupyBackend
    cupy, reason = _probe()
    if cupy is None:
        raise RuntimeError(reason)
    return CupyBackend(cupy)


@hookimpl
def plugrad_backends():
    yield BackendSpec(name="cuda", load=load, priority=10, aliases=("gpu",),
                      is_available=is_available, device_count=device_count,
                      description="CuPy on NVIDIA GPUs")
