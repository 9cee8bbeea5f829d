"""Accumulating row scatter (``index_put`` with one index array and accumulate=True, the
embedding backward) for float32 through a compiled loop; every other case keeps numpy's."""
from __future__ import annotations

import numpy as np

from . import KernelModule
from .elementwise import FLOAT32

SCATTER = KernelModule("_scatter")
INT64 = np.dtype(np.int64)


class Indexing:

    def _index_put(self, x, indices, values, accumulate):
        rows = indices[0] if accumulate and len(indices) == 1 else None
        kernels = (SCATTER() if rows is not None and x.dtype == FLOAT32 and x.ndim >= 1
                   and x.flags.c_contiguous and x.flags.writeable and rows.dtype == INT64
                   and getattr(values, "dtype", None) == FLOAT32
                   and values.shape == rows.shape + x.shape[1:]
                   and values.size >= self.min_elements else None)
        if kernels is not None:
            flat_rows = rows.reshape(-1)
            # out-of-range rows go to numpy, which raises with x untouched
            if x.shape[0] and kernels.rows_in_range(flat_rows, x.shape[0]):
                width = x.size // x.shape[0]
                kernels.add_rows(x.reshape(x.shape[0], width), flat_rows,
                                 np.ascontiguousarray(values).reshape(flat_rows.size, width))
                return
        super()._index_put(x, indices, values, accumulate)
