"""plugrad.special against torch.special: values at edge cases (0, -0, inf, nan, far tails),
gradients (torch's and gradcheck in float64), and the torch.* / Tensor spellings."""
import math

import numpy
import plugrad
import pytest
import torch

EDGE = [-math.inf, -40.0, -7.5, -2.5, -1.0, -0.5, -0.0, 0.0, 0.25, 0.5, 1.0, 2.5, 9.0, 40.0,
        math.inf, math.nan]
UNIT = [0.0, 1e-300, 1e-8, 0.25, 0.5, 0.75, 1.0, -0.5, 1.5, math.nan]


def _pair(values, device, dtype="float64"):
    return (plugrad.tensor(values, dtype=getattr(plugrad, dtype), device=device),
            torch.tensor(values, dtype=getattr(torch, dtype)))


def _same(ours, ref, rtol=1e-12, atol=0.0, signs=True):
    assert ours.dtype.__repr__().split(".")[-1] == repr(ref.dtype).split(".")[-1]
    numpy.testing.assert_allclose(ours.cpu().numpy(), ref.numpy(), rtol=rtol, atol=atol)
    # signed zeros and infinities are part of the result (a nan's sign is not)
    if not signs:
        return
    o, r = ours.cpu().numpy(), ref.numpy()
    keep = ~numpy.isnan(r)
    numpy.testing.assert_array_equal(numpy.signbit(o)[keep], numpy.signbit(r)[keep])


UNARY = ["expit", "erf", "erfc", "exp2", "expm1", "log1p", "round", "sinc", "entr",
         "log_ndtr"]


@pytest.mark.parametrize("name", UNARY)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_unary_values(device, name, dtype):
    x, xt = _pair(EDGE, device, dtype)
    rtol = 1e-12 if dtype == "float64" else 2e-6
    ref = getattr(torch.special, name)(xt.double()).to(xt.dtype)
    atol = 1e-7 if (name, dtype) == ("sinc", "float32") else 0.0   # sin(pi n) in float32
    _same(getattr(plugrad.special, name)(x), ref, rtol=rtol, atol=atol, signs=atol == 0.0)
    if dtype == "float32":
        _same(getattr(plugrad.special, name)(x), getattr(torch.special, name)(xt),
              rtol=5e-6, atol=1e-7, signs=False)


def test_ndtr_values(device):
    # torch's ndtr is 0.5 * (1 + erf): it loses digits in the left tail, so the reference
    # there is exp(torch.special.log_ndtr), which is accurate
    x, xt = _pair(EDGE, device)
    ref = torch.where(xt < -2, torch.special.log_ndtr(xt).exp(), torch.special.ndtr(xt))
    _same(plugrad.special.ndtr(x), ref, rtol=1e-13)
    x32, xt32 = _pair(EDGE, device, "float32")
    _same(plugrad.special.ndtr(x32), ref.float(), rtol=2e-6)


def test_log_ndtr_far_tails(device):
    """log_ndtr(-40) is -804.6 (ndtr itself underflows); log_ndtr(10) is -7.6e-24, not 0."""
    pts = [-1e10, -1e5, -40.0, -38.0, -30.0, -20.0, -8.0, -2.9, -2.0, 5.0, 10.0, 30.0]
    x, xt = _pair(pts, device)
    _same(plugrad.special.log_ndtr(x), torch.special.log_ndtr(xt), rtol=1e-13)
    assert plugrad.special.log_ndtr(x)[2].item() == pytest.approx(-804.6084420137538, rel=1e-14)


def test_erfc_upper_tail_is_relative_accurate(device):
    x, xt = _pair([2.0, 3.0, 5.0, 10.0, 20.0, 26.0], device)
    _same(plugrad.erfc(x), torch.erfc(xt), rtol=1e-14)
    assert plugrad.erfc(x)[3].item() > 0         # 2.1e-45, not 1 - 1


ERFINV = [0.0, -0.0, 1e-300, 1e-20, 0.1, 0.4999, 0.5, 0.5001, 0.9, -0.99, 0.999999, 1 - 1e-10,
          1 - 1e-13, 1 - 2 ** -50, 1 - 2 ** -52, -(1 - 2 ** -53), 1.0, -1.0, 1.5, -2.0, math.inf,
          math.nan]


