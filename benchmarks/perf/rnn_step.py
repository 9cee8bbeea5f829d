"""Recurrent layers, one thread, best of N, interleaved: plugrad cpu against torch cpu.

    python benchmarks/perf/rnn_step.py [--repeat 20] [--before]

Rows: a 2-layer LSTM/GRU/RNN over 20 time steps (batch 16, input 32, hidden 64): forward
under no_grad, and forward + backward of ``out.sum()``. ``--before`` adds a column running
plugrad's composed per-step cell (``PLUGRAD_RNN_COMPOSED=1`` semantics: the fused sequence op
switched off), so both columns share every other line of plugrad.
"""
from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

T, N, I, H = 20, 16, 32, 64


def make(lib, kind, layers=2):
    lib.manual_seed(0)
    return getattr(lib.nn, kind)(I, H, layers)


def workloads(lib, kind):
    model = make(lib, kind)
    x = lib.tensor(np.random.default_rng(0).standard_normal((T, N, I)).astype(np.float32))

    def forward():
        with lib.no_grad():
            model(x)

    def train():
        model.zero_grad()
        out, _ = model(x)
        out.sum().backward()
    return {"fwd (no_grad)": forward, "fwd+bwd": train}


def best_of(fns, repeat):
    for fn in fns.values():
        fn()
    times = {k: [] for k in fns}
    for _ in range(repeat):
        for k, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            times[k].append(time.perf_counter() - t0)
    return {k: min(v) for k, v in times.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--before", action="store_true",
                        help="also time plugrad with the fused sequence op disabled")
    args = parser.parse_args()
    import torch

    import plugrad
    from plugrad.nn.modules import rnn as prnn
    torch.set_num_threads(1)
    cols = ["torch", "plugrad"] + (["before"] if args.before else [])
    print(f"{'workload':34}" + "".join(f"{c:>12}" for c in cols) + "   plugrad/torch (ms)")
    for kind in ("LSTM", "GRU", "RNN"):
        t_w, p_w = workloads(torch, kind), workloads(plugrad, kind)
        b_w = workloads(plugrad, kind) if args.before else {}
        for name in t_w:
            fns = {"torch": t_w[name], "plugrad": p_w[name]}
            if args.before:
                def before(fn=b_w[name]):
                    prnn._FUSED = False
                    try:
                        fn()
                    finally:
                        prnn._FUSED = True
                fns["before"] = before
            t = best_of(fns, args.repeat)
            label = f"{kind} 2x{T} steps, {name}"
            print(f"{label:34}" + "".join(f"{t[c] * 1e3:12.3f}" for c in cols) +
                  f"   {t['plugrad'] / t['torch']:.2f}x")


if __name__ == "__main__":
    main()
