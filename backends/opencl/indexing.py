"""Indexing primitives: gather (``index``), scatter (``index_put``) and ``nonzero``.

Indices are checked in the kernel (the contract's ``checks_indices``): one outside its axis
reads 0 or skips its write and sets the device's error flag (see :mod:`.runtime`).

``index_put(accumulate=True)`` adds with atomics: compare-and-swap loops for floats, and for
dtypes narrower than 32 bits a CAS on the aligned 32-bit word holding the element (buffers are
allocated in multiples of 8 bytes, so the word never leaves the allocation). Float sums over
duplicate indices are therefore order-nondeterministic, as on CUDA; integer results are exact.
``nonzero`` reads one count back to the host (it sizes the output); it is counted in
``backend.transfers['nonzero_count']``. ``sort`` lives in :mod:`.sort`.
"""
from __future__ import annotations

import numpy

from . import templates as T
from .runtime import CLArray

_ATOMIC_WORD = """
static inline void atomic_add_{name}(__global {S}* p, {C} v) {{
  volatile __global uint* w = (volatile __global uint*)((size_t)p & ~(size_t)3);
  uint shift = (uint)((size_t)p & 3) * 8, mask = {M}u << shift, old = *w;
  for (;;) {{
    {S} cur_bits = ({S})((old & mask) >> shift);
    {update}
    uint prev = atomic_cmpxchg(w, old, (old & ~mask) | ((((uint)new_bits) & {M}u) << shift));
    if (prev == old) break;
    old = prev;
  }}
}}
"""
_ATOMIC_CAS = """
static inline void atomic_add_{name}(__global {S}* p, {C} v) {{
  volatile __global {U}* w = (volatile __global {U}*)p;
  {U} old = *w;
  for (;;) {{
    {U} prev = {cas}(w, old, as_{U}(as_{S}(old) + v));
    if (prev == old) break;
    old = prev;
  }}
}}
"""


def _atomic_add(dt):
    """C helper atomically adding a compute value to one element of dtype ``dt``."""
    if dt == "int32":
        return ("static inline void atomic_add_int32(__global int* p, int v) "
                "{ atomic_add((volatile __global int*)p, v); }\n"), "int"
    if dt == "int64":
        return ("static inline void atomic_add_int64(__global long* p, long v) "
                "{ atom_add((volatile __global long*)p, v); }\n"), "long"
    if dt == "float32":
        return _ATOMIC_CAS.format(name=dt, S="float", C="float", U="uint",
                                  cas="atomic_cmpxchg"), "float"
    if dt == "float64":
        return _ATOMIC_CAS.format(name=dt, S="double", C="double", U="ulong",
                                  cas="atom_cmpxchg"), "double"
    if dt == "float16":
        update = ("ushort new_bits; float f = vload_half(0, (__private half*)&cur_bits) + v; "
                  "vstore_half_rte(f, 0, (__private half*)&new_bits);")
        return _ATOMIC_WORD.format(name=dt, S="ushort", C="float", M="0xFFFF",
                                   update=update), "ushort"
    if dt == "bfloat16":
        update = "ushort new_bits = float_to_bf16(bf16_to_float(cur_bits) + v);"
        return _ATOMIC_WORD.format(name=dt, S="ushort", C="float", M="0xFFFF",
                                   update=update), "ushort"
    S = T.CTYPE[dt]
    op = "(cur_bits | (v != 0))" if dt == "bool" else "(cur_bits + v)"
    return _ATOMIC_WORD.format(name=dt, S=S, C=T.COMPUTE[dt], M="0xFFFF" if S == "short" else
                               "0xFF", update=f"{S} new_bits = ({S}){op};"), S


