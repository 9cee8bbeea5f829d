"""Hypothesis profiles, case counting and strategies shared by the ``test_fuzz_*`` modules.

Profiles (pick one with ``HYPOTHESIS_PROFILE``; the default is ``ci``):

* ``ci``   -- bounded and derandomized, so a CI run explores the same cases every time and
  all fuzz modules together stay within about two minutes on two cores (opencl included).
* ``long`` -- 40x the examples, fresh random draws each run, no deadline::

      HYPOTHESIS_PROFILE=long python -m pytest -q tests/fuzz tests/frontend/test_safe_loading.py

* ``dev``  -- a handful of examples, for editing the tests themselves.

The profiles apply only to the tests decorated with :func:`fuzz` (other hypothesis users in
the suite keep their own settings). Each fuzz test counts the examples it ran; the counts
are printed at the end of the run by the ``pytest_terminal_summary`` hook in conftest.
"""
from __future__ import annotations

import functools
import math
import os
import warnings
from collections import Counter

import numpy as np
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

_HEALTH = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much,
           HealthCheck.function_scoped_fixture]
settings.register_profile("ci", max_examples=12, derandomize=True, deadline=None,
                          database=None, suppress_health_check=_HEALTH, print_blob=True)
settings.register_profile("long", max_examples=480, deadline=None,
                          suppress_health_check=_HEALTH, print_blob=True)
settings.register_profile("dev", max_examples=4, derandomize=True, deadline=None,
                          database=None, suppress_health_check=_HEALTH)
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
if PROFILE not in ("ci", "long", "dev"):
    PROFILE = "ci"

COUNTS: dict[str, Counter] = {"fuzz cases": Counter(), "bad-input calls": Counter()}
"""Per kind, a count per test node id; conftest copies each test's counts into its report
(``user_properties``, so they survive pytest-xdist) and prints the totals at the end."""
CASES = COUNTS["fuzz cases"]


def _current_test() -> str:
    return os.environ.get("PYTEST_CURRENT_TEST", "?").rsplit(" (", 1)[0]


def fuzz(scale: float = 1.0):
    """Decorator (under ``@given``): the active profile, ``scale`` times its max_examples.

    Also counts every example the test body runs, under the current test's node id.
    """
    base = settings.get_profile(PROFILE)
    chosen = settings(base, max_examples=max(1, int(round(base.max_examples * scale))))

    def wrap(fn):
        @functools.wraps(fn)
        def counted(*args, **kwargs):
            CASES[_current_test()] += 1
            return fn(*args, **kwargs)
        return chosen(counted)
    return wrap


# ---------------------------------------------------------------------------- dtypes
FLOATS = ("float16", "float32", "float64")
INTS = ("uint8", "int8", "int16", "int32", "int64")
ALL = ("bool",) + INTS + FLOATS
_WIDTH = {"float16": 16, "float32": 32, "float64": 64}


def supported(table, op, dtypes):
    """The dtypes of ``dtypes`` that ``op`` runs natively for on ``table``."""
    return tuple(d for d in dtypes if table.supports(op, d))


# ---------------------------------------------------------------------------- values
def float_values(dtype, kind="any"):
    """Elements for a float array.

    ``any``: every float of the dtype, hypothesis' favourites included (nan, +-inf, +-0.0,
    subnormals, the largest finite values). ``moderate``: |x| <= 1e3 plus nan/+-inf/+-0,
    for reductions whose rounding depends on summation order. ``unit``: [-1, 1] plus
    specials (inverse trig). ``positive``: x >= 0 plus +inf/nan.
    """
    w = _WIDTH[dtype]
    special = st.sampled_from([math.nan, math.inf, -math.inf, 0.0, -0.0, 1.0, -1.0])
    if kind == "any":
        return st.floats(width=w, allow_nan=True, allow_infinity=True)
    if kind == "moderate":
        return st.one_of(special, st.floats(-1e3, 1e3, width=w))
    if kind == "small":
        return st.one_of(special, st.floats(-4, 4, width=w))
    if kind == "finite_small":
        return st.floats(-4, 4, width=w)
    if kind == "unit":
        return st.one_of(special, st.floats(-1, 1, width=w))
    if kind == "positive":
        return st.one_of(st.sampled_from([math.nan, math.inf, 0.0, 1.0]),
                         st.floats(0, None, width=w, allow_infinity=False))
    raise ValueError(kind)


