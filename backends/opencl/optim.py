"""Optimizer steps: one launch per parameter does its whole SGD or Adam update, in the order
the cpu backend (and torch's single-tensor path) uses, so trajectories agree to rounding.
"""
from __future__ import annotations

import math

import numpy

from . import templates as T


def render_optim(kind, dt):
    """Single-parameter SGD or Adam update over contiguous buffers (flags as arguments)."""
    A = T.COMPUTE[dt]
    ld = lambda p: f"({A}){T.load(dt, p, f'{p}_off + i')}"
    st = lambda p, v: T.store(dt, p, f"{p}_off + i", v) + ";"
    if kind == "sgd":
        # one_m_damp = 1 - dampening, computed in double on the host as torch does
        bufs, scalars = ["p", "g", "buf"], ["lr", "momentum", "one_m_damp", "wd"]
        flags = ["nesterov", "maximize", "first", "has_momentum"]
        body = f"""
    {A} d = {ld('g')}, w = {ld('p')};
    if (maximize) d = -d;
    if (wd != 0) d = d + wd * w;
    if (has_momentum) {{
      {A} b = first ? d : {ld('buf')} * momentum + one_m_damp * d;
      {st('buf', 'b')}
      d = nesterov ? d + momentum * b : b;
    }}
    {st('p', 'w - lr * d')}"""
    else:
        # 1 - beta1, 1 - beta2 and 1 - lr * wd arrive computed in double on the host, as
        # torch computes them: 1 - 0.999f in float is off by 1.3e-5 relative
        bufs, scalars = ["p", "g", "ma", "va", "vmax"], ["decay", "one_m_b1", "beta2",
                                                       "one_m_b2", "eps", "wd", "step_size",
                                                       "bc2"]
        flags = ["decoupled", "amsgrad", "maximize"]
        body = f"""
    {A} gr = {ld('g')}, w = {ld('p')};
    if (maximize) gr = -gr;
    if (wd != 0) {{ if (decoupled) w = w * decay; else gr = gr + wd * w; }}
    {A} m = {ld('ma')};
    m = m + one_m_b1 * (gr - m);      /* torch's lerp for weight < 0.5 */
    {A} v = {ld('va')} * beta2 + one_m_b2 * (gr * gr);
    {st('ma', 'm')}
    {st('va', 'v')}
    if (amsgrad) {{ {A} vm = {ld('vmax')}; v = (vm >= v || isnan(vm)) ? vm : v; {st('vmax', 'v')} }}
    {A} denom = sqrt(v) / bc2 + eps;
    {st('p', 'w - step_size * (m / denom)')}"""
    args = [f"{T.ptr(dt, False)} {b}, long {b}_off" for b in bufs]
    args += [f"{A} {s}" for s in scalars] + [f"int {f}" for f in flags] + ["long n", "long per"]
    types = [None, numpy.int64] * len(bufs) + [T.NP_COMPUTE[dt]] * len(scalars) + \
        [numpy.int32] * len(flags) + [numpy.int64] * 2
    src = f"""
__kernel void {kind}_step({", ".join(args)}) {{
  long i0 = get_global_id(0) * per, i1 = min(i0 + per, n);
  for (long i = i0; i < i1; ++i) {{{body}
  }}
}}
"""
    return src, f"{kind}_step", types


class Optim:

    def _step(self, kind, bufs, scalars, flags):
        """Run the fused update; non-contiguous buffers go through contiguous copies."""
        p = bufs[0]
        dev = self.devices[p.device]
        dt = p.dname
        work = [b if b is None or b.is_contiguous() else self.copy(b) for b in bufs]
        kernel = dev.kernel(("optim", kind, dt), lambda: render_optim(kind, dt))
        gsize, lsize, per = dev.launch_1d(p.size)
        args = []
        for b in work:
            b = b if b is not None else work[0]  # unused slot: any valid buffer
            args += [b.data, b.offset]
        args += [T.scalar_arg(dt, s) for s in scalars] + [int(bool(f)) for f in flags]
        if p.size:
            kernel(dev.queue, gsize, lsize, *args, p.size, per)
        for orig, new in zip(bufs, work):
            if orig is not None and new is not orig:
                self.assign(orig, new)

    def sgd_step(self, params, grads, momentum_bufs, hyper):
        momentum = hyper["momentum"]
        for i, (p, g) in enumerate(zip(params, grads)):
            buf = momentum_bufs[i] if momentum != 0 and momentum_bufs else None
            self._step("sgd", [p, g, buf],
                       [hyper["lr"], momentum, 1 - hyper["dampening"], hyper["weight_decay"]],
                       [hyper["nesterov"], hyper["maximize"], hyper["first_step"],
                        momentum != 0])

    def adam_step(self, params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, hyper):
        lr, beta1, beta2, step = hyper["lr"], hyper["beta1"], hyper["beta2"], hyper["step"]
        step_size = lr / (1 - beta1 ** step)
        bc2 = math.sqrt(1 - beta2 ** step)
        for i, (p, g) in enumerate(zip(params, grads)):
            vmax = max_exp_avg_sqs[i] if hyper["amsgrad"] and max_exp_avg_sqs else None
            self._step("adam", [p, g, exp_avgs[i], exp_avg_sqs[i], vmax],
                       [1 - lr * hyper["weight_decay"], 1 - beta1, beta2, 1 - beta2, hyper["eps"],
                        hyper["weight_decay"], step_size, bc2],
                       [hyper["decoupled"], hyper["amsgrad"], hyper["maximize"]])
