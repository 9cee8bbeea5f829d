"""``mt19937_generate`` on CUDA: torch's CPU random stream continued on the GPU.

The kernel source is shared with the OpenCL backend (:mod:`plugrad.backends.mt19937`) and
compiled by NVRTC through a CuPy ``RawModule``, one per (transform kind, output dtype), on
first use. It runs as one block of :data:`BLOCK` threads -- a block of the stream depends on
the whole previous one -- with the twist's three phases and the tempering and transform of
each block spread over the threads. Draws of :data:`SPLIT_WORDS` words or more take two
launches instead (:data:`SPLIT`): the twist alone on one block, then tempering and transform
over the whole grid.
"""
from __future__ import annotations

import numpy

from .. import mt19937 as M
from .. import mt19937_normal as MN

BLOCK = 256
"""Threads of the single block: at least 227, the longest twist phase."""

SPLIT_WORDS = 1 << 16
"""From this many words on, a draw takes two launches (:data:`SPLIT`) instead of one."""

# Large draws: the stream is sequential -- word j needs words j-624, j-623 and j-227, so at
# most 227 words can be made at once -- but tempering and transforming them is not. One block
# twists and writes the untempered words to a scratch buffer (only the twist stays on one
# SM), then a full grid tempers and transforms them in parallel: the same words, the same
# pg_emit, so the same values as pg_mt19937.
SPLIT = r"""
PG_KERNEL void pg_mt_words(PG_GLOBAL pg_u32* state, PG_GLOBAL pg_u32* raw, int pos,
                           pg_i64 words) {
    PG_SHARED pg_u32 pg_w[2 * PG_N];
    const int lid = PG_LID, L = PG_LSIZE;
    PG_SHARED_PTR pg_u32* a = pg_w;
    PG_SHARED_PTR pg_u32* b = pg_w + PG_N;
    for (int i = lid; i < PG_N; i += L) a[i] = state[i];
    PG_BARRIER();
    const pg_i64 first = words < (pg_i64)(PG_N - pos) ? words : (pg_i64)(PG_N - pos);
    for (pg_i64 i = lid; i < first; i += L) raw[i] = a[pos + i];
    const pg_i64 twists = words ? ((pg_i64)pos + words - 1) / PG_N : 0;
    for (pg_i64 j = 1; j <= twists; ++j) {
        /* b (the older block) was last read before the previous phase-3 barrier */
        for (int i = lid; i < 227; i += L) b[i] = pg_twist(a[i], a[i + 1], a[i + 397]);
        PG_BARRIER();
        for (int i = 227 + lid; i < 454; i += L) b[i] = pg_twist(a[i], a[i + 1], b[i - 227]);
        PG_BARRIER();
        for (int i = 454 + lid; i < PG_N; i += L)
            b[i] = pg_twist(a[i], i == PG_N - 1 ? b[0] : a[i + 1], b[i - 227]);
        PG_BARRIER();
        const pg_i64 base = (pg_i64)PG_N * j - pos;     /* stream index of b[0] */
        const pg_i64 count = words - base < PG_N ? words - base : PG_N;
        for (pg_i64 i = lid; i < count; i += L) raw[base + i] = b[i];
        PG_SHARED_PTR pg_u32* t = a;
        a = b;
        b = t;
    }
    for (int i = lid; i < PG_N; i += L) state[i] = a[i];
}

PG_KERNEL void pg_mt_emit(const pg_u32* __restrict__ raw, PG_GLOBAL PG_OUT_T* out, pg_i64 n,
                          pg_u64 p0, pg_u64 p1, pg_u64 p2, pg_u64 p3, int flags) {
    for (pg_i64 e = PG_GID; e < n; e += PG_GSIZE) {
        const pg_i64 r = e * PG_WPE;
        pg_emit(out, e, pg_temper(raw[r]), PG_WPE == 2 ? pg_temper(raw[r + 1]) : 0u,
                p0, p1, p2, p3, flags);
    }
}
"""


def render_split(kind, dtype):
    """The CUDA source of pg_mt19937 plus the two kernels of a split draw."""
    return M.render("cuda", kind, dtype) + SPLIT


class Random:
    """Mixed in before the array-module backend; needs ``self.cupy`` and ``self.dtypes``."""

    split_words = SPLIT_WORDS

    def _mt_kernel(self, kind, dtype, name="pg_mt19937"):
        modules = self.__dict__.setdefault("_mt_modules", {})
        module = modules.get((kind, dtype))
        if module is None:
            code = MN.render("cuda", dtype) if kind == "normal" else render_split(kind, dtype)
            module = modules[(kind, dtype)] = self.cupy.RawModule(code=code)
        return module.get_function("pg_normal16" if kind == "normal" else name)

    def mt19937_generate(self, state, pos, shape, dtype, transform, params):
        if transform == "normal":
            return self._mt_normal(state, pos, shape, dtype, params)
        cp = self.cupy
        with state.device:
            out = cp.empty(shape, self.dtypes[dtype])
            if out.size == 0:
                return out
            kind = M.kind_of(transform, dtype, params)
            p0, p1, p2, p3, flags = M.kernel_args(kind, dtype, params)
            p = (numpy.uint64(p0), numpy.uint64(p1), numpy.uint64(p2), numpy.uint64(p3),
                 numpy.int32(flags))
            words = out.size * M.KINDS[kind]
            if words < self.split_words:
                self._mt_kernel(kind, dtype)(
                    (1,), (BLOCK,), (state, out, numpy.int32(pos), numpy.int64(out.size), *p))
            else:
                raw = cp.empty(words, cp.uint32)
                self._mt_kernel(kind, dtype, "pg_mt_words")(
                    (1,), (BLOCK,), (state, raw, numpy.int32(pos), numpy.int64(words)))
                self._mt_kernel(kind, dtype, "pg_mt_emit")(
                    (min(4096, -(-out.size // BLOCK)),), (BLOCK,),
                    (raw, out, numpy.int64(out.size), *p))
        return out

    def _mt_normal(self, state, pos, shape, dtype, params):
        """Uniform float32 words first, then Box-Muller over rows of 16, pair-parallel."""
        n = int(numpy.prod(shape))
        u = self.mt19937_generate(state, pos, (MN.words(n, dtype),), "float32", "uniform",
                                  (0.0, 1.0))
        with state.device:
            out = self.cupy.empty(shape, self.dtypes[dtype])
            tail, mean, std, plain = MN.kernel_args(n, dtype, params)
            blocks = min(4096, -(-MN.pairs(n) // BLOCK))
            self._mt_kernel("normal", dtype)(
                (blocks,), (BLOCK,),
                (u, out, numpy.int64(n), numpy.int64(tail), numpy.uint64(mean),
                 numpy.uint64(std), numpy.int32(plain)))
        return out
