"""One launch for a run of calls applying the same elementwise op to different buffers
(``optimize_program``, found by :func:`plugrad.plugins.fusion.batch_calls`), and for
``concat`` of contiguous pieces: ``clip_grad_norm_`` concatenates every gradient and then
scales each in place -- 2 x 52 launches per GPT step eagerly, 2 x 4 here.

Each kernel takes up to :data:`plugrad.plugins.fusion.batch_calls`' limit of segments; its
work-items are split among them by prefix sums of their chunk counts (as the multi-tensor
Adam does) and every element is computed by the eager map kernel's own C expression and
conversion (:func:`.fused.node_expr`, ``FP_CONTRACT OFF``), so results are bitwise eager's.
A segment that is not contiguous sends the whole run to the eager ops.
"""
from __future__ import annotations

import numpy

from . import templates as T
from .fused import node_expr
from .runtime import CLArray

_RAW = {1: "uchar", 2: "ushort", 4: "uint", 8: "ulong"}


def _pick(k, body_of):
    """C that selects the segment work-item ``wi`` falls in (c{j}: its first work-item)."""
    if k == 1:
        return body_of(0)
    lines = [f"if (wi < c1) {body_of(0)}"]
    lines += [f"else if (wi < c{j + 1}) {body_of(j)}" for j in range(1, k - 1)]
    lines.append(f"else {body_of(k - 1)}")
    return "\n  ".join(lines)


def render_batched_map(chain, shared, k):
    """(source, name, scalar arg dtypes) of the kernel computing ``chain`` (one node) over
    ``k`` segments; ``shared[m]``: input m is one 0-d buffer read by every segment."""
    node = chain.nodes[0]
    out_dt = node.dtype
    expr, yields = node_expr(node)
    seg = [m for m, (dt, scalar) in enumerate(chain.inputs) if not scalar and not shared[m]]
    args, types = [], []
    for j in range(k):
        args += [f"{T.ptr(out_dt, False)} o{j}", f"long o{j}_off"]
        types += [None, numpy.int64]
        for m in seg:
            args += [f"{T.ptr(chain.inputs[m][0])} x{j}_{m}", f"long x{j}_{m}_off"]
            types += [None, numpy.int64]
        args += [f"long n{j}", f"long c{j}", f"long per{j}"]
        types += [numpy.int64] * 3
    values = []
    for m, (dt, scalar) in enumerate(chain.inputs):
        if scalar:
            args.append(f"{T.COMPUTE[dt]} s{m}")
            types.append(T.NP_COMPUTE[dt])
            values.append(f"s{m}")
        elif shared[m]:
            args += [f"{T.ptr(dt)} s{m}", f"long s{m}_off"]
            types += [None, numpy.int64]
            values.append(T.load(dt, f"s{m}", f"s{m}_off"))
        else:
            values.append(T.load(dt, f"x{m}", f"x{m}_off + i"))
    args.append("long end")
    types.append(numpy.int64)
    decl = [f"{T.ptr(out_dt, False)} o; long o_off;"]
    decl += [f"{T.ptr(chain.inputs[m][0])} x{m}; long x{m}_off;" for m in seg]

    def body_of(j):
        sets = [f"o = o{j}; o_off = o{j}_off;"]
        sets += [f"x{m} = x{j}_{m}; x{m}_off = x{j}_{m}_off;" for m in seg]
        return "{ " + " ".join(sets) + f" n = n{j}; per = per{j}; wi -= c{j}; }}"
    loads = " ".join(f"const {T.COMPUTE[dt]} v{m} = {values[m]};"
                     for m, (dt, _) in enumerate(chain.inputs))
    value = T.convert(expr.format(*(f"v{m}" for m in range(len(chain.inputs)))), yields,
                      out_dt)
    name = f"batched_{node.op}_{k}"
    src = f"""
#pragma OPENCL FP_CONTRACT OFF
__kernel void {name}({", ".join(args)}) {{
  long wi = get_global_id(0);
  if (wi >= end) return;
  {" ".join(decl)} long n, per;
  {_pick(k, body_of)}
  long i0 = wi * per, i1 = min(i0 + per, n);
  for (long i = i0; i < i1; ++i) {{
    {loads}
    {T.store(out_dt, "o", "o_off + i", value)};
  }}
}}
"""
    return src, name, types


