"""Every KL pair between different families that torch registers (and plugrad has both
families of) against torch: values (finite closed forms, infinities where the supports do not
nest, masked entries where they partly overlap) and gradients of the finite ones."""
import numpy
import plugrad
import pytest
import torch
from torch.distributions import kl as torch_kl

PARAMS = {
    "Bernoulli": dict(probs=[0.2, 0.7, 0.5]),
    "Beta": dict(concentration1=[0.5, 2.0, 3.0], concentration0=[1.5, 0.7, 3.0]),
    "Binomial": dict(total_count=5, probs=[0.2, 0.7, 0.5]),
    "Exponential": dict(rate=[0.5, 2.0, 1.3]),
    "Gamma": dict(concentration=[0.5, 2.0, 3.0], rate=[1.5, 0.7, 3.0]),
    "Gumbel": dict(loc=[0.3, -1.0, 0.0], scale=[0.5, 2.0, 1.0]),
    "Laplace": dict(loc=[0.3, -1.0, 0.0], scale=[0.5, 2.0, 1.0]),
    "Normal": dict(loc=[0.3, -1.0, 0.0], scale=[0.5, 2.0, 1.0]),
    "Pareto": dict(scale=[0.5, 2.0, 1.0], alpha=[0.8, 1.5, 3.0]),
    "Poisson": dict(rate=[0.5, 2.0, 1.3]),
    "Uniform": dict(low=[0.1, -0.5, 0.2], high=[0.9, 0.5, 3.0]),
}
PAIRS = sorted((p.__name__, q.__name__) for p, q in torch_kl._KL_REGISTRY
               if p is not q and p.__name__ in PARAMS and q.__name__ in PARAMS)


def _make(lib, name, grad):
    kw = {}
    for k, v in PARAMS[name].items():
        kw[k] = v if isinstance(v, int) else lib.tensor(v, dtype=lib.float64,
                                                          requires_grad=grad)
    return getattr(lib.distributions, name)(**kw, validate_args=False), kw


def test_every_torch_cross_pair_is_covered():
    # the pairs left out involve families tested elsewhere (the MVN ones) or not in plugrad
    left = {n for p, q in torch_kl._KL_REGISTRY if p is not q
            for n in (p.__name__, q.__name__) if n not in PARAMS}
    assert left <= {"ContinuousBernoulli", "LowRankMultivariateNormal", "MultivariateNormal"}
    assert len(PAIRS) == 50


@pytest.mark.parametrize("pair", PAIRS, ids=["-".join(p) for p in PAIRS])
def test_cross_kl_equals_torch(pair):
    po, pko = _make(plugrad, pair[0], True)
    qo, qko = _make(plugrad, pair[1], True)
    pr, pkr = _make(torch, pair[0], True)
    qr, qkr = _make(torch, pair[1], True)
    ours, ref = plugrad.distributions.kl_divergence(po, qo), torch.distributions.kl_divergence(pr, qr)
    assert tuple(ours.shape) == tuple(ref.shape)
    numpy.testing.assert_allclose(ours.detach().numpy(), ref.detach().numpy(), rtol=1e-12,
                                  atol=1e-12)
    if not ref.requires_grad:
        return
    finite = torch.isfinite(ref)
    (ours * plugrad.tensor(finite.numpy())).nan_to_num(0, 0, 0).sum().backward()
    (ref * finite).nan_to_num(0, 0, 0).sum().backward()
    for k in pkr:
        if isinstance(pkr[k], torch.Tensor) and pkr[k].grad is not None:
            numpy.testing.assert_allclose(pko[k].grad.numpy(), pkr[k].grad.numpy(), rtol=1e-10,
                                          atol=1e-12)
    for k in qkr:
        if isinstance(qkr[k], torch.Tensor) and qkr[k].grad is not None:
            numpy.testing.assert_allclose(qko[k].grad.numpy(), qkr[k].grad.numpy(), rtol=1e-10,
                                          atol=1e-12)
