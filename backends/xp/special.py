"""Special functions written with ``xp.*`` calls only, so numpy and cupy share them.

``erf`` is a vectorized port of fdlibm's ``s_erf.c`` as carried by musl (``src/math/erf.c``):
the same intervals, coefficients and operation order, evaluated in float64 on the subset of
elements that falls in each interval. The original notice, which its license asks us to keep:

    Copyright (C) 1993 by Sun Microsystems, Inc. All rights reserved.
    Developed at SunPro, a Sun Microsystems, Inc. business.
    Permission to use, copy, modify, and distribute this
    software is freely granted, provided that this notice
    is preserved.
"""
from __future__ import annotations

__all__ = ["erf", "erf_float32"]

# c = (float)0.84506291151: erf(1) rounded to 24 bits, so erx + P/Q is exact in its head
ERX = 8.45062911510467529297e-01
EFX = 1.28379167095512586316e-01            # 2/sqrt(pi) - 1, for |x| < 2**-28
EFX8 = 1.02703333676410069053e+00           # 8 * EFX, for |x| < 2**-1015 (avoids underflow)
# erf on [0, 0.84375]: x + x * PP(z)/QQ(z), z = x*x
PP = (1.28379167095512558561e-01, -3.25042107247001499370e-01, -2.84817495755985104766e-02,
      -5.77027029648944159157e-03, -2.37630166566501626084e-05)
QQ = (1.0, 3.97917223959155352819e-01, 6.50222499887672944485e-02, 5.08130628187576562776e-03,
      1.32494738004321644526e-04, -3.96022827877536812320e-06)
# erf on [0.84375, 1.25]: erx + PA(s)/QA(s), s = |x| - 1
PA = (-2.36211856075265944077e-03, 4.14856118683748331666e-01, -3.72207876035701323847e-01,
      3.18346619901161753674e-01, -1.10894694282396677476e-01, 3.54783043256182359371e-02,
      -2.16637559486879084300e-03)
QA = (1.0, 1.06420880400844228286e-01, 5.40397917702171048937e-01, 7.18286544141962662868e-02,
      1.26171219808761642112e-01, 1.36370839120290507362e-02, 1.19844998467991074170e-02)
# erfc on [1.25, 1/0.35]: exp(-x*x - 0.5625 + RA(s)/SA(s)) / x, s = 1/(x*x)
RA = (-9.86494403484714822705e-03, -6.93858572707181764372e-01, -1.05586262253232909814e+01,
      -6.23753324503260060396e+01, -1.62396669462573470355e+02, -1.84605092906711035994e+02,
      -8.12874355063065934246e+01, -9.81432934416914548592e+00)
SA = (1.0, 1.96512716674392571292e+01, 1.37657754143519042600e+02, 4.34565877475229228821e+02,
      6.45387271733267880336e+02, 4.29008140027567833386e+02, 1.08635005541779435134e+02,
      6.57024977031928170135e+00, -6.04244152148580987438e-02)
# erfc on [1/0.35, 6]: same form, RB/SB
RB = (-9.86494292470009928597e-03, -7.99283237680523006574e-01, -1.77579549177547519889e+01,
      -1.60636384855821916062e+02, -6.37566443368389627722e+02, -1.02509513161107724954e+03,
      -4.83519191608651397019e+02)
SB = (1.0, 3.03380607434824582924e+01, 3.25792512996573918826e+02, 1.53672958608443695994e+03,
      3.19985821950859553908e+03, 2.55305040643316442583e+03, 4.74528541206955367215e+02,
      -2.24409524465858183362e+01)

# musl compares the high word of |x|; these are the doubles those words start.
SMALL = 0.84375                  # ix < 0x3feb0000
MID = 1.25                       # ix < 0x3ff40000
SPLIT = 2.8571434020996094       # ix < 0x4006DB6E (~1/0.35)
BIG = 6.0                        # ix >= 0x40180000: erf rounds to +-1
TINY = 2.0 ** -28                # ix < 0x3e300000
DENORMAL = 2.0 ** -1015          # ix < 0x00800000
LOW_WORD_MASK = 0xFFFFFFFF00000000


def _horner(z, coeffs):
    """c0 + z*(c1 + z*(c2 + ...)), in musl's order, reusing one buffer."""
    acc = z * coeffs[-1]
    for c in coeffs[-2:0:-1]:
        acc += c
        acc *= z
    acc += coeffs[0]
    return acc


def _erf_small(xp, a):
    """|x| < 0.84375 (musl erf(), first branch), for a = |x|."""
    y = _horner(a * a, PP)
    y /= _horner(a * a, QQ)
    y = xp.where(a < TINY, EFX, y)  # below 2**-28 musl uses x + efx*x
    out = a * y
    out += a
    return xp.where(a < DENORMAL, 0.125 * (8.0 * a + EFX8 * a), out)


def _erf_mid(xp, a):
    """0.84375 <= |x| < 1.25: a Taylor-like rational around x = 1."""
    s = a - 1.0
    out = _horner(s, PA)
    out /= _horner(s, QA)
    out += ERX
    return out


def _erf_tail(xp, a, r_coeffs, s_coeffs):
    """1.25 <= |x| < 6: 1 - erfc(x), erfc from exp(-x*x - 0.5625 + R/S) / x."""
    s = 1.0 / (a * a)
    ratio = _horner(s, r_coeffs)
    ratio /= _horner(s, s_coeffs)
    # SET_LOW_WORD(z, 0): z*z is then exact, so -x*x = -z*z + (z-x)*(z+x) loses nothing
    z = (a.view(xp.uint64) & xp.asarray(LOW_WORD_MASK, dtype=xp.uint64)).view(xp.float64)
    r = xp.exp(-z * z - 0.5625)
    ratio += (z - a) * (z + a)
    r *= xp.exp(ratio)
    r /= a
    return 1.0 - r


