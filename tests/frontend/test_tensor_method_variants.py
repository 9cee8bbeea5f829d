"""Tensor methods torch has for ops plugrad already had as functions (issue 11: dir(Tensor)
comparison): the in-place forms (``x.cumsum_(0)``, ``x.hypot_(y)``, ``m.addmm_(a, b)``, ...)
and ``Tensor.multinomial``, against torch 2.13: values, the same object back, gradients
through the in-place write, and torch's dtype error."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import plugrad

RS = np.random.RandomState(0)
A = RS.randn(4, 5)
B = RS.randn(4, 5)
M = RS.randn(4, 3)
N = RS.randn(3, 5)

CASES = {
    "cumsum_": lambda L, x, y: x.cumsum_(1),
    "cumprod_": lambda L, x, y: x.cumprod_(0),
    "copysign_": lambda L, x, y: x.copysign_(y),
    "hypot_": lambda L, x, y: x.hypot_(y),
    "heaviside_": lambda L, x, y: x.heaviside_(y),
    "deg2rad_": lambda L, x, y: x.deg2rad_(),
    "rad2deg_": lambda L, x, y: x.rad2deg_(),
    "exp2_": lambda L, x, y: x.exp2_(),
    "sgn_": lambda L, x, y: x.sgn_(),
    "nan_to_num_": lambda L, x, y: x.div_(0).nan_to_num_(posinf=7.0, neginf=-7.0),
    "addmm_": lambda L, x, y: x.addmm_(L.tensor(M, dtype=x.dtype),
                                       L.tensor(N, dtype=x.dtype), beta=0.5, alpha=2),
    "addmv_": lambda L, x, y: x[0].addmv_(L.tensor(N.T, dtype=x.dtype),
                                          L.tensor(M[0], dtype=x.dtype)),
    "baddbmm_": lambda L, x, y: x.unsqueeze(0).baddbmm_(
        L.tensor(M[None], dtype=x.dtype), L.tensor(N[None], dtype=x.dtype)),
    "masked_scatter_": lambda L, x, y: x.masked_scatter_(y > 0, L.tensor(A * 10, dtype=x.dtype)),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_in_place_methods_equal_torch(case, device):
    t, tt = torch.tensor(A), torch.tensor(B)
    p, pp = plugrad.tensor(A, device=device), plugrad.tensor(B, device=device)
    if case == "nan_to_num_":
        t[0, 0] = p[0, 0] = 0.0
    want = CASES[case](torch, t, tt)
    with plugrad.device(device):
        got = CASES[case](plugrad, p, pp)
    np.testing.assert_allclose(got.cpu().numpy(), want.numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(p.cpu().numpy(), t.numpy(), rtol=1e-12, atol=1e-14)


def test_gradients_flow_through_the_in_place_write():
    for L in (torch, plugrad):
        leaf = L.tensor(A, requires_grad=True)
        x = leaf * 1.0
        x.cumsum_(1).hypot_(L.tensor(B))
        x.sum().backward()
        if L is torch:
            want = leaf.grad.numpy()
    np.testing.assert_allclose(leaf.grad.numpy(), want, rtol=1e-12)


def test_integer_results_cannot_be_written_in_place():
    for L in (torch, plugrad):
        with pytest.raises(RuntimeError, match="result type Float can't be cast to the desired "
                                               "output type Long"):
            L.arange(4).exp2_()


def test_multinomial_method_equals_torch():
    probs = np.abs(RS.randn(3, 6)) + 0.1
    torch.manual_seed(4)
    plugrad.manual_seed(4)
    want = torch.tensor(probs).multinomial(4, replacement=True)
    got = plugrad.tensor(probs).multinomial(4, replacement=True)
    assert got.dtype is plugrad.int64 and tuple(got.shape) == (3, 4)
    np.testing.assert_array_equal(got.numpy(), want.numpy())
