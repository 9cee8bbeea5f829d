"""plugrad.distributions against torch.distributions 2.13: samples for a seed (the families
whose torch algorithm is a documented transform of the generator), log_prob / cdf / icdf /
entropy / moments, KL divergences, gradients through rsample and log_prob, validation errors,
constraints and transforms; on every backend."""
import math

import numpy
import plugrad
import pytest
import torch

LOC = [0.5, -1.0, 2.0]
SCALE = [1.0, 0.5, 3.0]
COV = [[2.0, 0.3, 0.1], [0.3, 1.5, 0.2], [0.1, 0.2, 1.0]]
PROBS = [[0.2, 0.7, 0.1], [0.3, 0.3, 0.4]]


def _np(x):
    return x.detach().cpu().numpy() if isinstance(x, plugrad.Tensor) else x.detach().numpy()


def _close(ours, ref, rtol=1e-6, atol=1e-6):
    o, r = _np(ours), _np(ref)
    assert o.shape == r.shape, (o.shape, r.shape)
    assert str(ours.dtype) == str(ref.dtype)
    numpy.testing.assert_allclose(o, r, rtol=rtol, atol=atol, equal_nan=True)


def _build(lib, device, spec, dtype="float32"):
    """Construct spec = (class name, args, kwargs) with lists turned into tensors of lib."""
    name, args, kwargs = spec
    dt = getattr(lib, dtype)

    def conv(v):
        if isinstance(v, list):
            t = lib.tensor(v, dtype=dt)
            return t.to(device) if lib is plugrad else t
        if isinstance(v, tuple) and v and v[0] == "dist":
            return _build(lib, device, v[1], dtype)
        return v
    cls = getattr(lib.distributions, name)
    return cls(*[conv(a) for a in args], **{k: conv(v) for k, v in kwargs.items()})


def _pair(device, spec, dtype="float32"):
    return _build(plugrad, device, spec, dtype), _build(torch, "cpu", spec, dtype)


def _value(lib, device, v, dtype="float32"):
    t = lib.tensor(v, dtype=getattr(lib, dtype) if isinstance(dtype, str) else dtype)
    return t.to(device) if lib is plugrad else t


