"""Property-based differential tests of the contract's elementwise primitives, per backend.

Every backend's dispatch table is driven directly (no frontend) with hypothesis-drawn shapes
(0-d and 0-size included), dtypes, broadcasting, scalar operands, non-contiguous layouts
built with the backend's own view ops, ``out=`` buffers (fresh, strided, the input itself)
and values over the whole float range (nan, +-inf, +-0.0, subnormals, the largest finite
values). Each result is compared with numpy -- the contract's stated semantics, computed
in float64 and rounded once where that is the correctly rounded answer -- and with PyTorch
where torch has the same function. Inputs must come back unchanged.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from fuzz_profiles import (FLOATS, INTS, arrays, assert_same, build, flushed, fuzz, host,
                           laid_out, quiet, supported, values)
from helpers import flushes_subnormals
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from plugrad.plugins import get_registry
from plugrad.plugins.contract import OPS as CONTRACT

NUMERIC = INTS + FLOATS


def _f64(fn):
    """fn evaluated in float64 and rounded once to the input's dtype."""
    def ref(x):
        return np.asarray(fn(x.astype(np.float64))).astype(x.dtype)
    return ref


_erf = np.vectorize(math.erf, otypes=[np.float64])

# name: (dtypes, value kind, numpy reference, torch function or None, ulps, signed zeros)
# Transcendentals get 4 ulps (OpenCL's full-profile bound for exp/log/sin/... is 3-4 ulps);
# the IEEE basic ops below are exact in torch and numpy.
UNARY = {
    "neg": (NUMERIC, "any", np.negative, torch.neg, 0, True),
    "abs": (NUMERIC, "any", np.abs, torch.abs, 0, True),
    # torch.sign(nan) is 0, the contract's is nan (the frontend maps it); numpy for the rest
    "sign": (NUMERIC, "any", np.sign, None, 0, False),
    "exp": (FLOATS, "any", _f64(np.exp), torch.exp, 4, True),
    "log": (FLOATS, "any", _f64(np.log), torch.log, 4, True),
    "log1p": (FLOATS, "any", _f64(np.log1p), torch.log1p, 4, True),
    "expm1": (FLOATS, "any", _f64(np.expm1), torch.expm1, 4, True),
    "sqrt": (FLOATS, "any", _f64(np.sqrt), torch.sqrt, 3, True),
    "sin": (FLOATS, "any", _f64(np.sin), torch.sin, 4, True),
    "cos": (FLOATS, "any", _f64(np.cos), torch.cos, 4, True),
    "tan": (FLOATS, "any", _f64(np.tan), torch.tan, 5, True),
    "tanh": (FLOATS, "any", _f64(np.tanh), torch.tanh, 5, True),
    "sigmoid": (FLOATS, "any", _f64(lambda x: 1 / (1 + np.exp(-x))), torch.sigmoid, 4, False),
    "asin": (FLOATS, "unit", _f64(np.arcsin), torch.asin, 4, True),
    "acos": (FLOATS, "unit", _f64(np.arccos), torch.acos, 4, True),
    "atan": (FLOATS, "any", _f64(np.arctan), torch.atan, 5, True),
    "sinh": (FLOATS, "any", _f64(np.sinh), torch.sinh, 4, True),
    "cosh": (FLOATS, "any", _f64(np.cosh), torch.cosh, 4, True),
    "erf": (FLOATS, "any", _f64(_erf), torch.erf, 4, True),
    "floor": (FLOATS, "any", np.floor, torch.floor, 0, True),
    "ceil": (FLOATS, "any", np.ceil, torch.ceil, 0, True),
    "round": (FLOATS, "any", np.rint, torch.round, 0, True),
    "trunc": (FLOATS, "any", np.trunc, torch.trunc, 0, True),
    "reciprocal": (FLOATS, "any", _f64(np.reciprocal), torch.reciprocal, 3, True),
    "logical_not": (("bool",) + NUMERIC, "any", np.logical_not, torch.logical_not, 0, True),
    "isnan": (FLOATS, "any", np.isnan, torch.isnan, 0, True),
    "isinf": (FLOATS, "any", np.isinf, torch.isinf, 0, True),
    "bitwise_not": (("bool",) + INTS, "any", np.invert, torch.bitwise_not, 0, True),
}


