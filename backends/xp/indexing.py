"""Indexing primitives: gather (``index``), scatter (``index_put``), ``nonzero``, ``sort``."""
from __future__ import annotations

from .runtime import unlock


class Indexing:

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
