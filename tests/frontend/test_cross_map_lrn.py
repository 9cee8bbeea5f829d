"""nn.CrossMapLRN2d against torch 2.13: its legacy forward window, its own backward formula
(not the forward's gradient), its errors and repr, on every device."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import plugrad


@pytest.mark.parametrize("channels", [1, 3, 7])
@pytest.mark.parametrize("size", [2, 3, 4, 5, 8])
def test_forward_and_backward_equal_torch(channels, size, device):
    rs = np.random.RandomState(size + channels)
    x, g = rs.randn(2, channels, 3, 4), rs.randn(2, channels, 3, 4)
    xt = torch.tensor(x, requires_grad=True)
    want = torch.nn.CrossMapLRN2d(size, 0.1, 0.75, 2.0)(xt)
    want.backward(torch.tensor(g))
    xp = plugrad.tensor(x, requires_grad=True, device=device)
    got = plugrad.nn.CrossMapLRN2d(size, 0.1, 0.75, 2.0)(xp)
    got.backward(plugrad.tensor(g, device=device))
    np.testing.assert_allclose(got.detach().cpu().numpy(), want.detach().numpy(), rtol=1e-12,
                               atol=1e-14)
    np.testing.assert_allclose(xp.grad.cpu().numpy(), xt.grad.numpy(), rtol=1e-12, atol=1e-14)


def test_defaults_float32_repr_and_errors(device):
    x = np.random.RandomState(0).randn(2, 6, 5, 5).astype(np.float32) * 3
    want = torch.nn.CrossMapLRN2d(3)(torch.tensor(x))
    layer = plugrad.nn.CrossMapLRN2d(3)
    got = layer(plugrad.tensor(x, device=device))
    np.testing.assert_allclose(got.cpu().numpy(), want.numpy(), rtol=1e-6, atol=1e-7)
    assert repr(layer) == repr(torch.nn.CrossMapLRN2d(3)) == \
        "CrossMapLRN2d(3, alpha=0.0001, beta=0.75, k=1)"
    with pytest.raises(ValueError, match="CrossMapLRN2d: Expected input to be 4D, got 3D"):
        layer(plugrad.ones(2, 3, 4, device=device))
    # size 1: torch's backward fails in its narrow (its forward works)
    xp = plugrad.tensor(x, requires_grad=True, device=device)
    out = plugrad.nn.CrossMapLRN2d(1)(xp)
    np.testing.assert_allclose(out.detach().cpu().numpy(),
                               torch.nn.CrossMapLRN2d(1)(torch.tensor(x)).numpy(), rtol=1e-6)
    with pytest.raises(RuntimeError, match=r"start \(1\) \+ length \(6\) exceeds dimension "
                                           r"size \(6\)"):
        out.sum().backward()
