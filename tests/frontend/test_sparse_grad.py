"""Sparse gradients against torch: nn.Embedding / F.embedding / nn.EmbeddingBag with
sparse=True give the same uncoalesced COO .grad (indices and values), accumulation of two
backward passes, zero_grad, clip_grad_norm_, and the optimizers that take sparse gradients
(SparseAdam, SGD with and without momentum, Adagrad) over 20 steps, plus torch's errors for
the optimizers that refuse them."""
from __future__ import annotations

import warnings

import numpy as np
import plugrad
import pytest
import torch

warnings.filterwarnings("ignore", message="Sparse invariant checks")

BATCHES = [np.array(b, "int64") for b in ([[1, 2], [1, 7]], [[0, 3], [3, 3]], [[9, 2], [5, 1]])]


def same_grad(got, want, exact=True):
    assert got.is_sparse and want.is_sparse
    assert tuple(got.shape) == tuple(want.shape) and got.is_coalesced() == want.is_coalesced()
    np.testing.assert_array_equal(got._indices().cpu().numpy(), want._indices().numpy())
    gv, wv = got._values().cpu().numpy(), want._values().numpy()
    if exact:
        np.testing.assert_array_equal(gv, wv)
    else:
        np.testing.assert_allclose(gv, wv, rtol=1e-6, atol=1e-7)


def pair(device, num=10, dim=3, **kw):
    """A plugrad and a torch Embedding with the same weights."""
    got = plugrad.nn.Embedding(num, dim, sparse=True, **kw).to(device)
    want = torch.nn.Embedding(num, dim, sparse=True, **kw)
    with torch.no_grad():
        want.weight.copy_(torch.tensor(got.weight.detach().cpu().numpy()))
    return got, want


def loss(L, emb, batch, device=None):
    out = emb(L.tensor(batch, **({"device": device} if device else {})))
    return (out * out).sum() + out.sum()       # contiguous and expanded gradients both


@pytest.mark.parametrize("padding_idx", [None, 3])
def test_embedding_grad_like_torch(device, padding_idx):
    got, want = pair(device, padding_idx=padding_idx)
    loss(plugrad, got, BATCHES[1], device).backward()
    loss(torch, want, BATCHES[1]).backward()
    same_grad(got.weight.grad, want.weight.grad)
    assert got.weight.grad.layout is plugrad.sparse_coo


def test_functional_embedding_sparse(device):
    w = np.random.default_rng(0).standard_normal((6, 2)).astype("float32")
    gw = plugrad.tensor(w, device=device, requires_grad=True)
    tw = torch.tensor(w, requires_grad=True)
    idx = np.array([4, 0, 4, 5], "int64")
    plugrad.nn.functional.embedding(plugrad.tensor(idx, device=device), gw,
                                    sparse=True).pow(3).sum().backward()
    torch.nn.functional.embedding(torch.tensor(idx), tw, sparse=True).pow(3).sum().backward()
    same_grad(gw.grad, tw.grad, exact=False)


def test_accumulation_of_two_backward_passes(device):
    for expanded in (False, True):         # torch merges contiguous values, appends the others
        got, want = pair(device)
        for batch in BATCHES[:2]:
            if expanded:
                got(plugrad.tensor(batch, device=device)).sum().backward()
                want(torch.tensor(batch)).sum().backward()
            else:
                loss(plugrad, got, batch, device).backward()
                loss(torch, want, batch).backward()
        same_grad(got.weight.grad, want.weight.grad)


def test_dense_then_sparse_gradient(device):
    got, want = pair(device)
    for m, L, dev in ((got, plugrad, device), (want, torch, None)):
        m.weight.sum().backward()                                 # a dense .grad first
        loss(L, m, BATCHES[0], dev).backward()
    assert not got.weight.grad.is_sparse
    np.testing.assert_allclose(got.weight.grad.cpu().numpy(), want.weight.grad.numpy(),
                               rtol=1e-6)


