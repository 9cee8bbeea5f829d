"""Adam/AdamW on float32 parameters through a compiled two-pass update (the numpy kernel makes
~12 passes per parameter); other dtypes, small parameters and odd layouts keep numpy's."""
from __future__ import annotations

import numpy as np

from . import KernelModule
from .elementwise import FLOAT32

OPTIM = KernelModule("_optim")


def _plain(a):
    return a.dtype == FLOAT32 and a.flags.c_contiguous and a.flags.writeable


class Optim:

    def adam_step(self, params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, hyper):
        amsgrad = hyper["amsgrad"]
        chosen = [i for i, p in enumerate(params)
                  if p.size >= self.min_elements and _plain(p) and grads[i].dtype == FLOAT32
                  and _plain(exp_avgs[i]) and _plain(exp_avg_sqs[i])
                  and (not amsgrad or _plain(max_exp_avg_sqs[i]))]
        kernels = OPTIM() if chosen else None
        if kernels is None:
            return super().adam_step(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs,
                                     hyper)
        rest = [i for i in range(len(params)) if i not in set(chosen)]
        if rest:
            def pick(seq):         # max_exp_avg_sqs may be None without amsgrad
                return None if seq is None else [seq[i] for i in rest]
            super().adam_step(pick(params), pick(grads), pick(exp_avgs), pick(exp_avg_sqs),
                              pick(max_exp_avg_sqs), hyper)
        lr, beta1, beta2 = hyper["lr"], hyper["beta1"], hyper["beta2"]
        wd, step = hyper["weight_decay"], hyper["step"]
        decoupled = wd != 0 and hyper["decoupled"]
        weight = 1 - beta1
        f = np.float32
        # the numpy kernel's Python-float operands, cast to float32 as numpy casts them
        scalars = (f(-1) if hyper["maximize"] else f(1), f(1 - lr * wd) if decoupled else f(1),
                   f(0) if decoupled else f(wd), weight < 0.5,
                   f(weight) if weight < 0.5 else f(1 - weight), f(beta2), f(1 - beta2),
                   f((1 - beta2 ** step) ** 0.5), f(hyper["eps"]), f(lr / (1 - beta1 ** step)))
        for i in chosen:
            kernels.adam(params[i].reshape(-1), np.ascontiguousarray(grads[i]).reshape(-1),
                         exp_avgs[i].reshape(-1), exp_avg_sqs[i].reshape(-1),
                         max_exp_avg_sqs[i].reshape(-1) if amsgrad else None, *scalars)
