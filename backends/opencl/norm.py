"""Exact gelu (+ backward) and layer norm (+ backward) as single kernels, in the cpu
backend's operation order (backends/xp/nn.py) so the two agree to float32 rounding; without
them the frontend composes each from erf, mul, add, mean, var ... (many launches a step).

``FP_CONTRACT OFF`` keeps the compiler from fusing a multiply and an add into one fma, which
numpy's separate passes never do. Layer norm runs a work-item per row (the weight and bias
gradients a work-item per column): rows are short (the model width) and many.
"""
from __future__ import annotations

import numpy

from . import templates as T


def render_gelu(dt, backward):
    A = T.COMPUTE[dt]
    ld = lambda p: f"({A}){T.load(dt, p, f'{p}_off + i')}"
    if not backward:
        bufs, outs = ["x"], ["out", "cdf"]
        body = f"""
    {A} v = {ld('x')};
    {A} one_plus = erf(v * ({A})0.7071067811865476) + ({A})1;
    {T.store(dt, "out", "i", f"(v * ({A})0.5) * one_plus")};
    {T.store(dt, "cdf", "i", f"one_plus * ({A})0.5")};"""
    else:
        bufs, outs = ["g", "x", "cdf"], ["out"]
        body = f"""
    {A} v = {ld('x')};
    {A} d = exp((v * v) * ({A})-0.5) * ({A})0.3989422804014327;
    {T.store(dt, "out", "i", f"(d * v + {ld('cdf')}) * {ld('g')}")};"""
    name = "gelu_backward" if backward else "gelu"
    args = [f"{T.ptr(dt, False)} {o}" for o in outs]
    args += [f"{T.ptr(dt)} {b}, long {b}_off" for b in bufs] + ["long n", "long per"]
    types = [None] * len(outs) + [None, numpy.int64] * len(bufs) + [numpy.int64] * 2
    src = f"""
#pragma OPENCL FP_CONTRACT OFF
__kernel void {name}({", ".join(args)}) {{
  long i0 = get_global_id(0) * per, i1 = min(i0 + per, n);
  for (long i = i0; i < i1; ++i) {{{body}
  }}
}}
"""
    return src, name, types


def render_layer_norm(dt, part):
    """part 'forward': (out, mean, rstd) a work-item per row; 'dx': a work-item per row;
    'dwb': dweight and dbias a work-item per column."""
    A = T.COMPUTE[dt]
    P, Q = T.ptr(dt, False), T.ptr(dt)
    ld = lambda p, i: f"({A}){T.load(dt, p, i)}"
    if part == "forward":
        args = [f"{P} out", f"{P} mean", f"{P} rstd", f"{Q} x", f"{Q} w", f"{Q} b",
                "int has_w", "int has_b", f"{A} eps", "long rows", "long n"]
        types = [None] * 6 + [numpy.int32] * 2 + [T.NP_COMPUTE[dt]] + [numpy.int64] * 2
        body = f"""
  {A} s = 0;
  for (long k = 0; k < n; ++k) s += {ld('x', 'o + k')};
  {A} m = s / ({A})n, v = 0;
  for (long k = 0; k < n; ++k) {{ {A} c = {ld('x', 'o + k')} - m; v += c * c; }}
  {A} r = ({A})1 / sqrt(v / ({A})n + eps), shift = -m * r;
  {T.store(dt, "mean", "i", "m")};
  {T.store(dt, "rstd", "i", "r")};
  for (long k = 0; k < n; ++k) {{
    {A} y = {ld('x', 'o + k')} * r + shift;
    if (has_w) y = y * {ld('w', 'k')};
    if (has_b) y = y + {ld('b', 'k')};
    {T.store(dt, "out", "o + k", "y")};
  }}"""
    elif part == "dx":
        args = [f"{P} dx", f"{Q} g", f"{Q} x", f"{Q} w", f"{Q} mean", f"{Q} rstd",
                "int has_w", "long rows", "long n"]
        types = [None] * 6 + [numpy.int32] + [numpy.int64] * 2
        gw = f"({ld('g', 'o + k')} * (has_w ? {ld('w', 'k')} : ({A})1))"
        body = f"""
  {A} r = {ld('rstd', 'i')}, shift = -{ld('mean', 'i')} * r, sg = 0, sp = 0;
  for (long k = 0; k < n; ++k) {{
    {A} gw = {gw}, xh = {ld('x', 'o + k')} * r + shift;
    sg += gw; sp += gw * xh;
  }}
  {A} proj = sp / ({A})n, mg = sg / ({A})n;
  for (long k = 0; k < n; ++k) {{
    {A} gw = {gw}, xh = {ld('x', 'o + k')} * r + shift;
    {T.store(dt, "dx", "o + k", "((gw - xh * proj) - mg) * r")};
  }}"""
    else:
        args = [f"{P} dw", f"{P} db", f"{Q} g", f"{Q} x", f"{Q} mean", f"{Q} rstd",
                "long rows", "long n"]
        types = [None] * 6 + [numpy.int64] * 2
        body = f"""
  {A} sw = 0, sb = 0;
  for (long j = 0; j < rows; ++j) {{
    {A} r = {ld('rstd', 'j')}, gv = {ld('g', 'j * n + i')};
    sw += gv * ({ld('x', 'j * n + i')} * r + -{ld('mean', 'j')} * r);
    sb += gv;
  }}
  {T.store(dt, "dw", "i", "sw")};
  {T.store(dt, "db", "i", "sb")};"""
    count = "n" if part == "dwb" else "rows"
    src = f"""
#pragma OPENCL FP_CONTRACT OFF
__kernel void layer_norm_{part}({", ".join(args)}) {{
  long i = get_global_id(0);
  if (i >= {count}) return;
  long o = i * n;{body}
}}
"""
    return src, f"layer_norm_{part}", types


