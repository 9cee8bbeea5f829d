"""Elementwise ops where CuPy differs from numpy: sigmoid through the fused kernel, float
floor division and remainder by numpy's divmod algorithm, erf from cupyx."""
from __future__ import annotations

from .templates import FUSED_DTYPES

# float floor division and remainder by numpy's divmod algorithm, not CuPy's floor(a / b)
NUMPY_DIVMOD = ("floordiv", "remainder")


class Elementwise:

    def sigmoid(self, x, out=None):
        if x.dtype.name in FUSED_DTYPES:
            return self._kernels.sigmoid(x) if out is None else self._kernels.sigmoid(x, out)
        cp = self.cupy
        result = cp.reciprocal(cp.exp(cp.negative(x)) + 1)
        if out is None:
            return result
        out[...] = result
        return out

    def floordiv(self, a, b, out=None):
        return self._divmod("floordiv", a, b, out)

    def remainder(self, a, b, out=None):
        return self._divmod("remainder", a, b, out)

    def _divmod(self, key, a, b, out):
        """Floats through :data:`.templates.DIVMOD` (half computed in float32, as numpy
        does); integers through CuPy's ufuncs, which already follow Python's rules."""
        cp = self.cupy
        dtype = cp.result_type(a, b)
        if dtype.kind != "f":
            if dtype.kind in "iu":
                self._check_divisor(b)     # deferred ZeroDivisionError, as opencl's
            ufunc = cp.floor_divide if key == "floordiv" else cp.remainder
            return ufunc(a, b, out=out)
        wide = cp.dtype(cp.float32) if dtype == cp.float16 else dtype
        a, b = (v.astype(wide, copy=False) if isinstance(v, cp.ndarray) else v for v in (a, b))
        kernel = self._kernels.elementwise(key)
        if out is not None and out.dtype == wide:
            return kernel(a, b, out)
        result = kernel(a, b)
        if out is None:
            return result.astype(dtype, copy=False)
        out[...] = result
        return out

    def _erf(self, x):
        from cupyx.scipy.special import erf
        if x.dtype == self.cupy.float16:  # computed in float32, as torch does for half
            return erf(x.astype(self.cupy.float32)).astype(x.dtype)
        return erf(x)
