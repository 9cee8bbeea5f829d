"""nn.init against torch: the same values bit for bit after the same seed (orthogonal_ to
rounding, since it needs a QR), torch's fan and gain rules, statistics, and errors."""
from __future__ import annotations

import math
import warnings

import numpy as np
import plugrad
import pytest
import torch

from nn_oracle import raises_like

SHAPES = [(7, 5), (4, 3, 3, 2), (6, 2, 5), (3, 8)]

INITS = [
    ("uniform", lambda I, t: I.uniform_(t, -0.3, 0.7)),
    ("normal", lambda I, t: I.normal_(t, 0.5, 2.0)),
    ("constant", lambda I, t: I.constant_(t, 0.25)),
    ("zeros", lambda I, t: I.zeros_(t)),
    ("ones", lambda I, t: I.ones_(t)),
    ("xavier_uniform", lambda I, t: I.xavier_uniform_(t, gain=1.5)),
    ("xavier_normal", lambda I, t: I.xavier_normal_(t)),
    ("kaiming_uniform", lambda I, t: I.kaiming_uniform_(t)),
    ("kaiming_uniform_a", lambda I, t: I.kaiming_uniform_(t, a=math.sqrt(5))),
    ("kaiming_uniform_fan_out_relu", lambda I, t: I.kaiming_uniform_(t, mode="fan_out",
                                                                     nonlinearity="relu")),
    ("kaiming_normal", lambda I, t: I.kaiming_normal_(t, a=0.1, nonlinearity="leaky_relu")),
    ("kaiming_normal_tanh", lambda I, t: I.kaiming_normal_(t, mode="fan_out",
                                                           nonlinearity="tanh")),
    ("trunc_normal", lambda I, t: I.trunc_normal_(t, 0.1, 0.5, -0.4, 0.6)),
    ("trunc_normal_default", lambda I, t: I.trunc_normal_(t)),
    ("trunc_normal_narrow", lambda I, t: I.trunc_normal_(t, 0.0, 1.0, 1.5, 2.5)),
]


@pytest.mark.parametrize("shape", SHAPES, ids=[str(s) for s in SHAPES])
@pytest.mark.parametrize("name,fn", INITS, ids=[i[0] for i in INITS])
def test_init_bit_identical(name, fn, shape):
    torch.manual_seed(11)
    expected = fn(torch.nn.init, torch.empty(shape))
    plugrad.manual_seed(11)
    got = fn(plugrad.nn.init, plugrad.empty(shape))
    np.testing.assert_array_equal(got.numpy(), expected.numpy())
    # the generator is left where torch leaves it
    np.testing.assert_array_equal(plugrad.rand(4).numpy(), torch.rand(4).numpy())


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_init_dtypes_and_generator(dtype):
    tg, pg = torch.Generator().manual_seed(5), plugrad.Generator().manual_seed(5)
    t = torch.nn.init.kaiming_uniform_(torch.empty(5, 4, dtype=getattr(torch, dtype)),
                                       generator=tg)
    p = plugrad.nn.init.kaiming_uniform_(plugrad.empty(5, 4, dtype=getattr(plugrad, dtype)),
                                         generator=pg)
    np.testing.assert_array_equal(p.numpy(), t.numpy())
    t = torch.nn.init.trunc_normal_(torch.empty(50, dtype=getattr(torch, dtype)), generator=tg)
    p = plugrad.nn.init.trunc_normal_(plugrad.empty(50, dtype=getattr(plugrad, dtype)),
                                      generator=pg)
    np.testing.assert_array_equal(p.numpy(), t.numpy())


@pytest.mark.parametrize("shape", [(6, 4), (4, 6), (5, 2, 3), (3, 3), (2, 3, 2, 2)])
def test_orthogonal(shape):
    torch.manual_seed(2)
    expected = torch.nn.init.orthogonal_(torch.empty(shape), gain=1.7)
    plugrad.manual_seed(2)
    got = plugrad.nn.init.orthogonal_(plugrad.empty(shape), gain=1.7)
    np.testing.assert_allclose(got.numpy(), expected.numpy(), atol=2e-6, rtol=1e-5)
    flat = got.numpy().reshape(shape[0], -1) / 1.7
    small = min(flat.shape)
    gram = flat @ flat.T if flat.shape[0] == small else flat.T @ flat
    np.testing.assert_allclose(gram, np.eye(small), atol=1e-5)


