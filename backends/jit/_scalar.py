"""Scalar helpers the compiled kernels inline: erf and exp written without libm calls, casts
to int64 or branches, so LLVM vectorizes the loops that use them (a libm call per element
keeps a loop scalar: 3.0 ms for erf of 393K floats against 1.3 ms vectorized; AVX2 has no
vector float64 -> int64 conversion, hence the bit tricks below).

The float helpers return float64 values accurate far beyond float32, for the kernels to
round once.
"""
from __future__ import annotations

from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic

from ..xp.special import ERF_OVER_X, FLOAT32_ONE, LOG_ERFC, LOG_ERFC_CENTER

P0, P1, P2, P3, P4, P5, P6 = ERF_OVER_X
Q0, Q1, Q2, Q3, Q4, Q5, Q6, Q7, Q8 = LOG_ERFC
ROUND = 6755399441055744.0      # 1.5 * 2**52: v + ROUND rounds v to an integer, kept in its low bits


@intrinsic
def float32_bits(typingctx, x):
    """The bits of a float32 as an int32 (a bitcast, free in a vector loop)."""
    if x != types.float32:
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(32))
    return types.int32(types.float32), codegen


@intrinsic
def bits_float32(typingctx, x):
    """The float32 whose bits are the low 32 bits of an integer."""
    if not isinstance(x, types.Integer):
        return None

    def codegen(context, builder, signature, args):
        value = args[0]
        if x.bitwidth > 32:
            value = builder.trunc(value, ir.IntType(32))
        return builder.bitcast(value, ir.FloatType())
    return types.float32(x), codegen


@intrinsic
def float64_bits(typingctx, x):
    """The bits of a float64 as an int64."""
    if x != types.float64:
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(64))
    return types.int64(types.float64), codegen


@intrinsic
def bits_float64(typingctx, x):
    """The float64 whose bits are an int64."""
    if x != types.int64:
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.DoubleType())
    return types.float64(types.int64), codegen


@njit(inline="always", error_model="numpy", fastmath={"contract"})
def exp_nonpositive(v):
    """exp(v) for v <= 0 (nan stays nan), relative error < 3e-10: 2**k * exp(r) with
    k = round(v / ln 2), |r| <= ln(2) / 2, exp(r) by Taylor to degree 8.

    Below -104 float32's exp is 0 (exp(-104) = 6.8e-46 rounds to 0), so v is clamped there,
    which also keeps 2**k a normal float64. Must not be compiled with ``reassoc``: that
    would fold (v * log2(e) + ROUND) - ROUND back to v * log2(e).
    """
    v = -104.0 if v < -104.0 else v
    shifted = v * 1.4426950408889634 + ROUND
    k = shifted - ROUND
    r = v - k * 0.6931471805599453          # |k| <= 150: k * ln2's rounding is < 1e-14
    p = 1.0 + r * (1.0 + r * (1 / 2 + r * (1 / 6 + r * (1 / 24 + r * (1 / 120 + r * (
        1 / 720 + r * (1 / 5040 + r * (1 / 40320))))))))
    # shifted's low bits hold k: (k + 1023) << 52 is 2**k's bit pattern
    return p * bits_float64((float64_bits(shifted) + 1023) << 52)


@njit(inline="always", error_model="numpy", fastmath={"contract"})
def erf_abs(a):
    """erf(a) for a = |x| (nan stays nan), within 0.52 ulp of float32 once rounded: the two
    polynomials of :func:`plugrad.backends.xp.special.erf_float32`, both evaluated and one
    selected, as that function does.
    """
    s = a if a < 1.0 else 1.0
    z = s * s
    near = s * (P0 + z * (P1 + z * (P2 + z * (P3 + z * (P4 + z * (P5 + z * P6))))))
    t = a if a < FLOAT32_ONE else FLOAT32_ONE
    t = (t if t > 1.0 else 1.0) - LOG_ERFC_CENTER
    log_erfc = Q0 + t * (Q1 + t * (Q2 + t * (Q3 + t * (Q4 + t * (Q5 + t * (Q6 + t * (
        Q7 + t * Q8)))))))
    # log_erfc in [-17, -1.8]: exp(log_erfc / 256) ** 256 needs Taylor only to degree 7
    r = log_erfc * (1 / 256)
    e = 1.0 + r * (1.0 + r * (1 / 2 + r * (1 / 6 + r * (1 / 24 + r * (1 / 120 + r * (
        1 / 720 + r * (1 / 5040)))))))
    e *= e
    e *= e
    e *= e
    e *= e
    e *= e
    e *= e
    e *= e
    e *= e
    out = near if a < 1.0 else 1.0 - e
    return out if a == a else a
