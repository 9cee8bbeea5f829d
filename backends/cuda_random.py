"""``mt19937_generate`` on CUDA: torch's CPU random stream continued on the GPU.

The kernel source is shared with the OpenCL backend (:mod:`plugrad.backends.mt19937`) and
compiled by NVRTC through a CuPy ``RawModule``, one per (transform kind, output dtype), on
first use. It runs as one block of :data:`BLOCK` threads -- a block of the stream depends on
the whole previous one -- with the twist's three phases and the tempering and transform of
each block spread over the threads.
"""
from __future__ import annotations

import numpy

from . import mt19937 as M

BLOCK = 256
"""Threads of the single block: at least 227, the longest twist phase."""


class CudaRandom:
    """Mixed in before the array-module backend; needs ``self.cupy`` and ``self.dtypes``."""

    def _mt_kernel(self, kind, dtype):
        cache = self.__dict__.setdefault("_mt_kernels", {})
        kernel = cache.get((kind, dtype))
        if kernel is None:
            module = self.cupy.RawModule(code=M.render("cuda", kind, dtype))
            kernel = cache[(kind, dtype)] = module.get_function("pg_mt19937")
        return kernel

    def mt19937_generate(self, state, pos, shape, dtype, transform, params):
        cp = self.cupy
        with state.device:
            out = cp.empty(shape, self.dtypes[dtype])
            if out.size == 0:
                return out
            kind = M.kind_of(transform, dtype, params)
            p0, p1, p2, p3, flags = M.kernel_args(kind, dtype, params)
            self._mt_kernel(kind, dtype)(
                (1,), (BLOCK,),
                (state, out, numpy.int32(pos), numpy.int64(out.size), numpy.uint64(p0),
                 numpy.uint64(p1), numpy.uint64(p2), numpy.uint64(p3), numpy.int32(flags)))
        return out
