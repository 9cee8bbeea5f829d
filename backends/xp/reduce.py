"""Reductions and scans; each keeps the input dtype as the contract requires."""
from __future__ import annotations

import numpy

from .cascade import cascade_sum, needs_cascade

_NDARRAY = numpy.ndarray


class Reductions:

    def _reduce(self, ufunc, x, axes, keepdims):
        dtype = x.dtype
        if dtype in self.half:  # accumulate float16/bfloat16 in float32, as torch does
            return ufunc.reduce(x, axis=axes, keepdims=keepdims, dtype=self.xp.float32,
                                out=...).astype(dtype)
        return ufunc.reduce(x, axis=axes, keepdims=keepdims, dtype=dtype, out=...)

    def sum(self, x, axes, keepdims):
        # numpy arrays of floats with a long reduced axis that is not innermost: cascade
        # (numpy's own sum is a running sum there); small arrays pay one size check
        if x.size > 64 and x.__class__ is _NDARRAY and needs_cascade(x, axes):
            dtype = x.dtype
            if dtype in self.half:
                return cascade_sum(x, axes, keepdims, numpy.float32).astype(dtype)
            if dtype.kind == "f":
                return cascade_sum(x, axes, keepdims, dtype)
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

    def _scan(self, fn, x, axis):
        """torch's CPU scans carry float16/32 in double (at::acc_type): a float32 running sum
        of 10**6 x 0.1 drifts to 100958, torch's reads 100000."""
        xp = self.xp
        if x.dtype in (xp.float16, xp.float32):
            return fn(x, axis=axis, dtype=xp.float64).astype(x.dtype)
        if x.dtype in self.half:                # bfloat16: acc_type is float
            return fn(x, axis=axis, dtype=xp.float32).astype(x.dtype)
        return fn(x, axis=axis, dtype=x.dtype)

    def cumsum(self, x, axis):
        return self._scan(self.xp.cumsum, x, axis)

    def cumprod(self, x, axis):
        return self._scan(self.xp.cumprod, x, axis)
