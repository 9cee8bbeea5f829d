"""sgd_step/adam_step: one multi-tensor launch for every parameter of a step (composed: ~10
launches per parameter), like torch's ``fused=True``; other dtypes and layouts take the shared
array-module update (``super()``). Sources: :mod:`.templates`.
"""
from __future__ import annotations

import math

import numpy

from .templates import FUSED_DTYPES as _FUSED, THREADS, grid_for


class Optim:

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
        acc = numpy.float32 if dtype == "float32" else numpy.float64
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
