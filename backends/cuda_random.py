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
from . import mt19937_normal as MN

BLOCK = 256
"""Threads of the single block: at least 227, the longest twist phase."""


class CudaRandom:
    """Mixed in before the array-module backend; needs ``self.cupy`` and ``self.dtypes``."""

    def _mt_kernel(self, kind, dtype):
        cache = self.__dict__.setdefault("_mt_kernels", {})
        kernel = cache.get((kind, dtype))
        if kernel is None:
            if kind == "normal":
                code, name = MN.render("cuda", dtype), "pg_normal16"
            else:
                code, name = M.render("cuda", kind, dtype), "pg_mt19937"
            kernel = cache[(kind, dtype)] = self.cupy.RawModule(code=code).get_function(name)
        return kernel

    def mt19937_generate(self, state, pos, shape, dtype, transform, params):
        if transform == "normal":
            return self._mt_normal(state, pos, shape, dtype, params)
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

    def _mt_normal(self, state, pos, shape, dtype, params):
        """Uniform float32 words first, then Box-Muller over rows of 16, pair-parallel."""
        n = int(numpy.prod(shape))
        u = self.mt19937_generate(state, pos, (MN.words(n, dtype),), "float32", "uniform",
                                  (0.0, 1.0))
        with state.device:
            out = self.cupy.empty(shape, self.dtypes[dtype])
            tail, mean, std, plain = MN.kernel_args(n, dtype, params)
            blocks = min(4096, -(-MN.pairs(n) // BLOCK))
            self._mt_kernel("normal", dtype)(
                (blocks,), (BLOCK,),
                (u, out, numpy.int64(n), numpy.int64(tail), numpy.uint64(mean),
                 numpy.uint64(std), numpy.int32(plain)))
        return out
