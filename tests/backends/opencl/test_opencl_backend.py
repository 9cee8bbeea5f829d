"""Differential tests of the ``opencl`` backend against the ``cpu`` backend, at the contract level.

Every case builds the same inputs (seeded numpy) on both backends -- the same views too, made
with each backend's own view ops -- runs the op on both and compares after ``to_host``: exactly
for integer/bool results and data movement, within the dtype's tolerance for float math.
"""
from __future__ import annotations

import itertools
import sys

import numpy as np
import pytest

from plugrad.plugins import get_registry
from plugrad.plugins.contract import OPS

REG = get_registry()
AVAILABLE = REG.backend("opencl").availability()
pytestmark = pytest.mark.skipif(AVAILABLE is not True, reason=f"opencl: {AVAILABLE}")

FLOATS = ("float16", "float32", "float64")
INTS = ("uint8", "int8", "int16", "int32", "int64")
ALL = ("bool",) + INTS + FLOATS
TOL = {"float16": (2e-3, 2e-3), "float32": (2e-5, 1e-6), "float64": (1e-10, 1e-12)}


@pytest.fixture(scope="module")
def cl():
    return REG.table("opencl")


@pytest.fixture(scope="module")
def cpu():
    return REG.table("cpu")


def data(shape, dtype, seed=0, low=-3.0, high=3.0, special=False):
    rng = np.random.default_rng(seed)
    if dtype == "bool":
        return rng.random(shape) < 0.5
    if np.dtype(dtype).kind in "iu":
        lo = 0 if dtype == "uint8" else max(int(low * 10), np.iinfo(dtype).min)
        return rng.integers(lo, int(high * 10) + 1, size=shape).astype(dtype)
    x = rng.uniform(low, high, size=shape).astype(dtype)
    if special and x.size >= 6:
        x.flat[:6] = [np.nan, np.inf, -np.inf, 0.0, 1.0, -1.0]
    return x


class V:
    """An input: a numpy base array plus view ops applied identically on each backend."""

    def __init__(self, base, *views):
        self.base, self.views = base, views

    def make(self, table):
        buf = table.from_host(self.base)
        for op, arg in self.views:
            buf = getattr(table, op)(buf, arg)
        return buf


def on(table, value):
    if isinstance(value, V):
        return value.make(table)
    if isinstance(value, np.ndarray):
        return table.from_host(value)
    if isinstance(value, list):
        return [on(table, v) for v in value]
    return value


def same(got, want, exact=None, tol=None):
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape, f"shape {got.shape} != {want.shape}"
    assert got.dtype == want.dtype, f"dtype {got.dtype} != {want.dtype}"
    if exact or got.dtype.kind not in "fc":
        np.testing.assert_array_equal(got, want)
    else:
        rtol, atol = tol or TOL[got.dtype.name]
        np.testing.assert_allclose(got.astype(np.float64), want.astype(np.float64), rtol=rtol,
                                   atol=atol, equal_nan=True)


def check(cl, cpu, op, *args, exact=None, tol=None, **kw):
    """Run ``op`` on both backends and compare every returned buffer."""
    want = getattr(cpu, op)(*on(cpu, list(args)), **kw)
    got = getattr(cl, op)(*on(cl, list(args)), **kw)
    if isinstance(want, tuple):
        for g, w in zip(got, want):
            same(cl.to_host(g), cpu.to_host(w), exact, tol)
    else:
        same(cl.to_host(got), cpu.to_host(want), exact, tol)
    return got


# -------------------------------------------------------------------------- registration
# what the opencl backend leaves to others, each for a stated reason; a new contract entry that
# opencl lacks fails the test below until it is written or listed here
LEFT_OUT = {
    # no complex dtypes on opencl (supports() says so): the cpu fallback covers them
    "view_as_complex", "view_as_real",
}


def test_every_contract_op_is_native(cl):
    host = {name for name, spec in OPS.items() if spec.host_fallback}   # decompositions, fft
    missing = set(OPS) - set(cl.native)
    assert missing <= host | LEFT_OUT, sorted(missing - host - LEFT_OUT)
    assert not (LEFT_OUT & set(cl.native)), "written now: drop from LEFT_OUT"
    assert REG.table("cl") is cl
    assert cl.supports("add", "bfloat16") and cl.supports("add", "float32")


def test_list_devices_and_platform_choice(monkeypatch):
    import plugrad.backends.opencl as ocl
    devices = ocl.list_devices()
    usable = [d for d in devices if d["usable"]]
    assert usable and usable[0]["index"] == 0 and {"name", "platform", "fp64"} <= set(usable[0])
    try:
        monkeypatch.setenv(ocl.PLATFORM_ENV, "no-such-platform")
        ocl._probe.cache_clear()
        reason = ocl.is_available()
        assert "no-such-platform" in reason and "matches no OpenCL platform" in reason
        monkeypatch.setenv(ocl.PLATFORM_ENV, usable[0]["platform_version"][-12:])
        ocl._probe.cache_clear()
        assert ocl.is_available() is True and ocl.device_count() >= 1
    finally:
        monkeypatch.delenv(ocl.PLATFORM_ENV)
        ocl._probe.cache_clear()


def test_unavailable_reasons(monkeypatch):
    import pyopencl

    import plugrad.backends.opencl as ocl
    try:
        monkeypatch.setattr(pyopencl, "get_platforms", lambda: [])
        ocl._probe.cache_clear()
        assert "no OpenCL platform" in ocl.is_available() and ocl.device_count() == 0
        def boom():
            raise pyopencl.LogicError("clGetPlatformIDs failed: PLATFORM_NOT_FOUND_KHR")
        monkeypatch.setattr(pyopencl, "get_platforms", boom)
        ocl._probe.cache_clear()
        assert "PLATFORM_NOT_FOUND_KHR" in ocl.is_available()
        monkeypatch.setitem(sys.modules, "pyopencl", None)
        ocl._probe.cache_clear()
        assert ocl.is_available().startswith("pyopencl not importable")
    finally:
        monkeypatch.undo()
        ocl._probe.cache_clear()
    assert ocl.is_available() is True


