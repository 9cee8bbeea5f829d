"""Activations and losses: softmax / log_softmax along one axis, cross-entropy (+ backward).

softmax walks each row three times (max, sum of exponentials, write); on a CPU one work-item
owns a row (or, along a strided axis, 16 neighbouring rows as vector lanes), on a GPU a
work-group shares it through local-memory trees.
"""
from __future__ import annotations

import math

import numpy

from . import templates as T

_LANES = 16     # softmax_lanes vector width: 8 ran 1.4x slower on PoCL (16 is OpenCL's widest)


def render_softmax(name, dt, nk, mode, log, vw=8):
    """mode 'tree': a work-group per row (GPU); 'vec': a work-item per contiguous row using
    vload/exp on ``vw``-wide vectors (CPU; a strided axis is first copied to the last place,
    since PoCL does not vectorise across work-items whose bodies hold loops)."""
    A = T.COMPUTE[dt]
    args = [f"{T.ptr(dt, False)} out", f"{T.ptr(dt)} x", "long x_off", "long xa", "long oa",
            "long K", "long rows"]
    args += [f"long n{d}, long s{d}, long so{d}" for d in range(nk)]
    types = [None, None] + [numpy.int64] * (5 + 3 * nk)
    decomp = "\n  ".join(f"{{ long q = rr % n{d}; rr /= n{d}; base += q * s{d}; "
                         f"obase += q * so{d}; }}" for d in range(nk - 1, -1, -1))
    ld = lambda k: f"({A}){T.load(dt, 'x', f'base + ({k}) * xa')}"
    mx = "((a >= b || isnan(a)) ? a : b)"
    write = (f"{ld('k')} - m - ls" if log else f"exp({ld('k')} - m) / s")
    step = "L" if mode == "tree" else "1"
    start = "lid" if mode == "tree" else "0"
    head = "long r = get_group_id(0), lid = get_local_id(0), L = get_local_size(0);" \
        if mode == "tree" else "long r = get_global_id(0); if (r >= rows) return;"

    def allreduce(var, fold):  # combine ``var`` across the work-group
        if mode != "tree":
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

    if mode == "vec":
        V = f"{A}{vw}"
        vload = T.vload(dt, vw, "x + base + k")
        vstore = lambda v: T.vstore(dt, vw, v, "out + obase + k")
        vwrite = f"v - m - ls" if log else f"exp(v - m) / s"
        body = f"""
  long kv = K / {vw} * {vw};
  {V} mv = -INFINITY, sv = 0;
  for (long k = 0; k < kv; k += {vw}) {{ {V} v = {vload}; mv = select(mv, v, (v > mv) | isnan(v)); }}
  {A} lanes[{vw}], m = -INFINITY;
  vstore{vw}(mv, 0, lanes);
  for (int l = 0; l < {vw}; ++l) {{ {A} a = lanes[l], b = m; m = {mx}; }}
  for (long k = kv; k < K; ++k) {{ {A} a = {ld('k')}, b = m; m = {mx}; }}
  for (long k = 0; k < kv; k += {vw}) {{ {V} v = {vload}; sv += exp(v - m); }}
  {A} s = 0;
  vstore{vw}(sv, 0, lanes);
  for (int l = 0; l < {vw}; ++l) s += lanes[l];
  for (long k = kv; k < K; ++k) s += exp({ld('k')} - m);
  {A} ls = log(s);
  for (long k = 0; k < kv; k += {vw}) {{ {V} v = {vload}; {vstore(vwrite)}; }}
  for (long k = kv; k < K; ++k) {T.store(dt, "out", "obase + k * oa", write)};"""
    else:
        body = f"""
  {"__local " + A + " sh[256];" if mode == "tree" else ""}
  {A} m = -INFINITY;
  for (long k = {start}; k < K; k += {step}) {{ {A} a = {ld('k')}, b = m; m = {mx}; }}{allreduce("m", mx)}
  {A} s = 0;
  for (long k = {start}; k < K; k += {step}) s += exp({ld('k')} - m);{allreduce("s", "a + b")}
  {A} ls = log(s);
  for (long k = {start}; k < K; k += {step}) {T.store(dt, "out", "obase + k * oa", write)};"""
    src = f"""
__kernel void {name}({", ".join(args)}) {{
  {head}
  long base = x_off, obase = 0, rr = r;
  {decomp}{body}
}}
"""
    return src, name, types


