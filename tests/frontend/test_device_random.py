"""Random numbers made on the device (``mt19937_generate``) are torch's CPU stream, bit for bit.

Three levels, torch as the oracle throughout (imported at the top: no torch, no pass):

* the kernel on each backend's buffers, against plugrad's host engine (itself checked against
  torch by test_random_streams.py), from every stream position a block boundary can meet;
* the frontend on every device: ``rand``, ``uniform_``, ``randint``, ``random_``,
  ``bernoulli``, dropout and mixed host/device/other-device sequences against torch, state
  bytes included; the opencl transfer counter shows that only the state ever moves;
* the CUDA rendering of the kernel: compiled by NVRTC (CuPy's options), and run on the host by g++ with one
  POSIX thread per CUDA thread and real barriers.
"""
from __future__ import annotations

import ctypes
import itertools
import math
import shutil
import subprocess
import threading
from collections import Counter

import numpy as np
import pytest
import torch

import cuda_compile as CC
import plugrad
from plugrad._device import tensor_device
from plugrad.backends import mt19937 as M
from plugrad.backends import mt19937_normal as MN
from plugrad.backends.xp import ArrayModuleBackend
from plugrad.plugins import BackendSpec, get_registry, hookimpl
from plugrad.random import HostGenerator

FLOATS = ["float16", "float32", "float64"]
P53 = 2.0 ** 53


def _table(device, dtype="float32"):
    table = tensor_device(device).ops
    if not table.supports("mt19937_generate", dtype):
        pytest.skip(f"{device} has no mt19937_generate for {dtype}")
    return table


def _bits(a):
    a = np.asarray(a)
    return a.view(f"u{a.itemsize}") if a.dtype.kind == "f" else a


def assert_bits(got, want):
    got, want = np.asarray(got), np.asarray(want)
    assert got.dtype == want.dtype and got.shape == want.shape, (got.dtype, got.shape, want.shape)
    bad = np.flatnonzero(_bits(got).ravel() != _bits(want).ravel())
    assert bad.size == 0, f"{bad.size} of {got.size} differ, first at {bad[:5]}: " \
                          f"{got.ravel()[bad[:3]]} vs {want.ravel()[bad[:3]]}"


# ------------------------------------------------------------------------ the kernel
# (transform, dtype, params, the HostGenerator call that must give the same values)
KERNEL_CASES = [
    ("uniform", "float32", (0.0, 1.0), lambda g, n: g.uniform(n, "float32")),
    ("uniform", "float32", (-2.0, 3.5), lambda g, n: g.uniform(n, "float32", -2.0, 3.5)),
    ("uniform", "float16", (0.0, 1.0), lambda g, n: g.uniform(n, "float16")),
    ("uniform", "float16", (-1e-3, 1e-3), lambda g, n: g.uniform(n, "float16", -1e-3, 1e-3)),
    ("uniform", "float64", (0.0, 1.0), lambda g, n: g.uniform(n, "float64")),
    ("uniform", "float64", (-7.0, 0.25), lambda g, n: g.uniform(n, "float64", -7.0, 0.25)),
    ("integer", "int64", (32, 10, 0), lambda g, n: g.randint(0, 10, n)),
    ("integer", "int64", (64, 2 ** 40 + 5, -5), lambda g, n: g.randint(-5, 2 ** 40, n)),
    ("integer", "int32", (64, 2 ** 30, 3), lambda g, n: g.randint(3, 2 ** 30 + 3, n, "int32")),
    ("integer", "uint8", (32, 256, 0), lambda g, n: g.random_(n, "uint8")),
    ("integer", "int8", (32, 256, -128), lambda g, n: g.randint(-128, 128, n, "int8")),
    ("integer", "int16", (32, 2 ** 15, 0), lambda g, n: g.random_(n, "int16")),
    ("integer", "bool", (32, 2, 0), lambda g, n: g.random_(n, "bool")),
    ("integer", "float16", (32, 100, -50), lambda g, n: g.randint(-50, 50, n, "float16")),
    ("integer", "float32", (32, 2 ** 24 + 1, 0), lambda g, n: g.random_(n, "float32")),
    ("integer", "float64", (64, 0, 0), lambda g, n: g.random_(n, "float64", -2 ** 63)),
    ("bernoulli", "float32", (math.ceil(0.3 * P53),), lambda g, n: g.bernoulli(0.3, n, "float32")),
    ("bernoulli", "bool", (math.ceil(0.5 * P53),), lambda g, n: g.bernoulli(0.5, n, "bool")),
    ("bernoulli", "int64", (0,), lambda g, n: g.bernoulli(0.0, n, "int64")),
    ("bernoulli", "float16", (int(P53),), lambda g, n: g.bernoulli(1.0, n, "float16")),
    ("normal", "float32", (0.0, 1.0), lambda g, n: g.normal(n, "float32")),
    ("normal", "float32", (-0.0, 1.0), lambda g, n: g.normal(n, "float32", -0.0, 1.0)),
    ("normal", "float32", (2.0, 0.5), lambda g, n: g.normal(n, "float32", 2.0, 0.5)),
    ("normal", "float16", (-1.0, 3.0), lambda g, n: g.normal(n, "float16", -1.0, 3.0)),
]
# words already drawn from a fresh seed, and elements drawn: both sides of block boundaries,
# so one- and two-word elements start, end and straddle there
POSITIONS = [0, 1, 311, 623, 624, 1247]
COUNTS = [0, 1, 2, 311, 312, 623, 624, 625, 1500]


