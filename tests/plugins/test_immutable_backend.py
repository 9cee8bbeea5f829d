"""Backends whose arrays cannot be written in place (``mutable_buffers = False``, JAX-like):
the write-back layer (plugrad.plugins.writeback) makes every frontend write -- setitem,
copy_/fill_, index_put_, in-place ops, ``out=``, writes through views, optimizer steps --
a pure call plus a rebinding, on a real backend (read-only numpy, tests/support) that raises
on any write into one of its arrays."""
from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

import plugrad
from frozen_backend import FrozenNumpy
from plugrad.plugins import BackendSpec, get_registry, hookimpl
from plugrad.plugins.conformance import run
from plugrad.plugins.writeback import IN_PLACE_KERNELS, Box

_ids = itertools.count()


@pytest.fixture
def frozen(monkeypatch):
    monkeypatch.setenv("PLUGRAD_STRICT_BACKEND", "1")      # a cpu fallback would raise
    name = f"frozen{next(_ids)}"

    class Plugin:
        @hookimpl
        def plugrad_backends():
            yield BackendSpec(name=name, load=lambda: FrozenNumpy(name))
    get_registry().register(Plugin, name=name)
    yield name
    get_registry().unregister(name)


def test_its_arrays_refuse_writes(frozen):
    x = plugrad.ones(3, device=frozen)
    assert type(x._data) is Box
    array = x._data._array
    with pytest.raises(ValueError, match="read-only"):
        array[0] = 5
    with pytest.raises(ValueError, match="read-only"):
        np.add(array, 1, out=array)


def test_conformance_kit_passes(frozen):
    report = run(frozen)
    # the in-place kernels are left out (the frontend composes the steps, draws on the host)
    bad = [(r.case.ident, r.status, r.detail[:300]) for r in report.results
           if r.status not in ("pass", "skip") and not (
               r.status == "missing" and r.case.op in IN_PLACE_KERNELS)]
    assert sum(r.status == "pass" for r in report.results) > 1000
    assert not bad, bad[:5]


def _both(fn, device):
    got = fn(plugrad, device)
    want = fn(torch, "cpu")
    np.testing.assert_array_equal(got.cpu().numpy() if hasattr(got, "cpu") else got,
                                  want.numpy() if hasattr(want, "numpy") else want)


@pytest.mark.parametrize("case", [
    lambda T, d: _set(T.zeros(3, 4, device=d), lambda x: x.__setitem__((1,), 5.0)),
    lambda T, d: _set(T.zeros(3, 4, device=d), lambda x: x[:, 2].fill_(7.0)),
    lambda T, d: _set(T.zeros(3, 4, device=d), lambda x: x.t()[1].add_(2.0)),
    lambda T, d: _set(T.zeros(3, 4, device=d), lambda x: x[1:, ::2].mul_(0).add_(3)),
    lambda T, d: _set(T.arange(12.0, device=d).reshape(3, 4),
                      lambda x: x.view(12)[5:8].copy_(T.tensor([-1.0, -2.0, -3.0], device=d))),
    lambda T, d: _set(T.zeros(5, device=d), lambda x: x.index_put_(
        (T.tensor([0, 2, 2], device=d),), T.tensor([1.0, 2.0, 3.0], device=d), accumulate=True)),
    lambda T, d: _set(T.zeros(2, 3, device=d), lambda x: T.add(
        T.ones(3, device=d), 1, out=x[1])),
    lambda T, d: _set(T.zeros(4, device=d), lambda x: x.__setitem__(
        T.tensor([True, False, True, False], device=d), 9.0)),
    lambda T, d: _set(T.full((3,), 0.5, device=d), lambda x: x.expand(2, 3).index_put_(
        (T.tensor([0], device=d),), T.tensor(1.0, device=d))),
], ids=["setitem", "fill-view", "inplace-transposed-view", "chain-on-strided-view",
        "copy-into-flat-view", "index_put-accumulate", "out-is-a-view", "mask-setitem",
        "index_put-through-expanded"])
def test_writes_reach_the_base_and_every_view(frozen, case):
    _both(case, frozen)


def _set(x, write):
    """Write through ``write``; return the base and an older view, stacked: both must see it."""
    view = x.reshape(-1)
    write(x)
    return x.reshape(-1) * 1 + view * 100


def _train(T, device, opt):
    T.manual_seed(0)
    model = T.nn.Sequential(T.nn.Linear(4, 8), T.nn.ReLU(), T.nn.Linear(8, 3)).to(device)
    x = T.randn(16, 4).to(device)
    y = T.randint(0, 3, (16,)).to(device)
    optimizer = (T.optim.SGD(model.parameters(), lr=0.1, momentum=0.9) if opt == "sgd" else
                 T.optim.Adam(model.parameters(), lr=0.01))
    losses = []
    for _ in range(20):
        optimizer.zero_grad()
        loss = T.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses, [p.detach().cpu().numpy() for p in model.parameters()]


@pytest.mark.parametrize("opt", ["sgd", "adam"])
def test_training_matches_the_cpu_backend_and_torch(frozen, opt):
    losses, params = _train(plugrad, frozen, opt)
    cpu_losses, cpu_params = _train(plugrad, "cpu", opt)
    want, _ = _train(torch, "cpu", opt)
    np.testing.assert_allclose(losses, cpu_losses, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(losses, want, rtol=1e-4, atol=1e-6)
    assert losses[-1] < losses[0] * 0.8
    for p, q in zip(params, cpu_params):
        np.testing.assert_allclose(p, q, rtol=1e-6, atol=1e-7)