# name: (dtypes, numpy reference, torch function or None, ulps, signed zeros, divisor rule)
# Integer floordiv/remainder by zero is unspecified in the contract (the frontend raises, as
# torch does), and so is INT_MIN // -1; they are not drawn.
BINARY = {
    "add": (NUMERIC, np.add, torch.add, 0, True),
    "sub": (NUMERIC, np.subtract, torch.sub, 0, True),
    "mul": (NUMERIC, np.multiply, torch.mul, 0, True),
    "div": (FLOATS, np.true_divide, torch.div, 0, True),
    "floordiv": (NUMERIC, np.floor_divide, torch.floor_divide, 0, True),
    # torch.remainder(-0., 3.) is -0. where numpy gives 0.: zeros' signs are not compared
    "remainder": (NUMERIC, np.remainder, torch.remainder, 0, False),
    "pow": (NUMERIC, np.power, torch.pow, 4, True),
    # torch and numpy pick different operands for max(-0., 0.): zeros' signs not compared
    "maximum": (NUMERIC, np.maximum, torch.maximum, 0, False),
    "minimum": (NUMERIC, np.minimum, torch.minimum, 0, False),
    "atan2": (FLOATS, np.arctan2, torch.atan2, 4, True),
    "eq": (("bool",) + NUMERIC, np.equal, torch.eq, 0, True),
    "ne": (("bool",) + NUMERIC, np.not_equal, torch.ne, 0, True),
    "lt": (NUMERIC, np.less, torch.lt, 0, True),
    "le": (NUMERIC, np.less_equal, torch.le, 0, True),
    "gt": (NUMERIC, np.greater, torch.gt, 0, True),
    "ge": (NUMERIC, np.greater_equal, torch.ge, 0, True),
    "logical_and": (("bool",) + NUMERIC, np.logical_and, torch.logical_and, 0, True),
    "logical_or": (("bool",) + NUMERIC, np.logical_or, torch.logical_or, 0, True),
    "logical_xor": (("bool",) + NUMERIC, np.logical_xor, torch.logical_xor, 0, True),
    "bitwise_and": (("bool",) + INTS, np.bitwise_and, torch.bitwise_and, 0, True),
    "bitwise_or": (("bool",) + INTS, np.bitwise_or, torch.bitwise_or, 0, True),
    "bitwise_xor": (("bool",) + INTS, np.bitwise_xor, torch.bitwise_xor, 0, True),
}


def _group(group):
    """Every primitive of a contract group: a new one fails here until UNARY/BINARY has its
    reference (a KeyError naming it)."""
    return sorted(n for n, spec in CONTRACT.items() if spec.group == group)


_ROUNDED_ONCE = {"add", "sub", "mul", "div", "pow", "atan2"}


def _torch_result(fn, *arrays):
    """torch's answer on the same host values, or None where torch lacks the dtype."""
    args = [torch.from_numpy(np.array(a, copy=True)) if isinstance(a, np.ndarray) else a
            for a in arrays]
    try:
        out = fn(*args)
    except (RuntimeError, TypeError, NotImplementedError):
        return None
    return out.numpy()


def _table(device):
    return get_registry().table(device)


@st.composite
def _out(draw, table, shape, dtype, alias_ok):
    """An out= target: None, a fresh buffer, a strided view, or (where legal) the input."""
    modes = ["none", "fresh", "strided"] + (["alias"] if alias_ok else [])
    mode = draw(st.sampled_from(modes))
    if mode in ("none", "alias"):
        return mode, None
    fill = False if dtype == "bool" else 7
    if mode == "fresh" or len(shape) < 2:
        return mode, table.full(tuple(shape), fill, dtype)
    rev = tuple(reversed(range(len(shape))))
    base = table.full(tuple(shape[i] for i in rev), fill, dtype)
    return mode, table.permute(base, rev)


def _call(table, op, args, out_mode, out):
    fn = getattr(table, op)
    if out_mode == "none":
        return fn(*args), None
    target = args[0] if out_mode == "alias" else out
    result = fn(*args, out=target)
    assert result is target, f"{op}(out=...) returned a new buffer instead of out"
    return result, target