def _run_kernel(table, seed, pre, n, transform, dtype, params):
    """(values, new state words) from the kernel; the host engine that must agree."""
    g = HostGenerator(seed)
    g.random32(pre)
    key, pos = g.words()
    state = table.from_host(key.view(np.int32))
    out = table.mt19937_generate(state, pos, (n,), dtype, transform, params)
    return table.to_host(out), np.asarray(table.to_host(state)).view(np.uint32), pos, g


def _check_kernel(table, seed, pre, n, case):
    transform, dtype, params, host = case
    got, words, pos, g = _run_kernel(table, seed, pre, n, transform, dtype, params)
    assert_bits(got, host(g, n))
    key, new_pos = g.words()
    assert np.array_equal(words, key), "state words differ"
    drawn = M.words(transform, dtype, params, n)
    assert M.advance(pos, drawn) == new_pos, "the position the caller computes is wrong"


@pytest.mark.parametrize("case", KERNEL_CASES,
                         ids=[f"{i}-{c[0]}-{c[1]}" for i, c in enumerate(KERNEL_CASES)])
def test_kernel_every_transform(device, case):
    table = _table(device, case[1])
    for pre, n in [(0, 1000), (623, 625), (1247, 313)]:
        _check_kernel(table, 11, pre, n, case)


@pytest.mark.parametrize("case", [KERNEL_CASES[1], KERNEL_CASES[7], KERNEL_CASES[16],
                                  KERNEL_CASES[22], KERNEL_CASES[23]],
                         ids=["uniform24", "int64", "bernoulli", "normal32", "normal16"])
def test_kernel_block_boundaries(device, case):
    table = _table(device, case[1])
    # 'normal' needs n >= 16 (the host draws fewer, with libm in double)
    counts = [n for n in COUNTS if n >= 16] + [16, 17, 31] if case[0] == "normal" else COUNTS
    for pre, n in itertools.product(POSITIONS, counts):
        _check_kernel(table, 3, pre, n, case)


def test_kernel_gpu_work_group_on_opencl(device, monkeypatch):
    """256 work-items with barriers, as on a GPU, on the (CPU) OpenCL device here."""
    if device != "opencl":
        pytest.skip("work-group sizes are an opencl launch choice")
    from plugrad.backends.opencl import random as cl_random
    monkeypatch.setattr(cl_random, "GROUP_SIZE", 256)
    table = _table(device)
    for case in (KERNEL_CASES[1], KERNEL_CASES[3], KERNEL_CASES[7], KERNEL_CASES[17],
                 KERNEL_CASES[22]):
        if table.supports("mt19937_generate", case[1]):
            for pre, n in [(0, 2000), (623, 625), (624, 1 if case[0] != "normal" else 17),
                           (1, 1247)]:
                _check_kernel(table, 5, pre, n, case)


def test_opencl_normal_with_the_integer_sqrt(device, monkeypatch):
    """The sqrt a device without fp64 uses, run on the (fp64) OpenCL device here."""
    if device != "opencl":
        pytest.skip("an opencl compile choice")
    real = MN.render
    monkeypatch.setattr(MN, "render", lambda lang, dtype: (
        "#define PG_SQRT_RN(x) pg_sqrt_rn(x)\n" + real(lang, dtype)))
    table = _table(device)
    dev = table.impl.devices[0]
    caches = (dev.programs, dev.local.kernels)          # compiled programs, this thread's kernels
    keys = [("mt19937_normal", "float32"), ("mt19937_normal", "float16")]
    saved = [{k: c.pop(k) for k in keys if k in c} for c in caches]
    try:
        for case in KERNEL_CASES[20:]:
            for pre, n in [(0, 2000), (623, 625)]:
                _check_kernel(table, 8, pre, n, case)
    finally:
        for cache, old in zip(caches, saved):
            for k in keys:
                cache.pop(k, None)
            cache.update(old)