def test_build_error_shows_compiler_log(cl):
    dev = cl.impl.devices[0]
    with pytest.raises(RuntimeError) as info:
        dev.build("__kernel void broken(__global float* x) { x[0] = undefined_symbol; }",
                  "broken")
    text = str(info.value)
    assert "failed to build" in text and "broken" in text and "undefined_symbol" in text
    assert dev.name in text


def test_float64_needs_cl_khr_fp64(cl, monkeypatch):
    dev = cl.impl.devices[0]
    monkeypatch.setattr(dev, "fp64", False)
    with pytest.raises(RuntimeError, match=r"does not support float64.*cl_khr_fp64"):
        cl.from_host(np.zeros(3))
    with pytest.raises(RuntimeError, match=dev.name.split(" (")[0]):
        cl.full((2,), 1.0, "float64")
    with pytest.raises(RuntimeError, match="float64"):
        cl.cast(cl.from_host(np.zeros(3, np.float32)), "float64")
    assert not cl.supports("add", "float64")


# ------------------------------------------------------------------------------ runtime
@pytest.mark.parametrize("dtype", ALL)
def test_runtime_roundtrip_full_arange(cl, cpu, dtype):
    x = data((3, 4), dtype)
    same(cl.to_host(cl.from_host(x)), x)
    same(cl.to_host(cl.from_host(x[:, ::2].T)), x[:, ::2].T)        # any host layout
    same(cl.to_host(cl.full((2, 3), 1, dtype)), cpu.full((2, 3), 1, dtype))
    same(cl.to_host(cl.full((), 0, dtype)), cpu.full((), 0, dtype))
    same(cl.to_host(cl.empty((0, 3), dtype)), np.empty((0, 3), dtype))
    if dtype != "bool":
        check(cl, cpu, "arange", 2, 3, 7, dtype)
    assert cl.empty((2, 3), dtype).shape == (2, 3)


@pytest.mark.parametrize("src,dst", itertools.product(ALL, ALL))
def test_cast(cl, cpu, src, dst):
    x = data((5, 7), src, seed=1, low=0 if dst == "uint8" else -3, high=12)
    if np.dtype(src).kind == "f":
        x = x * 1.37 if dst != "uint8" else np.abs(x)
    x = x.astype(src)
    check(cl, cpu, "cast", V(x, ("permute", (1, 0))), dst)


def test_copy_assign_views_share_memory(cl, cpu):
    base = data((6, 8), "float32")
    for t in (cl, cpu):
        b = t.from_host(base)
        view = t.slice(b, [(1, 5, 2), (0, 8, 3)])
        t.assign(view, 7.0)                                    # scalar into a strided view
        t.assign(t.slice(b, [(0, 1, 1), (0, 8, 1)]), t.from_host(np.arange(8, dtype="float32")))
        t.assign(t.slice(b, [(5, 6, 1), (0, 8, 1)]), t.from_host(np.ones(1, "float32")))
        t.assign(t.slice(b, [(2, 6, 1), (0, 8, 1)]), t.slice(b, [(0, 4, 1), (0, 8, 1)]))  # overlap
        if t is cl:
            got = cl.to_host(b)
        else:
            want = b
    same(got, want)
    c = cl.copy(cl.permute(cl.from_host(base), (1, 0)))
    assert cl.strides(c) == (6, 1)
    same(cl.to_host(c), base.T)


def test_views_are_views(cl, cpu):
    x = data((4, 6), "int32")
    for t, name in ((cl, "cl"), (cpu, "cpu")):
        b = t.from_host(x)
        r = t.reshape(b, (2, 2, 6))
        p = t.permute(r, (2, 0, 1))
        e = t.expand(t.slice(b, [(0, 1, 1), (0, 6, 1)]), (5, 6))
        s = t.slice(b, [(1, 4, 2), (1, 6, 2)])
        strides = [t.strides(v) for v in (r, p, e, s)]
        t.assign(s, -1)
        r2 = t.reshape(p, (6, 4))                               # needs a copy
        host = [t.to_host(v) for v in (b, e, r2)]
        if name == "cl":
            got = (strides, host)
        else:
            want = (strides, host)
    assert got[0] == want[0]
    for g, w in zip(got[1], want[1]):
        same(g, w)


# -------------------------------------------------------------------------- elementwise
UNARY_FLOAT = ["neg", "abs", "sign", "exp", "log", "log1p", "expm1", "sqrt", "sin", "cos", "tan",
               "tanh", "sigmoid", "asin", "acos", "atan", "sinh", "cosh", "erf", "floor", "ceil",
               "round", "trunc", "reciprocal", "logical_not", "isnan", "isinf"]
UNARY_INT = ["neg", "abs", "sign", "logical_not", "bitwise_not", "isnan", "isinf", "floor"]


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("op", UNARY_FLOAT)
def test_unary_float(cl, cpu, op, dtype):
    x = data((4, 9), dtype, special=True)
    if op == "round":
        x.flat[6:12] = [0.5, 1.5, 2.5, -0.5, -2.5, 3.5]
    check(cl, cpu, op, x)


# numpy rejects neg/sign/abs on bool; the frontend promotes before calling the backend
@pytest.mark.parametrize("op,dtype", [(op, dt) for op in UNARY_INT for dt in ("bool",) + INTS
                                      if not (dt == "bool" and op in ("neg", "sign", "abs"))])
def test_unary_int(cl, cpu, op, dtype):
    check(cl, cpu, op, data((3, 5), dtype))


