"""Helpers shared by the suites: the backend parameter, n/a rules, timing for track_*, models.

asv shows a benchmark whose ``setup`` raises NotImplementedError as n/a, so an unavailable
backend, a missing PyTorch, or a frontend feature that a past commit did not have yet are all
n/a on the graphs -- never an error. Everything else that raises is a real failure.
"""
from __future__ import annotations

import os
import time

import numpy as np


def _registered_backends():
    """Every backend plugrad's registry knows (built-in and third-party), available or not."""
    try:
        from plugrad.plugins import get_registry
    except ImportError:  # a commit from before the registry existed
        return ["cpu"]
    return [entry.name for entry in get_registry().entries()]


BACKENDS = _registered_backends()

# Sizes shared by the suites ("small" is all Python overhead, "large" all arithmetic).
SMALL, LARGE = (2, 2), (2048, 2048)           # 4 and 4M float32 elements
DIGITS_N, DIGITS_IN, DIGITS_CLASSES = 1797, 64, 10


def require(backend):
    """Return the backend's ``synchronize``; NotImplementedError (n/a) if it cannot run here."""
    from plugrad.plugins import get_registry
    registry = get_registry()
    entry = registry.backend(backend)
    reason = entry.availability()
    if reason is True and entry.device_count() < 1:
        reason = "no devices"
    if reason is not True:
        raise NotImplementedError(f"backend {backend!r} unavailable: {reason}")
    return registry.table(backend).synchronize


def need(obj, *names):
    """``getattr`` chain that turns a feature this plugrad commit lacks into n/a."""
    for name in names:
        if not hasattr(obj, name):
            raise NotImplementedError(f"{getattr(obj, '__name__', obj)} has no {name!r} "
                                      "at this commit")
        obj = getattr(obj, name)
    return obj


def torch_on(device):
    """``(torch, synchronize)`` on ``device`` ('cpu' or 'cuda'), one CPU thread; n/a if absent."""
    try:
        import torch
    except ImportError:
        raise NotImplementedError("PyTorch is not installed") from None
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    if device == "cuda":
        if not torch.cuda.is_available():
            raise NotImplementedError("PyTorch has no CUDA device here")
        return torch, torch.cuda.synchronize
    return torch, _nothing


def _nothing():
    return None


# ----------------------------------------------------------------------------- timing
def _sample(fn, sync, number):
    start = time.perf_counter()
    for _ in range(number):
        fn()
    sync()
    return (time.perf_counter() - start) / number


def _calibrate(fn, sync, min_time):
    number = 1
    while True:
        if _sample(fn, sync, number) * number >= min_time or number >= 1 << 20:
            return number
        number *= 4


def best_seconds(*pairs, repeat=7, min_time=0.02):
    """Best-of-``repeat`` seconds per call for each ``(fn, sync)`` pair, sampled in turns.

    Each sample runs ``fn`` enough times to last ``min_time`` and then synchronizes once, so
    small-op timings include launches but not one device round trip per op. Samples of the
    pairs alternate, so a ratio between them is not skewed by the machine getting busier.
    """
    numbers = []
    for fn, sync in pairs:
        fn()
        sync()
        numbers.append(_calibrate(fn, sync, min_time))
    best = [float("inf")] * len(pairs)
    for _ in range(repeat):
        for i, ((fn, sync), number) in enumerate(zip(pairs, numbers)):
            best[i] = min(best[i], _sample(fn, sync, number))
    return best


# ----------------------------------------------------------------------------- workloads
def digits_like(seed=0):
    """Seeded data with the shape and range of scikit-learn's digits (1797 x 64, 10 classes).

    Timings depend on shapes only, so the benchmarks do not need scikit-learn installed.
    """
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 17, size=(DIGITS_N, DIGITS_IN)).astype(np.float32) / 16.0
    y = rng.integers(0, DIGITS_CLASSES, size=DIGITS_N).astype(np.int64)
    return x, y