def test_kernel_shape_and_consecutive_draws(device):
    """Output has the requested shape; two draws continue each other, as one longer draw."""
    table = _table(device)
    g = HostGenerator(9)
    key, pos = g.words()
    state = table.from_host(key.view(np.int32))
    a = table.mt19937_generate(state, pos, (3, 0, 2), "float32", "uniform", (0.0, 1.0))
    assert tuple(table.to_host(a).shape) == (3, 0, 2)
    b = table.mt19937_generate(state, pos, (7, 100), "float32", "uniform", (0.0, 1.0))
    c = table.mt19937_generate(state, M.advance(pos, 700), (5,), "int64", "integer",
                               (64, 2 ** 33, 0))
    assert_bits(table.to_host(b), g.uniform((7, 100), "float32"))
    assert_bits(table.to_host(c), g.randint(0, 2 ** 33, (5,)))


# ------------------------------------------------------------------------ the frontend
def _seeded(seed):
    plugrad.manual_seed(seed)
    torch.manual_seed(seed)


def _float_dtypes(device):
    return [d for d in FLOATS if tensor_device(device).ops.supports("mt19937_generate", d)
            or device == "cpu"]


def _same(ours, theirs):
    assert ours.dtype == getattr(plugrad, str(theirs.dtype).split(".")[-1])
    assert_bits(ours.cpu().numpy(), theirs.numpy())


def _same_state():
    assert np.array_equal(plugrad.get_rng_state().numpy(), torch.get_rng_state().numpy())


@pytest.mark.parametrize("shape", [(), (1,), (5, 7), (1000,), (625,), (3, 0)])
def test_rand_and_uniform_match_torch(device, shape):
    for seed, dtype in itertools.product([0, 123], _float_dtypes(device)):
        _seeded(seed)
        pd, td = getattr(plugrad, dtype), getattr(torch, dtype)
        _same(plugrad.rand(shape, dtype=pd, device=device), torch.rand(shape, dtype=td))
        _same(plugrad.rand_like(plugrad.empty(shape, dtype=pd, device=device)),
              torch.rand_like(torch.empty(shape, dtype=td)))
        for a, b in [(-3.0, 5.0), (1e-4, 2e-4), (-1.0, -1.0)]:
            _same(plugrad.empty(shape, dtype=pd, device=device).uniform_(a, b),
                  torch.empty(shape, dtype=td).uniform_(a, b))
        _same_state()


@pytest.mark.parametrize("shape", [(), (5,), (15,), (16,), (17,), (4, 33), (1000,), (0, 3)])
def test_randn_and_normal_match_torch(device, shape):
    """16+ float32/float16 values on the device (torch's AVX2 Box-Muller), the rest on the
    host; std == 1 and mean == +0 take torch's fast path, mean == -0.0 does not."""
    for seed, dtype in itertools.product([0, 99], _float_dtypes(device)):
        _seeded(seed)
        pd, td = getattr(plugrad, dtype), getattr(torch, dtype)
        _same(plugrad.randn(shape, dtype=pd, device=device), torch.randn(shape, dtype=td))
        for mean, std in [(-0.0, 1.0), (3.0, 0.25), (-1.5, 0.0)]:
            _same(plugrad.empty(shape, dtype=pd, device=device).normal_(mean, std),
                  torch.empty(shape, dtype=td).normal_(mean, std))
        _same(plugrad.normal(2.0, 3.0, shape, dtype=pd, device=device),
              torch.normal(2.0, 3.0, shape, dtype=td))
        _same_state()


@pytest.mark.parametrize("dtype", ["int64", "int32", "int16", "int8", "uint8", "bool",
                                   "float16", "float32", "float64"])