# ---------------------------------------------------------------- float32: two polynomials
# Least-squares fits on 4,000 Chebyshev nodes against erf in float64 (the refit and the
# measurements: benchmarks/perf/erf_float32.py). Evaluated in float64 and rounded once, they
# give erf within 0.52 ulp of float32 everywhere (measured over 3.1M points spanning +-4.5
# and 1e-38..4). exp runs in float32 (its error moves erf by < 0.25 ulp), corrected to first order
# for the rounding of its argument; the final rounding then keeps erf within 0.82 ulp.
ERF_OVER_X = (1.1283791656913824, -0.3761262557207333, 0.11283582277541478,
              -0.0268536918636367, 0.00518809976907143, -0.0008008193333576734,
              7.847262424111631e-05)      # erf(x) / x as a polynomial in x*x, for |x| < 1
LOG_ERFC = (-7.806815277053157, -5.35268068106176, -0.9438936402506558,
            -0.01085851706195363, 0.0021651602514080495, -0.00042014451492844917,
            7.739447392630017e-05, -1.3309405973663775e-05,
            1.6140493193689163e-06)       # log(erfc(t)) as a polynomial in t - 2.5, 1 <= t <= 4
LOG_ERFC_CENTER = 2.5
FLOAT32_ONE = 4.0                          # erfc(4) = 1.5e-8 < 2**-25: erf rounds to 1 beyond


ERF_BLOCK = 1 << 15                        # float32 elements per block of erf_float32


def erf_float32(xp, x):
    """erf of a float32 array, within 0.82 ulp (torch: 0.71): both branch polynomials over
    the whole array, with none of the float64 path's index gathers (benchmarks/perf).

    It runs in blocks of 32K elements, so its ~40 float64 passes stay in the core's cache
    (393K float32, under load: 7.4 -> 5.6 ms; 4K blocks cost more in calls than they save).
    """
    shape, flat = x.shape, x.reshape(-1)
    out = xp.empty(flat.shape, xp.float32)
    for start in range(0, flat.size, ERF_BLOCK):
        _erf_float32_block(xp, flat[start:start + ERF_BLOCK], out[start:start + ERF_BLOCK])
    return out.reshape(shape)


def _erf_float32_block(xp, x, out):
    """erf of the 1-d float32 ``x`` into ``out``.

    Each branch runs on its argument clipped into its own interval, so both stay finite and
    the choice is arithmetic, near + (|x| >= 1) * (far - near) (np.where on a random mask
    mispredicts); the sign goes in as a bit at the end (np.copysign is not vectorized).
    """
    a = xp.abs(x, dtype=xp.float64)
    t = xp.minimum(a, 1.0)
    near = xp.multiply(t, t)
    near = _horner(near, ERF_OVER_X)
    near *= t
    xp.clip(a, 1.0, FLOAT32_ONE, out=t)
    t -= LOG_ERFC_CENTER
    log_erfc = _horner(t, LOG_ERFC)
    head = log_erfc.astype(xp.float32)
    # exp in float32 (4x cheaper than float64), corrected to first order for the rounding of
    # its argument: exp(q) = exp(head) * exp(q - head), |q - head| < 3e-7
    log_erfc -= head
    log_erfc += 1.0
    log_erfc *= xp.exp(head, out=head)
    far = xp.subtract(1.0, log_erfc, out=log_erfc)
    # m = 0 keeps near exactly (tiny values included); m = 1 gives near + (far - near), within
    # a float64 ulp of far, so the one rounding to float32 below is unchanged in effect;
    # nan stays nan (|nan| >= 1 is False, and near of nan is nan)
    far -= near
    far *= xp.greater_equal(a, 1.0, out=t)
    near += far
    out[...] = near                 # the one rounding to float32
    # erf is odd: the sign bit of x (so erf(-0.0) == -0.0)
    bits = out.view(xp.uint32)
    bits |= xp.bitwise_and(x.view(xp.uint32), xp.uint32(0x80000000))


def erf(xp, x):
    """Error function of a float16/32/64 array, within ~1 ulp in float64; keeps x's dtype.

    Each interval's formula runs only on the elements inside it, so no element pays for the
    branches it does not take (the ``math.erf`` loop this replaces cost ~100 ns/element).
    """
    x64 = xp.asarray(x, dtype=xp.float64).reshape(-1)
    a = xp.abs(x64)
    # |x| >= 6 (inf included) rounds to 1; nan stays nan; the rest is overwritten below
    out = xp.where(a >= BIG, 1.0, a)
    # integer indices, not boolean masks: numpy gathers/scatters them ~10x faster
    small = xp.flatnonzero(a < SMALL)
    mid = xp.flatnonzero((a >= SMALL) & (a < MID))
    tail_a = xp.flatnonzero((a >= MID) & (a < SPLIT))
    tail_b = xp.flatnonzero((a >= SPLIT) & (a < BIG))
    out[small] = _erf_small(xp, a[small])
    out[mid] = _erf_mid(xp, a[mid])
    out[tail_a] = _erf_tail(xp, a[tail_a], RA, SA)
    out[tail_b] = _erf_tail(xp, a[tail_b], RB, SB)
    # erf is odd; copysign also keeps erf(-0.0) == -0.0
    out = xp.copysign(out, x64)
    return out.reshape(x.shape).astype(x.dtype, copy=False)
