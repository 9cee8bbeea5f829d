"""Runtime functions of the contract: allocation, host transfer, copies, casts, strides."""
from __future__ import annotations

import numpy


def unlock(arr):
    """Make a read-only broadcast view (``expand``'s) writeable when its memory is, for the
    writes torch allows through an expanded tensor; False when it cannot be (or already was).
    Writers call it only after numpy refused, so ordinary writes pay nothing."""
    flags = getattr(arr, "flags", None)
    if flags is None or flags.writeable:
        return False
    try:
        flags.writeable = True
    except ValueError:      # the memory itself is read-only
        return False
    return True


class Runtime:
    """Needs ``self.xp`` (the array module) and ``self.dtypes`` (dtype name -> xp dtype)."""

    def device_count(self):
        return 1

    def empty(self, shape, dtype, device=0):
        return self.xp.empty(shape, self.dtypes[dtype])

    def full(self, shape, value, dtype, device=0):
        return self.xp.full(shape, value, self.dtypes[dtype])

    def arange(self, start, step, n, dtype, device=0):
        xp = self.xp
        if dtype in ("float16", "bfloat16", "float32", "float64"):
            # torch computes start + i*step in double, then casts
            values = xp.arange(n, dtype=xp.float64) * step + start
        else:
            values = xp.arange(n, dtype=xp.int64) * int(step) + int(start)
        return values.astype(self.dtypes[dtype], copy=False)

    def from_host(self, array, device=0):
        return self.xp.array(array, copy=True)

    def to_host(self, x):
        return numpy.asarray(x)

    def copy(self, x):
        return self.xp.array(x, copy=True, order="C")

    def cast(self, x, dtype):
        return x.astype(self.dtypes[dtype])

    def assign(self, dst, src):
        try:
            dst[...] = src
        except ValueError:
            if not unlock(dst):
                raise
            dst[...] = src

    def strides(self, x):
        size = x.itemsize
        return tuple(s // size for s in x.strides)

    def synchronize(self, device=0):
        return None
