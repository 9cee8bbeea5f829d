"""special.erfcx against torch 2.13: the piecewise Chebyshev range, the continued fraction
above 50, 1/(x sqrt(pi)) above 5e7, 2 exp(x^2) below -6.1 and inf below -26.7, signed zeros,
inf and nan; gradient with torch's formula and grad_fn name; every backend."""
import math

import numpy
import plugrad
import torch

POINTS = numpy.concatenate([[0.0, -0.0, 1e-300, -1e-300, 1e-17, 50.0, 50.1, 49.9, 5e7, 6e7, 1e300,
                             -6.1, -6.09, -6.11, -26.7, -26.69, -27.0, -1.0, math.inf, -math.inf,
                             math.nan],
                            numpy.random.RandomState(0).uniform(-30, 60, 3000),
                            numpy.random.RandomState(1).uniform(-3, 3, 1000)])


def test_values(device):
    ref = torch.special.erfcx(torch.tensor(POINTS, dtype=torch.float64)).numpy()
    ours = plugrad.special.erfcx(plugrad.tensor(POINTS, dtype=plugrad.float64, device=device))
    numpy.testing.assert_allclose(ours.cpu().numpy(), ref, rtol=2e-15, atol=0, equal_nan=True)
    # float32: computed in float64 and rounded once; torch squares x in float for x < 0
    x32 = POINTS[numpy.abs(POINTS) < 3e38].astype(numpy.float32)
    ours32 = plugrad.special.erfcx(plugrad.tensor(x32, device=device))
    assert ours32.dtype == plugrad.float32
    ref32 = torch.special.erfcx(torch.tensor(x32).double()).float().numpy()
    numpy.testing.assert_allclose(ours32.cpu().numpy(), ref32, rtol=2e-7, atol=0, equal_nan=True)
    keep = x32 >= 0
    numpy.testing.assert_allclose(ours32.cpu().numpy()[keep], torch.special.erfcx(torch.tensor(x32)).numpy()[keep],
                                  rtol=1e-6, atol=0, equal_nan=True)


def test_gradient(device):
    vals = [-3.0, -0.5, 0.0, 2.0, 49.0, 60.0]
    x = plugrad.tensor(vals, dtype=plugrad.float64, device=device, requires_grad=True)
    xt = torch.tensor(vals, dtype=torch.float64, requires_grad=True)
    out, ref = plugrad.special.erfcx(x), torch.special.erfcx(xt)
    assert type(out.grad_fn).__name__ == type(ref.grad_fn).__name__ == "SpecialErfcxBackward0"
    out.sum().backward()
    ref.sum().backward()
    numpy.testing.assert_allclose(x.grad.cpu().numpy(), xt.grad.numpy(), rtol=1e-14, atol=1e-16)
    assert plugrad.autograd.gradcheck(plugrad.special.erfcx, (x.detach().requires_grad_(),))
    assert plugrad.autograd.gradgradcheck(plugrad.special.erfcx, (x.detach().requires_grad_(),))
