"""The headline workloads of ``python -m plugrad bench``, each written once per kind of library.

A workload builds its inputs and returns the callable that is timed. ``torchlike`` builders take
a torch-like module and a device string, so plugrad and PyTorch run literally the same code;
``xp`` builders take numpy or CuPy and are the raw-array-library baselines. A builder that
raises :class:`NotApplicable` leaves its cell empty with the reason.

asv's suite times the same builders under its own names (:func:`shared`): it loads this file
by path from the checkout (``benchmarks/benchmarks/common.py``), not from the installed
plugrad, because asv runs the current suite against past commits, which may predate this
module. So this file imports nothing from plugrad, and its builders use only the torch-like
API of the library they are handed.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


class NotApplicable(NotImplementedError):
    """This workload has no meaning for this implementation (e.g. autograd in raw numpy).
    A NotImplementedError, which asv shows as n/a."""


@dataclass(frozen=True)
class Workload:
    """One row group of the table.

    Attributes:
        name: what the row says.
        unit: "us" or "ms", the unit of the time column.
        torchlike: builder ``(lib, device) -> callable`` for plugrad and PyTorch, or None.
        xp: builder ``(xp) -> callable`` for numpy and CuPy, or None.
        per: the time column is per call divided by this (ops in a chain).
        work: bytes or flops per call, for the rate column, and its unit.
        big: a GPU-sized workload, run only on accelerators (see ``--big``).
        transfer: a host<->device copy; host-memory implementations have nothing to copy.
    """
    name: str
    unit: str
    torchlike: object = None
    xp: object = None
    per: int = 1
    work: tuple = (0.0, "")
    big: bool = False
    transfer: bool = False


def _host(shape, seed):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def _tensors(lib, device, *shapes):
    return [lib.tensor(_host(shape, seed), device=device) for seed, shape in enumerate(shapes)]


def _arrays(xp, *shapes):
    return [xp.asarray(_host(shape, seed)) for seed, shape in enumerate(shapes)]


def digits_like(seed=0):
    """Seeded data of scikit-learn's digits shape (1797 x 64 in [0, 1], 10 classes).

    Only the shapes matter for timing, so plugrad need not depend on scikit-learn.
    """
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 17, size=(1797, 64)).astype(np.float32) / 16.0
    return x, rng.integers(0, 10, size=1797).astype(np.int64)


# ------------------------------------------------------------------------ small ops
def _binary(shape, expr):
    def torchlike(lib, device):
        a, b = _tensors(lib, device, shape, shape)
        return lambda: expr(a, b)

    def xp(xp):
        a, b = _arrays(xp, shape, shape)
        return lambda: expr(a, b)
    return torchlike, xp


def chain(x, a, b, c, ops=100):
    """``ops`` elementwise ops in a row (mul, add, tanh, sub), then a sum: the autograd load."""
    y = x
    for _ in range(ops // 4):
        y = ((y * a) + b).tanh() - c
    return y.sum()


def _chain(lib, device, ops=100):
    x, a, b, c = _tensors(lib, device, *[(16,)] * 4)
    x.requires_grad_()
    return lambda: chain(x, a, b, c, ops).backward()


# ------------------------------------------------------------------------ large ops
def _mul_add(n):
    shape = (n,) if isinstance(n, int) else tuple(n)

    def torchlike(lib, device):
        a, b, c = _tensors(lib, device, shape, shape, shape)
        return lambda: a * b + c

    def xp(xp):
        a, b, c = _arrays(xp, shape, shape, shape)
        return lambda: a * b + c
    return torchlike, xp


def _matmul(n):
    return _binary((n, n), lambda a, b: a @ b)


CONV_X, CONV_W = (32, 16, 32, 32), (32, 16, 3, 3)


def _conv2d_torchlike(lib, device):
    conv2d = getattr(lib.nn.functional, "conv2d", None)
    if conv2d is None:
        raise NotApplicable(f"{lib.__name__}.nn.functional has no conv2d")
    x, w = _tensors(lib, device, CONV_X, CONV_W)
    return lambda: conv2d(x, w, padding=1)


def _conv2d_xp(xp):
    """numpy's idiom: im2col through a sliding-window view, then one tensordot (a GEMM)."""
    window = getattr(getattr(xp.lib, "stride_tricks", None), "sliding_window_view", None)
    if window is None:
        raise NotApplicable(f"{xp.__name__} has no sliding_window_view")
    x, w = _arrays(xp, CONV_X, CONV_W)

    def run():
        padded = xp.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
        cols = window(padded, (3, 3), axis=(2, 3))           # N, C, H, W, 3, 3
        out = xp.tensordot(cols, w, axes=([1, 4, 5], [1, 2, 3]))  # N, H, W, O
        return xp.ascontiguousarray(out.transpose(0, 3, 1, 2))
    return run


# ------------------------------------------------------------------------ training
def mlp(lib):
    """The digits MLP, 64-256-256-10 with ReLU."""
    nn = lib.nn
    return nn.Sequential(nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(),
                         nn.Linear(256, 10))


