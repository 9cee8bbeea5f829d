"""Fused kernels: softmax / log_softmax along one axis, and one-launch optimizer steps.

softmax walks each row three times (max, sum of exponentials, write); on a CPU one work-item
owns a row, on a GPU a work-group shares it through local-memory trees. The optimizer kernels
do a parameter's whole update in one pass, in the order the cpu backend (and torch's
single-tensor path) uses, so trajectories agree to rounding.
"""
from __future__ import annotations

import math

import numpy

from . import templates as T


def render_softmax(name, dt, nk, tree, log):
    A = T.COMPUTE[dt]
    args = [f"{T.ptr(dt, False)} out", f"{T.ptr(dt)} x", "long x_off", "long xa", "long K"]
    args += [f"long n{d}, long s{d}" for d in range(nk)]
    types = [None, None] + [numpy.int64] * (3 + 2 * nk)
    decomp = "\n  ".join(f"{{ long q = r % n{d}; r /= n{d}; base += q * s{d}; }}"
                         for d in range(nk - 1, -1, -1))
    ld = lambda k: f"({A}){T.load(dt, 'x', f'base + ({k}) * xa')}"

    def allreduce(var, fold):  # combine ``var`` across the work-group (tree) or not at all
        if not tree:
            return ""
        return f"""
  sh[lid] = {var};
  barrier(CLK_LOCAL_MEM_FENCE);
  for (long s = L / 2; s > 0; s >>= 1) {{
    if (lid < s) {{ {A} a = sh[lid], b = sh[lid + s]; sh[lid] = {fold}; }}
    barrier(CLK_LOCAL_MEM_FENCE);
  }}
  {var} = sh[0];
  barrier(CLK_LOCAL_MEM_FENCE);"""
    mx = "((a >= b || isnan(a)) ? a : b)"
    write = (f"{ld('k')} - m - ls" if log else f"exp({ld('k')} - m) / s")
    src = f"""
__kernel void {name}({", ".join(args)}) {{
  long r = get_group_id(0), lid = get_local_id(0), L = get_local_size(0);
  long base = x_off, obase = r * K;
  {decomp}
  {"__local " + A + " sh[256];" if tree else ""}
  {A} m = -INFINITY;
  for (long k = lid; k < K; k += L) {{ {A} a = {ld('k')}, b = m; m = {mx}; }}{allreduce("m", mx)}
  {A} s = 0;
  for (long k = lid; k < K; k += L) s += exp({ld('k')} - m);{allreduce("s", "a + b")}
  {A} ls = log(s);
  for (long k = lid; k < K; k += L) {T.store(dt, "out", "obase + k", write)};
}}
"""
    return src, name, types


def render_optim(kind, dt):
    """Single-parameter SGD or Adam update over contiguous buffers (flags as arguments)."""
    A = T.COMPUTE[dt]
    ld = lambda p: f"({A}){T.load(dt, p, f'{p}_off + i')}"
    st = lambda p, v: T.store(dt, p, f"{p}_off + i", v) + ";"
    if kind == "sgd":
        bufs, scalars = ["p", "g", "buf"], ["lr", "momentum", "dampening", "wd"]
        flags = ["nesterov", "maximize", "first", "has_momentum"]
        body = f"""
    {A} d = {ld('g')}, w = {ld('p')};
    if (maximize) d = -d;
    if (wd != 0) d = d + wd * w;
    if (has_momentum) {{
      {A} b = first ? d : {ld('buf')} * momentum + (1 - dampening) * d;
      {st('buf', 'b')}
      d = nesterov ? d + momentum * b : b;
    }}
    {st('p', 'w - lr * d')}"""
    else:
        bufs, scalars = ["p", "g", "ma", "va", "vmax"], ["lr", "beta1", "beta2", "eps", "wd",
                                                       "step_size", "bc2"]
        flags = ["decoupled", "amsgrad", "maximize"]
        body = f"""
    {A} gr = {ld('g')}, w = {ld('p')};
    if (maximize) gr = -gr;
    if (wd != 0) {{ if (decoupled) w = w * (1 - lr * wd); else gr = gr + wd * w; }}
    {A} m = {ld('ma')};
    m = m + (1 - beta1) * (gr - m);      /* torch's lerp for weight < 0.5 */
    {A} v = {ld('va')} * beta2 + (1 - beta2) * (gr * gr);
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


class NNKernels:

    def _softmax(self, x, axis, log):
        dev = self.devices[x.device]
        dt = x.dtype.name
        out = self._new(tuple(x.shape[:axis]) + tuple(x.shape[axis + 1:]) + (x.shape[axis],),
                        dt, x.device)
        K = x.shape[axis]
        if out.size:
            others = [d for d in range(x.ndim) if d != axis]
            kshape, (ks,) = T.collapse([x.shape[d] for d in others],
                                       [tuple(x.strides[d] for d in others)])
            nk = len(kshape)
            L = 1 if dev.is_cpu else min(256, 1 << max(0, (K - 1).bit_length()))
            name = "log_softmax" if log else "softmax"
            kernel = dev.kernel((name, dt, nk, L > 1),
                                lambda: render_softmax(name, dt, nk, L > 1, log))
            args = [out.data, x.data, x.offset, x.strides[axis], K]
            for n, s in zip(kshape, ks):
                args += [n, s]
            kernel(dev.queue, (math.prod(kshape) * L,), (L,), *args)
        # the rows were written with the softmax axis last: move it back (a view, no copy)
        order = list(range(x.ndim - 1))
        order.insert(axis, x.ndim - 1)
        return self.permute(out, order) if axis != x.ndim - 1 else out

    def softmax(self, x, axis):
        return self._softmax(x, axis, False)

    def log_softmax(self, x, axis):
        return self._softmax(x, axis, True)

    def _step(self, kind, bufs, scalars, flags):
        """Run the fused update; non-contiguous buffers go through contiguous copies."""
        p = bufs[0]
        dev = self.devices[p.device]
        dt = p.dtype.name
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
                       [hyper["lr"], momentum, hyper["dampening"], hyper["weight_decay"]],
                       [hyper["nesterov"], hyper["maximize"], hyper["first_step"],
                        momentum != 0])

    def adam_step(self, params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, hyper):
        lr, beta1, beta2, step = hyper["lr"], hyper["beta1"], hyper["beta2"], hyper["step"]
        step_size = lr / (1 - beta1 ** step)
        bc2 = math.sqrt(1 - beta2 ** step)
        for i, (p, g) in enumerate(zip(params, grads)):
            vmax = max_exp_avg_sqs[i] if hyper["amsgrad"] and max_exp_avg_sqs else None
            self._step("adam", [p, g, exp_avgs[i], exp_avg_sqs[i], vmax],
                       [lr, beta1, beta2, hyper["eps"], hyper["weight_decay"], step_size, bc2],
                       [hyper["decoupled"], hyper["amsgrad"], hyper["maximize"]])
