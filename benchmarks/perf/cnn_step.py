"""Small-CNN Adam steps: plugrad cpu now, plugrad with the previous conv kernels, torch.

    python benchmarks/perf/cnn_step.py [--repeat 30]

One thread everywhere; the three alternate sample by sample and each cell is the best of
``--repeat`` (wall time and this thread's cpu time, which a loaded machine perturbs less).
The "before" column swaps the cpu backend's conv kernels for the as_strided + tensordot ones
kept in ``conv_kernels.py``, so both columns share every other line of plugrad.
"""
from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import conv_kernels as old  # noqa: E402


def models(nn, pool):
    if pool:   # benchmarks/training.py's cnn
        return nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                             nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                             nn.Flatten(), nn.Linear(32 * 2 * 2, 10))
    # python -m plugrad bench's cnn
    return nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(),
                         nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(),
                         nn.Flatten(), nn.Linear(32 * 8 * 8, 10))


def step_fn(lib, pool, batch):
    lib.manual_seed(0)
    model = models(lib.nn, pool)
    opt = lib.optim.Adam(model.parameters(), lr=1e-3)
    rng = np.random.default_rng(0)
    x = lib.tensor(rng.random((batch, 1, 8, 8), dtype=np.float32))
    y = lib.tensor(rng.integers(0, 10, batch))

    def run():
        opt.zero_grad()
        lib.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    return run


class OldKernels:
    """Context manager: the cpu backend runs the previous conv kernels inside."""

    def __init__(self, table):
        self.table = table

    def __enter__(self):
        t = self.table
        self.saved = (t.conv2d, t.conv2d_input_grad, t.conv2d_weight_grad)
        t.conv2d, t.conv2d_input_grad, t.conv2d_weight_grad = (
            old.old_conv2d, old.old_input_grad, old.old_weight_grad)

    def __exit__(self, *exc):
        t = self.table
        t.conv2d, t.conv2d_input_grad, t.conv2d_weight_grad = self.saved


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    import torch

    import plugrad
    from plugrad.plugins import get_registry
    torch.set_num_threads(1)
    table = get_registry().table("cpu")
    print(f"{'workload':34} {'torch':>14} {'before':>14} {'after':>14}  after/torch "
          "(best wall ms / cpu ms)")
    for pool in (False, True):
        for batch in (32, 64):
            fns = {"torch": step_fn(torch, pool, batch), "after": step_fn(plugrad, pool, batch)}
            before = step_fn(plugrad, pool, batch)

            def before_run(before=before):
                with OldKernels(table):
                    before()
            fns["before"] = before_run
            for fn in fns.values():
                fn()
                fn()
            wall = {k: [] for k in fns}
            cpu = {k: [] for k in fns}
            for _ in range(args.repeat):
                for k, fn in fns.items():
                    w0, c0 = time.perf_counter(), time.thread_time()
                    fn()
                    cpu[k].append(time.thread_time() - c0)
                    wall[k].append(time.perf_counter() - w0)
            cell = {k: f"{min(wall[k]) * 1e3:6.2f}/{min(cpu[k]) * 1e3:6.2f}" for k in fns}
            name = f"cnn{' +maxpool' if pool else ''} step, batch {batch}"
            print(f"{name:34} {cell['torch']:>14} {cell['before']:>14} {cell['after']:>14}  "
                  f"{min(wall['after']) / min(wall['torch']):.2f}x")


if __name__ == "__main__":
    main()
