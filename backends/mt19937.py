"""The device MT19937 kernel (``mt19937_generate``), one C source for OpenCL and CUDA.

torch's CPU generator is ``at::mt19937``; its words are the classic MT19937 stream. The
kernel keeps the 624-word state in a device buffer and runs in *one* work-group (block),
because block ``j + 1`` of the stream depends on all of block ``j``:

* twist: the next block ``b`` from the current one ``a`` (two buffers in local memory, so no
  word is overwritten while another work-item still reads it), in three barrier-separated
  phases -- ``b[i] = f(a[i], a[i+1], a[i+397])`` for i in [0, 227); ``f(a[i], a[i+1],
  b[i-227])`` for [227, 454); the same for [454, 624) with ``b[0]`` as the last word's
  neighbour -- each phase parallel over its words;
* emit: every element whose last word falls in the new block is tempered and transformed in
  parallel; an element of two words may take its first word from the previous block.

The transforms are torch's integer-exact ones (see :data:`KINDS`); float parameters travel
as bit patterns in 64-bit integers, so a device without fp64 needs no double argument.
``fma`` is called explicitly where torch's GCC build fuses (uniform's affine map) and
nothing else may be contracted (``FP_CONTRACT OFF``; CUDA multiplies only by powers of two).

The source is rendered per (transform kind, output dtype) by :func:`render` with a small
per-language prelude (:data:`PRELUDES`); the tests compile the CUDA rendering with nvcc and
run it on the host with g++ (one POSIX thread per CUDA thread, real barriers), and run the
OpenCL rendering on PoCL. The 'normal' transform adds a second kernel
(:mod:`plugrad.backends.mt19937_normal`) over uniforms this one draws.
"""
from __future__ import annotations

import struct

import numpy

N = 624
"""Words in the MT19937 state (and in one block of the stream)."""

# transform kinds: (source macro, words per element)
KINDS = {"uniform24": 1, "uniform53": 2, "int32": 1, "int64": 2, "bernoulli53": 2}

# output dtype -> (C storage type name in the prelude, conversion class)
OUT = {"bool": ("pg_u8", "bool"), "uint8": ("pg_u8", "int"), "int8": ("pg_i8", "int"),
       "int16": ("pg_i16", "int"), "int32": ("pg_i32", "int"), "int64": ("pg_i64", "int"),
       "float16": ("pg_u16", "half"), "float32": ("float", "float"),
       "float64": ("double", "double")}

PRELUDES = {
    "opencl": r"""
#pragma OPENCL FP_CONTRACT OFF
typedef uchar pg_u8; typedef char pg_i8; typedef short pg_i16; typedef int pg_i32;
typedef ushort pg_u16; typedef uint pg_u32; typedef long pg_i64; typedef ulong pg_u64;
#define PG_FN static inline
#define PG_KERNEL __kernel
#define PG_GLOBAL __global
#define PG_SHARED __local
#define PG_SHARED_PTR __local
#define PG_BARRIER() barrier(CLK_LOCAL_MEM_FENCE)
#define PG_LID ((int)get_local_id(0))
#define PG_LSIZE ((int)get_local_size(0))
#define PG_GID ((pg_i64)get_global_id(0))
#define PG_GSIZE ((pg_i64)get_global_size(0))
#define PG_SQRTF(x) sqrt((float)(x))
#define PG_AS_FLOAT(u) as_float((pg_u32)(u))
#define PG_AS_UINT(f) as_uint(f)
#define PG_AS_DOUBLE(u) as_double((pg_u64)(u))
#define PG_FMAF(a, b, c) fma((float)(a), (float)(b), (float)(c))
#define PG_FMA(a, b, c) fma((double)(a), (double)(b), (double)(c))
""",
    "cuda": r"""
typedef unsigned char pg_u8; typedef signed char pg_i8; typedef short pg_i16;
typedef int pg_i32; typedef unsigned short pg_u16; typedef unsigned int pg_u32;
typedef long long pg_i64; typedef unsigned long long pg_u64;
#define PG_FN __device__ __forceinline__
#define PG_KERNEL extern "C" __global__
#define PG_GLOBAL
#define PG_SHARED __shared__
#define PG_SHARED_PTR
#define PG_BARRIER() __syncthreads()
#define PG_LID ((int)threadIdx.x)
#define PG_LSIZE ((int)blockDim.x)
#define PG_GID ((pg_i64)blockIdx.x * blockDim.x + threadIdx.x)
#define PG_GSIZE ((pg_i64)gridDim.x * blockDim.x)
#define PG_SQRTF(x) sqrtf((float)(x))
#define PG_SQRT_RN(x) __fsqrt_rn(x)
#define PG_AS_FLOAT(u) __uint_as_float((pg_u32)(u))
#define PG_AS_UINT(f) __float_as_uint(f)
#define PG_AS_DOUBLE(u) __longlong_as_double((long long)(u))
#define PG_FMAF(a, b, c) __fmaf_rn((a), (b), (c))
#define PG_FMA(a, b, c) __fma_rn((a), (b), (c))
""",
}

