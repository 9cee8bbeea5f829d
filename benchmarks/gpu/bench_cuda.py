"""plugrad-cuda next to raw CuPy and PyTorch-CUDA on the issue #4 workloads; a table last.

    python benchmarks/gpu/bench_cuda.py [--quick] [--json PATH]

Every timing ends with a device synchronize (``plugrad.cuda.synchronize()``,
``cupy.cuda.Device().synchronize()``, ``torch.cuda.synchronize()``) and is the median of
several repeats. Raw CuPy runs with CuPy's plain pool allocator: plugrad's peak-memory
tracker (one Python call per allocation) is plugrad's cost and is counted only for plugrad.
Targets (issue #4): small ops within 1.3x raw CuPy; large elementwise and matmul within
1.05x raw CuPy; fused chains at the copy ceiling; the MLP step no slower than PyTorch's
default (foreach) Adam, stretch goal its fused Adam.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time

import numpy

import plugrad
from plugrad import _bench_workloads as W   # the workloads plugrad bench and asv time

try:
    import cupy
except Exception as exc:  # noqa: BLE001 -- no CuPy: main() says why and prints an empty table
    cupy, CUPY_ERROR = None, f"{type(exc).__name__}: {exc}"

try:
    import torch
    HAVE_TORCH = torch.cuda.is_available()
except Exception:  # torch missing or without CUDA: its column stays empty
    torch, HAVE_TORCH = None, False

ROWS = []


def _sync_all():
    cupy.cuda.Device().synchronize()
    if HAVE_TORCH:
        torch.cuda.synchronize()


def timeit(fn, n, repeat=5, warmup=3):
    """Median seconds per call of ``fn`` over ``repeat`` runs of ``n`` calls, synchronized."""
    for _ in range(warmup):
        fn()
    _sync_all()
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(n):
            fn()
        _sync_all()
        runs.append((time.perf_counter() - start) / n)
    return statistics.median(runs)


class plain_cupy_allocator:
    """Raw CuPy as its users run it: the default pool allocator, no plugrad tracker."""

    def __enter__(self):
        self.saved = cupy.cuda.get_allocator()
        cupy.cuda.set_allocator(cupy.get_default_memory_pool().malloc)

    def __exit__(self, *exc):
        cupy.cuda.set_allocator(self.saved)


def row(name, unit, plugrad_value, cupy_value, torch_value, target, note=""):
    ROWS.append(dict(workload=name, unit=unit, plugrad=plugrad_value, cupy=cupy_value,
                     torch=torch_value, target=target, note=note))


# ------------------------------------------------------------------------- workloads
def small_add(quick):
    n = 2000 if quick else 10000
    torchlike, xp = W._binary((2, 2), lambda a, b: a + b)   # plugrad bench's "a + b" row
    t_p = timeit(torchlike(plugrad, "cuda"), n)
    with plain_cupy_allocator():
        t_c = timeit(xp(cupy), n)
        a_c, b_c = cupy.ones((2, 2), "f"), cupy.ones((2, 2), "f")
        add = cupy.ElementwiseKernel("T a, T b", "T c", "c = a + b", "bench_add")
        t_k = timeit(lambda: add(a_c, b_c), n)
    t_t = timeit(torchlike(torch, "cuda"), n) if HAVE_TORCH else None
    row("a+b 2x2 (us/op)", "us", t_p * 1e6, t_c * 1e6, t_t and t_t * 1e6, "<=1.3x cupy",
        f"cupy ElementwiseKernel {t_k * 1e6:.1f} us")


def large_fma(quick):
    n = (16 if quick else 64) * 2 ** 20
    reps = 10 if quick else 20
    gbytes = 4 * n * 4 / 1e9           # read a, b, c; write out
    torchlike, xp = W._mul_add(n)                       # plugrad bench's "a*b+c" rows
    t_p = timeit(torchlike(plugrad, "cuda"), reps)
    a_p, b_p, c_p = (plugrad.rand(n, device="cuda") for _ in range(3))
    t_pf = timeit(lambda: plugrad.addcmul(c_p, a_p, b_p), reps)
    with plain_cupy_allocator():
        t_c = timeit(xp(cupy), reps)
        a_c, b_c, c_c = (cupy.random.rand(n, dtype=cupy.float32) for _ in range(3))
        fma = cupy.ElementwiseKernel("T a, T b, T c", "T d", "d = a * b + c", "bench_fma")
        t_k = timeit(lambda: fma(a_c, b_c, c_c), reps)
        t_copy = timeit(lambda: cupy.copyto(b_c, a_c), reps)
    t_t = timeit(torchlike(torch, "cuda"), reps) if HAVE_TORCH else None
    label = f"a*b+c {n >> 20}M f32 (ms)"
    row(label, "ms", t_p * 1e3, t_c * 1e3, t_t and t_t * 1e3, "<=1.05x cupy",
        "two kernels each")
    row(f"addcmul {n >> 20}M f32 (ms)", "ms", t_pf * 1e3, t_k * 1e3, None,
        "copy ceiling",
        f"cupy column: one fused ElementwiseKernel ({gbytes / t_k:.0f} GB/s); "
        f"plugrad {gbytes / t_pf:.0f} GB/s; copy {2 * n * 4 / 1e9 / t_copy:.0f} GB/s")


def big_matmul(quick):
    n = 2048 if quick else 4096
    flop = 2 * n ** 3
    torchlike, xp = W._matmul(n)                        # plugrad bench's matmul rows
    t_p = timeit(torchlike(plugrad, "cuda"), 5)
    with plain_cupy_allocator():
        t_c = timeit(xp(cupy), 5)
    t_t = timeit(torchlike(torch, "cuda"), 5) if HAVE_TORCH else None
    row(f"matmul {n}^3 f32 (TFLOP/s)", "TFLOP/s", flop / t_p / 1e12, flop / t_c / 1e12,
        t_t and flop / t_t / 1e12, ">=0.95x cupy")


def attention_scores(quick):
    """q @ k^T in float16: cupy.matmul copies k (transposed) and both operands to float32;
    plugrad hands cuBLAS the strides (backends/cupy/linalg.py)."""
    shape = (8, 16, 512, 64) if quick else (16, 16, 1024, 64)
    reps = 20 if quick else 50
    q_p = plugrad.randn(*shape, device="cuda", dtype=plugrad.float16)
    k_p = plugrad.randn(*shape, device="cuda", dtype=plugrad.float16)
    t_p = timeit(lambda: q_p @ k_p.transpose(-2, -1), reps)
    with plain_cupy_allocator():
        q_c = cupy.random.randn(*shape, dtype=cupy.float32).astype(cupy.float16)
        k_c = cupy.random.randn(*shape, dtype=cupy.float32).astype(cupy.float16)
        t_c = timeit(lambda: cupy.matmul(q_c, k_c.swapaxes(-2, -1)), reps)
    t_t = None
    if HAVE_TORCH:
        q_t = torch.randn(*shape, device="cuda", dtype=torch.float16)
        k_t = torch.randn(*shape, device="cuda", dtype=torch.float16)
        t_t = timeit(lambda: q_t @ k_t.transpose(-2, -1), reps)
    row(f"q@k^T {'x'.join(map(str, shape))} f16 (ms)", "ms", t_p * 1e3, t_c * 1e3,
        t_t and t_t * 1e3, "~torch", "cupy column: cupy.matmul (copies k, via float32)")


def dropout_mask(quick):
    """A 4M-element uniform draw: plugrad continues torch's CPU MT19937 stream on the GPU in
    one block (the stream is sequential: 227 words per dependent step), torch-CUDA and CuPy
    use counter-based generators. The measurement the MT19937 redesign waits for."""
    n = 4 * 2 ** 20
    reps = 5 if quick else 20
    t_p = timeit(lambda: plugrad.rand(n, device="cuda"), reps)
    with plain_cupy_allocator():
        t_c = timeit(lambda: cupy.random.rand(n, dtype=cupy.float32), reps)
    t_t = None
    if HAVE_TORCH:
        t_t = timeit(lambda: torch.rand(n, device="cuda"), reps)
    row("rand 4M f32, MT19937 (ms)", "ms", t_p * 1e3, t_c * 1e3, t_t and t_t * 1e3,
        "measure", "cupy/torch: counter-based generators, not torch's CPU stream")


def softmax_rows(quick):
    shape = (4096, 1000)
    x_p = plugrad.randn(*shape, device="cuda")
    t_p = timeit(lambda: plugrad.softmax(x_p, 1), 50)
    with plain_cupy_allocator():
        x_c = cupy.random.randn(*shape, dtype=cupy.float32)

        def composed():
            e = cupy.exp(x_c - x_c.max(1, keepdims=True))
            return e / e.sum(1, keepdims=True)
        t_c = timeit(composed, 50)
    t_t = None
    if HAVE_TORCH:
        x_t = torch.randn(*shape, device="cuda")
        t_t = timeit(lambda: torch.softmax(x_t, 1), 50)
    row("softmax 4096x1000 (us)", "us", t_p * 1e6, t_c * 1e6, t_t and t_t * 1e6,
        "one kernel", "cupy column: composed max/exp/sum/div")


def _mlp(lib, batch, device, **adam):
    nn = lib.nn
    model = nn.Sequential(nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(),
                          nn.Linear(256, 10)).to(device)
    opt = lib.optim.Adam(model.parameters(), lr=1e-3, **adam)
    x = lib.randn(batch, 64, device=device)
    y = lib.randint(0, 10, (batch,), device=device)

    def step():
        opt.zero_grad()
        loss = lib.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
    return step


def _mlp_cupy(batch):
    """The same step written by hand in CuPy (matmuls, relu masks, one Adam kernel/param)."""
    rng = cupy.random.default_rng(0)
    shapes = [(64, 256), (256,), (256, 256), (256,), (256, 10), (10,)]
    params = [rng.standard_normal(s, dtype=cupy.float32) * 0.05 for s in shapes]
    ms = [cupy.zeros_like(p) for p in params]
    vs = [cupy.zeros_like(p) for p in params]
    x = rng.standard_normal((batch, 64), dtype=cupy.float32)
    y = rng.integers(0, 10, batch)
    adam = cupy.ElementwiseKernel(
        "T g, T b1, T b2, T lr_t, T eps", "T p, T m, T v",
        "m += (1 - b1) * (g - m); v = v * b2 + (1 - b2) * g * g; "
        "p -= lr_t * m / (sqrt(v) + eps)", "bench_adam")
    state = {"t": 0}

    def step():
        w1, b1, w2, b2, w3, b3 = params
        h1 = cupy.maximum(x @ w1 + b1, 0)
        h2 = cupy.maximum(h1 @ w2 + b2, 0)
        z = h2 @ w3 + b3
        z = z - z.max(1, keepdims=True)
        p = cupy.exp(z)
        p /= p.sum(1, keepdims=True)
        p[cupy.arange(batch), y] -= 1
        gz = p / batch
        gh2 = (gz @ w3.T) * (h2 > 0)
        gh1 = (gh2 @ w2.T) * (h1 > 0)
        grads = [x.T @ gh1, gh1.sum(0), h1.T @ gh2, gh2.sum(0), h2.T @ gz, gz.sum(0)]
        state["t"] += 1
        t = state["t"]
        lr_t = 1e-3 * (1 - 0.999 ** t) ** 0.5 / (1 - 0.9 ** t)
        for prm, g, m, v in zip(params, grads, ms, vs):
            adam(g, numpy.float32(0.9), numpy.float32(0.999), numpy.float32(lr_t),
                 numpy.float32(1e-8), prm, m, v)
    return step


def mlp_step(quick):
    for batch in (64, 4096):
        reps = 50 if quick else 200
        t_p = timeit(_mlp(plugrad, batch, "cuda"), reps)
        with plain_cupy_allocator():
            t_c = timeit(_mlp_cupy(batch), reps)
        t_t = t_f = None
        if HAVE_TORCH:
            t_t = timeit(_mlp(torch, batch, "cuda"), reps)
            t_f = timeit(_mlp(torch, batch, "cuda", fused=True), reps)
        row(f"MLP Adam step b={batch} (ms)", "ms", t_p * 1e3, t_c * 1e3, t_t and t_t * 1e3,
            "<= torch foreach", f"torch fused=True {t_f * 1e3:.2f} ms" if t_f else "")


def real_models(quick):
    """The real-model training steps of plugrad bench (GPT, LSTM LM, CNN), plugrad cuda vs
    torch-CUDA eager running the same code (plugrad/_bench_models.py)."""
    from plugrad._bench_models import make_step
    reps = 5 if quick else 20
    for name in ("gpt", "lstm", "cnn"):
        t_p = timeit(make_step(plugrad, "cuda", name), reps)
        t_t = timeit(make_step(torch, "cuda", name), reps) if HAVE_TORCH else None
        row(f"{name.upper()} train step (ms)", "ms", t_p * 1e3, None, t_t and t_t * 1e3,
            "<= torch eager")


def fused_programs(quick):
    """optimize_program on the GPU: the conformance kit's compiled-program checks (fused
    replay equals the captured program's), then a 1M-element tanh-GELU program replayed as
    captured (nine CuPy ufunc launches) and fused (one ElementwiseKernel)."""
    from plugrad.compile.program import run
    from plugrad.plugins import get_registry
    from plugrad.plugins.conformance.programs import ProgramBuilder, program_checks
    table = get_registry().table("cuda")
    checks = program_checks(table)
    bad = [f"{r.name}: {r.status} {r.detail}" for r in checks if r.status != "pass"]
    b = ProgramBuilder(table)
    x = b.input(numpy.random.default_rng(0).standard_normal(1 << 20).astype("float32"))
    a = b.call("mul", b.call("mul", b.call("mul", x, x), x), 0.044715)
    t = b.call("tanh", b.call("mul", b.call("add", x, a), 0.7978846))
    y = b.call("mul", b.call("mul", x, b.call("add", t, 1.0)), 0.5)
    program = b.program((y,))
    fused = table.impl.optimize_program(program)
    env = [None] * len(program.slots)
    env[x] = b.env[x]

    def replay(p):
        return lambda: run(p, env)
    reps = 50 if quick else 200
    t_eager, t_fused = timeit(replay(program), reps), timeit(replay(fused), reps)
    torch_t = None
    if HAVE_TORCH:
        xt = torch.from_dlpack(b.env[x])
        torch_t = timeit(lambda: torch.nn.functional.gelu(xt, approximate="tanh"), reps)
    row("GELU program 1M, fused (ms)", "ms", t_fused * 1e3, t_eager * 1e3, torch_t and
        torch_t * 1e3, "< captured",
        "cupy column: the captured program unfused; torch: F.gelu(tanh); "
        + ("; ".join(bad) if bad else f"{len(checks)} kit programs pass"))


def compiled_mlp_step(quick):
    """plugrad.compile over the whole MLP Adam step (issue 13's cuda target: compiled step
    <= torch-CUDA eager with fused Adam)."""
    for batch in (64, 4096):
        reps = 50 if quick else 200
        t_e = timeit(_mlp(plugrad, batch, "cuda"), reps)
        t_c = timeit(plugrad.compile(_mlp(plugrad, batch, "cuda")), reps)
        t_f = timeit(_mlp(torch, batch, "cuda", fused=True), reps) if HAVE_TORCH else None
        row(f"MLP Adam step compiled b={batch} (ms)", "ms", t_c * 1e3, None,
            t_f and t_f * 1e3, "<= torch fused Adam", f"plugrad eager {t_e * 1e3:.2f} ms")


WORKLOADS = [small_add, large_fma, big_matmul, attention_scores, dropout_mask, softmax_rows,
             mlp_step, real_models, fused_programs, compiled_mlp_step]


def _fmt(value):
    if value is None:
        return "-"
    return f"{value:.3g}" if value < 100 else f"{value:.0f}"


def table():
    head = f"{'workload':<28} {'plugrad':>9} {'cupy':>9} {'torch':>9} {'pg/cupy':>8}  target"
    lines = [head, "-" * len(head)]
    for r in ROWS:
        ratio = "-"
        if r["plugrad"] and r["cupy"]:
            ratio = r["plugrad"] / r["cupy"]
            if r["unit"] == "TFLOP/s":
                ratio = r["cupy"] / r["plugrad"]
            ratio = f"{ratio:.2f}x"
        lines.append(f"{r['workload']:<28} {_fmt(r['plugrad']):>9} {_fmt(r['cupy']):>9} "
                     f"{_fmt(r['torch']):>9} {ratio:>8}  {r['target']}"
                     + (f"  [{r['note']}]" if r["note"] else ""))
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, fewer repeats")
    parser.add_argument("--json", help="also write the rows to this file")
    args = parser.parse_args(argv)
    if cupy is None or not plugrad.cuda.is_available():
        print(f"plugrad cuda unavailable: {plugrad.cuda.unavailable_reason()}")
        print()
        print(table())
        return 1
    print(f"device: {plugrad.cuda.get_device_name()}  cupy {cupy.__version__}  "
          f"torch {torch.__version__ if torch else '-'}", flush=True)
    try:
        for workload in WORKLOADS:
            try:
                workload(args.quick)
            except Exception as exc:  # one broken workload must not hide the others' numbers
                print(f"{workload.__name__} failed: {type(exc).__name__}: {exc}", flush=True)
            else:
                print(f"{workload.__name__} done", flush=True)
    except KeyboardInterrupt:     # run.sh's budget (timeout -s INT): the rows so far, below
        print(f"stopped by SIGINT during {workload.__name__}", flush=True)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(ROWS, fh, indent=1)
    print()
    print(table())
    return 0


if __name__ == "__main__":
    sys.exit(main())
