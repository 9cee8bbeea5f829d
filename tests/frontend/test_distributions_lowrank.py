"""LowRankMultivariateNormal against torch: log_prob, entropy, moments and the matrices
(scale_tril, covariance, precision), samples equal torch's for a seed, gradients of log_prob
and rsample, KL pairs with itself and MultivariateNormal (both ways), errors; cpu + opencl."""
import numpy
import plugrad
import pytest
import torch

RNG = numpy.random.default_rng(5)
LOC, W, D = RNG.standard_normal((2, 4)), RNG.standard_normal((2, 4, 2)), RNG.uniform(0.5, 2, (2, 4))
LOC2, W2, D2 = RNG.standard_normal(4), RNG.standard_normal((4, 3)), RNG.uniform(0.5, 2, 4)
S = RNG.standard_normal((4, 4))
S = S @ S.T + 4 * numpy.eye(4)


def _float64(device):
    if not plugrad.plugins.supports(device, "add", "float64"):
        pytest.skip(f"{device} has no float64")


def _build(lib, device=None, grad=False):
    kw = {"device": device} if device else {}
    ts = [lib.tensor(a, requires_grad=grad, **kw) for a in (LOC, W, D, LOC2, W2, D2, S)]
    dists = (lib.distributions.LowRankMultivariateNormal(*ts[:3]),
             lib.distributions.LowRankMultivariateNormal(*ts[3:6]),
             lib.distributions.MultivariateNormal(ts[3], ts[6]))
    return dists, ts


def _close(a, b, tol=1e-11):
    assert tuple(a.shape) == tuple(b.shape)
    numpy.testing.assert_allclose(a.detach().cpu().numpy(), b.detach().numpy(), rtol=tol,
                                  atol=tol)


def test_values_matrices_and_gradients(device):
    _float64(device)
    (ours, _, _), ts_o = _build(plugrad, device, grad=True)
    (ref, _, _), ts_r = _build(torch, grad=True)
    assert ours.batch_shape == ref.batch_shape and ours.event_shape == ref.event_shape
    x = RNG.standard_normal((3, 2, 4))
    lo = ours.log_prob(plugrad.tensor(x, device=device))
    lr = ref.log_prob(torch.tensor(x))
    _close(lo, lr)
    for name in ("entropy",):
        _close(getattr(ours, name)(), getattr(ref, name)())
    for name in ("mean", "mode", "variance", "stddev", "scale_tril", "covariance_matrix",
                 "precision_matrix"):
        _close(getattr(ours, name), getattr(ref, name))
    (lo.sum() + ours.entropy().sum() + ours.precision_matrix.sum()).backward()
    (lr.sum() + ref.entropy().sum() + ref.precision_matrix.sum()).backward()
    for o, r in zip(ts_o[:3], ts_r[:3]):
        _close(o.grad, r.grad, 1e-9)


def test_samples_equal_torch_and_rsample_gradient():
    (ours, _, _), ts_o = _build(plugrad, grad=True)
    (ref, _, _), ts_r = _build(torch, grad=True)
    plugrad.manual_seed(9)
    torch.manual_seed(9)
    so, sr = ours.rsample((6,)), ref.rsample((6,))
    _close(so, sr, 1e-12)
    so.pow(2).sum().backward()
    sr.pow(2).sum().backward()
    for o, r in zip(ts_o[:3], ts_r[:3]):
        _close(o.grad, r.grad, 1e-10)
    assert tuple(ours.expand((5, 2)).sample().shape) == (5, 2, 4)


@pytest.mark.parametrize("pair", [(0, 1), (1, 0), (0, 2), (2, 0), (1, 2)])
def test_kl_pairs(device, pair):
    _float64(device)
    ours, ts_o = _build(plugrad, device, grad=True)
    ref, ts_r = _build(torch, grad=True)
    ko = plugrad.distributions.kl_divergence(ours[pair[0]], ours[pair[1]])
    kr = torch.distributions.kl_divergence(ref[pair[0]], ref[pair[1]])
    _close(ko, kr)
    ko.sum().backward()
    kr.sum().backward()
    for o, r in zip(ts_o, ts_r):
        if r.grad is not None:
            _close(o.grad, r.grad, 1e-9)


@pytest.mark.parametrize("build", [
    lambda L: L.distributions.LowRankMultivariateNormal(L.zeros(()), L.ones(2, 1), L.ones(2)),
    lambda L: L.distributions.LowRankMultivariateNormal(L.zeros(2), L.ones(2), L.ones(2)),
    lambda L: L.distributions.LowRankMultivariateNormal(L.zeros(2), L.ones(3, 1), L.ones(2)),
    lambda L: L.distributions.LowRankMultivariateNormal(L.zeros(2), L.ones(2, 1), L.ones(3)),
    lambda L: L.distributions.LowRankMultivariateNormal(L.zeros(2), L.ones(2, 1), -L.ones(2)),
    lambda L: L.distributions.kl_divergence(
        L.distributions.LowRankMultivariateNormal(L.zeros(2), L.ones(2, 1), L.ones(2)),
        L.distributions.LowRankMultivariateNormal(L.zeros(3), L.ones(3, 1), L.ones(3))),
])
def test_errors_as_torch(build):
    with pytest.raises((ValueError, RuntimeError)) as ref:
        build(torch)
    with pytest.raises((ValueError, RuntimeError)) as ours:
        build(plugrad)
    assert type(ours.value).__name__ == type(ref.value).__name__
    norm = lambda s: " ".join(s.replace("plugrad", "torch").split())  # noqa: E731
    assert norm(str(ours.value)) == norm(str(ref.value))