def test_erfinv_values(device):
    """Full double precision out to 1 - 2**-53 (Newton on log(erfc) there), +-inf at +-1."""
    x, xt = _pair(ERFINV, device)
    _same(plugrad.special.erfinv(x), torch.special.erfinv(xt), rtol=2e-15)
    _same(plugrad.erfinv(x), torch.erfinv(xt), rtol=2e-15)
    dense = numpy.linspace(-0.9999995, 0.9999995, 20001).tolist()
    for dtype, rtol in (("float64", 4e-15), ("float32", 2.5e-7)):
        d, dt = _pair(dense, device, dtype)
        _same(plugrad.erfinv(d), torch.erfinv(dt), rtol=rtol, signs=False)
    i, it = _pair([0, 1, -1], device, "int64")
    _same(plugrad.erfinv(i), torch.erfinv(it))


NDTRI = [0.0, -0.0, 1e-300, 1e-100, 1e-16, 1e-5, 0.02, 0.25, 0.4999, 0.5, 0.5001, 0.75, 0.99,
         1 - 1e-10, 1 - 2 ** -53, 1.0, -0.5, 1.5, math.inf, math.nan]


def test_ndtri_values(device):
    """The left tail keeps full relative precision (ndtri(1e-300) = -37.04)."""
    x, xt = _pair(NDTRI, device)
    _same(plugrad.special.ndtri(x), torch.special.ndtri(xt), rtol=2e-15)
    dense = numpy.linspace(1e-6, 1 - 1e-6, 20001).tolist()
    for dtype, rtol in (("float64", 4e-15), ("float32", 2.5e-7)):
        d, dt = _pair(dense, device, dtype)
        _same(plugrad.special.ndtri(d), torch.special.ndtri(dt), rtol=rtol, atol=1e-6,
              signs=False)


def test_logit_eps(device):
    x, xt = _pair(UNIT, device)
    _same(plugrad.special.logit(x), torch.special.logit(xt))
    _same(plugrad.special.logit(x, eps=1e-6), torch.special.logit(xt, eps=1e-6))
    _same(plugrad.special.logit(x, 0.25), torch.special.logit(xt, 0.25))


def test_expit_is_sigmoid(device):
    x, xt = _pair(EDGE, device, "float32")
    _same(plugrad.special.expit(x), torch.special.expit(xt), rtol=1e-6)


BIN_A = [0.0, -0.0, 0.0, 0.0, 0.0, 1.0, 2.0, -3.0, math.nan, 0.0, 1.5, math.inf, 2.0]
BIN_B = [0.0, -1.0, math.nan, -2.0, math.inf, 0.0, -1.0, 0.5, 1.0, 3.0, -0.5, 2.0, math.inf]


@pytest.mark.parametrize("name", ["xlogy", "xlog1py"])
def test_binary_values(device, name):
    (a, at), (b, bt) = _pair(BIN_A, device), _pair(BIN_B, device)
    fn, ref = getattr(plugrad.special, name), getattr(torch.special, name)
    _same(fn(a, b), ref(at, bt))
    _same(fn(a, 2.5), ref(at, 2.5))
    _same(fn(3.0, b), ref(3.0, bt))
    ai, ait = _pair([0, 1, 2], device, "int64")
    _same(fn(ai, ai), ref(ait, ait))            # integers promote to the default float


def test_xlog1py_needs_a_tensor():
    with pytest.raises(TypeError):
        torch.special.xlog1py(1.0, 2.0)
    with pytest.raises(TypeError):
        plugrad.special.xlog1py(1.0, 2.0)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_family(device, name):
    x, xt = _pair([[1.0, 2.0, -math.inf], [0.5, 0.5, 3.0]], device)
    _same(getattr(plugrad.special, name)(x, 1), getattr(torch.special, name)(xt, 1))
    _same(getattr(plugrad.special, name)(x, 0, dtype=plugrad.float32),
          getattr(torch.special, name)(xt, 0, dtype=torch.float32), rtol=1e-6)
    _same(plugrad.special.logsumexp(x, 1), torch.special.logsumexp(xt, 1))