HELPERS = r"""
#define PG_N 624
#define PG_TEMPER_B 0x9d2c5680u
#define PG_TEMPER_C 0xefc60000u

PG_FN pg_u32 pg_twist(pg_u32 cur, pg_u32 next, pg_u32 far) {
    const pg_u32 y = (cur & 0x80000000u) | (next & 0x7fffffffu);
    return far ^ (y >> 1) ^ ((y & 1u) ? 0x9908b0dfu : 0u);
}

PG_FN pg_u32 pg_temper(pg_u32 y) {
    y ^= y >> 11;
    y ^= (y << 7) & PG_TEMPER_B;
    y ^= (y << 15) & PG_TEMPER_C;
    return y ^ (y >> 18);
}

/* float32 -> IEEE half bits, round to nearest even (numpy's npy_floatbits_to_halfbits) */
PG_FN pg_u16 pg_half_bits(float value) {
    const pg_u32 f = PG_AS_UINT(value);
    const pg_u32 sgn = (f & 0x80000000u) >> 16;
    pg_u32 e = f & 0x7f800000u, sig;
    if (e >= 0x47800000u) {                       /* overflow, inf, nan */
        sig = f & 0x007fffffu;
        if (e == 0x7f800000u && sig != 0) {
            pg_u32 r = 0x7c00u + (sig >> 13);
            return (pg_u16)(sgn + (r == 0x7c00u ? r + 1u : r));
        }
        return (pg_u16)(sgn + 0x7c00u);
    }
    if (e <= 0x38000000u) {                       /* half subnormal or zero */
        if (e < 0x33000000u) return (pg_u16)sgn;
        e >>= 23;
        sig = 0x00800000u + (f & 0x007fffffu);
        sig >>= (113u - e);
        if (((sig & 0x00003fffu) != 0x00001000u) || (f & 0x000007ffu)) sig += 0x00001000u;
        return (pg_u16)(sgn + (sig >> 13));
    }
    sig = f & 0x007fffffu;
    if ((sig & 0x00003fffu) != 0x00001000u) sig += 0x00001000u;
    return (pg_u16)(sgn + ((e - 0x38000000u) >> 13) + (sig >> 13));
}

"""

