"""float32 erf through a compiled kernel (numpy's evaluation: ~40 float64 passes)."""
from __future__ import annotations

import numpy as np

from . import KernelModule

GELU = KernelModule("_gelu")
FLOAT32 = np.dtype(np.float32)


class Elementwise:

    def _erf(self, x):
        kernels = GELU() if x.dtype == FLOAT32 and x.size >= self.min_elements else None
        if kernels is None:
            return super()._erf(x)
        flat = np.ascontiguousarray(x).reshape(-1)
        out = np.empty(flat.shape, FLOAT32)
        kernels.erf(flat, out)
        return out.reshape(x.shape)
