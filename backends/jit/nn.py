"""gelu, layer norm and softmax for float32 through compiled kernels: one pass over memory
where numpy's make several. Other dtypes, small arrays and layouts the kernels do not take
go to the numpy kernels."""
from __future__ import annotations

import numpy as np

from . import KernelModule
from .elementwise import FLOAT32, GELU

NORM = KernelModule("_norm")
SOFTMAX = KernelModule("_softmax")


def _flat(x):
    return np.ascontiguousarray(x).reshape(-1)


def _vector(w):
    """weight or bias as a contiguous float32 vector (None stays None)."""
    return None if w is None else np.ascontiguousarray(w, FLOAT32).reshape(-1)


class NN:

    def gelu(self, x):
        kernels = GELU() if x.dtype == FLOAT32 and x.size >= self.min_elements else None
        if kernels is None:
            return super().gelu(x)
        flat = _flat(x)
        out, cdf = np.empty(flat.shape, FLOAT32), np.empty(flat.shape, FLOAT32)
        kernels.gelu(flat, out, cdf)
        return out.reshape(x.shape), cdf.reshape(x.shape)

    def gelu_backward(self, g, x, cdf):
        kernels = GELU() if x.dtype == FLOAT32 and x.size >= self.min_elements else None
        if kernels is None:
            return super().gelu_backward(g, x, cdf)
        flat = _flat(x)
        out = np.empty(flat.shape, FLOAT32)
        kernels.gelu_backward(_flat(g), flat, _flat(cdf), out)
        return out.reshape(x.shape)

    def layer_norm(self, x, weight, bias, n, eps):
        kernels = NORM() if x.dtype == FLOAT32 and x.size >= self.min_elements and n else None
        if kernels is None:
            return super().layer_norm(x, weight, bias, n, eps)
        rows = np.ascontiguousarray(x).reshape(-1, n)
        out = np.empty(rows.shape, FLOAT32)
        mean, rstd = np.empty(len(rows), FLOAT32), np.empty(len(rows), FLOAT32)
        kernels.layer_norm(rows, _vector(weight), _vector(bias), float(eps), out, mean, rstd)
        return out.reshape(x.shape), mean, rstd

    def layer_norm_backward(self, g, x, weight, mean, rstd, n):
        kernels = NORM() if x.dtype == FLOAT32 and x.size >= self.min_elements and n else None
        if kernels is None:
            return super().layer_norm_backward(g, x, weight, mean, rstd, n)
        rows = np.ascontiguousarray(x).reshape(-1, n)
        dx = np.empty(rows.shape, FLOAT32)
        dweight, dbias = np.zeros(n), np.zeros(n)
        kernels.layer_norm_backward(np.ascontiguousarray(g).reshape(-1, n), rows,
                                    _vector(weight), _flat(mean), _flat(rstd), dx, dweight,
                                    dbias)
        return dx.reshape(x.shape), dweight.astype(FLOAT32), dbias.astype(FLOAT32)

    def softmax(self, x, axis):
        kernels = (SOFTMAX() if x.dtype == FLOAT32 and x.size >= self.min_elements
                   and axis == x.ndim - 1 and x.shape[axis] else None)
        if kernels is None:
            return super().softmax(x, axis)
        rows = np.ascontiguousarray(x).reshape(-1, x.shape[axis])
        out = np.empty(rows.shape, FLOAT32)
        kernels.softmax(rows, out)
        return out.reshape(x.shape)
