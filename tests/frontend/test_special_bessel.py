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