def test_randint_and_random_match_torch(device, dtype):
    if not tensor_device(device).ops.supports("from_host", dtype) and device != "cpu":
        pytest.skip(f"{device} lacks {dtype}")
    if dtype == "float64" and "float64" not in _float_dtypes(device):
        pytest.skip(f"{device} lacks float64")
    pd, td = getattr(plugrad, dtype), getattr(torch, dtype)
    hi = 2 if dtype == "bool" else 100
    _seeded(7)
    _same(plugrad.randint(0, hi, (50,), dtype=pd, device=device),
          torch.randint(0, hi, (50,), dtype=td))
    if dtype in ("int64", "float64"):   # random64 for ranges of 2**28 and more
        _same(plugrad.randint(-5, 2 ** 40, (631,), dtype=pd, device=device),
              torch.randint(-5, 2 ** 40, (631,), dtype=td))
    x, tx = plugrad.empty((9, 70), dtype=pd, device=device), torch.empty((9, 70), dtype=td)
    _same(x.random_(), tx.random_())
    _same(x.random_(hi), tx.random_(hi))
    _same(x[::2, 1:].random_(0, hi), tx[::2, 1:].random_(0, hi))   # a strided view
    _same(x, tx)
    _same_state()


@pytest.mark.parametrize("p", [0.0, 0.2, 0.5, 1.0])
def test_bernoulli_and_dropout_match_torch(device, p):
    _seeded(2)
    for dtype in ["float32", "bool", "int64", "float16"]:
        pd, td = getattr(plugrad, dtype), getattr(torch, dtype)
        _same(plugrad.empty((17, 40), dtype=pd, device=device).bernoulli_(p),
              torch.empty((17, 40), dtype=td).bernoulli_(p))
        _same(plugrad.bernoulli(plugrad.zeros(33, dtype=pd, device=device), p),
              torch.bernoulli(torch.zeros(33, dtype=td), p))
    x, tx = plugrad.ones(64, 128, device=device), torch.ones(64, 128)
    F, tF = plugrad.nn.functional, torch.nn.functional
    if p < 1.0:
        _same(F.dropout(x, p), tF.dropout(tx, p))
        _same(F.dropout2d(x.view(2, 4, 8, 128), p), tF.dropout2d(tx.view(2, 4, 8, 128), p))
        drop, tdrop = plugrad.nn.Dropout(p).train(), torch.nn.Dropout(p).train()
        _same(drop(x), tdrop(tx))
    _same_state()


def test_mixed_sequence_matches_torch(device):
    """Host draws (cpu, randn), device draws and state reads interleaved: one torch stream."""
    _seeded(31)
    steps = [
        (lambda: plugrad.rand(700, device=device), lambda: torch.rand(700)),
        (lambda: plugrad.rand(3), lambda: torch.rand(3)),                      # host
        (lambda: plugrad.randint(0, 9, (5,), device=device), lambda: torch.randint(0, 9, (5,))),
        (lambda: plugrad.randn(20, device=device), lambda: torch.randn(20)),   # host transform
        (lambda: plugrad.rand(1, device=device, dtype=plugrad.float16),
         lambda: torch.rand(1, dtype=torch.float16)),
        (plugrad.get_rng_state, torch.get_rng_state),
        (lambda: plugrad.empty(1300, device=device).bernoulli_(0.7),
         lambda: torch.empty(1300).bernoulli_(0.7)),
        (plugrad.get_rng_state, torch.get_rng_state),
        (lambda: plugrad.randperm(10, device=device), lambda: torch.randperm(10)),
        (lambda: plugrad.rand(2, 3, device=device), lambda: torch.rand(2, 3)),
    ]
    for ours, theirs in steps:
        _same(ours(), theirs())
    state, tstate = plugrad.get_rng_state(), torch.get_rng_state()
    _same(plugrad.rand(40, device=device), torch.rand(40))
    plugrad.set_rng_state(state)                 # back to the saved point, on the host
    torch.set_rng_state(tstate)
    _same(plugrad.rand(40, device=device), torch.rand(40))
    _same_state()


def test_generator_objects_and_reseeding(device):
    g, tg = plugrad.Generator().manual_seed(5), torch.Generator().manual_seed(5)
    _same(plugrad.rand(900, generator=g, device=device), torch.rand(900, generator=tg))
    g.manual_seed(6)                             # while its state is on the device
    tg.manual_seed(6)
    _same(plugrad.rand(10, generator=g, device=device), torch.rand(10, generator=tg))
    assert np.array_equal(g.get_state().numpy(), tg.get_state().numpy())
    assert g.initial_seed() == 6
    seed = g.seed()                              # from the OS, forgetting the device copy
    tg.manual_seed(seed)
    _same(plugrad.rand(10, generator=g, device=device), torch.rand(10, generator=tg))
    assert np.array_equal(g.get_state().numpy(), tg.get_state().numpy())


