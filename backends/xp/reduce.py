"""Reductions and scans; each keeps the input dtype as the contract requires."""
from __future__ import annotations


class Reductions:

    def _reduce(self, ufunc, x, axes, keepdims):
        dtype = x.dtype
        if dtype == self.xp.float16:  # accumulate half in float32, as torch does
            return ufunc.reduce(x, axis=axes, keepdims=keepdims, dtype=self.xp.float32,
                                out=...).astype(dtype)
        return ufunc.reduce(x, axis=axes, keepdims=keepdims, dtype=dtype, out=...)

    def sum(self, x, axes, keepdims):
        return self._reduce(self.xp.add, x, axes, keepdims)

    def prod(self, x, axes, keepdims):
        return self._reduce(self.xp.multiply, x, axes, keepdims)

    def max(self, x, axes, keepdims):
        return self.xp.maximum.reduce(x, axis=axes, keepdims=keepdims, out=...)

    def min(self, x, axes, keepdims):
        return self.xp.minimum.reduce(x, axis=axes, keepdims=keepdims, out=...)

    def any(self, x, axes, keepdims):
        return self.xp.logical_or.reduce(x, axis=axes, keepdims=keepdims, out=...)

    def all(self, x, axes, keepdims):
        return self.xp.logical_and.reduce(x, axis=axes, keepdims=keepdims, out=...)

    def argmax(self, x, axis, keepdims):
        return self.xp.asarray(self.xp.argmax(x, axis=axis, keepdims=keepdims),
                               dtype=self.xp.int64)

    def argmin(self, x, axis, keepdims):
        return self.xp.asarray(self.xp.argmin(x, axis=axis, keepdims=keepdims),
                               dtype=self.xp.int64)

    def cumsum(self, x, axis):
        return self.xp.cumsum(x, axis=axis, dtype=x.dtype)

    def cumprod(self, x, axis):
        return self.xp.cumprod(x, axis=axis, dtype=x.dtype)