@pytest.mark.parametrize("layout", ["permuted", "stepped", "expanded", "zero_d", "empty"])
def test_unary_layouts_and_out(cl, cpu, layout):
    x = data((6, 5, 4), "float32")
    arg = {"permuted": V(x, ("permute", (2, 0, 1))),
           "stepped": V(x, ("slice", [(1, 6, 2), (0, 5, 3), (3, 4, 1)])),
           "expanded": V(x[:1], ("expand", (3, 5, 4))),
           "zero_d": np.array(0.7, "float32"),
           "empty": np.zeros((0, 4), "float32")}[layout]
    check(cl, cpu, "exp", arg)
    # out= into a strided view of a bigger buffer
    results = []
    for t in (cl, cpu):
        a = on(t, arg)
        big = t.full((2,) + tuple(t.to_host(a).shape) + (2,), -1.0, "float32")
        nd = len(t.to_host(a).shape)
        out = t.slice(big, [(1, 2, 1)] + [(0, n, 1) for n in t.to_host(a).shape] + [(1, 2, 1)])
        out = t.reshape(out, t.to_host(a).shape) if nd == 0 else \
            t.permute(t.reshape(out, t.to_host(a).shape), tuple(range(nd)))
        t.sin(a, out=out)
        results.append(t.to_host(big))
    same(*results)


BINARY_ALL = ["add", "sub", "mul", "maximum", "minimum", "eq", "ne", "lt", "le", "gt", "ge",
              "logical_and", "logical_or", "logical_xor"]


def _binary_valid(op, dtype):
    """Combinations the frontend sends: it promotes ints for div/atan2, rejects bitwise floats,
    and (like numpy) rejects bool sub//,%,**."""
    kind = np.dtype(dtype).kind
    return not (op in ("div", "atan2") and kind != "f" or op.startswith("bitwise") and kind == "f"
                or dtype == "bool" and op in ("sub", "floordiv", "remainder", "pow"))


@pytest.mark.parametrize("op,dtype", [
    (op, dt) for op in BINARY_ALL + ["floordiv", "remainder", "pow", "div", "atan2",
                                     "bitwise_and", "bitwise_or", "bitwise_xor"]
    for dt in ALL if _binary_valid(op, dt)])
def test_binary(cl, cpu, op, dtype):
    kind = np.dtype(dtype).kind
    a = data((4, 6), dtype, seed=1, special=True)
    b = data((6,), dtype, seed=2, special=True)            # broadcast along rows
    if op == "pow" and kind in "iu":
        a, b = a % 5, np.abs(b) % 4
        a, b = a.astype(dtype), b.astype(dtype)
    if op in ("floordiv", "remainder") and kind in "iu":
        b[:2] = [1, 3]              # (a zero divisor: test_integer_division_by_zero_is_flagged)
        if kind == "i":
            a[0, :4], b[2:4] = [-7, 7, -7, 7], [-2, -2]
    check(cl, cpu, op, a, b)
    if dtype != "float16":
        s = {"b": True, "u": 3, "i": -3, "f": 1.5}[kind]
        if op == "pow" and kind in "iu":
            s = 2
        check(cl, cpu, op, a, s)                          # scalar on the right
        if not (op in ("floordiv", "remainder") and kind in "iu"):
            check(cl, cpu, op, s, V(a, ("permute", (1, 0))))  # scalar on the left, strided


@pytest.mark.parametrize("op", ["floordiv", "remainder"])
@pytest.mark.parametrize("dtype", INTS)
def test_integer_division_by_zero_is_flagged(cl, op, dtype):
    """A zero tensor divisor gives 0 there (no trap) and sets the division flag, raised as
    RuntimeError('ZeroDivisionError ...') by the next synchronize; the flag is then clear."""
    a = data((4, 6), dtype, seed=1)
    b = data((6,), dtype, seed=2)
    b[:2] = [0, 3]
    out = getattr(cl, op)(cl.from_host(a), cl.from_host(b))
    with pytest.raises(RuntimeError, match="^ZeroDivisionError"):
        cl.synchronize()
    got = cl.to_host(out)
    assert (got[:, 0] == 0).all()
    want = getattr(np, "floor_divide" if op == "floordiv" else "remainder")(a[:, 1:], b[1:])
    np.testing.assert_array_equal(got[:, 1:], want)
    before = cl.impl.transfers["error_check"]
    getattr(cl, op)(cl.from_host(a), 3)          # a scalar divisor is never flagged
    cl.synchronize()
    assert cl.impl.transfers["error_check"] == before


def test_binary_broadcast_out_and_aliasing(cl, cpu):
    a = data((3, 1, 5), "float32", 1)
    b = data((4, 1), "float32", 2)
    check(cl, cpu, "add", a, b)
    check(cl, cpu, "mul", V(data((5, 3), "float32"), ("permute", (1, 0))),
          V(data((8, 5), "float32"), ("slice", [(0, 8, 3), (0, 5, 1)])))
    results = []
    for t in (cl, cpu):
        x = t.from_host(data((4, 4), "float32"))
        t.add(x, t.permute(x, (1, 0)), out=x)             # out aliases a transposed input
        y = t.from_host(data((2, 3, 4), "int64"))
        t.mul(y, 2, out=t.permute(y, (0, 1, 2)))
        results.append((t.to_host(x), t.to_host(y)))
    same(results[0][0], results[1][0])
    same(results[0][1], results[1][1])


@pytest.mark.parametrize("dtype", ("bool", "int32", "float16", "float32"))
def test_where(cl, cpu, dtype):
    cond = data((3, 4), "bool", 5)
    a, b = data((3, 4), dtype, 1), data((4,), dtype, 2)
    check(cl, cpu, "where", cond, a, b)
    s = {"bool": True, "int32": 7, "float16": 0.5, "float32": -2.5}[dtype]
    check(cl, cpu, "where", V(cond, ("permute", (1, 0))), s, V(a, ("permute", (1, 0))))
    check(cl, cpu, "where", cond, a, s)


# ---------------------------------------------------------------------------- reductions
@pytest.mark.parametrize("op,dtype", [(op, dt) for op in ("sum", "prod", "max", "min")
                                      for dt in ALL] + [("any", "bool"), ("all", "bool")])
def test_reductions(cl, cpu, op, dtype):
    x = data((3, 4, 5), dtype, 3, low=-1, high=1.3 if op == "prod" else 3)
    for axes, keep in [((0,), False), ((1,), True), ((0, 2), False), ((0, 1, 2), False),
                       ((2,), False)]:
        check(cl, cpu, op, x, axes, keep)
    check(cl, cpu, op, V(x, ("permute", (2, 0, 1)), ("slice", [(0, 5, 2), (0, 3, 1),
                                                                (1, 4, 1)])), (0, 2), True)


