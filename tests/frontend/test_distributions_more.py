"""Cauchy, HalfCauchy, HalfNormal, StudentT, Gumbel, Weibull, Pareto and Geometric against
torch.distributions: log_prob/cdf/icdf/entropy/mean/mode/variance values and their gradients,
support, samples equal to torch's for a seed (where torch draws by a transform of its
uniform/normal stream), StudentT by its moments, KL pairs, validation errors; cpu and opencl."""
import math

import numpy
import plugrad
import pytest
import torch

import plugrad.distributions as PD
import torch.distributions as TD

# (name, parameters, values inside the support)
CASES = [
    ("Cauchy", dict(loc=[0.3, -1.0], scale=[0.5, 2.0]), [[0.1, -3.0], [2.0, 0.5]]),
    ("HalfCauchy", dict(scale=[0.5, 2.0]), [[0.1, 3.0], [2.0, 0.5]]),
    ("HalfNormal", dict(scale=[0.5, 2.0]), [[0.1, 3.0], [2.0, 0.5]]),
    ("StudentT", dict(df=[3.0, 0.8], loc=[0.2, -1.0], scale=[1.5, 0.7]),
     [[0.1, -3.0], [2.0, 0.5]]),
    ("Gumbel", dict(loc=[0.3, -1.0], scale=[0.5, 2.0]), [[0.1, -3.0], [2.0, 0.5]]),
    ("Weibull", dict(scale=[0.5, 2.0], concentration=[1.5, 0.7]), [[0.1, 3.0], [2.0, 0.5]]),
    ("Pareto", dict(scale=[0.5, 2.0], alpha=[2.5, 0.7]), [[0.6, 3.0], [2.0, 2.5]]),
    ("Geometric", dict(probs=[0.3, 0.9]), [[0.0, 3.0], [2.0, 0.0]]),
    ("InverseGamma", dict(concentration=[2.5, 3.5], rate=[0.5, 2.0]), [[0.1, 3.0], [2.0, 0.5]]),
    ("FisherSnedecor", dict(df1=[3.0, 5.0], df2=[5.0, 9.0]), [[0.1, 3.0], [2.0, 0.5]]),
    ("Kumaraswamy", dict(concentration1=[1.5, 2.0], concentration0=[2.0, 3.0]),
     [[0.1, 0.3], [0.8, 0.5]]),
]
PROPS = ("mean", "mode", "variance", "stddev")


def _make(lib, name, params, device=None, grad=False):
    dist_cls = getattr(lib.distributions, name)
    kw = {}
    for k, v in params.items():
        kw[k] = lib.tensor(v, dtype=lib.float64, requires_grad=grad,
                           **({"device": device} if device else {}))
    return dist_cls(**kw), kw


def _np(t):
    return t.detach().cpu().numpy() if hasattr(t, "cpu") else numpy.asarray(t)


def _close(ours, ref, rtol=1e-12, atol=1e-12):
    assert tuple(ours.shape) == tuple(ref.shape), (ours.shape, ref.shape)
    numpy.testing.assert_allclose(_np(ours), ref.detach().numpy(), rtol=rtol, atol=atol)


def _float64(device):
    if not plugrad.plugins.supports(device, "add", "float64"):
        pytest.skip(f"{device} has no float64")


