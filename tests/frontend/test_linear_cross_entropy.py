"""F.linear_cross_entropy and nn.LinearCrossEntropyLoss (torch 2.13) against torch: values,
gradients (input, weight, bias), K-dimensional losses, probabilities, options, errors."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import plugrad

RS = np.random.RandomState(0)
X = RS.randn(6, 5)
W = RS.randn(4, 5)
B = RS.randn(4)


def _run(L, device, x, w, target, bias=None, **kw):
    on = (lambda a: L.tensor(a, device=device)) if L is plugrad else L.tensor
    xt, wt = on(x).requires_grad_(), on(w).requires_grad_()
    bt = on(bias).requires_grad_() if bias is not None else None
    tg = on(target)
    if "weight" in kw and kw["weight"] is not None:
        kw["weight"] = on(kw["weight"])
    loss = L.nn.functional.linear_cross_entropy(xt, wt, tg, linear_bias=bt, **kw)
    loss.sum().backward()
    return [loss, xt.grad, wt.grad] + ([bt.grad] if bt is not None else [])


CASES = {
    "mean": dict(target=np.array([0, 3, 1, 2, 2, 0])),
    "sum-bias": dict(target=np.array([0, 3, 1, 2, 2, 0]), bias=B, reduction="sum"),
    "none-ignore": dict(target=np.array([0, 3, -1, 2, -1, 0]), ignore_index=-1,
                        reduction="none"),
    "weight-smoothing": dict(target=np.array([0, 3, 1, 2, 2, 0]), weight=np.array(
        [1.0, 2.0, 0.5, 3.0]), label_smoothing=0.2),
    "probabilities": dict(target=np.abs(RS.randn(6, 4)) / 4),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_values_and_gradients_equal_torch(case, device):
    kw = dict(CASES[case])
    target, bias = kw.pop("target"), kw.pop("bias", None)
    want = _run(torch, "cpu", X, W, target, bias, **dict(kw))
    got = _run(plugrad, device, X, W, target, bias, **dict(kw))
    for g, w in zip(got, want):
        np.testing.assert_allclose(g.detach().cpu().numpy(), w.detach().numpy(), rtol=1e-12,
                                   atol=1e-14)


def test_k_dimensional_and_unbatched(device):
    w = RS.randn(4, 3, 5)                          # (C, d1, in_features)
    target = RS.randint(0, 4, size=(6, 3))
    want = _run(torch, "cpu", X, w, target, RS.randn(4, 3) * 0 + 0.5)
    got = _run(plugrad, device, X, w, target, RS.randn(4, 3) * 0 + 0.5)
    for g, t in zip(got, want):
        np.testing.assert_allclose(g.detach().cpu().numpy(), t.detach().numpy(), rtol=1e-12)
    want = _run(torch, "cpu", X[0], W, np.array(2))
    got = _run(plugrad, device, X[0], W, np.array(2))
    for g, t in zip(got, want):
        np.testing.assert_allclose(g.detach().cpu().numpy(), t.detach().numpy(), rtol=1e-12)


def test_errors_as_torch():
    F = {torch: torch.nn.functional, plugrad: plugrad.nn.functional}
    bad = [
        lambda L: F[L].linear_cross_entropy(L.ones(2, 2, 2), L.ones(3, 2), L.zeros(2).long()),
        lambda L: F[L].linear_cross_entropy(L.ones(2, 2), L.ones(3), L.zeros(2).long()),
        lambda L: F[L].linear_cross_entropy(L.ones(2, 2), L.ones(3, 4), L.zeros(2).long()),
        lambda L: F[L].linear_cross_entropy(L.ones(2, 2), L.ones(3, 2), L.zeros(2).long(),
                                            linear_bias=L.ones(2)),
        lambda L: F[L].linear_cross_entropy(L.ones(2), L.ones(3, 4, 2), L.zeros(4).long()),
        lambda L: F[L].linear_cross_entropy(L.ones(2, 2), L.ones(3, 2), L.ones(2, 3),
                                            ignore_index=1),
        lambda L: L.nn.LinearCrossEntropyLoss(2, 3, weight=L.ones(4)),
        lambda L: L.nn.LinearCrossEntropyLoss(2, 3, label_smoothing=1.5),
    ]
    for make in bad:
        with pytest.raises(RuntimeError) as want:
            make(torch)
        with pytest.raises(RuntimeError) as got:
            make(plugrad)
        assert str(got.value) == str(want.value)


def test_module_matches_torch_and_options_warn(device):
    tm = torch.nn.LinearCrossEntropyLoss(5, 4, out_features=(3,), bias=True,
                                         dtype=torch.float64, label_smoothing=0.1)
    pm = plugrad.nn.LinearCrossEntropyLoss(5, 4, out_features=(3,), bias=True,
                                           dtype=plugrad.float64, label_smoothing=0.1)
    assert repr(pm) == repr(tm)
    assert [k for k in pm.state_dict()] == [k for k in tm.state_dict()]
    pm.load_state_dict({k: plugrad.tensor(v.numpy()) for k, v in tm.state_dict().items()})
    pm = pm.to(device)
    target = RS.randint(0, 4, size=(6, 3))
    want = tm(torch.tensor(X), torch.tensor(target))
    got = pm(plugrad.tensor(X, device=device), plugrad.tensor(target, device=device))
    np.testing.assert_allclose(got.item(), want.item(), rtol=1e-12)
    want.backward()
    got.backward()
    np.testing.assert_allclose(pm.linear.weight.grad.cpu().numpy(),
                               tm.linear.weight.grad.numpy(), rtol=1e-10, atol=1e-14)
    opts = plugrad.nn.LinearCrossEntropyOptions(batch_chunk_size=2)
    assert repr(opts) == repr(torch.nn.LinearCrossEntropyOptions(batch_chunk_size=2))
    args = (plugrad.tensor(X, device=device), plugrad.tensor(W, device=device))
    with pytest.warns(UserWarning, match="``options`` ignored; chunked path needs"):
        plugrad.nn.functional.linear_cross_entropy(
            *args, plugrad.tensor([0, 1, 2, 3, 0, 1], device=device), options=opts,
            label_smoothing=0.1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        chunked = plugrad.nn.functional.linear_cross_entropy(
            *args, plugrad.tensor([0, 1, 2, 3, 0, 1], device=device), options=opts)
    ref = torch.nn.functional.linear_cross_entropy(torch.tensor(X), torch.tensor(W),
                                                   torch.tensor([0, 1, 2, 3, 0, 1]))
    np.testing.assert_allclose(chunked.item(), ref.item(), rtol=1e-12)
