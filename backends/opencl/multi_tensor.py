"""Adam over many parameters in few launches, for compiled programs (``optimize_program``).

The eager ``adam_step`` launches one kernel per parameter (52 per GPT step). Here one kernel
takes up to :data:`GROUP` parameters: its work-items are split among them by prefix sums of
their chunk counts, each picks its parameter's buffers and runs *the eager kernel's own loop
body* (cut from :func:`.optim.render_optim`), with the same host-computed scalars, so every
update is bitwise eager's. Non-contiguous buffers, amsgrad and dtypes other than
float32/float64 take the eager path.
"""
from __future__ import annotations

import math

import numpy

from . import templates as T
from .optim import render_optim
from .runtime import CLArray

GROUP = 8
"""Parameters per launch: 8 x 4 buffers x (pointer + offset) stays far below the 1 KiB of
kernel arguments every OpenCL device accepts."""
_BUFS = ("p", "g", "ma", "va")


def _eager_body(dt):
    """The per-element body of the eager Adam kernel (the text inside its loop)."""
    src = render_optim("adam", dt)[0]
    start = src.index("for (long i = i0; i < i1; ++i) {") + len("for (long i = i0; i < i1; ++i) {")
    end = src.rindex("}", 0, src.rindex("}"))
    return src[start:end]


def render_multi_adam(dt, k):
    """(source, name, scalar arg dtypes) of the Adam kernel over ``k`` parameters."""
    A = T.COMPUTE[dt]
    ptr = T.ptr(dt, False)
    args, types = [], []
    for j in range(k):
        for b in _BUFS:
            args += [f"{ptr} {b}{j}", f"long {b}{j}_off"]
            types += [None, numpy.int64]
        args += [f"long n{j}", f"long c{j}", f"long per{j}"]  # size, first work-item, chunk
        types += [numpy.int64] * 3
    scalars = ["decay", "one_m_b1", "beta2", "one_m_b2", "eps", "wd", "step_size", "bc2"]
    args += [f"{A} {s}" for s in scalars] + ["int decoupled", "int maximize", "long end"]
    types += [T.NP_COMPUTE[dt]] * len(scalars) + [numpy.int32] * 2 + [numpy.int64]
    pick = []
    for j in range(k):
        sets = " ".join(f"{b} = {b}{j}; {b}_off = {b}{j}_off;" for b in _BUFS)
        body = f"{{ {sets} n = n{j}; per = per{j}; wi -= c{j}; }}"
        if k == 1:
            pick.append(body)
        elif j == 0:
            pick.append(f"if (wi < c1) {body}")
        elif j < k - 1:
            pick.append(f"else if (wi < c{j + 1}) {body}")
        else:
            pick.append(f"else {body}")
    decl = " ".join(f"{ptr} {b}; long {b}_off;" for b in _BUFS)
    name = f"adam_multi_{k}"
    src = f"""
__kernel void {name}({", ".join(args)}) {{
  long wi = get_global_id(0);
  if (wi >= end) return;
  {decl} long n, per;
  {chr(10).join(pick)}
  {ptr} vmax = p; long vmax_off = p_off;
  const int amsgrad = 0;
  long i0 = wi * per, i1 = min(i0 + per, n);
  for (long i = i0; i < i1; ++i) {{{_eager_body(dt)}
  }}
}}
"""
    return src, name, types


class MultiTensorAdam:
    """``adam_step``'s signature, few launches; falls back to the backend's own per
    parameter where the multi-tensor kernel does not apply."""

    def __init__(self, backend):
        self.backend = backend

    def __call__(self, params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, hyper):
        be = self.backend
        bufs = list(zip(params, grads, exp_avgs, exp_avg_sqs))
        if hyper["amsgrad"] or not params or any(
                type(b) is not CLArray or not b.is_contiguous() or b.dname != params[0].dname
                or b.device != params[0].device for row in bufs for b in row) or \
                params[0].dname not in ("float32", "float64"):
            return be.adam_step(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, hyper)
        lr, beta1, beta2, step = hyper["lr"], hyper["beta1"], hyper["beta2"], hyper["step"]
        dt = params[0].dname
        dev = be.devices[params[0].device]
        scalars = [1 - lr * hyper["weight_decay"], 1 - beta1, beta2, 1 - beta2, hyper["eps"],
                   hyper["weight_decay"], lr / (1 - beta1 ** step),
                   math.sqrt(1 - beta2 ** step)]
        scalars = [T.scalar_arg(dt, s) for s in scalars]
        flags = [numpy.int32(bool(hyper["decoupled"])), numpy.int32(bool(hyper["maximize"]))]
        rows = [r for r in bufs if r[0].size]
        for start in range(0, len(rows), GROUP):
            group = rows[start:start + GROUP]
            k = len(group)
            kernel = dev.kernel(("adam_multi", dt, k), lambda: render_multi_adam(dt, k))
            args, first = [], 0
            for row in group:
                # each parameter split into the eager kernel's chunks: the same elements
                # meet the same (vectorized or remainder) code, so the same roundings
                _, _, per = dev.launch_1d(row[0].size)
                for b in row:
                    args += [b.data, b.offset]
                args += [row[0].size, first, per]
                first += -(-row[0].size // per)
            g = dev.group
            gsize = (max(g, -(-first // g) * g),) if not dev.is_cpu else (first,)
            lsize = (g,) if not dev.is_cpu else (1,)
            kernel(dev.queue, gsize, lsize, *args, *scalars, *flags, first)
