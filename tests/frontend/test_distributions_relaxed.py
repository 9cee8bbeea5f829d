"""Multinomial, NegativeBinomial, RelaxedBernoulli and RelaxedOneHotCategorical against
torch.distributions: samples equal torch's for a seed (NegativeBinomial, a Gamma-Poisson
mixture, by its moments), log_prob/entropy/mean/variance values and their gradients,
rsample gradients, support, expand, validation errors; cpu and opencl."""
import numpy
import plugrad
import pytest
import torch

import plugrad.distributions as PD
import torch.distributions as TD


def _np(t):
    return t.detach().cpu().numpy()


def _float64(device):
    if not plugrad.plugins.supports(device, "add", "float64"):
        pytest.skip(f"{device} has no float64")


def _pair(values, device, grad=True):
    return (plugrad.tensor(values, dtype=plugrad.float64, device=device, requires_grad=grad),
            torch.tensor(values, dtype=torch.float64, requires_grad=grad))


def _close(a, b, tol=1e-12):
    assert tuple(a.shape) == tuple(b.shape)
    numpy.testing.assert_allclose(_np(a), _np(b), rtol=tol, atol=tol)


def test_multinomial(device):
    _float64(device)
    po, pr = _pair([[0.2, 0.3, 0.5], [0.1, 0.0, 0.9]], device)
    ours, ref = PD.Multinomial(10, po), TD.Multinomial(10, pr)
    assert ours.batch_shape == ref.batch_shape and ours.event_shape == ref.event_shape
    assert repr(ours.support) == repr(ref.support)
    plugrad.manual_seed(4)
    torch.manual_seed(4)
    xo, xr = ours.sample((6,)), ref.sample((6,))
    assert (_np(xo) == _np(xr)).all() and str(xo.dtype) == str(xr.dtype)
    lo = ours.log_prob(xo).sum() + ours.entropy().sum() + (ours.mean * ours.variance).sum()
    lr = ref.log_prob(xr).sum() + ref.entropy().sum() + (ref.mean * ref.variance).sum()
    _close(lo, lr)
    lo.backward()
    lr.backward()
    _close(po.grad, pr.grad, 1e-10)
    logits = PD.Multinomial(4, logits=plugrad.tensor([0.5, -1.0, 2.0], device=device))
    ref_logits = TD.Multinomial(4, logits=torch.tensor([0.5, -1.0, 2.0]))
    value = [1.0, 0.0, 3.0]
    _close(logits.log_prob(plugrad.tensor(value, device=device)),
           ref_logits.log_prob(torch.tensor(value)), 1e-6)
    assert logits.expand((2,)).sample().shape == (2, 3)
    with pytest.raises(NotImplementedError, match="inhomogeneous total_count"):
        PD.Multinomial(plugrad.tensor([2, 3]), plugrad.tensor([0.5, 0.5]))
    with pytest.raises(ValueError) as ours_err:
        PD.Multinomial(3, plugrad.tensor([0.5, 0.5])).log_prob(plugrad.tensor([4.0, 0.0]))
    with pytest.raises(ValueError) as ref_err:
        TD.Multinomial(3, torch.tensor([0.5, 0.5])).log_prob(torch.tensor([4.0, 0.0]))
    assert str(ours_err.value).replace("plugrad", "torch") == str(ref_err.value)


def test_negative_binomial(device):
    _float64(device)
    co, cr = _pair([3.0, 0.5, 7.0], device)
    po, pr = _pair([0.3, 0.8, 0.5], device)
    ours, ref = PD.NegativeBinomial(co, po), TD.NegativeBinomial(cr, pr)
    value = [[0.0, 2.0, 9.0], [5.0, 1.0, 0.0]]
    vo, vr = _pair(value, device, grad=False)
    terms_o = [ours.log_prob(vo), ours.mean, ours.variance, ours.mode]
    terms_r = [ref.log_prob(vr), ref.mean, ref.variance, ref.mode]
    for a, b in zip(terms_o, terms_r):
        _close(a, b)
    sum(t.sum() for t in terms_o[:3]).backward()
    sum(t.sum() for t in terms_r[:3]).backward()
    _close(co.grad, cr.grad, 1e-10)
    _close(po.grad, pr.grad, 1e-10)
    lo = PD.NegativeBinomial(plugrad.tensor(2.0), logits=plugrad.tensor([0.3]))
    lr = TD.NegativeBinomial(torch.tensor(2.0), logits=torch.tensor([0.3]))
    _close(lo.log_prob(plugrad.tensor([3.0])), lr.log_prob(torch.tensor([3.0])), 1e-6)
    with pytest.raises(ValueError, match="Either `probs` or `logits` must be specified"):
        PD.NegativeBinomial(2.0)


def test_negative_binomial_samples_by_moments():
    plugrad.manual_seed(0)
    d = PD.NegativeBinomial(plugrad.tensor([3.0, 0.5], dtype=plugrad.float64),
                            plugrad.tensor([0.3, 0.8], dtype=plugrad.float64))
    x = d.sample((100000,))
    assert bool((x == x.floor()).all()) and bool((x >= 0).all())
    numpy.testing.assert_allclose(_np(x.mean(0)), _np(d.mean), rtol=0.03)
    numpy.testing.assert_allclose(_np(x.var(0)), _np(d.variance), rtol=0.08)


@pytest.mark.parametrize("kind", ["RelaxedBernoulli", "RelaxedOneHotCategorical"])
@pytest.mark.parametrize("param", ["probs", "logits"])
def test_relaxed_samples_values_and_gradients(device, kind, param):
    _float64(device)
    values = [0.2, 0.6] if kind == "RelaxedBernoulli" else [[0.2, 0.5, 0.3]]
    if param == "logits":
        values = numpy.log(numpy.asarray(values)).tolist()
    to, tr = _pair(0.7, device)
    po, pr = _pair(values, device)
    ours = getattr(PD, kind)(to, **{param: po})
    ref = getattr(TD, kind)(tr, **{param: pr})
    assert repr(ours.support) == repr(ref.support) and ours.has_rsample
    plugrad.manual_seed(2)
    torch.manual_seed(2)
    xo, xr = ours.rsample((5,)), ref.rsample((5,))
    _close(xo, xr, 1e-12)
    lo, lr = ours.log_prob(xo).sum() + xo.sum(), ref.log_prob(xr).sum() + xr.sum()
    _close(lo, lr, 1e-10)
    lo.backward()
    lr.backward()
    _close(po.grad, pr.grad, 1e-9)
    _close(to.grad, tr.grad, 1e-9)
    assert tuple(ours.expand((3,) + tuple(ours.batch_shape)).sample().shape) == \
        tuple(ref.expand((3,) + tuple(ref.batch_shape)).sample().shape)