@pytest.mark.parametrize("mode", ["sum", "mean"])
@pytest.mark.parametrize("padding_idx", [None, 2])
def test_embedding_bag_sparse(device, mode, padding_idx):
    got = plugrad.nn.EmbeddingBag(8, 2, mode=mode, sparse=True, padding_idx=padding_idx)
    want = torch.nn.EmbeddingBag(8, 2, mode=mode, sparse=True, padding_idx=padding_idx)
    with torch.no_grad():
        want.weight.copy_(torch.tensor(got.weight.detach().numpy()))
    got = got.to(device)
    idx, off = np.array([1, 2, 4, 5, 2, 3], "int64"), np.array([0, 2, 4], "int64")
    got(plugrad.tensor(idx, device=device), plugrad.tensor(off, device=device)) \
        .pow(2).sum().backward()
    want(torch.tensor(idx), torch.tensor(off)).pow(2).sum().backward()
    same_grad(got.weight.grad, want.weight.grad, exact=False)


def test_sparse_errors_like_torch(device):
    with pytest.raises(ValueError, match="max mode does not support sparse weights"):
        plugrad.nn.EmbeddingBag(4, 2, mode="max", sparse=True).to(device)(
            plugrad.tensor([[1, 2]], device=device))
    emb = plugrad.nn.Embedding(5, 2, sparse=True, scale_grad_by_freq=True).to(device)
    with pytest.raises(RuntimeError, match="scale_grad_by_freq not supported with sparse"):
        emb(plugrad.tensor([1, 2, 1], device=device)).sum().backward()


def test_zero_grad_and_clip(device):
    got, want = pair(device)
    loss(plugrad, got, BATCHES[0], device).backward()
    loss(torch, want, BATCHES[0]).backward()
    plugrad.optim.SGD(got.parameters(), lr=0.1).zero_grad()
    torch.optim.SGD(want.parameters(), lr=0.1).zero_grad()
    assert got.weight.grad is None and want.weight.grad is None
    loss(plugrad, got, BATCHES[0], device).backward()
    loss(torch, want, BATCHES[0]).backward()
    plugrad.optim.SGD(got.parameters(), lr=0.1).zero_grad(set_to_none=False)
    torch.optim.SGD(want.parameters(), lr=0.1).zero_grad(set_to_none=False)
    same_grad(got.weight.grad, want.weight.grad)


def test_clip_grad_norm_over_sparse_grads(device):
    """torch has no norm of a sparse tensor: its clip_grad_norm_ raises NotImplementedError
    (naming aten::linalg_vector_norm) and leaves the gradient as it was; so does plugrad."""
    got, want = pair(device)
    loss(plugrad, got, BATCHES[2], device).backward()
    loss(torch, want, BATCHES[2]).backward()
    with pytest.raises(NotImplementedError, match="aten::linalg_vector_norm"):
        torch.nn.utils.clip_grad_norm_(want.parameters(), 0.5)
    with pytest.raises(NotImplementedError, match="aten::linalg_vector_norm"):
        plugrad.nn.utils.clip_grad_norm_(got.parameters(), 0.5)
    same_grad(got.weight.grad, want.weight.grad)


def _train(L, emb, make_opt, device=None, steps=20):
    opt = make_opt(L, emb.parameters())
    rng = np.random.default_rng(3)
    for _ in range(steps):
        batch = rng.integers(0, 10, (4, 3))
        opt.zero_grad()
        loss(L, emb, batch, device).backward()
        opt.step()
    return emb.weight.detach().cpu().numpy()


