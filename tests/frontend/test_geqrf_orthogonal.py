"""torch.geqrf / orgqr (LAPACK's compact QR, composed from Householder steps) and
nn.utils.parametrizations.orthogonal(use_trivialization=False), against torch 2.13."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import plugrad


@pytest.mark.parametrize("shape", [(5, 3), (3, 5), (4, 4), (2, 6, 4), (1, 1), (4, 1), (3, 0)])
def test_geqrf_equals_lapack(shape, device):
    x = np.random.RandomState(len(shape) + shape[-1]).randn(*shape)
    want = torch.geqrf(torch.tensor(x))
    got = plugrad.geqrf(plugrad.tensor(x, device=device))
    assert type(got).__name__ == "geqrf" and got._fields == ("a", "tau")
    np.testing.assert_allclose(got.a.cpu().numpy(), want.a.numpy(), atol=1e-13)
    np.testing.assert_allclose(got.tau.cpu().numpy(), want.tau.numpy(), atol=1e-13)
    if shape[-2] >= shape[-1]:
        q = plugrad.orgqr(*got)
        np.testing.assert_allclose(q.cpu().numpy(), torch.orgqr(*want).numpy(), atol=1e-13)


def test_geqrf_skipped_reflections_errors_and_no_gradient():
    z = np.zeros((3, 3))
    z[0, 0], z[1, 1] = 1.0, 2.0                 # columns already zero below the diagonal
    want, got = torch.geqrf(torch.tensor(z)), plugrad.geqrf(plugrad.tensor(z))
    np.testing.assert_array_equal(got.a.numpy(), want.a.numpy())
    np.testing.assert_array_equal(got.tau.numpy(), want.tau.numpy())
    x = plugrad.randn(3, 3, requires_grad=True)
    a, tau = plugrad.geqrf(x)
    assert type(a.grad_fn).__name__ == "GeqrfBackward0"
    with pytest.raises(NotImplementedError, match="the derivative for 'geqrf' is not "
                                                  "implemented."):
        a.sum().backward()
    with pytest.raises(RuntimeError, match="torch.geqrf: input must have at least 2 dim"):
        plugrad.geqrf(plugrad.ones(3))
    with pytest.raises(NotImplementedError, match="\"geqrf_cpu\" not implemented for 'Long'"):
        plugrad.geqrf(plugrad.ones(3, 3, dtype=plugrad.long))


def _orthogonal_run(L, shape, orthogonal_map, device="cpu"):
    L.manual_seed(0)
    lin = L.nn.Linear(shape[1], shape[0], dtype=L.float64)
    with L.no_grad():
        lin.weight.copy_(L.tensor(np.random.RandomState(1).randn(*shape)))
    if L is plugrad:
        lin = lin.to(device)
    L.nn.utils.parametrizations.orthogonal(lin, orthogonal_map=orthogonal_map,
                                           use_trivialization=False)
    x = L.tensor(np.random.RandomState(2).randn(2, shape[1]), device=device) if L is plugrad \
        else L.tensor(np.random.RandomState(2).randn(2, shape[1]))
    lin(x).pow(2).sum().backward()
    orig = lin.parametrizations.weight.original
    return lin, [lin.weight.detach(), orig.grad, orig.detach()]


@pytest.mark.parametrize("orthogonal_map", ["householder", "matrix_exp", "cayley", None])
@pytest.mark.parametrize("shape", [(5, 3), (3, 5), (4, 4)])
def test_orthogonal_without_trivialization_equals_torch(shape, orthogonal_map, device):
    tlin, want = _orthogonal_run(torch, shape, orthogonal_map)
    plin, got = _orthogonal_run(plugrad, shape, orthogonal_map, device)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g.cpu().numpy(), w.numpy(), atol=1e-12)
    assert "base" not in dict(plin.parametrizations.weight[0].named_buffers())
    w = plin.weight.detach()
    np.testing.assert_allclose((w @ w.mT if shape[0] < shape[1] else w.mT @ w).cpu().numpy(),
                               np.eye(min(shape)), atol=1e-12)
    # assigning: the Householder map is inverted (through geqrf); the others cannot be
    q = torch.linalg.qr(torch.tensor(np.random.RandomState(3).randn(*shape[::-1]))).Q.mT \
        if shape[0] < shape[1] else torch.linalg.qr(torch.tensor(
            np.random.RandomState(3).randn(*shape))).Q
    if orthogonal_map in ("matrix_exp", "cayley") or (orthogonal_map is None and
                                                      shape[0] == shape[1]):
        for lin in (tlin, plin):
            with pytest.raises(NotImplementedError, match="use_trivialization=False"):
                lin.weight = (plugrad if lin is plin else torch).tensor(q.numpy()).to(
                    lin.weight.device)
    else:
        tlin.weight = q
        plin.weight = plugrad.tensor(q.numpy(), device=device)
        np.testing.assert_allclose(plin.parametrizations.weight.original.detach().cpu().numpy(),
                                   tlin.parametrizations.weight.original.detach().numpy(),
                                   atol=1e-12)
        np.testing.assert_allclose(plin.weight.detach().cpu().numpy(), q.numpy(), atol=1e-12)
