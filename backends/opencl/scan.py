"""Ops along one axis: argmax/argmin and the inclusive scans cumsum/cumprod.

Many rows: one work-item per row walks it. Few long rows (one 4M vector, or 8 rows of 512K)
would leave all but a few work-items idle, so each row is cut into chunks, ``G`` per row:

* arg-reductions: every chunk finds its (value, first index) extreme, then one work-item per
  row picks the best of its G (the first index on ties, the first nan as the extreme);
* scans: every chunk folds its total, one work-item per row scans the G totals
  (exclusive), and every chunk rescans itself starting from its offset (3 launches, x read
  twice: on a CPU only with 4 or more cores).

On a CPU chunks are contiguous (each work-item streams its chunk); on a GPU work-item g of a
row takes elements g, g+G, ... for coalescing in arg-reductions, and contiguous chunks in
scans. Float scans carry float64 where the device has it (torch's cpu carries them in
double); the chunked float scan adds chunk offsets, so its rounding differs from the
sequential one's by a few ulps (integers are exact).
"""
from __future__ import annotations

import math

import numpy

from . import templates as T
from .reduce import _fold


def _row_kernel(name, dt, odt, nk, body, chunked=False):
    """A kernel over rows along one axis; ``chunked`` adds a first grid axis of G chunks per
    row (args ``G, chunk``; ``g`` is the chunk) and partial buffers ``pv``/``pi``."""
    args = [f"{T.ptr(odt, False)} out", "long o_off", "long o_ax", f"{T.ptr(dt)} x",
            "long x_off", "long x_ax", "long K"]
    argtypes = [None, numpy.int64, numpy.int64, None] + [numpy.int64] * 3
    if chunked:
        args += ["long G", "long chunk", "__global void* pv_", "__global long* pi"]
        argtypes += [numpy.int64, numpy.int64, None, None]
    args += [f"long n{d}, long sx{d}, long so{d}" for d in range(nk)]
    argtypes += [numpy.int64] * (3 * nk)
    decomp = "\n".join(f"  {{ long q = r % n{d}; r /= n{d}; xo += q * sx{d}; oo += q * so{d}; }}"
                       for d in range(nk - 1, -1, -1))
    head = ("long g = get_global_id(0), r = get_global_id(1), row = r, xo = x_off, oo = o_off;"
            if chunked else "long r = get_global_id(0), xo = x_off, oo = o_off;")
    src = f"""
__kernel void {name}({", ".join(args)}) {{
  {head}
{decomp}
{body}
}}
"""
    return src, name, argtypes


def _better(name, dt, v, i, best, bi):
    """C: (v, i) beats (best, bi) -- the extreme, nan first, then the smaller index."""
    cmp = ">" if name == "argmax" else "<"
    if T.KIND[dt] != "f":
        return f"({v} {cmp} {best} || ({v} == {best} && {i} < {bi}))"
    return (f"(isnan({v}) ? (!isnan({best}) || {i} < {bi}) : "
            f"(!isnan({best}) && ({v} {cmp} {best} || ({v} == {best} && {i} < {bi}))))")


def _render_arg(name, dt, odt, nk):
    c = T.COMPUTE[dt]
    better = (f"(v {'>' if name == 'argmax' else '<'} best || (isnan(v) && !isnan(best)))"
              if T.KIND[dt] == "f" else f"(v {'>' if name == 'argmax' else '<'} best)")
    body = f"""
  {c} best = {T.load(dt, "x", "xo")};
  long bi = 0;
  for (long k = 1; k < K; ++k) {{
    {c} v = {T.load(dt, "x", "xo + k * x_ax")};
    if {better} {{ best = v; bi = k; }}
  }}
  out[oo] = bi;"""
    return _row_kernel(name, dt, odt, nk, body)


def _render_arg_chunks(name, dt, odt, nk, interleave):
    """Stage 1: chunk g of row r -> its extreme (value in pv, index in pi)."""
    c = T.COMPUTE[dt]
    first, step = ("g", "G") if interleave else ("g * chunk", "1")
    end = "K" if interleave else "min(K, g * chunk + chunk)"
    # indices only grow along a work-item's walk: a strict compare keeps the first extreme
    better = (f"(v {'>' if name == 'argmax' else '<'} best || (isnan(v) && !isnan(best)))"
              if T.KIND[dt] == "f" else f"(v {'>' if name == 'argmax' else '<'} best)")
    body = f"""
  __global {c}* pv = (__global {c}*)pv_;
  long k = {first};
  {c} best = 0; long bi = -1;
  if (k < {end}) {{ best = {T.load(dt, "x", "xo + k * x_ax")}; bi = k; k += {step}; }}
  for (; k < {end}; k += {step}) {{
    {c} v = {T.load(dt, "x", "xo + k * x_ax")};
    if {better} {{ best = v; bi = k; }}
  }}
  pv[row * G + g] = best;
  pi[row * G + g] = bi;"""
    return _row_kernel(name + "_chunks", dt, odt, nk, body, chunked=True)


