"""opencl backend (PoCL here) primitives against numpy on one thread, best of N.

    python benchmarks/perf/opencl_ops.py [--repeat 9] [--only colsum,sort] [--before DIR]

Rows: reductions over the non-contiguous axis (column sums), softmax along a non-last axis,
sort, argmax/cumsum/nonzero over few long rows, and per-op latency of small ops (the kernel
enqueue path). OpenCL timings include ``synchronize``; the device uses all its cores (PoCL:
one thread per core), numpy one thread. ``--before DIR`` adds a column for another copy of
the backend's package directory (``git archive <rev> backends/opencl | tar -x -C /tmp/x``,
then ``--before /tmp/x/backends/opencl``), loaded beside this one and run interleaved.
"""
from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402


def best_of(fns, repeat, number=1):
    """{name: best seconds per op} (a sample runs ``number`` ops); candidates alternate."""
    for fn in fns.values():
        fn()
    times = {k: [] for k in fns}
    for _ in range(repeat):
        for k, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            times[k].append((time.perf_counter() - t0) / number)
    return {k: min(v) for k, v in times.items()}


def load_before(path):
    """The OpenCLBackend of another copy of backends/opencl, as plugrad.backends._before."""
    import importlib.util
    import sys
    name = "plugrad.backends._before"
    spec = importlib.util.spec_from_file_location(
        name, os.path.join(path, "__init__.py"), submodule_search_locations=[path])
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return importlib.import_module(name + ".backend").OpenCLBackend


def workloads(cl, rng):
    """{name: (opencl fn, numpy fn, number of calls per sample)}."""
    sync = cl.synchronize

    def timed(fn, number=1):
        def run():
            for _ in range(number):
                fn()
            sync()
        return run

    def dev(a):
        return cl.from_host(a)

    def np_softmax(a, axis):
        e = np.exp(a - a.max(axis=axis, keepdims=True))
        e /= e.sum(axis=axis, keepdims=True)
        return e

    cols = rng.standard_normal((4096, 1000)).astype(np.float32)
    dcols = dev(cols)
    vec = rng.standard_normal(1 << 22).astype(np.float32)
    dvec = dev(vec)
    rows8 = rng.standard_normal((8, 1 << 19)).astype(np.float32)
    drows8 = dev(rows8)
    ints = (rng.random(1 << 22) < 0.5).astype(np.float32)
    dints = dev(ints)
    small = rng.standard_normal((2, 2)).astype(np.float32)
    ds = dev(small)
    w = {
        "colsum (4096,1000) axis 0": (lambda: cl.sum(dcols, (0,), False),
                                      lambda: cols.sum(0), 1),
        "rowsum (4096,1000) axis 1": (lambda: cl.sum(dcols, (1,), False),
                                      lambda: cols.sum(1), 1),
        "sum 4M": (lambda: cl.sum(dvec, (0,), False), lambda: vec.sum(), 1),
        "sum (8, 512K) axis 1": (lambda: cl.sum(drows8, (1,), False),
                                 lambda: rows8.sum(1), 1),
        "softmax (4096,1000) axis 0": (lambda: cl.softmax(dcols, 0),
                                       lambda: np_softmax(cols, 0), 1),
        "softmax (4096,1000) axis 1": (lambda: cl.softmax(dcols, 1),
                                       lambda: np_softmax(cols, 1), 1),
        "sort 4M float32": (lambda: cl.sort(dvec, 0, False),       # (values, indices)
                            lambda: np.take(vec, np.argsort(vec, kind="stable")), 1),
        "argmax 4M": (lambda: cl.argmax(dvec, 0, False), lambda: vec.argmax(), 1),
        "argmax (8, 512K) axis 1": (lambda: cl.argmax(drows8, 1, False),
                                    lambda: rows8.argmax(1), 1),
        "cumsum 4M": (lambda: cl.cumsum(dvec, 0), lambda: vec.cumsum(), 1),
        "cumsum (8, 512K) axis 1": (lambda: cl.cumsum(drows8, 1), lambda: rows8.cumsum(1), 1),
        "nonzero 4M (half set)": (lambda: cl.nonzero(dints), lambda: np.argwhere(ints), 1),
        "add 2x2 (per op)": (lambda: cl.add(ds, ds), lambda: np.add(small, small), 200),
        "mul 2x2 by scalar (per op)": (lambda: cl.mul(ds, 2.0), lambda: small * 2.0, 200),
        "sum 2x2 (per op)": (lambda: cl.sum(ds, (0, 1), False), lambda: small.sum(), 200),
    }
    # a per-op row runs ``n`` ops, then one synchronize (latency as a training loop sees it)
    return {k: (timed(a, n), (lambda b=b, n=n: [b() for _ in range(n)]), n)
            for k, (a, b, n) in w.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--only", default="", help="comma-separated substrings of row names")
    parser.add_argument("--before", default="", help="another backends/opencl directory")
    args = parser.parse_args()
    from plugrad.plugins import get_registry
    cl = get_registry().table("opencl")
    print(f"device: {cl.impl.devices[0].name}")
    old = {}
    if args.before:
        before = load_before(args.before)([d.cl for d in cl.impl.devices])
        old = workloads(before, np.random.default_rng(0))
    print(f"{'workload':30} {'opencl':>10} {'numpy':>10}" +
          (f" {'before':>10}" if old else "") + "  opencl/numpy" + (" before/numpy" if old
                                                                  else ""))
    only = [s for s in args.only.split(",") if s]
    for name, (ours, ref, number) in workloads(cl, np.random.default_rng(0)).items():
        if only and not any(s in name for s in only):
            continue
        fns = {"cl": ours, "np": ref}
        if old:
            fns["old"] = old[name][0]
        t = best_of(fns, args.repeat, number)
        unit, scale = ("us", 1e6) if number > 1 else ("ms", 1e3)
        line = f"{name:30} {t['cl'] * scale:8.2f}{unit} {t['np'] * scale:8.2f}{unit}"
        if old:
            line += f" {t['old'] * scale:8.2f}{unit}"
        line += f"  {t['cl'] / t['np']:11.2f}x"
        if old:
            line += f" {t['old'] / t['np']:11.2f}x"
        print(line)


if __name__ == "__main__":
    main()
