"""Property-based tests of the contract's runtime, view and movement ops, per backend.

Views must hold the right values *and* share memory with their base whenever the layout
allows it (a write through the view reaches the base), since ``Tensor.view``, ``x[i] = v``
and every in-place op on a view rely on it. Runtime ops are checked against numpy: host
round trips of any host layout (negative strides included), ``assign`` into strided views,
``strides`` in elements, ``full``/``arange`` rounding, ``copy`` contiguity.
"""
from __future__ import annotations

import numpy as np
from fuzz_profiles import ALL, assert_same, build, fuzz, host, laid_out, supported, values
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from plugrad.plugins import get_registry

SHAPES = hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=4)
_KIND = {"b": bool, "u": int, "i": int, "f": float}


def _table(device):
    return get_registry().table(device)


def _dtype(data, table, op):
    return data.draw(st.sampled_from(supported(table, op, ALL)), label="dtype")


def _c_strides(shape):
    strides, step = [], 1
    for n in reversed(shape):
        strides.append(step)
        step *= max(n, 1)
    return tuple(reversed(strides))


def _writes_through(table, base, view, dtype):
    """True when assigning into ``view`` changes ``base`` (they share memory)."""
    before = host(table, base)
    first = host(table, view).flat[0]
    value = (not first) if dtype == "bool" else (0 if first == 1 else 1)
    table.assign(view, value)
    return not np.array_equal(host(table, base), before, equal_nan=dtype not in ("bool",)
                              and np.dtype(dtype).kind == "f")


@st.composite
def _reshape_target(draw, shape):
    """A shape with the same number of elements (sides regrouped, 1s inserted)."""
    size = int(np.prod(shape))
    if size == 0:
        return tuple(draw(st.permutations(shape))) + tuple(draw(st.lists(st.just(1),
                                                                          max_size=2)))
    factors, n, p = [], size, 2
    while n > 1:
        while n % p == 0:
            factors.append(p)
            n //= p
        p += 1
    factors = draw(st.permutations(factors))
    cuts = sorted(draw(st.sets(st.integers(1, max(1, len(factors) - 1)), max_size=3)))
    groups, start = [], 0
    for cut in cuts + [len(factors)]:
        if cut > start:
            groups.append(int(np.prod(factors[start:cut])))
            start = cut
    ones = draw(st.integers(0, 2))
    return tuple(groups) + (1,) * ones


@given(data=st.data())
@fuzz(scale=2)
def test_reshape_primitive(device, data):
    table = _table(device)
    dtype = _dtype(data, table, "reshape")
    x, layout = data.draw(laid_out(dtype, data.draw(SHAPES)))
    target = data.draw(_reshape_target(x.shape))
    buf = build(table, x, layout)
    out = table.reshape(buf, target)
    assert_same(host(table, out), x.reshape(target), what=f"reshape {x.shape}->{target}: ")
    if layout[0] == "contiguous" and x.size:
        # a contiguous buffer always reshapes to a view (numpy's and torch's rule)
        assert _writes_through(table, buf, out, dtype), "reshape of a contiguous buffer copied"


@given(data=st.data())
@fuzz(scale=2)
def test_permute_slice_expand_are_views(device, data):
    table = _table(device)
    dtype = _dtype(data, table, "permute")
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=4))
    x, layout = data.draw(laid_out(dtype, shape))
    assume(layout[0] != "expanded")          # expanded buffers are read-only
    buf = build(table, x, layout)
    perm = tuple(data.draw(st.permutations(range(x.ndim))))
    view = table.permute(buf, perm)
    assert_same(host(table, view), x.transpose(perm), what=f"permute{perm}: ")
    assert _writes_through(table, buf, view, dtype), "permute copied"
    x = host(table, buf)
    slices = []
    for n in x.shape:
        start = data.draw(st.integers(0, n))
        slices.append((start, data.draw(st.integers(start, n)), data.draw(st.integers(1, 3))))
    view = table.slice(buf, slices)
    want = x[tuple(slice(a, b, s) for a, b, s in slices)]
    assert_same(host(table, view), want, what=f"slice{slices}: ")
    if want.size:
        assert _writes_through(table, buf, view, dtype), "slice copied"
    x = host(table, buf)
    target = tuple(data.draw(st.integers(0, 3)) if n == 1 else n for n in x.shape)
    assert_same(host(table, table.expand(buf, target)), np.broadcast_to(x, target),
                what=f"expand{target}: ")
    strides = table.strides(table.expand(buf, target))
    for axis, (n, m) in enumerate(zip(x.shape, target)):
        if n == 1 and m > 1:
            assert strides[axis] == 0, f"expanded axis {axis} has stride {strides[axis]}"


