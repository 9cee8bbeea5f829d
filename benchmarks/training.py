"""Training benchmarks, side by side: plugrad (cpu backend), torch CPU and a hand-written numpy
MLP, all on one thread.

    python benchmarks/training.py [--repeat 15] [--device cpu] [--keep-freed-memory]

Workloads (sklearn's bundled digits: 1797 samples of 8x8 pixels, 10 classes):

* ``mlp epoch``: 64-256-256-10 ReLU MLP, cross-entropy, Adam(lr=1e-3), one epoch of shuffled
  batches of 64 through DataLoader(TensorDataset) (numpy: a permutation and fancy indexing);
* ``mlp full-batch step``: the same model, one step on all 1797 samples;
* ``cnn step``: conv(1->16,3x3,pad 1)-relu-maxpool2 -> conv(16->32)-relu-maxpool2 -> linear,
  one Adam step on a batch of 64.

Each number is the median over ``--repeat`` runs after a warm-up, in milliseconds, with the
frameworks alternating run by run. The contenders share one process, so the cpu backend's
malloc policy (plugrad.backends.host_memory: freed memory kept) applies to all three alike;
``PLUGRAD_KEEP_FREED_MEMORY=0`` runs all three with glibc's defaults instead.
"""
from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS",
             "VECLIB_MAXIMUM_THREADS", "BLIS_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from plugrad.backends.host_memory import keep_freed_memory  # noqa: E402


def digits():
    from sklearn.datasets import load_digits
    d = load_digits()
    return (d.data / 16.0).astype(np.float32), d.target.astype(np.int64)


def measure(workloads, repeat):
    """{(framework, workload): (median wall ms, median cpu ms)}.

    Frameworks alternate within every repetition, so background load hits them alike; cpu
    time (this thread's) is reported beside wall time because it is what a shared machine
    perturbs least.
    """
    for fn in workloads.values():
        fn()   # warm-up (kernel compilation, caches, lazy imports)
    wall = {k: [] for k in workloads}
    cpu = {k: [] for k in workloads}
    for _ in range(repeat):
        for key, fn in workloads.items():
            w0, c0 = time.perf_counter(), time.thread_time()
            fn()
            cpu[key].append(time.thread_time() - c0)
            wall[key].append(time.perf_counter() - w0)
    return {k: (statistics.median(wall[k]) * 1e3, statistics.median(cpu[k]) * 1e3)
            for k in workloads}


# ---------------------------------------------------------------- torch-API frameworks
def framework_suite(mod, X, Y, device="cpu", sync=lambda: None):
    nn = mod.nn
    mod.manual_seed(0)
    mlp = nn.Sequential(nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(),
                        nn.Linear(256, 10)).to(device)
    opt = mod.optim.Adam(mlp.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    xs, ys = mod.tensor(X, device=device), mod.tensor(Y, device=device)
    loader = mod.utils.data.DataLoader(mod.utils.data.TensorDataset(xs, ys), batch_size=64,
                                       shuffle=True)

    def step(model, x, y):
        opt_ = opts[id(model)]
        opt_.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt_.step()
        return loss

    opts = {id(mlp): opt}

    def epoch():
        for x, y in loader:
            step(mlp, x, y)
        sync()

    def full_batch():
        step(mlp, xs, ys)
        sync()

    cnn = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                        nn.Flatten(), nn.Linear(32 * 2 * 2, 10)).to(device)
    opts[id(cnn)] = mod.optim.Adam(cnn.parameters(), lr=1e-3)
    images = xs[:64].reshape(64, 1, 8, 8)
    labels = ys[:64]

    def cnn_step():
        step(cnn, images, labels)
        sync()

    return {"mlp epoch": epoch, "mlp full-batch step": full_batch, "cnn step": cnn_step}


