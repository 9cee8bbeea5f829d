"""Indexing primitives: gather (``index``), scatter (``index_put``) and ``nonzero``.

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
    args += ["long n", "long per"]
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
    for j in range(k):
        lines.append(f"{{ long v = ix{j}[io{j}]; if (v < 0) v += dim{j}; xo += v * xs{j}; }}")
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
        kernel(dev.queue, gsize, lsize, *(args + [n, per]))
        return out

    def index(self, x, indices):
        return self._gather(x, list(indices), "get")

    def index_put(self, x, indices, values, accumulate):
        if isinstance(values, CLArray) and values.data is x.data:
            values = self.copy(values)
        self._gather(x, list(indices), "add" if accumulate else "set", values)

    def nonzero(self, x):
        dev = self.devices[x.device]
        flags = self.cast(self.ne(x, 0) if x.dname != "bool" else x, "int64")
        flat = self.reshape(flags, (x.size,))
        if x.size == 0:
            return self._new((0, x.ndim), "int64", x.device)
        ends = self.cumsum(flat, 0)
        count = numpy.empty(1, numpy.int64)
        self.transfers["nonzero_count"] += 1  # the one documented read-back: it sizes out
        import pyopencl as cl
        cl.enqueue_copy(dev.queue, count, ends.data, src_offset=(x.size - 1) * 8,
                        is_blocking=True)
        out = self._new((int(count[0]), x.ndim), "int64", x.device)
        if count[0] and x.ndim:
            nd = x.ndim
            kernel = dev.kernel(("nonzero", nd), lambda: _render_coords(nd))
            gsize, lsize, per = dev.launch_1d(x.size)
            kernel(dev.queue, gsize, lsize, out.data, ends.data, flat.data, x.size, per,
                   *x.shape)
        return out


def _render_coords(nd):
    decomp = "\n".join(f"    out[p + {d}] = r % n{d}; r /= n{d};" for d in range(nd - 1, -1, -1))
    src = f"""
__kernel void nonzero(__global long* out, __global const long* ends,
                      __global const long* flags, long n, long per,
                      {", ".join(f"long n{d}" for d in range(nd))}) {{
  long i0 = get_global_id(0) * per, i1 = min(i0 + per, n);
  for (long i = i0; i < i1; ++i) {{
    if (!flags[i]) continue;
    long p = (ends[i] - 1) * {nd}, r = i;
{decomp}
  }}
}}
"""
    return src, "nonzero", [None, None, None] + [numpy.int64] * (2 + nd)


def _broadcast(shapes):
    nd = max(len(s) for s in shapes)
    out = [1] * nd
    for s in shapes:
        for i, n in enumerate(s, nd - len(s)):
            if n != 1:
                out[i] = n
    return tuple(out)