OPTIMIZERS = {
    "SparseAdam": lambda L, p: L.optim.SparseAdam(p, lr=0.05),
    "SparseAdam-maximize": lambda L, p: L.optim.SparseAdam(p, lr=0.01, betas=(0.8, 0.99),
                                                           maximize=True),
    "SGD": lambda L, p: L.optim.SGD(p, lr=0.05),
    "SGD-momentum": lambda L, p: L.optim.SGD(p, lr=0.05, momentum=0.9),
    "SGD-nesterov": lambda L, p: L.optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True),
    "SGD-dampening": lambda L, p: L.optim.SGD(p, lr=0.05, momentum=0.5, dampening=0.3),
    "Adagrad": lambda L, p: L.optim.Adagrad(p, lr=0.1),
    "Adagrad-decay": lambda L, p: L.optim.Adagrad(p, lr=0.1, lr_decay=0.01, eps=1e-6),
}


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_optimizer_trajectory_20_steps(device, name):
    got, want = pair(device)
    g = _train(plugrad, got, OPTIMIZERS[name], device)
    w = _train(torch, want, OPTIMIZERS[name])
    if device == "cpu" and name.startswith("SparseAdam"):
        np.testing.assert_allclose(g, w, rtol=1e-6, atol=1e-7)     # bitwise-close
    else:
        np.testing.assert_allclose(g, w, rtol=2e-5, atol=2e-6)


def test_sparse_adam_leaves_other_rows(device):
    got, _ = pair(device)
    before = got.weight.detach().cpu().numpy().copy()
    opt = plugrad.optim.SparseAdam(got.parameters())
    got(plugrad.tensor([1, 4], device=device)).sum().backward()
    opt.step()
    after = got.weight.detach().cpu().numpy()
    changed = np.flatnonzero((after != before).any(1)).tolist()
    assert changed == [1, 4]
    assert opt.state[got.weight]["step"] == 1


REFUSING = ["Adam", "AdamW", "Adadelta", "Adamax", "ASGD", "NAdam", "RAdam", "RMSprop",
            "Rprop", "Adafactor"]


@pytest.mark.parametrize("name", REFUSING)
def test_optimizers_refuse_sparse_grads(device, name):
    got, want = pair(device)
    loss(plugrad, got, BATCHES[0], device).backward()
    loss(torch, want, BATCHES[0]).backward()
    with pytest.raises(RuntimeError) as expected:
        getattr(torch.optim, name)(want.parameters()).step()
    before = got.weight.detach().cpu().numpy().copy()
    with pytest.raises(RuntimeError) as raised:
        getattr(plugrad.optim, name)(got.parameters()).step()
    assert str(raised.value) == str(expected.value)
    np.testing.assert_array_equal(got.weight.detach().cpu().numpy(), before)


def test_optimizer_option_errors(device):
    got, want = pair(device)
    loss(plugrad, got, BATCHES[0], device).backward()
    loss(torch, want, BATCHES[0]).backward()
    for make in (lambda L, p: L.optim.Adagrad(p, weight_decay=0.1),
                 lambda L, p: L.optim.SGD(p, lr=0.1, weight_decay=0.1)):
        with pytest.raises(RuntimeError) as expected:
            make(torch, want.parameters()).step()
        with pytest.raises(RuntimeError) as raised:
            make(plugrad, got.parameters()).step()
        assert str(raised.value) == str(expected.value)
    lin, tlin = plugrad.nn.Linear(2, 2).to(device), torch.nn.Linear(2, 2)
    lin(plugrad.ones(2, device=device)).sum().backward()
    tlin(torch.ones(2)).sum().backward()
    with pytest.raises(RuntimeError) as expected:
        torch.optim.SparseAdam(tlin.parameters()).step()
    with pytest.raises(RuntimeError) as raised:
        plugrad.optim.SparseAdam(lin.parameters()).step()
    assert str(raised.value) == str(expected.value)


def test_lbfgs_takes_sparse_grads(device):
    got, want = pair(device)
    batch = BATCHES[0]
    for L, m, dev in ((plugrad, got, device), (torch, want, None)):
        opt = L.optim.LBFGS(m.parameters(), lr=0.1, max_iter=3)

        def closure():
            opt.zero_grad()
            value = loss(L, m, batch, dev)
            value.backward()
            return value
        opt.step(closure)
    np.testing.assert_allclose(got.weight.detach().cpu().numpy(),
                               want.weight.detach().numpy(), rtol=1e-5, atol=1e-6)
