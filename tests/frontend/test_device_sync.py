"""No host round trips on a device: a training step syncs only at the explicit ``.item()``.

Index checks are deferred to the device on backends declaring the contract's
``checks_indices`` (opencl; cuda when it runs): an out-of-range index costs no read when the
op runs, is memory-safe, and raises RuntimeError at the next ``.item()``/``.cpu()``/
``synchronize``, after which the program goes on -- like torch's CUDA device-side asserts.
Host-memory backends (cpu) and backends without the capability keep torch's eager errors.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

import plugrad
from helpers import defers_index_checks
from plugrad.plugins import get_registry
from plugrad.plugins.dispatch import deferred_index_checks

REG = get_registry()
OPENCL = REG.backend("opencl").availability()
needs_opencl = pytest.mark.skipif(OPENCL is not True, reason=f"opencl: {OPENCL}")
DEFERRED = r"index was out of bounds in an earlier op"


def tagger(lib):
    """Embedding -> pick some positions with x[idx] -> mean -> Linear, in plugrad or torch."""
    class Tagger(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = lib.nn.Embedding(40, 12)
            self.lin = lib.nn.Linear(12, 5)

        def forward(self, tokens, positions):
            return self.lin(self.emb(tokens)[:, positions].mean(1))
    return Tagger()


def _delta(before, after):
    return {k: n - before.get(k, 0) for k, n in after.items() if n != before.get(k, 0)}


# ------------------------------------------------------------------------ training step
@needs_opencl
def test_training_step_reads_only_at_item():
    """Embedding + x[idx] + Linear + CrossEntropyLoss + Adam on opencl: forward, backward and
    the step read nothing back; loss.item() reads the loss and the error flag once each."""
    impl = REG.table("opencl").impl
    plugrad.manual_seed(0)
    model, reference = tagger(plugrad), tagger(torch)
    reference.load_state_dict({k: torch.tensor(v.numpy()) for k, v in
                               model.state_dict().items()})
    model.to("opencl")
    opt = plugrad.optim.Adam(model.parameters(), lr=0.01)
    ref_opt = torch.optim.Adam(reference.parameters(), lr=0.01)
    loss_fn, ref_loss_fn = plugrad.nn.CrossEntropyLoss(), torch.nn.CrossEntropyLoss()
    rng = np.random.default_rng(0)
    tokens, targets = rng.integers(0, 40, (16, 7)), rng.integers(0, 5, 16)
    positions = np.array([0, 3, 3, 6])
    args = [plugrad.tensor(a).to("opencl") for a in (tokens, positions, targets)]
    for step in range(3):
        before = dict(impl.transfers)
        opt.zero_grad()
        loss = loss_fn(model(*args[:2]), args[2])
        loss.backward()
        opt.step()
        assert _delta(before, impl.transfers) == {}, "the step read from or wrote to the host"
        value = loss.item()
        assert _delta(before, impl.transfers) == {"to_host": 1, "error_check": 1}
        ref_opt.zero_grad()
        ref = ref_loss_fn(reference(torch.tensor(tokens), torch.tensor(positions)),
                          torch.tensor(targets))
        ref.backward()
        ref_opt.step()
        assert value == pytest.approx(ref.item(), rel=1e-5, abs=1e-6)
    for name, p in model.state_dict().items():
        np.testing.assert_allclose(p.cpu().numpy(), reference.state_dict()[name].numpy(),
                                   rtol=1e-4, atol=1e-6)


@needs_opencl
def test_ops_without_indices_never_read_the_flag():
    impl = REG.table("opencl").impl
    x = plugrad.arange(6.0, device="opencl")
    x[plugrad.tensor([1, 2], device="opencl")].sum().item()      # reads the flag once
    before = dict(impl.transfers)
    assert (x * 2 + 1).sum().item() == 36.0
    REG.table("opencl").synchronize()
    assert _delta(before, impl.transfers) == {"to_host": 1}


# ------------------------------------------------------------- out-of-range indices
def _x(d):
    return plugrad.arange(12.0, device=d).reshape(4, 3)


def _idx(d, values):
    return plugrad.tensor(values, device=d)


BAD = {   # name: (call, torch's eager exception on cpu, its message)
    "getitem": (lambda d: _x(d)[_idx(d, [0, 4])], IndexError,
                r"index 4 is out of bounds for dimension 0 with size 4"),
    "getitem negative": (lambda d: _x(d)[:, _idx(d, [-4])], IndexError,
                         r"index -4 is out of bounds for dimension 0 with size 3"),
    "setitem": (lambda d: _x(d).__setitem__(_idx(d, [9]), 1.0), IndexError,
                r"index 9 is out of bounds"),
    "gather": (lambda d: _x(d).gather(1, _idx(d, [[0], [3], [1], [2]])), RuntimeError,
               r"index 3 is out of bounds for dimension 1 with size 3"),
    "scatter_add": (lambda d: _x(d).scatter_add(0, _idx(d, [[5, 0, 0]]),
                                                plugrad.ones(1, 3, device=d)), RuntimeError,
                    r"index 5 is out of bounds"),
    "index_select": (lambda d: _x(d).index_select(0, _idx(d, [4])), IndexError,
                     r"index out of range in self"),
    "embedding": (lambda d: plugrad.nn.functional.embedding(_idx(d, [[1, 7]]), _x(d)),
                  IndexError, r"index out of range in self"),
    "cross_entropy": (lambda d: plugrad.nn.functional.cross_entropy(
        _x(d), _idx(d, [0, 1, 3, -100])), IndexError, r"Target 3 is out of bounds"),
    "nll_loss weighted": (lambda d: plugrad.nn.functional.nll_loss(
        _x(d), _idx(d, [0, -1, 2, 2]), weight=plugrad.ones(3, device=d)), IndexError,
        r"Target -1 is out of bounds"),
    "take": (lambda d: _x(d).take(_idx(d, [12])), IndexError,
             r"out of range: tried to access index 12 on a tensor of 12 elements"),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_out_of_range_index(device, name):
    """Eager torch errors where checking is free (or needed); on a deferring device the op
    returns, .item() raises RuntimeError, and the program continues with correct results."""
    call, exc, match = BAD[name]
    if not defers_index_checks(device):
        with pytest.raises(exc, match=match):
            call(device)
        return
    result = call(device)                              # no read, no error yet
    with pytest.raises(RuntimeError, match=DEFERRED):
        (result if result is not None else _x(device)).sum().item()
    # the flag was reset: the same device keeps working, indices and all
    x = _x(device)
    assert x[_idx(device, [3, 0])].sum().item() == 33.0
    loss = plugrad.nn.functional.cross_entropy(x, _idx(device, [0, 1, 2, -100]))
    want = torch.nn.functional.cross_entropy(torch.arange(12.0).reshape(4, 3),
                                              torch.tensor([0, 1, 2, -100]))
    assert loss.item() == pytest.approx(want.item(), rel=1e-6)


@needs_opencl
def test_deferred_error_leaves_other_tensors_intact():
    """An out-of-range write is skipped (it used to land outside the buffer and corrupt the
    heap); in-range writes of the same call happen, as torch's CUDA kernels do."""
    x = plugrad.zeros(4, 3, device="opencl")
    others = [plugrad.full((4, 3), float(k), device="opencl") for k in range(8)]
    x[plugrad.tensor([1, 4, -5, 10 ** 6], device="opencl")] = 7.0
    with pytest.raises(RuntimeError, match=DEFERRED):
        print(x)                                       # printing synchronizes too
    want = np.zeros((4, 3), np.float32)
    want[1] = 7
    np.testing.assert_array_equal(x.cpu().numpy(), want)
    for k, t in enumerate(others):
        assert (t.cpu().numpy() == k).all()


