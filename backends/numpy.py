"""The ``cpu`` backend: numpy, registered through the ``plugrad.backends`` entry point.

Buffers are ``numpy.ndarray``; the op implementations live in :mod:`plugrad.backends.xp`,
a few float32 ones compiled by numba in :mod:`plugrad.backends.jit` when it is installed.
"""
from __future__ import annotations

from ..plugins import BackendSpec, hookimpl
from .jit import description


def load():
    import numpy

    from .host_memory import keep_freed_memory
    from .jit import cpu_backend_class
    keep_freed_memory()
    # quiet: torch never warns about inf/nan arising in arithmetic; numpy does
    return cpu_backend_class()(numpy, "cpu", quiet=True)


@hookimpl
def plugrad_backends():
    yield BackendSpec(name="cpu", load=load, priority=1000, aliases=("numpy",),
                      description=description(), host_memory=True)
