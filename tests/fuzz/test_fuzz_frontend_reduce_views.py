"""Property-based differential tests of the frontend's reductions, views and indexing.

Each op runs on PyTorch and on plugrad (every available device) with hypothesis-drawn
shapes (0-d and 0-size), dims (negative, tuples, None), keepdim, dtypes and values, and
indexing keys (ints, slices with steps, None, Ellipsis, boolean masks, integer tensors);
outputs must match torch's (or raise torch's exception type), and so must the gradients of
a drawn upstream gradient, ties and special values included.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
from fuzz_oracle import check
from fuzz_profiles import arrays, fuzz
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

SHAPES = hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4)
DTYPES = ("bool", "int64", "float16", "float32", "float64")


def _dtypes(device, dtypes=DTYPES):
    import plugrad.plugins
    return tuple(d for d in dtypes if d != "float64" or plugrad.plugins.supports(device, "add",
                                                                                  "float64"))


@st.composite
def _dim(draw, ndim, allow_none=True, allow_tuple=True):
    """A dim argument: None, an int (maybe negative), or a tuple of distinct dims."""
    choices = ["int"] * (ndim > 0) + ["none"] * allow_none + ["tuple"] * (allow_tuple and ndim > 0)
    if not choices:
        return 0
    kind = draw(st.sampled_from(choices))
    if kind == "none":
        return None
    if kind == "int":
        return draw(st.integers(-ndim, ndim - 1))
    dims = draw(st.sets(st.integers(0, ndim - 1), min_size=1))
    return tuple(d - ndim if draw(st.booleans()) else d for d in sorted(dims))


REDUCE = {
    # name: (call(T, x, dim, keepdim), dim may be None, tuple dims, value kind, ulps, float only)
    "sum": (lambda T, x, d, k: x.sum() if d is None else x.sum(d, keepdim=k), True, True),
    "mean": (lambda T, x, d, k: x.mean() if d is None else x.mean(d, keepdim=k), True, True),
    "prod": (lambda T, x, d, k: x.prod() if d is None else x.prod(d, keepdim=k), True, False),
    "amax": (lambda T, x, d, k: T.amax(x, () if d is None else d, keepdim=k), True, True),
    "amin": (lambda T, x, d, k: T.amin(x, () if d is None else d, keepdim=k), True, True),
    "max_dim": (lambda T, x, d, k: x.max(d, keepdim=k), False, False),
    "min_dim": (lambda T, x, d, k: x.min(d, keepdim=k), False, False),
    "max_all": (lambda T, x, d, k: x.max(), True, False),
    "argmax": (lambda T, x, d, k: x.argmax(d, keepdim=k), True, False),
    "argmin": (lambda T, x, d, k: x.argmin(d, keepdim=k), True, False),
    "var": (lambda T, x, d, k: x.var(d, keepdim=k), True, True),
    "std": (lambda T, x, d, k: x.std(d, correction=0, keepdim=k), True, True),
    # torch's logsumexp over dim=() of an integer tensor fails with a shape error: dims given
    "logsumexp": (lambda T, x, d, k: T.logsumexp(x, d, keepdim=k), False, True),
    # (x.norm(dim=3 dims) raises in torch -- matrix_norm -- and computes here: known leniency)
    "norm": (lambda T, x, d, k: x.norm(dim=d, keepdim=k), True, False),
    "cumsum": (lambda T, x, d, k: x.cumsum(d), False, False),
    "cumprod": (lambda T, x, d, k: x.cumprod(d), False, False),
    "any": (lambda T, x, d, k: x.any() if d is None else x.any(d, keepdim=k), True, False),
    "all": (lambda T, x, d, k: x.all() if d is None else x.all(d, keepdim=k), True, False),
    "nansum": (lambda T, x, d, k: T.nansum(x, d, keepdim=k), True, True),
    "softmax": (lambda T, x, d, k: x.softmax(d), False, False),
    "log_softmax": (lambda T, x, d, k: x.log_softmax(d), False, False),
}


@pytest.mark.parametrize("name", sorted(REDUCE))
@given(data=st.data())
@fuzz()
def test_reduction(device, name, data):
    fn, none_ok, tuple_ok = REDUCE[name]
    dtypes = _dtypes(device)
    if name == "logsumexp":    # torch's logsumexp of a bool tensor fails with a shape error
        dtypes = tuple(d for d in dtypes if d != "bool")
    dtype = data.draw(st.sampled_from(dtypes), label="dtype")
    shape = data.draw(SHAPES)
    # few distinct values, so ties (max/min/argmax gradients, sort order) are common
    kind = data.draw(st.sampled_from(["small", "moderate"]))
    x = data.draw(arrays(dtype, shape, kind, lo=-3, hi=3), label="x")
    if dtype.startswith("float") and data.draw(st.booleans(), label="ties"):
        x = np.asarray(np.round(x))
    if name in ("softmax", "log_softmax") and dtype in ("bool", "int64") and 0 in shape:
        dtype, x = "float32", x.astype("float32")   # torch skips its dtype check when empty
    if name == "norm" and dtype.startswith("float"):
        # known gap: the 2-norm squares its inputs unscaled, so |x| below sqrt(tiny) underflows
        # (torch scales, as BLAS nrm2 does); such magnitudes are left out
        x = np.where(np.abs(x) < np.sqrt(np.finfo(x.dtype).tiny) * 64, 0, x).astype(x.dtype)
    dim = data.draw(_dim(len(shape), none_ok, tuple_ok), label="dim")
    keepdim = data.draw(st.booleans(), label="keepdim")
    half = dtype == "float16"
    n = max(1, int(np.prod(shape)))
    # sums in another order than torch's: a few ulps per added element
    ulps = {"sum": n, "mean": n + 2, "nansum": n, "var": 4 * n + 8, "std": 4 * n + 8,
            "logsumexp": n + 8, "norm": n + 8, "cumsum": n, "cumprod": 2 * n,
            "softmax": n + 8, "log_softmax": n + 8, "prod": 2 * n}.get(name, 0)
    # known gap: prod/cumprod gradients at nan/inf inputs follow other formulas than torch's
    # (exclusive products: 0 where torch's result / x gives nan, and the reverse for cumprod)
    # (and where the product overflows: torch's g * result / x is 0 * inf there)
    grad = not (name in ("prod", "cumprod") and not (np.isfinite(x).all() and np.prod(
        np.abs(x.astype(np.float64))) <= np.finfo(x.dtype).max if x.dtype.kind == "f" else
        True))
    # torch's gradient of var/std of one element (no degrees of freedom) is nan for finite
    # and infinite x but inf for a nan x: a quirk not copied, compared for finite x only
    if name in ("var", "std") and x.size == 1 and not np.isfinite(x).all():
        grad = False
    # std's gradient where the spread is 0 hangs on rounding: torch's mean of eight equal
    # float32 values may differ from them by an ulp (std 1e-7, gradient -0.125), ours not
    if name == "std" and x.size and dtype.startswith("float"):
        with np.errstate(all="ignore"):
            spread = np.ptp(x.astype(np.float64), axis=dim if dim is not None else None)
        if np.any(np.asarray(spread) == 0):
            grad = False
    check(data, device, lambda T, x: fn(T, x, dim, keepdim), [x], grad=grad,
          ulps=ulps + 4 * half,
          atol=1e-6 if not half else 2e-3, grad_ulps=2 * ulps + 8 + 16 * half,
          grad_atol=1e-6 if not half else 4e-3)


VIEWS = {
    "reshape": lambda T, x: x.reshape(-1, *x.shape[2:]) if x.ndim >= 2 else x.reshape(-1),
    "view_flat": lambda T, x: x.view(-1),
    "permute": lambda T, x: x.permute(tuple(reversed(range(x.ndim)))),
    "transpose": lambda T, x: x.transpose(0, -1) if x.ndim else x.t(),
    "mT_contiguous": lambda T, x: x.mT.contiguous() if x.ndim >= 2 else x,
    "squeeze": lambda T, x: x.squeeze(),
    "unsqueeze": lambda T, x: x.unsqueeze(-1).unsqueeze(0),
    "flatten": lambda T, x: x.flatten(),
    "expand": lambda T, x: x.unsqueeze(0).expand(2, *x.shape),
    "narrow": lambda T, x: x.narrow(0, 1, x.shape[0] - 1) if x.ndim and x.shape[0] else x,
    "flip": lambda T, x: x.flip(list(range(x.ndim))),
    "repeat": lambda T, x: x.repeat(*([2] + [1] * x.ndim)),
    "cat": lambda T, x: T.cat([x, x * 2], dim=-1) if x.ndim else T.stack([x, x]),
    "stack": lambda T, x: T.stack([x, x + 1], dim=0),
    "split": lambda T, x: x.split(1, dim=-1) if x.ndim else x,
    "chunk": lambda T, x: x.chunk(2, dim=0) if x.ndim else x,
    "unbind": lambda T, x: x.unbind(0) if x.ndim else x,
    "movedim": lambda T, x: T.movedim(x, 0, -1) if x.ndim else x,
    "roll": lambda T, x: T.roll(x, 1, 0) if x.ndim else x,
    "tril": lambda T, x: T.tril(x) if x.ndim >= 2 else x,
    "diagonal": lambda T, x: T.diagonal(x) if x.ndim >= 2 else x,
    "view_then_inplace": lambda T, x: _write_through_view(x),
}


def _write_through_view(x):
    """A write into a view of a clone reaches the clone (and the gradient flows to x)."""
    base = x.clone()
    if base.ndim:
        base.transpose(0, -1)[..., :1].mul_(3)
    return base


@pytest.mark.parametrize("name", sorted(VIEWS))
@given(data=st.data())
@fuzz()
def test_view_op(device, name, data):
    dtype = data.draw(st.sampled_from(_dtypes(device)), label="dtype")
    x = data.draw(arrays(dtype, data.draw(SHAPES), "any"), label="x")
    check(data, device, VIEWS[name], [x], signed_zero=True, grad_signed_zero=False)


@st.composite
def _basic_key(draw, shape):
    """A key of ints, slices (steps, negative bounds), None and at most one Ellipsis."""
    key, dims = [], list(shape)
    while dims and draw(st.booleans()):
        n = dims.pop(0)
        kind = draw(st.sampled_from(["int", "slice", "none", "ellipsis"] if n else
                                    ["slice", "none"]))
        if kind == "int":
            key.append(draw(st.integers(-n, n - 1)))
        elif kind == "slice":
            key.append(slice(draw(st.none() | st.integers(-n - 1, n + 1)),
                             draw(st.none() | st.integers(-n - 1, n + 1)),
                             draw(st.none() | st.integers(1, 3))))
        elif kind == "none":
            key.append(None)
            dims.insert(0, n)
        elif Ellipsis not in key:
            key.append(Ellipsis)
            dims = dims[len(dims):]
    return tuple(key)


@given(data=st.data())
@fuzz(scale=3)
def test_basic_indexing(device, data):
    dtype = data.draw(st.sampled_from(_dtypes(device)), label="dtype")
    shape = data.draw(SHAPES)
    x = data.draw(arrays(dtype, shape, "any"), label="x")
    key = data.draw(_basic_key(shape), label="key")
    check(data, device, lambda x: x[key], [x], signed_zero=True)


@given(data=st.data())
@fuzz(scale=3)
def test_advanced_indexing(device, data):
    """Integer-tensor and boolean-mask keys, alone or mixed with a slice; reads and writes."""
    dtype = data.draw(st.sampled_from(_dtypes(device)), label="dtype")
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=4))
    x = data.draw(arrays(dtype, shape, "moderate"), label="x")
    kinds = ["int", "int_slice", "mask"]
    if x.size:   # torch skips the bounds check of an empty tensor (a known gap: we check)
        kinds.append("out_of_range")
    kind = data.draw(st.sampled_from(kinds))
    n = shape[0]
    if kind == "mask":
        mask = data.draw(hnp.arrays(np.bool_, shape[:data.draw(st.integers(1, len(shape)))]))
        key_t, key_p = (lambda T, dev: T.tensor(mask, device=dev)), mask
    else:
        hi = n + 2 if kind == "out_of_range" else max(n - 1, 0)
        lo = -n if n else 0
        idx = data.draw(hnp.arrays(np.int64, data.draw(hnp.array_shapes(min_dims=0, max_dims=2,
                                                                       min_side=0, max_side=3)),
                                   elements=st.integers(lo, hi) if n or kind == "out_of_range"
                                   else st.just(0)))
        key_t, key_p = (lambda T, dev: T.tensor(idx, device=dev)), idx
    write = data.draw(st.booleans(), label="write")
    slice_too = kind == "int_slice"

    def run(T, x):
        dev = "cpu" if T is torch else device
        key = key_t(T, dev)
        full_key = (key, slice(None, None, 2)) if slice_too and x.ndim >= 2 else key
        if not write:
            return x[full_key]
        y = x.clone()
        y[full_key] = -7 if x.dtype != T.bool else True
        return y
    del key_p
    check(data, device, run, [x], signed_zero=True)


@given(data=st.data())
@fuzz(scale=2)
def test_gather_scatter_family(device, data):
    dtype = data.draw(st.sampled_from(_dtypes(device, ("int64", "float32", "float64"))))
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
    x = data.draw(arrays(dtype, shape, "moderate"), label="x")
    dim = data.draw(st.integers(-len(shape), len(shape) - 1), label="dim")
    n = shape[dim]
    idx_shape = tuple(data.draw(st.integers(0, s)) for s in shape)
    idx = data.draw(hnp.arrays(np.int64, idx_shape, elements=st.integers(0, n - 1)))
    op = data.draw(st.sampled_from(["gather", "scatter_add", "index_select", "scatter",
                                    "take_along_dim", "masked_fill", "index_add"]))
    vec = data.draw(hnp.arrays(np.int64, (data.draw(st.integers(0, 4)),),
                               elements=st.integers(-n, n - 1)))

    def run(T, x):
        dev = "cpu" if T is torch else device
        i = T.tensor(idx, device=dev)
        if op == "gather":
            return x.gather(dim, i)
        if op == "take_along_dim":
            return T.take_along_dim(x, i, dim)
        if op == "scatter_add":
            return x.clone().scatter_add(dim, i, x[tuple(slice(0, s) for s in idx_shape)] * 2)
        if op == "scatter":
            src = x[tuple(slice(0, s) for s in idx_shape)] * 2
            # duplicate targets: torch keeps an unspecified one; compare on unique rows only
            return x.clone().scatter(dim, i, src) if _unique_along(idx, dim) else x * 1
        if op == "index_select":
            return x.index_select(dim, T.tensor(vec % n, device=dev))
        if op == "index_add":
            v = T.tensor(vec % n, device=dev)
            src = x.index_select(dim, v) * 3
            return x.clone().index_add(dim, v, src)
        return x.masked_fill(x > 0, -1)
    # index_add/scatter_add sum duplicates in another order than torch: a few ulps
    check(data, device, run, [x], ulps=8, atol=1e-5, grad_ulps=8, grad_atol=1e-5)


def _unique_along(idx, dim):
    moved = np.moveaxis(idx, dim, 0)
    return all(len(set(col)) == len(col) for col in moved.reshape(moved.shape[0], -1).T)
