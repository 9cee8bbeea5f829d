"""Exact gelu through the optional ``gelu``/``gelu_backward`` kernels (one node, erf once a
step), and the composition a backend without them still gets: same values as torch either
way, double backward through frontend ops, torch's saved-tensor version check."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import plugrad
from kernel_backends import kernel_device, registered, without
TOL = {"float32": dict(rtol=1e-5, atol=1e-6), "float64": dict(rtol=1e-12, atol=1e-14)}


# cpu runs numba's kernels where numba is installed; "numpy" is the pure numpy pair
@pytest.fixture(params=["cpu", "numpy", "without-both", "without-backward"])
def gelu_device(request):
    yield from kernel_device(request.param, "gelu", "gelu_backward")


def _inputs(dtype):
    x = np.random.default_rng(0).standard_normal((37, 21)) * 3
    x[0, :6] = (0.0, -0.0, 12.0, -12.0, 1e-30, -40.0)
    g = np.random.default_rng(1).standard_normal(x.shape)
    return x.astype(dtype), g.astype(dtype)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_values_and_gradient_equal_torchs(gelu_device, dtype):
    x, g = _inputs(dtype)
    xp = plugrad.tensor(x, device=gelu_device, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    yp, yt = plugrad.nn.functional.gelu(xp), torch.nn.functional.gelu(xt)
    yp.backward(plugrad.tensor(g, device=gelu_device))
    yt.backward(torch.tensor(g))
    assert yp.grad_fn is None or yp.grad_fn.name() == "GeluBackward0"
    np.testing.assert_allclose(yp.detach().cpu().numpy(), yt.detach().numpy(), **TOL[dtype])
    np.testing.assert_allclose(xp.grad.cpu().numpy(), xt.grad.numpy(), **TOL[dtype])


def test_the_cpu_backend_has_the_kernel_pair_and_a_backend_without_it_composes():
    assert plugrad.zeros(1)._device.ops.gelu is not None
    cls = without("gelu", "gelu_backward")
    with registered(lambda name: cls(np, name), "gelu") as name:
        x = plugrad.randn(5, device=name, requires_grad=True)
        y = plugrad.nn.functional.gelu(x)
        assert x._device.ops.gelu is None and y.grad_fn.name() == "GeluBackward0"
        y.sum().backward()
        assert x.grad.shape == (5,)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_double_backward_equals_torchs(gelu_device, dtype):
    x, g = _inputs(dtype)
    x = x[:4, :5]
    xp = plugrad.tensor(x, device=gelu_device, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    gp, = plugrad.autograd.grad(plugrad.nn.functional.gelu(xp).sum(), xp, create_graph=True)
    gt, = torch.autograd.grad(torch.nn.functional.gelu(xt).sum(), xt, create_graph=True)
    np.testing.assert_allclose(gp.detach().cpu().numpy(), gt.detach().numpy(), **TOL[dtype])
    (gp * gp).sum().backward()
    (gt * gt).sum().backward()
    np.testing.assert_allclose(xp.grad.cpu().numpy(), xt.grad.numpy(), **TOL[dtype])


def test_no_grad_and_0d():
    with plugrad.no_grad():
        y = plugrad.nn.functional.gelu(plugrad.tensor(1.5, requires_grad=True))
    assert y.grad_fn is None and y.shape == ()
    assert y.item() == pytest.approx(torch.nn.functional.gelu(torch.tensor(1.5)).item())


def test_input_modified_in_place_after_gelu_fails_backward_as_torch():
    for lib in (plugrad, torch):
        x = lib.randn(4, requires_grad=True)
        h = x * 1.0
        y = lib.nn.functional.gelu(h)
        h.add_(1)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.sum().backward()


def test_half_still_computed_in_float32():
    x = np.linspace(-4, 4, 33).astype(np.float16)
    got = plugrad.nn.functional.gelu(plugrad.tensor(x)).numpy()
    want = torch.nn.functional.gelu(torch.tensor(x)).numpy()
    assert got.dtype == np.float16                      # within an ulp of half (1 + erf cancels)
    np.testing.assert_allclose(got.astype(np.float64), want.astype(np.float64), rtol=1e-3,
                               atol=1e-6)
