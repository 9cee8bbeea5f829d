"""Fill CuPy's on-disk kernel cache before the tests, several processes at once.

    python benchmarks/gpu/warm_cuda.py [--jobs N]

A cold cache costs the first test run minutes of NVRTC (the review counted ~1,300 distinct
kernels at 40-60 ms each), one process compiling after the other. Each job here compiles a
slice of plugrad's own CUDA sources (the fused RawModules, every ElementwiseKernel body, the
MT19937 renderings) and of CuPy's elementwise kernels for every primitive and dtype the
tests use, into CuPy's disk cache (``~/.cupy/kernel_cache``), which the tests' processes then
read. Stopping it (``timeout -s INT``) loses nothing already compiled: it is a budget, not
a step that must finish. Without a usable GPU it says why and exits 0.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed

FLOATS = ("float16", "float32", "float64")
DTYPES = ("bool", "uint8", "int8", "int16", "int32", "int64") + FLOATS


def _items():
    from plugrad.backends.cupy import templates as K
    items = [("raw", d) for d in ("float32", "float64")]
    items += [("elementwise", (key, d)) for key in sorted(K.ELEMENTWISE)
              for d in ("float32", "float64")]
    items += [("mt19937", (kind, d)) for kind, d in
              [("uniform24", "float32"), ("uniform24", "float16"), ("uniform53", "float64"),
               ("int32", "int64"), ("int64", "int64"), ("bernoulli53", "float32"),
               ("normal", "float32")]]
    items += [("op", (name, d)) for d in DTYPES for name in _ops_for(d)]
    return items


def _ops_for(dtype):
    if dtype == "bool":
        return ("logical_not", "eq", "logical_and", "sum", "where", "index")
    ops = ("add", "sub", "mul", "neg", "abs", "maximum", "eq", "lt", "sum", "max", "where",
           "cast", "floor_divide", "remainder", "index")
    if dtype in FLOATS:
        ops += ("div", "exp", "log", "sqrt", "tanh", "sigmoid", "pow", "isnan", "isinf",
                "mean", "softmax", "log_softmax", "matmul")
    return ops


def _run(item):
    """Compile one item's kernels in this worker (CuPy writes them to its disk cache)."""
    import plugrad
    from plugrad.backends.cupy.templates import RAW_NAMES
    from plugrad.plugins import get_registry
    kind, args = item
    table = get_registry().table("cuda").impl
    cp = table.cupy
    if kind == "raw":
        for name in RAW_NAMES:
            table._kernels.raw(args, name)
    elif kind == "elementwise":
        _call_elementwise(cp, table, *args)     # a call compiles it for that dtype
    elif kind == "mt19937":
        kind_, dtype = args
        table._mt_kernel(kind_, dtype)
    else:
        _plugrad_op(plugrad, *args)
    cp.cuda.Device().synchronize()
    return item


def _call_elementwise(cp, table, key, dtype):
    x = cp.ones((2, 3), dtype)
    if key == "sigmoid":
        table.sigmoid(x)
    elif key.startswith("bias_"):
        table._kernels.elementwise(key)(cp.ones(3, dtype), x)
    elif key in ("floordiv", "remainder"):
        getattr(table, key)(x, x)
    elif key == "cross_entropy_grad":
        target = cp.zeros(2, cp.int64)
        loss, lse = table.cross_entropy(x, target, -100)
        table.cross_entropy_backward(cp.ones(2, dtype), x, target, lse, -100)


def _plugrad_op(plugrad, name, dtype, device="cuda"):
    """The frontend op on small cuda tensors of one dtype, 1-d and 2-d (CuPy kernels differ
    by the number of dimensions they index)."""
    for shape in ((5,), (2, 3)):
        a = plugrad.ones(*shape, dtype=getattr(plugrad, dtype), device=device)
        if name in ("eq", "lt", "add", "sub", "mul", "maximum", "div", "pow", "floor_divide",
                    "remainder", "logical_and"):
            getattr(plugrad, name)(a, a)
        elif name == "where":
            plugrad.where(a > 0 if dtype != "bool" else a, a, a)
        elif name == "cast":
            for target in ("float32", "int64", "uint8"):
                a.to(getattr(plugrad, target))
        elif name in ("softmax", "log_softmax"):
            getattr(plugrad, name)(a, -1)
        elif name == "index":      # the checked gather and scatter kernels
            idx = plugrad.zeros(1, dtype=plugrad.int64, device=device)
            a[idx] = a[idx]
            a.index_put_((idx,), a[idx], accumulate=dtype != "bool")
        elif name == "matmul":
            if len(shape) == 2:
                a @ a.T
        else:
            getattr(plugrad, name)(a)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=min(8, os.cpu_count() or 1))
    args = parser.parse_args(argv)
    import plugrad
    if not plugrad.cuda.is_available():
        print(f"warm: skipped, cuda unavailable: {plugrad.cuda.unavailable_reason()}")
        return 0
    items = _items()
    start, done, failed = time.perf_counter(), 0, []
    # spawn: a CUDA context does not survive fork
    import multiprocessing
    with ProcessPoolExecutor(args.jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = [pool.submit(_run, item) for item in items]
        try:
            for future in as_completed(futures):
                try:
                    future.result()
                    done += 1
                except Exception as exc:  # a kernel that fails to build is a finding
                    failed.append(f"{type(exc).__name__}: {exc}"[:300])
        except KeyboardInterrupt:
            print(f"warm: stopped at its budget after {done} of {len(items)} items", flush=True)
            for future in futures:
                future.cancel()
            raise SystemExit(0)
    print(f"warm: {done} of {len(items)} items compiled in {time.perf_counter() - start:.0f} s "
          f"with {args.jobs} processes; {len(failed)} failed", flush=True)
    for line in failed[:20]:
        print(f"warm: FAILED {line}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
