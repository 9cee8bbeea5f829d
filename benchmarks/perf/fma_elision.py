"""``a*b+c`` on 4M float32 (cpu backend) against numpy: how big is the gap, and why.

    python benchmarks/perf/fma_elision.py [--repeat 150] [--n 4194304]

numpy evaluates ``a*b+c`` with temporary elision: ``a*b`` is an unreferenced temporary, so
the add writes into it and only one 16 MiB result is allocated. plugrad's frontend cannot
know that the product tensor is unreferenced, so its add allocates a second output. Rows:

* numpy ``a*b+c`` (elided) and ``np.add(np.multiply(a, b), c)`` (two allocations);
* plugrad ``a*b+c`` and ``(a*b).add_(c)`` (the temporary reused by hand);

each timed in its own loop ("isolated") and all four alternating sample by sample
("interleaved"), one thread, first with glibc's default malloc (a freed 16 MiB block goes
back to the kernel, so the next one page-faults in), then with freed memory kept
(``mallopt``, as ``benchmarks/training.py --keep-freed-memory``). Best and median ms.
"""
from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from training import keep_freed_memory  # noqa: E402


def sample(fns, keys, repeat):
    times = {k: [] for k in keys}
    for _ in range(repeat):
        for k in keys:
            t0 = time.perf_counter()
            fns[k]()
            times[k].append(time.perf_counter() - t0)
    return {k: (min(v), statistics.median(v)) for k, v in times.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=150)
    parser.add_argument("--n", type=int, default=4 << 20)
    args = parser.parse_args()
    import plugrad
    rng = np.random.default_rng(0)
    a, b, c = (rng.standard_normal(args.n).astype(np.float32) for _ in range(3))
    pa, pb, pc = (plugrad.from_numpy(v) for v in (a, b, c))
    fns = {
        "numpy a*b+c (elided)": lambda: a * b + c,
        "numpy, two allocations": lambda: np.add(np.multiply(a, b), c),
        "plugrad a*b+c": lambda: pa * pb + pc,
        "plugrad (a*b).add_(c)": lambda: (pa * pb).add_(pc),
    }
    for fn in fns.values():
        fn()
    print(f"a*b+c, {args.n} float32, best / median ms of {args.repeat}, one thread")
    for malloc in ("default malloc", "freed memory kept"):
        if malloc != "default malloc" and not keep_freed_memory():
            print("(mallopt unavailable: no second table)")
            break
        isolated = {}
        for k in fns:
            isolated.update(sample(fns, [k], args.repeat))
        inter = sample(fns, list(fns), args.repeat)
        ref_i, ref_x = isolated["numpy a*b+c (elided)"][0], inter["numpy a*b+c (elided)"][0]
        print(f"\n{malloc}:")
        print(f"{'variant':26} {'isolated':>16} {'/numpy':>7} {'interleaved':>16} {'/numpy':>7}")
        for k in fns:
            (ib, im), (xb, xm) = isolated[k], inter[k]
            print(f"{k:26} {ib * 1e3:7.3f} /{im * 1e3:7.3f} {ib / ref_i:7.2f} "
                  f"{xb * 1e3:7.3f} /{xm * 1e3:7.3f} {xb / ref_x:7.2f}")


if __name__ == "__main__":
    main()