def small_cnn(lib):
    """Two 3x3 convolutions over 1x8x8 digits, then a linear classifier."""
    nn = lib.nn
    for name in ("Conv2d", "Flatten"):
        if not hasattr(nn, name):
            raise NotApplicable(f"{lib.__name__}.nn has no {name}")
    return nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(),
                         nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(),
                         nn.Flatten(), nn.Linear(32 * 8 * 8, 10))


def _train(lib, device, make_model, batch, epoch=False, image=False):
    """zero_grad, forward, cross_entropy, backward, Adam step: one step, or a batch-64 epoch."""
    cross_entropy = getattr(lib.nn.functional, "cross_entropy", None)
    if cross_entropy is None:
        raise NotApplicable(f"{lib.__name__}.nn.functional has no cross_entropy")
    lib.manual_seed(0)
    model = make_model(lib).to(device)
    opt = lib.optim.Adam(model.parameters(), lr=1e-3)
    x, y = digits_like()
    if image:
        x = x.reshape(-1, 1, 8, 8)
    starts = range(0, len(x), batch) if epoch else [0]
    batches = [(lib.tensor(x[i:i + batch], device=device), lib.tensor(y[i:i + batch],
                device=device)) for i in starts]

    def run():
        for xb, yb in batches:
            opt.zero_grad()
            loss = cross_entropy(model(xb), yb)
            loss.backward()
            opt.step()
    return run


def _train_xp(batch, epoch=False):
    """The same MLP step written by hand in numpy/CuPy: forward, softmax cross-entropy,
    backward, and Adam with torch's update order -- the floor plugrad's overhead sits on."""
    def build(xp):
        rng = np.random.default_rng(0)
        params = []
        for fan_in, fan_out in ((64, 256), (256, 256), (256, 10)):
            bound = 1 / math.sqrt(fan_in)
            params += [xp.asarray(rng.uniform(-bound, bound, (fan_in, fan_out)), xp.float32),
                       xp.asarray(rng.uniform(-bound, bound, fan_out), xp.float32)]
        moments = [(xp.zeros_like(p), xp.zeros_like(p)) for p in params]
        x, y = digits_like()
        starts = range(0, len(x), batch) if epoch else [0]
        eye = xp.eye(10, dtype=xp.float32)
        batches = [(xp.asarray(x[i:i + batch]), xp.asarray(y[i:i + batch]),
                    eye[xp.asarray(y[i:i + batch])]) for i in starts]
        t = [0]

        def step(xb, yb, onehot):
            w1, b1, w2, b2, w3, b3 = params
            h1 = xb @ w1 + b1
            a1 = xp.maximum(h1, 0)
            h2 = a1 @ w2 + b2
            a2 = xp.maximum(h2, 0)
            z = a2 @ w3 + b3
            z = z - z.max(axis=1, keepdims=True)
            e = xp.exp(z)
            s = e.sum(axis=1, keepdims=True)
            loss = (xp.log(s)[:, 0] - z[xp.arange(len(yb)), yb]).mean()
            dz = (e / s - onehot) / len(yb)
            d2 = (dz @ w3.T) * (h2 > 0)
            d1 = (d2 @ w2.T) * (h1 > 0)
            grads = (xb.T @ d1, d1.sum(0), a1.T @ d2, d2.sum(0), a2.T @ dz, dz.sum(0))
            t[0] += 1
            c1, c2 = 1 - 0.9 ** t[0], math.sqrt(1 - 0.999 ** t[0])
            for p, g, (m, v) in zip(params, grads, moments):
                m *= 0.9
                m += 0.1 * g
                v *= 0.999
                v += 0.001 * g * g
                p -= (1e-3 / c1) * m / (xp.sqrt(v) / c2 + 1e-8)
            return loss

        def run():
            for xb, yb, onehot in batches:
                step(xb, yb, onehot)
        return run
    return build


# ------------------------------------------------------------------------ transfers
TRANSFER_N = 4 << 20  # 16 MiB of float32


def _to_device(lib, device):
    host = _host((TRANSFER_N,), 0)
    return lambda: lib.from_numpy(host).to(device)


def _to_host(lib, device):
    dev = lib.from_numpy(_host((TRANSFER_N,), 0)).to(device)
    return lambda: dev.cpu().numpy()


def _xp_to_device(xp):
    host = _host((TRANSFER_N,), 0)
    if xp is np:  # no device: the host memcpy is the reference
        return host.copy
    return lambda: xp.asarray(host)


def _xp_to_host(xp):
    arr = xp.asarray(_host((TRANSFER_N,), 0))
    if xp is np:
        return arr.copy
    return lambda: xp.asnumpy(arr)


def _conv_flops():
    n, c, h, w = CONV_X
    return 2.0 * n * CONV_W[0] * h * w * c * 9


def _model(name):
    from ._bench_models import make_step

    def build(lib, device):
        if not hasattr(lib.nn.functional, "scaled_dot_product_attention"):
            raise NotApplicable(f"{lib.__name__} lacks the layers of this model")
        return make_step(lib, device, name)
    return build