def render_softmax_lanes(name, dt, nk, log, vw):
    """CPU softmax along a strided axis whose neighbours are contiguous (dim 0 of a matrix):
    a work-item owns ``vw`` neighbouring lanes and walks the axis three times with vector
    loads (max, sum of exponentials, write), instead of copying the axis to the last place
    and back. Outer kept axes are ``n{d}, s{d}, so{d}``; the lane axis has stride 1."""
    A = T.COMPUTE[dt]
    V = f"{A}{vw}"
    args = [f"{T.ptr(dt, False)} out", f"{T.ptr(dt)} x", "long x_off", "long xa", "long oa",
            "long K", "long nl"]
    args += [f"long n{d}, long s{d}, long so{d}" for d in range(nk - 1)]
    types = [None, None] + [numpy.int64] * (5 + 3 * (nk - 1))
    decomp = "\n  ".join(f"{{ long q = rr % n{d}; rr /= n{d}; base += q * s{d}; "
                         f"obase += q * so{d}; }}" for d in range(nk - 2, -1, -1))
    vload = lambda off: T.vload(dt, vw, f"x + {off}")
    vstore = lambda v, off: T.vstore(dt, vw, v, f"out + {off}")
    ld = lambda off: f"({A}){T.load(dt, 'x', off)}"
    mx = "((a >= b || isnan(a)) ? a : b)"
    vwrite = "v - m - log(s)" if log else "exp(v - m) / s"
    write = f"{ld('xo')} - m - ls" if log else f"exp({ld('xo')} - m) / s"
    src = f"""
__kernel void {name}({", ".join(args)}) {{
  long w = get_global_id(0), chunks = (nl + {vw - 1}) / {vw}, j0 = (w % chunks) * {vw};
  long rr = w / chunks, base = x_off + j0, obase = j0;
  {decomp}
  if (j0 + {vw} <= nl) {{
    {V} m = -INFINITY, s = 0;
    for (long k = 0; k < K; ++k) {{ {V} v = {vload("base + k * xa")}; m = select(m, v, (v > m) | isnan(v)); }}
    for (long k = 0; k < K; ++k) {{ {V} v = {vload("base + k * xa")}; s += exp(v - m); }}
    for (long k = 0; k < K; ++k) {{ {V} v = {vload("base + k * xa")}; {vstore(vwrite, "obase + k * oa")}; }}
    return;
  }}
  for (long j = 0; j < nl - j0; ++j) {{
    {A} m = -INFINITY, s = 0;
    for (long k = 0; k < K; ++k) {{ long xo = base + j + k * xa; {A} a = {ld('xo')}, b = m; m = {mx}; }}
    for (long k = 0; k < K; ++k) {{ long xo = base + j + k * xa; s += exp({ld('xo')} - m); }}
    {A} ls = log(s);
    for (long k = 0; k < K; ++k) {{
      long xo = base + j + k * xa;
      {T.store(dt, "out", "obase + j + k * oa", write)};
    }}
  }}
}}
"""
    return src, name, types


