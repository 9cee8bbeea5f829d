"""Activations (functional and modules) against torch: values at edge points (0, +-inf,
nan, large magnitudes), gradients (including at the kinks), grad_fn names, in-place forms."""
from __future__ import annotations

import math
import warnings

import numpy as np
import plugrad
import pytest
import torch

from nn_oracle import check_fn, check_module

EDGE = np.array([0.0, -0.0, 1e-3, -1e-3, 0.5, -0.5, 3.0, -3.0, 1.0, -1.0, 6.0, 25.0, -25.0,
                 90.0, -90.0, 1e4, -1e4], dtype="float32")
NONFINITE = np.array([math.inf, -math.inf, math.nan, 2.0], dtype="float32")

FUNCTIONS = [
    ("relu", lambda F, t: F.relu(t)),
    ("relu6", lambda F, t: F.relu6(t)),
    ("hardtanh", lambda F, t: F.hardtanh(t, -2.0, 2.5)),
    ("leaky_relu", lambda F, t: F.leaky_relu(t, 0.2)),
    ("elu", lambda F, t: F.elu(t, 0.7)),
    ("selu", lambda F, t: F.selu(t)),
    ("celu", lambda F, t: F.celu(t, 1.3)),
    ("gelu", lambda F, t: F.gelu(t)),
    ("gelu_tanh", lambda F, t: F.gelu(t, approximate="tanh")),
    ("silu", lambda F, t: F.silu(t)),
    ("mish", lambda F, t: F.mish(t)),
    ("sigmoid", lambda F, t: F.sigmoid(t)),
    ("tanh", lambda F, t: F.tanh(t)),
    ("hardsigmoid", lambda F, t: F.hardsigmoid(t)),
    ("hardswish", lambda F, t: F.hardswish(t)),
    ("logsigmoid", lambda F, t: F.logsigmoid(t)),
    ("softplus", lambda F, t: F.softplus(t)),
    ("softplus_beta", lambda F, t: F.softplus(t, beta=2.0, threshold=5.0)),
    ("softsign", lambda F, t: F.softsign(t)),
    ("tanhshrink", lambda F, t: F.tanhshrink(t)),
    ("softshrink", lambda F, t: F.softshrink(t, 0.5)),
    ("hardshrink", lambda F, t: F.hardshrink(t, 0.5)),
    ("threshold", lambda F, t: F.threshold(t, 0.4, -2.0)),
    ("softmax", lambda F, t: F.softmax(t.reshape(-1, 1) * t, dim=1)),
    ("log_softmax", lambda F, t: F.log_softmax(t.reshape(-1, 1) * t, dim=0)),
    ("softmin", lambda F, t: F.softmin(t.reshape(-1, 1) * t, dim=1)),
    ("glu", lambda F, t: F.glu(t[:16].reshape(4, 4), -1)),
]


@pytest.mark.parametrize("name,fn", FUNCTIONS, ids=[f[0] for f in FUNCTIONS])
def test_activation_edges_and_grads(name, fn, device):
    data = EDGE if name not in ("softmax", "log_softmax", "softmin") else EDGE[:8]
    if name == "mish" and device != "cpu":
        data = EDGE[:-2]   # x (1 - tanh(x)^2) at 1e4 magnifies a 1-ulp tanh (OpenCL's spec)
    check_fn(lambda T, t: fn(T.nn.functional, t), [data], device, atol=1e-6, rtol=1e-5,
             name=name, grad_fn=name not in ("softmax", "log_softmax", "softmin", "relu6"))


NONFINITE_CASES = [f for f in FUNCTIONS[:24] if f[0] != "gelu"]   # torch: gelu(inf) = nan


@pytest.mark.parametrize("name,fn", NONFINITE_CASES, ids=[f[0] for f in NONFINITE_CASES])
def test_activation_nonfinite(name, fn):
    t = torch.nn.functional
    expected = fn(t, torch.tensor(NONFINITE)).numpy()
    got = fn(plugrad.nn.functional, plugrad.tensor(NONFINITE)).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-6, equal_nan=True, err_msg=name)


