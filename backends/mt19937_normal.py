"""The 'normal' transform of ``mt19937_generate``: torch's float32 Box-Muller, bit for bit.

torch's CPU ``normal_`` for 16 or more float32/float16 values runs ``normal_fill_16_AVX2``
(aten/src/ATen/native/cpu/DistributionTemplates.h): rows of 16 uniforms ``u``, and for
``j < 8``: ``out[j] = r * cos(t) * std + mean``, ``out[j + 8] = r * sin(t) * std + mean``
with ``r = sqrt(-2 * log(1 - u[j]))``, ``t = 2*pi * u[j + 8]``, where log and sincos are
avx_mathfun.h's ``log256_ps``/``sincos256_ps``: float32 polynomials that GCC compiles with
some multiply-adds fused. :mod:`plugrad.random.avx_mathfun` found which, against torch; this
source repeats that numpy port operation for operation with explicit ``fma`` and no other
contraction, so every device rounds exactly where torch's binary does. ``sqrt`` must be
correctly rounded, which OpenCL's float ``sqrt`` need not be (3 ulp): CUDA's ``__fsqrt_rn``,
OpenCL's double ``sqrt`` where the device has fp64, else an integer square root. A size that
is not a multiple
of 16 recomputes its last 16 values from fresh uniforms (float32: the 16 after the n drawn;
float16: the leftover ones topped up), which the caller draws into the same uniform buffer.
One work-item computes one (j, j + 8) pair: one log, one sincos, two outputs.
"""
from __future__ import annotations

import math

import numpy

from . import mt19937 as M


def _f(value) -> str:
    """A float32 constant as its exact bit pattern (no decimal re-rounding by a compiler)."""
    bits = int(numpy.array(value, numpy.float32).view(numpy.uint32))
    return f"PG_AS_FLOAT(0x{bits:08x}u)"


_LOG_P = (7.0376836292e-2, -1.1514610310e-1, 1.1676998740e-1, -1.2420140846e-1,
          1.4249322787e-1, -1.6668057665e-1, 2.0000714765e-1, -2.4999993993e-1,
          3.3333331174e-1)
_CONST = {
    "SQRTHF": 0.707106781186547524, "LOG_Q1": -2.12194440e-4, "LOG_Q2": 0.693359375,
    "DP1": -0.78515625, "DP2": -2.4187564849853515625e-4, "DP3": -3.77489497744594108e-8,
    "SIN0": -1.9515295891e-4, "SIN1": 8.3321608736e-3, "SIN2": -1.6666654611e-1,
    "COS0": 2.443315711809948e-005, "COS1": -1.388731625493765e-003,
    "COS2": 4.166664568298827e-002, "FOPI": 1.27323954473516, "TWO_PI": 2.0 * math.pi,
}

