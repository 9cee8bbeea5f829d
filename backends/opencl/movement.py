"""Movement primitives: flip, pad and concat, built from views and the strided copy kernel.

Views (reshape, permute, expand, slice) live in :mod:`.runtime`: they only make CLArrays.
"""
from __future__ import annotations

from .runtime import CLArray


class Movement:

    def flip(self, x, axes):
        # a view with negated strides, then one strided copy
        offset = x.offset + sum((x.shape[a] - 1) * x.strides[a] for a in axes if x.shape[a])
        strides = tuple(-s if d in axes else s for d, s in enumerate(x.strides))
        return self.copy(CLArray(x.data, x.shape, strides, offset, x.dtype, x.device))

    def pad(self, x, pads, value):
        shape = tuple(n + lo + hi for n, (lo, hi) in zip(x.shape, pads))
        out = self.full(shape, value, x.dname, x.device)
        inner = self.slice(out, [(lo, lo + n, 1) for n, (lo, _) in zip(x.shape, pads)])
        self.assign(inner, x)
        return out

    def concat(self, xs, axis):
        first = xs[0]
        shape = list(first.shape)
        shape[axis] = sum(x.shape[axis] for x in xs)
        out = self._new(tuple(shape), first.dname, first.device)
        start = 0
        for x in xs:
            stop = start + x.shape[axis]
            window = [(0, n, 1) for n in out.shape]
            window[axis] = (start, stop, 1)
            self.assign(self.slice(out, window), x)
            start = stop
        return out
