"""The ``cpu`` backend: numpy, registered through the ``plugrad.backends`` entry point.

Buffers are ``numpy.ndarray``; the op implementations live in :mod:`plugrad.backends.xp`.
"""
from __future__ import annotations

from ..plugins import BackendSpec, hookimpl


def load():
    import numpy

    from .host_memory import keep_freed_memory
    from .xp import ArrayModuleBackend
    keep_freed_memory()
    # quiet: torch never warns about inf/nan arising in arithmetic; numpy does
    return ArrayModuleBackend(numpy, "cpu", quiet=True)


@hookimpl
def plugrad_backends():
    yield BackendSpec(name="cpu", load=load, priority=1000, aliases=("numpy",),
                      description="numpy on the host CPU", host_memory=True)
