"""The cuda backend: availability reasons, kernel sources, fused kernels against unfused paths.

Without a GPU (CI) this still checks what a CPU can: the availability probe's reasons, the
errors users see, that every CUDA source compiles (nvcc, when installed), that the
grid-stride kernels compute torch's updates (run on the host through a small CUDA shim,
when g++ is installed), and the numpy versions of the optional kernels against torch. The
device-parametrized tests at the end run on cpu/opencl here and on cuda on a GPU machine
(``benchmarks/gpu/run.sh``).
"""
from __future__ import annotations

import ctypes
import subprocess
import types

import numpy as np
import pytest
import torch

import cuda_compile as CC
import cuda_host as H
import plugrad
from plugrad.backends import cupy as cupy_plugin
from plugrad.backends.cupy import linalg as CM
from plugrad.backends.cupy import templates as K
from plugrad.plugins import get_registry

CUDA_REASON = cupy_plugin.is_available()
HAVE_CUDA = CUDA_REASON is True
no_cuda_only = pytest.mark.skipif(HAVE_CUDA, reason="checks the no-GPU behaviour")


# ------------------------------------------------------------------ availability reasons
def _fake_cupy(count=None, error=None):
    """A module exposing only what the probe touches: cuda.runtime.getDeviceCount."""
    def get_device_count():
        if error is not None:
            raise error
        return count
    runtime = types.SimpleNamespace(getDeviceCount=get_device_count)
    return types.SimpleNamespace(cuda=types.SimpleNamespace(runtime=runtime))


def _importer(result):
    def import_module(name):
        assert name == "cupy"
        if isinstance(result, BaseException):
            raise result
        return result
    return import_module


@pytest.mark.parametrize("outcome, expected", [
    (ModuleNotFoundError("No module named 'cupy'"), "cupy not installed"),
    (ImportError("libcudart.so.13: cannot open shared object file"),
     "cupy not importable: ImportError: libcudart.so.13"),
    (_fake_cupy(error=RuntimeError("cudaErrorInsufficientDriver: driver too old")),
     "no usable CUDA device: RuntimeError: cudaErrorInsufficientDriver"),
    (_fake_cupy(count=0), "no CUDA device: cupy sees 0 devices"),
])
def test_probe_gives_the_reason(outcome, expected):
    module, reason = cupy_plugin.probe(_importer(outcome))
    assert module is None
    assert expected in reason


def test_probe_missing_cupy_names_the_wheels():
    _, reason = cupy_plugin.probe(_importer(ModuleNotFoundError("No module named 'cupy'")))
    assert "cupy-cuda13x" in reason and "cupy-cuda12x" in reason and "plugrad[cuda]" in reason


def test_probe_accepts_a_cupy_with_devices():
    fake = _fake_cupy(count=2)
    assert cupy_plugin.probe(_importer(fake)) == (fake, None)


@pytest.fixture
def probe_result(monkeypatch):
    """Make the registered plugin see a chosen probe result, restoring the real one after."""
    def use(result):
        monkeypatch.setattr(cupy_plugin, "_probe", lambda: result)
    return use


def test_registry_reports_the_reason(probe_result):
    probe_result((None, "no usable CUDA device: CUDARuntimeError: cudaErrorNoDevice"))
    text = get_registry().describe_devices()
    assert "Unavailable:" in text
    assert "cuda (no usable CUDA device: CUDARuntimeError: cudaErrorNoDevice)" in text
    assert plugrad.cuda.is_available() is False
    assert plugrad.cuda.device_count() == 0
    assert "cudaErrorNoDevice" in plugrad.cuda.unavailable_reason()


@no_cuda_only
def test_to_cuda_raises_with_the_reason():
    reason = CUDA_REASON
    with pytest.raises(RuntimeError, match="device 'cuda' is not available") as info:
        plugrad.zeros(2).to("cuda")
    assert reason in str(info.value)
    with pytest.raises(RuntimeError, match="not available"):
        plugrad.ones(1).cuda()
    with pytest.raises(RuntimeError, match="not available"):
        plugrad.nn.Linear(2, 2).to("cuda:0")


@no_cuda_only
def test_torch_cuda_api_without_a_gpu():
    assert plugrad.cuda.is_available() is False
    assert plugrad.cuda.device_count() == 0
    plugrad.cuda.empty_cache()                      # a no-op, as in torch
    for call in (plugrad.cuda.current_device, plugrad.cuda.synchronize,
                 plugrad.cuda.memory_allocated, plugrad.cuda.max_memory_allocated,
                 plugrad.cuda.get_device_name, lambda: plugrad.cuda.set_device(0)):
        with pytest.raises(RuntimeError, match="CUDA is not available"):
            call()


def test_cuda_array_interface_is_absent_off_gpu():
    t = plugrad.arange(3.0)
    assert not hasattr(t, "__cuda_array_interface__")   # AttributeError, as torch
    with pytest.raises(AttributeError, match="non-CUDA tensor"):
        t.__cuda_array_interface__


def test_seeding_cuda_seeds_the_shared_generator():
    plugrad.cuda.manual_seed_all(7)
    a = plugrad.rand(4)
    torch.manual_seed(7)
    np.testing.assert_array_equal(a.numpy(), torch.rand(4).numpy())


# ------------------------------------------- kernel sources: NVRTC (pip) with CuPy's options
@pytest.fixture
def compiler():
    CC.require_compiler()
    return CC.compile_cuda


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_raw_kernels_compile(tmp_path, compiler, dtype):
    compiler(tmp_path, K.TYPEDEFS[dtype] + K.RAW_SOURCE, f"raw_{dtype}")


