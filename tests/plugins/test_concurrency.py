"""Threads: the registry's first use from many threads at once, and thread-local grad mode.

Each registry test builds a fresh ``Registry()`` so the race on first use is real (the
process-wide registry has long been initialised by the time this module runs). Threads
start together behind a ``Barrier``, and the backends count how often they are loaded; a
sleep inside ``load()`` widens the window in which a second thread could load again.
"""
from __future__ import annotations

import threading
import time
from collections import Counter

import numpy as np
import pytest
import torch

import plugrad
from plugrad.backends import numpy as numpy_plugin
from plugrad.plugins import BackendSpec, Registry, hookimpl

THREADS = 8


def _together(fn, n=THREADS):
    """Run fn(i) in n threads released at once; return the results, re-raising any error."""
    barrier = threading.Barrier(n)
    results, errors = [None] * n, []

    def run(i):
        try:
            barrier.wait()
            results[i] = fn(i)
        except BaseException as exc:  # noqa: BLE001 -- reported below
            errors.append(exc)
    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    if errors:
        raise errors[0]
    return results


class _CountingPlugin:
    """A backend plugin (numpy underneath) that counts its hook calls and loads."""

    def __init__(self, name):
        self.name, self.loads, self.hooks = name, Counter(), Counter()

    def _load(self):
        self.loads[self.name] += 1
        time.sleep(0.05)               # a slow import: the window for a second load
        return numpy_plugin.load()

    @hookimpl
    def plugrad_backends(self):
        self.hooks["plugrad_backends"] += 1
        yield BackendSpec(name=self.name, load=self._load, description="counting test backend")


def _fresh_registry(*plugins):
    reg = Registry(load_entry_points=False)
    reg.register(numpy_plugin, name="numpy")
    for p in plugins:
        reg.register(p, name=p.name)
    return reg


def test_first_use_from_many_threads_loads_each_backend_once():
    plugin = _CountingPlugin("countdev")
    reg = _fresh_registry(plugin)
    tables = _together(lambda i: reg.table("countdev"))
    assert plugin.loads["countdev"] == 1, f"backend loaded {plugin.loads['countdev']} times"
    assert all(t is tables[0] for t in tables), \
        "threads got different dispatch tables for one device (a later plugin change would " \
        "refill only one of them)"
    a = tables[0].from_host(np.arange(4.0))
    assert tables[0].to_host(tables[0].add(a, a)).tolist() == [0.0, 2.0, 4.0, 6.0]


def test_entry_points_load_once_when_many_threads_use_a_new_registry(monkeypatch):
    """A fresh Registry() used first from 8 threads imports its entry points once."""
    calls = Counter()
    original = Registry._load_from_entry_points

    def counted(self):
        calls[id(self)] += 1
        time.sleep(0.05)
        return original(self)
    monkeypatch.setattr(Registry, "_load_from_entry_points", counted)
    reg = Registry()
    names = _together(lambda i: [e.name for e in reg.entries()])
    assert calls[id(reg)] == 1
    assert all(n == names[0] for n in names) and "cpu" in names[0]
    tables = _together(lambda i: reg.table("cpu"))
    assert all(t is tables[0] for t in tables)


def test_devices_resolved_from_many_threads_share_one_table(device):
    """plugrad.device(...) and tensors made in threads dispatch through the same table."""
    tensors = _together(lambda i: plugrad.full((3,), float(i), device=device))
    ops = {id(t._device.ops) for t in tensors}
    assert len(ops) == 1
    for i, t in enumerate(tensors):
        assert t.tolist() == [float(i)] * 3


# ----------------------------------------------------------------------------- grad mode
def test_no_grad_in_one_thread_leaves_others_recording(device):
    """Grad mode is thread-local (as torch's): no_grad in thread A does not reach thread B."""
    inside = threading.Event()
    release = threading.Event()
    seen = {}

    def a():
        with plugrad.no_grad():
            inside.set()
            x = plugrad.ones(2, device=device, requires_grad=True)
            seen["a_enabled"] = plugrad.is_grad_enabled()
            seen["a_requires_grad"] = (x * 2).requires_grad
            release.wait(10)

    def b():
        inside.wait(10)
        x = plugrad.ones(2, device=device, requires_grad=True)
        y = (x * 3).sum()
        seen["b_enabled"] = plugrad.is_grad_enabled()
        seen["b_requires_grad"] = y.requires_grad
        y.backward()
        seen["b_grad"] = x.grad.tolist()
        release.set()
    threads = [threading.Thread(target=a), threading.Thread(target=b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert seen == {"a_enabled": False, "a_requires_grad": False, "b_enabled": True,
                    "b_requires_grad": True, "b_grad": [3.0, 3.0]}
    assert plugrad.is_grad_enabled()     # the main thread never left grad mode


def test_set_grad_enabled_false_in_a_thread_is_private_to_it():
    def off(i):
        plugrad.set_grad_enabled(False)
        return plugrad.is_grad_enabled()
    assert _together(off, 2) == [False, False]
    assert plugrad.is_grad_enabled()
    assert torch.is_grad_enabled()        # the same rule as torch's


def test_threads_train_independent_graphs(device):
    """Forward and backward in 8 threads at once give each exactly its sequential result."""
    def work(i):
        w = plugrad.full((4, 3), 0.05 * (i + 1), device=device, requires_grad=True)
        x = plugrad.linspace(-1, 1, 12, device=device).reshape(3, 4)
        for _ in range(20):
            loss = ((x @ w).tanh() ** 2).sum()
            loss.backward()
        return w.grad.cpu().numpy()
    threaded = _together(work)
    for i, grad in enumerate(threaded):
        np.testing.assert_array_equal(grad, work(i), err_msg=f"thread {i}")
        w = torch.full((4, 3), 0.05 * (i + 1), requires_grad=True)
        x = torch.linspace(-1, 1, 12).reshape(3, 4)
        for _ in range(20):
            ((x @ w).tanh() ** 2).sum().backward()
        np.testing.assert_allclose(grad, w.grad.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("mode", ["no_grad", "inference_mode", "enable_grad"])
def test_grad_mode_contexts_restore_per_thread(mode):
    """Entering and leaving contexts in interleaved threads restores each thread's mode."""
    ctx = getattr(plugrad, mode)

    def work(i):
        states = []
        if i % 2:
            plugrad.set_grad_enabled(False)
        for _ in range(50):
            before = plugrad.is_grad_enabled()
            with ctx():
                states.append(plugrad.is_grad_enabled() == (mode == "enable_grad"))
            states.append(plugrad.is_grad_enabled() == before)
        return all(states)
    assert all(_together(work))