def _grads(fn, ref, values, device, *others):
    x = plugrad.tensor(values, dtype=plugrad.float64, device=device, requires_grad=True)
    xt = torch.tensor(values, dtype=torch.float64, requires_grad=True)
    fn(x, *others).sum().backward()
    ref(xt, *others).sum().backward()
    _same(x.grad, xt.grad, rtol=1e-10, signs=False)     # an underflowed 0 may be -0 in torch


@pytest.mark.parametrize("name", ["entr", "log_ndtr", "ndtr", "erfc", "sinc", "expit",
                                  "erfinv", "ndtri"])
def test_unary_gradients_match_torch(device, name):
    values = {"entr": [0.0, -1.0, 0.3, 2.5, math.inf],
              "erfinv": [-0.999, -0.3, 0.0, 0.6, 0.9999999, 1.0],
              "ndtri": [1e-200, 0.01, 0.5, 0.7, 1 - 1e-12, 1.0]}.get(
                  name, [-40.0, -9.0, -3.0, -0.7, 0.3, 2.5, 9.0])
    _grads(getattr(plugrad.special, name), getattr(torch.special, name), values, device)


def test_xlog1py_gradients_match_torch(device):
    a, at = _pair([0.0, 0.0, 0.0, 1.5, -2.0], device)
    b, bt = _pair([-1.0, -2.0, 0.5, 0.5, 3.0], device)
    for t in (a, b, at, bt):
        t.requires_grad_(True)
    plugrad.special.xlog1py(a, b).sum().backward()
    torch.special.xlog1py(at, bt).sum().backward()
    _same(a.grad, at.grad)
    _same(b.grad, bt.grad)
    assert type(plugrad.special.xlog1py(a, b).grad_fn).__name__ == "SpecialXlog1PyBackward0"
    assert type(plugrad.special.xlog1py(2.0, b).grad_fn).__name__ == "SpecialXlog1PyBackward1"


@pytest.mark.parametrize("name", ["entr", "log_ndtr", "ndtr", "erfc", "logit", "sinc",
                                  "expit", "exp2", "expm1", "log1p", "erfinv", "ndtri"])
def test_unary_gradcheck(device, name):
    fn = getattr(plugrad.special, name)
    values = [0.05, 0.3, 0.45, 0.9] if name in ("logit", "entr", "erfinv", "ndtri") else \
        [-38.0, -6.0, -2.2, -0.4, 0.6, 1.9, 7.0]
    x = plugrad.tensor(values, dtype=plugrad.float64, device=device, requires_grad=True)
    assert plugrad.autograd.gradcheck(fn, (x,))
    assert plugrad.autograd.gradgradcheck(fn, (x,))


@pytest.mark.parametrize("name", ["xlogy", "xlog1py"])
def test_binary_gradcheck(device, name):
    a = plugrad.tensor([0.3, -1.2, 2.0], dtype=plugrad.float64, device=device,
                       requires_grad=True)
    b = plugrad.tensor([0.7, 1.5, 4.0], dtype=plugrad.float64, device=device,
                       requires_grad=True)
    fn = getattr(plugrad.special, name)
    assert plugrad.autograd.gradcheck(fn, (a, b))
    assert plugrad.autograd.gradgradcheck(fn, (a, b))


def test_torch_and_tensor_spellings(device):
    x, xt = _pair([0.1, 0.5, 0.9], device)
    y, yt = _pair([0.0, 2.0, 3.0], device)
    _same(plugrad.logit(x, 0.2), torch.logit(xt, 0.2))
    _same(x.logit(), xt.logit())
    _same(x.sinc(), xt.sinc())
    _same(y.xlogy(x), yt.xlogy(xt))
    _same(x.erfc(), xt.erfc())
    _same(x.erfinv(), xt.erfinv())
    for name, args in (("logit_", (0.2,)), ("sinc_", ()), ("xlogy_", (y,)), ("erfc_", ()),
                       ("erfinv_", ())):
        ours = x.clone()
        targs = tuple(yt if a is y else a for a in args)
        ref = getattr(xt.clone(), name)(*targs)
        assert getattr(ours, name)(*args) is ours
        _same(ours, ref)


def test_namespace_lists_what_it_has():
    for name in plugrad.special.__all__:
        assert hasattr(torch.special, name), name
