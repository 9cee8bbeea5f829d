"""The benchmark models (corelib/_bench_models.py) train as torch does: same seed, same
weights, same data, so 20-step loss curves agree to float32 rounding on every backend."""
import functools

import numpy
import pytest
import torch

import plugrad
from plugrad._bench_models import make_step

STEPS = 20


def _curve(lib, device, name):
    step = make_step(lib, device, name)
    return numpy.array([float(step().detach()) for _ in range(STEPS)])


@functools.cache
def _torch_curve(name):
    torch.set_num_threads(1)
    return _curve(torch, "cpu", name)


@pytest.mark.parametrize("name", ["gpt", "lstm", "cnn"])
def test_loss_curve_equals_torch(device, name):
    want = _torch_curve(name)
    got = _curve(plugrad, device, name)
    assert want[-1] < want[0]  # it trains
    numpy.testing.assert_allclose(got, want, rtol=1e-5, atol=0)