@pytest.mark.parametrize("op", _group("unary"))
@given(data=st.data())
@fuzz()
def test_unary_primitive(device, op, data):
    dtypes, kind, reference, torch_fn, ulps, signed = UNARY[op]
    table = _table(device)
    dtype = data.draw(st.sampled_from(supported(table, op, dtypes)), label="dtype")
    x, layout = data.draw(laid_out(dtype, data.draw(hnp.array_shapes(min_dims=0, max_dims=4,
                                                                    min_side=0, max_side=4)),
                                   kind), label="x")
    with quiet():
        want = np.asarray(reference(x))
        ftz = np.asarray(reference(flushed(x))) if flushes_subnormals(device) else False
    buf = build(table, x, layout)
    alias_ok = layout[0] != "expanded" and want.dtype == x.dtype
    out_mode, out = data.draw(_out(table, x.shape, want.dtype.name, alias_ok), label="out")
    with quiet():
        result, target = _call(table, op, [buf], out_mode, out)
    got = host(table, result)
    assert_same(got, want, ulps=ulps, signed_zero=signed, flush_subnormals=ftz,
                what=f"{op} vs numpy: ")
    if target is not None:
        assert_same(host(table, target), want, ulps=ulps, signed_zero=signed,
                    flush_subnormals=ftz, what=f"{op} out= buffer: ")
    if out_mode != "alias":
        assert_same(host(table, buf), x, what=f"{op} changed its input: ")
    if torch_fn is not None:
        expected = _torch_result(torch_fn, x)
        if expected is not None:
            assert_same(got, expected, ulps=max(ulps, 1 if dtype == "float16" else 0),
                        signed_zero=signed, flush_subnormals=ftz is not False,
                        what=f"{op} vs torch: ")


@st.composite
def _binary_operands(draw, op, dtype):
    """(a, b, layouts): broadcastable arrays, or one Python scalar of the dtype's kind."""
    shapes = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4,
                                                    min_side=0, max_side=3))
    lo = hi = None
    if op == "pow" and dtype in INTS:
        lo, hi = 0, 12       # no negative integer powers (numpy and torch both refuse)
    a, la = draw(laid_out(dtype, shapes.input_shapes[0]))
    b, lb = draw(laid_out(dtype, shapes.input_shapes[1], lo=lo, hi=hi))
    if op in ("floordiv", "remainder") and dtype in INTS:
        b = np.where(b == 0, 1, b).astype(dtype)
        if dtype != "uint8":
            a, b = np.broadcast_arrays(a, b)
            a = np.where((a == np.iinfo(dtype).min) & (b == -1), 0, a).astype(dtype)
            la, lb = ("contiguous", None), ("contiguous", None)
    scalar = draw(st.sampled_from(["none", "a", "b"]))
    if scalar != "none":
        # the scalar is a value of the dtype, as the contract states: any Python float for a
        # float buffer means its value rounded to the dtype (what numpy does, NEP 50)
        pool = values(dtype, lo=lo, hi=hi)
        # (not for logical ops: numpy tests a Python float for truth before rounding it, and
        # the frontend hands them tensors, never such scalars)
        if dtype in FLOATS and not op.startswith("logical"):
            pool = pool | st.floats(-1e6, 1e6).filter(lambda v: abs(v) < float(
                np.finfo(dtype).max))
        value = draw(pool.filter(
            lambda v: not (op in ("floordiv", "remainder") and scalar == "b" and v == 0)))
        value = {"b": bool, "u": int, "i": int, "f": float}[np.dtype(dtype).kind](value)
        if op in ("floordiv", "remainder") and scalar == "a" and dtype in INTS \
                and dtype != "uint8" and value == np.iinfo(dtype).min:
            value = 0
        if scalar == "a":
            a, la = value, None
        else:
            b, lb = value, None
    return a, b, la, lb


