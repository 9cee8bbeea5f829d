"""special.gammainc / gammaincc (torch.igamma / igammac, Tensor methods, in-place) against
torch: edge values, float64 accuracy (against mpmath where torch's own asymptotic branch is
~1e-9 off: near x ~ a for a > 20), float32, the gradient in x (equal to torch's, gradcheck),
torch's NotImplementedError for the gradient in a, integer inputs refused; Gamma/Chi2.cdf."""
import math

import mpmath
import numpy
import plugrad
import pytest
import torch
from plugrad.autograd import gradcheck, gradgradcheck

EDGE_A = [0.0, 0.0, 1.0, -1.0, 1.0, math.inf, math.inf, 2.0, math.nan, 2.0, 0.5, 1e-3, 3.0]
EDGE_X = [0.0, 1.0, 0.0, 1.0, -1.0, 1.0, math.inf, math.inf, 1.0, math.nan, 0.3, 1e-3, 40.0]


def _float64(device):
    if not plugrad.plugins.supports(device, "add", "float64"):
        pytest.skip(f"{device} has no float64")


@pytest.mark.parametrize("fn", ["gammainc", "gammaincc"])
def test_edges_equal_torch(device, fn):
    _float64(device)
    a = plugrad.tensor(EDGE_A, dtype=plugrad.float64, device=device)
    x = plugrad.tensor(EDGE_X, dtype=plugrad.float64, device=device)
    ours = getattr(plugrad.special, fn)(a, x).cpu().numpy()
    ref = getattr(torch.special, fn)(torch.tensor(EDGE_A, dtype=torch.float64),
                                     torch.tensor(EDGE_X, dtype=torch.float64)).numpy()
    numpy.testing.assert_allclose(ours, ref, rtol=1e-12, atol=0)   # Q(1e-3, 1e-3): 1 - P


@pytest.mark.parametrize("upper", [False, True])
def test_float64_accuracy(upper):
    rng = numpy.random.default_rng(4)
    a = numpy.exp(rng.uniform(-4, 6, 400))
    x = a * numpy.exp(rng.uniform(-2.5, 2.5, 400))
    fn = "gammaincc" if upper else "gammainc"
    ours = getattr(plugrad.special, fn)(plugrad.tensor(a), plugrad.tensor(x)).numpy()
    ref = getattr(torch.special, fn)(torch.tensor(a), torch.tensor(x)).numpy()
    keep = ref > 1e-290
    numpy.testing.assert_allclose(ours[keep], ref[keep], rtol=5e-9)   # torch's asymptotics
    mpmath.mp.dps = 30
    exact = numpy.array([float(mpmath.gammainc(ai, xi, mpmath.inf, regularized=True) if upper
                               else mpmath.gammainc(ai, 0, xi, regularized=True))
                         for ai, xi in zip(a[:120], x[:120])])
    keep = exact > 1e-290
    numpy.testing.assert_allclose(ours[:120][keep], exact[keep], rtol=1e-12)


def test_float32_and_promotion(device):
    a = numpy.array([0.5, 2.0, 7.0, 30.0], dtype=numpy.float32)
    x = numpy.array([0.3, 3.0, 5.0, 31.0], dtype=numpy.float32)
    for fn in ("gammainc", "gammaincc"):
        ours = getattr(plugrad.special, fn)(plugrad.tensor(a, device=device),
                                            plugrad.tensor(x, device=device))
        ref = getattr(torch.special, fn)(torch.tensor(a), torch.tensor(x))
        assert str(ours.dtype) == str(ref.dtype)
        numpy.testing.assert_allclose(ours.cpu().numpy(), ref.numpy(), rtol=2e-6)
    with pytest.raises(NotImplementedError, match="\"igamma_cpu\" not implemented for 'Long'"):
        plugrad.igamma(plugrad.tensor([1, 2]), plugrad.tensor([1, 2]))


def test_spellings_and_inplace(device):
    a = plugrad.tensor([1.0, 2.0, 4.0], device=device)
    x = plugrad.tensor([1.0, 2.5, 3.0], device=device)
    ra, rx = torch.tensor([1.0, 2.0, 4.0]), torch.tensor([1.0, 2.5, 3.0])
    pairs = [(plugrad.igamma(a, x), torch.igamma(ra, rx)),
             (plugrad.igammac(a, x), torch.igammac(ra, rx)),
             (a.igamma(x), ra.igamma(rx)), (a.igammac(x), ra.igammac(rx)),
             (a.clone().igamma_(x), ra.clone().igamma_(rx)),
             (a.clone().igammac_(x), ra.clone().igammac_(rx))]
    for ours, ref in pairs:
        numpy.testing.assert_allclose(ours.cpu().numpy(), ref.numpy(), rtol=1e-6)


@pytest.mark.parametrize("fn, node", [("gammainc", "IgammaBackward0"),
                                      ("gammaincc", "IgammacBackward0")])
def test_gradient_in_x(device, fn, node):
    _float64(device)
    a_np, x_np = numpy.array([[0.5], [2.0], [30.0]]), numpy.array([0.3, 3.0, 25.0])
    a = plugrad.tensor(a_np, device=device)
    x = plugrad.tensor(x_np, device=device, requires_grad=True)
    rx = torch.tensor(x_np, requires_grad=True)
    out = getattr(plugrad.special, fn)(a, x)
    ref = getattr(torch.special, fn)(torch.tensor(a_np), rx)
    assert out.grad_fn.name() == node
    out.sum().backward()
    ref.sum().backward()
    numpy.testing.assert_allclose(x.grad.cpu().numpy(), rx.grad.numpy(), rtol=1e-12)
    assert gradcheck(lambda x: getattr(plugrad.special, fn)(a, x), (x,))
    assert gradgradcheck(lambda x: getattr(plugrad.special, fn)(a, x), (x,))
    a.requires_grad_()
    label = "igammac" if fn == "gammaincc" else "igamma"
    with pytest.raises(NotImplementedError, match=f"the derivative for '{label}: input'"):
        getattr(plugrad.special, fn)(a, x).sum().backward()


def test_gamma_and_chi2_cdf():
    value = [0.5, 1.0, 4.0]
    for ours, ref in ((plugrad.distributions.Gamma(plugrad.tensor([2.0, 0.7, 5.0]), 1.5),
                       torch.distributions.Gamma(torch.tensor([2.0, 0.7, 5.0]), 1.5)),
                      (plugrad.distributions.Chi2(plugrad.tensor([2.0, 3.0, 5.0])),
                       torch.distributions.Chi2(torch.tensor([2.0, 3.0, 5.0])))):
        numpy.testing.assert_allclose(ours.cdf(plugrad.tensor(value)).numpy(),
                                      ref.cdf(torch.tensor(value)).numpy(), rtol=1e-6)