@pytest.mark.parametrize("name, params, values", CASES, ids=[c[0] for c in CASES])
def test_values_and_gradients_equal_torch(device, name, params, values):
    _float64(device)
    ours, okw = _make(plugrad, name, params, device, grad=True)
    ref, rkw = _make(torch, name, params, grad=True)
    assert ours.batch_shape == ref.batch_shape and ours.event_shape == ref.event_shape
    assert type(ours.support).__name__ == type(ref.support).__name__
    if name != "Pareto":    # Pareto's shows its (broadcast) scale tensor
        assert repr(ours.support) == repr(ref.support)
    assert ours.has_rsample == ref.has_rsample
    x_o = plugrad.tensor(values, dtype=plugrad.float64, device=device)
    x_r = torch.tensor(values, dtype=torch.float64)
    terms_o, terms_r = [ours.log_prob(x_o)], [ref.log_prob(x_r)]
    try:
        terms_r.append(ref.entropy())
    except NotImplementedError:     # FisherSnedecor has none in torch
        with pytest.raises(NotImplementedError):
            ours.entropy()
    else:
        terms_o.append(ours.entropy())
    for prop in PROPS:
        _close(getattr(ours, prop), getattr(ref, prop))
    for method, arg_o, arg_r in (("cdf", x_o, x_r), ("icdf", x_o * 0 + 0.3, x_r * 0 + 0.3)):
        try:
            expect = getattr(ref, method)(arg_r)
        except NotImplementedError:
            continue
        got = getattr(ours, method)(arg_o)
        _close(got, expect)
        if name != "InverseGamma":      # its cdf (gammainc) has no gradient in a, as torch
            terms_o.append(got)
            terms_r.append(expect)
    for o, r in zip(terms_o, terms_r):
        _close(o, r)
    loss_o = sum((t * (i + 1)).nan_to_num(0, 0, 0).sum() for i, t in enumerate(terms_o))
    loss_r = sum((t * (i + 1)).nan_to_num(0, 0, 0).sum() for i, t in enumerate(terms_r))
    loss_o.backward()
    loss_r.backward()
    for k in params:
        _close(okw[k].grad, rkw[k].grad, 1e-10, 1e-10)


@pytest.mark.parametrize("name, params, dtype", [
    ("Cauchy", dict(loc=[0.3, -1.0], scale=[0.5, 2.0]), "float64"),
    ("HalfNormal", dict(scale=[0.5, 2.0]), "float64"),
    ("HalfNormal", dict(scale=[0.5, 2.0]), "float32"),
    ("Gumbel", dict(loc=[0.3, -1.0], scale=[0.5, 2.0]), "float64"),
    ("Weibull", dict(scale=[0.5, 2.0], concentration=[1.5, 0.7]), "float64"),
    ("Pareto", dict(scale=[0.5, 2.0], alpha=[2.5, 0.7]), "float64"),
    ("Geometric", dict(probs=[0.3, 0.9]), "float64"),
    ("Geometric", dict(probs=[0.3, 0.9]), "float32"),
    ("Kumaraswamy", dict(concentration1=[1.5, 2.0], concentration0=[2.0, 3.0]), "float64"),
])
def test_samples_equal_torch_for_a_seed(name, params, dtype):
    ours = getattr(PD, name)(**{k: plugrad.tensor(v, dtype=getattr(plugrad, dtype))
                                for k, v in params.items()})
    ref = getattr(TD, name)(**{k: torch.tensor(v, dtype=getattr(torch, dtype))
                               for k, v in params.items()})
    plugrad.manual_seed(3)
    torch.manual_seed(3)
    a, b = ours.sample((500,)), ref.sample((500,))
    rtol = 1e-12 if dtype == "float64" else 1e-6
    numpy.testing.assert_allclose(a.numpy(), b.numpy(), rtol=rtol, atol=rtol)


def test_rsample_reparametrized_gradients():
    scale = plugrad.tensor([0.5, 2.0], dtype=plugrad.float64, requires_grad=True)
    ref_scale = torch.tensor([0.5, 2.0], dtype=torch.float64, requires_grad=True)
    plugrad.manual_seed(1)
    torch.manual_seed(1)
    PD.HalfNormal(scale).rsample((50,)).sum().backward()
    TD.HalfNormal(ref_scale).rsample((50,)).sum().backward()
    _close(scale.grad, ref_scale.grad)
    loc = plugrad.tensor([0.3], dtype=plugrad.float64, requires_grad=True)
    x = PD.Cauchy(loc, 2.0).rsample((4,))
    x.sum().backward()
    assert loc.grad.tolist() == [4.0]


@pytest.mark.parametrize("name, params", [
    ("InverseGamma", dict(concentration=[4.5], rate=[2.0])),
    ("FisherSnedecor", dict(df1=[6.0], df2=[12.0])),
])
def test_gamma_based_samples_by_moments(name, params):
    plugrad.manual_seed(0)
    d = getattr(PD, name)(**{k: plugrad.tensor(v, dtype=plugrad.float64) for k, v in params.items()})
    x = d.sample((200000,))
    assert abs(float(x.mean()) / float(d.mean) - 1) < 0.02
    assert abs(float(x.var()) / float(d.variance) - 1) < 0.1


