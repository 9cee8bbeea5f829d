"""``mt19937_generate``: torch's CPU random stream generated on the OpenCL device.

The kernel (shared with CUDA, :mod:`plugrad.backends.mt19937`) runs as one work-group: a
block of the stream depends on the whole previous block, so blocks are twisted one after
another while the work-items of the group twist, temper and transform each block in parallel.
'normal' draws its uniforms that way, then runs a second kernel over them, one work-item per
pair of outputs (:mod:`plugrad.backends.mt19937_normal`).
"""
from __future__ import annotations

import numpy

from .. import mt19937 as M
from .. import mt19937_normal as MN

_ARGTYPES = [None, None, numpy.int32, numpy.int64] + [numpy.uint64] * 4 + [numpy.int32]
_NORMAL_ARGTYPES = [None, None] + [numpy.int64] * 2 + [numpy.uint64] * 2 + [numpy.int32]

GROUP_SIZE = None
"""Work-group size of the kernel; None picks per device (tests set 256 to run a CPU device
the way a GPU runs it)."""


def group_size(dev):
    """GPU: 256 work-items, one per word of a twist phase (227 at most). CPU (PoCL): one
    work-item walking every loop itself, which LLVM vectorises (measured 0.8 ms per million
    float32 values on 1 core, against 4.2 ms with 256 work-items and their barrier loops)."""
    if GROUP_SIZE is not None:
        return min(GROUP_SIZE, dev.max_wg)
    return 1 if dev.is_cpu else min(256, dev.max_wg)


class Random:
    """The random-number kernel of the OpenCL backend (needs ``self.devices`` and ``_new``)."""

    def mt19937_generate(self, state, pos, shape, dtype, transform, params):
        dev = self.devices[state.device]
        dev.check_dtype(dtype)
        if transform == "normal":
            return self._mt_normal(dev, state, pos, shape, dtype, params)
        out = self._new(shape, dtype, state.device)
        if out.size == 0:
            return out
        kind = M.kind_of(transform, dtype, params)
        kernel = dev.kernel(("mt19937", kind, dtype),
                            lambda: (M.render("opencl", kind, dtype), "pg_mt19937", _ARGTYPES))
        p0, p1, p2, p3, flags = M.kernel_args(kind, dtype, params)
        size = group_size(dev)
        kernel(dev.queue, (size,), (size,), state.data, out.data, pos, out.size,
               p0, p1, p2, p3, flags)
        return out

    def _mt_normal(self, dev, state, pos, shape, dtype, params):
        """Uniform float32 words first, then Box-Muller over rows of 16, pair-parallel."""
        out = self._new(shape, dtype, state.device)
        n = out.size
        u = self.mt19937_generate(state, pos, (MN.words(n, dtype),), "float32", "uniform",
                                  (0.0, 1.0))
        kernel = dev.kernel(("mt19937_normal", dtype), lambda: (
            MN.render("opencl", dtype), "pg_normal16", _NORMAL_ARGTYPES))
        # one pair per work-item; on a CPU groups of 64 that PoCL vectorises across
        # (measured 1M float32: ~10 ms against ~26 ms for chunks walked by one work-item)
        size = 64 if dev.is_cpu else min(256, dev.max_wg)
        pairs = MN.pairs(n)
        tail, mean, std, plain = MN.kernel_args(n, dtype, params)
        kernel(dev.queue, (-(-pairs // size) * size,), (size,), u.data, out.data, n, tail,
               mean, std, plain)
        return out