@pytest.mark.parametrize("sources, key", H.ELEMENTWISE, ids=[k for _, k in H.ELEMENTWISE])
def test_elementwise_bodies_compile(tmp_path, compiler, sources, key):
    for ctype in H.ctypes_for(key):
        compiler(tmp_path, H.elementwise_harness(sources, key, ctype),
                 f"{key}_{H.SUFFIX[ctype]}")


def test_every_raw_kernel_is_named():
    for name in K.RAW_NAMES:
        assert f'extern "C" __global__ void {name}(' in K.RAW_SOURCE


# ------------------------------------------------ grid-stride kernels run on the host
# The optimizer and strided-softmax kernels need no warp shuffles, so a few macros turn them
# into C++ that g++ runs thread by thread: the CUDA code under test, executed, without a GPU.
LAUNCH = r"""
#define PG_LAUNCH(kernel, ...) for (unsigned b = 0; b < grid; ++b) \
    for (unsigned t = 0; t < block; ++t) { blockIdx.x = b; threadIdx.x = t; kernel(__VA_ARGS__); }
extern "C" void run_sgd(unsigned grid, unsigned block, const long long* table, int n,
                        long long total, acc_t lr, acc_t wd, acc_t mom, acc_t omd, int flags) {
    blockDim.x = block; gridDim.x = grid;
    PG_LAUNCH(pg_sgd_multi, table, n, total, lr, wd, mom, omd, flags)
}
extern "C" void run_adam(unsigned grid, unsigned block, const long long* table, int n,
                         long long total, acc_t wd, acc_t decay, acc_t omb1, acc_t b2,
                         acc_t omb2, acc_t step_size, acc_t bc2, acc_t eps, int flags) {
    blockDim.x = block; gridDim.x = grid;
    PG_LAUNCH(pg_adam_multi, table, n, total, wd, decay, omb1, b2, omb2, step_size, bc2, eps,
              flags)
}
extern "C" void run_softmax_strided(unsigned grid, unsigned block, const scalar_t* x,
                                    scalar_t* y, long long outer, int cols, long long inner,
                                    int log_mode) {
    blockDim.x = block; gridDim.x = grid;
    PG_LAUNCH(pg_softmax_strided, x, y, outer, cols, inner, log_mode)
}
"""

gxx = H.gxx