def test_student_t_moments_and_rsample_grad():
    plugrad.manual_seed(0)
    d = PD.StudentT(plugrad.tensor(7.0, dtype=plugrad.float64), 1.5, 2.0)
    x = d.sample((200000,))
    assert x.shape == (200000,)
    assert abs(float(x.mean()) - 1.5) < 0.03
    assert abs(float(x.var()) / float(d.variance) - 1) < 0.05
    df = plugrad.tensor([4.0, 9.0], dtype=plugrad.float64, requires_grad=True)
    PD.StudentT(df).rsample((10,)).pow(2).sum().backward()
    assert df.grad is not None and bool(plugrad.isfinite(df.grad).all())


KL_PAIRS = [
    ("Cauchy", dict(loc=[0.3, -1.0], scale=[0.5, 2.0]), dict(loc=[1.0, 0.0], scale=[1.0, 0.5])),
    ("Gumbel", dict(loc=[0.3, -1.0], scale=[0.5, 2.0]), dict(loc=[1.0, 0.0], scale=[1.0, 0.5])),
    ("Geometric", dict(probs=[0.3, 0.9]), dict(probs=[0.5, 0.2])),
    ("HalfNormal", dict(scale=[0.5, 2.0]), dict(scale=[1.0, 0.7])),
    ("Pareto", dict(scale=[0.5, 2.0], alpha=[2.5, 0.7]), dict(scale=[1.0, 1.0], alpha=[1.0, 3.0])),
]


@pytest.mark.parametrize("name, p, q", KL_PAIRS, ids=[k[0] for k in KL_PAIRS])
def test_kl_pairs_equal_torch(device, name, p, q):
    _float64(device)
    po, pkw = _make(plugrad, name, p, device, grad=True)
    pr, rkw = _make(torch, name, p, grad=True)
    kl_o = PD.kl_divergence(po, _make(plugrad, name, q, device)[0])
    kl_r = TD.kl_divergence(pr, _make(torch, name, q)[0])
    _close(kl_o, kl_r)
    kl_o.nan_to_num(0, 0, 0).sum().backward()
    kl_r.nan_to_num(0, 0, 0).sum().backward()
    for k in p:
        _close(pkw[k].grad, rkw[k].grad, 1e-10, 1e-10)


@pytest.mark.parametrize("build", [
    lambda D, T: D.Cauchy(T([0.0]), T([-1.0])),
    lambda D, T: D.HalfNormal(T([0.0])),
    lambda D, T: D.StudentT(T([-1.0])),
    lambda D, T: D.Weibull(T([1.0]), T([0.0])),
    lambda D, T: D.Geometric(T([0.0])),
    lambda D, T: D.Geometric(T([1.5])),
    lambda D, T: D.Geometric(),
    lambda D, T: D.HalfCauchy(T([1.0])).log_prob(T([-1.0])),
    lambda D, T: D.Pareto(T([1.0]), T([2.0])).log_prob(T([0.5])),
])
def test_validation_errors_as_torch(build):
    with pytest.raises(ValueError) as ref:
        build(TD, lambda v: torch.tensor(v))
    with pytest.raises(ValueError) as ours:
        build(PD, lambda v: plugrad.tensor(v))
    assert str(ours.value).replace("plugrad", "torch") == str(ref.value)


def test_expand_and_names():
    for name, params, _ in CASES:
        ours = _make(plugrad, name, {k: v[:1] for k, v in params.items()})[0].expand((3, 1))
        ref = _make(torch, name, {k: v[:1] for k, v in params.items()})[0].expand((3, 1))
        assert type(ours).__name__ == name and ours.batch_shape == ref.batch_shape
        assert tuple(ours.sample().shape) == tuple(ref.sample().shape)
    assert math.isnan(float(PD.StudentT(0.5).mean))
