"""conv2d and both gradients as im2col + the batched GEMM of :mod:`.linalg`.

The columns are laid out (groups, Cin/g*kh*kw, N, Ho*Wo), so the forward GEMM writes NCHW
directly, the input gradient is GEMM + col2im (a gather, so no atomics), and the weight
gradient is one GEMM per group over K = N*Ho*Wo.
"""
from __future__ import annotations

import numpy

from . import templates as T
from .linalg import _view
from .runtime import contiguous_strides


class Conv:
    """Mixed in beside :class:`.linalg.Linalg`, whose ``_gemm`` it calls."""

    def _cols(self, x, kh, kw, stride, padding, dilation, groups):
        """im2col: (groups, Cin/g*kh*kw, N, Ho*Wo) contiguous columns of x."""
        n, c, h, w = x.shape
        ho = (h + 2 * padding[0] - dilation[0] * (kh - 1) - 1) // stride[0] + 1
        wo = (w + 2 * padding[1] - dilation[1] * (kw - 1) - 1) // stride[1] + 1
        cols = self._new((groups, c // groups * kh * kw, n, ho * wo), x.dname, x.device)
        if cols.size:
            self._conv_map("im2col", cols, x, x.shape, kh, kw, ho, wo, stride, padding,
                           dilation, groups)
        return cols, ho, wo

    def _conv_map(self, name, out, src, x_shape, kh, kw, ho, wo, stride, padding, dilation,
                  groups):
        """im2col / col2im: one launch row per (group, r, n) column row, resp. (n, c) image."""
        dev = self.devices[out.device]
        dt = out.dname
        kernel = dev.kernel((name, dt), lambda: _render_conv_map(name, dt))
        n, c, h, w = x_shape
        inner = ho * wo if name == "im2col" else h * w
        rows = out.size // inner
        per, lx = (inner, 1) if dev.is_cpu else (1, 64)
        gsize = (-(-inner // (per * lx)) * lx, rows)
        kernel(dev.queue, gsize, (lx, 1), out.data, src.data, src.offset, *src.strides[:4],
               n, c, h, w, ho, wo, kh, kw, *stride, *padding, *dilation, groups, inner, per)

    def conv2d(self, x, w, stride, padding, dilation, groups):
        n = x.shape[0]
        cout, cin_g, kh, kw = w.shape
        cols, ho, wo = self._cols(x, kh, kw, stride, padding, dilation, groups)
        og, r, hw = cout // groups, cin_g * kh * kw, ho * wo
        out = self._new((n, cout, ho, wo), x.dname, x.device)
        if not _flat(w):
            w = self.copy(w)
        a = _view(w, (n, groups, og, r), (0, og * r, r, 1))
        b = _view(cols, (n, groups, r, hw), (hw, r * n * hw, n * hw, 1))
        c = _view(out, (n, groups, og, hw), (cout * hw, og * hw, hw, 1), 0)
        self._gemm(a, b, c)
        return out

    def conv2d_input_grad(self, grad, w, x_shape, stride, padding, dilation, groups):
        n, cin, h, wd = x_shape
        cout, cin_g, kh, kw = w.shape
        ho, wo = grad.shape[2], grad.shape[3]
        og, r, hw = cout // groups, cin_g * kh * kw, ho * wo
        if not _flat(w):
            w = self.copy(w)
        if grad.strides != contiguous_strides(grad.shape):
            grad = self.copy(grad)
        dcols = self._new((groups, r, n, hw), grad.dname, grad.device)
        a = _view(w, (n, groups, r, og), (0, og * r, 1, r))          # W_g transposed
        b = _view(grad, (n, groups, og, hw), (cout * hw, og * hw, hw, 1))
        c = _view(dcols, (n, groups, r, hw), (hw, r * n * hw, n * hw, 1), 0)
        self._gemm(a, b, c)
        dx = self._new(tuple(x_shape), grad.dname, grad.device)
        if dx.size:
            self._conv_map("col2im", dx, dcols, x_shape, kh, kw, ho, wo, stride, padding,
                           dilation, groups)
        return dx

    def conv2d_weight_grad(self, x, grad, w_shape, stride, padding, dilation, groups):
        cout, cin_g, kh, kw = w_shape
        n = x.shape[0]
        cols, ho, wo = self._cols(x, kh, kw, stride, padding, dilation, groups)
        og, r, hw = cout // groups, cin_g * kh * kw, ho * wo
        # grad as (groups, N*Ho*Wo, og), contiguous: the right operand of dW^T = cols @ grad^T
        if grad.strides != contiguous_strides(grad.shape):
            grad = self.copy(grad)
        gs = grad.strides
        gt = self.copy(_view(grad, (groups, n, hw, og), (og * gs[1], gs[0], gs[3], gs[1])))
        dwt = self._new((groups, r, og), x.dname, x.device)
        a = _view(cols, (groups, r, n * hw), (r * n * hw, n * hw, 1), 0)
        b = _view(gt, (groups, n * hw, og), (n * hw * og, og, 1), 0)
        self._gemm(a, b, dwt)
        # dW[g*og + o, r] = dwt[g, r, o]
        return self.reshape(self.copy(self.permute(dwt, (0, 2, 1))), tuple(w_shape))


def _flat(w):
    """True when weight (Cout, Cin/g, kh, kw) is C-contiguous over its last three axes."""
    s, (co, ci, kh, kw) = w.strides, w.shape
    return s[3] == 1 and s[2] == kw and s[1] == kh * kw and s[0] == ci * kh * kw


def _render_conv_map(name, dt):
    """im2col writes each column row (group, r, n) of Ho*Wo values walking the receptive
    positions incrementally (no divisions per element); col2im computes each input-gradient
    row (n, c) by gathering its kh*kw contributions (deterministic, no atomics)."""
    c = T.COMPUTE[dt]
    args = (f"{T.ptr(dt, False)} out, {T.ptr(dt)} src, long s_off, long s0, long s1, long s2, "
            "long s3, long N, long C, long H, long W, long Ho, long Wo, long kh, long kw, "
            "long sh, long sw, long ph, long pw, long dh, long dw, long G, long inner, long per")
    if name == "im2col":
        body = f"""
  long R = (C / G) * kh * kw, nn = row % N, t = row / N, r = t % R, g = t / R;
  long cc = g * (C / G) + r / (kh * kw), kij = r % (kh * kw);
  long hoff = (kij / kw) * dh - ph, woff = (kij % kw) * dw - pw;
  long xb = s_off + nn * s0 + cc * s1, y = l0 / Wo, x = l0 % Wo;
  for (long l = l0; l < l1; ++l) {{
    long hh = y * sh + hoff, ww = x * sw + woff;
    {c} v = 0;
    if (hh >= 0 && hh < H && ww >= 0 && ww < W) v = {T.load(dt, "src", "xb + hh * s2 + ww * s3")};
    {T.store(dt, "out", "row * inner + l", "v")};
    if (++x == Wo) {{ x = 0; ++y; }}
  }}"""
    else:
        body = f"""
  long nn = row / C, cc = row % C, cg = C / G, g = cc / cg, L = Ho * Wo, R = cg * kh * kw;
  long base = s_off + (g * R + (cc - g * cg) * kh * kw) * N * L + nn * L;
  long hh = l0 / W, ww = l0 % W;
  for (long l = l0; l < l1; ++l) {{
    {c} acc = 0;
    for (long i = 0; i < kh; ++i) {{
      long y = hh + ph - i * dh;
      if (y < 0 || y % sh) continue;
      y /= sh;
      if (y >= Ho) continue;
      for (long j = 0; j < kw; ++j) {{
        long x = ww + pw - j * dw;
        if (x < 0 || x % sw) continue;
        x /= sw;
        if (x >= Wo) continue;
        acc += {T.load(dt, "src", "base + (i * kw + j) * N * L + y * Wo + x")};
      }}
    }}
    {T.store(dt, "out", "row * inner + l", "acc")};
    if (++ww == W) {{ ww = 0; ++hh; }}
  }}"""
    src = f"""
__kernel void {name}({args}) {{
  long row = get_global_id(1), l0 = get_global_id(0) * per, l1 = min(l0 + per, inner);
  if (l0 >= inner) return;{body}
}}
"""
    return src, name, [None, None] + [numpy.int64] * 22
