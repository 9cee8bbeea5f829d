"""Standalone speed check of the opencl backend's kernels against numpy, side by side.

    python benchmarks/opencl_kernels.py [--quick]

Prints a*b+c on 4M float32 (GB/s counting 3 reads + 1 write), a 1024^3 float32 matmul
(GFLOP/s), softmax and conv2d timings. numpy runs with its default BLAS threads and pinned to
one thread (threadpoolctl), since the OpenCL device may have any number of cores. Timings are
the best of several runs, after a warm-up that compiles the kernels; OpenCL timings include a
``synchronize``.
"""
from __future__ import annotations

import argparse
import time

import numpy as np


def best(fn, sync=lambda: None, repeat=7):
    fn()
    sync()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - t)
    return min(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes (smoke test)")
    args = parser.parse_args()
    from threadpoolctl import threadpool_limits

    from plugrad.plugins import get_registry
    reg = get_registry()
    cl, cpu = reg.table("opencl"), reg.table("cpu")
    dev = cl.impl.devices[0]
    sync = cl.synchronize
    print(f"opencl device: {dev.name}")
    rng = np.random.default_rng(0)

    def row(label, ours, numpy_default, numpy_one, unit):
        print(f"{label:<34} opencl {ours:9.1f} {unit:<8} numpy {numpy_default:9.1f} {unit:<8} "
              f"numpy(1 thread) {numpy_one:9.1f} {unit}")

    # a*b+c: two kernels (mul, add), as the frontend issues them. numpy's ``a*b+c`` reuses
    # the temporary of a*b for the sum (temporary elision); the contract's ``out=`` does the
    # same, so both patterns are shown against their numpy equivalents.
    n = 1 << (20 if args.quick else 22)
    a, b, c = (rng.standard_normal(n).astype(np.float32) for _ in range(3))
    da, db, dc = (cl.from_host(v) for v in (a, b, c))
    gb = 16 * n / 1e9

    def elided():
        t = cl.mul(da, db)
        return cl.add(t, dc, out=t)
    t_cl = best(elided, sync)
    t_np = best(lambda: a * b + c)
    with threadpool_limits(1):
        t_np1 = best(lambda: a * b + c)
    row(f"a*b+c {n >> 20}M f32, temp reused", gb / t_cl, gb / t_np, gb / t_np1, "GB/s")
    t_cl = best(lambda: cl.add(cl.mul(da, db), dc), sync)
    tmp, out = np.empty_like(a), np.empty_like(a)
    t_np = best(lambda: np.add(np.multiply(a, b, out=tmp), c, out=out))
    row(f"a*b+c {n >> 20}M f32, new outputs", gb / t_cl, gb / t_np, gb / t_np, "GB/s")

    # matmul
    m = 512 if args.quick else 1024
    A, B = (rng.standard_normal((m, m)).astype(np.float32) for _ in range(2))
    dA, dB = cl.from_host(A), cl.from_host(B)
    t_cl = best(lambda: cl.matmul(dA, dB), sync, 5)
    t_np = best(lambda: A @ B, repeat=5)
    with threadpool_limits(1):
        t_np1 = best(lambda: A @ B, repeat=5)
    gf = 2 * m ** 3 / 1e9
    row(f"matmul {m}^3 float32", gf / t_cl, gf / t_np, gf / t_np1, "GFLOP/s")

    # softmax along the last and the first axis
    shape = (1024, 1000) if args.quick else (4096, 1000)
    x = rng.standard_normal(shape).astype(np.float32)
    dx = cl.from_host(x)
    for axis in (1, 0):
        t_cl = best(lambda: cl.softmax(dx, axis), sync)
        t_np = best(lambda: cpu.softmax(x, axis))
        with threadpool_limits(1):
            t_np1 = best(lambda: cpu.softmax(x, axis))
        row(f"softmax {shape} axis={axis}", t_cl * 1e3, t_np * 1e3, t_np1 * 1e3, "ms")

    # conv2d 3x3, padding 1, and its two gradients
    nb = 4 if args.quick else 16
    xc = rng.standard_normal((nb, 64, 32, 32)).astype(np.float32)
    wc = rng.standard_normal((64, 64, 3, 3)).astype(np.float32)
    dxc, dwc = cl.from_host(xc), cl.from_host(wc)
    conv = ((1, 1), (1, 1), (1, 1), 1)
    out = cpu.conv2d(xc, wc, *conv)
    g, dg = out, cl.from_host(out)
    cases = [("conv2d", lambda: cl.conv2d(dxc, dwc, *conv), lambda: cpu.conv2d(xc, wc, *conv)),
             ("conv2d_input_grad", lambda: cl.conv2d_input_grad(dg, dwc, xc.shape, *conv),
              lambda: cpu.conv2d_input_grad(g, wc, xc.shape, *conv)),
             ("conv2d_weight_grad", lambda: cl.conv2d_weight_grad(dxc, dg, wc.shape, *conv),
              lambda: cpu.conv2d_weight_grad(xc, g, wc.shape, *conv))]
    for name, ours, ref in cases:
        t_cl = best(ours, sync, 3)
        t_np = best(ref, repeat=3)
        with threadpool_limits(1):
            t_np1 = best(ref, repeat=3)
        row(f"{name} ({nb},64,32,32) 3x3", t_cl * 1e3, t_np * 1e3, t_np1 * 1e3, "ms")


if __name__ == "__main__":
    main()
