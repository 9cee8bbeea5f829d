"""The ``cpu`` backend with numba kernels: numpy's backend, a few kernels overridden."""
from __future__ import annotations

from ..xp import ArrayModuleBackend
from .elementwise import Elementwise
from .indexing import Indexing
from .nn import NN
from .optim import Optim


class NumbaBackend(Elementwise, Indexing, NN, Optim, ArrayModuleBackend):
    """:class:`ArrayModuleBackend` over numpy, with compiled float32 kernels where they are
    faster; each falls back to the numpy kernel for other dtypes and small arrays."""

    #: arrays of fewer elements take the numpy kernels: an op costs microseconds either way,
    #: and small scripts (and most tests) then never pay numba's one-time start (import and
    #: first dispatch, ~1-3 s even with the kernels cached)
    min_elements = 8192
