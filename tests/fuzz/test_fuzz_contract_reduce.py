"""Property-based differential tests of the contract's reductions, scans, sort and indexing.

Drives each backend's dispatch table directly with hypothesis-drawn shapes (0-size axes
included; 0-d inputs where the contract allows them), axes, keepdims, layouts and values,
and compares with numpy (float sums in float64, so the bound covers any summation order)
and with PyTorch where torch has the same function.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from fuzz_profiles import (FLOATS, INTS, arrays, assert_same, build, fuzz, host, laid_out,
                           quiet, supported)
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from plugrad.plugins import get_registry

NUMERIC = INTS + FLOATS
EPS = {"float16": 2.0 ** -10, "float32": 2.0 ** -23, "float64": 2.0 ** -52}
# prod/cumprod: exact factors (products of these round only on over/underflow), and at most
# 15 of them per product, so no order of multiplication can overflow float16
_FACTORS = [0.5, -0.5, 1.0, -1.0, 1.5, -1.5, 2.0, -2.0, 0.0, -0.0, math.nan, math.inf, -math.inf]


def _table(device):
    return get_registry().table(device)


@st.composite
def _axes(draw, ndim, nonempty_reduced=False, shape=None):
    axes = tuple(sorted(draw(st.sets(st.integers(0, ndim - 1), min_size=1))))
    if nonempty_reduced:
        assume(all(shape[a] > 0 for a in axes))
    return axes


def _values(draw, op, dtype, shape):
    if op in ("prod", "cumprod") and dtype in FLOATS:
        x = draw(hnp.arrays(np.dtype(dtype), shape, elements=st.sampled_from(_FACTORS)))
        return x, draw(st.sampled_from([("contiguous", None), ("stepped", None)]))
    kind = "small" if dtype == "float16" else "moderate"
    return draw(laid_out(dtype, shape, kind))


def _sum_tolerance(x, axes, dtype, keepdims):
    """|error| bound of any summation order: n * eps * sum(|x|) over the reduced elements."""
    with quiet():
        mag = np.sum(np.abs(x.astype(np.float64)), axis=axes, keepdims=keepdims)
    n = max(1, int(np.prod([x.shape[a] for a in axes])))
    return np.where(np.isfinite(mag), n * EPS[dtype] * mag, 0.0)


REDUCE = {
    "sum": (NUMERIC, torch.sum), "prod": (NUMERIC, torch.prod),
    "max": (NUMERIC, torch.amax), "min": (NUMERIC, torch.amin),
    "any": (("bool",), torch.any), "all": (("bool",), torch.all),
}


@pytest.mark.parametrize("op", sorted(REDUCE))
@given(data=st.data())
@fuzz()
def test_reduce_primitive(device, op, data):
    dtypes, torch_fn = REDUCE[op]
    table = _table(device)
    dtype = data.draw(st.sampled_from(supported(table, op, dtypes)), label="dtype")
    max_side = 3 if op == "prod" else 4
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=4, min_side=0, max_side=max_side))
    axes = data.draw(_axes(len(shape), op in ("max", "min"), shape), label="axes")
    if op == "prod":
        assume(np.prod([shape[a] for a in axes]) <= 15)
    keepdims = data.draw(st.booleans(), label="keepdims")
    x, layout = _values(data.draw, op, dtype, shape)
    with quiet():
        if op in ("sum", "prod") and dtype in FLOATS:
            fn = np.sum if op == "sum" else np.prod
            want = fn(x.astype(np.float64), axis=axes, keepdims=keepdims).astype(dtype)
        else:
            fn = {"sum": np.sum, "prod": np.prod, "max": np.max, "min": np.min,
                  "any": np.any, "all": np.all}[op]
            want = np.asarray(fn(x, axis=axes, keepdims=keepdims)).astype(dtype)
    atol = _sum_tolerance(x, axes, dtype, keepdims) if op == "sum" and dtype in FLOATS else 0.0
    buf = build(table, x, layout)
    got = host(table, getattr(table, op)(buf, axes, keepdims))
    # max(-0., 0.) may return either zero, in numpy and torch alike
    assert_same(got, want, atol=atol, signed_zero=op not in ("max", "min", "sum"),
                what=f"{op}{axes} {dtype} vs numpy: ")
    assert_same(host(table, buf), x, what=f"{op} changed its input: ")
    if dtype != "float16" or op not in ("sum",):
        t = torch.from_numpy(np.array(x))
        try:
            expected = torch_fn(t, dim=axes, keepdim=keepdims).numpy()
        except (RuntimeError, TypeError):
            return
        assert_same(got, expected.astype(dtype), atol=atol,
                    signed_zero=op not in ("max", "min", "sum"), what=f"{op} vs torch: ")


@pytest.mark.parametrize("op", ["argmax", "argmin"])
@given(data=st.data())
@fuzz()
def test_arg_reduce_primitive(device, op, data):
    """The first extreme value's index; nan counts as the extreme (numpy and torch agree)."""
    table = _table(device)
    dtype = data.draw(st.sampled_from(supported(table, op, NUMERIC)), label="dtype")
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=4, min_side=0, max_side=4))
    axis = data.draw(st.integers(0, len(shape) - 1), label="axis")
    assume(shape[axis] > 0)
    keepdims = data.draw(st.booleans())
    # small integers and a few distinct floats, so ties (first index wins) are common
    x, layout = data.draw(laid_out(dtype, shape, "small", lo=-3, hi=3))
    want = getattr(np, op)(x, axis=axis, keepdims=keepdims).astype(np.int64)
    got = host(table, getattr(table, op)(build(table, x, layout), axis, keepdims))
    assert_same(got, want, what=f"{op}(axis={axis}) {dtype} vs numpy: ")
    expected = getattr(torch, op)(torch.from_numpy(np.array(x)), dim=axis, keepdim=keepdims)
    assert_same(got, expected.numpy(), what=f"{op} vs torch: ")