@given(data=st.data())
@fuzz(scale=2)
def test_strides_in_elements(device, data):
    table = _table(device)
    dtype = _dtype(data, table, "strides")
    x, layout = data.draw(laid_out(dtype, data.draw(SHAPES)))
    buf = build(table, x, layout)
    kind, arg = layout
    if kind == "contiguous" or x.ndim == 0:
        want = _c_strides(x.shape)
    elif kind == "permuted":
        base = _c_strides(tuple(x.shape[i] for i in np.argsort(arg)))
        want = tuple(base[a] for a in arg)
    elif kind == "stepped":
        want = tuple(2 * s for s in _c_strides(tuple(2 * n + 1 for n in x.shape)))
    else:
        base = _c_strides(tuple(1 if b else n for b, n in zip(arg, x.shape)))
        want = tuple(0 if b and n != 1 else s for b, n, s in zip(arg, x.shape, base))
    got = tuple(table.strides(buf))
    assert len(got) == x.ndim
    for axis, n in enumerate(x.shape):  # a stride of a side-1 or empty axis is never read
        if n > 1 and x.size:
            assert got[axis] == want[axis], f"{layout}: strides {got}, expected {want}"
    copy = table.copy(buf)
    assert_same(host(table, copy), x, what="copy: ")
    assert x.size == 0 or all(got == want or n <= 1 for got, want, n in zip(
        table.strides(copy), _c_strides(x.shape), x.shape)), "copy not contiguous"


@st.composite
def _host_layout(draw, x):
    """x as a numpy array of another layout: transposed, stepped, reversed (negative stride)."""
    kind = draw(st.sampled_from(["c", "f", "reversed", "stepped"])) if x.ndim else "c"
    if kind == "f":
        return np.asfortranarray(x)
    if kind == "reversed":
        return np.flip(np.flip(x, 0).copy(), 0)
    if kind == "stepped":
        big = np.repeat(x, 2, axis=0)
        return big[::2]
    return x


@given(data=st.data())
@fuzz(scale=2)
def test_host_round_trip_full_arange(device, data):
    table = _table(device)
    dtype = _dtype(data, table, "from_host")
    x = data.draw(hnp.arrays(np.dtype(dtype), data.draw(SHAPES), elements=values(dtype)))
    src = data.draw(_host_layout(x))
    assert_same(host(table, table.from_host(src)), x, what=f"from_host/to_host {dtype}: ")
    shape = data.draw(SHAPES)
    value = _KIND[np.dtype(dtype).kind](data.draw(values(dtype)))
    assert_same(host(table, table.full(shape, value, dtype)), np.full(shape, value, dtype),
                what=f"full({value!r}) {dtype}: ")
    empty = table.empty(shape, dtype)
    assert tuple(host(table, empty).shape) == tuple(shape)
    assert host(table, empty).dtype == np.dtype(dtype)
    assume(dtype != "bool")
    n = data.draw(st.integers(0, 50))
    if np.dtype(dtype).kind == "f":
        start, step = data.draw(st.floats(-100, 100)), data.draw(st.floats(-10, 10))
        steps = np.arange(n, dtype=np.float64) * step
        want = (start + steps).astype(dtype)
        # start + i*step rounded once (a fused multiply-add) or twice, or torch's per-block
        # base + step: all within an ulp of each term
        atol = 2 * np.finfo(np.float64).eps * (abs(start) + np.abs(steps))
        ulps = 1
    else:
        info = np.iinfo(dtype)
        start = data.draw(st.integers(max(int(info.min), -100), min(int(info.max), 100)))
        step = data.draw(st.integers(-3, 3))
        assume(step != 0 or n == 0)
        want = np.array([start + i * step for i in range(n)], np.int64)
        assume(want.size == 0 or (want.min() >= info.min and want.max() <= info.max))
        want, ulps, atol = want.astype(dtype), 0, 0.0
    assert_same(host(table, table.arange(start, step, n, dtype)), want, ulps=ulps, atol=atol,
                what=f"arange({start}, {step}, {n}) {dtype}: ")