NORMAL = ("Normal", [LOC, SCALE], {})
# family, a valid value for log_prob, whether sampling must equal torch's bit for bit
CASES = [
    (NORMAL, [0.0, 1.0, 2.0]),
    (("Normal", [0.5, 2.0], {}), 1.5),
    (("LogNormal", [LOC, SCALE], {}), [0.5, 1.0, 2.0]),
    (("Uniform", [[0.0, 1.0, -2.0], [2.0, 5.0, -1.0]], {}), [1.0, 4.0, -1.5]),
    (("Exponential", [[0.5, 2.0, 1.0]], {}), [0.3, 2.0, 0.0]),
    (("Laplace", [LOC, SCALE], {}), [0.0, 1.0, 2.0]),
    (("Bernoulli", [[0.2, 0.7, 0.5]], {}), [1.0, 0.0, 1.0]),
    (("Bernoulli", [], {"logits": [0.2, -0.7, 3.0]}), [1.0, 0.0, 0.0]),
    (("Categorical", [PROBS], {}), [2, 0]),
    (("Categorical", [], {"logits": PROBS}), [1, 1]),
    (("OneHotCategorical", [PROBS], {}), [[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]),
    (("MultivariateNormal", [LOC, COV], {}), [0.0, 1.0, 2.0]),
    (("MultivariateNormal", [LOC], {"precision_matrix": COV}), [[0.0, 1.0, 2.0], [1.0, 1.0, 1.0]]),
    (("MultivariateNormal", [[LOC, SCALE]], {"scale_tril": [[1.0, 0.0, 0.0], [0.5, 2.0, 0.0],
                                                           [-0.3, 0.2, 0.7]]}), [0.0, 1.0, 2.0]),
    (("Independent", [("dist", NORMAL), 1], {}), [0.0, 1.0, 2.0]),
]
IDS = [f"{c[0][0]}{i}" for i, c in enumerate(CASES)]
# families whose torch sampler draws element by element (rejection): checked by distribution
DRAWN_DIFFERENTLY = [
    (("Gamma", [[0.3, 1.0, 4.5], [2.0, 0.5, 1.0]], {}), [0.2, 1.0, 3.0]),
    (("Gamma", [2.0, 3.0], {}), 0.7),
    (("Chi2", [[0.5, 3.0, 10.0]], {}), [0.2, 1.0, 12.0]),
    (("Beta", [[0.3, 1.0, 4.5], [2.0, 0.5, 1.0]], {}), [0.2, 0.5, 0.9]),
    (("Beta", [2.0, 3.0], {}), 0.4),
    (("Dirichlet", [[[0.3, 1.0, 4.5], [2.0, 2.0, 2.0]]], {}), [[0.2, 0.3, 0.5], [0.1, 0.1, 0.8]]),
    (("Poisson", [[0.5, 3.0, 40.0]], {}), [0.0, 2.0, 41.0]),
    (("Binomial", [[10.0, 10.0, 10.0]], {"probs": [0.2, 0.5, 0.9]}), [1.0, 5.0, 10.0]),
    (("Binomial", [10.0], {"logits": [0.2, -1.5, 3.0]}), [1.0, 0.0, 9.0]),
]
ALL_CASES = CASES + DRAWN_DIFFERENTLY
ALL_IDS = IDS + [f"{c[0][0]}{i}" for i, c in enumerate(DRAWN_DIFFERENTLY, len(CASES))]


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_samples_equal_torch_for_a_seed(device, case):
    spec, _ = case
    ours, ref = _pair(device, spec)
    for shape in [(), (4,), (2, 3)]:
        plugrad.manual_seed(7)
        torch.manual_seed(7)
        # equal draws; a transform after them (exp, log1p, a matmul) may round 1 ulp apart
        exact = 0 if spec[0] not in ("LogNormal", "Laplace", "MultivariateNormal") else 1e-6
        _close(ours.sample(shape), ref.sample(shape), rtol=exact, atol=exact)
        if ref.has_rsample:
            _close(ours.rsample(shape), ref.rsample(shape), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("case", ALL_CASES, ids=ALL_IDS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_values_equal_torch(device, case, dtype):
    spec, value = case
    if spec[0] in ("Normal", "Gamma", "Beta") and not isinstance(spec[1][0], list) and device != "cpu":
        pytest.skip("parameters from Python numbers are cpu tensors; plugrad does not mix a "
                    "0-dim cpu tensor into another device's op as torch does")
    ours, ref = _pair(device, spec, dtype)
    tol = 1e-5 if dtype == "float32" or ref.mean.dtype == torch.float32 else 1e-12
    assert ours.batch_shape == ref.batch_shape and ours.event_shape == ref.event_shape
    vdt = "int64" if spec[0] == "Categorical" else dtype
    v, vt = _value(plugrad, device, value, vdt), _value(torch, "cpu", value, vdt)
    _close(ours.log_prob(v), ref.log_prob(vt), tol, tol)
    if spec[0] != "Poisson":                                   # torch has no Poisson entropy
        _close(ours.entropy(), ref.entropy(), tol, tol)
    for attr in ["mean", "mode", "variance", "stddev"]:
        _close(getattr(ours, attr), getattr(ref, attr), tol, tol)
    if spec[0] in ("Normal", "Uniform", "Exponential", "Laplace", "LogNormal"):
        _close(ours.cdf(v), ref.cdf(vt), tol, tol)
        q = [0.1, 0.5, 0.9] if spec[1] and isinstance(spec[1][0], list) else 0.3
        _close(ours.icdf(_value(plugrad, device, q, dtype)), ref.icdf(_value(torch, "cpu", q, dtype)), tol, tol)
    big = torch.Size((2,)) + ref.batch_shape
    _close(ours.expand(big).log_prob(v), ref.expand(big).log_prob(vt), tol, tol)
    assert repr(ours) == repr(ref)


def test_multivariate_normal_matrices(device):
    for kw in ["covariance_matrix", "precision_matrix", "scale_tril"]:
        mat = COV if kw != "scale_tril" else [[1.0, 0.0, 0.0], [0.5, 2.0, 0.0], [-0.3, 0.2, 0.7]]
        ours, ref = _pair(device, ("MultivariateNormal", [LOC], {kw: mat}), "float64")
        for attr in ["covariance_matrix", "precision_matrix", "scale_tril"]:
            _close(getattr(ours, attr), getattr(ref, attr), 1e-12, 1e-12)


KL_PAIRS = [
    (NORMAL, ("Normal", [[0.0, 1.0, 0.5], [2.0, 1.0, 0.3]], {})),
    (("Bernoulli", [[0.2, 0.7, 0.0]], {}), ("Bernoulli", [[0.5, 0.1, 0.3]], {})),
    (("Bernoulli", [[0.2, 1.0, 0.5]], {}), ("Bernoulli", [[0.0, 0.1, 1.0]], {})),
    (("Categorical", [PROBS], {}), ("Categorical", [], {"logits": [[0.0, 1.0, 2.0]]})),
    (("Categorical", [[[0.5, 0.5, 0.0]]], {}), ("Categorical", [[[0.2, 0.0, 0.8]]], {})),
    (("OneHotCategorical", [PROBS], {}), ("OneHotCategorical", [[[0.1, 0.1, 0.8]]], {})),
    (("Uniform", [[0.0, 1.0], [2.0, 3.0]], {}), ("Uniform", [[-1.0, 1.5], [3.0, 4.0]], {})),
    (("Exponential", [[0.5, 2.0]], {}), ("Exponential", [[1.5, 0.2]], {})),
    (("Laplace", [LOC, SCALE], {}), ("Laplace", [[0.0, 0.0, 0.0], [1.0, 2.0, 0.5]], {})),
    (("MultivariateNormal", [LOC, COV], {}),
     ("MultivariateNormal", [[0.0, 0.5, 0.0]], {"scale_tril": [[1.0, 0.0, 0.0], [0.5, 2.0, 0.0],
                                                              [-0.3, 0.2, 0.7]]})),
    (("Independent", [("dist", NORMAL), 1], {}), ("Independent", [("dist", ("Normal", [[0.0] * 3, [2.0] * 3], {})), 1], {})),
    (("LogNormal", [LOC, SCALE], {}), ("LogNormal", [[0.0] * 3, [2.0] * 3], {})),
    (("Uniform", [[0.0, 1.0], [2.0, 3.0]], {}), ("Normal", [[0.0, 1.0], [2.0, 3.0]], {})),
    (NORMAL, ("Laplace", [[0.0, 1.0, 0.5], [2.0, 1.0, 0.3]], {})),
    (("Gamma", [[0.3, 1.0, 4.5], [2.0, 0.5, 1.0]], {}), ("Gamma", [[1.0, 2.0, 0.5], [1.0, 1.0, 3.0]], {})),
    (("Beta", [[0.3, 1.0, 4.5], [2.0, 0.5, 1.0]], {}), ("Beta", [[1.0, 2.0, 0.5], [1.0, 1.0, 3.0]], {})),
    (("Dirichlet", [[[0.3, 1.0, 4.5], [2.0, 2.0, 2.0]]], {}), ("Dirichlet", [[[1.0, 1.0, 1.0]]], {})),
    (("Poisson", [[0.5, 3.0, 40.0]], {}), ("Poisson", [[1.5, 3.0, 30.0]], {})),
    (("Binomial", [[10.0, 10.0]], {"probs": [0.2, 0.5]}), ("Binomial", [[10.0, 5.0]], {"probs": [0.4, 0.5]})),
    (("Exponential", [[0.5, 2.0]], {}), ("Gamma", [[1.5, 0.2], [1.0, 3.0]], {})),
]


@pytest.mark.parametrize("pair", KL_PAIRS, ids=[f"{p[0][0]}-{p[1][0]}{i}" for i, p in enumerate(KL_PAIRS)])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_kl_divergence(device, pair, dtype):
    tol = 1e-5 if dtype == "float32" else 1e-12
    p, pt = _pair(device, pair[0], dtype)
    q, qt = _pair(device, pair[1], dtype)
    _close(plugrad.distributions.kl_divergence(p, q), torch.distributions.kl_divergence(pt, qt), tol, tol)


def test_kl_registry(device):
    D = plugrad.distributions
    with pytest.raises(NotImplementedError, match="No KL\\(p \\|\\| q\\) is implemented for p type Normal and q type Bernoulli"):
        D.kl_divergence(D.Normal(0.0, 1.0), D.Bernoulli(0.5))

    class MyNormal(D.Normal):
        pass

    @D.register_kl(MyNormal, D.Normal)
    def _kl(p, q):
        return p.loc * 0 + 42.0

    assert D.kl_divergence(MyNormal(0.0, 1.0), D.Normal(1.0, 1.0)).item() == 42.0
    assert D.kl_divergence(D.Normal(0.0, 1.0), MyNormal(0.0, 1.0)).item() == 0.0   # Normal-Normal


GRAD_CASES = [
    ("Normal", 2, [0.3, -1.0]),
    ("Laplace", 2, [0.3, -1.0]),
    ("Uniform", 2, [0.3, 0.9]),
    ("Exponential", 1, [0.3, 2.0]),
    ("LogNormal", 2, [0.3, 2.0]),
]


@pytest.mark.parametrize("name,nparams,value", GRAD_CASES)
def test_gradients_equal_torch(device, name, nparams, value):
    raw = [[0.2, 0.5], [1.0, 1.5]][:nparams]
    if name == "Exponential":
        raw = [[0.7, 1.5]]
    ps = [plugrad.tensor(r, dtype=plugrad.float64, device=device, requires_grad=True) for r in raw]
    ts = [torch.tensor(r, dtype=torch.float64, requires_grad=True) for r in raw]
    ours, ref = getattr(plugrad.distributions, name)(*ps), getattr(torch.distributions, name)(*ts)
    plugrad.manual_seed(3)
    torch.manual_seed(3)
    loss = ours.rsample((5,)).pow(2).sum() + ours.log_prob(_value(plugrad, device, value, "float64")).sum() + ours.entropy().sum()
    loss_t = ref.rsample((5,)).pow(2).sum() + ref.log_prob(torch.tensor(value, dtype=torch.float64)).sum() + ref.entropy().sum()
    loss.backward()
    loss_t.backward()
    for p, t in zip(ps, ts):
        _close(p.grad, t.grad, 1e-10, 1e-10)


def test_multivariate_normal_gradcheck(device):
    loc = plugrad.tensor(LOC, dtype=plugrad.float64, device=device, requires_grad=True)
    cov = plugrad.tensor(COV, dtype=plugrad.float64, device=device, requires_grad=True)
    x = plugrad.tensor([[0.0, 1.0, 2.0], [1.0, 0.5, -1.0]], dtype=plugrad.float64, device=device)

    def f(loc, cov):
        sym = (cov + cov.mT) / 2
        d = plugrad.distributions.MultivariateNormal(loc, sym, validate_args=False)
        return d.log_prob(x), d.entropy()
    assert plugrad.autograd.gradcheck(f, (loc, cov))
    # and the same gradient as torch's
    lt, ct = torch.tensor(LOC, dtype=torch.float64, requires_grad=True), torch.tensor(COV, dtype=torch.float64, requires_grad=True)
    ref = torch.distributions.MultivariateNormal(lt, ct)
    ours = plugrad.distributions.MultivariateNormal(loc, cov)
    plugrad.manual_seed(0)
    torch.manual_seed(0)
    (ours.log_prob(x).sum() + ours.rsample((3,)).sum()).backward()
    (ref.log_prob(torch.tensor(_np(x))).sum() + ref.rsample((3,)).sum()).backward()
    _close(loc.grad, lt.grad, 1e-10, 1e-10)
    _close(cov.grad, ct.grad, 1e-10, 1e-10)


def _same_error(fn, exc=ValueError):
    with pytest.raises(exc) as ref_err:
        fn(torch, torch.distributions)
    with pytest.raises(exc) as our_err:
        fn(plugrad, plugrad.distributions)
    assert str(our_err.value) == str(ref_err.value)


@pytest.mark.parametrize("bad", [
    lambda t, D: D.Normal(t.tensor([1.0]), t.tensor([-1.0])),
    lambda t, D: D.Normal(t.tensor([1.0, math.nan]), t.tensor([1.0, 1.0])),
    lambda t, D: D.Bernoulli(t.tensor([1.5])),
    lambda t, D: D.Bernoulli(t.tensor([0.5]), logits=t.tensor([0.0])),
    lambda t, D: D.Categorical(t.tensor([[0.2, -0.1]])),
    lambda t, D: D.Categorical(t.tensor(0.5)),
    lambda t, D: D.Uniform(t.tensor([2.0]), t.tensor([1.0])),
    lambda t, D: D.Exponential(t.tensor([0.0])),
    lambda t, D: D.MultivariateNormal(t.zeros(2), t.tensor([[1.0, 2.0], [2.0, 1.0]])),
    lambda t, D: D.MultivariateNormal(t.zeros(2), t.tensor([[1.0, 0.0], [0.5, 1.0]])),
    lambda t, D: D.MultivariateNormal(t.zeros(2), scale_tril=t.tensor([[1.0, 0.1], [0.5, 1.0]])),
    lambda t, D: D.MultivariateNormal(t.zeros(2)),
    lambda t, D: D.MultivariateNormal(t.tensor(0.0), t.eye(2)),
    lambda t, D: D.Independent(D.Normal(t.zeros(2), t.ones(2)), 2),
    lambda t, D: D.Normal(0.0, 1.0).log_prob(1.0),
    lambda t, D: D.Normal(t.zeros(3), 1.0).log_prob(t.zeros(2)),
    lambda t, D: D.Bernoulli(t.tensor([0.5])).log_prob(t.tensor([0.5])),
    lambda t, D: D.Categorical(t.tensor([0.5, 0.5])).log_prob(t.tensor(2)),
    lambda t, D: D.OneHotCategorical(t.tensor([0.5, 0.5])).log_prob(t.tensor([1.0, 1.0])),
    lambda t, D: D.MultivariateNormal(t.zeros(2), t.eye(2)).log_prob(t.zeros(3)),
    lambda t, D: D.Exponential(t.tensor([1.0])).log_prob(t.tensor([-1.0])),
    lambda t, D: D.Uniform(0.0, 1.0).log_prob(t.tensor(2.0)),
])
def test_validation_errors_as_torch(bad):
    _same_error(bad)


def test_validation_can_be_turned_off():
    D = plugrad.distributions
    d = D.Normal(plugrad.tensor([1.0]), plugrad.tensor([-1.0]), validate_args=False)
    assert math.isnan(d.log_prob(plugrad.tensor([0.0])).item())
    D.Distribution.set_default_validate_args(False)
    try:
        D.Bernoulli(plugrad.tensor([1.5]))
    finally:
        D.Distribution.set_default_validate_args(True)
    with pytest.raises(ValueError):
        D.Bernoulli(plugrad.tensor([1.5]))
    with pytest.raises(ValueError):
        D.Distribution.set_default_validate_args(2)


@pytest.mark.parametrize("cname", ["real", "positive", "nonnegative", "unit_interval", "simplex",
                                   "boolean", "real_vector", "lower_cholesky", "positive_definite",
                                   "nonnegative_integer", "one_hot"])
def test_constraints_check_and_repr(cname):
    ours, ref = getattr(plugrad.distributions.constraints, cname), getattr(torch.distributions.constraints, cname)
    assert repr(ours) == repr(ref)
    assert ours.event_dim == ref.event_dim and ours.is_discrete == ref.is_discrete
    samples = {0: [[-1.0, 0.0, 0.5, 1.0, 2.0, math.nan]],
               1: [[0.2, 0.8], [1.0, 0.0], [0.5, 0.6], [-0.1, 1.1]],
               2: [[[1.0, 0.0], [0.5, 2.0]], [[1.0, 0.3], [0.3, 1.0]], [[-1.0, 0.0], [0.0, 1.0]],
                   [[1.0, 2.0], [2.0, 1.0]]]}[ref.event_dim]
    for s in samples:
        _close(ours.check(plugrad.tensor(s)), ref.check(torch.tensor(s)), 0, 0)


@pytest.mark.parametrize("make", [
    lambda C: C.positive, lambda C: C.unit_interval, lambda C: C.interval(-2.0, 3.0),
    lambda C: C.greater_than(1.5), lambda C: C.less_than(-1.0), lambda C: C.simplex,
    lambda C: C.real, lambda C: C.independent(C.positive, 1),
])
def test_biject_to_round_trip(make):
    x = [[0.3, -1.2, 2.0], [0.0, 0.5, -0.4]]
    t = plugrad.distributions.biject_to(make(plugrad.distributions.constraints))
    tt = torch.distributions.biject_to(make(torch.distributions.constraints))
    xs, xts = plugrad.tensor(x, dtype=plugrad.float64), torch.tensor(x, dtype=torch.float64)
    y, yt = t(xs), tt(xts)
    _close(y, yt, 1e-12, 1e-12)
    _close(t.inv(y), tt.inv(yt), 1e-10, 1e-10)
    _close(t.log_abs_det_jacobian(xs, y), tt.log_abs_det_jacobian(xts, yt), 1e-12, 1e-12)


@pytest.mark.parametrize("make", [
    lambda D, t: [D.ExpTransform()],
    lambda D, t: [D.AffineTransform(1.0, -2.0)],
    lambda D, t: [D.SigmoidTransform(), D.AffineTransform(t([1.0, 2.0, 3.0]), 2.0)],
    lambda D, t: [D.TanhTransform()],
    lambda D, t: [D.ExpTransform(), D.PowerTransform(t(1.5))],
    lambda D, t: [D.ComposeTransform([D.ExpTransform(), D.AffineTransform(0.5, 3.0)])],
    lambda D, t: [D.ExpTransform().inv.inv],
])
def test_transformed_distribution(device, make):
    base = ("Normal", [LOC, SCALE], {})
    b, bt = _pair(device, base, "float64")
    ours = plugrad.distributions.TransformedDistribution(
        b, make(plugrad.distributions, lambda v: plugrad.tensor(v, dtype=plugrad.float64, device=device)))
    ref = torch.distributions.TransformedDistribution(
        bt, make(torch.distributions, lambda v: torch.tensor(v, dtype=torch.float64)))
    plugrad.manual_seed(5)
    torch.manual_seed(5)
    ys, yts = ours.sample((4,)), ref.sample((4,))
    _close(ys, yts, 1e-12, 1e-12)
    _close(ours.log_prob(ys), ref.log_prob(yts), 1e-10, 1e-10)
    assert ours.batch_shape == ref.batch_shape and ours.event_shape == ref.event_shape


def test_stick_breaking_and_softmax(device):
    for name in ["StickBreakingTransform", "SoftmaxTransform"]:
        ours, ref = getattr(plugrad.distributions, name)(), getattr(torch.distributions, name)()
        x = [[0.3, -1.2, 2.0], [0.0, 0.5, -0.4]]
        y, yt = ours(plugrad.tensor(x, dtype=plugrad.float64)), ref(torch.tensor(x, dtype=torch.float64))
        _close(y, yt, 1e-12, 1e-12)
        _close(ours.inv(y), ref.inv(yt), 1e-10, 1e-10)
        if name == "StickBreakingTransform":
            _close(ours.log_abs_det_jacobian(plugrad.tensor(x, dtype=plugrad.float64), y),
                   ref.log_abs_det_jacobian(torch.tensor(x, dtype=torch.float64), yt), 1e-12, 1e-12)


def test_abs_transform_and_equality():
    D = plugrad.distributions
    assert D.AbsTransform()(plugrad.tensor([-2.0, 3.0])).tolist() == [2.0, 3.0]
    assert D.ExpTransform() == D.ExpTransform() and D.ExpTransform() != D.TanhTransform()
    assert D.AffineTransform(1.0, 2.0) == D.AffineTransform(1.0, 2.0)
    assert D.ExpTransform().inv.inv == D.ExpTransform()


def test_categorical_enumerate_support_and_probs(device):
    ours, ref = _pair(device, ("Categorical", [PROBS], {}))
    _close(ours.enumerate_support(), ref.enumerate_support(), 0, 0)
    _close(ours.logits, ref.logits)
    b, bt = _pair(device, ("Bernoulli", [], {"logits": [0.2, -0.7]}))
    _close(b.probs, bt.probs)
    _close(b.enumerate_support(), bt.enumerate_support(), 0, 0)


def test_one_hot_straight_through_gradient(device):
    p = plugrad.tensor(PROBS, device=device, requires_grad=True)
    pt = torch.tensor(PROBS, requires_grad=True)
    plugrad.manual_seed(2)
    torch.manual_seed(2)
    s = plugrad.distributions.OneHotCategoricalStraightThrough(p).rsample((3,))
    st = torch.distributions.OneHotCategoricalStraightThrough(pt).rsample((3,))
    _close(s, st, 0, 0)
    (s * plugrad.arange(3.0, device=device)).sum().backward()
    (st * torch.arange(3.0)).sum().backward()
    _close(p.grad, pt.grad)


@pytest.mark.parametrize("shape,n,replacement", [((3,), 1, True), ((2, 3), 1, True), ((2, 3), 7, True),
                                                 ((4,), 9, True), ((2, 4), 3, False)])
def test_multinomial_stream_equals_torch(device, shape, n, replacement):
    """Categorical.sample rests on multinomial: one draw with replacement is torch's
    exponential race, more draws one float64 uniform each, row after row."""
    p = torch.rand(shape, generator=torch.Generator().manual_seed(1)) + 0.05
    plugrad.manual_seed(11)
    torch.manual_seed(11)
    ours = plugrad.multinomial(plugrad.tensor(p.numpy(), device=device), n, replacement)
    _close(ours, torch.multinomial(p, n, replacement), 0, 0)


def _ks_statistic(samples, cdf):
    xs = numpy.sort(samples)
    n = len(xs)
    c = cdf(xs)
    return max(numpy.max(numpy.arange(1, n + 1) / n - c), numpy.max(c - numpy.arange(n) / n))


@pytest.mark.parametrize("family,params,scipy_dist", [
    ("Gamma", (0.3, 1.0), lambda st: st.gamma(0.3)),
    ("Gamma", (4.5, 2.0), lambda st: st.gamma(4.5, scale=0.5)),
    ("Gamma", (0.05, 1.0), lambda st: st.gamma(0.05)),   # (smaller: mass clamped at tiny, as torch)
    ("Beta", (0.5, 2.0), lambda st: st.beta(0.5, 2.0)),
    ("Beta", (5.0, 5.0), lambda st: st.beta(5.0, 5.0)),
])
def test_continuous_samplers_pass_a_ks_test(device, family, params, scipy_dist):
    """Fixed seed, 4000 draws: the KS distance is below the 1% critical value (0.0257)."""
    scipy_stats = pytest.importorskip("scipy.stats")
    plugrad.manual_seed(1234)
    d = getattr(plugrad.distributions, family)(*[plugrad.tensor(p, dtype=plugrad.float64, device=device) for p in params])
    x = d.sample((4000,)).cpu().numpy()
    assert _ks_statistic(x, scipy_dist(scipy_stats).cdf) < 0.0257


@pytest.mark.parametrize("family,args", [
    ("Poisson", ([0.5, 3.0, 12.0, 250.0],)),
    ("Binomial", ([5.0, 40.0, 300.0, 1.0], [0.2, 0.5, 0.97, 0.5])),
    ("Dirichlet", ([[0.3, 1.0, 4.5]],)),
])
def test_discrete_and_dirichlet_samplers_match_moments(device, family, args):
    """Fixed seed, 20000 draws: mean and variance within 4 standard errors of torch's."""
    plugrad.manual_seed(99)
    ours = getattr(plugrad.distributions, family)(*[plugrad.tensor(a, dtype=plugrad.float64, device=device) for a in args])
    ref = getattr(torch.distributions, family)(*[torch.tensor(a, dtype=torch.float64) for a in args])
    n = 20000
    x = ours.sample((n,)).cpu().numpy()
    mean, var = ref.mean.numpy(), ref.variance.numpy()
    assert numpy.all(numpy.abs(x.mean(0) - mean) < 4 * numpy.sqrt(var / n) + 1e-12)
    assert numpy.all(numpy.abs(x.var(0) - var) < 6 * var * numpy.sqrt(2 / n) + 1e-3 * var + 1e-12)
    if family != "Dirichlet":
        assert numpy.all(x == numpy.round(x)) and numpy.all(x >= 0)


def test_gamma_reparametrized_gradient():
    from plugrad.distributions._sampling import standard_gamma_grad
    alpha = [0.3, 1.0, 2.5, 20.0, 20.0, 5.0, 9.0, 50.0, 0.01]
    x = [0.1, 1.5, 2.0, 19.0, 30.0, 3.0, 0.5, 50.0, 1e-20]
    for dt in ["float32", "float64"]:
        ours = standard_gamma_grad(plugrad.tensor(alpha, dtype=getattr(plugrad, dt)), plugrad.tensor(x, dtype=getattr(plugrad, dt)))
        ref = torch._standard_gamma_grad(torch.tensor(alpha, dtype=getattr(torch, dt)), torch.tensor(x, dtype=getattr(torch, dt)))
        _close(ours, ref, 1e-5 if dt == "float32" else 1e-12, 1e-6 if dt == "float32" else 1e-12)
    # pathwise: E[d sample / d concentration] = d E[sample] / d concentration = 1 / rate
    conc = plugrad.tensor([0.4, 3.0], dtype=plugrad.float64, requires_grad=True)
    plugrad.manual_seed(5)
    plugrad.distributions.Gamma(conc, 2.0).rsample((20000,)).mean(0).sum().backward()
    numpy.testing.assert_allclose(conc.grad.numpy(), [0.5, 0.5], rtol=0.05)
    c1 = plugrad.tensor([2.0], dtype=plugrad.float64, requires_grad=True)
    plugrad.distributions.Beta(c1, 3.0).rsample((20000,)).mean().backward()   # d/da a/(a+b) = 0.12
    numpy.testing.assert_allclose(c1.grad.numpy(), [0.12], rtol=0.08)


def test_mixture_same_family(device):
    def build(lib, dev):
        mk = (lambda v: plugrad.tensor(v, dtype=plugrad.float64, device=dev)) if lib is plugrad \
            else (lambda v: torch.tensor(v, dtype=torch.float64))
        D = lib.distributions
        mix = D.Categorical(mk([[0.3, 0.7], [0.5, 0.5]]))
        comp = D.Independent(D.Normal(mk([[[0.0, 1.0], [2.0, -1.0]], [[1.0, 1.0], [0.0, 0.0]]]),
                                      mk([[[1.0, 0.5], [2.0, 1.0]], [[0.3, 0.3], [1.0, 1.0]]])), 1)
        return D.MixtureSameFamily(mix, comp)
    ours, ref = build(plugrad, device), build(torch, "cpu")
    assert ours.batch_shape == ref.batch_shape and ours.event_shape == ref.event_shape
    x = [[[0.5, 0.5], [1.0, -2.0]]]
    _close(ours.log_prob(plugrad.tensor(x, dtype=plugrad.float64, device=device)),
           ref.log_prob(torch.tensor(x, dtype=torch.float64)), 1e-12, 1e-12)
    _close(ours.mean, ref.mean, 1e-12, 1e-12)
    _close(ours.variance, ref.variance, 1e-12, 1e-12)
    plugrad.manual_seed(4)
    torch.manual_seed(4)
    _close(ours.sample((3,)), ref.sample((3,)), 1e-12, 1e-12)
    with pytest.raises(ValueError) as err:
        plugrad.distributions.MixtureSameFamily(plugrad.distributions.Categorical(plugrad.ones(3)),
                                                plugrad.distributions.Normal(plugrad.zeros(2), 1.0))
    assert str(err.value) == "`mixture_distribution component` (3) does not equal `component_distribution.batch_shape[-1]` (2)"


@pytest.mark.parametrize("family,params,value", [
    ("Gamma", ([0.4, 3.0], [1.5, 0.5]), [0.3, 2.0]),
    ("Beta", ([0.4, 3.0], [1.5, 0.5]), [0.3, 0.8]),
    ("Dirichlet", ([[0.4, 3.0, 1.2]],), [[0.2, 0.5, 0.3]]),
    ("Poisson", ([0.4, 3.0],), [1.0, 2.0]),
])
def test_log_prob_and_entropy_gradients(device, family, params, value):
    ps = [plugrad.tensor(p, dtype=plugrad.float64, device=device, requires_grad=True) for p in params]
    ts = [torch.tensor(p, dtype=torch.float64, requires_grad=True) for p in params]
    ours, ref = getattr(plugrad.distributions, family)(*ps), getattr(torch.distributions, family)(*ts)
    loss = ours.log_prob(plugrad.tensor(value, dtype=plugrad.float64, device=device)).sum()
    loss_t = ref.log_prob(torch.tensor(value, dtype=torch.float64)).sum()
    if family != "Poisson":
        loss, loss_t = loss + ours.entropy().sum(), loss_t + ref.entropy().sum()
    loss.backward()
    loss_t.backward()
    for p, t in zip(ps, ts):
        _close(p.grad, t.grad, 1e-11, 1e-11)


def test_binomial_logits_gradient(device):
    lg = plugrad.tensor([0.2, -1.5, 3.0], dtype=plugrad.float64, device=device, requires_grad=True)
    lt = torch.tensor([0.2, -1.5, 3.0], dtype=torch.float64, requires_grad=True)
    v = [1.0, 0.0, 9.0]
    ours = plugrad.distributions.Binomial(10, logits=lg)
    ref = torch.distributions.Binomial(10, logits=lt)
    (ours.log_prob(plugrad.tensor(v, dtype=plugrad.float64, device=device)).sum() + ours.entropy().sum()).backward()
    (ref.log_prob(torch.tensor(v, dtype=torch.float64)).sum() + ref.entropy().sum()).backward()
    _close(lg.grad, lt.grad, 1e-11, 1e-11)
