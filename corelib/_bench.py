"""``python -m plugrad bench --compare``: headline workloads on every backend, side by side.

One run times each workload on every available plugrad backend and on raw numpy, raw CuPy and
PyTorch (cpu, and cuda) when installed, and prints one table with plugrad's time as a ratio of
each reference (below 1: plugrad is faster). Samples of one workload alternate between the
implementations, so a machine that gets busier mid-run skews no ratio. CPU rows run on one
thread unless ``--threads`` says otherwise; GPU/OpenCL work is timed up to ``synchronize()``.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field

from ._bench_workloads import NotApplicable, workloads

THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


@dataclass
class Impl:
    """One column of implementations: a library on a device, with its synchronize."""
    label: str
    kind: str            # "plugrad", "numpy", "cupy" or "torch"
    lib: object
    device: str | None
    sync: object
    host: bool           # computes in host memory (no transfer, not a GPU-sized target)
    about: str = ""      # version / device, for the header
    times: dict = field(default_factory=dict)   # workload name -> seconds, or the n/a reason


def _nothing():
    return None


def _describe(entry):
    about = f"plugin {entry.provider.plugin_name!r} from {entry.provider.provider}"
    try:
        if entry.name == "opencl":
            from . import opencl
            dev = next(d for d in opencl.devices() if d["usable"])
            about += f", {dev['name']} ({dev['platform']})"
        elif entry.name == "cuda":
            from . import cuda
            about += f", {cuda.get_device_name()}"
    except Exception as exc:  # the header line must not stop the benchmark
        about += f", device name unknown ({type(exc).__name__})"
    return about


def implementations(only_backends=None, threads=1):
    """plugrad's available backends (from the registry), then numpy, CuPy, PyTorch."""
    import numpy as np

    import plugrad
    from .plugins import get_registry
    registry = get_registry()
    found = []
    entries = sorted(registry.entries(), key=lambda e: e.name != "cpu")  # cpu first
    for entry in entries:
        if only_backends and entry.name not in only_backends:
            continue
        if entry.availability() is not True or entry.device_count() < 1:
            continue
        found.append(Impl(f"plugrad {entry.name}", "plugrad", plugrad, entry.name,
                          registry.table(entry.name).synchronize, entry.name == "cpu",
                          _describe(entry)))
    found.append(Impl("numpy", "numpy", np, None, _nothing, True, np.__version__))
    try:
        import cupy
        if cupy.cuda.runtime.getDeviceCount() > 0:
            found.append(Impl("cupy", "cupy", cupy, None, cupy.cuda.Device().synchronize,
                              False, cupy.__version__))
    except Exception:  # not installed, or no driver/GPU: simply no CuPy column
        pass
    try:
        import torch
    except ImportError:
        return found
    if threads:
        torch.set_num_threads(threads)
    found.append(Impl("torch cpu", "torch", torch, "cpu", _nothing, True, torch.__version__))
    if torch.cuda.is_available():
        found.append(Impl("torch cuda", "torch", torch, "cuda", torch.cuda.synchronize, False,
                          f"{torch.__version__}, {torch.cuda.get_device_name()}"))
    return found


SKIP = "skip"  # a cell with nothing to say (a host library on a transfer or GPU-sized row)


def _build(work, impl):
    """The timed callable, or the reason there is none."""
    if (work.big or work.transfer) and impl.host and impl.kind != "numpy":
        return SKIP
    if work.big and impl.kind == "numpy":
        return SKIP
    try:
        if impl.kind in ("numpy", "cupy"):
            if work.xp is None:
                return SKIP
            return work.xp(impl.lib)
        return work.torchlike(impl.lib, impl.device)
    except NotApplicable as exc:
        return str(exc)


def _sample(fn, sync, number):
    start = time.perf_counter()
    for _ in range(number):
        fn()
    sync()
    return (time.perf_counter() - start) / number


def measure(work, impls, repeat, min_time):
    """Best-of-``repeat`` seconds per call for every implementation, sampled in turns."""
    runs = []
    for impl in impls:
        try:
            fn = _build(work, impl)
            if isinstance(fn, str):
                impl.times[work.name] = fn
                continue
            fn(), fn()                     # warm-up: kernel compiles, caches, optimizer state
            impl.sync()
            number = 1
            while _sample(fn, impl.sync, number) * number < min_time and number < 1 << 20:
                number *= 4
        except Exception as exc:           # a failing backend is a result, not a crash
            impl.times[work.name] = f"error: {type(exc).__name__}: {exc}"
            continue
        runs.append((impl, fn, number))
    best = {id(impl): float("inf") for impl, _, _ in runs}
    for _ in range(repeat):
        for impl, fn, number in runs:
            best[id(impl)] = min(best[id(impl)], _sample(fn, impl.sync, number))
    for impl, _, _ in runs:
        impl.times[work.name] = best[id(impl)] / work.per


REFERENCES = (("numpy", None, "vs numpy"), ("torch", "cpu", "vs torch"),
              ("cupy", None, "vs cupy"), ("torch", "cuda", "vs torch-cuda"))


