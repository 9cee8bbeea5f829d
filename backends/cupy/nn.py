"""The cuda backend's fused kernels: one launch where the composed path would take several.

* ``matmul``: ``cupy.matmul`` (cuBLAS).
* ``addmm_act``: cuBLAS GEMM, then one epilogue kernel for bias + relu/gelu (3 -> 2 launches).
* ``softmax``/``log_softmax``: one kernel reading each row twice (composed: 5 launches).
* ``cross_entropy``: one kernel for per-row loss and logsumexp; its gradient two more (the
  row softmax, then the one-hot term in place).
* ``sgd_step``/``adam_step``: one multi-tensor launch for every parameter of a step (composed:
  ~10 launches per parameter), like torch's ``fused=True``.

Kernels exist for float32 and float64; float16 (and odd layouts, below) take the shared
array-module code, which is numerically the same algorithm. Sources: :mod:`.templates`.
"""
from __future__ import annotations

import math

import numpy

from .templates import (BLOCK_THREADS, THREADS, WARP_MAX_COLS, WARP_ROWS_PER_BLOCK,
                           KernelCache, grid_for)

_FUSED = ("float32", "float64")


class FusedKernels:
    """Mixed in before the array-module backend; ``super()`` is its composed version."""

    @property
    def _kernels(self):
        cache = self.__dict__.get("_kernel_cache")
        if cache is None:
            cache = self.__dict__["_kernel_cache"] = KernelCache(self.cupy)
        return cache

    def _scalar(self, dtype_name):
        return numpy.float32 if dtype_name == "float32" else numpy.float64

    def matmul(self, a, b):
        return self.cupy.matmul(a, b)

    # ------------------------------------------------------------------- epilogues
    def addmm_act(self, bias, m1, m2, act):
        if m1.dtype.name not in _FUSED:
            return super().addmm_act(bias, m1, m2, act)
        out = self.cupy.matmul(m1, m2)
        self._kernels.elementwise(f"bias_{act}")(bias, out)
        return out

    # --------------------------------------------------------------------- softmax
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

    # ------------------------------------------------------------------ optimizers
    def _groups(self, params, lists):
        """Split parameter indices into {dtype: [k]} for the fused kernel, and the rest.

        The fused kernel addresses memory linearly, so it takes float32/float64 parameters
        whose parameter and state buffers are C-contiguous; gradients are made contiguous
        (they are read only). Anything else keeps the composed update.
        """
        fused, rest = {}, []
        for k, p in enumerate(params):
            name = p.dtype.name
            ok = name in _FUSED and p.flags.c_contiguous and all(
                column[k] is None or (column[k].flags.c_contiguous and column[k].dtype == p.dtype)
                for column in lists)
            if ok:
                if p.size:
                    fused.setdefault(name, []).append(k)
            else:
                rest.append(k)
        return fused, rest

    def _launch(self, name, dtype, columns, sel, scalars, flags):
        cp = self.cupy
        picked = [[None if column is None or column[k] is None else column[k] for k in sel]
                  for column in columns]
        picked[1] = [cp.ascontiguousarray(g) for g in picked[1]]   # grads: read only
        table, total = self._kernels.table(picked, [columns[0][k].size for k in sel])
        acc = self._scalar(dtype)
        args = (table, numpy.int32(len(sel)), numpy.int64(total),
                *(acc(v) for v in scalars), numpy.int32(flags))
        self._kernels.raw(dtype, name)(grid_for(total), (THREADS,), args)
        return picked

    def sgd_step(self, params, grads, momentum_bufs, hyper):
        momentum = hyper["momentum"]
        bufs = momentum_bufs if momentum != 0 else [None] * len(params)
        fused, rest = self._groups(params, (grads, bufs))
        flags = (1 if hyper["maximize"] else 0) | (2 if hyper["weight_decay"] != 0 else 0) | \
            (4 if momentum != 0 else 0) | (8 if hyper["first_step"] else 0) | \
            (16 if hyper["nesterov"] else 0)
        scalars = (hyper["lr"], hyper["weight_decay"], momentum, 1 - hyper["dampening"])
        for dtype, sel in fused.items():
            self._launch("pg_sgd_multi", dtype, (params, grads, bufs), sel, scalars, flags)
        if rest:
            super().sgd_step([params[k] for k in rest], [grads[k] for k in rest],
                             [momentum_bufs[k] for k in rest] if momentum != 0 else
                             [None] * len(rest), hyper)

    def adam_step(self, params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, hyper):
        amsgrad = hyper["amsgrad"]
        vmax = max_exp_avg_sqs if amsgrad else [None] * len(params)
        fused, rest = self._groups(params, (grads, exp_avgs, exp_avg_sqs, vmax))
        lr, beta1, beta2, step = hyper["lr"], hyper["beta1"], hyper["beta2"], hyper["step"]
        wd = hyper["weight_decay"]
        flags = (1 if hyper["maximize"] else 0) | (2 if wd != 0 else 0) | \
            (4 if hyper["decoupled"] else 0) | (8 if amsgrad else 0)
        # the same Python-double scalars torch's single-tensor Adam derives, then rounded
        scalars = (wd, 1 - lr * wd, 1 - beta1, beta2, 1 - beta2, lr / (1 - beta1 ** step),
                   math.sqrt(1 - beta2 ** step), hyper["eps"])
        for dtype, sel in fused.items():
            self._launch("pg_adam_multi", dtype, (params, grads, exp_avgs, exp_avg_sqs, vmax),
                         sel, scalars, flags)
        if rest:
            super().adam_step([params[k] for k in rest], [grads[k] for k in rest],
                              [exp_avgs[k] for k in rest], [exp_avg_sqs[k] for k in rest],
                              [max_exp_avg_sqs[k] for k in rest] if amsgrad else None, hyper)
