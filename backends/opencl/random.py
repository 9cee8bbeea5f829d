"""``mt19937_generate``: torch's CPU random stream generated on the OpenCL device.

The kernel (shared with CUDA, :mod:`plugrad.backends.mt19937`) runs as one work-group: a
block of the stream depends on the whole previous block, so blocks are twisted one after
another while the work-items of the group twist, temper and transform each block in parallel.
"""
from __future__ import annotations

import numpy

from .. import mt19937 as M

_ARGTYPES = [None, None, numpy.int32, numpy.int64] + [numpy.uint64] * 4 + [numpy.int32]

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
