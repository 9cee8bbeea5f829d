"""The ``cpu`` backend: numpy, registered through the ``plugrad.backends`` entry point.

Buffers are ``numpy.ndarray``; the op implementations live in :mod:`plugrad.backends.xp`.
"""
from __future__ import annotations

import warnings

from ..plugins import BackendSpec, hookimpl

# torch never warns about inf/nan arising in arithmetic; numpy does. Silence numpy's
# floating-point RuntimeWarnings only when raised from plugrad's own frames.
warnings.filterwarnings("ignore", category=RuntimeWarning, module=r"plugrad(\.|$)")
warnings.filterwarnings("ignore", message=".*encountered in", category=RuntimeWarning,
                        module=r"functools")


def load():
    import numpy

    from .xp import ArrayModuleBackend
    return ArrayModuleBackend(numpy, "cpu")


@hookimpl
def plugrad_backends():
    yield BackendSpec(name="cpu", load=load, priority=1000, aliases=("numpy",),
                      description="numpy on the host CPU", host_memory=True)
