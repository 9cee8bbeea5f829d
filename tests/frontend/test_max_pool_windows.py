"""max_pool2d's backward writes each window's share straight into the gradient when windows
cannot overlap (stride >= the window's span) and sums shares where they can: both against
torch, with ties (the first maximum in the window takes the gradient) and dilation."""
from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

import plugrad
from plugrad.ops.pooling import windows_overlap

CASES = [(k, s, d, p) for k, s, d, p in itertools.product([2, 3, (2, 3)], [1, 2, 3, (3, 2)],
                                                           [1, 2], [0, 1])
         if 2 * p <= min(k if isinstance(k, tuple) else (k, k))]


def test_windows_overlap():
    assert not windows_overlap((2, 2), (2, 2), (1, 1))
    assert windows_overlap((3, 3), (2, 2), (1, 1))
    assert windows_overlap((2, 2), (2, 2), (2, 2))      # a dilated window spans 3
    assert not windows_overlap((2, 2), (3, 3), (2, 2))


@pytest.mark.parametrize("k,s,d,p", CASES)
def test_max_pool2d_gradient_matches_torch(k, s, d, p):
    x = np.random.default_rng(0).standard_normal((2, 3, 9, 10)).round(1)    # many ties
    got = []
    for lib in (torch, plugrad):
        t = lib.tensor(x, requires_grad=True)
        y = lib.nn.functional.max_pool2d(t, k, s, p, d)
        w = lib.tensor(np.random.default_rng(1).standard_normal(tuple(y.shape)))
        (y * w).sum().backward()
        got.append((y.detach().numpy(), t.grad.numpy()))
    np.testing.assert_array_equal(got[1][0], got[0][0])
    np.testing.assert_allclose(got[1][1], got[0][1], rtol=1e-12, atol=1e-12)