def test_reduction_edges(cl, cpu):
    x = data((1000, 3), "float32", 4, special=False)
    x[17, 1] = np.nan
    for op in ("sum", "max", "min"):
        check(cl, cpu, op, x, (0,), False)                # nan propagates through max/min
    cols = data((9, 3, 37), "float32", 4, special=True)      # column kernel: 16-lane vectors
    for op, dt in [("sum", "float32"), ("max", "float32"), ("min", "float16"), ("prod", "int32"),
                   ("any", "bool")]:
        check(cl, cpu, op, cols.astype(dt), (0,), False)
        check(cl, cpu, op, cols.astype(dt), (0, 1), True)
    big = data((300001,), "float32", 5, low=0, high=1)
    check(cl, cpu, "sum", big, (0,), False)               # split into partials + second pass
    check(cl, cpu, "sum", data((0, 4), "float32"), (0,), True)    # empty reduced axis
    check(cl, cpu, "prod", data((0, 4), "int64"), (0,), False)
    check(cl, cpu, "max", data((0, 4), "float32"), (1,), False)   # empty kept axis
    check(cl, cpu, "sum", data((5,), "int8", 6, high=12), (0,), False)  # wraps like numpy
    check(cl, cpu, "sum", V(data((4,), "float32"), ("expand", (4,))), (0,), False)


@pytest.mark.parametrize("dtype", ("uint8", "int32", "int64", "float16", "float32", "float64"))
@pytest.mark.parametrize("op", ["argmax", "argmin"])
def test_arg_reductions(cl, cpu, op, dtype):
    x = data((5, 7), dtype, 7, low=-1, high=1)
    x[1, :] = x[1, 0]                                      # ties: first occurrence
    if np.dtype(dtype).kind == "f":
        x[2, 3] = x[2, 5] = np.nan                         # nan is the extreme, first nan wins
    for axis, keep in [(0, False), (1, True), (1, False)]:
        check(cl, cpu, op, x, axis, keep)
    check(cl, cpu, op, V(x, ("permute", (1, 0))), 0, False)
    check(cl, cpu, op, np.array([3.0, 1.0], dtype) if dtype != "uint8" else
          np.array([3, 1], dtype), 0, False)


@pytest.mark.parametrize("dtype", ("bool", "int8", "int64", "float16", "float32", "float64"))
@pytest.mark.parametrize("op", ["cumsum", "cumprod"])
def test_scans(cl, cpu, op, dtype):
    x = data((4, 6), dtype, 8, low=-1, high=1.2)
    check(cl, cpu, op, x, 0)
    check(cl, cpu, op, x, 1)
    check(cl, cpu, op, V(x, ("permute", (1, 0))), 1)
    check(cl, cpu, op, np.zeros((0, 3), dtype), 0)


@pytest.mark.parametrize("gpu", [False, True], ids=["cpu-path", "gpu-path"])
def test_axis_ops_on_few_long_rows(cl, cpu, gpu, monkeypatch):
    """Few long rows run chunked (per-chunk extremes/totals, then a pick or offsets); the GPU
    variant (interleaved chunks, driver-chosen groups) runs here too when told to."""
    dev = cl.impl.devices[0]
    monkeypatch.setattr(dev, "units", 8)          # chunked scans need >= 4 CPU cores
    if gpu:
        monkeypatch.setattr(dev, "is_cpu", False)
        monkeypatch.setattr(dev, "group", 256)
    x = data((3, 70001), "float32", 49, low=-2, high=2)
    x[:, ::7] = 2.0                                        # ties across chunks: first wins
    x[2, 50000] = x[2, 60000] = np.nan
    for op in ("argmax", "argmin"):
        check(cl, cpu, op, x, 1, False)
        check(cl, cpu, op, V(x, ("permute", (1, 0))), 0, True)
    ints = data((2, 70001), "int64", 50, low=-1, high=1)
    check(cl, cpu, "argmin", ints, 1, False)
    check(cl, cpu, "cumsum", ints, 1)
    check(cl, cpu, "cumprod", (ints % 2 + 1)[:, :40], 1)
    check(cl, cpu, "cumsum", x[:2, :].astype("float64"), 1, tol=(1e-9, 1e-9))
    check(cl, cpu, "cumsum", x[:2, :20000] / 100, 1, tol=(1e-4, 1e-4))   # chunk offsets round
    z = x.copy()
    z[z < 0.5] = 0
    check(cl, cpu, "nonzero", z)
    check(cl, cpu, "nonzero", V(z, ("permute", (1, 0))))


# ----------------------------------------------------------------------------- movement
@pytest.mark.parametrize("dtype", ("bool", "int16", "float16", "float64"))
def test_flip_pad_concat(cl, cpu, dtype):
    x = data((3, 4, 5), dtype, 9)
    check(cl, cpu, "flip", x, (0, 2))
    check(cl, cpu, "flip", V(x, ("slice", [(0, 3, 2), (0, 4, 1), (1, 5, 1)])), (1,))
    check(cl, cpu, "pad", x, ((1, 0), (0, 2), (3, 1)), True if dtype == "bool" else 2)
    check(cl, cpu, "pad", V(x, ("permute", (2, 1, 0))), ((0, 0), (1, 1), (0, 0)), 0)
    y = data((3, 2, 5), dtype, 10)
    check(cl, cpu, "concat", [x, y, V(x, ("slice", [(0, 3, 1), (0, 1, 1), (0, 5, 1)]))], 1)
    check(cl, cpu, "concat", [x, V(x, ("flip", (0,)))], 0)