@pytest.mark.parametrize("op", ["cumsum", "cumprod"])
@given(data=st.data())
@fuzz()
def test_scan_primitive(device, op, data):
    table = _table(device)
    dtype = data.draw(st.sampled_from(supported(table, op, NUMERIC)), label="dtype")
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=5))
    axis = data.draw(st.integers(0, len(shape) - 1), label="axis")
    if op == "cumprod":
        assume(shape[axis] <= 15)
    x, layout = _values(data.draw, op, dtype, shape)
    fn = np.cumsum if op == "cumsum" else np.cumprod
    with quiet():
        if dtype in FLOATS:
            want = fn(x.astype(np.float64), axis=axis).astype(dtype)
            mag = np.cumsum(np.abs(x.astype(np.float64)), axis=axis)
            atol = np.where(np.isfinite(mag), shape[axis] * EPS[dtype] * mag, 0.0) \
                if op == "cumsum" else 0.0
        else:
            want, atol = fn(x, axis=axis, dtype=dtype), 0.0
    got = host(table, getattr(table, op)(build(table, x, layout), axis))
    assert_same(got, want, atol=atol, signed_zero=op == "cumprod",
                what=f"{op}(axis={axis}) {dtype} vs numpy: ")
    with quiet():
        expected = getattr(torch, op)(torch.from_numpy(np.array(x)), dim=axis,
                                      dtype=getattr(torch, dtype)).numpy()
    assert_same(got, expected, atol=atol, signed_zero=op == "cumprod", what=f"{op} vs torch: ")


def _sort_reference(x, axis, descending):
    """Stable sort of each lane; nan above +inf; -0.0 and 0.0 tie (keep their order)."""
    moved = np.moveaxis(x, axis, -1)
    values, indices = np.empty_like(moved), np.empty(moved.shape, np.int64)
    for lane in np.ndindex(moved.shape[:-1]):
        row = moved[lane].tolist()
        key = (lambda i: (1, 0.0) if row[i] != row[i] else (0, row[i]))
        # Python's sort is stable, and reverse=True keeps ties in their original order too
        order = sorted(range(len(row)), key=key, reverse=descending)
        indices[lane] = order
        values[lane] = moved[lane][order]
    return np.moveaxis(values, -1, axis), np.moveaxis(indices, -1, axis)


@given(data=st.data())
@fuzz(scale=2)
def test_sort_primitive(device, data):
    table = _table(device)
    dtype = data.draw(st.sampled_from(supported(table, "sort", ("bool",) + NUMERIC)))
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=6))
    axis = data.draw(st.integers(0, len(shape) - 1))
    descending = data.draw(st.booleans())
    x, layout = data.draw(laid_out(dtype, shape, "small", lo=-3, hi=3))
    want_values, want_indices = _sort_reference(x, axis, descending)
    got_values, got_indices = table.sort(build(table, x, layout), axis, descending)
    assert_same(host(table, got_indices), want_indices, what=f"sort indices {dtype}: ")
    assert_same(host(table, got_values), want_values, what=f"sort values {dtype}: ")
    values, indices = torch.sort(torch.from_numpy(np.array(x)), dim=axis,
                                 descending=descending, stable=True)
    assert_same(host(table, got_indices), indices.numpy(), what="sort indices vs torch: ")