def test_threads_share_one_stream(device):
    """Concurrent draws from one generator: each gets a whole chunk of the stream."""
    g = plugrad.Generator().manual_seed(77)
    chunks = []

    def work():
        for _ in range(10):
            chunks.append(plugrad.rand(333, generator=g, device=device))
    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    tg = torch.Generator().manual_seed(77)
    want = sorted(torch.rand(333, generator=tg).numpy().tobytes() for _ in range(40))
    assert sorted(c.cpu().numpy().tobytes() for c in chunks) == want
    assert np.array_equal(g.get_state().numpy(), tg.get_state().numpy())


# ------------------------------------------------------------- where the state moves
def test_opencl_draws_after_the_first_move_nothing(device):
    if device != "opencl":
        pytest.skip("counts the opencl backend's host transfers")
    impl = tensor_device(device).ops.impl
    _seeded(1)
    t = lambda: Counter(impl.transfers)   # noqa: E731
    start = t()
    outs = [plugrad.rand(10, device=device)]                            # uploads the state
    assert t() - start == Counter(from_host=1)
    x = plugrad.ones(64, 100, device=device)
    before = t()
    outs += [plugrad.rand(5000, device=device), plugrad.randint(0, 7, (9,), device=device),
             plugrad.empty(33, device=device).uniform_(-1, 1),
             plugrad.empty(12, device=device, dtype=plugrad.int32).random_(),
             plugrad.nn.functional.dropout(x, 0.25), plugrad.nn.Dropout(0.5)(x),
             plugrad.randn(100, device=device), plugrad.empty(3, 40, device=device).normal_(1, 2)]
    assert t() == before, f"device draws moved data: {t() - before}"
    state = plugrad.get_rng_state()                                     # one 2.5 KB read
    assert t() - before == Counter(to_host=1)
    outs.append(plugrad.rand(4, device=device))                        # copy still valid
    assert t() - before == Counter(to_host=1)
    outs.append(plugrad.rand(4))                                       # host draw: read back
    assert t() - before == Counter(to_host=2)
    outs.append(plugrad.rand(4, device=device))                        # upload again
    assert t() - before == Counter(to_host=2, from_host=1)
    torch.rand(10)
    want = [torch.rand(5000), torch.randint(0, 7, (9,)), torch.empty(33).uniform_(-1, 1),
            torch.empty(12, dtype=torch.int32).random_(), torch.nn.functional.dropout(
                torch.ones(64, 100), 0.25), torch.nn.Dropout(0.5)(torch.ones(64, 100)),
            torch.randn(100), torch.empty(3, 40).normal_(1, 2)]
    tstate = torch.get_rng_state()
    want += [torch.rand(4), torch.rand(4), torch.rand(4)]
    for ours, theirs in zip(outs[1:], want):
        _same(ours, theirs)
    assert np.array_equal(state.numpy(), tstate.numpy())


@pytest.fixture
def numpy_devices():
    """Two more devices backed by the numpy backend's real kernel (not host memory), so the
    state can move between devices; a third without the kernel."""
    class NoKernel(ArrayModuleBackend):
        mt19937_generate = None
    names = ["rngdeva", "rngdevb", "rngdevnone"]

    class Plugin:
        @hookimpl
        def plugrad_backends():
            yield BackendSpec(name=names[0], load=lambda: ArrayModuleBackend(np, names[0]))
            yield BackendSpec(name=names[1], load=lambda: ArrayModuleBackend(np, names[1]))
            yield BackendSpec(name=names[2], load=lambda: NoKernel(np, names[2]))
    registry = get_registry()
    registry.register(Plugin, name="rngdevs")
    try:
        yield names
    finally:
        registry.unregister("rngdevs")


def test_state_moves_between_devices(device, numpy_devices):
    a, b, none = numpy_devices
    place = plugrad.default_generator._place
    _seeded(8)
    up, down = place.uploads, place.downloads
    pairs = []
    for dev in [device, a, a, "cpu", b, device, none, b]:
        pairs.append((plugrad.rand(500, device=dev), torch.rand(500)))
        pairs.append((plugrad.randint(0, 2 ** 35, (3,), device=dev),
                      torch.randint(0, 2 ** 35, (3,))))
    for ours, theirs in pairs:
        _same(ours, theirs)
    _same_state()
    # uploads: a, b and b again, plus device twice unless it is cpu (the host); a download
    # before every move away from a device and for get_state
    device_moves = 0 if device == "cpu" else 2
    assert place.uploads - up == 3 + device_moves
    assert place.downloads - down == 3 + device_moves        # the last for _same_state


