"""Reductions over any set of axes, arg-reductions and scans.

A reduction views x as (kept axes) x (reduced axes), each group collapsed where strides
allow. Work-group (g, o) folds chunk g of output o's reduced elements: on a CPU one work-item
with four independent accumulators (instruction-level parallelism; float sums cannot be
vectorised without reassociating), on a GPU up to 256 work-items and a tree in local memory.
When outputs are too few to fill the device, chunks write partials and a second launch of the
same kernel folds them. Arg-reductions and scans live in :mod:`.scan`.
"""
from __future__ import annotations

import math

import numpy

from . import templates as T

_LIMITS = {"uchar": ("0", "UCHAR_MAX"), "char": ("CHAR_MIN", "CHAR_MAX"),
           "short": ("SHRT_MIN", "SHRT_MAX"), "int": ("INT_MIN", "INT_MAX"),
           "long": ("LONG_MIN", "LONG_MAX"), "float": ("-INFINITY", "INFINITY"),
           "double": ("-INFINITY", "INFINITY")}


def _fold(op, dtype):
    """(C combine expression over a and b, identity) for reduction ``op`` on ``dtype``."""
    c, kind = T.COMPUTE[dtype], T.KIND[dtype]
    if kind == "b":
        return {"sum": ("(a | b)", "0"), "prod": ("(a & b)", "1"), "max": ("(a | b)", "0"),
                "min": ("(a & b)", "1"), "any": ("(a | b)", "0"), "all": ("(a & b)", "1")}[op]
    lo, hi = _LIMITS[c]
    if op == "sum":
        return "(a + b)", "0"
    if op == "prod":
        return "(a * b)", "1"
    if op in ("any", "all"):
        return ("((a != 0) | (b != 0))", "0") if op == "any" else ("((a != 0) & (b != 0))", "1")
    if kind == "f":
        cmp = ">=" if op == "max" else "<="
        return f"((a {cmp} b || isnan(a)) ? a : b)", lo if op == "max" else hi
    return ("max(a, b)", lo) if op == "max" else ("min(a, b)", hi)


def _decompose(idx, var, dims, shape, strides, base):
    """C statements adding to ``base`` the offset of flat index ``var`` over ``dims`` axes."""
    lines = [f"{{ {idx} _r = {var};"]
    for d in range(dims - 1, -1, -1):
        lines.append(f"  {base} += (_r % {shape}{d}) * {strides}{d}; _r /= {shape}{d};")
    lines.append("}")
    return "\n".join(lines)


# Float sums are cascaded (as torch's and numpy's pairwise sums are): a work-item sums blocks of
# _BLOCK elements into a fresh accumulator, _BLOCKS blocks into a second, and those into its
# total, so a rounding error grows with the number of blocks, not of elements. A plain running
# sum of 4,096 float32 values near 1e7 was off by ~4 in the mean, and var (x - mean)^2 by 16+.
_BLOCK, _BLOCKS = 128, 64


def _cascade(A, init, acc, start, end, stride, step):
    """C statements leaving in ``acc`` the cascaded sum of ``step`` over start:end:stride."""
    return f"""{A} {acc} = {init};
  for (long rm = {start}; rm < {end}; rm += ({stride}) * {_BLOCK * _BLOCKS}L) {{
    {A} mid = {init};
    long em = min(rm + ({stride}) * {_BLOCK * _BLOCKS}L, {end});
    for (long rb = rm; rb < em; rb += ({stride}) * {_BLOCK}L) {{
      {A} blk = {init};
      long eb = min(rb + ({stride}) * {_BLOCK}L, em);
      for (long r = rb; r < eb; r += {stride}) {step("blk", "r")}
      mid += blk;
    }}
    {acc} += mid;
  }}"""