GENERATE = r"""
/* one element from its first word w0 and (two-word kinds) second word w1 */
PG_FN void pg_emit(PG_GLOBAL PG_OUT_T* out, pg_i64 e, pg_u32 w0, pg_u32 w1,
                   pg_u64 p0, pg_u64 p1, pg_u64 p2, pg_u64 p3, int flags) {
#if PG_KIND_uniform24
    /* uniform_real_distribution<float>: 24 low bits times 2**-24, then from + x * (to - from)
       fused (flags & 1), in float; an element that rounds to `to` becomes `from` */
    float x = (float)(w0 & 0xffffffu) * 5.9604644775390625e-08f;
    if (flags & 1) x = PG_FMAF(x, PG_AS_FLOAT(p1), PG_AS_FLOAT(p0));
#if PG_OUT_half
    pg_u16 h = pg_half_bits(x);
    const pg_u16 to = (pg_u16)p2;
    if ((flags & 2) && (h == to || ((h | to) & 0x7fffu) == 0)) h = (pg_u16)p3;
    out[e] = h;
#else
    if ((flags & 2) && x == PG_AS_FLOAT(p2)) x = PG_AS_FLOAT(p3);
    out[e] = x;
#endif
#elif PG_KIND_uniform53
    /* uniform_real_distribution<double>: 53 low bits of random64 (first word high) */
    const pg_u64 v = (((pg_u64)w0 << 32) | w1) & 0x1fffffffffffffull;
    double x = (double)v * 1.1102230246251565404236316680908203125e-16;
    if (flags & 1) x = PG_FMA(x, PG_AS_DOUBLE(p1), PG_AS_DOUBLE(p0));
    if ((flags & 2) && x == PG_AS_DOUBLE(p2)) x = PG_AS_DOUBLE(p3);
    out[e] = x;
#else
    pg_i64 s;
#if PG_KIND_int32
    /* uniform_int_from_to with one random(): (w % span) + base, wrapping in 64 bits */
    s = (pg_i64)((pg_u64)(p0 ? w0 % (pg_u32)p0 : w0) + p1);
#elif PG_KIND_int64
    const pg_u64 v = ((pg_u64)w0 << 32) | w1;
    s = (pg_i64)((p0 ? v % p0 : v) + p1);
#else /* bernoulli53: u < p  <=>  53 low bits of random64 < ceil(p * 2**53) */
    s = ((((pg_u64)w0 << 32) | w1) & 0x1fffffffffffffull) < p0 ? 1 : 0;
#endif
#if PG_OUT_bool
    out[e] = (pg_u8)(s != 0);
#elif PG_OUT_int
    out[e] = (PG_OUT_T)s;
#elif PG_OUT_half
    out[e] = pg_half_bits((float)s);  /* Half has no int64 constructor: via float, as torch */
#else
    out[e] = (PG_OUT_T)s;
#endif
#endif
}

/* elements whose last word lies before word 624 * j of the stream (block 0 starts at pos) */
PG_FN pg_i64 pg_before(pg_i64 j, int pos, pg_i64 n) {
    const pg_i64 num = (pg_i64)PG_N * j - pos - (PG_WPE - 1);
    if (num <= 0) return 0;
    const pg_i64 k = (num + PG_WPE - 1) / PG_WPE;
    return k < n ? k : n;
}

PG_KERNEL void pg_mt19937(PG_GLOBAL pg_u32* state, PG_GLOBAL PG_OUT_T* out, int pos,
                          pg_i64 n, pg_u64 p0, pg_u64 p1, pg_u64 p2, pg_u64 p3, int flags) {
    PG_SHARED pg_u32 pg_blocks[2 * PG_N];
    const int lid = PG_LID, L = PG_LSIZE;
    PG_SHARED_PTR pg_u32* cur = pg_blocks;
    PG_SHARED_PTR pg_u32* prev = pg_blocks + PG_N;
    for (int i = lid; i < PG_N; i += L) cur[i] = state[i];
    PG_BARRIER();
    const pg_i64 words = n * PG_WPE;
    const pg_i64 twists = words ? ((pg_i64)pos + words - 1) / PG_N : 0;
    /* block 0: the rest of the current state */
    for (pg_i64 e = lid, end = pg_before(1, pos, n); e < end; e += L) {
        const pg_i64 g = pos + e * PG_WPE;
        pg_emit(out, e, pg_temper(cur[g]), PG_WPE == 2 ? pg_temper(cur[g + 1]) : 0u,
                p0, p1, p2, p3, flags);
    }
    for (pg_i64 j = 1; j <= twists; ++j) {
        PG_BARRIER();  /* the previous emit has read `prev`, which now receives block j */
        PG_SHARED_PTR pg_u32* a = cur;
        PG_SHARED_PTR pg_u32* b = prev;
        for (int i = lid; i < 227; i += L) b[i] = pg_twist(a[i], a[i + 1], a[i + 397]);
        PG_BARRIER();
        for (int i = 227 + lid; i < 454; i += L) b[i] = pg_twist(a[i], a[i + 1], b[i - 227]);
        PG_BARRIER();
        for (int i = 454 + lid; i < PG_N; i += L)
            b[i] = pg_twist(a[i], i == PG_N - 1 ? b[0] : a[i + 1], b[i - 227]);
        PG_BARRIER();
        cur = b;
        prev = a;
        const pg_i64 base = (pg_i64)PG_N * j;
        for (pg_i64 e = pg_before(j, pos, n) + lid, end = pg_before(j + 1, pos, n); e < end;
             e += L) {
            const pg_i64 g = pos + e * PG_WPE - base;   /* -1 when the first word is in j-1 */
            const pg_u32 w0 = g < 0 ? prev[PG_N + g] : cur[g];
            pg_emit(out, e, pg_temper(w0), PG_WPE == 2 ? pg_temper(cur[g + 1]) : 0u,
                    p0, p1, p2, p3, flags);
        }
    }
    PG_BARRIER();
    for (int i = lid; i < PG_N; i += L) state[i] = cur[i];
}
"""


