"""sort: a stable sort along one axis, over packed (key, position) elements.

Each element is packed once into one integer that orders as torch does -- the key's bits made
unsigned-sortable (nan the largest, -0.0 equal to 0.0, complemented when descending) above
its position in the row -- so comparisons are single unsigned compares, ties are broken by
position (stability for free) and a move is 8 bytes (16, as a key/position pair, for 64-bit
dtypes). Then:

* CPU, rows of 65536 or more: LSD radix sort, 8 key bits a pass (4 passes for 32-bit keys):
  per-chunk digit counts, one scan of the (digit, chunk) table, a stable scatter per chunk.
* otherwise a merge sort in two stages. 1. Blocks of every row are sorted in one launch: on
  a CPU one work-item per block of up to 32768 (insertion sort of 8-runs, then branchless
  sequential merges); on a GPU one work-group per block of its size in local memory (each
  element finds its place in the partner run by binary search). 2. Runs are merged
  pairwise, one launch per width: on a CPU a work-item writes one block-sized chunk of the
  merged run from where a merge-path search puts it; on a GPU each element binary-searches
  its position in the other run.

A last pass writes the positions and gathers the values from the input, so nan payloads and
-0.0 come back untouched. On PoCL (2 cores) 4M float32 took 1.2-1.5 s with per-element binary
searches from width 1, 0.44 s merging packed elements, 0.08 s by radix (numpy's stable
argsort: 0.34-0.6 s); benchmarks/perf/opencl_ops.py.
"""
from __future__ import annotations

import numpy

from . import templates as T

_RUN = 8               # CPU block sort: insertion-sorted runs before merging
_CPU_BLOCK = 1 << 15   # CPU block (and merge chunk) size at most
_RADIX_MIN = 1 << 16   # CPU rows this long: LSD radix passes instead of merging

_KEY32 = {"bool": "(uint)v", "uint8": "(uint)v", "int8": "(uint)((int)v + 128)",
          "int16": "(uint)((int)v + 32768)", "int32": "(as_uint(v) ^ 0x80000000u)"}


def _wide(dt, n):
    """Key and position as a 16-byte pair (64-bit keys, or rows of 2**32 or more)."""
    return dt in ("int64", "float64") or n >= 1 << 32


def _element(dt, descending, wide):
    """OpenCL C: the element type E, ``before(a, b)``, ``pack(x, i, pos)`` reading x[i] and
    ``position(e)``."""
    c = T.COMPUTE[dt]
    if dt == "float64":
        key = ("ulong b = as_ulong(v); ulong k = isnan(v) ? ~0ul : (v == 0 ? 1ul << 63 : "
               "((b >> 63) ? ~b : b | (1ul << 63)));")
    elif dt == "int64":
        key = "ulong k = as_ulong(v) ^ (1ul << 63);"
    elif T.KIND[dt] == "f":       # float32, and float16 through float (order-preserving)
        key = ("uint b = as_uint(v); uint k = isnan(v) ? ~0u : (v == 0 ? 1u << 31 : "
               "((b >> 31) ? ~b : b | (1u << 31)));")
    else:
        key = f"uint k = {_KEY32[dt]};"
    flip = "k = ~k;" if descending else ""
    load = f"{c} v = {T.load(dt, 'x', 'i')};"
    if wide:
        return f"""
typedef struct {{ ulong k; long p; }} E;
static inline int before(E a, E b) {{ return a.k < b.k || (a.k == b.k && a.p < b.p); }}
static inline E pack({T.ptr(dt)} x, long i, long pos) {{
  {load} {key} {flip} E e; e.k = (ulong)k; e.p = pos; return e; }}
static inline long position(E e) {{ return e.p; }}
"""
    return f"""
typedef ulong E;
static inline int before(E a, E b) {{ return a < b; }}
static inline E pack({T.ptr(dt)} x, long i, long pos) {{
  {load} {key} {flip} return ((ulong)k << 32) | (ulong)pos; }}
static inline long position(E e) {{ return (long)(e & 0xFFFFFFFFul); }}
"""


