"""The array-module backend object: the contract's families mixed over one ``xp``."""
from __future__ import annotations

from .elementwise import Elementwise, bind_ufuncs
from .kernels import Kernels
from .movement import Movement
from .random import Random
from .reduce import Reductions
from .runtime import Runtime

DTYPE_NAMES = ("bool", "uint8", "int8", "int16", "int32", "int64",
               "float16", "float32", "float64")


class ArrayModuleBackend(Runtime, Elementwise, Reductions, Movement, Kernels, Random):
    """Implements every contract op with a numpy-compatible module ``xp``."""

    def __init__(self, xp, name):
        self.xp = xp
        self.name = name
        self.dtypes = {n: xp.dtype(n) for n in DTYPE_NAMES}
        bind_ufuncs(self, xp)

    def supports(self, op, dtype):
        """numpy and cupy have no bfloat16; everything else is supported."""
        return dtype in self.dtypes