def _fmt_time(seconds, unit):
    value = seconds * (1e6 if unit == "us" else 1e3)
    return f"{value:.3g} {unit}" if value < 100 else f"{value:.0f} {unit}"


def table(works, impls, markdown=False):
    """The comparison as text: one row per (workload, implementation), n/a with its reason."""
    refs = [(kind, dev, title) for kind, dev, title in REFERENCES
            if any(i.kind == kind and i.device == dev for i in impls)]
    head = ["workload", "implementation", "time", "rate", *(t for _, _, t in refs), "note"]
    rows = []
    for work in works:
        first = True
        for impl in impls:
            got = impl.times.get(work.name)
            if got is None or got == SKIP:
                continue
            row = [work.name if first else "", impl.label]
            first = False
            if isinstance(got, str):
                rows.append(row + ["n/a", ""] + [""] * len(refs) + [got])
                continue
            amount, rate_unit = work.work
            row += [_fmt_time(got, work.unit), f"{amount / got / 1e9:.3g} {rate_unit}"
                    if amount else ""]
            for kind, dev, _ in refs:
                ref = next((i.times.get(work.name) for i in impls
                            if i.kind == kind and i.device == dev), None)
                ours = impl.kind == "plugrad"
                row.append(f"{got / ref:.2f}x" if ours and isinstance(ref, float) else "")
            rows.append(row + [""])
    if markdown:
        lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
        return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in rows])
    widths = [max(len(r[c]) for r in [head] + rows) for c in range(len(head))]
    left = {0, 1, len(head) - 1}
    fmt = "  ".join(f"{{:<{w}}}" if c in left else f"{{:>{w}}}" for c, w in enumerate(widths))
    lines = [fmt.format(*head), fmt.format(*("-" * w for w in widths))]
    return "\n".join(line.rstrip() for line in lines + [fmt.format(*r) for r in rows])


def _parser():
    from .__main__ import program_name
    p = argparse.ArgumentParser(prog=f"{program_name()} bench", description=(
        "Time the headline workloads on every plugrad backend beside raw numpy, raw CuPy and "
        "PyTorch, in one run, and print one table of ratios."))
    p.add_argument("--compare", action="store_true",
                   help="print the comparison table (the default and only mode; the asv suites "
                        "in benchmarks/ track history)")
    p.add_argument("--quick", action="store_true", help="3 short samples per cell (a smoke run)")
    p.add_argument("--repeat", type=int, default=None, help="samples per cell (default 7)")
    p.add_argument("--only", default="", help="comma-separated substrings of workload names")
    p.add_argument("--backends", default="", help="comma-separated plugrad backends to include")
    p.add_argument("--threads", type=int, default=1,
                   help="CPU threads for numpy/BLAS/torch (default 1; 0 leaves the defaults)")
    p.add_argument("--big", action=argparse.BooleanOptionalAction, default=None,
                   help="add the GPU-sized rows (default: when CuPy or torch CUDA is present)")
    p.add_argument("--markdown", action="store_true", help="print a Markdown table")
    p.add_argument("--json", metavar="PATH", help="also write the raw seconds as JSON")
    return p


def progress(text, end="\n"):
    """One line per workload while the table is being measured (a full run takes ~50 s), on
    stderr, so stdout stays the table alone (``--markdown > table.md``)."""
    print(text, end=end, file=sys.stderr, flush=True)


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    if args.threads and any(os.environ.get(v) != str(args.threads) for v in THREAD_VARS):
        # BLAS reads its thread count when numpy is imported, which plugrad already did: rerun
        # this command in a child whose environment pins the threads.
        env = dict(os.environ, **{v: str(args.threads) for v in THREAD_VARS})
        cmd = [sys.executable, "-m", "plugrad._bench", *(argv if argv is not None
                                                         else sys.argv[1:])]
        return subprocess.call(cmd, env=env)
    repeat = args.repeat or (3 if args.quick else 7)
    min_time = 0.005 if args.quick else 0.05
    impls = implementations({b for b in args.backends.split(",") if b} or None, args.threads)
    big = args.big if args.big is not None else any(not i.host for i in impls
                                                      if i.kind in ("cupy", "torch"))
    keys = [k.strip() for k in args.only.split(",") if k.strip()]
    works = [w for w in workloads() if (big or not w.big)
             and (not keys or any(k in w.name for k in keys))]
    threads = f"{args.threads} CPU thread(s)" if args.threads else "default CPU threads"
    print(f"plugrad bench --compare: best of {repeat} samples, {threads}; ratios are plugrad's "
          "time / the reference's (below 1: plugrad is faster)")
    for impl in impls:
        print(f"  {impl.label}: {impl.about}")
    sys.stdout.flush()
    for number, work in enumerate(works, 1):
        started = time.perf_counter()
        progress(f"[{number}/{len(works)}] {work.name} ...", end="")
        measure(work, impls, repeat, min_time)
        progress(f" {time.perf_counter() - started:.1f} s")
    print(table(works, impls, args.markdown))
    if not big:
        print("GPU-sized rows (a*b+c 64M, matmul 4096^3) skipped: no CUDA here; pass --big "
              "to run them anyway.")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({i.label: i.times for i in impls}, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
