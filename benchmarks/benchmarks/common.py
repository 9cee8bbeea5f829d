"""Helpers shared by the suites: the backend parameter, n/a rules, timing for track_*, models.

asv shows a benchmark whose ``setup`` raises NotImplementedError as n/a, so an unavailable
backend, a missing PyTorch, or a frontend feature that a past commit did not have yet are all
n/a on the graphs -- never an error. Everything else that raises is a real failure.
"""
from __future__ import annotations

import importlib.util
import os
import sys
import time
from pathlib import Path



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
def _shared_workloads():
    """plugrad's benchmark workloads, ``corelib/_bench_workloads.py``, loaded by path from this
    checkout: asv runs this suite against past commits' plugrad, which may predate that module
    (or have an older one), so the installed package cannot supply it. It imports nothing from
    plugrad and its builders use only the torch-like API of the library they are handed, so
    the one definition times every commit alike, here and in ``python -m plugrad bench``."""
    path = Path(__file__).resolve().parents[2] / "corelib" / "_bench_workloads.py"
    spec = importlib.util.spec_from_file_location("_plugrad_bench_workloads", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module          # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


_W = _shared_workloads()
digits_like, mlp, small_cnn, chain = _W.digits_like, _W.mlp, _W.small_cnn, _W.chain
# the timed workloads, ``(lib, device) -> callable``, under the names the suites' history uses
globals().update(_W.shared(small=SMALL, large=LARGE))


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


def randn(shape, device, seed=0):
    """A seeded float32 plugrad tensor (the same values on every backend)."""
    import plugrad
    return plugrad.tensor(_W._host(shape, seed), device=device)


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