def _render_arg_pick(name, dt):
    """Stage 2: row r's best of its G partials (chunks without elements have index -1)."""
    c = T.COMPUTE[dt]
    src = f"""
__kernel void {name}_pick(__global long* out, long o_off, long o_ax,
                          __global const {c}* pv, __global const long* pi, long G,
                          long rows) {{
  long r = get_global_id(0);
  if (r >= rows) return;
  {c} best = pv[r * G]; long bi = pi[r * G];
  for (long g = 1; g < G; ++g) {{
    {c} v = pv[r * G + g]; long i = pi[r * G + g];
    if (i >= 0 && {_better(name, dt, "v", "i", "best", "bi")}) {{ best = v; bi = i; }}
  }}
  out[o_off + r * o_ax] = bi;
}}
"""
    return src, f"{name}_pick", [None, numpy.int64, numpy.int64, None, None, numpy.int64,
                                 numpy.int64]


def scan_acc(dev, dt):
    """The accumulator of a scan of ``dt``: float64 for float16/float32 where the device has
    it (torch's cpu carries float scans in double: cumsum(full((10**6,), .1))[-1] is 100000
    there, 100958 summed in float32), else float32; integers in their own type."""
    if dt in T.HALF or dt == "float32":
        return "float64" if dev.fp64 else "float32"
    return dt


def _render_scan(name, dt, odt, nk, acc):
    fold, init = _fold("sum" if name == "cumsum" else "prod", acc)
    A = T.COMPUTE[acc]
    body = f"""
  {A} a = {init};
  for (long k = 0; k < K; ++k) {{
    {A} b = {T.load(dt, "x", "xo + k * x_ax")};
    a = {fold};
    {T.store(odt, "out", "oo + k * o_ax", T.convert("a", acc, odt))};
  }}"""
    return _row_kernel(name, dt, odt, nk, body)


def _render_scan_chunks(name, dt, odt, nk, phase, acc):
    """phase 0: chunk totals into pv; phase 2: the chunk rescanned from offset pv."""
    fold, init = _fold("sum" if name == "cumsum" else "prod", acc)
    A = T.COMPUTE[acc]
    store = "" if phase == 0 else \
        f"{T.store(odt, 'out', 'oo + k * o_ax', T.convert('a', acc, odt))};"
    start = init if phase == 0 else "pv[row * G + g]"
    tail = "pv[row * G + g] = a;" if phase == 0 else ""
    body = f"""
  __global {A}* pv = (__global {A}*)pv_;
  {A} a = {start};
  for (long k = g * chunk; k < min(K, g * chunk + chunk); ++k) {{
    {A} b = {T.load(dt, "x", "xo + k * x_ax")};
    a = {fold};
    {store}
  }}
  {tail}"""
    return _row_kernel(f"{name}_chunks{phase}", dt, odt, nk, body, chunked=True)


def _render_scan_offsets(name, acc):
    """phase 1: each row's chunk totals -> exclusive scan, in place."""
    fold, init = _fold("sum" if name == "cumsum" else "prod", acc)
    A = T.COMPUTE[acc]
    src = f"""
__kernel void {name}_offsets(__global {A}* pv, long G, long rows) {{
  long r = get_global_id(0);
  if (r >= rows) return;
  {A} a = {init};
  for (long g = 0; g < G; ++g) {{ {A} b = pv[r * G + g]; pv[r * G + g] = a; a = {fold}; }}
}}
"""
    return src, f"{name}_offsets", [None, numpy.int64, numpy.int64]