@pytest.fixture(scope="module", params=["float32", "float64"])
def host_kernels(request, tmp_path_factory):
    if gxx is None:
        pytest.skip("g++ not installed")
    dtype = request.param
    folder = tmp_path_factory.mktemp(f"host_{dtype}")
    src = folder / "kernels.cpp"
    src.write_text(K.TYPEDEFS[dtype] + H.SHIM + H.HOST_ATOMICS + K.RAW_SOURCE + LAUNCH)
    lib = folder / "kernels.so"
    done = subprocess.run([gxx, "-O1", "-shared", "-fPIC", "-ffp-contract=off", "-o", str(lib),
                           str(src)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return dtype, ctypes.CDLL(str(lib))


def _acc(dtype):
    return ctypes.c_float if dtype == "float32" else ctypes.c_double


def _table(columns):
    """The int64 table the multi-tensor kernels read (host pointers stand in for device ones)."""
    ptrs = [a.ctypes.data if a is not None else 0 for col in columns for a in col]
    sizes = [a.size for a in columns[0]]
    table = np.array(ptrs + [0] + np.cumsum(sizes).tolist(), dtype=np.int64)
    return table, int(sum(sizes))


SHAPES = [(3, 5), (1,), (7,), (2, 2, 2)]   # mixed sizes: the binary search has work to do


def _params(dtype, seed=0):
    rng = np.random.default_rng(seed)
    return ([rng.standard_normal(s).astype(dtype) for s in SHAPES],
            [rng.standard_normal(s).astype(dtype) for s in SHAPES])


@pytest.mark.parametrize("momentum, dampening, nesterov, wd, maximize", [
    (0.0, 0.0, False, 0.0, False), (0.9, 0.0, False, 0.01, False),
    (0.9, 0.0, True, 0.0, True), (0.5, 0.3, False, 0.1, False)])
def test_host_sgd_kernel_matches_torch(host_kernels, momentum, dampening, nesterov, wd,
                                       maximize):
    dtype, lib = host_kernels
    params, grads = _params(dtype)
    tparams = [torch.tensor(p, requires_grad=True) for p in params]
    opt = torch.optim.SGD(tparams, lr=0.1, momentum=momentum, dampening=dampening,
                          nesterov=nesterov, weight_decay=wd, maximize=maximize, foreach=False)
    bufs = [np.zeros_like(p) for p in params]
    acc = _acc(dtype)
    for step in range(3):
        for tp, g in zip(tparams, grads):
            tp.grad = torch.tensor(g)
        opt.step()
        flags = (1 if maximize else 0) | (2 if wd else 0) | (4 if momentum else 0) | \
            (8 if step == 0 else 0) | (16 if nesterov else 0)
        table, total = _table([params, grads, bufs if momentum else [None] * len(params)])
        lib.run_sgd(ctypes.c_uint(2), ctypes.c_uint(8), table.ctypes.data_as(ctypes.c_void_p),
                    ctypes.c_int(len(params)), ctypes.c_longlong(total), acc(0.1), acc(wd),
                    acc(momentum), acc(1 - dampening), ctypes.c_int(flags))
    tol = 1e-6 if dtype == "float32" else 1e-12
    for p, tp in zip(params, tparams):
        np.testing.assert_allclose(p, tp.detach().numpy(), rtol=tol, atol=tol)


@pytest.mark.parametrize("wd, decoupled, amsgrad, maximize", [
    (0.0, False, False, False), (0.01, False, True, False), (0.1, True, False, True),
    (0.05, True, True, False)])
def test_host_adam_kernel_matches_torch(host_kernels, wd, decoupled, amsgrad, maximize):
    dtype, lib = host_kernels
    params, grads = _params(dtype, seed=1)
    tparams = [torch.tensor(p, requires_grad=True) for p in params]
    cls = torch.optim.AdamW if decoupled else torch.optim.Adam
    lr, beta1, beta2, eps = 0.01, 0.9, 0.999, 1e-8
    opt = cls(tparams, lr=lr, betas=(beta1, beta2), eps=eps, weight_decay=wd, amsgrad=amsgrad,
              maximize=maximize, foreach=False)
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    vmax = [np.zeros_like(p) for p in params] if amsgrad else [None] * len(params)
    acc = _acc(dtype)
    for step in range(1, 4):
        for tp, g in zip(tparams, grads):
            tp.grad = torch.tensor(g)
        opt.step()
        flags = (1 if maximize else 0) | (2 if wd else 0) | (4 if decoupled else 0) | \
            (8 if amsgrad else 0)
        table, total = _table([params, grads, m, v, vmax])
        scalars = [wd, 1 - lr * wd, 1 - beta1, beta2, 1 - beta2, lr / (1 - beta1 ** step),
                   (1 - beta2 ** step) ** 0.5, eps]
        lib.run_adam(ctypes.c_uint(3), ctypes.c_uint(4), table.ctypes.data_as(ctypes.c_void_p),
                     ctypes.c_int(len(params)), ctypes.c_longlong(total),
                     *(acc(s) for s in scalars), ctypes.c_int(flags))
    tol = 2e-6 if dtype == "float32" else 1e-12
    for p, tp in zip(params, tparams):
        np.testing.assert_allclose(p, tp.detach().numpy(), rtol=tol, atol=tol)


@pytest.mark.parametrize("log_mode", [0, 1])
def test_host_strided_softmax_matches_torch(host_kernels, log_mode):
    dtype, lib = host_kernels
    x = np.random.default_rng(2).standard_normal((3, 5, 4)).astype(dtype)
    x[0, :, 0] = -np.inf                   # all -inf: nan, as torch
    x[1, 2, 1] = -np.inf                   # one -inf: contributes nothing
    x[2, 3, 2] = np.nan                    # nan poisons its column
    x[1, 0, 3] = np.inf
    y = np.empty_like(x)
    ptr = ctypes.c_void_p
    lib.run_softmax_strided(ctypes.c_uint(1), ctypes.c_uint(16), ptr(x.ctypes.data),
                            ptr(y.ctypes.data), ctypes.c_longlong(3), ctypes.c_int(5),
                            ctypes.c_longlong(4), ctypes.c_int(log_mode))
    fn = torch.log_softmax if log_mode else torch.softmax
    expected = fn(torch.tensor(x), 1).numpy()
    tol = 1e-6 if dtype == "float32" else 1e-13
    np.testing.assert_allclose(y, expected, rtol=tol, atol=tol, equal_nan=True)


def test_host_strided_log_softmax_keeps_the_shifted_bits(host_kernels):
    """(x - m) - log s, not x - (m + log s): rows of equal large logits give exactly log(1/2)
    (the latter rounds m + log 2 to float32's spacing at 1000, 6e-5)."""
    dtype, lib = host_kernels
    x = np.full((2, 2, 3), 1000.0, dtype)
    y = np.empty_like(x)
    ptr = ctypes.c_void_p
    lib.run_softmax_strided(ctypes.c_uint(1), ctypes.c_uint(8), ptr(x.ctypes.data),
                            ptr(y.ctypes.data), ctypes.c_longlong(2), ctypes.c_int(2),
                            ctypes.c_longlong(3), ctypes.c_int(1))
    np.testing.assert_array_equal(y, np.full_like(x, np.log(np.asarray(0.5, dtype))))


# ------------------------------------------- ElementwiseKernel bodies run on the host
@pytest.fixture(scope="module")
def host_elementwise(tmp_path_factory):
    if gxx is None:
        pytest.skip("g++ not installed")
    return H.build_host_elementwise(tmp_path_factory.mktemp("host_elementwise"))


def _run_elementwise(lib, name, dtype, *arrays_and_scalars, n):
    ctype = "float" if dtype == "float32" else "double"
    args = [ctypes.c_void_p(a.ctypes.data) if isinstance(a, np.ndarray) else
            ctypes.c_longlong(a) for a in arrays_and_scalars]
    getattr(lib, f"{name}_{ctype}")(*args, ctypes.c_longlong(n))


def _divmod_cases(dtype):
    rng = np.random.default_rng(5)
    special = np.array([0.0, -0.0, 1.0, -1.0, 1.5, -1.5, 5.0, -5.0, 0.4375, 2.0093196e7, 1e30,
                        -1e30, np.inf, -np.inf, np.nan, np.finfo(dtype).max,
                        np.finfo(dtype).tiny], dtype)
    a, b = (x.ravel() for x in np.meshgrid(special, special))
    mag = lambda: np.exp(rng.uniform(-20, 20, 100_000)) * rng.choice([-1, 1], 100_000)
    return (np.concatenate([a, mag().astype(dtype)]), np.concatenate([b, mag().astype(dtype)]))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("key, ufunc", [("floordiv", np.floor_divide),
                                        ("remainder", np.remainder)])
def test_host_divmod_kernel_is_numpys(host_elementwise, dtype, key, ufunc):
    """CuPy's floor(a / b) formulas differ from numpy's (torch's) divmod in thousands of these;
    the kernel agrees bit for bit, signed zeros, infinities and nan included."""
    a, b = _divmod_cases(dtype)
    out = np.empty_like(a)
    _run_elementwise(host_elementwise, K.ELEMENTWISE[key][3], dtype, a, b, out, n=a.size)
    with np.errstate(all="ignore"):
        want = ufunc(a, b)
    np.testing.assert_array_equal(out.view(f"u{a.itemsize}")[~np.isnan(want)],
                                  want.view(f"u{a.itemsize}")[~np.isnan(want)])
    np.testing.assert_array_equal(np.isnan(out), np.isnan(want))
    # the cases the review found against CuPy's formulas
    if key == "remainder":
        assert out[(a == 5) & (b == np.inf)][0] == 5
    else:
        assert np.isnan(out[(a == np.inf) & (b == 1.5)][0])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_host_cross_entropy_grad_kernel(host_elementwise, dtype):
    """g * (softmax - one-hot), written over the softmax; an ignored row is 0 * softmax: 0,
    or nan all along a row whose logits hold a nan, as the composed path and opencl give."""
    x = np.random.default_rng(3).standard_normal((3, 4)).astype(dtype)
    x[1, 2] = np.nan                                       # row 1 is ignored
    target = np.array([2, -100, 0], np.int64)
    xt = torch.tensor(x[[0, 2]], requires_grad=True)
    g = np.array([0.5, 2.0, -1.5], dtype)

    def grad():
        p = torch.softmax(torch.tensor(x), 1).numpy().copy()
        flag = np.zeros(1, np.int32)
        _run_elementwise(host_elementwise, "pg_cross_entropy_grad", dtype, p, target, g, 4,
                         -100, p, flag, n=x.size)
        return p, flag[0]
    out, flag = grad()
    loss = torch.nn.functional.cross_entropy(xt, torch.tensor([2, 0]), reduction="none")
    (loss * torch.tensor(g[[0, 2]])).sum().backward()
    tol = 1e-6 if dtype == "float32" else 1e-13
    np.testing.assert_allclose(out[[0, 2]], xt.grad.numpy(), rtol=tol, atol=tol)
    assert np.isnan(out[1]).all() and flag == 0
    x[1, 2] = 0.5
    out, flag = grad()
    np.testing.assert_array_equal(out[1], np.zeros(4, dtype))
    target[2] = 4                       # out of range: flagged, no one-hot term
    out, flag = grad()
    assert flag == 1
    np.testing.assert_allclose(out[2], g[2] * torch.softmax(torch.tensor(x), 1).numpy()[2],
                               rtol=tol)


# ------------------------------------------ deferred index checks (checks_indices) on host
def _index_rows(lib, dtype, indices, sizes):
    """(row, bad, flag) as Indexing._rows computes them: one check kernel per index."""
    shape = np.broadcast_shapes(*(i.shape for i in indices))
    row, bad, flag = np.zeros(shape, np.int64), np.zeros(shape, np.bool_), np.zeros(1, np.int32)
    for idx, n in zip(indices, sizes):
        idx = np.ascontiguousarray(np.broadcast_to(idx, shape))
        _run_elementwise(lib, "pg_index_check", dtype, idx, n, row, bad, flag, n=row.size)
    return row, bad, flag


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_host_index_kernels_read_zero_and_flag(host_elementwise, dtype):
    """x[i, j] over the two leading axes: in-range rows as numpy, out-of-range ones 0, the
    flag set only when some index was out of range."""
    lib = host_elementwise
    x = np.arange(3 * 4 * 2, dtype=dtype).reshape(3, 4, 2) + 1
    i, j = np.array([[0], [2]]), np.array([1, 3, 0])
    row, bad, flag = _index_rows(lib, dtype, [i, j], x.shape)
    assert flag[0] == 0 and not bad.any()
    out = np.empty((2, 3, 2), dtype)
    _run_elementwise(lib, "pg_index_gather", dtype, x, row, bad, 2, out, n=out.size)
    np.testing.assert_array_equal(out, x[i, j])
    j_bad = np.array([1, 4, -1])
    row, bad, flag = _index_rows(lib, dtype, [i, j_bad], x.shape)
    assert flag[0] == 1
    np.testing.assert_array_equal(bad, np.broadcast_to([False, True, True], (2, 3)))
    _run_elementwise(lib, "pg_index_gather", dtype, x, row, bad, 2, out, n=out.size)
    want = x[i, np.where(j_bad == 4, 0, j_bad) % 4].copy()
    want[:, 1:] = 0
    np.testing.assert_array_equal(out, want)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("accumulate", [False, True])
def test_host_index_scatter_kernels_skip_bad_writes(host_elementwise, dtype, accumulate):
    lib = host_elementwise
    x = np.zeros((5, 2), dtype)
    idx = np.array([1, 7, 1, -2, 4])
    row, bad, flag = _index_rows(lib, dtype, [idx], x.shape[:1])
    values = np.arange(10, dtype=dtype).reshape(5, 2) + 1
    name = "pg_index_scatter_add" if accumulate else "pg_index_scatter"
    _run_elementwise(lib, name, dtype, values, row, bad, 2, x, n=values.size)
    want = np.zeros((5, 2), dtype)
    keep = (idx >= 0) & (idx < 5)
    if accumulate:
        np.add.at(want, idx[keep], values[keep])
    else:
        want[idx[keep]] = values[keep]
    np.testing.assert_array_equal(x, want)
    assert flag[0] == 1


def test_host_target_check_kernel(host_elementwise):
    target = np.array([0, 3, -100, -1, 2], np.int64)
    safe, bad, flag = np.empty(5, np.int64), np.empty(5, np.bool_), np.zeros(1, np.int32)
    _run_elementwise(host_elementwise, "pg_target_check", "float32", target, 3, -100, safe,
                     bad, flag, n=5)
    np.testing.assert_array_equal(bad, [False, True, False, True, False])
    np.testing.assert_array_equal(safe, [0, -100, -100, -100, 2])
    assert flag[0] == 1


def test_cuda_backend_declares_deferred_index_checks():
    """The contract's promise is made by the class cuda loads (no GPU needed to see it), and
    the frontend would skip its host checks for it: every INDEX_OPS op is its own."""
    from plugrad.backends.cupy.backend import CupyBackend
    from plugrad.plugins.contract import INDEX_OPS
    assert CupyBackend.checks_indices is True
    for name in INDEX_OPS:
        owner = next(c for c in CupyBackend.__mro__ if name in vars(c))
        assert owner.__module__.startswith("plugrad.backends.cupy."), (name, owner)


# ------------------------------------------- optional kernels: numpy versions vs torch
def _cpu_impl():
    return get_registry().table("cpu").impl


@pytest.mark.parametrize("act, fn", [("none", lambda y: y), ("relu", torch.relu),
                                     ("gelu", torch.nn.functional.gelu)])
@pytest.mark.parametrize("bias_shape", [(4,), (3, 1), (3, 4), ()])
def test_numpy_addmm_act_matches_torch(act, fn, bias_shape):
    rng = np.random.default_rng(3)
    bias = rng.standard_normal(bias_shape).astype(np.float32)
    m1 = rng.standard_normal((3, 5)).astype(np.float32)
    m2 = rng.standard_normal((5, 4)).astype(np.float32)
    out = _cpu_impl().addmm_act(bias, m1, m2, act)
    expected = fn(torch.addmm(torch.tensor(bias), torch.tensor(m1), torch.tensor(m2)))
    assert out.dtype == np.float32 and out.shape == (3, 4)
    np.testing.assert_allclose(out, expected.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_numpy_cross_entropy_matches_torch(dtype):
    rng = np.random.default_rng(4)
    x = (rng.standard_normal((6, 5)) * 5).astype(dtype)
    target = np.array([0, 4, -100, 2, 2, 1])
    loss, lse = _cpu_impl().cross_entropy(x, target, -100)
    tx = torch.tensor(x, requires_grad=True)
    tloss = torch.nn.functional.cross_entropy(tx, torch.tensor(target), reduction="none")
    assert loss.dtype == dtype and lse.dtype == dtype
    np.testing.assert_allclose(loss, tloss.detach().numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(lse, torch.logsumexp(tx, 1).detach().numpy(), rtol=1e-5)
    g = rng.standard_normal(6).astype(dtype)
    tloss.backward(torch.tensor(g))
    grad = _cpu_impl().cross_entropy_backward(g, x, target, lse, -100)
    np.testing.assert_allclose(grad, tx.grad.numpy(), rtol=1e-5, atol=1e-6)


# ------------------------------------- fused kernels against the unfused path, per device
def _ops(device):
    from plugrad._device import tensor_device
    return tensor_device(device).ops


def _host(buf, device):
    return _ops(device).to_host(buf)


@pytest.mark.parametrize("shape, axis", [((4, 10), 1), ((3, 2000), 1), ((2, 5, 3), 1),
                                         ((6,), 0), ((2, 3, 4), 0)])
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_kernel_matches_composed(device, shape, axis, name):
    ops = _ops(device)
    if getattr(ops, name) is None:
        pytest.skip(f"backend has no {name} kernel")
    x = np.random.default_rng(5).standard_normal(shape).astype(np.float32) * 4
    buf = ops.from_host(x)
    got = _host(getattr(ops, name)(buf, axis), device)
    t = torch.tensor(x)
    expected = (torch.softmax if name == "softmax" else torch.log_softmax)(t, axis)
    np.testing.assert_allclose(got, expected.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("act", ["none", "relu", "gelu"])
def test_addmm_act_kernel_matches_composed(device, act):
    ops = _ops(device)
    if ops.addmm_act is None:
        pytest.skip("backend has no addmm_act kernel")
    rng = np.random.default_rng(6)
    b, m1, m2 = (rng.standard_normal(s).astype(np.float32) for s in [(7,), (9, 4), (4, 7)])
    got = _host(ops.addmm_act(ops.from_host(b), ops.from_host(m1), ops.from_host(m2), act),
                device)
    composed = _ops("cpu").add(_ops("cpu").matmul(m1, m2), b)
    if act == "relu":
        composed = np.maximum(composed, 0)
    elif act == "gelu":
        composed = torch.nn.functional.gelu(torch.tensor(composed)).numpy()
    np.testing.assert_allclose(got, composed, rtol=1e-5, atol=1e-5)


def test_cross_entropy_kernel_matches_composed(device):
    ops = _ops(device)
    if ops.cross_entropy is None:
        pytest.skip("backend has no cross_entropy kernel")
    rng = np.random.default_rng(7)
    x = (rng.standard_normal((33, 11)) * 3).astype(np.float32)
    target = rng.integers(0, 11, 33)
    target[5] = -1
    loss, lse = ops.cross_entropy(ops.from_host(x), ops.from_host(target), -1)
    composed = -torch.log_softmax(torch.tensor(x), 1)[np.arange(33), np.where(target < 0, 0,
                                                                              target)]
    composed[5] = 0
    np.testing.assert_allclose(_host(loss, device), composed.numpy(), rtol=1e-5, atol=1e-5)
    g = rng.standard_normal(33).astype(np.float32)
    grad = ops.cross_entropy_backward(ops.from_host(g), ops.from_host(x),
                                      ops.from_host(target), lse, -1)
    expected = (torch.softmax(torch.tensor(x), 1)
                - torch.nn.functional.one_hot(torch.tensor(np.maximum(target, 0)), 11))
    expected = expected * torch.tensor(np.where(target < 0, 0, g))[:, None]
    np.testing.assert_allclose(_host(grad, device), expected.numpy(), rtol=1e-5, atol=1e-6)


def test_adam_step_kernel_matches_torch(device):
    ops = _ops(device)
    if ops.adam_step is None:
        pytest.skip("backend has no adam_step kernel")
    params, grads = _params(np.float32, seed=8)
    tparams = [torch.tensor(p, requires_grad=True) for p in params]
    opt = torch.optim.AdamW(tparams, lr=0.01, weight_decay=0.1, amsgrad=True, foreach=False)
    bufs = [ops.from_host(p) for p in params]
    state = [[ops.from_host(np.zeros_like(p)) for p in params] for _ in range(3)]
    for step in range(1, 4):
        for tp, g in zip(tparams, grads):
            tp.grad = torch.tensor(g)
        opt.step()
        hyper = dict(lr=0.01, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.1,
                     decoupled=True, amsgrad=True, maximize=False, step=float(step))
        ops.adam_step(bufs, [ops.from_host(g) for g in grads], *state, hyper)
    for buf, tp in zip(bufs, tparams):
        np.testing.assert_allclose(_host(buf, device), tp.detach().numpy(), rtol=2e-6, atol=2e-6)


def test_sgd_step_kernel_matches_torch(device):
    ops = _ops(device)
    if ops.sgd_step is None:
        pytest.skip("backend has no sgd_step kernel")
    params, grads = _params(np.float32, seed=9)
    tparams = [torch.tensor(p, requires_grad=True) for p in params]
    opt = torch.optim.SGD(tparams, lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01,
                          foreach=False)
    bufs = [ops.from_host(p) for p in params]
    moms = [ops.from_host(np.zeros_like(p)) for p in params]
    for step in range(3):
        for tp, g in zip(tparams, grads):
            tp.grad = torch.tensor(g)
        opt.step()
        hyper = dict(lr=0.05, momentum=0.9, dampening=0.0, weight_decay=0.01, nesterov=True,
                     maximize=False, first_step=step == 0)
        ops.sgd_step(bufs, [ops.from_host(g) for g in grads], moms, hyper)
    for buf, tp in zip(bufs, tparams):
        np.testing.assert_allclose(_host(buf, device), tp.detach().numpy(), rtol=1e-6, atol=1e-6)


# ----------------------------------------------------------- device rules and transfers
def test_mixing_devices_raises_except_cpu_scalars(device):
    if device == "cpu":
        pytest.skip("needs a second device type")
    a = plugrad.ones(3, device=device)
    with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device"):
        a + plugrad.ones(3)
    out = a * plugrad.tensor(2.0)                     # a 0-dim cpu tensor is a scalar
    assert out.device.type == device
    np.testing.assert_array_equal(out.cpu().numpy(), [2.0, 2.0, 2.0])


def test_round_trip_transfer(device):
    x = np.random.default_rng(10).standard_normal((5, 3)).astype(np.float32)
    t = plugrad.tensor(x).to(device)
    assert t.device.type == device
    np.testing.assert_array_equal(t.cpu().numpy(), x)
    np.testing.assert_array_equal(t.to(device).cpu().numpy(), x)


# ------------------------------------------------------------------- GPU-only behaviour
@pytest.fixture
def cuda():
    if not HAVE_CUDA:
        pytest.skip(f"backend 'cuda' unavailable: {CUDA_REASON}")
    return "cuda"


def test_cuda_memory_statistics(cuda):
    plugrad.cuda.synchronize()
    before = plugrad.cuda.memory_allocated()
    t = plugrad.empty(1 << 20, device=cuda)                      # 4 MiB
    assert plugrad.cuda.memory_allocated() >= before + 4 * 2 ** 20
    assert plugrad.cuda.max_memory_allocated() >= plugrad.cuda.memory_allocated()
    del t
    assert plugrad.cuda.memory_allocated() == before
    plugrad.cuda.reset_peak_memory_stats()
    assert plugrad.cuda.max_memory_allocated() == before
    plugrad.cuda.empty_cache()
    assert plugrad.cuda.memory_reserved() >= plugrad.cuda.memory_allocated()
    assert isinstance(plugrad.cuda.get_device_name(), str)
    assert plugrad.cuda.get_device_capability()[0] >= 3
    free, total = plugrad.cuda.mem_get_info()
    assert 0 < free <= total


def test_cuda_device_api(cuda):
    assert plugrad.cuda.is_available() and plugrad.cuda.device_count() >= 1
    assert plugrad.cuda.current_device() == 0
    plugrad.cuda.set_device("cuda:0")
    with plugrad.cuda.device(0):
        assert plugrad.cuda.current_device() == 0
    with pytest.raises(RuntimeError, match="invalid device ordinal"):
        plugrad.cuda.set_device(plugrad.cuda.device_count())
    t = plugrad.ones(2).cuda()
    assert t.is_cuda and t.device == plugrad.device("cuda:0") and t.get_device() == 0


def test_cuda_dlpack_and_array_interface_are_zero_copy(cuda):
    import cupy
    t = plugrad.arange(6.0, device=cuda)
    view = cupy.asarray(t)                       # __cuda_array_interface__
    view[0] = 42
    assert t[0].item() == 42
    back = plugrad.from_dlpack(cupy.arange(4, dtype=cupy.float32))
    assert back.device.type == "cuda" and back.tolist() == [0.0, 1.0, 2.0, 3.0]
    shared = cupy.from_dlpack(t)
    shared[1] = -1
    assert t[1].item() == -1


def test_cuda_interop_with_torch_cuda(cuda):
    if not torch.cuda.is_available():
        pytest.skip("this torch has no CUDA")
    tt = torch.arange(5.0, device="cuda")
    p = plugrad.from_dlpack(tt)
    tt[0] = 9
    assert p[0].item() == 9
    back = torch.from_dlpack(p)
    assert back.device.type == "cuda" and back.tolist() == p.tolist()
    if plugrad.cuda.device_count() > 1:
        q = p.to("cuda:1")
        assert q.device.index == 1 and q.tolist() == p.tolist()


# ------------------------------- frontend fused ops: kernel path == composed path == torch
@pytest.fixture(params=["kernel", "composed"])
def path(request, device, monkeypatch):
    """Run a fused op through the backend's kernel, or with the kernel hidden (composed)."""
    if request.param == "composed":
        table = _ops(device)
        for name in ("cross_entropy", "cross_entropy_backward", "addmm_act"):
            monkeypatch.setattr(table, name, None)
    return request.param


def test_cross_entropy_rows_matches_torch(device, path):
    from plugrad.ops.fused import cross_entropy_rows
    rng = np.random.default_rng(11)
    x = (rng.standard_normal((9, 6)) * 3).astype(np.float32)
    target = np.array([0, 5, -100, 2, 2, 1, 3, -100, 4])
    px = plugrad.tensor(x, device=device, requires_grad=True)
    loss = cross_entropy_rows(px, plugrad.tensor(target, device=device), -100)
    tx = torch.tensor(x, requires_grad=True)
    tloss = torch.nn.functional.cross_entropy(tx, torch.tensor(target), reduction="none")
    assert loss.grad_fn.name() == tloss.grad_fn.name() == "NllLossBackward0"
    np.testing.assert_allclose(loss.detach().cpu().numpy(), tloss.detach().numpy(), rtol=1e-5,
                               atol=1e-6)
    g = rng.standard_normal(9).astype(np.float32)
    loss.backward(plugrad.tensor(g, device=device))
    tloss.backward(torch.tensor(g))
    np.testing.assert_allclose(px.grad.cpu().numpy(), tx.grad.numpy(), rtol=1e-5, atol=1e-6)
    # double backward goes through frontend ops
    px.grad = None
    gx, = plugrad.autograd.grad(cross_entropy_rows(px, plugrad.tensor(target, device=device))
                                .sum(), px, create_graph=True)
    hx, = plugrad.autograd.grad((gx * gx).sum(), px)
    tg, = torch.autograd.grad(torch.nn.functional.cross_entropy(tx, torch.tensor(target),
                                                                reduction="sum"), tx,
                              create_graph=True)
    th, = torch.autograd.grad((tg * tg).sum(), tx)
    np.testing.assert_allclose(hx.cpu().numpy(), th.numpy(), rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("use_gelu", [False, True])
def test_addmm_activation_matches_torch(device, path, use_gelu):
    from plugrad.ops.fused import addmm_activation
    rng = np.random.default_rng(12)
    arrays = [rng.standard_normal(s).astype(np.float32) for s in [(4,), (3, 5), (5, 4)]]
    mine = [plugrad.tensor(a, device=device, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out = addmm_activation(*mine, use_gelu=use_gelu)
    pre = torch.addmm(*theirs)
    expected = torch.nn.functional.gelu(pre) if use_gelu else torch.relu(pre)
    np.testing.assert_allclose(out.detach().cpu().numpy(), expected.detach().numpy(), rtol=1e-5,
                               atol=1e-6)
    weights = rng.standard_normal((3, 4)).astype(np.float32)
    (out * plugrad.tensor(weights, device=device)).sum().backward()
    (expected * torch.tensor(weights)).sum().backward()
    for m, t in zip(mine, theirs):
        np.testing.assert_allclose(m.grad.cpu().numpy(), t.grad.numpy(), rtol=1e-5, atol=1e-5)


# ------------------------------------------------ flushed subnormals accepted on cuda only
def test_flushed_subnormals_are_accepted_only_where_asked():
    from fuzz_profiles import assert_same, flushed
    tiny = np.float32(2.8e-39)                         # a float32 subnormal
    want = np.array([-tiny, 1.0], np.float32)
    got = np.array([-0.0, 1.0], np.float32)
    assert_same(got, want, flush_subnormals=True)
    with pytest.raises(AssertionError):
        assert_same(got, want)                         # elsewhere it is a wrong value
    with pytest.raises(AssertionError):                # a flush keeps the sign
        assert_same(np.array([0.0, 1.0], np.float32), want, flush_subnormals=True)
    # a result computed from flushed inputs: 1e30 * subnormal is normal, 0 after -ftz
    x = np.array([tiny, 2.0], np.float32)
    got = np.float32(1e30) * flushed(x)
    assert_same(got, np.float32(1e30) * x, flush_subnormals=np.float32(1e30) * flushed(x))
    with pytest.raises(AssertionError):
        assert_same(got, np.float32(1e30) * x, flush_subnormals=True)


def test_only_cuda_flushes_subnormals():
    from helpers import flushes_subnormals
    assert flushes_subnormals("cuda") and flushes_subnormals("cuda:1")
    assert not flushes_subnormals("cpu") and not flushes_subnormals("opencl")


# ------------------------------------------- batched matmul: cuBLAS arguments, no copies
def _as_strided_flat(flat, offset, shape, strides):
    return np.lib.stride_tricks.as_strided(flat[offset:], shape,
                                           tuple(s * flat.itemsize for s in strides))


def _emulate_gemm_strided_batched(p, a, b):
    """cublasGemmStridedBatchedEx's definition (column-major, op per operand) run by numpy
    over the operands' own memory, at the strides :func:`gemm.plan` chose."""
    base_a, base_b = a.base if a.base is not None else a, b.base if b.base is not None else b
    flat_a, flat_b = base_a.reshape(-1), base_b.reshape(-1)
    off_a = (a.__array_interface__["data"][0] - flat_a.__array_interface__["data"][0]) \
        // a.itemsize
    off_b = (b.__array_interface__["data"][0] - flat_b.__array_interface__["data"][0]) \
        // b.itemsize
    M, N, K = p["m"], p["n"], p["k"]
    out = np.zeros(p["batch"] * p["strideC"], np.float64)
    for i in range(p["batch"]):
        # cuBLAS's A is our b, its B our a
        opa = _as_strided_flat(flat_b, off_b + i * p["strideA"], (M, K),
                               (1, p["lda"]) if p["transa"] == CM.OP_N else (p["lda"], 1))
        opb = _as_strided_flat(flat_a, off_a + i * p["strideB"], (K, N),
                               (1, p["ldb"]) if p["transb"] == CM.OP_N else (p["ldb"], 1))
        c = opa.astype(np.float64) @ opb.astype(np.float64)
        _as_strided_flat(out, i * p["strideC"], (M, N), (1, p["ldc"]))[...] = c
    return out.reshape(p["out_shape"])


def _layouts(rng):
    """(a, b) pairs as attention and Linear layers lay them out: contiguous, a transposed
    key, a broadcast weight, sliced batches, size-1 axes."""
    def arr(*shape):
        return rng.standard_normal(shape).astype(np.float32)
    q, k = arr(2, 3, 5, 4), arr(2, 3, 6, 4)
    yield q, k.transpose(0, 1, 3, 2)                       # q @ k^T: k read transposed
    yield arr(2, 3, 5, 6), k                               # scores @ v
    yield arr(4, 5, 3), arr(3, 7)                          # Linear on 3-d input (broadcast)
    yield arr(2, 7, 3).transpose(0, 2, 1), arr(2, 7, 2)    # a column-major batch
    yield arr(6, 5, 3)[::2], arr(3, 3, 2)                  # every other batch
    yield arr(2, 1, 5, 3), arr(1, 4, 3, 2)[:, :, :, :]     # batch axes broadcast both ways
    yield arr(3, 1, 4), arr(3, 4, 1)                       # m = 1, n = 1
    yield arr(2, 5, 4)[:, :, ::2], arr(2, 2, 3)            # strided columns: no cuBLAS layout
    yield arr(1, 4, 2), arr(3, 2, 5)


def test_batched_matmul_plan_matches_numpy():
    rng = np.random.default_rng(0)
    planned = 0
    for a, b in _layouts(rng):
        p = CM.plan(a.shape, tuple(s // 4 for s in a.strides), b.shape,
                    tuple(s // 4 for s in b.strides))
        if p is None:
            continue
        planned += 1
        got = _emulate_gemm_strided_batched(p, a, b)
        np.testing.assert_allclose(got, np.matmul(a.astype(np.float64), b.astype(np.float64)),
                                   rtol=1e-12, atol=1e-12)
    assert planned >= 6


def test_batched_matmul_plan_refuses_what_cublas_cannot_read():
    assert CM.plan((2, 3, 5, 4), (60, 20, 4, 1), (2, 3, 4, 6), (72, 24, 6, 1)) is not None
    # batch axes that do not fold into one stride: (1, H) or (B, 1) broadcast to (B, H)
    assert CM.plan((2, 3, 5, 4), (60, 20, 4, 1), (1, 3, 4, 6), (72, 24, 6, 1)) is None
    assert CM.plan((2, 3, 5, 4), (60, 20, 4, 1), (2, 1, 4, 6), (24, 24, 6, 1)) is None
    # neither row- nor column-major matrix (strided columns), negative strides
    assert CM.plan((2, 5, 2), (20, 4, 2), (2, 2, 3), (6, 3, 1)) is None
    assert CM.plan((2, 5, 2), (-10, 2, 1), (2, 2, 3), (6, 3, 1)) is None


def test_cuda_backend_uses_the_planned_batched_matmul():
    from plugrad.backends.cupy.backend import CupyBackend
    assert CupyBackend.matmul is CM.Linalg.matmul
