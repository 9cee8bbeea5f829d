"""The fused LSTM layer through the optional ``lstm_cell``/``lstm_cell_backward`` kernels
(one backend call a time step each way instead of ~10 and ~5), and the composition a backend
without them, or without only the backward, still gets: outputs, states and every gradient
as torch's, for forward and reverse directions, with and without biases and initial states."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import plugrad
from kernel_backends import kernel_device
TOL = {"float32": dict(rtol=1e-4, atol=1e-5), "float64": dict(rtol=1e-10, atol=1e-12)}


@pytest.fixture(params=["cpu", "without-both", "without-backward"])
def cell_device(request):
    yield from kernel_device(request.param, "lstm_cell", "lstm_cell_backward")


def _run(lib, device, dtype, bidirectional, bias, init):
    lib.manual_seed(0)
    m = lib.nn.LSTM(4, 6, 2, bias=bias, bidirectional=bidirectional,
                    dtype=getattr(lib, dtype)).to(device)
    rng = np.random.default_rng(1)
    x = lib.tensor(rng.standard_normal((5, 3, 4)).astype(dtype), device=device,
                   requires_grad=True)
    hx = None
    leaves = [x]
    if init:
        d = 4 if bidirectional else 2
        h0, c0 = (lib.tensor(rng.standard_normal((d, 3, 6)).astype(dtype), device=device,
                             requires_grad=True) for _ in range(2))
        hx, leaves = (h0, c0), leaves + [h0, c0]
    out, (hn, cn) = m(x, hx)
    weights = lib.tensor(rng.standard_normal(out.shape).astype(dtype), device=device)
    loss = (out * weights).sum() + (hn * 2).sum() + (cn * 3).sum()
    params = list(m.parameters())
    grads = lib.autograd.grad(loss, leaves + params)
    return [t.detach().cpu().numpy() for t in [out, hn, cn] + list(grads)]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("bidirectional,bias,init", [(False, True, False), (True, True, True),
                                                     (False, False, True)])
def test_lstm_layer_matches_torch(cell_device, dtype, bidirectional, bias, init):
    got = _run(plugrad, cell_device, dtype, bidirectional, bias, init)
    want = _run(torch, "cpu", dtype, bidirectional, bias, init)
    assert len(got) == len(want)
    for i, (g, w) in enumerate(zip(got, want)):
        np.testing.assert_allclose(g, w, err_msg=f"result {i}", **TOL[dtype])


def test_kernel_and_composition_agree_bit_for_bit_forward(cell_device):
    """The kernel keeps the composed cell's passes and order: the same forward values."""
    got = _run(plugrad, cell_device, "float64", True, True, True)
    again = _run(plugrad, "cpu", "float64", True, True, True)
    for g, w in zip(got[:3], again[:3]):
        np.testing.assert_array_equal(g, w)
