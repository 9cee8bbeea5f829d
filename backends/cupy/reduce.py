"""Reductions where CuPy differs from numpy: float16 sums and products accumulate in float32
(as torch), ``amax``/``amin`` for max/min (CuPy's ufuncs have no ``.reduce``)."""
from __future__ import annotations


class Reductions:

    def sum(self, x, axes, keepdims):
        cp = self.cupy
        if x.dtype == cp.float16:  # accumulate half in float32, as torch does
            return cp.sum(x, axis=axes, dtype=cp.float32, keepdims=keepdims).astype(x.dtype)
        return cp.sum(x, axis=axes, dtype=x.dtype, keepdims=keepdims)

    def prod(self, x, axes, keepdims):
        cp = self.cupy
        if x.dtype == cp.float16:
            return cp.prod(x, axis=axes, dtype=cp.float32, keepdims=keepdims).astype(x.dtype)
        return cp.prod(x, axis=axes, dtype=x.dtype, keepdims=keepdims)

    def max(self, x, axes, keepdims):
        return self.cupy.amax(x, axis=axes, keepdims=keepdims)

    def min(self, x, axes, keepdims):
        return self.cupy.amin(x, axis=axes, keepdims=keepdims)

    def any(self, x, axes, keepdims):
        return self.cupy.any(x, axis=axes, keepdims=keepdims)

    def all(self, x, axes, keepdims):
        return self.cupy.all(x, axis=axes, keepdims=keepdims)