def render_cross_entropy(dt, backward):
    """Forward: one work-item per row -> (loss, lse). Backward: chunks of the (n, c) grid."""
    A = T.COMPUTE[dt]
    common = (f"{T.ptr(dt)} x, long x_off, long xr, long xc, __global const long* t, "
              "long t_off, long ts, long ignore, long n, long c, __global int* err")
    types = [None] + [numpy.int64] * 3 + [None] + [numpy.int64] * 5 + [None]
    # a target outside [0, c) (other than ignore) reads no logit -- the picked one counts as
    # 0 and the gradient has no one-hot term -- and sets the device's error flag
    if not backward:
        src = f"""
__kernel void cross_entropy({T.ptr(dt, False)} loss, {T.ptr(dt, False)} lse, {common}) {{
  long i = get_global_id(0);
  if (i >= n) return;
  long row = x_off + i * xr;
  {A} m = -INFINITY, s = 0;
  for (long j = 0; j < c; ++j) {{
    {A} v = {T.load(dt, "x", "row + j * xc")};
    m = (m >= v || isnan(m)) ? m : v;
  }}
  for (long j = 0; j < c; ++j) s += exp(({A}){T.load(dt, "x", "row + j * xc")} - m);
  {A} ls = log(s);
  long k = t[t_off + i * ts];
  int bad = k != ignore && (k < 0 || k >= c);
  if (bad) *err = 1;
  {A} picked = (k != ignore && !bad) ? ({A}){T.load(dt, "x", "row + k * xc")} : 0;
  {T.store(dt, "lse", "i", "ls + m")};
  /* log(s) - (x[k] - m), as torch's log_softmax: lse - x[k] would first round lse to m's
     precision (1e7 + log 2 == 1e7 in float32: a loss of 0 instead of 0.693) */
  {T.store(dt, "loss", "i", "k != ignore ? ls - (picked - m) : 0")};
}}
"""
        return src, "cross_entropy", [None, None] + types
    # a work-item per row recomputes the row's max and log-sum (the cache holds the row):
    # exp(x - lse) would lose what lse's rounding lost (1e7 + 0.69 is 1e7 + 1 in float32)
    src = f"""
__kernel void cross_entropy_backward({T.ptr(dt, False)} out, {T.ptr(dt)} g, long g_off,
    long gs, {common}) {{
  long i = get_global_id(0);
  if (i >= n) return;
  long row = x_off + i * xr, k = t[t_off + i * ts];
  if (k != ignore && (k < 0 || k >= c)) *err = 1;
  {A} w = k != ignore ? ({A}){T.load(dt, "g", "g_off + i * gs")} : 0;
  long o = i * c;
  {A} m = -INFINITY, s = 0;
  for (long j = 0; j < c; ++j) {{
    {A} v = {T.load(dt, "x", "row + j * xc")};
    m = (m >= v || isnan(m)) ? m : v;
  }}
  for (long j = 0; j < c; ++j) {{   /* exp(x - m) kept in out: one exp per element */
    {A} e = exp(({A}){T.load(dt, "x", "row + j * xc")} - m);
    s += e;
    {T.store(dt, "out", "o + j", "e")};
  }}
  {A} inv = 1 / s;
  for (long j = 0; j < c; ++j) {{
    {A} p = ({A}){T.load(dt, "out", "o + j")} * inv;
    {T.store(dt, "out", "o + j", "(p - (j == k ? 1 : 0)) * w")};
  }}
}}
"""
    return src, "cross_entropy_backward", [None, None] + [numpy.int64] * 2 + types