def render_reduce(name, op, in_dtype, acc_dtype, out_dtype, nk, nr, tree):
    fold, init = _fold(op, acc_dtype)
    A = T.COMPUTE[acc_dtype]
    cascade = op == "sum" and T.KIND[acc_dtype] == "f"
    args = [f"{T.ptr(out_dtype, False)} out", f"{T.ptr(in_dtype)} x", "long x_off", "long K",
            "long chunk", "long G"]
    args += [f"long n{d}, long s{d}" for d in range(nk)]
    args += [f"long m{d}, long t{d}" for d in range(nr)]
    argtypes = [None, None] + [numpy.int64] * (4 + 2 * nk + 2 * nr)

    def step(acc, r):  # acc = fold(acc, x[offset of reduced index r])
        if nr == 1:
            off = f"base + ({r}) * t0"
            pre = ""
        else:
            off = "ro"
            pre = f"long ro = base; {_decompose('long', r, nr, 'm', 't', 'ro')}"
        return (f"{{ {pre} {A} a = {acc}, b = ({A}){T.load(in_dtype, 'x', off)}; "
                f"{acc} = {fold}; }}")

    if tree:
        body = f"""
  {_cascade(A, init, "a0", "r0 + lid", "r1", "L", step) if cascade else
   f"{A} a0 = {init}; for (long r = r0 + lid; r < r1; r += L) {step('a0', 'r')}"}
  __local {A} sh[256];
  sh[lid] = a0;
  barrier(CLK_LOCAL_MEM_FENCE);
  for (long s = L / 2; s > 0; s >>= 1) {{
    if (lid < s) {{ {A} a = sh[lid], b = sh[lid + s]; sh[lid] = {fold}; }}
    barrier(CLK_LOCAL_MEM_FENCE);
  }}
  if (lid != 0) return;
  a0 = sh[0];"""
    elif nr == 1:
        def four(end):  # four accumulators over r..end (ILP), folded into a0
            return f"""
  {A} a0 = {init}, a1 = {init}, a2 = {init}, a3 = {init};
  for (; r + 4 <= {end}; r += 4) {{
    {step("a0", "r")} {step("a1", "r + 1")} {step("a2", "r + 2")} {step("a3", "r + 3")}
  }}
  for (; r < {end}; ++r) {step("a0", "r")}
  {{ {A} a = a0, b = a1; a0 = {fold}; }} {{ {A} a = a2, b = a3; a2 = {fold}; }}
  {{ {A} a = a0, b = a2; a0 = {fold}; }}"""
        if cascade:  # the same four-accumulator loop over blocks, whose sums are cascaded
            body = f"""
  {A} tot = 0;
  long r = r0;
  while (r < r1) {{
    {A} mid = 0;
    long rm = min(r + {_BLOCK * _BLOCKS}L, r1);
    while (r < rm) {{
      long rb = min(r + {_BLOCK}L, rm);{four("rb")}
      mid += a0;
    }}
    tot += mid;
  }}
  {A} a0 = tot;"""
        else:
            body = "\n  long r = r0;" + four("r1")
    else:
        body = f"""
  {_cascade(A, init, "a0", "r0", "r1", "1", step) if cascade else
   f"{A} a0 = {init}; for (long r = r0; r < r1; ++r) {step('a0', 'r')}"}"""
    src = f"""
__kernel void {name}({", ".join(args)}) {{
  long o = get_global_id(1), g = get_group_id(0), lid = get_local_id(0), L = get_local_size(0);
  long base = x_off;
  {_decompose("long", "o", nk, "n", "s", "base")}
  long r0 = g * chunk, r1 = min(r0 + chunk, K);{body}
  {T.store(out_dtype, "out", "o * G + g", T.convert("a0", acc_dtype, out_dtype))};
}}
"""
    return src, name, argtypes


def _vfold(op, dtype):
    """The vector form of :func:`_fold` (lane-wise), for the CPU column kernel."""
    fold, init = _fold(op, dtype)
    if T.KIND[dtype] == "f" and op in ("max", "min"):
        cmp = ">=" if op == "max" else "<="
        fold = f"select(b, a, (a {cmp} b) | isnan(a))"
    return fold, init


def render_lanes(name, op, in_dtype, acc_dtype, nk, nr, vw=16):
    """CPU reduction when the kept axis is the contiguous one (column sums): a work-item owns
    ``vw`` neighbouring outputs and folds whole vectors, walking the reduced axes once."""
    fold, init = _fold(op, acc_dtype)
    vfold, _ = _vfold(op, acc_dtype)
    A = T.COMPUTE[acc_dtype]
    VA = f"{A}{vw}"
    args = [f"{T.ptr(in_dtype, False)} out", f"{T.ptr(in_dtype)} x", "long x_off", "long K",
            "long nl"]
    args += [f"long n{d}, long s{d}" for d in range(nk - 1)]
    args += [f"long m{d}, long t{d}" for d in range(nr)]
    types = [None, None] + [numpy.int64] * (3 + 2 * (nk - 1) + 2 * nr)
    off = "base + r * t0" if nr == 1 else "ro"
    pre = "" if nr == 1 else f"long ro = base; {_decompose('long', 'r', nr, 'm', 't', 'ro')}"
    vload = T.vload(in_dtype, vw, f"x + {off}")
    vstore = T.vstore(in_dtype, vw, "acc", "out + o")
    vstep = lambda acc, r: f"{{ {pre} {VA} a = {acc}, b = {vload}; {acc} = {vfold}; }}"
    sstep = lambda acc, r: (f"{{ {pre} {A} a = {acc}, b = ({A})"
                            f"{T.load(in_dtype, 'x', f'{off} + j')}; {acc} = {fold}; }}")
    if op == "sum" and T.KIND[acc_dtype] == "f":
        vloop = _cascade(VA, f"({VA})({init})", "acc", "0", "K", "1", vstep)
        sloop = _cascade(A, init, "acc", "0", "K", "1", sstep)
    else:
        vloop = f"{VA} acc = ({VA})({init}); for (long r = 0; r < K; ++r) {vstep('acc', 'r')}"
        sloop = f"{A} acc = {init}; for (long r = 0; r < K; ++r) {sstep('acc', 'r')}"
    src = f"""
__kernel void {name}({", ".join(args)}) {{
  long w = get_global_id(0), chunks = (nl + {vw - 1}) / {vw}, j0 = (w % chunks) * {vw};
  long oo = w / chunks, base = x_off + j0, o = oo * nl + j0;
  {_decompose("long", "oo", nk - 1, "n", "s", "base")}
  if (j0 + {vw} <= nl) {{
    {vloop}
    {vstore};
    return;
  }}
  for (long j = 0; j < nl - j0; ++j) {{
    {sloop}
    {T.store(in_dtype, "out", "o + j", T.convert("acc", acc_dtype, in_dtype))};
  }}
}}
"""
    return src, name, types