# ------------------------------------------------------------------ CUDA source, no GPU
gxx = shutil.which("g++")
# each transform kind with each kind of output store
RENDERINGS = [("uniform24", "float32"), ("uniform24", "float16"), ("uniform53", "float64"),
              ("int32", "bool"), ("int32", "int32"), ("int32", "float16"),
              ("int64", "int64"), ("int64", "float64"), ("bernoulli53", "float32"),
              ("bernoulli53", "uint8")]


def test_cuda_source_compiles(tmp_path):
    """Every rendering (cuda's: with the split-draw kernels) compiles with NVRTC under CuPy's
    options (nvcc where it is installed)."""
    from plugrad.backends.cupy.random import render_split
    CC.require_compiler()
    for kind, dtype in RENDERINGS + [("normal", "float32"), ("normal", "float16")]:
        CC.compile_cuda(tmp_path, MN.render("cuda", dtype) if kind == "normal"
                        else render_split(kind, dtype), f"{kind}_{dtype}")


# CUDA built-ins for g++: one POSIX thread per CUDA thread, __syncthreads a real barrier
SHIM = r"""
#include <cmath>
#include <cstring>
#include <pthread.h>
struct pg_dim3 { unsigned x, y, z; };
static thread_local pg_dim3 threadIdx;
static pg_dim3 blockDim, blockIdx, gridDim;
static pthread_barrier_t pg_barrier;
#define __global__
#define __device__
#define __forceinline__ inline
#define __shared__ static
static inline void __syncthreads() { pthread_barrier_wait(&pg_barrier); }
static inline float __uint_as_float(unsigned u) { float f; std::memcpy(&f, &u, 4); return f; }
static inline unsigned __float_as_uint(float f) { unsigned u; std::memcpy(&u, &f, 4); return u; }
static inline double __longlong_as_double(long long i) {
    double d; std::memcpy(&d, &i, 8); return d; }
static inline float __fmaf_rn(float a, float b, float c) { return std::fma(a, b, c); }
static inline double __fma_rn(double a, double b, double c) { return std::fma(a, b, c); }
static inline float pg_sqrtf(float x) { return std::sqrt(x); }
#define sqrtf pg_sqrtf
static inline float __fsqrt_rn(float x) { return std::sqrt(x); }
"""
LAUNCH = r"""
struct pg_launch { unsigned t; unsigned* state; void* out; int pos; long long n;
                   unsigned long long p[4]; int flags; };
static void* pg_thread(void* arg) {
    pg_launch* a = (pg_launch*)arg;
    threadIdx.x = a->t;
    pg_mt19937(a->state, (PG_OUT_T*)a->out, a->pos, a->n, a->p[0], a->p[1], a->p[2], a->p[3],
               a->flags);
    return 0;
}
extern "C" void run(unsigned block, unsigned* state, void* out, int pos, long long n,
                    unsigned long long p0, unsigned long long p1, unsigned long long p2,
                    unsigned long long p3, int flags) {
    blockDim.x = block;
    pthread_barrier_init(&pg_barrier, 0, block);
    pthread_t threads[256];
    pg_launch args[256];
    for (unsigned t = 0; t < block; ++t) {
        args[t] = pg_launch{t, state, out, pos, n, {p0, p1, p2, p3}, flags};
        pthread_create(&threads[t], 0, pg_thread, &args[t]);
    }
    for (unsigned t = 0; t < block; ++t) pthread_join(threads[t], 0);
    pthread_barrier_destroy(&pg_barrier);
}
extern "C" void half_bits(const float* x, unsigned short* out, long long n) {
    for (long long i = 0; i < n; ++i) out[i] = pg_half_bits(x[i]);
}
"""
# pg_normal16 has no barriers: every (block, thread) pair runs in turn
NORMAL_LAUNCH = r"""
extern "C" void run(unsigned grid, unsigned block, const float* u, void* out, long long n,
                    long long tail, unsigned long long mean, unsigned long long std,
                    int plain) {
    gridDim.x = grid; blockDim.x = block;
    for (unsigned b = 0; b < grid; ++b)
        for (unsigned t = 0; t < block; ++t) {
            blockIdx.x = b; threadIdx.x = t;
            pg_normal16(u, (PG_OUT_T*)out, n, tail, mean, std, plain);
        }
}
extern "C" long long sqrt_mismatch(unsigned long long start, unsigned long long step) {
    for (unsigned long long b = start; b < 0x7f800000ull; b += step) {
        float x, want;
        unsigned bits = (unsigned)b;
        std::memcpy(&x, &bits, 4);
        float got = pg_sqrt_rn(x);
        want = std::sqrt(x);
        if (std::memcmp(&got, &want, 4) != 0) return (long long)b;
    }
    return -1;
}
"""