def kind_of(transform: str, dtype: str, params: tuple) -> str:
    """The kernel kind for a contract ``(transform, dtype, params)``."""
    if transform == "uniform":
        return "uniform53" if dtype == "float64" else "uniform24"
    if transform == "integer":
        return "int64" if params[0] == 64 else "int32"
    if transform == "bernoulli":
        return "bernoulli53"
    raise ValueError(f"mt19937_generate: unknown transform {transform!r}")


def render(lang: str, kind: str, dtype: str) -> str:
    """Source of ``pg_mt19937`` for one transform kind and output dtype."""
    ctype, cls = OUT[dtype]
    defines = [f"#define PG_OUT_T {ctype}", f"#define PG_WPE {KINDS[kind]}"]
    defines += [f"#define PG_KIND_{k} {int(k == kind)}" for k in KINDS]
    defines += [f"#define PG_OUT_{c} {int(c == cls)}" for c in ("bool", "int", "half")]
    return PRELUDES[lang] + "\n".join(defines) + "\n" + HELPERS + GENERATE


def _f32_bits(v) -> int:
    return int(numpy.array(v, numpy.float32).view(numpy.uint32))


def _f64_bits(v) -> int:
    return struct.unpack("<Q", struct.pack("<d", float(v)))[0]


def _f16_bits(v) -> int:
    return int(numpy.array(v, numpy.float32).astype(numpy.float16).view(numpy.uint16))


def kernel_args(kind: str, dtype: str, params: tuple) -> tuple:
    """(p0, p1, p2, p3, flags) of ``pg_mt19937`` for contract ``params``.

    uniform: p0 = from, p1 = to - from (rounded in the compute type), p2 = `to` in the
    output dtype, p3 = `from` in it; flags 1 = apply the affine map, 2 = replace `to`.
    integer: p0 = span (0: none), p1 = base. bernoulli: p0 = threshold.
    """
    if kind == "uniform24":
        low, high = (numpy.float32(p) for p in params)
        affine = (low, high) != (0.0, 1.0)
        bits = _f16_bits if dtype == "float16" else _f32_bits
        flags = (1 if affine else 0) | (2 if affine or dtype == "float16" else 0)
        return (_f32_bits(low), _f32_bits(high - low), bits(high), bits(low), flags)
    if kind == "uniform53":
        low, high = (float(p) for p in params)
        affine = (low, high) != (0.0, 1.0)
        return (_f64_bits(low), _f64_bits(high - low), _f64_bits(high), _f64_bits(low),
                3 if affine else 0)
    if kind in ("int32", "int64"):
        _, span, base = params
        return (int(span) & (2 ** 64 - 1), int(base) & (2 ** 64 - 1), 0, 0, 0)
    return (int(params[0]), 0, 0, 0, 0)


def words(transform: str, dtype: str, params: tuple, n: int) -> int:
    """Words of the stream a draw of n values takes (the contract's accounting)."""
    if transform == "normal":   # n >= 16; a partial last row redraws (part of) a row
        return n if n % 16 == 0 else n + (16 if dtype == "float32" else 16 - n % 16)
    return n * KINDS[kind_of(transform, dtype, params)]


def twists(pos: int, words: int) -> int:
    """How many blocks a draw of ``words`` words from position ``pos`` twists."""
    return (pos + words - 1) // N if words else 0


def advance(pos: int, words: int) -> int:
    """The state position after drawing ``words`` words from ``pos`` (624: twist next)."""
    return pos + words - N * twists(pos, words)
