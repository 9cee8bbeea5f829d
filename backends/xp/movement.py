"""Views, movement and indexing primitives."""
from __future__ import annotations

from itertools import starmap

from .runtime import unlock


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

    # ------------------------------------------------------------------------- indexing
    def index(self, x, indices):
        return x[tuple(indices)]

    def index_put(self, x, indices, values, accumulate):
        try:
            self._index_put(x, indices, values, accumulate)
        except ValueError:
            if not unlock(x):
                raise
            self._index_put(x, indices, values, accumulate)

    def _index_put(self, x, indices, values, accumulate):
        if accumulate:
            self.xp.add.at(x, tuple(indices), values)
        else:
            x[tuple(indices)] = values

    def nonzero(self, x):
        return self.xp.argwhere(x).astype(self.xp.int64, copy=False)

    def sort(self, x, axis, descending):
        xp = self.xp
        if not descending:
            indices = xp.argsort(x, axis=axis, kind="stable")
        else:
            # stable descending: sort the reversed axis ascending, reverse, map indices back
            n = x.shape[axis]
            flipped = xp.argsort(xp.flip(x, axis), axis=axis, kind="stable")
            indices = (n - 1) - xp.flip(flipped, axis)
        indices = indices.astype(xp.int64, copy=False)
        return xp.take_along_axis(x, indices, axis=axis), indices