def _launch(dev, kernel, args, first):
    g = dev.group
    gsize = (max(g, -(-first // g) * g),) if not dev.is_cpu else (first,)
    lsize = (g,) if not dev.is_cpu else (1,)
    kernel(dev.queue, gsize, lsize, *args, first)


class BatchedMap:
    """``fn(segments, shapes)`` for :func:`~plugrad.plugins.fusion.batch_calls`: each
    segment's ``(operands, out)`` computed in one launch; new outputs are contiguous."""

    def __init__(self, backend, chain, shared):
        self.backend, self.chain, self.shared = backend, chain, shared
        self.op = chain.nodes[0].op

    def __call__(self, segments, shapes):
        be, chain, shared = self.backend, self.chain, self.shared
        out_dt = chain.nodes[0].dtype
        first = next(x for x in segments[0][0] if type(x) is CLArray)
        outs = [o if o is not None else be._new(shape, out_dt, first.device)
                for (_, o), shape in zip(segments, shapes)]
        scalar = [s for _, s in chain.inputs]
        ok = all(type(o) is CLArray and o.is_contiguous() and o.device == first.device
                 for o in outs)
        for (ops, _), o in zip(segments, outs):
            for m, x in enumerate(ops):
                if scalar[m]:
                    continue
                if type(x) is not CLArray or x.device != first.device or (
                        not shared[m] and (x.shape != o.shape or not x.is_contiguous())) or (
                        not shared[m] and x.data is o.data and x.offset != o.offset):
                    ok = False
        if not ok:
            fn = getattr(be, self.op)
            return [fn(*ops, out=o) for (ops, _), o in zip(segments, outs)]
        dev = be.devices[first.device]
        k = len(segments)
        kernel = dev.kernel(("batched_map", chain, shared, k),
                            lambda: render_batched_map(chain, shared, k))
        args, start = [], 0
        for (ops, _), o in zip(segments, outs):
            _, _, per = dev.launch_1d(o.size)
            args += [o.data, o.offset]
            for m, x in enumerate(ops):
                if not scalar[m] and not shared[m]:
                    args += [x.data, x.offset]
            args += [o.size, start, per]
            start += -(-o.size // per)
        for m, x in enumerate(segments[0][0]):
            if scalar[m]:
                args.append(T.scalar_arg(chain.inputs[m][0], x))
            elif shared[m]:
                args += [x.data, x.offset]
        if start:
            _launch(dev, kernel, args, start)
        return outs


def render_concat(raw, k):
    args, types = ["__global " + raw + "* out", "long out_off"], [None, numpy.int64]
    for j in range(k):
        args += [f"__global const {raw}* x{j}", f"long x{j}_off", f"long n{j}", f"long d{j}",
                 f"long c{j}"]
        types += [None] + [numpy.int64] * 4
    args += ["long per", "long end"]
    types += [numpy.int64, numpy.int64]

    def body_of(j):
        return f"{{ x = x{j}; x_off = x{j}_off; n = n{j}; d = d{j}; wi -= c{j}; }}"
    name = f"concat_{k}"
    src = f"""
__kernel void {name}({", ".join(args)}) {{
  long wi = get_global_id(0);
  if (wi >= end) return;
  __global const {raw}* x; long x_off, n, d;
  {_pick(k, body_of)}
  long i0 = wi * per, i1 = min(i0 + per, n);
  for (long i = i0; i < i1; ++i) out[out_off + d + i] = x[x_off + i];
}}
"""
    return src, name, types


class BatchedConcat:
    """``concat``'s signature: contiguous pieces joined where they stay contiguous blocks of
    the result (every axis before ``axis`` of size 1), GROUP pieces per launch (a raw copy of
    their elements); anything else takes the backend's own concat."""
    GROUP = 16

    def __init__(self, backend):
        self.backend = backend

    def __call__(self, xs, axis):
        be = self.backend
        first = xs[0] if xs else None
        if first is None or len(xs) < 2 or first.itemsize not in _RAW or any(
                type(x) is not CLArray or not x.is_contiguous() or x.dname != first.dname
                or x.device != first.device or x.ndim != first.ndim for x in xs) or \
                any(n != 1 for n in first.shape[:axis]) or \
                any(x.shape[:axis] + x.shape[axis + 1:] !=
                    first.shape[:axis] + first.shape[axis + 1:] for x in xs):
            return be.concat(xs, axis)
        shape = list(first.shape)
        shape[axis] = sum(x.shape[axis] for x in xs)
        out = be._new(tuple(shape), first.dname, first.device)
        dev = be.devices[first.device]
        raw = _RAW[first.itemsize]
        pieces = [x for x in xs if x.size]
        _, _, per = dev.launch_1d(max(1, out.size // max(1, len(pieces))))
        done = 0
        starts = []
        for x in xs:
            starts.append(done)
            done += x.size
        pieces = [(x, d) for x, d in zip(xs, starts) if x.size]
        for g in range(0, len(pieces), self.GROUP):
            group = pieces[g:g + self.GROUP]
            k = len(group)
            kernel = dev.kernel(("concat_multi", raw, k), lambda: render_concat(raw, k))
            args, start = [out.data, out.offset], 0
            for x, d in group:
                args += [x.data, x.offset, x.size, d, start]
                start += -(-x.size // per)
            _launch(dev, kernel, args + [per], start)
        return out
