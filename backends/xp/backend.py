"""The array-module backend object: the contract's families mixed over one ``xp``."""
from __future__ import annotations

import math

from ...plugins.contract import OPS
from . import bfloat16
from .complex import ComplexKernels
from .conv import Conv
from .decomp import Decompositions
from .elementwise import UFUNCS, Elementwise, bind_ufuncs
from .fft import FFTKernels
from . import fused
from .fused import PlannedChain
from .indexing import Indexing
from .linalg import Linalg
from .movement import Movement
from .nn import NN
from .optim import Optim
from .quiet import SILENT, quiet
from .random import Random
from .reduce import Reductions
from .runtime import Runtime

DTYPE_NAMES = ("bool", "uint8", "int8", "int16", "int32", "int64",
               "float16", "float32", "float64", "complex64", "complex128")


class ArrayModuleBackend(Runtime, Elementwise, Reductions, Movement, Indexing, Linalg, Conv, NN,
                         Optim, Decompositions, ComplexKernels, FFTKernels, Random):
    """Implements every contract op with a numpy-compatible module ``xp``."""

    def __init__(self, xp, name, quiet=False):
        """``quiet``: numpy's floating-point warnings off inside every op (torch prints none);
        cupy raises none, so only the cpu backend asks for it."""
        self.xp = xp
        self.name = name
        self.dtypes = {n: xp.dtype(n) for n in DTYPE_NAMES}
        bf16 = bfloat16.numpy_bfloat16(xp)
        bind_ufuncs(self, xp, quiet, bf16)
        self.half = (self.dtypes["float16"],)      # accumulated in float32
        if bf16 is not None:
            self.dtypes["bfloat16"] = bf16
            self.half += (bf16,)
            bfloat16.install(self, bf16)
        if quiet:
            self._quiet_methods()

    def _quiet_methods(self):
        """Wrap each contract method that can warn (the ufuncs are already bound quiet)."""
        for name in OPS:
            if name in SILENT or name in UFUNCS:
                continue
            method = getattr(self, name, None)
            if method is not None:
                setattr(self, name, quiet(method))

    def optimize_program(self, program):
        """``program`` (``plugrad.compile``) with its repeated calls merged and each
        elementwise chain of at least :data:`.fused.MIN_ELEMENTS` elements run through planned
        buffers (:mod:`.fused`): bitwise eager's results."""
        from ...plugins.fusion import fuse
        return fuse(program, lambda chain: PlannedChain(self, chain), backend=self.name,
                    accept=lambda step: step.dtype in self.dtypes and
                    math.prod(step.shape) >= fused.MIN_ELEMENTS)

    def supports(self, op, dtype):
        """cupy has no bfloat16, numpy has it through ml_dtypes; the rest is supported."""
        return dtype in self.dtypes
