"""Activations and losses in fused CUDA kernels: one launch where the composed path would
take several.

* ``softmax``/``log_softmax``: one kernel reading each row twice (composed: 5 launches).
* ``cross_entropy``: one kernel for per-row loss and logsumexp; its gradient two more (the
  row softmax, then the one-hot term in place).

Kernels exist for float32 and float64; float16 (and odd layouts, below) take the shared
array-module code, which is numerically the same algorithm. Sources: :mod:`.templates`.
"""
from __future__ import annotations

import numpy

from .templates import (BLOCK_THREADS, FUSED_DTYPES as _FUSED, THREADS, WARP_MAX_COLS,
                        WARP_ROWS_PER_BLOCK)


class NN:
    """Mixed in before the array-module backend; ``super()`` is its composed version."""

    def softmax(self, x, axis):
        return self._softmax(x, axis, 0)

    def log_softmax(self, x, axis):
        return self._softmax(x, axis, 1)

    def _softmax(self, x, axis, log_mode):
        dtype = x.dtype.name
        cols = x.shape[axis]
        if dtype not in _FUSED or x.size == 0 or cols >= 2 ** 31:
            return (super().log_softmax if log_mode else super().softmax)(x, axis)
        cp = self.cupy
        x = cp.ascontiguousarray(x)
        y = cp.empty_like(x)
        outer = int(numpy.prod(x.shape[:axis]))
        inner = int(numpy.prod(x.shape[axis + 1:]))
        mode = numpy.int32(log_mode)
        if inner == 1:
            rows = numpy.int64(outer)
            if cols <= WARP_MAX_COLS:
                blocks = -(-outer // WARP_ROWS_PER_BLOCK)
                self._kernels.raw(dtype, "pg_softmax_warp")(
                    (blocks,), (32 * WARP_ROWS_PER_BLOCK,), (x, y, rows, numpy.int32(cols), mode))
            else:
                self._kernels.raw(dtype, "pg_softmax_block")(
                    (outer,), (BLOCK_THREADS,), (x, y, rows, numpy.int32(cols), mode))
        else:
            columns = outer * inner
            self._kernels.raw(dtype, "pg_softmax_strided")(
                (-(-columns // THREADS),), (THREADS,),
                (x, y, numpy.int64(outer), numpy.int32(cols), numpy.int64(inner), mode))
        return y

    # --------------------------------------------------------------- cross-entropy
    def cross_entropy(self, x, target, ignore_index):
        dtype = x.dtype.name
        rows, cols = x.shape
        if rows == 0 or cols == 0:
            return super().cross_entropy(x, target, ignore_index)
        if dtype not in _FUSED:
            safe, bad = self._checked_targets(x, target, ignore_index)
            loss, lse = super().cross_entropy(x, safe, ignore_index)
            return self.cupy.where(bad, lse, loss), lse    # the picked logit read as 0
        cp = self.cupy
        x = cp.ascontiguousarray(x)
        target = cp.ascontiguousarray(target)
        loss = cp.empty(rows, x.dtype)
        lse = cp.empty(rows, x.dtype)
        blocks = -(-rows // WARP_ROWS_PER_BLOCK)
        self._kernels.raw(dtype, "pg_cross_entropy")(
            (blocks,), (32 * WARP_ROWS_PER_BLOCK,),
            (x, target, loss, lse, numpy.int64(rows), numpy.int32(cols),
             numpy.int64(ignore_index), self._index_flag(x.device.id)))
        return loss, lse

    def cross_entropy_backward(self, g, x, target, lse, ignore_index):
        if x.size == 0:
            return super().cross_entropy_backward(g, x, target, lse, ignore_index)
        cp = self.cupy
        if x.dtype.name not in _FUSED:
            safe, bad = self._checked_targets(x, target, ignore_index)
            grad = super().cross_entropy_backward(g, x, safe, lse, ignore_index)
            # an out-of-range row: g * softmax, no one-hot term (its ignored row above is 0)
            full = cp.exp(x - lse[:, None]) * g.astype(x.dtype, copy=False)[:, None]
            return cp.where(bad[:, None], full, grad)
        p = self._softmax(x, 1, 0)       # the fused row softmax: exact max and sum per row
        self._kernels.elementwise("cross_entropy_grad")(
            p, target, g.astype(x.dtype, copy=False), x.shape[1], ignore_index, p,
            self._index_flag(x.device.id))
        return p

    def _checked_targets(self, x, target, ignore_index):
        """(target with out-of-range entries made ignore_index, their mask); flags them."""
        cp = self.cupy
        safe, bad = cp.empty(target.shape, cp.int64), cp.empty(target.shape, cp.bool_)
        self._kernels.elementwise("target_check")(
            target, x.shape[1], ignore_index, safe, bad, self._index_flag(x.device.id))
        return safe, bad