@given(data=st.data())
@fuzz(scale=2)
def test_nonzero_primitive(device, data):
    table = _table(device)
    dtype = data.draw(st.sampled_from(supported(table, "nonzero", ("bool",) + NUMERIC)))
    shape = data.draw(hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=4))
    x, layout = data.draw(laid_out(dtype, shape, "small", lo=-1, hi=1))
    got = host(table, table.nonzero(build(table, x, layout)))
    assert_same(got, np.argwhere(x).astype(np.int64), what=f"nonzero {dtype}: ")
    assert_same(got, torch.nonzero(torch.from_numpy(np.array(x))).numpy(),
                what="nonzero vs torch: ")


@st.composite
def _index_case(draw, table, op):
    dtype = draw(st.sampled_from(supported(table, op, ("bool",) + NUMERIC)))
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
    k = draw(st.integers(1, len(shape)))
    shapes = draw(hnp.mutually_broadcastable_shapes(num_shapes=k, min_dims=0, max_dims=2,
                                                    min_side=0, max_side=4))
    indices = [draw(hnp.arrays(np.int64, sub, elements=st.integers(0, n - 1)))
               for sub, n in zip(shapes.input_shapes, shape)]
    return dtype, shape, indices


@given(data=st.data())
@fuzz(scale=2)
def test_index_primitive(device, data):
    table = _table(device)
    dtype, shape, indices = data.draw(_index_case(table, "index"))
    x, layout = data.draw(laid_out(dtype, shape))
    want = x[tuple(indices)]
    got = host(table, table.index(build(table, x, layout),
                                  [table.from_host(np.array(i)) for i in indices]))
    assert_same(got, want, what=f"index {dtype}: ")


@given(data=st.data())
@fuzz(scale=2)
def test_index_put_primitive(device, data):
    table = _table(device)
    dtype, shape, indices = data.draw(_index_case(table, "index_put"))
    accumulate = data.draw(st.booleans())
    target_shape = np.broadcast_shapes(*(i.shape for i in indices)) + tuple(shape[len(indices):])
    if not accumulate:  # duplicate targets without accumulate: any write may win
        flat = np.stack([a.ravel() for a in np.broadcast_arrays(*indices)]) \
            if indices[0].size or len(indices) > 1 else np.zeros((1, 0))
        assume(len({tuple(c) for c in flat.T}) == flat.shape[1])
    x = data.draw(arrays(dtype, shape, "small" if dtype in FLOATS else "any"))
    layout = data.draw(st.sampled_from([("contiguous", None), ("stepped", None)]))
    # values broadcast *to* the target: a suffix of its shape, some sides set to 1
    keep = data.draw(st.integers(0, len(target_shape)))
    ones = data.draw(st.lists(st.booleans(), min_size=keep, max_size=keep))
    vshape = tuple(1 if one else n for one, n in
                   zip(ones, target_shape[len(target_shape) - keep:]))
    scalar = data.draw(st.booleans())
    v = data.draw(arrays(dtype, () if scalar else vshape, "small" if dtype in FLOATS else "any"))
    want = x.copy()
    with quiet():
        if accumulate:
            np.add.at(want, tuple(indices), v.item() if scalar else v)
        else:
            want[tuple(indices)] = v.item() if scalar else v
    buf = build(table, x, layout)
    value = {"b": bool, "u": int, "i": int, "f": float}[v.dtype.kind](v.item()) \
        if scalar else build(table, v, ("contiguous", None))
    assert table.index_put(buf, [table.from_host(np.array(i)) for i in indices], value,
                           accumulate) is None
    n_dup = max(1, len(indices[0].ravel()) if indices else 1)
    # |values| <= 4: any order of the n_dup additions into one slot is within this bound
    atol = n_dup * EPS[dtype] * 4 * (n_dup + 1) if accumulate and dtype in FLOATS else 0.0
    assert_same(host(table, buf), want, atol=atol, signed_zero=not accumulate,
                what=f"index_put(accumulate={accumulate}) {dtype}: ")