# ---------------------------------------------------------------- hand-written numpy
class NumpyMLP:
    """64-256-256-10 ReLU MLP with softmax cross-entropy and Adam, written out in numpy."""

    def __init__(self, sizes=(64, 256, 256, 10), lr=1e-3, seed=0):
        rng = np.random.default_rng(seed)
        self.params = []
        for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
            bound = 1 / np.sqrt(fan_in)
            self.params += [rng.uniform(-bound, bound, (fan_in, fan_out)).astype(np.float32),
                            rng.uniform(-bound, bound, fan_out).astype(np.float32)]
        self.m = [np.zeros_like(p) for p in self.params]
        self.v = [np.zeros_like(p) for p in self.params]
        self.t = 0
        self.lr = lr

    def step(self, x, y):
        w1, b1, w2, b2, w3, b3 = self.params
        h1 = np.maximum(x @ w1 + b1, 0)
        h2 = np.maximum(h1 @ w2 + b2, 0)
        z = h2 @ w3 + b3
        z = z - z.max(axis=1, keepdims=True)
        e = np.exp(z)
        p = e / e.sum(axis=1, keepdims=True)
        n = x.shape[0]
        loss = -np.log(p[np.arange(n), y]).mean()
        dz = p
        dz[np.arange(n), y] -= 1
        dz /= n
        g3, gb3 = h2.T @ dz, dz.sum(0)
        dh2 = (dz @ w3.T) * (h2 > 0)
        g2, gb2 = h1.T @ dh2, dh2.sum(0)
        dh1 = (dh2 @ w2.T) * (h1 > 0)
        g1, gb1 = x.T @ dh1, dh1.sum(0)
        self.t += 1
        b1c, b2c = 1 - 0.9 ** self.t, 1 - 0.999 ** self.t
        for p_, g, m, v in zip(self.params, (g1, gb1, g2, gb2, g3, gb3), self.m, self.v):
            m *= 0.9
            m += 0.1 * g
            v *= 0.999
            v += 0.001 * (g * g)
            p_ -= (self.lr / b1c) * m / (np.sqrt(v) / np.sqrt(b2c) + 1e-8)
        return loss


def numpy_suite(X, Y):
    model = NumpyMLP()
    rng = np.random.default_rng(0)

    def epoch():
        perm = rng.permutation(len(X))
        for i in range(0, len(X), 64):
            idx = perm[i:i + 64]
            model.step(X[idx], Y[idx])

    def full_batch():
        model.step(X, Y)

    return {"mlp epoch": epoch, "mlp full-batch step": full_batch}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--device", default="cpu", help="plugrad device (default cpu)")
    parser.add_argument("--keep-freed-memory", action="store_true",
                        help="glibc mallopt: reuse freed memory instead of unmapping it (the "
                             "cpu backend's default; this flag applies it before any load)")
    args = parser.parse_args()
    if args.keep_freed_memory and not keep_freed_memory():
        parser.error("mallopt is not available here")
    X, Y = digits()
    import torch
    torch.set_num_threads(1)
    import plugrad
    sync = (lambda: plugrad.cuda.synchronize()) if args.device.startswith("cuda") else \
        (lambda: None)
    suites = {f"plugrad-{args.device}": framework_suite(plugrad, X, Y, args.device, sync),
              "torch-cpu": framework_suite(torch, X, Y),
              "numpy (hand-written)": numpy_suite(X, Y)}
    workloads = {(name, w): fn for name, suite in suites.items() for w, fn in suite.items()}
    results = measure(workloads, args.repeat)
    names = list(suites)
    print(f"median of {args.repeat} runs, ms: wall (thread cpu)" +
          (", freed memory kept by malloc" if args.keep_freed_memory else ""))
    print(f"{'':<22}" + "".join(f"{n:>24}" for n in names) +
          f"{'plugrad/torch':>15}{'plugrad/numpy':>15}")
    for w in suites[names[0]]:
        cells, walls = [], []
        for n in names:
            if (n, w) in results:
                wall, cpu = results[(n, w)]
                cells.append(f"{wall:>13.2f} ({cpu:7.2f})")
                walls.append(wall)
            else:
                cells.append(f"{'-':>24}")
                walls.append(float("nan"))
        print(f"{w:<22}" + "".join(cells) + f"{walls[0] / walls[1]:>15.2f}" +
              (f"{walls[0] / walls[2]:>15.2f}" if walls[2] == walls[2] else f"{'-':>15}"))


if __name__ == "__main__":
    main()
