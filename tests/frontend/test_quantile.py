"""quantile / nanquantile against torch: every interpolation, dims, keepdim, q as scalar and
1-d tensor, nan slices, out=, gradients, errors."""
import itertools

import numpy as np
import pytest
import torch

import plugrad

RNG = np.random.default_rng(0)
DATA = RNG.normal(size=(3, 4, 7)).astype(np.float32)
DATA[0, 1, 2] = np.nan
DATA[1, 2, :] = np.nan


@pytest.mark.parametrize("name", ["quantile", "nanquantile"])
def test_values_match_torch(device, name):
    x, t = plugrad.tensor(DATA, device=device), torch.tensor(DATA)
    for q, dim, keepdim, interp in itertools.product(
            (0.0, 0.37, 1.0, [0.1, 0.5, 0.9]), (None, 0, -1), (False, True),
            ("linear", "lower", "higher", "midpoint", "nearest")):
        tq = torch.tensor(q) if isinstance(q, list) else q
        pq = plugrad.tensor(q, device=device) if isinstance(q, list) else q
        want = getattr(torch, name)(t, tq, dim, keepdim, interpolation=interp).numpy()
        got = getattr(plugrad, name)(x, pq, dim, keepdim, interpolation=interp)
        assert got.shape == want.shape
        np.testing.assert_allclose(got.cpu().numpy(), want, rtol=1e-6, atol=1e-7,
                                   equal_nan=True)
    method = getattr(x, name)(0.25, dim=1)
    np.testing.assert_allclose(method.cpu().numpy(), getattr(t, name)(0.25, dim=1).numpy(),
                               rtol=1e-6, atol=1e-7, equal_nan=True)
    out = plugrad.empty(3, 7, device=device)
    assert getattr(plugrad, name)(x, 0.5, 1, out=out) is out


def test_gradient_matches_torch(device):
    data = RNG.normal(size=(4, 9))
    x = plugrad.tensor(data, device=device, requires_grad=True)
    t = torch.tensor(data, requires_grad=True)
    for interp in ("linear", "midpoint", "nearest"):
        plugrad.quantile(x, plugrad.tensor([0.2, 0.7], dtype=plugrad.float64, device=device),
                         dim=1, interpolation=interp).sum().backward()
        torch.quantile(t, torch.tensor([0.2, 0.7], dtype=torch.float64), dim=1,
                       interpolation=interp).sum().backward()
        np.testing.assert_allclose(x.grad.cpu().numpy(), t.grad.numpy(), rtol=1e-12)
        x.grad = None
        t.grad = None


def test_errors(device):
    x = plugrad.tensor([[1.0, 2.0]], device=device)
    cases = [((plugrad.tensor([], device=device), 0.5), "must be non-empty"),
             ((x, 1.5), r"q must be in the range \[0, 1\] but got 1.5"),
             ((plugrad.tensor([1, 2], device=device), 0.5), "either float or double"),
             ((x, plugrad.tensor([0.5], dtype=plugrad.float64, device=device)), "same dtype"),
             ((x, plugrad.ones(1, 1, device=device)), "scalar or 1D tensor"),
             ((x, plugrad.tensor([0.5, 2.0], device=device)), r"range \[0, 1\]")]
    for args, msg in cases:
        with pytest.raises(RuntimeError, match=msg):
            plugrad.quantile(*args)
    with pytest.raises(RuntimeError, match="interpolation must be one of"):
        plugrad.quantile(x, 0.5, interpolation="cubic")