def test_activation_double_backward(device):
    """Second derivatives through the compositions (gelu, silu, softplus, elu), away from
    elu's kink (torch's second derivative there is one-sided)."""
    data = np.linspace(-3, 3, 12).astype("float32")
    for fn in (lambda F, t: F.gelu(t), lambda F, t: F.silu(t), lambda F, t: F.softplus(t),
               lambda F, t: F.elu(t), lambda F, t: F.logsigmoid(t)):
        tt = torch.tensor(data, requires_grad=True)
        pt = plugrad.tensor(data, device=device, requires_grad=True)
        (tg,) = torch.autograd.grad(fn(torch.nn.functional, tt).sum(), tt, create_graph=True)
        (pg,) = plugrad.autograd.grad(fn(plugrad.nn.functional, pt).sum(), pt,
                                      create_graph=True)
        (tgg,) = torch.autograd.grad(tg.sum(), tt)
        (pgg,) = plugrad.autograd.grad(pg.sum(), pt)
        np.testing.assert_allclose(pgg.cpu().numpy(), tgg.numpy(), atol=1e-5, rtol=1e-4)


MODULES = ["ReLU", "ReLU6", "LeakyReLU", "ELU", "CELU", "SELU", "GELU", "SiLU", "Mish",
           "Sigmoid", "Tanh", "Hardtanh", "Hardsigmoid", "Hardswish", "LogSigmoid", "Softplus",
           "Softsign", "Tanhshrink", "Softshrink", "Hardshrink", "GLU"]


@pytest.mark.parametrize("cls", MODULES)
def test_activation_module(cls, device):
    data = (np.random.default_rng(0).standard_normal((3, 4, 6)) * 4).astype("float32")
    check_module(lambda nn: getattr(nn, cls)(), [data], device, name=cls)


@pytest.mark.parametrize("cls,args", [("Softmax", (1,)), ("LogSoftmax", (2,)),
                                      ("Softmin", (0,)), ("Threshold", (0.1, 20.0)),
                                      ("Softplus", (2, 3)), ("GELU", ("tanh",)),
                                      ("PReLU", ()), ("ELU", (0.3,))])
def test_activation_module_args(cls, args, device):
    data = (np.random.default_rng(1).standard_normal((3, 4, 6)) * 4).astype("float32")
    check_module(lambda nn: getattr(nn, cls)(*args), [data], device, name=cls)


@pytest.mark.parametrize("cls", ["ReLU", "ReLU6", "LeakyReLU", "ELU", "SiLU", "Hardtanh",
                                 "Hardswish", "Hardsigmoid", "SELU", "CELU", "Mish"])
def test_inplace_activation(cls, device):
    """inplace=True writes into (and returns) the input; gradients flow as torch's do."""
    data = (np.random.default_rng(2).standard_normal((4, 5)) * 3).astype("float32")
    tw = torch.tensor(data, requires_grad=True)
    pw = plugrad.tensor(data, device=device, requires_grad=True)
    t_mid, p_mid = tw * 1.5, pw * 1.5
    t_out = getattr(torch.nn, cls)(inplace=True)(t_mid)
    p_out = getattr(plugrad.nn, cls)(inplace=True)(p_mid)
    assert p_out is p_mid
    np.testing.assert_allclose(p_mid.detach().cpu().numpy(), t_mid.detach().numpy(), atol=1e-6,
                               rtol=1e-5)
    t_out.sum().backward()
    p_out.sum().backward()
    np.testing.assert_allclose(pw.grad.cpu().numpy(), tw.grad.numpy(), atol=1e-6, rtol=1e-5)


def test_activation_reprs():
    for cls, args in [("ReLU", (True,)), ("LeakyReLU", (0.2, True)), ("ELU", (0.5, True)),
                      ("GELU", ("tanh",)), ("Softmax", ()), ("Softplus", (2, 10)),
                      ("Hardtanh", (-2.0, 3.0)), ("Threshold", (0.1, 20)), ("PReLU", (3,)),
                      ("Softshrink", ()), ("GLU", (1,)), ("SiLU", (True,))]:
        assert repr(getattr(plugrad.nn, cls)(*args)) == repr(getattr(torch.nn, cls)(*args))


def test_activation_bad_arguments():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for call in (lambda F, t: F.gelu(t, approximate="fast"),
                     lambda F, t: F.glu(t, 0), lambda F, t: F.softshrink(t, -1.0),
                     lambda F, t: F.prelu(t.reshape(1, 3), t.new_ones(2))):
            from nn_oracle import raises_like
            raises_like(lambda: call(torch.nn.functional, torch.ones(3)),
                        lambda: call(plugrad.nn.functional, plugrad.ones(3)))