@pytest.mark.parametrize("op", _group("binary"))
@given(data=st.data())
@fuzz()
def test_binary_primitive(device, op, data):
    dtypes, reference, torch_fn, ulps, signed = BINARY[op]
    table = _table(device)
    dtype = data.draw(st.sampled_from(supported(table, op, dtypes)), label="dtype")
    a, b, la, lb = data.draw(_binary_operands(op, dtype), label="operands")
    ha = np.asarray(a, dtype=dtype)
    hb = np.asarray(b, dtype=dtype)
    def expected(ha, hb):
        if op in _ROUNDED_ONCE and dtype in ("float16", "float32"):
            return reference(ha.astype(np.float64), hb.astype(np.float64)).astype(dtype)
        return np.asarray(reference(ha, hb))
    with quiet():
        want = expected(ha, hb)
        ftz = expected(flushed(ha), flushed(hb)) if flushes_subnormals(device) else False
    if dtype in FLOATS and op == "pow":
        ulps = 4
    elif dtype in INTS:
        ulps = 0
    args = [build(table, v, lay) if lay is not None else v for v, lay in ((a, la), (b, lb))]
    alias_ok = la is not None and la[0] != "expanded" and ha.shape == want.shape \
        and want.dtype == ha.dtype
    out_mode, out = data.draw(_out(table, want.shape, want.dtype.name, alias_ok), label="out")
    with quiet():
        result, target = _call(table, op, args, out_mode, out)
    assert_same(host(table, result), want, ulps=ulps, signed_zero=signed,
                flush_subnormals=ftz, what=f"{op}({dtype}) vs numpy: ")
    if out_mode != "alias" and la is not None:
        assert_same(host(table, args[0]), ha, what=f"{op} changed input a: ")
    if lb is not None:
        assert_same(host(table, args[1]), hb, what=f"{op} changed input b: ")
    if torch_fn is not None:
        expected = _torch_result(torch_fn, ha, hb)
        if expected is not None and expected.dtype == want.dtype:
            assert_same(host(table, result), expected,
                        ulps=max(ulps, 1 if dtype == "float16" else 0), signed_zero=signed,
                        flush_subnormals=ftz is not False, what=f"{op}({dtype}) vs torch: ")


@given(data=st.data())
@fuzz(scale=2)
def test_where_primitive(device, data):
    table = _table(device)
    dtype = data.draw(st.sampled_from(supported(table, "where", ("bool",) + NUMERIC)))
    shapes = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=3, min_dims=0, max_dims=4,
                                                         min_side=0, max_side=3))
    cond, lc = data.draw(laid_out("bool", shapes.input_shapes[0]))
    a, la = data.draw(laid_out(dtype, shapes.input_shapes[1]))
    b, lb = data.draw(laid_out(dtype, shapes.input_shapes[2]))
    scalar = data.draw(st.sampled_from(["none", "a", "b"]))
    kind = {"b": bool, "u": int, "i": int, "f": float}[np.dtype(dtype).kind]
    args = [build(table, cond, lc), build(table, a, la), build(table, b, lb)]
    if scalar != "none":
        pool = values(dtype) | st.floats(-1e4, 1e4) if dtype in FLOATS else values(dtype)
        value = kind(data.draw(pool))
        i = 1 if scalar == "a" else 2
        args[i] = value
        (a, b) = (np.asarray(value, dtype), b) if i == 1 else (a, np.asarray(value, dtype))
    want = np.where(cond, a, b)
    out_mode, out = data.draw(_out(table, want.shape, dtype, False))
    result, target = _call(table, "where", args, out_mode, out)
    assert_same(host(table, result), want, what="where vs numpy: ")
    expected = torch.where(torch.from_numpy(np.array(cond)), torch.from_numpy(np.array(a)),
                           torch.from_numpy(np.array(b))).numpy()
    assert_same(host(table, result), expected.astype(dtype), what="where vs torch: ")


@given(data=st.data())
@fuzz(scale=2)
def test_cast_primitive(device, data):
    """cast: float -> int truncates toward zero (in-range values: out of range is UB in C)."""
    table = _table(device)
    src = data.draw(st.sampled_from(supported(table, "cast", ("bool",) + NUMERIC)))
    dst = data.draw(st.sampled_from(supported(table, "cast", ("bool",) + NUMERIC)))
    shape = data.draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4))
    if src in FLOATS and dst in INTS:
        info = np.iinfo(dst)
        lo, hi = max(float(info.min), -60000.0), min(float(info.max), 60000.0)
        elems = st.floats(lo, hi).map(lambda v: float(np.dtype(src).type(v)))
        elems = elems.filter(lambda v: lo <= math.trunc(v) <= hi)
        x = data.draw(hnp.arrays(np.dtype(src), shape, elements=elems))
        layout = data.draw(st.sampled_from([("contiguous", None), ("stepped", None)]))
    elif src in INTS and dst in INTS:
        info = np.iinfo(dst)
        x = data.draw(arrays(src, shape, lo=int(info.min), hi=int(info.max)))
        layout = ("contiguous", None)
    else:
        x, layout = data.draw(laid_out(src, shape))
    with quiet():
        want = x.astype(dst)
    result = table.cast(build(table, x, layout), dst)
    assert_same(host(table, result), want, what=f"cast {src}->{dst}: ")
    expected = torch.from_numpy(np.array(x)).to(getattr(torch, dst)).numpy()
    assert_same(host(table, result), expected, what=f"cast {src}->{dst} vs torch: ")
