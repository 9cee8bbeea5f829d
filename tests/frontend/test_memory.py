"""Memory: graphs are released by backward, nothing cycles, long training stays flat.

* After ``backward()`` every tensor a node saved is freed (weak references die) unless
  ``retain_graph=True``, and a second backward raises torch's error.
* A training step leaves no reference cycle among tensors and graph nodes: with the cyclic
  collector off, everything a step made is freed by reference counting alone.
* 1,000 steps of the digits MLP (64-128-10, Adam, batch 64) keep Python heap (tracemalloc),
  RSS and, on opencl/cuda, device memory flat after a warm-up.
"""
from __future__ import annotations

import gc
import os
import tracemalloc
import weakref

import numpy as np
import pytest
import torch  # noqa: F401  (the oracle must be installed; torch's wording is asserted below)

from helpers import load_digits

import plugrad
import plugrad.nn as nn


def _graph(device):
    """loss over intermediates that only the graph references; weakrefs to what nodes saved."""
    x = plugrad.randn(8, 5, device=device, requires_grad=True)
    w = plugrad.randn(5, 3, device=device, requires_grad=True)
    h = (x @ w).tanh()              # TanhBackward0 saves its output
    e = h.exp() * x.sum(1, keepdim=True).sigmoid()
    loss = (e.log_softmax(1) * e).sum()
    saved, node, seen = [], loss.grad_fn, set()
    stack = [node]
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        saved.extend(weakref.ref(t) for t in getattr(node, "saved", ()) or ()
                     if isinstance(t, plugrad.Tensor) and t is not x and t is not w)
        stack.extend(n for n in (getattr(node, "next", ()) or ()) if n is not None)
    del h, e
    return x, w, loss, saved


def test_backward_frees_every_saved_tensor(device):
    x, w, loss, saved = _graph(device)
    assert len(saved) >= 4 and all(r() is not None for r in saved)
    loss.backward()
    alive = [type(r()).__name__ for r in saved if r() is not None]
    assert not alive, f"{len(alive)} saved tensors outlived backward()"
    assert x.grad is not None and w.grad is not None


def test_retain_graph_keeps_saved_tensors_until_the_last_backward(device):
    x, w, loss, saved = _graph(device)
    loss.backward(retain_graph=True)
    assert all(r() is not None for r in saved)
    first = x.grad.clone()
    loss.backward()
    np.testing.assert_allclose(x.grad.cpu().numpy(), 2 * first.cpu().numpy(), rtol=1e-5,
                               atol=1e-6)
    assert all(r() is None for r in saved)
    with pytest.raises(RuntimeError, match="Trying to backward through the graph a second "
                                           "time"):
        loss.backward()


def test_dropping_the_loss_frees_the_graph(device):
    """No backward at all: dropping the last reference frees nodes and saved tensors."""
    x, w, loss, saved = _graph(device)
    nodes = [weakref.ref(loss.grad_fn)]
    del loss
    assert all(r() is None for r in saved + nodes)


def _plugrad_objects(objects):
    return [o for o in objects if type(o).__module__.split(".")[0] == "plugrad"]


def _step(model, opt, x, y):
    opt.zero_grad()
    h = model(x)
    loss = nn.functional.cross_entropy(h, y) + 1e-4 * sum((p ** 2).sum()
                                                          for p in model.parameters())
    view = h[:, :3].t()             # views, in-place on a clone, indexing: more node kinds
    extra = view.clone().mul_(2).relu_()[0].sum()
    (loss + 0 * extra).backward()
    opt.step()
    return loss.item()


def test_a_training_step_leaves_no_reference_cycles(device):
    """With the cyclic collector off, a step's tensors and nodes die by reference counting."""
    model = _mlp(device)
    opt = plugrad.optim.Adam(model.parameters(), lr=1e-3)
    x = plugrad.randn(16, 64, device=device)
    y = plugrad.randint(0, 10, (16,), device=device)
    _step(model, opt, x, y)                 # warm-up: lazy state, kernel caches
    gc.collect()
    gc.disable()
    try:
        gc.set_debug(gc.DEBUG_SAVEALL)
        for _ in range(3):
            _step(model, opt, x, y)
        gc.collect()
        cyclic = _plugrad_objects(gc.garbage)
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
    kinds = sorted({type(o).__name__ for o in cyclic})
    assert not cyclic, f"{len(cyclic)} plugrad objects were only freed by the cycle " \
                       f"collector: {kinds}"


def _mlp(device):
    plugrad.manual_seed(0)
    return nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10)).to(device)


def _rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _device_bytes(device):
    """Bytes the device's allocator has handed out (None on host-memory backends)."""
    if device.startswith("opencl"):
        table = plugrad.plugins.get_registry().table("opencl")
        return sum(d.pool.active_bytes for d in table.impl.devices)
    if device.startswith("cuda"):
        import cupy
        return cupy.get_default_memory_pool().used_bytes()
    return None


STEPS, WARMUP, TRACED = 1000, 100, 200


def _train_step(model, opt, x, y):
    opt.zero_grad()
    loss = nn.functional.cross_entropy(model(x), y)
    loss.backward()
    opt.step()
    return loss


def test_1000_digits_mlp_steps_keep_memory_flat(device):
    """Objects and RSS are compared over steps 100..1000, the exact Python heap (tracemalloc,
    which slows every allocation several-fold) over a 200-step window; device memory too."""
    d = load_digits()
    X = plugrad.tensor((d.data / 16.0).astype(np.float32), device=device)
    Y = plugrad.tensor(d.target.astype(np.int64), device=device)
    model = _mlp(device)
    opt = plugrad.optim.Adam(model.parameters(), lr=1e-3)
    batches = [(X[i:i + 64], Y[i:i + 64]) for i in range(0, 1792 - 64, 64)]
    first = _train_step(model, opt, *batches[0]).item()
    for step in range(1, STEPS):
        if step == WARMUP:
            gc.collect()
            objects0, rss0, dev0 = len(gc.get_objects()), _rss(), _device_bytes(device)
            tracemalloc.start()
        if step == WARMUP + 50:   # by now the live set (grads, state) was re-made under tracing
            gc.collect()
            heap0 = tracemalloc.get_traced_memory()[0]
        if step == WARMUP + 50 + TRACED:
            gc.collect()
            heap_growth = tracemalloc.get_traced_memory()[0] - heap0
            tracemalloc.stop()
        loss = _train_step(model, opt, *batches[step % len(batches)])
    last = loss.item()
    del loss
    gc.collect()
    objects1, rss1, dev1 = len(gc.get_objects()), _rss(), _device_bytes(device)
    assert last < 0.5 * first          # it trained
    print(f"\n{device}: {STEPS} steps; objects {objects1 - objects0:+d}, RSS {rss1 - rss0:+d} B, "
          f"Python heap over {TRACED} steps {heap_growth:+d} B"
          + (f", device {dev1 - dev0:+d} B" if dev0 is not None else ""))
    # a leak of one object per step would be 900 objects, or >= 10 kB of heap in the window
    assert objects1 - objects0 < 100, f"{objects1 - objects0} more live objects"
    assert heap_growth < 8 * 1024, f"Python heap grew {heap_growth} B over {TRACED} steps"
    # one leaked 64x128 float32 buffer per step would be 29 MiB
    assert rss1 - rss0 < 16 * 2 ** 20, f"RSS grew {(rss1 - rss0) / 2 ** 20:.1f} MiB"
    if dev0 is not None:
        assert dev1 - dev0 <= 0, f"device memory grew {dev1 - dev0} B"