class Norm:

    def _dense(self, b):
        return b if b is None or b.is_contiguous() else self.copy(b)

    def gelu(self, x):
        dev, dt = self.devices[x.device], x.dname
        x = self._dense(x)
        out, cdf = self._new(x.shape, dt, x.device), self._new(x.shape, dt, x.device)
        if x.size:
            kernel = dev.kernel(("gelu", dt), lambda: render_gelu(dt, False))
            gsize, lsize, per = dev.launch_1d(x.size)
            kernel(dev.queue, gsize, lsize, out.data, cdf.data, x.data, x.offset, x.size, per)
        return out, cdf

    def gelu_backward(self, g, x, cdf):
        dev, dt = self.devices[x.device], x.dname
        g, x, cdf = self._dense(g), self._dense(x), self._dense(cdf)
        out = self._new(x.shape, dt, x.device)
        if x.size:
            kernel = dev.kernel(("gelu_backward", dt), lambda: render_gelu(dt, True))
            gsize, lsize, per = dev.launch_1d(x.size)
            kernel(dev.queue, gsize, lsize, out.data, g.data, g.offset, x.data, x.offset,
                   cdf.data, cdf.offset, x.size, per)
        return out

    def _launch_rows(self, dev, key, part, dt, count, *args):
        kernel = dev.kernel(key, lambda: render_layer_norm(dt, part))
        g = 1 if dev.is_cpu else min(dev.group, 64)
        kernel(dev.queue, (max(g, -(-count // g) * g),), (g,), *args)

    def layer_norm(self, x, weight, bias, n, eps):
        dev, dt = self.devices[x.device], x.dname
        x, weight, bias = self._dense(x), self._dense(weight), self._dense(bias)
        rows = x.size // n if n else 0
        out = self._new(x.shape, dt, x.device)
        mean, rstd = self._new((rows,), dt, x.device), self._new((rows,), dt, x.device)
        if rows and n:
            xb = self._offset_free(x)
            wb, bb = (self._offset_free(b) if b is not None else xb for b in (weight, bias))
            self._launch_rows(dev, ("layer_norm_forward", dt), "forward", dt, rows,
                              out.data, mean.data, rstd.data, xb.data, wb.data, bb.data,
                              int(weight is not None), int(bias is not None),
                              T.scalar_arg(dt, eps), rows, n)
        return out, mean, rstd

    def layer_norm_backward(self, g, x, weight, mean, rstd, n):
        dev, dt = self.devices[x.device], x.dname
        g, x, weight, mean, rstd = (self._offset_free(self._dense(b)) if b is not None else None
                                    for b in (g, x, weight, mean, rstd))
        rows = x.size // n if n else 0
        dx = self._new(x.shape, dt, x.device)
        dw, db = self._new((n,), dt, x.device), self._new((n,), dt, x.device)
        if rows and n:
            w = weight if weight is not None else x
            self._launch_rows(dev, ("layer_norm_dx", dt), "dx", dt, rows, dx.data, g.data,
                              x.data, w.data, mean.data, rstd.data, int(weight is not None),
                              rows, n)
        if n:
            self._launch_rows(dev, ("layer_norm_dwb", dt), "dwb", dt, n, dw.data, db.data,
                              g.data, x.data, mean.data, rstd.data, rows, n)
        return dx, dw, db

    def _offset_free(self, b):
        """A buffer whose data starts at element 0 (these kernels take no offsets)."""
        return b if b.offset == 0 else self.copy(b)
