"""Smaller layers and utilities against torch: LocalResponseNorm, ChannelShuffle, pdist,
MaxUnpool1d/2d/3d (with max-pool indices), Softmax2d, RReLU, celu_/selu_, the
adaptive_max_pool*_with_indices spellings, nn.utils.stateless.functional_call, skip_init, the
conv/linear + batch-norm fusion helpers and nn.init's deprecated spellings."""
from __future__ import annotations

import warnings

import numpy as np
import plugrad
import pytest
import torch

from nn_oracle import check_fn, check_module, host, raises_like

_rng = np.random.default_rng(31)


def x(*shape):
    return _rng.standard_normal(shape).astype("float32")


MODULES = [
    ("lrn_3d", lambda nn: nn.LocalResponseNorm(3, alpha=0.1, beta=0.6, k=2.0), [x(2, 5, 4)]),
    ("lrn_4d", lambda nn: nn.LocalResponseNorm(2), [x(2, 5, 3, 3)]),
    ("lrn_5d", lambda nn: nn.LocalResponseNorm(4, alpha=0.5), [x(1, 6, 2, 3, 2)]),
    ("channel_shuffle", lambda nn: nn.ChannelShuffle(3), [x(2, 6, 2, 2)]),
    ("softmax2d", lambda nn: nn.Softmax2d(), [x(2, 3, 2, 2)]),
    ("rrelu_eval", lambda nn: nn.RReLU(0.1, 0.4), [x(3, 4)]),
]


@pytest.mark.parametrize("name,make,inputs", MODULES, ids=[m[0] for m in MODULES])
def test_modules(device, name, make, inputs):
    check_module(make, inputs, device, name=name, train=name != "rrelu_eval")


@pytest.mark.parametrize("nd", [1, 2, 3])
def test_max_unpool_round_trip(device, nd):
    shape = (2, 3) + (6,) * nd
    a = np.round(x(*shape) * 2)
    pool = ("max_pool1d", "max_pool2d", "max_pool3d")[nd - 1]
    unpool = ("max_unpool1d", "max_unpool2d", "max_unpool3d")[nd - 1]

    def fn(T, inp):
        values, idx = getattr(T.nn.functional, pool)(inp, 2, return_indices=True)
        return getattr(T.nn.functional, unpool)(values, idx, 2, output_size=inp.shape[2:])
    check_fn(fn, [a], device, name=f"unpool{nd}d", grad_fn=False)
    m = getattr(plugrad.nn, f"MaxUnpool{nd}d")(2, stride=2)
    assert repr(m) == repr(getattr(torch.nn, f"MaxUnpool{nd}d")(2, stride=2))


def test_functions(device):
    F = lambda T: T.nn.functional  # noqa: E731
    check_fn(lambda T, a: F(T).pdist(a), [x(5, 3)], device, name="pdist", grad_fn=False)
    check_fn(lambda T, a: F(T).pdist(a, p=1.5), [x(4, 3)], device, name="pdist p", grad_fn=False)
    check_fn(lambda T, a: F(T).channel_shuffle(a, 2), [x(1, 4, 3)], device, name="shuffle",
             grad_fn=False)
    check_fn(lambda T, a: F(T).rrelu(a, 0.2, 0.3), [x(3, 4)], device, name="rrelu eval")
    check_fn(lambda T, a: F(T).celu_(a * 1.0, 0.7), [x(3, 4)], device, name="celu_",
             grad_fn=False)
    check_fn(lambda T, a: F(T).selu_(a * 1.0), [x(3, 4)], device, name="selu_", grad_fn=False)
    for k in (1, 2, 3):
        check_fn(lambda T, a: getattr(F(T), f"adaptive_max_pool{k}d_with_indices")(a, 2),
                 [np.round(x(*(2, 3) + (5,) * k))], device, name=f"amp{k}", grad_fn=False)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_rrelu_training_draws_torchs_slopes(device, dtype):
    # torch: one double uniform per element <= 0 in row-major order; the slope is the gradient
    data = x(40, 30).astype(dtype)
    data[0, :3] = 0.0
    weights = x(40, 30).astype(dtype)
    results = {}
    for T, dev in ((torch, "cpu"), (plugrad, device)):
        T.manual_seed(7)
        a = T.tensor(data, device=dev, requires_grad=True)
        out = T.nn.functional.rrelu(a, 0.1, 0.3, training=True)
        (out * T.tensor(weights, device=dev)).sum().backward()
        module = T.nn.RReLU(0.2, 0.25).train()(T.tensor(data[:5], device=dev))
        inplace = T.nn.functional.rrelu_(T.tensor(data[5:9], device=dev), training=True)
        after = T.rand(3)                                 # the stream moved on as torch's
        results[T] = [host(v) for v in (out, a.grad, module, inplace, after)]
        assert out.grad_fn.name() == "RreluWithNoiseBackward0"
    for got, want in zip(results[plugrad], results[torch]):
        np.testing.assert_array_equal(got, want)