_MERGE_SEQ = """
/* count outputs of merging runs [a, am) and [b, bm) of s into d from o, without branches
   on the data (a left element goes first on ties -- there are none: positions differ) */
static void merge_seq(__global const E* s, __global E* d, long a, long am, long b, long bm,
                      long o, long count) {
  E va = s[min(a, am - 1)], vb = s[min(b, bm - 1)];
  for (long t = o; t < o + count; ++t) {
    int tb = (a >= am) | ((b < bm) & before(vb, va));
    d[t] = tb ? vb : va;
    b += tb; a += 1 - tb;
    va = s[min(a, am - 1)]; vb = s[min(b, bm - 1)];
  }
}
"""


def render_pack(dt, descending, wide):
    src = _element(dt, descending, wide) + f"""
__kernel void sort_pack({T.ptr(dt)} x, __global E* e, long n, long total, long per) {{
  long i0 = get_global_id(0) * per, i1 = min(i0 + per, total);
  for (long i = i0; i < i1; ++i) e[i] = pack(x, i, i % n);
}}
"""
    return src, "sort_pack", [None, None] + [numpy.int64] * 3


def render_unpack(dt, descending, wide):
    src = _element(dt, descending, wide) + f"""
__kernel void sort_unpack(__global const E* e, {T.ptr(dt)} x, {T.ptr(dt, False)} vals,
                          __global long* idx, long n, long total, long per) {{
  long i0 = get_global_id(0) * per, i1 = min(i0 + per, total);
  for (long i = i0; i < i1; ++i) {{
    long p = position(e[i]);
    idx[i] = p;
    {T.store(dt, "vals", "i", T.load(dt, "x", "i - i % n + p"))};
  }}
}}
"""
    return src, "sort_unpack", [None] * 4 + [numpy.int64] * 3


def render_blocks_cpu(dt, descending, wide):
    """One work-item sorts block b of row r of ``ea``; the sorted block ends in ``eb``."""
    src = _element(dt, descending, wide) + _MERGE_SEQ + f"""
__kernel void sort_blocks(__global E* ea, __global E* eb, long n, long B) {{
  long s = get_global_id(0) * B, row = get_global_id(1) * n;
  if (s >= n) return;
  long e = min(s + B, n);
  ea += row; eb += row;
  for (long r0 = s; r0 < e; r0 += {_RUN}) {{          /* insertion sort of each run */
    long r1 = min(r0 + {_RUN}, e);
    for (long i = r0 + 1; i < r1; ++i) {{
      E v = ea[i];
      long j = i - 1;
      while (j >= r0 && before(v, ea[j])) {{ ea[j + 1] = ea[j]; --j; }}
      ea[j + 1] = v;
    }}
  }}
  __global E* src = ea; __global E* dst = eb;
  for (long w = {_RUN}; w < e - s; w *= 2) {{        /* merges, ping-pong */
    for (long p = s; p < e; p += 2 * w) {{
      long m = min(p + w, e), q = min(p + 2 * w, e);
      merge_seq(src, dst, p, m, m, q, p, q - p);
    }}
    __global E* t = src; src = dst; dst = t;
  }}
  if (src == ea)
    for (long i = s; i < e; ++i) eb[i] = ea[i];
}}
"""
    return src, "sort_blocks", [None, None, numpy.int64, numpy.int64]


def render_merge_cpu(dt, descending, wide):
    """Work-item g writes merged outputs [g*C, g*C + C) of its pair of width-w runs."""
    src = _element(dt, descending, wide) + _MERGE_SEQ + """
__kernel void merge_path(__global const E* ein, __global E* eout, long n, long w, long C) {
  long o = get_global_id(0) * C, row = get_global_id(1) * n;
  if (o >= n) return;
  ein += row; eout += row;
  long s = o / (2 * w) * 2 * w, am = min(s + w, n), be = min(s + 2 * w, n);
  long d = o - s, lo = max(0L, d - (be - am)), hi = min(d, am - s);
  while (lo < hi) {        /* the first i whose B[d-1-i] sorts before A[i]: the split */
    long i = (lo + hi) / 2;
    if (before(ein[am + d - 1 - i], ein[s + i])) hi = i; else lo = i + 1;
  }
  merge_seq(ein, eout, s + lo, am, am + d - lo, be, o, min(C, be - o));
}
"""
    return src, "merge_path", [None, None] + [numpy.int64] * 3