@pytest.fixture(scope="module")
def cuda_on_host(tmp_path_factory):
    if gxx is None:
        pytest.skip("g++ not installed")
    folder = tmp_path_factory.mktemp("mt19937_host")
    libs = {}

    def build(kind, dtype):
        if (kind, dtype) not in libs:
            src = folder / f"{kind}_{dtype}.cpp"
            src.write_text(SHIM + (MN.render("cuda", dtype) + NORMAL_LAUNCH if kind == "normal"
                                   else M.render("cuda", kind, dtype) + LAUNCH))
            so = src.with_suffix(".so")
            done = subprocess.run([gxx, "-O1", "-shared", "-fPIC", "-ffp-contract=off",
                                   "-pthread", "-o", str(so), str(src)],
                                  capture_output=True, text=True)
            assert done.returncode == 0, done.stderr
            libs[(kind, dtype)] = ctypes.CDLL(str(so))
        return libs[(kind, dtype)]
    return build


@pytest.mark.parametrize("case", [c for c in KERNEL_CASES if c[0] != "normal"][::2],
                         ids=lambda c: f"{c[0]}-{c[1]}")
def test_cuda_kernel_runs_on_the_host(cuda_on_host, case):
    transform, dtype, params, host = case
    kind = M.kind_of(transform, dtype, params)
    run = cuda_on_host(kind, dtype).run
    for block, (pre, n) in itertools.product([1, 7, 256], [(0, 700), (623, 625), (1, 1249)]):
        g = HostGenerator(4)
        g.random32(pre)
        key, pos = g.words()
        out = np.empty(n, dtype)
        p = M.kernel_args(kind, dtype, params)
        run(ctypes.c_uint(block), key.ctypes.data_as(ctypes.c_void_p),
            out.ctypes.data_as(ctypes.c_void_p), ctypes.c_int(pos), ctypes.c_longlong(n),
            *(ctypes.c_ulonglong(v) for v in p[:4]), ctypes.c_int(p[4]))
        assert_bits(out, host(g, n))
        assert np.array_equal(key, g.words()[0]), f"state differs (block {block})"


@pytest.mark.parametrize("case", [c for c in KERNEL_CASES if c[0] == "normal"],
                         ids=lambda c: f"{c[1]}-{c[2]}")
def test_cuda_normal_runs_on_the_host(cuda_on_host, case):
    _, dtype, params, host = case
    run = cuda_on_host("normal", dtype).run
    for (grid, block), n in itertools.product([(1, 1), (3, 5), (64, 256)],
                                              [16, 17, 47, 1000]):
        g = HostGenerator(6)
        u = g.clone().uniform(MN.words(n, dtype), "float32")
        out = np.empty(n, dtype)
        tail, mean, std, plain = MN.kernel_args(n, dtype, params)
        run(ctypes.c_uint(grid), ctypes.c_uint(block), u.ctypes.data_as(ctypes.c_void_p),
            out.ctypes.data_as(ctypes.c_void_p), ctypes.c_longlong(n), ctypes.c_longlong(tail),
            ctypes.c_ulonglong(mean), ctypes.c_ulonglong(std), ctypes.c_int(plain))
        assert_bits(out, host(g, n))


def test_exact_sqrt(cuda_on_host):
    """The kernel's integer sqrt against the correctly rounded one, every 61st positive float."""
    lib = cuda_on_host("normal", "float32")
    lib.sqrt_mismatch.restype = ctypes.c_longlong
    for start in (0x00800000, 0x3F800000 - 7 * 61):
        assert lib.sqrt_mismatch(ctypes.c_ulonglong(start), ctypes.c_ulonglong(61)) == -1


