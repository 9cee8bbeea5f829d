"""Layer norm through the optional ``layer_norm``/``layer_norm_backward`` kernels (one node
instead of ~15), and the composition a backend without them still gets: values and
gradients as torch's either way, double backward through frontend ops."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import plugrad
from kernel_backends import kernel_device
TOL = {"float32": dict(rtol=2e-4, atol=2e-5), "float64": dict(rtol=1e-10, atol=1e-12)}


# cpu runs numba's kernels where numba is installed; "numpy" is the pure numpy pair
@pytest.fixture(params=["cpu", "numpy", "without-both", "without-backward"])
def ln_device(request):
    yield from kernel_device(request.param, "layer_norm", "layer_norm_backward")


def _run(lib, device, x, g, shape, affine, bias, dtype, create_graph=False):
    ln = lib.nn.LayerNorm(shape, elementwise_affine=affine, bias=bias,
                          dtype=getattr(lib, dtype))
    if affine:
        with lib.no_grad():
            k = ln.weight.numel()
            ln.weight.copy_(lib.tensor(np.linspace(0.5, 1.5, k).reshape(shape).astype(dtype)))
            if bias:
                ln.bias.copy_(lib.tensor(np.linspace(-1, 1, k).reshape(shape).astype(dtype)))
    ln = ln.to(device)
    x = lib.tensor(x, device=device, requires_grad=True)
    y = ln(x)
    params = list(ln.parameters())
    grads = lib.autograd.grad((y * lib.tensor(g, device=device)).sum(), [x] + params,
                              create_graph=create_graph)
    out = [y] + list(grads)
    if create_graph:
        # the bias enters no gradient: unused (None) in both
        out += list(lib.autograd.grad(sum((gr * gr).sum() for gr in grads), [x] + params,
                                      allow_unused=True))
    return [None if t is None else t.detach().cpu().numpy() for t in out]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape,affine,bias", [((16,), True, True), ((5, 16), True, True),
                                               ((16,), False, False), ((16,), True, False)])
def test_values_and_gradients_equal_torchs(ln_device, dtype, shape, affine, bias):
    x = (np.random.default_rng(0).standard_normal((6, 5, 16)) * 2 + 1).astype(dtype)
    g = np.random.default_rng(1).standard_normal(x.shape).astype(dtype)
    got = _run(plugrad, ln_device, x, g, shape, affine, bias, dtype)
    want = _run(torch, "cpu", x, g, shape, affine, bias, dtype)
    for a, b in zip(got, want, strict=True):
        np.testing.assert_allclose(a, b, **TOL[dtype])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_double_backward_equals_torchs(ln_device, dtype):
    x = (np.random.default_rng(2).standard_normal((4, 8)) + 0.5).astype(dtype)
    g = np.random.default_rng(3).standard_normal(x.shape).astype(dtype)
    got = _run(plugrad, ln_device, x, g, (8,), True, True, dtype, create_graph=True)
    want = _run(torch, "cpu", x, g, (8,), True, True, dtype, create_graph=True)
    assert [a is None for a in got] == [b is None for b in want]
    for a, b in zip(got, want, strict=True):
        if a is None:
            continue
        np.testing.assert_allclose(a, b, rtol=2e-3 if dtype == "float32" else 1e-9, atol=1e-4
                                   if dtype == "float32" else 1e-11)


def test_grad_fn_name_and_the_kernel_is_used_on_cpu():
    x = plugrad.randn(3, 4, requires_grad=True)
    y = plugrad.nn.functional.layer_norm(x, (4,))
    assert x._device.ops.layer_norm is not None
    assert y.grad_fn.name() == "NativeLayerNormBackward0"
    assert y.grad_fn.next_functions[0][0].__class__.__name__ == "AccumulateGrad"


def test_empty_rows_and_half_still_work():
    for lib in (plugrad, torch):
        assert lib.nn.functional.layer_norm(lib.zeros(0, 4), (4,)).shape == (0, 4)
    x = np.linspace(-3, 3, 24).reshape(3, 8).astype(np.float16)
    got = plugrad.nn.functional.layer_norm(plugrad.tensor(x), (8,)).numpy()
    want = torch.nn.functional.layer_norm(torch.tensor(x), (8,)).numpy()
    np.testing.assert_allclose(got.astype(np.float64), want.astype(np.float64), rtol=2e-3,
                               atol=2e-3)


def test_input_modified_in_place_fails_backward_as_torch():
    for lib in (plugrad, torch):
        x = lib.randn(3, 4, requires_grad=True)
        h = x * 1.0
        y = lib.nn.functional.layer_norm(h, (4,))
        h.add_(1)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.sum().backward()