@pytest.mark.parametrize("dtype", ALL)
def test_index_and_index_put(cl, cpu, dtype):
    x = data((5, 4, 3), dtype, 11)
    i0 = np.array([[0, 4], [2, 2]])
    i1 = np.array([1, 3])
    check(cl, cpu, "index", x, [i0, i1])
    check(cl, cpu, "index", V(x, ("permute", (1, 0, 2))), [np.array([3, 0, 1])])
    check(cl, cpu, "index", x, [np.array(2)])
    vals = data((2, 2, 3), dtype, 12)
    dup = np.array([0, 3, 3, 1, 0, 0])
    for accumulate, idx, v in [(False, [np.array([[4, 1], [2, 0]]), np.array([0, 3])], vals),
                               (True, [dup], data((6, 4, 3), dtype, 13)),
                               (True, [dup, np.array([1])], data((3,), dtype, 14)),
                               (False, [np.array([1, 2])], True if dtype == "bool" else 3)]:
        results = []
        for t in (cl, cpu):
            buf = t.from_host(x)
            t.index_put(buf, on(t, idx), on(t, v), accumulate)
            results.append(t.to_host(buf))
        same(*results)
    results = []
    for t in (cl, cpu):                                    # into a strided view of a base
        base = t.from_host(x)
        view = t.permute(t.slice(base, [(0, 5, 2), (0, 4, 1), (0, 3, 1)]), (2, 1, 0))
        t.index_put(view, [on(t, np.array([0, 2, 2]))], on(t, data((3, 4, 3), dtype, 15)), True)
        results.append(t.to_host(base))
    same(*results)


@pytest.mark.parametrize("dtype", ("bool", "int32", "float32"))
def test_nonzero(cl, cpu, dtype):
    x = data((4, 5, 3), dtype, 16)
    x.flat[::3] = 0
    check(cl, cpu, "nonzero", x)
    check(cl, cpu, "nonzero", V(x, ("permute", (2, 0, 1))))
    check(cl, cpu, "nonzero", np.zeros((3, 2), dtype))
    check(cl, cpu, "nonzero", np.zeros((0,), dtype))
    before = dict(cl.impl.transfers)
    cl.nonzero(cl.from_host(x))
    assert cl.impl.transfers["nonzero_count"] == before.get("nonzero_count", 0) + 1


# ---------------------------------------------- out-of-range indices: checked in the kernel
def raises_deferred(cl, buf):
    """to_host(buf) raises the deferred index error once; then the flag is reset."""
    with pytest.raises(RuntimeError, match=r"opencl:0 .*index was out of bounds in an earlier"):
        cl.to_host(buf)
    before = dict(cl.impl.transfers)
    host = cl.to_host(buf)                   # flag reset and clean: no second flag read
    assert cl.impl.transfers["error_check"] == before.get("error_check", 0)
    return host


@pytest.mark.parametrize("dtype", ("bool", "int8", "int64", "float16", "float32"))
def test_out_of_range_indices_read_zero_skip_writes_and_raise_later(cl, dtype):
    """The contract's checks_indices: no access outside the buffers (a write just past the
    end used to corrupt PoCL's heap), 0 read, the write skipped, RuntimeError at to_host."""
    assert cl.checks_indices and cl.impl.checks_indices
    x = data((5, 4, 3), dtype, 11)
    neighbours = [cl.from_host(data((5, 4, 3), dtype, 40 + k)) for k in range(4)]
    buf = cl.from_host(x)
    got = raises_deferred(cl, cl.index(buf, [cl.from_host(np.array([0, 5, -1, 2]))]))
    want = np.stack([x[0], np.zeros_like(x[0]), np.zeros_like(x[0]), x[2]])
    same(got, want, exact=True)
    got = raises_deferred(cl, cl.index(buf, [cl.from_host(np.array([[0, 4], [1, 1]])),
                                             cl.from_host(np.array([1, 4]))]))
    same(got, np.stack([[x[0, 1], np.zeros_like(x[0, 0])], [x[1, 1], np.zeros_like(x[0, 0])]]),
         exact=True)
    one = np.ones((), dtype)
    for accumulate in (False, True):
        buf = cl.from_host(x)
        cl.index_put(buf, [cl.from_host(np.array([1, 5, -6, 9 ** 9]))],
                     cl.from_host(np.broadcast_to(one, (4, 4, 3)).copy()), accumulate)
        want = x.copy()
        want[1] = (want[1] + one) if accumulate and dtype != "bool" else \
            (want[1] | one) if accumulate else one
        same(raises_deferred(cl, buf), want, exact=True)
        cl.index_put(buf, [cl.from_host(np.array([7]))], True if dtype == "bool" else 1,
                     accumulate)                       # a scalar value, nothing in range
        with pytest.raises(RuntimeError, match="out of bounds"):
            cl.synchronize()                           # synchronize raises it too
        same(cl.to_host(buf), want, exact=True)
    for k, nb in enumerate(neighbours):
        same(cl.to_host(nb), data((5, 4, 3), dtype, 40 + k), exact=True)


@pytest.mark.parametrize("dtype", FLOATS)
def test_out_of_range_targets_in_cross_entropy(cl, cpu, dtype):
    """A target outside [0, c) reads no logit: the row's loss is its lse and its gradient has
    no one-hot term; the error surfaces at the next to_host."""
    x = data((4, 5), dtype, 33, low=-4, high=4)
    target = np.array([2, 5, -100, -3])
    loss, lse = cl.cross_entropy(cl.from_host(x), cl.from_host(target), -100)
    got = raises_deferred(cl, loss)
    ok_loss, ok_lse = cpu.cross_entropy(x, np.array([2, -100, -100, -100]), -100)
    want = np.where(np.isin(np.arange(4), [1, 3]), ok_lse, ok_loss).astype(dtype)
    same(got, want)
    same(cl.to_host(lse), ok_lse)
    g = data((4,), dtype, 34)
    grad = cl.cross_entropy_backward(cl.from_host(g), cl.from_host(x), cl.from_host(target),
                                     cl.from_host(ok_lse), -100)
    softmax = np.exp(x.astype(np.float64) - ok_lse[:, None].astype(np.float64))
    want = softmax * g[:, None]
    want[0, 2] -= g[0]
    want[2] = 0
    same(raises_deferred(cl, grad), want.astype(dtype))
    loss, _ = cl.cross_entropy(cl.from_host(np.zeros((2, 0), dtype)),
                               cl.from_host(np.array([0, -100])), -100)
    raises_deferred(cl, loss)                          # no class at all: 0 is out of range