def _group(x, axes):
    return T.collapse([x.shape[d] for d in axes], [tuple(x.strides[d] for d in axes)])


class Reductions:

    def _reduce(self, op, x, axes, keepdims):
        dt = x.dname
        acc = "float32" if dt in T.HALF else dt
        kept = [d for d in range(x.ndim) if d not in axes]
        shape = tuple(1 if d in axes else n for d, n in enumerate(x.shape)) if keepdims else \
            tuple(x.shape[d] for d in kept)
        out = self._new(shape, dt, x.device)
        M, K = out.size, math.prod(x.shape[d] for d in axes)
        if M == 0:
            return out
        if K == 0:
            if op in ("max", "min"):   # as numpy's (the cpu backend's) error, not a KeyError
                raise ValueError(f"zero-size array to reduction operation {op}imum which has "
                                 "no identity")
            return self.full(shape, {"sum": 0, "prod": 1, "any": 0, "all": 1}[op], dt, x.device)
        dev = self.devices[x.device]
        kshape, (kstr,) = _group(x, kept)
        rshape, (rstr,) = _group(x, sorted(axes))
        if dev.is_cpu and kstr[-1] == 1 and rstr[-1] != 1 and kshape[-1] >= 16:
            nk, nr = len(kshape), len(rshape)
            kernel = dev.kernel(("lanes", op, dt, acc, nk, nr),
                                lambda: render_lanes(f"lanes_{op}", op, dt, acc, nk, nr))
            args = [out.data, x.data, x.offset, K, kshape[-1]]
            for n, st in zip(kshape[:-1], kstr[:-1]):
                args += [n, st]
            for n, st in zip(rshape, rstr):
                args += [n, st]
            chunks = -(-kshape[-1] // 16)
            kernel(dev.queue, (M // kshape[-1] * chunks,), (1,), *args)
            return out
        if dev.is_cpu:
            L = 1
            G = max(1, min(-(-dev.units * 8 // M), K // 4096))
        else:
            L = min(256, 1 << max(0, (K - 1).bit_length()))
            G = max(1, min(-(-dev.units * 4 // M), K // (L * 4)))
        chunk = -(-K // G)
        G = -(-K // chunk)
        first = out if G == 1 else self._new((M, G), acc, x.device)
        self._reduce_launch(dev, op, x, first, dt, acc, kshape, kstr, rshape, rstr,
                            K, chunk, G, L)
        if G > 1:  # fold the partials: a contiguous (M, G) buffer reduced along its rows
            self._reduce_launch(dev, op, first, out, acc, acc, (M,), (G,), (G,), (1,),
                                G, G, 1, 1 if dev.is_cpu else min(256, dev.group))
        return out

    def _reduce_launch(self, dev, op, x, out, in_dt, acc, kshape, kstr, rshape, rstr,
                       K, chunk, G, L):
        nk, nr, tree = len(kshape), len(rshape), L > 1
        key = ("reduce", op, in_dt, acc, out.dname, nk, nr, tree)
        kernel = dev.kernel(key, lambda: render_reduce(
            f"reduce_{op}", op, in_dt, acc, out.dname, nk, nr, tree))
        args = [out.data, x.data, x.offset, K, chunk, G]
        for n, s in zip(kshape, kstr):
            args += [n, s]
        for n, s in zip(rshape, rstr):
            args += [n, s]
        kernel(dev.queue, (G * L, math.prod(kshape)), (L, 1), *args)

    def sum(self, x, axes, keepdims):
        return self._reduce("sum", x, axes, keepdims)

    def prod(self, x, axes, keepdims):
        return self._reduce("prod", x, axes, keepdims)

    def max(self, x, axes, keepdims):
        return self._reduce("max", x, axes, keepdims)

    def min(self, x, axes, keepdims):
        return self._reduce("min", x, axes, keepdims)

    def any(self, x, axes, keepdims):
        return self._reduce("any", x, axes, keepdims)

    def all(self, x, axes, keepdims):
        return self._reduce("all", x, axes, keepdims)