def test_eye_and_dirac():
    for shape in [(3, 5), (4, 2)]:
        np.testing.assert_array_equal(plugrad.nn.init.eye_(plugrad.empty(shape)).numpy(),
                                      torch.nn.init.eye_(torch.empty(shape)).numpy())
    for shape, groups in [((4, 2, 3), 1), ((6, 2, 3, 3), 2), ((2, 3, 1, 3, 3), 1)]:
        np.testing.assert_array_equal(
            plugrad.nn.init.dirac_(plugrad.empty(shape), groups).numpy(),
            torch.nn.init.dirac_(torch.empty(shape), groups).numpy())


def test_sparse():
    torch.manual_seed(4)
    expected = torch.nn.init.sparse_(torch.empty(6, 4), 0.5)
    plugrad.manual_seed(4)
    got = plugrad.nn.init.sparse_(plugrad.empty(6, 4), 0.5)
    np.testing.assert_array_equal(got.numpy(), expected.numpy())


@pytest.mark.parametrize("args", [("linear",), ("conv2d",), ("sigmoid",), ("tanh",), ("relu",),
                                  ("leaky_relu",), ("leaky_relu", 0.2), ("selu",)])
def test_calculate_gain(args):
    assert plugrad.nn.init.calculate_gain(*args) == torch.nn.init.calculate_gain(*args)


def test_fan_in_and_fan_out():
    for shape in [(7, 5), (4, 3, 3, 2), (6, 2, 5)]:
        assert plugrad.nn.init._calculate_fan_in_and_fan_out(plugrad.empty(shape)) == \
            torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))


def test_statistics():
    """Large draws have the variances the fan/gain rules promise."""
    plugrad.manual_seed(0)
    w = plugrad.nn.init.kaiming_normal_(plugrad.empty(256, 64, 3, 3), nonlinearity="relu")
    assert abs(float(w.std()) - math.sqrt(2.0 / (64 * 9))) < 0.002
    w = plugrad.nn.init.xavier_uniform_(plugrad.empty(300, 200))
    assert abs(float(w.std()) - math.sqrt(2.0 / 500)) < 0.002
    w = plugrad.nn.init.trunc_normal_(plugrad.empty(20000), std=0.02, a=-0.04, b=0.04)
    assert float(w.min()) >= -0.04 and float(w.max()) <= 0.04
    assert abs(float(w.mean())) < 1e-3


def test_init_under_autograd_leaves_no_graph(device):
    w = plugrad.nn.Parameter(plugrad.empty(4, 3, device=device))
    plugrad.nn.init.kaiming_uniform_(w)
    plugrad.nn.init.trunc_normal_(w)
    plugrad.nn.init.orthogonal_(w)
    assert w.grad_fn is None and w.requires_grad and w.device.type == device


BAD = [
    ("fan_1d", lambda I, T: I.xavier_uniform_(T.empty(3))),
    ("mode", lambda I, T: I.kaiming_uniform_(T.empty(3, 3), mode="fan")),
    ("nonlinearity", lambda I, T: I.kaiming_normal_(T.empty(3, 3), nonlinearity="swish")),
    ("gain_param", lambda I, T: I.calculate_gain("leaky_relu", "x")),
    ("eye_3d", lambda I, T: I.eye_(T.empty(2, 2, 2))),
    ("dirac_2d", lambda I, T: I.dirac_(T.empty(2, 2))),
    ("orthogonal_1d", lambda I, T: I.orthogonal_(T.empty(3))),
    ("sparse_3d", lambda I, T: I.sparse_(T.empty(2, 2, 2), 0.5)),
]


@pytest.mark.parametrize("name,call", BAD, ids=[b[0] for b in BAD])
def test_init_errors(name, call):
    raises_like(lambda: call(torch.nn.init, torch), lambda: call(plugrad.nn.init, plugrad))


def test_zero_element_warning():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        plugrad.nn.init.kaiming_uniform_(plugrad.empty(0, 3))
    assert any("zero-element" in str(w.message) for w in caught)