SOURCE = r"""
/* correctly rounded sqrt of a normal float >= 0 (or +-0), in integers: floor(sqrt(M)) of a
   47-48 bit integer M by one Newton step from a float guess (at most one too big after
   it), then rounded to nearest (a tie is impossible). For devices without fp64. */
PG_FN float pg_sqrt_rn(float x) {
    if (x == 0.0f) return x;
    const pg_u32 bits = PG_AS_UINT(x);
    int k = (int)(bits >> 23) - 150;                   /* x = m * 2**k, m has 24 bits */
    pg_u64 m = (bits & 0x7fffffu) | 0x800000u;
    int shift = 24;
    if (k & 1) { m <<= 1; k -= 1; shift = 22; }        /* even exponent; M in [2**46, 2**48) */
    const pg_u64 big = m << shift;
    pg_u64 r = (pg_u64)PG_SQRTF(big);
    r = (r + big / r) >> 1;                            /* >= floor(sqrt(M)), by at most 1 */
    r -= (r * r > big) ? 1 : 0;
    r += (big - r * r > r) ? 1 : 0;                    /* M >= (r + 1/2)**2 */
    const int q = (k - shift) / 2;                     /* sqrt(x) = sqrt(M) * 2**q */
    return (float)r * PG_AS_FLOAT((pg_u32)(q + 127) << 23);
}

#ifdef PG_SQRT_RN
/* the prelude's (CUDA: __fsqrt_rn) */
#elif defined(cl_khr_fp64)
/* double sqrt is correctly rounded in OpenCL, and 53 >= 2 * 24 + 2 bits make the second
   rounding to float exact (Figueroa) */
#define PG_SQRT_RN(x) ((float)sqrt((double)(x)))
#else
#define PG_SQRT_RN(x) pg_sqrt_rn(x)
#endif

/* log256_ps for x > 0 */
PG_FN float pg_log_ps(float x) {
    const float min_norm = PG_AS_FLOAT(0x00800000u);
    x = x < min_norm ? min_norm : x;
    const pg_u32 bits = PG_AS_UINT(x);
    float e = (float)((int)(bits >> 23) - 0x7f) + 1.0f;
    x = PG_AS_FLOAT((bits & ~0x7f800000u) | 0x3f000000u);   /* mantissa in [0.5, 1) */
    const int small = x < SQRTHF;
    const float tmp = small ? x : 0.0f;
    x = x - 1.0f;
    e = e - (small ? 1.0f : 0.0f);
    x = x + tmp;
    const float z = x * x;
    float y = LOG_P0;
    y = PG_FMAF(y, x, LOG_P1); y = PG_FMAF(y, x, LOG_P2); y = PG_FMAF(y, x, LOG_P3);
    y = PG_FMAF(y, x, LOG_P4); y = PG_FMAF(y, x, LOG_P5); y = PG_FMAF(y, x, LOG_P6);
    y = PG_FMAF(y, x, LOG_P7); y = PG_FMAF(y, x, LOG_P8);
    y = y * x;
    const float eq1 = e * LOG_Q1;                      /* not fused (avx_mathfun.py) */
    y = PG_FMAF(y, z, eq1);
    const float hz = z * 0.5f;
    y = y - hz;
    x = x + y;
    return PG_FMAF(e, LOG_Q2, x);
}

/* sincos256_ps: Cephes reduction by pi/4, both polynomials, per-lane selection */
PG_FN void pg_sincos_ps(float x, float* s_out, float* c_out) {
    pg_u32 sign_sin = PG_AS_UINT(x) & 0x80000000u;
    x = PG_AS_FLOAT(PG_AS_UINT(x) & 0x7fffffffu);
    const float xf = x * FOPI;
    int j = (int)xf;                                   /* truncation, like cvttps */
    j = (j + 1) & ~1;
    const float y = (float)j;
    sign_sin ^= (pg_u32)(j & 4) << 29;
    const pg_u32 sign_cos = (pg_u32)(~(j - 2) & 4) << 29;
    const int poly = (j & 2) == 0;
    x = PG_FMAF(y, DP1, x); x = PG_FMAF(y, DP2, x); x = PG_FMAF(y, DP3, x);
    const float z = x * x;
    float yc = PG_FMAF(COS0, z, COS1);
    yc = PG_FMAF(yc, z, COS2);
    yc = yc * z;
    const float hz = z * 0.5f;
    yc = PG_FMAF(yc, z, -hz);
    yc = yc + 1.0f;
    float ys = PG_FMAF(SIN0, z, SIN1);
    ys = PG_FMAF(ys, z, SIN2);
    ys = ys * z;
    ys = PG_FMAF(ys, x, x);
    const float ysin2 = poly ? ys : 0.0f, ysin1 = poly ? 0.0f : yc;
    const float s = ysin1 + ysin2;
    const float c = (yc - ysin1) + (ys - ysin2);
    *s_out = PG_AS_FLOAT(PG_AS_UINT(s) ^ sign_sin);
    *c_out = PG_AS_FLOAT(PG_AS_UINT(c) ^ sign_cos);
}

/* n outputs from the uniforms u: rows of 16 (u[16r ..] -> out[16r ..]) and, when tail >= 0,
   the last 16 outputs again from u[tail .. tail + 16). Item p handles the pair (j, j + 8)
   of one row: p < full / 2 for the full rows (skipping what the tail rewrites), then 8
   items for the tail row. */
PG_KERNEL void pg_normal16(PG_GLOBAL const float* u, PG_GLOBAL PG_OUT_T* out, pg_i64 n,
                           pg_i64 tail, pg_u64 mean_bits, pg_u64 std_bits, int plain) {
    const float mean = PG_AS_FLOAT(mean_bits), std = PG_AS_FLOAT(std_bits);
    const pg_i64 full_pairs = (n / 16) * 8, pairs = full_pairs + (tail >= 0 ? 8 : 0);
    const pg_i64 keep = tail >= 0 ? n - 16 : n;   /* full rows write below this */
    for (pg_i64 p = PG_GID; p < pairs; p += PG_GSIZE) {
        const pg_i64 j = p & 7;
        const pg_i64 src = p < full_pairs ? (p >> 3) * 16 : tail;
        const pg_i64 dst = p < full_pairs ? src : n - 16;
        const float one_minus = 1.0f - u[src + j];
        const float l2 = -2.0f * pg_log_ps(one_minus);
        const float radius = PG_SQRT_RN(l2);
        const float theta = TWO_PI * u[src + 8 + j];
        float sn, cs;
        pg_sincos_ps(theta, &sn, &cs);
        float v0 = radius * cs, v1 = radius * sn;
        if (plain) { v0 = v0 + 0.0f; v1 = v1 + 0.0f; }
        else { v0 = PG_FMAF(v0, std, mean); v1 = PG_FMAF(v1, std, mean); }  /* fmadd_ps */
        const int is_tail = p >= full_pairs;
#if PG_OUT_half
        if (is_tail || dst + j < keep) out[dst + j] = pg_half_bits(v0);
        if (is_tail || dst + j + 8 < keep) out[dst + j + 8] = pg_half_bits(v1);
#else
        if (is_tail || dst + j < keep) out[dst + j] = v0;
        if (is_tail || dst + j + 8 < keep) out[dst + j + 8] = v1;
#endif
    }
}
"""