ERRORS = [
    lambda T: T.nn.functional.channel_shuffle(T.zeros(1, 5, 2, 2), 2),
    lambda T: T.nn.functional.channel_shuffle(T.zeros(1, 4, 2, 2), 0),
    lambda T: T.nn.functional.channel_shuffle(T.zeros(4), 2),
    lambda T: T.nn.Softmax2d()(T.zeros(2, 2)),
    lambda T: T.nn.functional.local_response_norm(T.zeros(2, 3), 2),
    lambda T: T.nn.functional.max_unpool2d(T.zeros(1, 1, 2, 2), T.zeros(1, 1, 2, 2).long(), 2,
                                           output_size=(5,)),
    lambda T: T.nn.functional.max_unpool2d(T.zeros(1, 1, 2, 2), T.zeros(1, 1, 2, 2).long(), 2,
                                           output_size=(7, 7)),
    lambda T: T.nn.functional.max_unpool2d(T.zeros(1, 1, 2, 2),
                                           T.full((1, 1, 2, 2), 17).long(), 2),
    lambda T: T.nn.functional.pdist(T.zeros(2, 3, 4)),
    lambda T: T.nn.utils.skip_init(T.nn.ReLU),
]


@pytest.mark.parametrize("i", range(len(ERRORS)))
def test_errors_match_torch(i):
    raises_like(lambda: ERRORS[i](torch), lambda: ERRORS[i](plugrad))


def test_functional_call(device):
    torch.manual_seed(0)
    tm = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4))
    pm = plugrad.nn.Sequential(plugrad.nn.Linear(3, 4), plugrad.nn.BatchNorm1d(4))
    pm.load_state_dict({k: plugrad.tensor(host(v)) for k, v in tm.state_dict().items()})
    pm.to(device)
    w = x(4, 3)
    a = x(5, 3)
    tw = torch.tensor(w, requires_grad=True)
    pw = plugrad.tensor(w, device=device, requires_grad=True)
    t_out = torch.nn.utils.stateless.functional_call(tm, {"0.weight": tw}, (torch.tensor(a),))
    p_out = plugrad.nn.utils.stateless.functional_call(pm, {"0.weight": pw},
                                                       (plugrad.tensor(a, device=device),))
    np.testing.assert_allclose(host(p_out), host(t_out), atol=1e-5)
    t_out.pow(2).sum().backward()
    p_out.pow(2).sum().backward()
    np.testing.assert_allclose(host(pw.grad), host(tw.grad), atol=1e-4)
    assert pm[0].weight is not pw and pm[0].weight.grad is None     # restored, untouched
    np.testing.assert_allclose(host(pm[1].running_mean), host(tm[1].running_mean), atol=1e-6)
    raises_like(lambda: torch.nn.utils.stateless.functional_call(
        tm, {"0.weight": tw}, (torch.tensor(a),), strict=True),
        lambda: plugrad.nn.utils.stateless.functional_call(
            pm, {"0.weight": pw}, (plugrad.tensor(a, device=device),), strict=True),
        match_message=False)


def test_skip_init_leaves_stream():
    plugrad.manual_seed(5)
    m = plugrad.nn.utils.skip_init(plugrad.nn.Linear, 3, 4)
    assert tuple(m.weight.shape) == (4, 3)
    after = plugrad.rand(2).tolist()
    plugrad.manual_seed(5)
    assert plugrad.rand(2).tolist() == after