def int_values(dtype, lo=None, hi=None):
    info = np.iinfo(dtype)
    return st.integers(info.min if lo is None else max(lo, info.min),
                       info.max if hi is None else min(hi, info.max))


def values(dtype, kind="any", lo=None, hi=None):
    """Element strategy for any contract dtype (``kind`` applies to floats)."""
    if dtype == "bool":
        return st.booleans()
    if dtype in FLOATS:
        return float_values(dtype, kind)
    return int_values(dtype, lo, hi)


def shapes(min_dims=0, max_dims=4, min_side=0, max_side=4):
    """Shapes with 0-dim and 0-size among them (a 0 side is drawn as often as hypothesis likes)."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side,
                            max_side=max_side)


def arrays(dtype, shape, kind="any", lo=None, hi=None):
    return hnp.arrays(np.dtype(dtype), shape, elements=values(dtype, kind, lo, hi))


# ---------------------------------------------------------------------------- layouts
LAYOUTS = ("contiguous", "permuted", "stepped", "expanded")


@st.composite
def layouts(draw, ndim):
    """A layout recipe: (kind, permutation or broadcast mask)."""
    kind = draw(st.sampled_from(LAYOUTS)) if ndim else "contiguous"
    if kind == "permuted":
        return kind, tuple(draw(st.permutations(range(ndim))))
    if kind == "expanded":
        return kind, tuple(draw(st.lists(st.booleans(), min_size=ndim, max_size=ndim)))
    return kind, None


@st.composite
def laid_out(draw, dtype, shape, kind="any", lo=None, hi=None):
    """(host values, layout): values of ``shape`` that can be built with that layout."""
    layout = draw(layouts(len(shape)))
    if layout[0] == "expanded":
        base_shape = tuple(1 if b else n for b, n in zip(layout[1], shape))
        base = draw(arrays(dtype, base_shape, kind, lo, hi))
        return np.broadcast_to(base, shape).copy(), layout
    return draw(arrays(dtype, shape, kind, lo, hi)), layout


def _c(x):
    """A C-contiguous copy that stays 0-d (np.ascontiguousarray makes 0-d arrays 1-d)."""
    return np.array(x, order="C", copy=True)


def build(table, x, layout):
    """A buffer on ``table`` holding ``x``'s values, laid out with the backend's own views."""
    kind, arg = layout
    x = np.asarray(x)
    if kind == "contiguous" or x.ndim == 0:
        return table.from_host(_c(x))
    if kind == "permuted":
        inverse = tuple(np.argsort(arg))
        base = table.from_host(_c(x.transpose(inverse)))
        return table.permute(base, tuple(int(a) for a in arg))
    if kind == "stepped":
        big = np.zeros(tuple(2 * n + 1 for n in x.shape), x.dtype)
        big[tuple(slice(1, 2 * n + 1, 2) for n in x.shape)] = x
        return table.slice(table.from_host(big), [(1, 2 * n + 1, 2) for n in x.shape])
    if kind == "expanded":
        base = x[tuple(slice(0, 1) if b else slice(None) for b in arg)]
        return table.expand(table.from_host(_c(base)), x.shape)
    raise ValueError(kind)


def host(table, buf):
    """A private numpy copy of ``buf`` (the cpu backend's to_host may share memory)."""
    return np.array(table.to_host(buf), copy=True)


# ---------------------------------------------------------------------------- comparing
def assert_same(got, want, *, ulps=0, atol=0.0, signed_zero=True, flush_subnormals=False,
                what=""):
    """``got`` equals ``want``: shape, dtype, then values.

    Integers and bools exactly. Floats: nan where nan, the same infinities, and finite values
    within ``ulps`` units in the last place of ``want`` (in got's dtype) plus ``atol``; with
    ``signed_zero`` a zero must carry the sign of the expected zero (torch and IEEE 754 keep
    -0.0 through neg, mul, sqrt, sin, ...). With ``flush_subnormals`` (a device that flushes
    float32 subnormals to zero: helpers.flushes_subnormals) a float32 subnormal expected may
    come back as a zero of its sign; given an array instead of True, those expected values
    (computed from :func:`flushed` inputs) are accepted too, element by element.
    """
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape, f"{what}shape {got.shape} != expected {want.shape}"
    assert got.dtype == want.dtype, f"{what}dtype {got.dtype} != expected {want.dtype}"
    if want.dtype.kind != "f":
        bad = got != want
        if bad.any():
            i = tuple(np.argwhere(bad)[0])
            raise AssertionError(f"{what}{int(bad.sum())} of {want.size} values differ; first at "
                                 f"{i}: got {got[i]!r}, expected {want[i]!r}")
        return
    if isinstance(flush_subnormals, np.ndarray) and want.dtype == np.float32:
        # an array: the expected values computed from inputs flushed to zero, also accepted
        try:
            assert_same(got, want, ulps=ulps, atol=atol, signed_zero=signed_zero,
                        flush_subnormals=True, what=what)
            return
        except AssertionError:
            alt = np.asarray(flush_subnormals)
            ok_alt = _close(got, alt, ulps, atol, signed_zero, True)
            ok = _close(got, want, ulps, atol, signed_zero, True) | ok_alt
            _report(ok, got, want, ulps, atol, what)
            return
    flush = bool(flush_subnormals is True)
    _report(_close(got, want, ulps, atol, signed_zero, flush), got, want, ulps, atol, what)


def flushed(x):
    """``x`` with its float32 subnormals replaced by zeros of their sign (CUDA's -ftz)."""
    x = np.array(x, copy=True)
    if x.dtype == np.float32:
        x[np.abs(x) < np.finfo(np.float32).tiny] *= 0
    return x


def _close(got, want, ulps, atol, signed_zero, flush):
    g, w = got.astype(np.float64), want.astype(np.float64)
    with np.errstate(all="ignore"):
        spacing = np.abs(np.spacing(want)).astype(np.float64)
        ok = np.where(np.isnan(w), np.isnan(g),
                      np.where(np.isinf(w), g == w,
                               (g == w) | (np.isfinite(g) & (np.abs(g - w)
                                                             <= ulps * spacing + atol))))
        if signed_zero:
            zeros = (w == 0) & (g == 0)
            ok &= ~zeros | (np.signbit(g) == np.signbit(w))
        if flush and want.dtype == np.float32:
            ok |= (g == 0) & (np.abs(w) < np.finfo(np.float32).tiny) & \
                (np.signbit(g) == np.signbit(w))
    return ok


def _report(ok, got, want, ulps, atol, what):
    if not ok.all():
        i = tuple(np.argwhere(~ok)[0])
        raise AssertionError(f"{what}{int((~ok).sum())} of {want.size} values differ (ulps={ulps}, "
                             f"atol={atol}); first at {i}: got {got[i]!r}, expected {want[i]!r}")


def quiet():
    """Context silencing numpy's floating-point warnings for reference computations."""
    class _Quiet:
        def __enter__(self):
            self.err = np.seterr(all="ignore")
            self.warn = warnings.catch_warnings()
            self.warn.__enter__()
            warnings.simplefilter("ignore", RuntimeWarning)

        def __exit__(self, *exc):
            self.warn.__exit__(*exc)
            np.seterr(**self.err)
            return False
    return _Quiet()
