"""i0 / i0e / i1 / i1e against torch 2.13: values at the branch point 8, large arguments,
signed zeros, inf and nan, float32 and float64; gradients (torch's formulas, gradcheck),
grad_fn names and the torch.i0 / Tensor.i0 / i0_ spellings; every backend."""
import math

import numpy
import plugrad
import pytest
import torch

POINTS = numpy.concatenate([[0.0, -0.0, 1e-300, -1e-300, 1e-8, 7.99, 8.0, 8.01, -8.0, 700.0,
                             713.0, 800.0, -800.0, math.inf, -math.inf, math.nan],
                            numpy.random.RandomState(0).uniform(-30, 30, 2000)])


@pytest.mark.parametrize("name", ["i0", "i0e", "i1", "i1e"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_values(device, name, dtype):
    x = plugrad.tensor(POINTS, dtype=getattr(plugrad, dtype), device=device)
    ref = getattr(torch.special, name)(torch.tensor(POINTS, dtype=getattr(torch, dtype))).numpy()
    ours = getattr(plugrad.special, name)(x)
    assert str(ours.dtype) == f"torch.{dtype}"
    o = ours.cpu().numpy()
    numpy.testing.assert_allclose(o, ref, rtol=1e-14 if dtype == "float64" else 2e-6, atol=0, equal_nan=True)
    numpy.testing.assert_array_equal(numpy.signbit(o[~numpy.isnan(ref)]), numpy.signbit(ref[~numpy.isnan(ref)]))


@pytest.mark.parametrize("name,node", [("i0", "I0Backward0"), ("i0e", "SpecialI0EBackward0"),
                                       ("i1", "SpecialI1Backward0"), ("i1e", "SpecialI1EBackward0")])
def test_gradients(device, name, node):
    vals = [-9.0, -3.0, -1e-20, 0.0, 0.5, 7.9, 8.5, 30.0]
    x = plugrad.tensor(vals, dtype=plugrad.float64, device=device, requires_grad=True)
    xt = torch.tensor(vals, dtype=torch.float64, requires_grad=True)
    out, ref = getattr(plugrad.special, name)(x), getattr(torch.special, name)(xt)
    assert type(out.grad_fn).__name__ == type(ref.grad_fn).__name__ == node
    (g,) = plugrad.autograd.grad(out.sum(), x, create_graph=True)
    (gt,) = torch.autograd.grad(ref.sum(), xt, create_graph=True)
    numpy.testing.assert_allclose(g.detach().cpu().numpy(), gt.detach().numpy(), rtol=1e-13, atol=1e-15)
    smooth = plugrad.tensor([-9.0, -3.0, 0.5, 7.9, 8.5], dtype=plugrad.float64, device=device, requires_grad=True)
    assert plugrad.autograd.gradcheck(getattr(plugrad.special, name), (smooth,))
    assert plugrad.autograd.gradgradcheck(getattr(plugrad.special, name), (smooth,))


def test_spellings(device):
    x = plugrad.tensor([-2.0, 0.5, 9.0], device=device)
    expect = plugrad.special.i0(x)
    assert plugrad.i0(x).tolist() == expect.tolist() == x.i0().tolist()
    y = x.clone()
    assert y.i0_() is y and y.tolist() == expect.tolist()
    assert plugrad.i0(plugrad.tensor([1, 2], device=device)).dtype == plugrad.float32


KINDS = ["bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1", "modified_bessel_i0",
         "modified_bessel_i1", "modified_bessel_k0", "modified_bessel_k1",
         "scaled_modified_bessel_k0", "scaled_modified_bessel_k1", "spherical_bessel_j0"]
KIND_POINTS = numpy.concatenate([[0.0, -0.0, 1e-300, 1e-6, -1e-6, 0.3, 2.0, 1.99, 2.01, 5.0, 4.99,
                                  5.01, -5.0, -3.0, 700.0, 800.0, 1e5, math.inf, -math.inf, math.nan],
                                 numpy.random.RandomState(0).uniform(-30, 30, 1500),
                                 numpy.random.RandomState(1).uniform(0, 3, 500)])


@pytest.mark.parametrize("name", KINDS)
def test_bessel_kinds_values(device, name):
    fn, ref_fn = getattr(plugrad.special, name), getattr(torch.special, name)
    ref = ref_fn(torch.tensor(KIND_POINTS, dtype=torch.float64)).numpy()
    ours = fn(plugrad.tensor(KIND_POINTS, dtype=plugrad.float64, device=device)).cpu().numpy()
    numpy.testing.assert_allclose(ours, ref, rtol=3e-13, atol=1e-15, equal_nan=True)
    inf = numpy.isinf(ref)
    numpy.testing.assert_array_equal(ours[inf], ref[inf])
    # float32: computed in float64, rounded once (torch's float32 phase x - pi/4 loses digits
    # at large x, so the reference is its float64 result rounded)
    x32 = KIND_POINTS.astype(numpy.float32)
    ours32 = fn(plugrad.tensor(x32, device=device))
    assert ours32.dtype == plugrad.float32
    ref32 = ref_fn(torch.tensor(x32).double()).float().numpy()
    numpy.testing.assert_allclose(ours32.cpu().numpy(), ref32, rtol=2e-6, atol=1e-37, equal_nan=True)


def test_bessel_kinds_are_not_differentiable():
    x = plugrad.tensor([1.0, 2.0], requires_grad=True)
    for name in KINDS:
        y = getattr(plugrad.special, name)(x)
        assert not y.requires_grad and y.grad_fn is None