def render_gather(name, dt, k, nb, ni, mode, value_scalar):
    """out[b..., i...] = x[idx0[b], ..., idxk[b], i...]  (mode 'get'), or the reverse
    assignment / atomic add of values (mode 'set' / 'add')."""
    c = T.COMPUTE[dt]
    args = [f"{T.ptr(dt, False)} x", "long x_off"]
    for j in range(k):
        args += [f"__global const long* ix{j}", f"long ix{j}_off", f"long dim{j}", f"long xs{j}"]
    if mode == "get":
        args.append(f"{T.ptr(dt, False)} out")
    elif value_scalar:
        args.append(f"{c} value")
    else:
        args += [f"{T.ptr(dt)} vals", "long v_off"]
    has_v = mode != "get" and not value_scalar
    for d in range(nb):
        args += [f"long bn{d}"] + [f"long is{j}_{d}" for j in range(k)] + \
            ([f"long vb{d}"] if has_v else [])
    for d in range(ni):
        args += [f"long in{d}", f"long xi{d}"] + ([f"long vi{d}"] if has_v else [])
    args += ["__global int* err", "long n", "long per"]
    argtypes = []
    for a in args:
        argtypes.append(None if "*" in a else T.NP_COMPUTE[dt] if a == f"{c} value"
                        else numpy.int64)
    lines = ["long r = i, xo = x_off, vo = " + ("v_off;" if has_v else "0;")]
    lines += [f"long io{j} = ix{j}_off;" for j in range(k)]
    for d in range(ni - 1, -1, -1):
        lines.append(f"{{ long q = r % in{d}; r /= in{d}; xo += q * xi{d};"
                     + (f" vo += q * vi{d};" if has_v else "") + " }")
    for d in range(nb - 1, -1, -1):
        lines.append(f"{{ long q = r % bn{d}; r /= bn{d};"
                     + "".join(f" io{j} += q * is{j}_{d};" for j in range(k))
                     + (f" vo += q * vb{d};" if has_v else "") + " }")
    # an index outside its axis (the contract's checks_indices) reads 0 or skips the write,
    # and sets the device's error flag, which the next to_host/synchronize raises
    lines.append("int ok = 1;")
    for j in range(k):
        lines.append(f"{{ long v = ix{j}[io{j}]; ok &= (v >= 0) & (v < dim{j}); "
                     f"xo += v * xs{j}; }}")
    lines.append("if (!ok) { *err = 1; "
                 + (T.store(dt, "out", "i", f"({c})0") + "; " if mode == "get" else "")
                 + "continue; }")
    value = "value" if value_scalar else f"({c}){T.load(dt, 'vals', 'vo')}"
    if mode == "get":
        lines.append(T.store(dt, "out", "i", T.load(dt, "x", "xo")) + ";")
    elif mode == "set":
        lines.append(T.store(dt, "x", "xo", value) + ";")
    else:
        helper, S = _atomic_add(dt)
        lines.append(f"atomic_add_{dt}((__global {S}*)(x + xo), {value});")
    helper = helper if mode == "add" else ""
    src = f"""{helper}
__kernel void {name}({", ".join(args)}) {{
  long i0 = get_global_id(0) * per, i1 = min(i0 + per, n);
  for (long i = i0; i < i1; ++i) {{
    {chr(10).join(lines)}
  }}
}}
"""
    return src, name, argtypes