def render_blocks_local(dt, descending, wide, L):
    """One work-group of L sorts a block of L in local memory (GPU)."""
    src = _element(dt, descending, wide) + f"""
__kernel void sort_local(__global const E* ea, __global E* eb, long n) {{
  long lid = get_local_id(0), s = get_group_id(0) * {L}, row = get_global_id(1) * n;
  long len = min((long){L}, n - s);
  __local E le[2][{L}];
  if (lid < len) le[0][lid] = ea[row + s + lid];
  barrier(CLK_LOCAL_MEM_FENCE);
  int cur = 0;
  for (long w = 1; w < len; w *= 2) {{
    if (lid < len) {{       /* place = own index in the run + elements before it in the other */
      long start = lid / (2 * w) * 2 * w, mid = min(start + w, len);
      long end = min(start + 2 * w, len), lo = lid < mid ? mid : start;
      long hi = lid < mid ? end : mid;
      E v = le[cur][lid];
      while (lo < hi) {{
        long m = (lo + hi) / 2;
        if (before(le[cur][m], v)) lo = m + 1; else hi = m;
      }}
      le[1 - cur][lid < mid ? lid + lo - mid : start + lid - mid + lo - start] = v;
    }}
    barrier(CLK_LOCAL_MEM_FENCE);
    cur = 1 - cur;
  }}
  if (lid < len) eb[row + s + lid] = le[cur][lid];
}}
"""
    return src, "sort_local", [None, None, numpy.int64]


def render_merge(dt, descending, wide):
    """GPU merge: element i of a width-w run finds its output by binary search in the other
    (elements are distinct, so both runs count the other's elements before them alike)."""
    src = _element(dt, descending, wide) + """
__kernel void merge(__global const E* ein, __global E* eout, long n, long w) {
  long i = get_global_id(0), base = get_global_id(1) * n;
  if (i >= n) return;
  long start = (i / (2 * w)) * 2 * w, mid = min(start + w, n), end = min(start + 2 * w, n);
  long lo = i < mid ? mid : start, hi = i < mid ? end : mid;
  E v = ein[base + i];
  while (lo < hi) { long m = (lo + hi) / 2; if (before(ein[base + m], v)) lo = m + 1; else hi = m; }
  eout[base + (i < mid ? i + lo - mid : start + i - mid + lo - start)] = v;
}
"""
    return src, "merge", [None, None, numpy.int64, numpy.int64]


def render_radix(dt, descending, wide):
    """LSD radix sort passes over the key bits of E (CPU, long rows): per-chunk digit counts,
    one exclusive scan of the (digit, chunk) table, and a stable scatter per chunk."""
    digit = "((uint)(e[i].k >> shift) & 255u)" if wide else \
        "((uint)(e[i] >> (32 + shift)) & 255u)"
    src = _element(dt, descending, wide) + f"""
__kernel void radix_count(__global const E* e, __global long* table, long off, long n,
                          long chunk, int shift) {{
  long c = get_global_id(0), C = get_global_size(0), i1 = min(c * chunk + chunk, n);
  e += off;
  long h[256];
  for (int d = 0; d < 256; ++d) h[d] = 0;
  for (long i = c * chunk; i < i1; ++i) h[{digit}]++;
  for (int d = 0; d < 256; ++d) table[d * C + c] = h[d];
}}
__kernel void radix_scan(__global long* table, long size) {{
  long run = 0;
  for (long i = 0; i < size; ++i) {{ long v = table[i]; table[i] = run; run += v; }}
}}
__kernel void radix_scatter(__global const E* e, __global E* out, __global const long* table,
                            long off, long n, long chunk, int shift) {{
  long c = get_global_id(0), C = get_global_size(0), i1 = min(c * chunk + chunk, n);
  e += off; out += off;
  long at[256];
  for (int d = 0; d < 256; ++d) at[d] = table[d * C + c];
  for (long i = c * chunk; i < i1; ++i) out[at[{digit}]++] = e[i];
}}
"""
    return src, "radix_count", [None, None, numpy.int64, numpy.int64, numpy.int64, numpy.int32]


def _pow2(n):
    return 1 << max(0, (n - 1).bit_length())