@pytest.mark.parametrize("dtype", ("uint8", "int16", "int64", "float16", "float32", "float64"))
def test_sort(cl, cpu, dtype):
    x = data((6, 33), dtype, 17, low=-1, high=1)
    x[:, ::4] = x[0, 0]                                    # many ties: stability matters
    if np.dtype(dtype).kind == "f":
        x[1, 3] = x[1, 9] = x[4, 0] = np.nan
    for axis, desc in itertools.product((0, 1), (False, True)):
        check(cl, cpu, "sort", x, axis, desc)
    check(cl, cpu, "sort", V(x, ("permute", (1, 0))), 1, True)
    check(cl, cpu, "sort", np.zeros((0, 4), dtype), 1, False)
    check(cl, cpu, "sort", x[:, :1], 1, False)
    check(cl, cpu, "sort", data((1000,), dtype, 18), 0, False)


@pytest.mark.parametrize("dtype", ("int8", "int64", "float16", "float32", "float64"))
def test_sort_long_rows(cl, cpu, dtype):
    """Rows past the radix threshold on CPUs (and past one 32768 block when merging)."""
    x = data((2, 70001), dtype, 19, low=-2, high=2)
    x[:, ::5] = x[0, 1]                                    # ties keep their order
    if np.dtype(dtype).kind == "f":
        x[0, 7::1000] = np.nan
        x[1, 3::999] = -0.0
        x[1, 4::999] = 0.0
    for desc in (False, True):
        check(cl, cpu, "sort", x, 1, desc)
    check(cl, cpu, "sort", V(x, ("permute", (1, 0))), 0, True)


def test_sort_keeps_nan_payload_and_signed_zero(cl):
    x = np.array([0.0, -0.0, 1.0, -0.0, np.nan, -np.nan, 0.0, -1.0], np.float32)
    values, index = cl.sort(cl.from_host(x), 0, False)
    np.testing.assert_array_equal(cl.to_host(index), [7, 0, 1, 3, 6, 2, 4, 5])
    assert cl.to_host(values).view(np.uint32).tolist() == x[[7, 0, 1, 3, 6, 2, 4, 5]].view(
        np.uint32).tolist()


# -------------------------------------------------------------------------------- kernels
@pytest.mark.parametrize("style", ["", "vec", "tiled", "naive"])
@pytest.mark.parametrize("dtype", ("float16", "float32", "float64", "int64"))
def test_matmul(cl, cpu, monkeypatch, style, dtype):
    monkeypatch.setenv("PLUGRAD_OPENCL_GEMM", style)
    lo, hi = (-3, 3) if dtype != "int64" else (-0.3, 0.3)
    for sa, sb in [((5, 7), (7, 3)), ((37, 29), (29, 41)), ((2, 3, 25, 16), (16, 33)),
                   ((1, 30), (30, 1)), ((4, 1, 13, 20), (3, 20, 35))]:
        a, b = data(sa, dtype, 19, lo, hi), data(sb, dtype, 20, lo, hi)
        want = np.matmul(a.astype("float64"), b.astype("float64"))
        got = cl.to_host(cl.matmul(cl.from_host(a), cl.from_host(b)))
        tol = {"float16": 0.05, "int64": 0}.get(dtype, 1e-4)
        np.testing.assert_allclose(got.astype("float64"), want, rtol=tol, atol=tol)
        assert got.dtype == np.dtype(dtype) and got.shape == want.shape
    if style == "tiled" and dtype == "float32":  # the 128x128 tile configuration, ragged edges
        a, b = data((2, 260, 70), dtype, 23), data((70, 257), dtype, 24)
        check(cl, cpu, "matmul", a, b, tol=GEMM_TOL)
    a, b = data((20, 33), "float32", 21), data((40, 20), "float32", 22)
    check(cl, cpu, "matmul", V(a, ("permute", (1, 0))), V(b, ("permute", (1, 0))),
          tol=(1e-5, 1e-4))  # cancellation in sums of 20 products: absolute tolerance
    check(cl, cpu, "matmul", data((3, 0), "float32"), data((0, 4), "float32"))


GEMM_TOL = (1e-5, 1e-4)  # sums of many products cancel: compare absolutely near zero
CONVS = [  # N, C, H, W, Cout, kh, kw, stride, padding, dilation, groups
    (2, 3, 8, 9, 4, 3, 3, (1, 1), (1, 1), (1, 1), 1),
    (2, 4, 9, 7, 6, 3, 2, (2, 1), (0, 1), (1, 2), 2),
    (1, 6, 5, 5, 6, 1, 1, (1, 1), (0, 0), (1, 1), 3),
    (3, 2, 12, 10, 5, 5, 3, (3, 2), (2, 1), (1, 1), 1),
]


