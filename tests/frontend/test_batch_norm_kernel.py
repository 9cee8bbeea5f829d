"""Training-mode batch norm through the optional ``batch_norm``/``batch_norm_backward``
kernels (one node instead of ~15), and the composition a backend without them still gets:
outputs, gradients and running statistics as torch's either way, double backward through
frontend ops."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import plugrad
from kernel_backends import kernel_device
TOL = {"float32": dict(rtol=2e-4, atol=2e-5), "float64": dict(rtol=1e-10, atol=1e-12)}


@pytest.fixture(params=["cpu", "without-both", "without-backward"])
def bn_device(request):
    yield from kernel_device(request.param, "batch_norm", "batch_norm_backward")


def _run(lib, device, x, g, affine, dtype, create_graph=False):
    bn = (lib.nn.BatchNorm2d if x.ndim == 4 else lib.nn.BatchNorm1d)(
        x.shape[1], affine=affine, dtype=getattr(lib, dtype))
    if affine:
        with lib.no_grad():
            c = x.shape[1]
            bn.weight.copy_(lib.tensor(np.linspace(0.5, 1.5, c).astype(dtype)))
            bn.bias.copy_(lib.tensor(np.linspace(-1, 1, c).astype(dtype)))
    bn = bn.to(device)
    x = lib.tensor(x, device=device, requires_grad=True)
    y = bn(x)
    params = list(bn.parameters())
    grads = lib.autograd.grad((y * lib.tensor(g, device=device)).sum(), [x] + params,
                              create_graph=create_graph)
    out = [y] + list(grads) + [bn.running_mean, bn.running_var]
    if create_graph:
        out += list(lib.autograd.grad(sum((gr * gr).sum() for gr in grads), [x] + params,
                                      allow_unused=True))
    return [None if t is None else t.detach().cpu().numpy() for t in out]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape,affine", [((6, 3, 5, 4), True), ((6, 3, 5, 4), False),
                                          ((7, 5), True)])
def test_values_gradients_and_running_stats_equal_torchs(bn_device, dtype, shape, affine):
    x = (np.random.default_rng(0).standard_normal(shape) * 2 + 1).astype(dtype)
    g = np.random.default_rng(1).standard_normal(shape).astype(dtype)
    got = _run(plugrad, bn_device, x, g, affine, dtype)
    want = _run(torch, "cpu", x, g, affine, dtype)
    for a, b in zip(got, want, strict=True):
        np.testing.assert_allclose(a, b, **TOL[dtype])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_double_backward_equals_torchs(bn_device, dtype):
    x = (np.random.default_rng(2).standard_normal((5, 3, 2, 2)) + 0.5).astype(dtype)
    g = np.random.default_rng(3).standard_normal(x.shape).astype(dtype)
    got = _run(plugrad, bn_device, x, g, True, dtype, create_graph=True)
    want = _run(torch, "cpu", x, g, True, dtype, create_graph=True)
    assert [a is None for a in got] == [b is None for b in want]
    for a, b in zip(got, want, strict=True):
        if a is not None:
            np.testing.assert_allclose(a, b, rtol=2e-3 if dtype == "float32" else 1e-9,
                                       atol=1e-4 if dtype == "float32" else 1e-11)


def test_the_kernel_is_used_on_cpu_and_eval_mode_composes():
    bn = plugrad.nn.BatchNorm2d(3)
    x = plugrad.randn(4, 3, 2, 2, requires_grad=True)
    assert x._device.ops.batch_norm is not None
    assert bn(x).grad_fn.name() == "NativeBatchNormBackward0"
    bn.eval()
    assert bn(x).grad_fn.name() == "NativeBatchNormBackward0"


def test_input_modified_in_place_fails_backward_as_torch():
    for lib in (plugrad, torch):
        x = lib.randn(4, 3, requires_grad=True)
        h = x * 1.0
        y = lib.nn.functional.batch_norm(h, None, None, training=True)
        h.add_(1)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.sum().backward()
