"""matmul and addmm_act over one batched, strided GEMM (conv2d uses it too, :mod:`.conv`).

Three GEMM kernels, picked per device (``PLUGRAD_OPENCL_GEMM=vec|tiled|naive`` forces one):

* ``vec`` (CPUs): register blocking without local memory. A work-item owns an RM x VN block
  of C: RM accumulator vectors of the device's native width, one vector load of B and RM
  scalar loads of A per k. On PoCL (AVX-512) this reaches numpy's BLAS speed. It needs unit
  column strides in B and C and covers only whole blocks; the ragged edges go to ``naive``.
* ``tiled`` (GPUs): TSM x TSN tiles of A and B staged through local memory in TSK slices,
  each of 256 work-items accumulating a WPTM x WPTN block in registers.
* ``naive``: one output per work-item; integer dtypes, edges and tiny problems.
"""
from __future__ import annotations

import math
import os

import numpy

from . import templates as T
from .runtime import CLArray


def _args(nb):
    names = ["A", "a_off", "sa_n", "sa_k", "B", "b_off", "sb_k", "sb_m", "C", "c_off", "sc_n",
             "sc_m", "N", "K", "M", "i0", "j0"]
    names += [f"{p}{d}" for d in range(nb) for p in ("bn", "ab", "bb", "cb")]
    return names


def _signature(dt, nb):
    c = T.CTYPE[dt]
    parts = []
    for name in _args(nb):
        if name in "ABC":
            parts.append(f"__global {'const ' if name != 'C' else ''}{c}* restrict {name}")
        else:
            parts.append(f"long {name}")
    types = [None if n in "ABC" else numpy.int64 for n in _args(nb)]
    return ", ".join(parts), types


def _batch(nb):
    lines = ["long z = get_global_id(2), ao = a_off, bo = b_off, co = c_off;"]
    for d in range(nb - 1, -1, -1):
        lines.append(f"{{ long q = z % bn{d}; z /= bn{d}; ao += q * ab{d}; bo += q * bb{d}; "
                     f"co += q * cb{d}; }}")
    return "\n  ".join(lines)


def _acc(dt):
    return "int" if dt == "bool" else T.COMPUTE[dt]


def render_naive(dt, nb):
    sig, types = _signature(dt, nb)
    A = _acc(dt)
    src = f"""
__kernel void gemm_naive({sig}) {{
  long j = j0 + get_global_id(0), i = i0 + get_global_id(1);
  {_batch(nb)}
  if (i >= N || j >= M) return;
  {A} acc = 0;
  for (long k = 0; k < K; ++k)
    acc += ({A}){T.load(dt, "A", "ao + i * sa_n + k * sa_k")} *
           ({A}){T.load(dt, "B", "bo + k * sb_k + j * sb_m")};
  {T.store(dt, "C", "co + i * sc_n + j * sc_m", T.convert("acc", "int32" if dt == "bool"
                                                                    else dt, dt))};
}}
"""
    return src, "gemm_naive", types


def render_vec(dt, nb, rm, vn):
    """Rows past N (the last, partial block) read row N-1 and are not stored."""
    sig, types = _signature(dt, nb)
    A = T.COMPUTE[dt]
    V = f"{A}{vn}"
    bload = T.vload(dt, vn, "B + bk + j")
    rows = " ".join(f"long a{r} = ao + min(i + {r}, N - 1) * sa_n;" for r in range(rm))
    accs = " ".join(f"{V} c{r} = 0;" for r in range(rm))
    fmas = "\n    ".join(
        f"c{r} = fma(({V})({A}){T.load(dt, 'A', f'a{r} + ka')}, b, c{r});" for r in range(rm))
    stores = "\n  ".join(
        f"if (i + {r} < N) " +
        T.vstore(dt, vn, f"c{r}", f"C + co + (i + {r}) * sc_n + j") + ";" for r in range(rm))
    src = f"""
__kernel void gemm_vec({sig}) {{
  long j = get_global_id(0) * {vn}, i = get_global_id(1) * {rm};
  {_batch(nb)}
  {rows}
  {accs}
  long ka = 0, bk = bo;
  for (long k = 0; k < K; ++k, ka += sa_k, bk += sb_k) {{
    {V} b = {bload};
    {fmas}
  }}
  {stores}
}}
"""
    return src, "gemm_vec", types