@pytest.mark.parametrize("transpose", [False, True])
def test_fusion(device, transpose):
    torch.manual_seed(0)
    conv = (torch.nn.ConvTranspose2d if transpose else torch.nn.Conv2d)(3, 4, 2)
    bn = torch.nn.BatchNorm2d(4)
    bn.running_mean.uniform_(-1, 1)
    bn.running_var.uniform_(0.5, 2)
    bn.weight.data.uniform_(0.5, 2)
    conv.eval()
    bn.eval()
    pconv = (plugrad.nn.ConvTranspose2d if transpose else plugrad.nn.Conv2d)(3, 4, 2)
    pbn = plugrad.nn.BatchNorm2d(4)
    for t, p in ((conv, pconv), (bn, pbn)):
        p.load_state_dict({k: plugrad.tensor(host(v)) for k, v in t.state_dict().items()})
        p.eval()
        p.to(device)
    fused_t = torch.nn.utils.fuse_conv_bn_eval(conv, bn, transpose)
    fused_p = plugrad.nn.utils.fuse_conv_bn_eval(pconv, pbn, transpose)
    a = x(1, 3, 5, 5)
    np.testing.assert_allclose(host(fused_p(plugrad.tensor(a, device=device))),
                               host(fused_t(torch.tensor(a))), atol=1e-5)
    assert isinstance(fused_p.weight, plugrad.nn.Parameter)
    lin, bn1 = torch.nn.Linear(3, 4).eval(), torch.nn.BatchNorm1d(4).eval()
    bn1.running_var.uniform_(0.5, 2)
    plin, pbn1 = plugrad.nn.Linear(3, 4).eval(), plugrad.nn.BatchNorm1d(4).eval()
    for t, p in ((lin, plin), (bn1, pbn1)):
        p.load_state_dict({k: plugrad.tensor(host(v)) for k, v in t.state_dict().items()})
    b = x(2, 3)
    np.testing.assert_allclose(
        host(plugrad.nn.utils.fuse_linear_bn_eval(plin, pbn1)(plugrad.tensor(b))),
        host(torch.nn.utils.fuse_linear_bn_eval(lin, bn1)(torch.tensor(b))), atol=1e-5)


def test_init_deprecated_spellings():
    for name in ("normal", "uniform", "xavier_uniform", "kaiming_normal", "orthogonal"):
        plugrad.manual_seed(0)
        torch.manual_seed(0)
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            p = getattr(plugrad.nn.init, name)(plugrad.empty(3, 4))
            t = getattr(torch.nn.init, name)(torch.empty(3, 4))
        messages = [str(w.message) for w in seen if issubclass(w.category, FutureWarning)]
        assert len(messages) == 2 and messages[0] == messages[1]
        np.testing.assert_allclose(host(p), host(t), atol=1e-6)


def test_adaptive_log_softmax(device):
    targets = np.array([0, 3, 7, 12, 19, 5, 15, 1], "int64")
    check_module(lambda nn: nn.AdaptiveLogSoftmaxWithLoss(8, 20, [4, 10, 16], div_value=2.0,
                                                          head_bias=True),
                 [x(8, 8), targets], device, name="asm")
    torch.manual_seed(0)
    tm = torch.nn.AdaptiveLogSoftmaxWithLoss(8, 20, [4, 10])
    plugrad.manual_seed(0)
    pm = plugrad.nn.AdaptiveLogSoftmaxWithLoss(8, 20, [4, 10]).to(device)
    a = x(6, 8) * 3
    np.testing.assert_allclose(host(pm.log_prob(plugrad.tensor(a, device=device))),
                               host(tm.log_prob(torch.tensor(a))), atol=1e-5)
    assert pm.predict(plugrad.tensor(a, device=device)).tolist() == \
        tm.predict(torch.tensor(a)).tolist()
    np.testing.assert_allclose(
        host(pm(plugrad.tensor(a[0], device=device), plugrad.tensor(3, device=device)).output),
        host(tm(torch.tensor(a[0]), torch.tensor(3)).output), atol=1e-5)
    raises_like(lambda: torch.nn.AdaptiveLogSoftmaxWithLoss(8, 20, [4, 4]),
                lambda: plugrad.nn.AdaptiveLogSoftmaxWithLoss(8, 20, [4, 4]))
    raises_like(lambda: tm(torch.tensor(a), torch.tensor([0, 1, 2, 3, 4, 25])),
                lambda: pm(plugrad.tensor(a, device=device),
                           plugrad.tensor([0, 1, 2, 3, 4, 25], device=device)))


