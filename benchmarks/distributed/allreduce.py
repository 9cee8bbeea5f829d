"""All-reduce bus bandwidth per message size: plugrad.distributed (mpi backend) vs raw mpi4py on
the very same numpy buffers, alternating call by call.

    mpiexec -n 2 python benchmarks/distributed/allreduce.py [--repeat 30]

Bus bandwidth is NCCL-tests' definition: bytes * 2 (n - 1) / n / time, the traffic of a ring
all-reduce per rank, so numbers are comparable across world sizes. Targets (issue 14): >= 0.95x
raw mpi4py at >= 1 MiB, <= 20 us overhead per call below. Rank 0 prints a table and, with
--json PATH, writes the per-size medians (scaling.py reads them).
"""
from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

import plugrad  # noqa: E402
import plugrad.distributed as dist  # noqa: E402

SIZES = [8, 64, 1024, 16 << 10, 256 << 10, 1 << 20, 4 << 20, 16 << 20, 64 << 20]


def timed(fn, reps):
    comm_barrier()
    start = time.perf_counter()
    for _ in range(reps):
        fn()
    return (time.perf_counter() - start) / reps


def comm_barrier():
    from mpi4py import MPI
    MPI.COMM_WORLD.Barrier()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--repeat", type=int, default=15, help="rounds per size (median reported)")
    p.add_argument("--max-bytes", type=int, default=64 << 20)
    p.add_argument("--json", default=None)
    args = p.parse_args()
    dist.init_process_group("mpi")
    from mpi4py import MPI
    comm = MPI.COMM_WORLD
    rank, n = dist.get_rank(), dist.get_world_size()
    rows = []
    for size in [s for s in SIZES if s <= args.max_bytes]:
        tensor = plugrad.ones(size // 4)
        buf = tensor.numpy()                      # the same memory, for raw mpi4py
        calls = max(1, min(200, (8 << 20) // size))
        raw, ours = [], []
        for _ in range(args.repeat):
            raw.append(timed(lambda: comm.Allreduce(MPI.IN_PLACE, buf, MPI.SUM), calls))
            ours.append(timed(lambda: dist.all_reduce(tensor), calls))
        t_raw, t_ours = statistics.median(raw), statistics.median(ours)
        factor = 2 * (n - 1) / n if n > 1 else 1.0
        rows.append({"bytes": size, "raw_s": t_raw, "plugrad_s": t_ours,
                     "raw_best_s": min(raw), "plugrad_best_s": min(ours),
                     "raw_busbw_GBps": size * factor / t_raw / 1e9,
                     "plugrad_busbw_GBps": size * factor / t_ours / 1e9})
    if rank == 0:
        print(f"all-reduce, {n} ranks, float32, median of {args.repeat} rounds "
              f"(checks {'on' if os.environ.get('PLUGRAD_DISTRIBUTED_CHECKS', '1') != '0' else 'off'})")
        print(f"{'bytes':>10} {'mpi4py us':>10} {'plugrad us':>11} {'overhead us':>12} "
              f"{'mpi4py GB/s':>12} {'plugrad GB/s':>13} {'ratio':>6} {'best-round ratio':>17}")
        for r in rows:
            print(f"{r['bytes']:>10} {r['raw_s'] * 1e6:>10.1f} {r['plugrad_s'] * 1e6:>11.1f} "
                  f"{(r['plugrad_s'] - r['raw_s']) * 1e6:>12.1f} {r['raw_busbw_GBps']:>12.3f} "
                  f"{r['plugrad_busbw_GBps']:>13.3f} {r['raw_s'] / r['plugrad_s']:>6.2f} "
                  f"{r['raw_best_s'] / r['plugrad_best_s']:>17.2f}")
        print("ratio: mpi4py time / plugrad time (>= 0.95 is the target at >= 1 MiB); "
              "best-round ratio compares the fastest round of each (less load noise)")
        if args.json:
            with open(args.json, "w") as f:
                json.dump({"world_size": n, "rows": rows}, f, indent=1)
    if n == 1 and rank == 0:
        small = plugrad.ones(2)
        buf = small.numpy()
        raw, ours = [], []
        for _ in range(15):
            raw.append(cpu_per_call(lambda: comm.Allreduce(MPI.IN_PLACE, buf, MPI.SUM)))
            ours.append(cpu_per_call(lambda: dist.all_reduce(small)))
        print(f"CPU time per 8-byte all_reduce (best of 15 x 5000 calls): mpi4py "
              f"{min(raw) * 1e6:.2f} us, plugrad {min(ours) * 1e6:.2f} us "
              f"(+{(min(ours) - min(raw)) * 1e6:.2f} us)")
    dist.destroy_process_group()


def cpu_per_call(fn, calls=5000):
    start = time.process_time()
    for _ in range(calls):
        fn()
    return (time.process_time() - start) / calls


if __name__ == "__main__":
    main()
