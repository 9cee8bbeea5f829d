"""CupyBackend: the shared array-module implementation bound to CuPy, plus the CUDA runtime.

Imported only by :func:`plugrad.backends.cupy.load`. The shared ``xp`` code serves wherever
CuPy is numpy-compatible; this module overrides the places where it is not (ufuncs take no
``out=...``, ufuncs have no ``.reduce`` besides add/multiply, ``argsort`` has no ``kind``,
``add.at`` covers few dtypes) and adds devices, memory statistics and peer copies. One module
per contract group, as in ``opencl/`` and ``xp/``: :mod:`.runtime`, :mod:`.elementwise`,
:mod:`.reduce`, :mod:`.indexing` (the index-checking ops of ``checks_indices``, sort),
:mod:`.linalg` (cuBLAS matmul, addmm_act), :mod:`.nn` (softmax, cross-entropy), :mod:`.optim`,
:mod:`.random`; CUDA sources in :mod:`.templates`. Only ``from_host``/``to_host`` touch the host.
"""
from __future__ import annotations

from ..xp import ArrayModuleBackend
from ..xp.elementwise import UFUNCS
from .elementwise import NUMPY_DIVMOD, Elementwise
from .fused import CupyChain, accepts
from .indexing import Indexing
from .linalg import Linalg
from .nn import NN
from .optim import Optim
from .random import Random
from .reduce import Reductions
from .runtime import Runtime
from .templates import KernelCache


class CupyBackend(Runtime, Elementwise, Reductions, Indexing, Linalg, NN, Optim, Random,
                  ArrayModuleBackend):
    """CuPy arrays as buffers; device indices are CUDA device ordinals."""

    def __init__(self, cupy):
        super().__init__(cupy, "cuda")
        self.cupy = cupy
        runtime = cupy.cuda.runtime
        self._count = runtime.getDeviceCount()
        self._multi = self._count > 1
        # cupy ufuncs reject numpy's ``out=...`` and always return arrays (0-d included),
        # so the per-op path binds them bare: one Cython call per elementwise primitive.
        for name, ufunc in UFUNCS.items():
            if name in NUMPY_DIVMOD:    # .elementwise's methods, not the xp closures (out=...)
                self.__dict__.pop(name, None)
            else:
                setattr(self, name, getattr(cupy, ufunc))
        # numpy's isinf method takes ``out=...``, which CuPy rejects (TypeError)
        self.isinf = cupy.isinf
        self._pool = cupy.get_default_memory_pool()
        self._peak = [0] * self._count
        self._install_peak_tracker()

    def optimize_program(self, program):
        """``program`` (``plugrad.compile``) with each elementwise chain as one CuPy
        ElementwiseKernel (:mod:`.fused`), built once per chain for the process."""
        from ...plugins.fusion import fuse
        chains = self.__dict__.setdefault("_fused_chains", {})

        def make(chain):
            kernel = chains.get(chain)
            if kernel is None:
                kernel = chains[chain] = CupyChain(self.cupy, chain)
            return kernel
        return fuse(program, make, backend=self.name, accept=accepts)

    @property
    def _kernels(self):
        """The compiled CUDA kernels (:class:`.templates.KernelCache`), made on first use."""
        cache = self.__dict__.get("_kernel_cache")
        if cache is None:
            cache = self.__dict__["_kernel_cache"] = KernelCache(self.cupy)
        return cache