class AxisOps:

    def _layout(self, x, axis, out):
        """Rows along ``axis``: collapsed (shape, x strides, out strides) of the others."""
        others = [d for d in range(x.ndim) if d != axis]
        return T.collapse([x.shape[d] for d in others],
                          [tuple(x.strides[d] for d in others),
                           tuple(out.strides[d] for d in others)])

    def _chunks(self, dev, rows, K, passes=1):
        """Chunks per row: 1 (a work-item per row) unless rows leave the device idle. A
        chunked scan reads x twice, which pays on a CPU only with 4 or more cores (on PoCL
        with 2 busy cores a 4M cumsum took 4.3 ms chunked, 2.2 ms not)."""
        target, least = (dev.units * 8, 16384) if dev.is_cpu else (dev.units * 64, 1024)
        if rows >= target or K < 2 * least or (dev.is_cpu and dev.units < 2 * passes):
            return 1
        return max(1, min(-(-target // rows), K // least))

    def _row_args(self, x, axis, out, kshape, kx, ko):
        args = [out.data, out.offset, out.strides[axis], x.data, x.offset, x.strides[axis],
                x.shape[axis]]
        tail = []
        for n, a, b in zip(kshape, kx, ko):
            tail += [n, a, b]
        return args, tail

    def _rows(self, x, axis, out, template, name):
        """One work-item per row along ``axis`` of x (and out)."""
        dev = self.devices[x.device]
        kshape, (kx, ko) = self._layout(x, axis, out)
        nk, dt, odt = len(kshape), x.dname, out.dname
        kernel = dev.kernel((name, dt, odt, nk), lambda: template(name, dt, odt, nk))
        args, tail = self._row_args(x, axis, out, kshape, kx, ko)
        kernel(dev.queue, (math.prod(kshape),), None if not dev.is_cpu else (1,),
               *args, *tail)
        return out

    def _argext(self, x, axis, keepdims, name):
        shape = tuple(1 if d == axis else n for d, n in enumerate(x.shape))
        out = self._new(shape, "int64", x.device)
        if out.size and not x.shape[axis]:   # as numpy's error (the kernel would return junk)
            raise ValueError(f"attempt to get {name} of an empty sequence")
        if out.size:
            dev = self.devices[x.device]
            G = self._chunks(dev, out.size, x.shape[axis])
            if G == 1:
                self._rows(x, axis, out, _render_arg, name)
            else:
                self._arg_chunked(dev, x, axis, out, name, G)
        if not keepdims:
            out = self.reshape(out, tuple(n for d, n in enumerate(x.shape) if d != axis))
        return out

    def _arg_chunked(self, dev, x, axis, out, name, G):
        kshape, (kx, ko) = self._layout(x, axis, out)
        nk, dt, rows, K = len(kshape), x.dname, out.size, x.shape[axis]
        interleave = not dev.is_cpu
        kernel = dev.kernel((name + "_chunks", dt, nk, interleave),
                            lambda: _render_arg_chunks(name, dt, "int64", nk, interleave))
        pv = dev.alloc(rows * G * T.NP_COMPUTE[dt].itemsize)
        pi = dev.alloc(rows * G * 8)
        args, tail = self._row_args(x, axis, out, kshape, kx, ko)
        local = (1, 1) if dev.is_cpu else None
        kernel(dev.queue, (G, rows), local, *args, G, -(-K // G), pv, pi, *tail)
        pick = dev.kernel((name + "_pick", dt), lambda: _render_arg_pick(name, dt))
        # out is a fresh contiguous buffer: row r's result sits at r
        pick(dev.queue, (rows,), (1,) if dev.is_cpu else None, out.data, out.offset, 1, pv,
             pi, G, rows)

    def argmax(self, x, axis, keepdims):
        return self._argext(x, axis, keepdims, "argmax")

    def argmin(self, x, axis, keepdims):
        return self._argext(x, axis, keepdims, "argmin")

    def _scan(self, x, axis, name):
        out = self._new(x.shape, x.dname, x.device)
        if not x.size:
            return out
        dev = self.devices[x.device]
        rows, K = x.size // x.shape[axis], x.shape[axis]
        G = self._chunks(dev, rows, K, passes=2)
        acc = scan_acc(dev, x.dname)
        if G == 1:
            return self._rows(x, axis, out, lambda *a: _render_scan(*a, acc), name)
        kshape, (kx, ko) = self._layout(x, axis, out)
        nk, dt = len(kshape), x.dname
        pv = dev.alloc(rows * G * T.NP_COMPUTE[acc].itemsize)
        args, tail = self._row_args(x, axis, out, kshape, kx, ko)
        local = (1, 1) if dev.is_cpu else None
        for phase in (0, 2):
            kernel = dev.kernel((name + "_chunks", dt, nk, phase),
                                lambda: _render_scan_chunks(name, dt, dt, nk, phase, acc))
            kernel(dev.queue, (G, rows), local, *args, G, -(-K // G), pv, pv, *tail)
            if phase == 0:
                offsets = dev.kernel((name + "_offsets", acc),
                                     lambda: _render_scan_offsets(name, acc))
                offsets(dev.queue, (rows,), (1,) if dev.is_cpu else None, pv, G, rows)
        return out

    def cumsum(self, x, axis):
        return self._scan(x, axis, "cumsum")

    def cumprod(self, x, axis):
        return self._scan(x, axis, "cumprod")
