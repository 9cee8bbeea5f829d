"""The numpy backend's branchless ``where`` (large arrays) is bit-identical to np.where."""
from __future__ import annotations

import numpy as np
import pytest

import plugrad


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "int64", "int32", "int16",
                                   "uint8"])
def test_where_bit_identical_to_numpy(dtype):
    ops = plugrad.tensor(0.0).device.ops
    rng = np.random.default_rng(0)
    shape = (70, 80)                       # 5600 elements: above the blend threshold
    a = (rng.standard_normal(shape) * 50).astype(dtype)
    b = (rng.standard_normal(shape) * 50).astype(dtype)
    if dtype.startswith("float"):
        a[0, :4] = [np.nan, -np.inf, -0.0, np.inf]
    cond = rng.random(shape) > 0.5
    one = np.array(1, dtype=dtype)[()]
    cases = [(cond, np.array(0, dtype=dtype)[()], a), (cond, a, 0), (cond, a, b), (cond, one, b),
             (cond, b, one), (cond, a, b[:1]), (cond[0], a, b), (cond[:1, :1], a, b)]
    if dtype.startswith("float"):
        cases.append((cond, -0.0, a))
    for args in cases:
        expected = np.where(*args)
        got = ops.where(*args)
        assert got.dtype == expected.dtype and got.shape == expected.shape
        u = f"u{got.dtype.itemsize}"
        np.testing.assert_array_equal(got.view(u), expected.view(u))
    out = np.empty(shape, dtype)
    assert ops.where(cond, a, b, out=out) is out
    np.testing.assert_array_equal(out, np.where(cond, a, b))