class Indexing:

    def _gather(self, x, indices, mode, values=None):
        dev = self.devices[x.device]
        k = len(indices)
        bshape = _broadcast([i.shape for i in indices])
        inner = x.shape[k:]
        full = bshape + inner
        n = 1
        for s in full:
            n *= s
        out = None
        if mode == "get":
            out = self._new(full, x.dname, x.device)
        if n == 0:
            return out
        scalar = not isinstance(values, CLArray) and mode != "get"
        vstr = T.broadcast_strides(values, full) if mode != "get" and not scalar else None
        bsets = [T.broadcast_strides(i, bshape) for i in indices]
        bsets += [vstr[:len(bshape)]] if vstr else []
        bdims, bsets = T.collapse(bshape, bsets) if bshape else ((), bsets)
        isets = [x.strides[k:]] + ([vstr[len(bshape):]] if vstr else [])
        idims, isets = T.collapse(inner, isets) if inner else ((), isets)
        nb, ni, dt = len(bdims), len(idims), x.dname
        key = ("gather", mode, dt, k, nb, ni, scalar)
        kernel = dev.kernel(key, lambda: render_gather(f"gather_{mode}", dt, k, nb, ni, mode,
                                                       scalar))
        args = [x.data, x.offset]
        for j, ix in enumerate(indices):
            args += [ix.data, ix.offset, x.shape[j], x.strides[j]]
        if mode == "get":
            args.append(out.data)
        elif scalar:
            args.append(T.scalar_arg(dt, values))
        else:
            args += [values.data, values.offset]
        for d in range(nb):
            args += [bdims[d]] + [bsets[j][d] for j in range(k)] + ([bsets[k][d]] if vstr else [])
        for d in range(ni):
            args += [idims[d], isets[0][d]] + ([isets[1][d]] if vstr else [])
        gsize, lsize, per = dev.launch_1d(n)
        kernel(dev.queue, gsize, lsize, *(args + [dev.index_error, n, per]))
        dev.index_dirty = True
        return out

    def index(self, x, indices):
        return self._gather(x, list(indices), "get")

    def index_put(self, x, indices, values, accumulate):
        if isinstance(values, CLArray) and values.data is x.data:
            values = self.copy(values)
        self._gather(x, list(indices), "add" if accumulate else "set", values)

    def nonzero(self, x):
        """Chunks count their non-zeros, one work-item scans the counts (the total is the one
        read-back), and each chunk writes its coordinates from its offset: x is read twice
        and nothing of x's size is written but the result."""
        dev = self.devices[x.device]
        if not x.is_contiguous():
            x = self.copy(x)
        n, nd, dt = x.size, x.ndim, x.dname
        if not n:
            return self._new((0, nd), "int64", x.device)
        chunks = max(1, min(dev.units * (8 if dev.is_cpu else 64), n // 4096))
        chunk = -(-n // chunks)
        counts = self._new((chunks + 1,), "int64", x.device)
        count_k, scan_k, write_k = dev.kernels_of(
            ("nonzero", dt, max(nd, 1)), lambda: _render_nonzero(dt, max(nd, 1)),
            ("nonzero_count", "nonzero_scan", "nonzero_write"))
        local = (1,) if dev.is_cpu else None
        count_k(dev.queue, (chunks,), local, x.data, numpy.int64(x.offset), numpy.int64(n),
                numpy.int64(chunk), counts.data)
        scan_k(dev.queue, (1,), (1,), counts.data, numpy.int64(chunks))
        count = numpy.empty(1, numpy.int64)
        self.transfers["nonzero_count"] += 1  # the one documented read-back: it sizes out
        import pyopencl as cl
        cl.enqueue_copy(dev.queue, count, counts.data, src_offset=chunks * 8, is_blocking=True)
        found = int(count[0])
        # a spare row per chunk past the end: the writer stores every element's coordinates,
        # a zero's into its chunk's spare row (a select, not a branch on the data)
        out = self._new(((found + chunks) * nd,), "int64", x.device)
        out = CLArray(out.data, (found, nd), (nd, 1), 0, out.dtype, out.device)
        if found and nd:
            write_k(dev.queue, (chunks,), local, x.data, numpy.int64(x.offset), numpy.int64(n),
                    numpy.int64(chunk), counts.data, out.data, numpy.int64(found),
                    *[numpy.int64(s) for s in x.shape])
        return out


def _render_nonzero(dt, nd):
    nz = f"({T.load(dt, 'x', 'x_off + i')} != 0)"
    decomp = "\n".join(f"  c{d} = r % n{d}; r /= n{d};" for d in range(nd - 1, -1, -1))
    carry = f"++c{nd - 1};"          # the coordinates of i + 1, carried without divisions
    for d in range(nd - 1, 0, -1):
        carry = f"{carry} if (c{d} == n{d}) {{ c{d} = 0; ++c{d - 1};"
    carry += " }" * (nd - 1)
    src = f"""
__kernel void nonzero_count({T.ptr(dt)} x, long x_off, long n, long chunk,
                            __global long* counts) {{
  long g = get_global_id(0), c = 0;
  for (long i = g * chunk; i < min(n, g * chunk + chunk); ++i) c += {nz};
  counts[g] = c;
}}
__kernel void nonzero_scan(__global long* counts, long chunks) {{
  long run = 0;
  for (long g = 0; g <= chunks; ++g) {{
    long v = g < chunks ? counts[g] : 0;
    counts[g] = run;
    run += v;
  }}
}}
__kernel void nonzero_write({T.ptr(dt)} x, long x_off, long n, long chunk,
                            __global const long* counts, __global long* out, long found
                            {"".join(f", long n{d}" for d in range(nd))}) {{
  long g = get_global_id(0), p = counts[g] * {nd}, i0 = g * chunk, r = i0;
  long spare = (found + g) * {nd};
  long {", ".join(f"c{d}" for d in range(nd))};
{decomp}
  for (long i = i0; i < min(n, i0 + chunk); ++i) {{
    long f = {nz}, q = f ? p : spare;
    {" ".join(f"out[q + {d}] = c{d};" for d in range(nd))}
    p += {nd} * f;
    {carry}
  }}
}}
"""
    return src, "nonzero_count", [None, numpy.int64, numpy.int64, numpy.int64, None]


def _broadcast(shapes):
    nd = max(len(s) for s in shapes)
    out = [1] * nd
    for s in shapes:
        for i, n in enumerate(s, nd - len(s)):
            if n != 1:
                out[i] = n
    return tuple(out)