class Sorting:

    def sort(self, x, axis, descending):
        if x.ndim == 0:
            return self.copy(x), self.full((), 0, "int64", x.device)
        order = [d for d in range(x.ndim) if d != axis] + [axis]
        keys = self.copy(self.permute(x, order))
        n = x.shape[axis]
        if n <= 1 or not x.size:
            vals, idx = keys, self.full(keys.shape, 0, "int64", x.device)
        else:
            vals, idx = self._sort_rows(keys, n, x.size // n, descending)
        if axis == x.ndim - 1:
            return vals, idx
        back = [order.index(d) for d in range(x.ndim)]
        return self.copy(self.permute(vals, back)), self.copy(self.permute(idx, back))

    def _sort_rows(self, keys, n, rows, descending):
        """Sort each contiguous row of ``keys`` (rows, n) -> (values, positions)."""
        dev, dt = self.devices[keys.device], keys.dname
        wide = _wide(dt, n)
        key = (dt, descending, wide)
        esize = 16 if wide else 8
        ea, eb = dev.alloc(keys.size * esize), dev.alloc(keys.size * esize)
        gsize, lsize, per = dev.launch_1d(keys.size)
        dev.kernel(("sort_pack",) + key, lambda: render_pack(dt, descending, wide))(
            dev.queue, gsize, lsize, keys.data, ea, n, keys.size, per)
        if dev.is_cpu and n >= _RADIX_MIN:
            src = self._radix_rows(dev, ea, eb, n, rows, wide, key,
                                   lambda: render_radix(dt, descending, wide))
            return self._unpack(dev, src, keys, n, key, lambda: render_unpack(dt, descending,
                                                                               wide))
        if dev.is_cpu:
            block = _pow2(n)
            while block > 1024 and rows * -(-n // block) < 4 * dev.units:
                block //= 2          # enough blocks to keep every core busy
            block = min(block, _CPU_BLOCK)
            dev.kernel(("sort_blocks",) + key, lambda: render_blocks_cpu(dt, descending, wide))(
                dev.queue, (-(-n // block), rows), (1, 1), ea, eb, n, block)
            merge = dev.kernel(("merge_path",) + key,
                               lambda: render_merge_cpu(dt, descending, wide))
        else:
            block = min(256, 1 << (dev.max_wg.bit_length() - 1))
            dev.kernel(("sort_local", block) + key,
                       lambda: render_blocks_local(dt, descending, wide, block))(
                dev.queue, (-(-n // block) * block, rows), (block, 1), ea, eb, n)
            merge = dev.kernel(("merge",) + key, lambda: render_merge(dt, descending, wide))
        src, dst = eb, ea                   # the sorted blocks are in eb
        w = block
        while w < n:
            if dev.is_cpu:
                merge(dev.queue, (-(-n // block), rows), (1, 1), src, dst, n, w, block)
            else:
                g = dev.group
                merge(dev.queue, (-(-n // g) * g, rows), (g, 1), src, dst, n, w)
            src, dst = dst, src
            w *= 2
        return self._unpack(dev, src, keys, n, key, lambda: render_unpack(dt, descending, wide))

    def _unpack(self, dev, src, keys, n, key, render):
        vals = self._new(keys.shape, keys.dname, keys.device)
        idx = self._new(keys.shape, "int64", keys.device)
        gsize, lsize, per = dev.launch_1d(keys.size)
        dev.kernel(("sort_unpack",) + key, render)(
            dev.queue, gsize, lsize, src, keys.data, vals.data, idx.data, n, keys.size, per)
        return vals, idx

    def _radix_rows(self, dev, ea, eb, n, rows, wide, key, render):
        """LSD radix passes, 8 key bits each, row by row; returns the buffer holding the
        result (``ea`` or ``eb``)."""
        count, scan, scatter = dev.kernels_of(("radix",) + key, render, (
            "radix_count", "radix_scan", "radix_scatter"))
        chunks = dev.units * 8
        chunk = -(-n // chunks)
        table = dev.alloc(256 * chunks * 8)
        src, dst = ea, eb
        n_, chunk_, size = numpy.int64(n), numpy.int64(chunk), numpy.int64(256 * chunks)
        for shift in range(0, 64 if wide else 32, 8):
            shift = numpy.int32(shift)
            for r in range(rows):
                off = numpy.int64(r * n)
                count(dev.queue, (chunks,), (1,), src, table, off, n_, chunk_, shift)
                scan(dev.queue, (1,), (1,), table, size)
                scatter(dev.queue, (chunks,), (1,), src, dst, table, off, n_, chunk_, shift)
            src, dst = dst, src
        return src