def mlp(torchlike):
    """The digits MLP, 64-256-256-10 with ReLU, in plugrad or torch."""
    nn = torchlike.nn
    return nn.Sequential(nn.Linear(DIGITS_IN, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(),
                         nn.Linear(256, DIGITS_CLASSES))


def small_cnn(torchlike):
    """Two 3x3 convolutions over 1x8x8 digits, then a linear classifier."""
    nn = torchlike.nn
    need(nn, "Conv2d")
    need(nn, "Flatten")
    return nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(),
                         nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(),
                         nn.Flatten(), nn.Linear(32 * 8 * 8, DIGITS_CLASSES))


def train_step(torchlike, model, opt, x, y):
    """One step as a user writes it: zero_grad, forward, cross-entropy, backward, step."""
    cross_entropy = need(torchlike.nn.functional, "cross_entropy")

    def step():
        opt.zero_grad()
        loss = cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss
    return step


def chain(x, a, b, c, ops=100):
    """``ops`` elementwise ops in a row (mul, add, tanh, sub), then a sum: the autograd load."""
    y = x
    for _ in range(ops // 4):
        y = ((y * a) + b).tanh() - c
    return y.sum()


# ------------------------------------------- headline workloads, written once for plugrad and torch
def _host(shape, seed):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def randn(shape, device, seed=0):
    """A seeded float32 plugrad tensor (the same values on every backend)."""
    import plugrad
    return plugrad.tensor(_host(shape, seed), device=device)


def _tensors(lib, device, *shapes):
    return [lib.tensor(_host(shape, seed), device=device) for seed, shape in enumerate(shapes)]


def add_small(lib, device):
    a, b = _tensors(lib, device, (2, 2), (2, 2))
    return lambda: a + b


def mul_sum_small(lib, device):
    a, b = _tensors(lib, device, (2, 2), (2, 2))
    return lambda: (a * b).sum()


def chain_backward(lib, device):
    x, a, b, c = _tensors(lib, device, *[(16,)] * 4)
    x.requires_grad_()
    return lambda: chain(x, a, b, c).backward()


def mul_add_large(lib, device):
    a, b, c = _tensors(lib, device, *[LARGE] * 3)
    return lambda: a * b + c


def matmul_1024(lib, device):
    a, b = _tensors(lib, device, (1024, 1024), (1024, 1024))
    return lambda: a @ b


def conv2d_large(lib, device):
    conv2d = need(lib.nn.functional, "conv2d")
    x, w = _tensors(lib, device, (32, 16, 32, 32), (32, 16, 3, 3))
    return lambda: conv2d(x, w, padding=1)


def mlp_step(lib, device, batch=64):
    lib.manual_seed(0)
    model = mlp(lib).to(device)
    opt = lib.optim.Adam(model.parameters(), lr=1e-3)
    x, y = digits_like()
    return train_step(lib, model, opt, lib.tensor(x[:batch], device=device),
                      lib.tensor(y[:batch], device=device))


def cnn_step(lib, device, batch=64):
    lib.manual_seed(0)
    model = small_cnn(lib).to(device)
    opt = lib.optim.Adam(model.parameters(), lr=1e-3)
    x, y = digits_like()
    images = x[:batch].reshape(batch, 1, 8, 8)
    return train_step(lib, model, opt, lib.tensor(images, device=device),
                      lib.tensor(y[:batch], device=device))


def model_step(name):
    """A workload ``(lib, device) -> step`` for one of plugrad's real-model benchmarks (GPT,
    LSTM LM, CNN in plugrad/_bench_models.py); n/a on commits from before they existed."""
    def build(lib, device):
        try:
            from plugrad._bench_models import make_step
        except ImportError as exc:
            raise NotImplementedError(f"no real-model benchmarks at this commit ({exc})")
        return make_step(lib, device, name)
    return build
