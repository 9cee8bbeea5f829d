"""Scaling table: measured at 1, 2 and 4 ranks on this machine, and a paper estimate for 8-64
nodes from the measured latency and bandwidth.

    python benchmarks/distributed/scaling.py [--ranks 1 2 4] [--link-GBps 12.5]

Runs allreduce.py and ddp_step.py under mpiexec for each rank count, fits the all-reduce
time as t(m) = a + m * 2(n-1)/n / B (a: latency, B: bus bandwidth) from the 2-rank sizes,
then estimates a ring all-reduce of the GPT's gradients on n nodes,
t_ar(n) = 2(n-1) a + 2(n-1)/n * M / B, and the step time between perfect overlap
max(compute, t_ar) and none (compute + t_ar). ``--link-GBps`` replaces the loopback bandwidth
by a network's (12.5 GB/s = 100 Gb/s InfiniBand / Ethernet) for the node estimate.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", ".."))


def mpiexec():
    from plugrad.distributed.run import find_mpiexec
    return find_mpiexec()


def run(n, script, *args):
    cmd = [sys.executable, os.path.join(HERE, script), *args]
    if n > 1:
        cmd = [mpiexec(), "-n", str(n), *cmd]
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    return subprocess.run(cmd, capture_output=True, text=True, env=env, check=True).stdout


def fit(rows, n):
    """Least squares of t = a + x / B with x = bytes * 2(n-1)/n."""
    factor = 2 * (n - 1) / n
    xs = [r["bytes"] * factor for r in rows]
    ts = [r["plugrad_s"] for r in rows]
    mx, mt = sum(xs) / len(xs), sum(ts) / len(ts)
    slope = sum((x - mx) * (t - mt) for x, t in zip(xs, ts)) / sum((x - mx) ** 2 for x in xs)
    return max(mt - slope * mx, 0.0), 1.0 / slope


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--ranks", type=int, nargs="+", default=[1, 2, 4])
    p.add_argument("--link-GBps", type=float, default=None)
    p.add_argument("--steps", type=int, default=8)
    args = p.parse_args()
    steps = {}
    for n in args.ranks:
        out = run(n, "ddp_step.py", "--steps", str(args.steps))
        single = float(re.search(r"single-process step ([\d.]+) ms", out).group(1))
        ddp = re.search(r"DDP step at \d+ ranks ([\d.]+) ms", out)
        steps[n] = (single, float(ddp.group(1)) if ddp else single)
        params = float(re.search(r"GPT ([\d.]+)M params", out).group(1)) * 1e6
    print("measured on this machine (one thread per rank, per-rank batch 8x64):")
    print(f"{'ranks':>5} {'step ms':>8} {'samples/s':>10} {'efficiency':>10}")
    base = steps[args.ranks[0]][1]
    for n, (single, ddp) in steps.items():
        print(f"{n:>5} {ddp:>8.1f} {n * 8 / (ddp / 1e3):>10.0f} {base / ddp:>10.2f}")
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "ar.json")
        run(2, "allreduce.py", "--repeat", "5", "--max-bytes", str(16 << 20), "--json", path)
        rows = json.load(open(path))["rows"]
    latency, bw = fit(rows, 2)
    if args.link_GBps:
        bw = args.link_GBps * 1e9
    grad_bytes = params * 4
    compute = steps[args.ranks[0]][0] / 1e3
    print(f"\nall-reduce fit at 2 ranks: latency {latency * 1e6:.1f} us, bus bandwidth "
          f"{bw / 1e9:.2f} GB/s{' (given)' if args.link_GBps else ''}; gradients "
          f"{grad_bytes / 1e6:.1f} MB; compute {compute * 1e3:.1f} ms per step")
    print("paper estimate, one rank per node, ring all-reduce:")
    print(f"{'nodes':>5} {'all-reduce ms':>14} {'step ms (overlap..none)':>24} "
          f"{'efficiency':>11}")
    for n in (8, 16, 32, 64):
        t_ar = 2 * (n - 1) * latency + 2 * (n - 1) / n * grad_bytes / bw
        best, worst = max(compute, t_ar), compute + t_ar
        print(f"{n:>5} {t_ar * 1e3:>14.2f} {best * 1e3:>11.1f} .. {worst * 1e3:<10.1f} "
              f"{compute / worst:>5.2f}..{compute / best:.2f}")


if __name__ == "__main__":
    main()