def test_deprecated_modules():
    for make in (lambda nn: nn.NLLLoss2d(), lambda nn: nn.Container(a=nn.ReLU())):
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            p = make(plugrad.nn)
            t = make(torch.nn)
        messages = [str(w.message) for w in seen if issubclass(w.category, FutureWarning)]
        assert len(messages) == 2 and messages[0] == messages[1]
        assert repr(p) == repr(t)
    assert isinstance(plugrad.nn.NLLLoss2d(), plugrad.nn.NLLLoss)


def test_fractional_max_pool(device):
    a = np.round(x(2, 3, 11, 9) * 2)
    u = _rng.random((2, 3, 2)).astype("float32")
    check_fn(lambda T, v, s: T.nn.functional.fractional_max_pool2d(
        v, (3, 2), output_size=(5, 4), return_indices=True, _random_samples=s), [a, u], device,
        grad_inputs=[0], name="frac2d", grad_fn=False)
    # samples drawn from the seeded stream, as torch draws them
    check_module(lambda nn: nn.FractionalMaxPool2d(2, output_ratio=(0.5, 0.6),
                                                   return_indices=True), [a], device,
                 name="frac2d module")
    a3 = np.round(x(2, 2, 7, 8, 7) * 2)
    check_module(lambda nn: nn.FractionalMaxPool3d((2, 3, 2), output_size=(4, 3, 5)), [a3],
                 device, name="frac3d module")


FRACTIONAL_ERRORS = [
    lambda T: T.nn.FractionalMaxPool2d(3),
    lambda T: T.nn.FractionalMaxPool2d(3, output_size=2, output_ratio=0.5),
    lambda T: T.nn.FractionalMaxPool2d(3, output_ratio=1.5),
    lambda T: T.nn.functional.fractional_max_pool2d(T.zeros(1, 1, 5, 5), 3, output_size=4),
    lambda T: T.nn.functional.fractional_max_pool3d(T.zeros(1, 1, 5, 5, 5), 3, output_size=3),
    lambda T: T.nn.functional.fractional_max_pool2d(T.zeros(1, 5, 5), 3, output_size=2,
                                                    _random_samples=T.zeros(1, 1, 3)),
]


@pytest.mark.parametrize("i", range(len(FRACTIONAL_ERRORS)))
def test_fractional_errors(i):
    raises_like(lambda: FRACTIONAL_ERRORS[i](torch), lambda: FRACTIONAL_ERRORS[i](plugrad))


def test_conv_tbc(device):
    check_fn(lambda T, a, w, b: T.nn.functional.conv_tbc(a, w, b, 1),
             [x(5, 2, 3), x(3, 3, 4), x(4)], device, name="conv_tbc")
    for fn in (lambda T: T.nn.functional.conv_tbc(T.zeros(2, 3), T.zeros(3, 3, 4), T.zeros(4)),
               lambda T: T.nn.functional.conv_tbc(T.zeros(5, 2, 3), T.zeros(3, 4), T.zeros(4)),
               lambda T: T.nn.functional.conv_tbc(T.zeros(5, 2, 3), T.zeros(3, 3, 4),
                                                  T.zeros(2)),
               lambda T: T.nn.functional.conv_tbc(T.zeros(5, 2, 3), T.zeros(3, 2, 4),
                                                  T.zeros(4))):
        raises_like(lambda: fn(torch), lambda: fn(plugrad))


def test_convert_conv_weight_memory_format():
    m = plugrad.nn.Sequential(plugrad.nn.Conv2d(3, 4, 2), plugrad.nn.ReLU(),
                              plugrad.nn.Sequential(plugrad.nn.ConvTranspose2d(4, 2, 2)))
    t = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 2), torch.nn.ReLU(),
                            torch.nn.Sequential(torch.nn.ConvTranspose2d(4, 2, 2)))
    before = [host(p).copy() for p in m.parameters()]
    plugrad.nn.utils.convert_conv2d_weight_memory_format(m, plugrad.channels_last)
    torch.nn.utils.convert_conv2d_weight_memory_format(t, torch.channels_last)
    assert m[0].weight.stride() == t[0].weight.stride()
    assert m[2][0].weight.stride() == t[2][0].weight.stride()
    for a, p in zip(before, m.parameters()):
        assert np.array_equal(a, host(p)) and isinstance(p, plugrad.nn.Parameter)