class NN:

    def cross_entropy(self, x, target, ignore_index):
        dev = self.devices[x.device]
        dt, n, c = x.dname, x.shape[0], x.shape[1]
        loss, lse = self._new((n,), dt, x.device), self._new((n,), dt, x.device)
        if n:
            kernel = dev.kernel(("cross_entropy", dt), lambda: render_cross_entropy(dt, False))
            kernel(dev.queue, (n,), None if not dev.is_cpu else (1,), loss.data, lse.data,
                   x.data, x.offset, *x.strides, target.data, target.offset,
                   target.strides[0], ignore_index, n, c, dev.index_error)
            dev.index_dirty = True
        return loss, lse

    def cross_entropy_backward(self, g, x, target, lse, ignore_index):
        dev = self.devices[x.device]
        dt, n, c = x.dname, x.shape[0], x.shape[1]
        out = self._new((n, c), dt, x.device)
        if out.size:
            kernel = dev.kernel(("cross_entropy_backward", dt),
                                lambda: render_cross_entropy(dt, True))
            kernel(dev.queue, (n,), None if not dev.is_cpu else (1,), out.data, g.data,
                   g.offset, g.strides[0], x.data, x.offset, *x.strides, target.data,
                   target.offset, target.strides[0], ignore_index, n, c, dev.index_error)
            dev.index_dirty = True
        return out

    def _softmax(self, x, axis, log):
        dev = self.devices[x.device]
        dt = x.dname
        if T.KIND[dt] != "f":   # the float kernel would not build: say so, as torch does
            raise NotImplementedError(f'"{"log_" if log else ""}softmax_kernel_impl" not '
                                      f"implemented for '{dt}'")
        if dev.is_cpu and x.strides[axis] != 1 and x.shape[axis] > 1 and x.size:
            lanes = self._softmax_lanes(dev, x, axis, log)
            if lanes is not None:
                return lanes
            order = [d for d in range(x.ndim) if d != axis] + [axis]
            moved = self._softmax(self.copy(self.permute(x, order)), x.ndim - 1, log)
            return self.copy(self.permute(moved, [order.index(d) for d in range(x.ndim)]))
        out = self._new(x.shape, dt, x.device)
        K = x.shape[axis]
        if dev.is_cpu and out.strides[axis] != 1 and K > 1:
            # the vec kernel stores vectors along the axis, so its output must be contiguous
            # there too: write it with the axis last and hand back the permuted view (the
            # layout an input with a unit-stride inner axis has, as torch's empty_like keeps)
            order = [d for d in range(x.ndim) if d != axis] + [axis]
            moved = self._new([x.shape[d] for d in order], dt, x.device)
            out = self.permute(moved, [order.index(d) for d in range(x.ndim)])
        if out.size:
            others = [d for d in range(x.ndim) if d != axis]
            kshape, (ks, kso) = T.collapse([x.shape[d] for d in others],
                                           [tuple(x.strides[d] for d in others),
                                            tuple(out.strides[d] for d in others)])
            nk, rows = len(kshape), math.prod(kshape)
            mode = "vec" if dev.is_cpu else "tree"
            name = "log_softmax" if log else "softmax"
            kernel = dev.kernel((name, dt, nk, mode),
                                lambda: render_softmax(name, dt, nk, mode, log))
            args = [out.data, x.data, x.offset, x.strides[axis], out.strides[axis], K, rows]
            for n, s, so in zip(kshape, ks, kso):
                args += [n, s, so]
            if mode == "tree":
                L = min(256, 1 << max(0, (K - 1).bit_length()))
                kernel(dev.queue, (rows * L,), (L,), *args)
            else:
                kernel(dev.queue, (rows,), (1,), *args)
        return out

    def _softmax_lanes(self, dev, x, axis, log):
        """softmax along a strided axis on a CPU, vectorised across the contiguous kept axis
        (render_softmax_lanes); None when no kept axis is contiguous and 16 lanes wide."""
        out = self._new(x.shape, x.dname, x.device)
        others = [d for d in range(x.ndim) if d != axis]
        kshape, (ks, kso) = T.collapse([x.shape[d] for d in others],
                                       [tuple(x.strides[d] for d in others),
                                        tuple(out.strides[d] for d in others)])
        vw = _LANES
        if ks[-1] != 1 or kso[-1] != 1 or kshape[-1] < vw:
            return None
        nk, dt = len(kshape), x.dname
        name = "log_softmax_lanes" if log else "softmax_lanes"
        kernel = dev.kernel((name, dt, nk, vw),
                            lambda: render_softmax_lanes(name, dt, nk, log, vw))
        args = [out.data, x.data, x.offset, x.strides[axis], out.strides[axis], x.shape[axis],
                kshape[-1]]
        for n, s, so in zip(kshape[:-1], ks[:-1], kso[:-1]):
            args += [n, s, so]
        work = math.prod(kshape[:-1]) * -(-kshape[-1] // vw)
        kernel(dev.queue, (work,), (1,), *args)
        return out

    def softmax(self, x, axis):
        return self._softmax(x, axis, False)

    def log_softmax(self, x, axis):
        return self._softmax(x, axis, True)


# ---------------------------------------------------------------- gelu and layer norm
# Exact gelu (+ backward) and layer norm (+ backward) as single kernels, in the cpu
# backend's operation order (backends/xp/nn.py) so the two agree to float32 rounding; without
# them the frontend composes each from erf, mul, add, mean, var ... (many launches a step).
#
# ``FP_CONTRACT OFF`` keeps the compiler from fusing a multiply and an add into one fma, which
# numpy's separate passes never do. Layer norm runs a work-item per row (the weight and bias
# gradients a work-item per column): rows are short (the model width) and many.
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


# ---------------------------------------------------------------------- batch norm
# Training-mode batch norm (+ backward), channels on axis 1 of a dense x read as (N, C, S):
# per-channel sums a work-item per channel (compensated, so a channel of 25,000 values sums
# to float32 rounding, as numpy's pairwise sums do), then one elementwise launch over x in
# the cpu backend's operation order (backends/xp/nn.py).
def render_batch_norm(dt, part):
    """part 'stats': mean and biased var per channel; 'apply': out = x * alpha + beta;
    'bstats': dweight, dbias and the dx coefficient k per channel; 'dx': dx per element."""
    A = T.COMPUTE[dt]
    P, Q = T.ptr(dt, False), T.ptr(dt)
    ld = lambda p, i: f"({A}){T.load(dt, p, i)}"
    def sums(term, into):     # compensated sum of term over channel c's N * S values
        return f"""
  {A} {into} = 0;
  {{ {A} comp = 0;
    for (long j = 0; j < nb; ++j)
      for (long q = 0; q < S; ++q) {{
        long o = (j * C + c) * S + q;
        {A} y = {term} - comp, t = {into} + y;
        comp = (t - {into}) - y; {into} = t;
      }} }}"""
    invstd = f"({A})1 / sqrt({ld('var', 'c')} + eps)"
    if part == "stats":
        args = [f"{P} mean", f"{P} var", f"{Q} x", "long nb", "long C", "long S"]
        types = [None] * 3 + [numpy.int64] * 3
        body = f"""{sums(ld('x', 'o'), 's')}
  {A} m = s / ({A})(nb * S);
  {T.store(dt, "mean", "c", "m")};{sums(f"({ld('x', 'o')} - m) * ({ld('x', 'o')} - m)", 'v')}
  {T.store(dt, "var", "c", f"v / ({A})(nb * S)")};"""
        count = "C"
    elif part == "bstats":
        args = [f"{P} dw", f"{P} db", f"{P} k", f"{Q} g", f"{Q} x", f"{Q} mean", f"{Q} var",
                f"{A} eps", "long nb", "long C", "long S"]
        types = [None] * 7 + [T.NP_COMPUTE[dt]] + [numpy.int64] * 3
        body = f"""
  {A} m = {ld('mean', 'c')}, r = {invstd};{sums(ld('g', 'o'), 'sg')}{sums(f"{ld('g', 'o')} * ({ld('x', 'o')} - m)", 'dp')}
  {T.store(dt, "dw", "c", "dp * r")};
  {T.store(dt, "db", "c", "sg")};
  {T.store(dt, "k", "c", f"dp * r * r / ({A})(nb * S)")};"""
        count = "C"
    else:
        apply = part == "apply"
        args = ([f"{P} out", f"{Q} x", f"{Q} w", f"{Q} b", f"{Q} mean", f"{Q} var"] if apply
                else [f"{P} out", f"{Q} g", f"{Q} x", f"{Q} w", f"{Q} mean", f"{Q} var",
                      f"{Q} k", f"{Q} db"])
        args += ["int has_w", "int has_b", f"{A} eps", "long n", "long C", "long S",
                 "long per", "long count"]
        types = [None] * (len(args) - 8) + [numpy.int32] * 2 + [T.NP_COMPUTE[dt]] + \
            [numpy.int64] * 5
        scale = f"(has_w ? r * {ld('w', 'c')} : r)"
        if apply:
            elem = f"""
    {A} alpha = {scale};
    {A} beta = has_b ? {ld('b', 'c')} - {ld('mean', 'c')} * alpha : -{ld('mean', 'c')} * alpha;
    {T.store(dt, "out", "i", f"{ld('x', 'i')} * alpha + beta")};"""
        else:
            elem = f"""
    {A} cen = {ld('x', 'i')} - {ld('mean', 'c')};
    {A} d = ({ld('g', 'i')} - cen * {ld('k', 'c')}) - {ld('db', 'c')} / ({A})count;
    {T.store(dt, "out", "i", f"d * {scale}")};"""
        body = f"""
  long i0 = i * per, i1 = min(i0 + per, n);
  for (long ii = i0; ii < i1; ++ii) {{
    long i = ii, c = (i / S) % C;
    {A} r = {invstd};{elem}
  }}"""
        count = "n"
    name = f"batch_norm_{part}"
    head = "long c = get_global_id(0); if (c >= C) return;" if count == "C" else \
        "long i = get_global_id(0); if (i * per >= n) return;"
    src = f"""
#pragma OPENCL FP_CONTRACT OFF
__kernel void {name}({", ".join(args)}) {{
  {head}{body}
}}
"""
    return src, name, types


class BatchNorm:

    def _bn_launch(self, dev, part, dt, work, *args):
        kernel = dev.kernel((f"batch_norm_{part}", dt), lambda: render_batch_norm(dt, part))
        g = 1 if dev.is_cpu else min(dev.group, 64)
        kernel(dev.queue, (max(g, -(-work // g) * g),), (g,), *args)

    def _bn_each(self, dev, part, dt, x, c, s, *args):
        """An elementwise part over x's elements, ``per`` a work-item."""
        _, _, per = dev.launch_1d(x.size)
        self._bn_launch(dev, part, dt, -(-x.size // per), *args, x.size, c, s, per,
                        x.size // c)

    def batch_norm(self, x, weight, bias, eps):
        dev, dt = self.devices[x.device], x.dname
        x, weight, bias = (self._offset_free(self._dense(b)) if b is not None else None
                           for b in (x, weight, bias))
        nb, c = x.shape[0], x.shape[1]
        s = x.size // (nb * c) if nb * c else 0
        out = self._new(x.shape, dt, x.device)
        mean, var = self._new((c,), dt, x.device), self._new((c,), dt, x.device)
        if x.size:
            self._bn_launch(dev, "stats", dt, c, mean.data, var.data, x.data, nb, c, s)
            w, b = (t if t is not None else x for t in (weight, bias))
            self._bn_each(dev, "apply", dt, x, c, s, out.data, x.data, w.data, b.data,
                          mean.data, var.data, int(weight is not None), int(bias is not None),
                          T.scalar_arg(dt, eps))
        return out, mean, var

    def batch_norm_backward(self, g, x, weight, mean, var, eps):
        dev, dt = self.devices[x.device], x.dname
        g, x, weight, mean, var = (self._offset_free(self._dense(b)) if b is not None else None
                                   for b in (g, x, weight, mean, var))
        nb, c = x.shape[0], x.shape[1]
        s = x.size // (nb * c) if nb * c else 0
        dx = self._new(x.shape, dt, x.device)
        dw, db, k = (self._new((c,), dt, x.device) for _ in range(3))
        if x.size:
            e = T.scalar_arg(dt, eps)
            self._bn_launch(dev, "bstats", dt, c, dw.data, db.data, k.data, g.data, x.data,
                            mean.data, var.data, e, nb, c, s)
            w = weight if weight is not None else x
            self._bn_each(dev, "dx", dt, x, c, s, dx.data, g.data, x.data, w.data, mean.data,
                          var.data, k.data, db.data, int(weight is not None), 0, e)
        return dx, dw, db


# ---------------------------------------------------------------------- LSTM cell
# One LSTM time step as one launch each way (the fused recurrent layer calls them once a step,
# between its GEMMs), a work-item per ``per`` (row, unit) pairs; the arithmetic in the cpu
# kernel's order (backends/xp/nn.py). Gates are (rows, 4H) in the order i, f, g, o.
def render_lstm_cell(dt, backward):
    A = T.COMPUTE[dt]
    P, Q = T.ptr(dt, False), T.ptr(dt)
    ld = lambda p, i: f"({A}){T.load(dt, p, f'{p}_off + {i}')}"
    sig = lambda v: f"({A})1 / (exp(-{v}) + ({A})1)"
    if not backward:
        outs, ins = ["h_out", "c_out", "ws"], ["ig", "hg", "c"]
        body = f"""
    {A} gi = {sig(f"({ld('hg', 'b')} + {ld('ig', 'b')})")};
    {A} gf = {sig(f"({ld('hg', 'b + H')} + {ld('ig', 'b + H')})")};
    {A} gg = tanh({ld('hg', 'b + 2 * H')} + {ld('ig', 'b + 2 * H')});
    {A} go = {sig(f"({ld('hg', 'b + 3 * H')} + {ld('ig', 'b + 3 * H')})")};
    {T.store(dt, "ws", "ws_off + b", "gi")};
    {T.store(dt, "ws", "ws_off + b + H", "gf")};
    {T.store(dt, "ws", "ws_off + b + 2 * H", "gg")};
    {T.store(dt, "ws", "ws_off + b + 3 * H", "go")};
    {A} cn = gf * {ld('c', 's')} + gi * gg;
    {T.store(dt, "c_out", "c_out_off + s", "cn")};
    {T.store(dt, "h_out", "h_out_off + s", "go * tanh(cn)")};"""
    else:
        outs, ins = ["dgates", "dc_prev"], ["gh", "gc", "c", "cn", "ws"]
        body = f"""
    {A} gi = {ld('ws', 'b')}, gf = {ld('ws', 'b + H')}, gg = {ld('ws', 'b + 2 * H')};
    {A} go = {ld('ws', 'b + 3 * H')}, tc = tanh({ld('cn', 's')}), dh = {ld('gh', 's')};
    {A} dc = ((({A})1 - tc * tc) * go) * dh + {ld('gc', 's')};
    {T.store(dt, "dgates", "dgates_off + b", f"((({A})1 - gi) * gi * gg) * dc")};
    {T.store(dt, "dgates", "dgates_off + b + H", f"((({A})1 - gf) * gf * {ld('c', 's')}) * dc")};
    {T.store(dt, "dgates", "dgates_off + b + 2 * H", f"((({A})1 - gg * gg) * gi) * dc")};
    {T.store(dt, "dgates", "dgates_off + b + 3 * H", f"((({A})1 - go) * go * tc) * dh")};
    {T.store(dt, "dc_prev", "dc_prev_off + s", "dc * gf")};"""
    name = "lstm_cell_backward" if backward else "lstm_cell"
    args = [f"{P} {o}, long {o}_off" for o in outs] + [f"{Q} {b}, long {b}_off" for b in ins]
    args += ["long n", "long H", "long per"]
    types = [None, numpy.int64] * (len(outs) + len(ins)) + [numpy.int64] * 3
    src = f"""
#pragma OPENCL FP_CONTRACT OFF
__kernel void {name}({", ".join(args)}) {{
  long i0 = get_global_id(0) * per, i1 = min(i0 + per, n);
  for (long s = i0; s < i1; ++s) {{
    long b = (s / H) * 4 * H + s % H;{body}
  }}
}}
"""
    return src, name, types


class LSTMCell:

    def _cell_launch(self, backward, like, *bufs):
        dev, dt = self.devices[like.device], like.dname
        n, h = like.size, like.shape[-1]
        if not n:
            return
        kernel = dev.kernel((("lstm_cell_backward" if backward else "lstm_cell"), dt),
                            lambda: render_lstm_cell(dt, backward))
        gsize, lsize, per = dev.launch_1d(n)
        args = []
        for b in bufs:
            args += [b.data, b.offset]
        kernel(dev.queue, gsize, lsize, *args, n, h, per)

    def _written(self, b, what):
        if not b.is_contiguous():
            raise ValueError(f"lstm_cell: {what} must be a dense buffer (it is written)")
        return b

    def lstm_cell(self, input_gates, hidden_gates, c, h_out, c_out, workspace):
        outs = [self._written(b, w) for b, w in ((h_out, "h_out"), (c_out, "c_out"),
                                                 (workspace, "workspace"))]
        self._cell_launch(False, c, *outs, self._dense(input_gates), self._dense(hidden_gates),
                          self._dense(c))

    def lstm_cell_backward(self, grad_h, grad_c, c, c_new, workspace, grad_gates):
        self._written(grad_gates, "grad_gates")
        dc = self._new(c.shape, c.dname, c.device)
        self._cell_launch(True, c, grad_gates, dc, *(self._dense(b) for b in
                                                      (grad_h, grad_c, c, c_new, workspace)))
        return dc