@needs_opencl
def test_without_the_capability_indices_are_checked_eagerly(monkeypatch):
    """A backend that does not declare checks_indices (a third party's, say) keeps the
    synchronous host check and torch's errors."""
    table = REG.table("opencl")
    monkeypatch.setattr(table, "checks_indices", False)
    impl = table.impl
    x, index = _x("opencl"), _idx("opencl", [3])
    before = dict(impl.transfers)
    assert x[index].sum().item() == 30.0
    # the frontend's check, then .item() (the kernel still flags: its flag is read there)
    assert _delta(before, impl.transfers) == {"to_host": 2, "error_check": 1}
    with pytest.raises(IndexError, match=r"index 4 is out of bounds for dimension 0"):
        x[_idx("opencl", [4])]
    with pytest.raises(IndexError, match=r"Target 3 is out of bounds"):
        plugrad.nn.functional.cross_entropy(x, _idx("opencl", [0, 1, 3, 0]))


class _Impl:
    def __init__(self, declares):
        if declares:
            self.checks_indices = True


def test_capability_needs_every_index_op_native_and_unreplaced():
    native = {"index", "index_put", "cross_entropy", "cross_entropy_backward", "add"}
    assert deferred_index_checks(_Impl(True), native, {})
    assert not deferred_index_checks(_Impl(False), native, {})
    # a kernel plugin replacing one made no promise; a primitive falling back to cpu neither
    assert not deferred_index_checks(_Impl(True), native, {"index": "fast-gather"})
    assert not deferred_index_checks(_Impl(True), native - {"index_put"}, {})
    # an absent optional kernel is composed from index, which is checked
    assert deferred_index_checks(_Impl(True), native - {"cross_entropy"}, {"add": "x"})
    assert not REG.table("cpu").checks_indices