@given(data=st.data())
@fuzz(scale=2)
def test_assign_into_strided_view(device, data):
    """assign writes exactly the view's elements (a stepped, maybe permuted slice)."""
    table = _table(device)
    dtype = _dtype(data, table, "assign")
    shape = data.draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4))
    base = data.draw(hnp.arrays(np.dtype(dtype), tuple(2 * n + 1 for n in shape),
                                elements=values(dtype)))
    region = tuple(slice(1, 2 * n + 1, 2) for n in shape)
    buf = table.from_host(base)
    view = table.slice(buf, [(1, 2 * n + 1, 2) for n in shape])
    perm = tuple(data.draw(st.permutations(range(len(shape)))))
    view = table.permute(view, perm)
    shape = tuple(shape[p] for p in perm)
    if data.draw(st.booleans()):
        src = value = _KIND[np.dtype(dtype).kind](data.draw(values(dtype)))
    else:
        src_shape = data.draw(hnp.broadcastable_shapes(shape, max_dims=len(shape), min_side=0))
        assume(np.broadcast_shapes(src_shape, shape) == tuple(shape))
        value, layout = data.draw(laid_out(dtype, src_shape))
        src = build(table, value, layout)
    assert table.assign(view, src) is None
    want = np.broadcast_to(np.asarray(value, dtype), shape)
    assert_same(host(table, view), want, what="assign: the view ")
    mask = np.ones(base.shape, bool)
    mask[region] = False
    assert_same(host(table, buf)[mask], base[mask], what="assign wrote outside the view: ")


@given(data=st.data())
@fuzz(scale=2)
def test_flip_pad_concat(device, data):
    table = _table(device)
    dtype = _dtype(data, table, "flip")
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=4, min_side=0, max_side=4))
    x, layout = data.draw(laid_out(dtype, shape))
    buf = build(table, x, layout)
    axes = tuple(sorted(data.draw(st.sets(st.integers(0, x.ndim - 1), min_size=1))))
    assert_same(host(table, table.flip(buf, axes)), np.flip(x, axes), what=f"flip{axes}: ")
    pads = [(data.draw(st.integers(0, 2)), data.draw(st.integers(0, 2))) for _ in shape]
    value = _KIND[np.dtype(dtype).kind](data.draw(values(dtype)))
    assert_same(host(table, table.pad(buf, pads, value)),
                np.pad(x, pads, constant_values=np.asarray(value, dtype)),
                what=f"pad{pads}: ")
    axis = data.draw(st.integers(0, x.ndim - 1))
    parts, bufs = [x], [buf]
    for _ in range(data.draw(st.integers(0, 3))):
        side = list(x.shape)
        side[axis] = data.draw(st.integers(0, 3))
        part, lay = data.draw(laid_out(dtype, tuple(side)))
        parts.append(part)
        bufs.append(build(table, part, lay))
    assert_same(host(table, table.concat(bufs, axis)), np.concatenate(parts, axis),
                what=f"concat(axis={axis}): ")
    assert_same(host(table, buf), x, what="flip/pad/concat changed an input: ")