def _compiled(build):
    """``build``'s step under ``lib.compile`` (plugrad: warm-up, capture, then replay; the
    table's warm-up calls reach the replay). torch.compile takes tens of seconds per model
    here, so its column is timed only with PLUGRAD_BENCH_TORCH_COMPILE=1."""
    import os

    def builder(lib, device):
        if lib.__name__ == "torch" and os.environ.get("PLUGRAD_BENCH_TORCH_COMPILE") != "1":
            raise NotApplicable("torch.compile: set PLUGRAD_BENCH_TORCH_COMPILE=1 to time it")
        if not hasattr(lib, "compile"):
            raise NotApplicable(f"{lib.__name__} has no compile")
        step = lib.compile(build(lib, device))
        step()
        return step
    return builder


def workloads():
    """The table's rows, in order."""
    add, add_xp = _binary((2, 2), lambda a, b: a + b)
    mul_sum, mul_sum_xp = _binary((2, 2), lambda a, b: (a * b).sum())
    fma4, fma4_xp = _mul_add(4 << 20)
    fma64, fma64_xp = _mul_add(64 << 20)
    mm1k, mm1k_xp = _matmul(1024)
    mm4k, mm4k_xp = _matmul(4096)
    return [
        Workload("a + b, 2x2 float32", "us", add, add_xp),
        Workload("(a*b).sum(), 2x2 float32", "us", mul_sum, mul_sum_xp),
        Workload("fwd+bwd, 100-op chain on 16 floats, per op", "us", _chain, per=100),
        Workload("a*b+c, 4M float32", "ms", fma4, fma4_xp, work=(16 * (4 << 20), "GB/s")),
        Workload("a*b+c, 64M float32", "ms", fma64, fma64_xp, work=(16 * (64 << 20), "GB/s"),
                 big=True),
        Workload("matmul 1024^3 float32", "ms", mm1k, mm1k_xp, work=(2 * 1024 ** 3, "GFLOP/s")),
        Workload("matmul 4096^3 float32", "ms", mm4k, mm4k_xp, work=(2 * 4096 ** 3, "GFLOP/s"),
                 big=True),
        Workload("conv2d 32x16x32x32, 32 3x3 filters, pad 1", "ms", _conv2d_torchlike,
                 _conv2d_xp, work=(_conv_flops(), "GFLOP/s")),
        Workload("digits MLP 64-256-256-10 Adam step, batch 64", "ms",
                 lambda lib, dev: _train(lib, dev, mlp, 64), _train_xp(64)),
        Workload("digits MLP Adam step, full batch 1797", "ms",
                 lambda lib, dev: _train(lib, dev, mlp, 1797), _train_xp(1797)),
        Workload("digits MLP epoch, batch 64 (29 steps)", "ms",
                 lambda lib, dev: _train(lib, dev, mlp, 64, epoch=True),
                 _train_xp(64, epoch=True)),
        Workload("small CNN Adam step, batch 64 of 1x8x8", "ms",
                 lambda lib, dev: _train(lib, dev, small_cnn, 64, image=True)),
        Workload("GPT step (nanoGPT char-like: 4 blocks, width 128, 12x64 tokens, AdamW)",
                 "ms", _model("gpt")),
        Workload("LSTM LM step (2 layers, 128/256, vocab 1000, 35x20 tokens, Adam)", "ms",
                 _model("lstm")),
        Workload("CNN step (2x conv-bn-relu-pool, batch 32 of 1x28x28, SGD momentum)", "ms",
                 _model("cnn")),
        Workload("digits MLP Adam step, batch 64, compiled", "ms",
                 _compiled(lambda lib, dev: _train(lib, dev, mlp, 64))),
        Workload("GPT step, compiled", "ms", _compiled(_model("gpt"))),
        Workload("LSTM LM step, compiled", "ms", _compiled(_model("lstm"))),
        Workload("CNN step, compiled", "ms", _compiled(_model("cnn"))),
        Workload("host->device 16 MiB (numpy: memcpy)", "ms", _to_device, _xp_to_device,
                 work=(4 * TRANSFER_N, "GB/s"), transfer=True),
        Workload("device->host 16 MiB (numpy: memcpy)", "ms", _to_host, _xp_to_host,
                 work=(4 * TRANSFER_N, "GB/s"), transfer=True),
    ]


def shared(small=(2, 2), large=(4 << 20,)):
    """The torch-like builders ``(lib, device) -> callable`` asv times under these names
    (with its own sizes: ``large`` is (2048, 2048) there)."""
    return {
        "add_small": _binary(small, lambda a, b: a + b)[0],
        "mul_sum_small": _binary(small, lambda a, b: (a * b).sum())[0],
        "chain_backward": _chain,
        "mul_add_large": _mul_add(large)[0],
        "matmul_1024": _matmul(1024)[0],
        "conv2d_large": _conv2d_torchlike,
        "mlp_step": lambda lib, device: _train(lib, device, mlp, 64),
        "cnn_step": lambda lib, device: _train(lib, device, small_cnn, 64, image=True),
    }
