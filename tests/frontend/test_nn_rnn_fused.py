"""The fused recurrent layer (one autograd node per layer and direction) against the composed
per-step cell it replaces: the same forward bit for bit, the same gradients, gradients of
gradients, retain_graph and the in-place rules. torch itself is compared in
test_nn_rnn_attention.py; here torch checks the double-backward values too."""
from __future__ import annotations

import itertools

import numpy as np
import plugrad
import pytest
import torch

from plugrad.nn.modules import rnn as prnn

CONFIGS = [(kind, layers, bidir, bf, bias, init)
           for kind in ("LSTM", "GRU", "RNN", "RNN_RELU")
           for layers, bidir, bf, bias, init in itertools.product(
               (1, 2), (False, True), (False, True), (True, False), (False, True))
           if not (bf and not bias)]            # keep the product small


def _build(lib, kind, kw, device, dtype):
    lib.manual_seed(0)
    if kind == "RNN_RELU":
        kind, kw = "RNN", dict(kw, nonlinearity="relu")
    return getattr(lib.nn, kind)(3, 5, **kw).to(device).to(dtype)


def _run(lib, kind, kw, device, dtype, x, h0, c0, double=False):
    m = _build(lib, kind, kw, device, dtype)
    leaves = [lib.tensor(x, device=device, dtype=dtype, requires_grad=True)]
    hx = None
    if h0 is not None:
        leaves.append(lib.tensor(h0, device=device, dtype=dtype, requires_grad=True))
        hx = leaves[-1]
        if kind == "LSTM":
            leaves.append(lib.tensor(c0, device=device, dtype=dtype, requires_grad=True))
            hx = (hx, leaves[-1])
    out, hn = m(leaves[0], hx)
    states = list(hn) if isinstance(hn, tuple) else [hn]
    loss = (out * out.detach().cos()).sum() + sum((s * (i + 2)).sum()
                                                  for i, s in enumerate(states))
    leaves += list(m.parameters())
    values = [t.detach().cpu().numpy() for t in [out] + states]
    if not double:
        loss.backward()
        return values, [t.grad.cpu().numpy() for t in leaves]
    grads = lib.autograd.grad(loss, leaves, create_graph=True)
    again = lib.autograd.grad(sum((g * g).sum() for g in grads), leaves)
    return values, [g.detach().cpu().numpy() for g in grads + again]


def _inputs(kind, layers, bidir, bf, init, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((2, 4, 3) if bf else (4, 2, 3))
    d = layers * (2 if bidir else 1)
    h0 = rng.standard_normal((d, 2, 5)) if init else None
    c0 = rng.standard_normal((d, 2, 5)) if init else None
    return x, h0, c0


@pytest.fixture
def composed():
    """Run the composed per-step cell inside ``with composed():``."""
    class Switch:
        def __enter__(self):
            prnn._FUSED = False

        def __exit__(self, *exc):
            prnn._FUSED = True
    yield Switch
    prnn._FUSED = True


@pytest.mark.parametrize("kind,layers,bidir,bf,bias,init", CONFIGS)
def test_fused_matches_composed(device, composed, kind, layers, bidir, bf, bias, init):
    dtype = plugrad.float64 if device == "cpu" else plugrad.float32
    tol = 1e-12 if device == "cpu" else 1e-5
    kw = dict(num_layers=layers, bidirectional=bidir, batch_first=bf, bias=bias)
    x, h0, c0 = _inputs(kind, layers, bidir, bf, init, layers + 2 * init)
    values, grads = _run(plugrad, kind, kw, device, dtype, x, h0, c0)
    with composed():
        want_values, want_grads = _run(plugrad, kind, kw, device, dtype, x, h0, c0)
    for got, want in zip(values, want_values):
        np.testing.assert_array_equal(got, want)          # the same arithmetic, in order
    for i, (got, want) in enumerate(zip(grads, want_grads)):
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol, err_msg=f"grad {i}")


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN", "RNN_RELU"])
def test_fused_double_backward_matches_torch(kind):
    kw = dict(num_layers=2, bidirectional=True)
    x, h0, c0 = _inputs(kind, 2, True, False, True, 7)
    values, grads = _run(plugrad, kind, kw, "cpu", plugrad.float64, x, h0, c0, double=True)
    want_values, want_grads = _run(torch, kind, kw, "cpu", torch.float64, x, h0, c0,
                                   double=True)
    for got, want in zip(values + grads, want_values + want_grads):
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9)


def test_fused_retain_graph_and_no_grad(device):
    m = _build(plugrad, "LSTM", dict(num_layers=2), device, plugrad.float32)
    x = plugrad.randn(5, 3, 3, device=device, requires_grad=True)
    out, _ = m(x)
    out.sum().backward(retain_graph=True)
    first = x.grad.clone()
    out.sum().backward()
    np.testing.assert_allclose(x.grad.cpu().numpy(), 2 * first.cpu().numpy(), rtol=1e-6)
    with plugrad.no_grad():
        again, _ = m(x)
    assert again.grad_fn is None and not again.requires_grad
    np.testing.assert_array_equal(again.cpu().numpy(), out.detach().cpu().numpy())


def test_in_place_on_output_follows_torch(device):
    # torch's LSTM saves its output (modifying it in place breaks backward); its GRU and RNN
    # return a stacked copy that may be modified
    x = np.random.default_rng(0).standard_normal((4, 2, 3)).astype("float32")
    for kind in ("LSTM", "GRU", "RNN"):
        for lib, dev in ((torch, "cpu"), (plugrad, device)):
            lib.manual_seed(0)
            out, _ = getattr(lib.nn, kind)(3, 5).to(dev)(lib.tensor(x, device=dev))
            out.mul_(2)
            if kind == "LSTM":
                with pytest.raises(RuntimeError, match="modified by an inplace operation"):
                    out.sum().backward()
            else:
                out.sum().backward()