def render_tiled(dt, nb, tsm, tsn, tsk, wptm, wptn):
    sig, types = _signature(dt, nb)
    A = T.COMPUTE[dt]
    rtsm, rtsn = tsm // wptm, tsn // wptn
    threads = rtsm * rtsn
    src = f"""
__kernel __attribute__((reqd_work_group_size({rtsn}, {rtsm}, 1)))
void gemm_tiled({sig}) {{
  const int tj = get_local_id(0), ti = get_local_id(1), tid = ti * {rtsn} + tj;
  const long jt = get_group_id(0) * {tsn}, it = get_group_id(1) * {tsm};
  {_batch(nb)}
  __local {A} As[{tsk}][{tsm} + 1];  /* +1: the transposing stores hit distinct banks */
  __local {A} Bs[{tsk}][{tsn}];
  {A} acc[{wptm}][{wptn}];
  for (int wm = 0; wm < {wptm}; ++wm) for (int wn = 0; wn < {wptn}; ++wn) acc[wm][wn] = 0;
  for (long kt = 0; kt < K; kt += {tsk}) {{
    for (int l = tid; l < {tsm * tsk}; l += {threads}) {{
      int r = l / {tsk}, c = l % {tsk};
      long gi = it + r, gk = kt + c;
      As[c][r] = (gi < N && gk < K) ? ({A}){T.load(dt, "A", "ao + gi * sa_n + gk * sa_k")} : 0;
    }}
    for (int l = tid; l < {tsk * tsn}; l += {threads}) {{
      int r = l / {tsn}, c = l % {tsn};
      long gk = kt + r, gj = jt + c;
      Bs[r][c] = (gk < K && gj < M) ? ({A}){T.load(dt, "B", "bo + gk * sb_k + gj * sb_m")} : 0;
    }}
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int kk = 0; kk < {tsk}; ++kk) {{
      {A} a[{wptm}], b[{wptn}];
      for (int wm = 0; wm < {wptm}; ++wm) a[wm] = As[kk][ti + wm * {rtsm}];
      for (int wn = 0; wn < {wptn}; ++wn) b[wn] = Bs[kk][tj + wn * {rtsn}];
      for (int wm = 0; wm < {wptm}; ++wm)
        for (int wn = 0; wn < {wptn}; ++wn) acc[wm][wn] = mad(a[wm], b[wn], acc[wm][wn]);
    }}
    barrier(CLK_LOCAL_MEM_FENCE);
  }}
  for (int wm = 0; wm < {wptm}; ++wm) {{
    long gi = it + ti + wm * {rtsm};
    for (int wn = 0; wn < {wptn}; ++wn) {{
      long gj = jt + tj + wn * {rtsn};
      if (gi < N && gj < M) {T.store(dt, "C", "co + gi * sc_n + gj * sc_m", "acc[wm][wn]")};
    }}
  }}
}}
"""
    return src, "gemm_tiled", types


def _view(x, shape, strides, offset=None):
    return CLArray(x.data, tuple(shape), tuple(strides), x.offset if offset is None else offset,
                   x.dtype, x.device)


