"""View and movement primitives (indexing: :mod:`.indexing`)."""
from __future__ import annotations

from itertools import starmap


class Movement:

    def reshape(self, x, shape):
        return x.reshape(shape)

    def permute(self, x, axes):
        return x.transpose(axes)

    def expand(self, x, shape):
        # numpy's broadcast views are read-only; the writes torch allows through an expanded
        # tensor (fill_, masked_fill_, index_put_, ...) unlock it where they write
        # (runtime.unlock). Unlocking here, on every expand (sum's backward...), kept ~13 kB
        # of numpy bookkeeping alive over a training run (tests/frontend/test_memory.py saw it)
        return self.xp.broadcast_to(x, shape)

    def slice(self, x, slices):
        if not slices:  # x[()] of a 0-d array is a scalar copy; x[...] is a view
            return x[...]
        return x[tuple(starmap(slice, slices))]      # 0.3 us less than a generator

    def as_strided(self, x, shape, strides, offset):
        if offset:      # move the data pointer: a 1-D window over x's memory, then slice
            x = self.xp.lib.stride_tricks.as_strided(x, (offset + 1,), (x.itemsize,))[offset:]
        size = x.itemsize
        return self.xp.lib.stride_tricks.as_strided(x, tuple(shape),
                                                    tuple(s * size for s in strides))

    def flip(self, x, axes):
        return self.xp.flip(x, axes).copy()

    def pad(self, x, pads, value):
        return self.xp.pad(x, pads, mode="constant", constant_values=value)

    def concat(self, xs, axis):
        return self.xp.concatenate(xs, axis=axis)