@pytest.mark.parametrize("case", CONVS)
def test_conv2d_and_gradients(cl, cpu, case):
    n, c, h, w, co, kh, kw, stride, padding, dilation, groups = case
    x = data((n, c, h, w), "float32", 23)
    wt = data((co, c // groups, kh, kw), "float32", 24)
    out = check(cl, cpu, "conv2d", x, wt, stride, padding, dilation, groups, tol=GEMM_TOL)
    grad = data(cl.to_host(out).shape, "float32", 25)
    check(cl, cpu, "conv2d_input_grad", grad, wt, x.shape, stride, padding, dilation, groups,
          tol=GEMM_TOL)
    check(cl, cpu, "conv2d_weight_grad", x, grad, wt.shape, stride, padding, dilation, groups,
          tol=GEMM_TOL)
    xt = V(np.ascontiguousarray(x.transpose(0, 2, 3, 1)), ("permute", (0, 3, 1, 2)))  # NHWC
    check(cl, cpu, "conv2d", xt, wt, stride, padding, dilation, groups, tol=GEMM_TOL)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("op", ["softmax", "log_softmax"])
def test_softmax(cl, cpu, op, dtype):
    x = data((4, 5, 6), dtype, 26, low=-5, high=5)
    x[0, 0, :] = -np.inf
    x[1, 1, 2] = np.inf
    for axis in range(3):
        check(cl, cpu, op, x, axis)
    check(cl, cpu, op, V(x, ("permute", (2, 0, 1))), 1)
    # a strided axis with >= 16 contiguous neighbours: the vector-lane kernel on CPUs (two
    # full 16-lane chunks and a tail of 5), also from an offset view
    y = data((3, 9, 37), dtype, 48, low=-5, high=5)
    y[0, :, 3] = -np.inf
    y[1, 4, 20] = np.inf
    y[2, 2, 36] = np.nan
    for axis in (0, 1):
        check(cl, cpu, op, y, axis)
    check(cl, cpu, op, V(y, ("slice", ((1, 3, 1), (0, 9, 1), (0, 37, 1)))), 1)


NEW_KERNELS = pytest.mark.skipif(
    "cross_entropy" not in OPS, reason="contract without addmm_act/cross_entropy kernels")


@NEW_KERNELS
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("act", ["none", "relu", "gelu"])
def test_addmm_act(cl, cpu, act, dtype):
    m1, m2 = data((7, 13), dtype, 27), data((13, 18), dtype, 28)
    m1[0, 0] = np.nan
    tol = (0.05, 0.05) if dtype == "float16" else GEMM_TOL
    check(cl, cpu, "addmm_act", data((18,), dtype, 29), m1, m2, act, tol=tol)
    check(cl, cpu, "addmm_act", data((18, 1), dtype, 30), V(m2, ("permute", (1, 0))),
          V(m1, ("permute", (1, 0))), act, tol=tol)


@NEW_KERNELS
@pytest.mark.parametrize("dtype", FLOATS)
def test_cross_entropy(cl, cpu, dtype):
    x = data((9, 11), dtype, 31, low=-4, high=4)
    target = np.array([0, 10, 3, -100, 5, 5, 1, 2, -100])
    check(cl, cpu, "cross_entropy", x, target, -100)
    check(cl, cpu, "cross_entropy", V(x.T.copy(), ("permute", (1, 0))), target, -100)
    loss, lse = cpu.cross_entropy(x, target, -100)
    g = data((9,), dtype, 32)
    check(cl, cpu, "cross_entropy_backward", g, x, target, lse, -100)
    check(cl, cpu, "cross_entropy", np.zeros((0, 4), dtype), np.zeros(0, "int64"), -100)


@pytest.mark.parametrize("dtype", ("float32", "float64", "float16"))
def test_optimizer_steps(cl, cpu, dtype):
    shapes = [(3, 4), (7,), ()]
    grads = [data(s, dtype, 30 + i) for i, s in enumerate(shapes)]
    for hyper in [dict(lr=0.1, momentum=0.9, dampening=0.1, weight_decay=0.01, nesterov=True,
                       maximize=False),
                  dict(lr=0.05, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False,
                       maximize=True)]:
        results = []
        for t in (cl, cpu):
            params = [t.from_host(data(s, dtype, i)) for i, s in enumerate(shapes)]
            bufs = [t.full(s, 0, dtype) for s in shapes]
            for step in range(3):
                t.sgd_step(params, [t.from_host(g) for g in grads], bufs,
                           dict(hyper, first_step=step == 0))
            results.append([t.to_host(p) for p in params + bufs])
        for g, w in zip(*results):
            same(g, w)
    for decoupled, amsgrad in [(False, False), (True, True)]:
        results = []
        for t in (cl, cpu):
            params = [t.from_host(data(s, dtype, i)) for i, s in enumerate(shapes)]
            state = [[t.full(s, 0, dtype) for s in shapes] for _ in range(3)]
            for step in range(1, 4):
                t.adam_step(params, [t.from_host(g) for g in grads], state[0], state[1],
                            state[2] if amsgrad else [None] * 3,
                            dict(lr=0.01, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.1,
                                 decoupled=decoupled, amsgrad=amsgrad, maximize=False,
                                 step=step))
            results.append([t.to_host(p) for p in params + state[0] + state[1]])
        for g, w in zip(*results):
            same(g, w)


def test_gpu_code_paths(cl, cpu, monkeypatch):
    """The GPU variants (work-group trees in local memory, 256-wide groups, 32-bit indexing,
    the tiled GEMM) run here too, on the CPU device told it is not one."""
    dev = cl.impl.devices[0]
    monkeypatch.setattr(dev, "is_cpu", False)
    monkeypatch.setattr(dev, "group", 256)
    x = data((37, 300), "float32", 40, special=True)
    check(cl, cpu, "add", x, V(data((300, 37), "float32", 41), ("permute", (1, 0))))
    for op, axes in [("sum", (1,)), ("max", (0,)), ("min", (0, 1)), ("prod", (1,))]:
        check(cl, cpu, op, x / 3 if op == "prod" else x, axes, False)
    check(cl, cpu, "sum", data((70000,), "float64", 42), (0,), False)   # partials, 2nd pass
    check(cl, cpu, "argmax", x, 1, False)
    check(cl, cpu, "cumsum", x, 0)
    for op in ("softmax", "log_softmax"):
        check(cl, cpu, op, x, 1)
        check(cl, cpu, op, x, 0)
    check(cl, cpu, "matmul", data((3, 70, 40), "float32", 43), data((40, 90), "float32", 44),
          tol=GEMM_TOL)
    check(cl, cpu, "sort", data((5, 300), "int32", 45), 1, True)
    check(cl, cpu, "index", x, [np.array([3, 0, 36])])
    check(cl, cpu, "conv2d", data((2, 3, 9, 9), "float32", 46), data((4, 3, 3, 3), "float32", 47),
          (2, 2), (1, 1), (1, 1), 1, tol=GEMM_TOL)
    if "cross_entropy" in OPS:
        check(cl, cpu, "cross_entropy", x, np.arange(37) * 7, -100)
    if "cross_entropy_backward" in OPS:
        xl = x[:, :40].astype("float64")
        lse = (np.log(np.exp(xl - xl.max(1, keepdims=True)).sum(1)) + xl.max(1)).astype(
            "float32")
        check(cl, cpu, "cross_entropy_backward", data((37,), "float32", 51), x[:, :40],
              np.arange(37) % 40, lse, -100)
    # the tree's cascaded float sum: 1e7 + N(0,1) summed to float32 rounding (issue 18)
    big = (np.random.default_rng(48).standard_normal((3, 20000)) + 1e7).astype("float32")
    got = cl.to_host(cl.sum(cl.from_host(big), (1,), False))
    np.testing.assert_allclose(got, big.astype("float64").sum(1), rtol=3e-7)
    got = cl.to_host(cl.sum(cl.from_host(np.ascontiguousarray(big.T)), (0,), False))
    np.testing.assert_allclose(got, big.astype("float64").sum(1), rtol=3e-7)
    # softmax over a stride-1 axis that is not the last one (issue 18)
    check(cl, cpu, "softmax", V(data((300, 37), "float32", 49), ("permute", (1, 0))), 1)
    check(cl, cpu, "log_softmax", V(data((37, 300), "float32", 50), ("permute", (1, 0))), 0)


# ------------------------------------------------------------------- no host round trips
def test_training_step_makes_no_host_transfers(cl):
    """A linear classifier step: forward, cross-entropy, backward, SGD -- all on device. The
    index ops check their indices in the kernel, so the step reads nothing back; the explicit
    .item() reads the loss and, since index kernels ran, the error flag once."""
    rng = np.random.default_rng(0)
    x = cl.from_host(rng.standard_normal((64, 20)).astype("float32"))
    y = cl.from_host(rng.integers(0, 5, 64))
    w = cl.from_host(rng.standard_normal((20, 5)).astype("float32") * 0.1)
    b = cl.from_host(np.zeros(5, "float32"))
    rows = cl.arange(0, 1, 64, "int64")
    losses = []
    for step in range(3):
        before = dict(cl.impl.transfers)
        logits = cl.add(cl.matmul(x, w), b)
        logp = cl.log_softmax(logits, 1)
        loss = cl.mul(cl.sum(cl.index(logp, [rows, y]), (0,), False), -1.0 / 64)
        p = cl.exp(logp)                                   # dloss/dlogits = (p - onehot)/N
        cl.index_put(p, [rows, y], -1.0, True)
        dlogits = cl.mul(p, 1.0 / 64)
        dw = cl.matmul(cl.permute(x, (1, 0)), dlogits)
        db = cl.sum(dlogits, (0,), False)
        cl.sgd_step([w, b], [dw, db], [None, None],
                    dict(lr=0.5, momentum=0.0, dampening=0.0, weight_decay=0.0,
                         nesterov=False, maximize=False, first_step=step == 0))
        assert dict(cl.impl.transfers) == before, "a training step touched the host"
        losses.append(float(cl.to_host(loss)))              # the explicit .item()
        added = {k: n - before.get(k, 0) for k, n in cl.impl.transfers.items()
                 if n != before.get(k, 0)}
        assert added == {"to_host": 1, "error_check": 1}
        cl.synchronize()                      # nothing ran since: no second flag read
        assert cl.impl.transfers["error_check"] == before.get("error_check", 0) + 1
    assert losses[2] < losses[0]


# ------------------------------------------------------------------------------ threads
def test_threads_get_their_own_kernel_objects(cl):
    """A pyopencl Kernel keeps its arguments between setting them and the launch, so one
    shared by two threads can launch with the other thread's buffers; each thread gets its
    own Kernel of the one compiled program."""
    import threading
    dev = cl.impl.devices[0]
    compiled = []
    render = lambda: compiled.append(1) or (  # noqa: E731
        "__kernel void twice(__global float* x) { x[get_global_id(0)] *= 2; }", "twice", [None])
    key = ("test", "twice")
    mine = dev.kernel(key, render)
    assert dev.kernel(key, render) is mine
    theirs = []
    worker = threading.Thread(target=lambda: theirs.append(dev.kernel(key, render)))
    worker.start()
    worker.join()
    assert theirs[0] is not mine and compiled == [1]
    buf = cl.from_host(np.ones(4, "float32"))
    theirs[0](dev.queue, (4,), None, buf.data)
    mine(dev.queue, (4,), None, buf.data)
    same(cl.to_host(buf), np.full(4, 4, "float32"), exact=True)


# -------------------------------------------------------------------------- gelu, layer norm
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_gelu_and_layer_norm_kernels_agree_with_cpu(cl, cpu, dtype):
    """Strided and offset inputs (copied dense first), weight and bias absent or present;
    the conformance kit covers the contiguous cases."""
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == "float32" else dict(rtol=1e-12, atol=1e-13)
    x = np.random.default_rng(0).standard_normal((7, 26)).astype(dtype) * 3
    g = np.random.default_rng(1).standard_normal((7, 13)).astype(dtype)
    w, b = (np.random.default_rng(s).standard_normal(13).astype(dtype) for s in (2, 3))

    def both(fn, *arrays):
        views = lambda t: [None if a is None else
                           V(a, ("slice", [(1, 7, 1), (0, 26, 2)])).make(t) if a.shape == (7, 26)
                           else V(a, ("slice", [(1, 7, 1), (0, 13, 1)])).make(t)
                           if a.shape == (7, 13) else t.from_host(a)
                           for a in arrays]
        got, want = fn(cl, *views(cl)), fn(cpu, *views(cpu))
        for u, v in zip(got, want):
            np.testing.assert_allclose(cl.to_host(u), cpu.to_host(v), **tol)

    both(lambda t, x: t.gelu(x), x)
    both(lambda t, g, x: [t.gelu_backward(g, x, t.gelu(x)[1])], g, x)
    for weight, bias in [(None, None), (w, None), (w, b)]:
        both(lambda t, x, w, b: t.layer_norm(x, w, b, 13, 1e-5), x, weight, bias)
        both(lambda t, g, x, w: t.layer_norm_backward(
            g, x, w, *t.layer_norm(x, w, None, 13, 1e-5)[1:], 13), g, x, weight)