class Linalg:

    def _gemm_style(self, dev, dt):
        forced = os.environ.get("PLUGRAD_OPENCL_GEMM", "")
        if T.KIND[dt] != "f":
            return "naive"
        if forced in ("vec", "tiled", "naive"):
            return forced
        return "vec" if dev.is_cpu else "tiled"

    def _gemm(self, a, b, c):
        """c[..., n, m] = a[..., n, k] @ b[..., k, m]: views with equal batch dims (stride 0
        broadcasts); c must not overlap a or b."""
        dev = self.devices[c.device]
        dt = c.dname
        n, k, m = a.shape[-2], a.shape[-1], b.shape[-1]
        batch = c.shape[:-2]
        if c.size == 0:
            return c
        if k == 0:
            self.assign(c, 0)
            return c
        style = self._gemm_style(dev, dt)
        if style == "vec" and m > 1 and c.strides[-1] != 1:
            tmp = self._new(c.shape, dt, c.device)
            self._gemm(a, b, tmp)
            self.assign(c, tmp)
            return c
        if style == "vec" and m > 1 and b.strides[-1] != 1:
            b = self.copy(b)  # the vector loads of B need unit column stride
        bdims, (ab, bb, cb) = T.collapse(batch, [a.strides[:-2], b.strides[:-2], c.strides[:-2]])
        nb, nbatch = len(bdims), math.prod(bdims)
        args = [a.data, a.offset, a.strides[-2], a.strides[-1], b.data, b.offset, b.strides[-2],
                b.strides[-1], c.data, c.offset, c.strides[-2], c.strides[-1], n, k, m]
        tail = [v for d in range(nb) for v in (bdims[d], ab[d], bb[d], cb[d])]
        naive = dev.kernel(("gemm_naive", dt, nb), lambda: render_naive(dt, nb))
        lx = 16

        def run_naive(i0, j0, rows, cols):
            if rows > 0 and cols > 0:
                g = (-(-cols // lx) * lx, rows, nbatch)
                naive(dev.queue, g, (lx, 1, 1), *args, i0, j0, *tail)

        if style == "naive":
            run_naive(0, 0, n, m)
        elif style == "vec":
            vn = max(4, min(16, dev.cl.native_vector_width_float if dt != "float64"
                            else dev.cl.native_vector_width_double))
            rm = 12 if vn * (8 if dt == "float64" else 4) >= 64 else 6
            mf = m // vn * vn
            if mf:
                vec = dev.kernel(("gemm_vec", dt, nb, rm, vn), lambda: render_vec(dt, nb, rm, vn))
                vec(dev.queue, (mf // vn, -(-n // rm), nbatch), (1, 1, 1), *args, 0, 0, *tail)
            run_naive(0, mf, n, m - mf)  # the last m % vn columns
        else:
            big = dev.local_mem >= 32768 and dev.max_wg >= 256 and n * m >= 256 * 256
            tsm, tsk, wpt = (128, 16, 8) if big else (64, 16, 4)
            tiled = dev.kernel(("gemm_tiled", dt, nb, tsm), lambda: render_tiled(
                dt, nb, tsm, tsm, tsk, wpt, wpt))
            g = (-(-m // tsm) * (tsm // wpt), -(-n // tsm) * (tsm // wpt), nbatch)
            tiled(dev.queue, g, (tsm // wpt, tsm // wpt, 1), *args, 0, 0, *tail)
        return c

    def matmul(self, a, b):
        n, m = a.shape[-2], b.shape[-1]
        batch = _broadcast(a.shape[:-2], b.shape[:-2])
        out = self._new(batch + (n, m), a.dname, a.device)
        av = _view(a, batch + a.shape[-2:], T.broadcast_strides(a, batch + a.shape[-2:]))
        bv = _view(b, batch + b.shape[-2:], T.broadcast_strides(b, batch + b.shape[-2:]))
        return self._gemm(av, bv, out)

    def addmm_act(self, bias, m1, m2, act):
        dt = m1.dname
        if dt in T.HALF:        # torch's half addmm adds the bias to the float32 product and
            m1, m2 = self.cast(m1, "float32"), self.cast(m2, "float32")    # rounds once
        out = self.matmul(m1, m2)
        v = "({0} + {1})"
        expr = {"none": v,  # relu propagates nan like numpy's maximum(x, 0)
                "relu": f"(({v} >= 0 || isnan({v})) ? {v} : 0)",
                "gelu": f"({v} * (erf({v} * ({{T}})0.7071067811865476) + 1) * ({{T}})0.5)"}[act]
        if dt in T.HALF:
            return self._map(f"addmm_{act}", expr.replace("{T}", "float"), (out, bias),
                             ("float32", dt), dt, None, "float32")
        return self._map(f"addmm_{act}", expr.replace("{T}", T.COMPUTE[dt]), (out, bias),
                         (dt, dt), dt, out)



def _broadcast(s1, s2):
    nd = max(len(s1), len(s2))
    s1, s2 = (1,) * (nd - len(s1)) + tuple(s1), (1,) * (nd - len(s2)) + tuple(s2)
    return tuple(p if q == 1 else q for p, q in zip(s1, s2))