def render(lang: str, dtype: str) -> str:
    """Source of ``pg_normal16`` writing float32 or float16 (``dtype``)."""
    consts = [f"#define LOG_P{i} {_f(v)}" for i, v in enumerate(_LOG_P)]
    consts += [f"#define {name} {_f(v)}" for name, v in _CONST.items()]
    defines = [f"#define PG_OUT_T {M.OUT[dtype][0]}",
               f"#define PG_OUT_half {int(dtype == 'float16')}"]
    return (M.PRELUDES[lang] + "\n".join(defines + consts) + "\n" + M.HELPERS + SOURCE)


def words(n: int, dtype: str) -> int:
    """Uniforms (words) one 'normal' draw of n >= 16 values takes."""
    return M.words("normal", dtype, (), n)


def pairs(n: int) -> int:
    """Work items of ``pg_normal16`` for n values: one per (j, j + 8) pair of every row."""
    return (n // 16) * 8 + (8 if n % 16 else 0)


def kernel_args(n: int, dtype: str, params: tuple) -> tuple:
    """(tail, mean bits, std bits, plain) of ``pg_normal16``; plain: torch's std == 1,
    mean == +0 fast path (``n + 0`` instead of the fma, which still turns -0.0 into +0.0)."""
    mean, std = numpy.float32(params[0]), numpy.float32(params[1])
    tail = -1 if n % 16 == 0 else (n if dtype == "float32" else n - n % 16)
    plain = bool(std == 1 and mean == 0 and not numpy.signbit(mean))
    as_bits = lambda v: int(numpy.array(v, numpy.float32).view(numpy.uint32))  # noqa: E731
    return tail, as_bits(mean), as_bits(std), int(plain)
