"""The array-module conv kernels (im2col + GEMM per batch chunk) against torch.

Each path is forced: the NCHW and channels-last column copies, the transposed-conv and
col2im input gradients, and batch chunks of one image, a few images, or the whole batch.
Random shapes cover stride, padding (also wider than the kernel), dilation and groups.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch.nn.grad import conv2d_input, conv2d_weight

from plugrad.plugins import get_registry


def _cases(count, seed):
    rng = np.random.default_rng(seed)
    cases = []
    while len(cases) < count:
        groups = int(rng.choice([1, 1, 2, 3]))
        cg, og = int(rng.choice([1, 2, 3, 9, 17])), int(rng.integers(1, 4))
        n, h, w = int(rng.integers(1, 6)), int(rng.integers(1, 9)), int(rng.integers(1, 9))
        k = tuple(int(v) for v in rng.integers(1, 4, 2))
        s = tuple(int(v) for v in rng.integers(1, 4, 2))
        d = tuple(int(v) for v in rng.integers(1, 3, 2))
        p = tuple(int(v) for v in rng.integers(0, 3, 2))
        if h + 2 * p[0] < d[0] * (k[0] - 1) + 1 or w + 2 * p[1] < d[1] * (k[1] - 1) + 1:
            continue
        cases.append(((n, cg * groups, h, w), (og * groups, cg) + k, s, p, d, groups))
    return cases


@pytest.fixture
def kernels(device):
    table = get_registry().table(device)
    impl = table.impl
    if not hasattr(impl, "_conv_budget"):
        pytest.skip(f"{device} has its own conv kernels (not the array-module ones)")
    yield table, impl
    impl._conv_budget = None


@pytest.mark.parametrize("budget", [1, 500, 1 << 40], ids=["chunk1", "chunks", "whole"])
def test_conv_kernels_match_torch(kernels, budget):
    table, impl = kernels
    impl._conv_budget = budget
    rng = np.random.default_rng(budget)
    seen = set()
    for xs, ws, s, p, d, g in _cases(60, 0):
        x, w = rng.standard_normal(xs), rng.standard_normal(ws)
        if xs[0] > 1:
            x = x[::-1].copy()[::-1]      # a negatively-strided input
        tx, tw = torch.tensor(x.copy()), torch.tensor(w)
        want = F.conv2d(tx, tw, None, s, p, d, g)
        gy = rng.standard_normal(want.shape)
        seen.add(impl._channels_last(xs[1], ws[3], want.shape[3], g))
        got = table.to_host(table.conv2d(table.from_host(x), table.from_host(w), s, p, d, g))
        np.testing.assert_allclose(got, want.numpy(), rtol=1e-9, atol=1e-9)
        dx = table.to_host(table.conv2d_input_grad(table.from_host(gy), table.from_host(w), xs,
                                                   s, p, d, g))
        np.testing.assert_allclose(dx, conv2d_input(xs, tw, torch.tensor(gy), s, p, d, g),
                                   rtol=1e-9, atol=1e-9)
        dw = table.to_host(table.conv2d_weight_grad(table.from_host(x), table.from_host(gy), ws,
                                                    s, p, d, g))
        np.testing.assert_allclose(dw, conv2d_weight(tx, ws, torch.tensor(gy), s, p, d, g),
                                   rtol=1e-9, atol=1e-9)
    assert seen == {True, False}, "both column layouts must be exercised"


def test_conv_float32_layer_matches_torch(device):
    """A CNN-sized float32 layer (channels-last path) forward and backward through nn."""
    import plugrad
    rng = np.random.default_rng(3)
    x = rng.standard_normal((8, 16, 8, 8), dtype=np.float32)
    w = rng.standard_normal((32, 16, 3, 3), dtype=np.float32)
    b = rng.standard_normal(32, dtype=np.float32)
    outs = []
    for lib, dev in ((torch, "cpu"), (plugrad, device)):
        tx, tw, tb = (lib.tensor(a, device=dev, requires_grad=True) for a in (x, w, b))
        y = lib.nn.functional.conv2d(tx, tw, tb, padding=1)
        (y * y).sum().backward()
        outs.append([t.detach().cpu().numpy() for t in (y, tx.grad, tw.grad, tb.grad)])
    for want, got in zip(*outs):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-3)