def test_half_conversion_matches_numpy(cuda_on_host):
    """The kernel's float -> half (round to nearest even) on every 4099th float32 bit
    pattern and around every half's rounding boundaries."""
    lib = cuda_on_host("uniform24", "float16")
    patterns = np.arange(0, 2 ** 32, 4099, dtype=np.uint64).astype(np.uint32)
    halves = np.arange(0, 0x7C01, dtype=np.uint16).view(np.float16).astype(np.float32)
    edges = halves.view(np.uint32).astype(np.int64)[:, None] + [-1, 0, 1, 4095, 4096, 4097]
    edges = edges.clip(0).astype(np.uint32).ravel()
    floats = np.concatenate([patterns, edges, edges | np.uint32(0x80000000)]).view(np.float32)
    floats = np.ascontiguousarray(floats[~np.isnan(floats)])
    got = np.empty(floats.size, np.uint16)
    lib.half_bits(floats.ctypes.data_as(ctypes.c_void_p), got.ctypes.data_as(ctypes.c_void_p),
                  ctypes.c_longlong(floats.size))
    with np.errstate(over="ignore"):
        want = floats.astype(np.float16).view(np.uint16)
    assert_bits(got, want)


# ------------------------------------------- large draws on cuda: twist, then emit in parallel
SPLIT_LAUNCH = r"""
struct pg_words_launch { unsigned t; unsigned* state; unsigned* raw; int pos; long long words; };
static void* pg_words_thread(void* arg) {
    pg_words_launch* a = (pg_words_launch*)arg;
    threadIdx.x = a->t;
    pg_mt_words(a->state, a->raw, a->pos, a->words);
    return 0;
}
extern "C" void run_split(unsigned grid, unsigned block, unsigned* state, unsigned* raw,
                          void* out, int pos, long long n, unsigned long long p0,
                          unsigned long long p1, unsigned long long p2, unsigned long long p3,
                          int flags) {
    blockDim.x = block; gridDim.x = 1; blockIdx.x = 0;
    pthread_barrier_init(&pg_barrier, 0, block);
    pthread_t threads[256];
    pg_words_launch args[256];
    for (unsigned t = 0; t < block; ++t) {
        args[t] = pg_words_launch{t, state, raw, pos, n * PG_WPE};
        pthread_create(&threads[t], 0, pg_words_thread, &args[t]);
    }
    for (unsigned t = 0; t < block; ++t) pthread_join(threads[t], 0);
    pthread_barrier_destroy(&pg_barrier);
    gridDim.x = grid;                  /* the emit kernel has no barriers: threads in turn */
    for (unsigned b = 0; b < grid; ++b)
        for (unsigned t = 0; t < block; ++t) {
            blockIdx.x = b; threadIdx.x = t;
            pg_mt_emit(raw, (PG_OUT_T*)out, n, p0, p1, p2, p3, flags);
        }
}
"""


@pytest.mark.parametrize("case", [c for c in KERNEL_CASES if c[0] != "normal"],
                         ids=lambda c: f"{c[0]}-{c[1]}")
def test_cuda_split_draw_runs_on_the_host(tmp_path, case):
    """The two-launch form of a large draw (cupy.random.SPLIT) gives the single kernel's
    values and state: the same stream words, tempered and transformed by the same pg_emit."""
    if gxx is None:
        pytest.skip("g++ not installed")
    from plugrad.backends.cupy import random as CR
    transform, dtype, params, host = case
    kind = M.kind_of(transform, dtype, params)
    src = tmp_path / "split.cpp"
    src.write_text(SHIM + CR.render_split(kind, dtype) + SPLIT_LAUNCH)
    so = src.with_suffix(".so")
    done = subprocess.run([gxx, "-O1", "-shared", "-fPIC", "-ffp-contract=off", "-pthread",
                           "-o", str(so), str(src)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    run = ctypes.CDLL(str(so)).run_split
    for (grid, block), (pre, n) in itertools.product(
            [(1, 7), (3, 256)], [(0, 700), (623, 625), (1, 1249), (624, 1), (5, 3000)]):
        g = HostGenerator(4)
        g.random32(pre)
        key, pos = g.words()
        out = np.empty(n, dtype)
        raw = np.empty(n * M.KINDS[kind], np.uint32)
        p = M.kernel_args(kind, dtype, params)
        run(ctypes.c_uint(grid), ctypes.c_uint(block), key.ctypes.data_as(ctypes.c_void_p),
            raw.ctypes.data_as(ctypes.c_void_p), out.ctypes.data_as(ctypes.c_void_p),
            ctypes.c_int(pos), ctypes.c_longlong(n),
            *(ctypes.c_ulonglong(v) for v in p[:4]), ctypes.c_int(p[4]))
        assert_bits(out, host(g, n))
        assert np.array_equal(key, g.words()[0]), f"state differs ({grid}x{block}, {pre}, {n})"
