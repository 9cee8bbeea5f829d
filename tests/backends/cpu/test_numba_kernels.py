"""The cpu backend's numba kernels (plugrad.backends.jit): the chooser, and each compiled
kernel against torch and against the numpy kernel it replaces, edge values included.

numba is in the ``test`` extra, so these fail (not skip) without it, as the torch oracle does.
"""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch

import plugrad
from plugrad.backends import jit
from plugrad.backends.jit.backend import NumbaBackend
from plugrad.backends.xp import ArrayModuleBackend
from plugrad.plugins import get_registry

EDGES = np.float32([0.0, -0.0, 1e-30, -1e-38, 1e-45, np.inf, -np.inf, np.nan, 1.0, -1.0,
                    0.99999994, 4.0, -3.99, 5.5, 60.0, -60.0, 1e20, -1e20])


@pytest.fixture(scope="module")
def compiled():
    backend = NumbaBackend(np, "numba-test", quiet=True)
    backend.min_elements = 0            # compiled kernels for the small arrays here too
    return backend


@pytest.fixture(scope="module")
def plain():
    return ArrayModuleBackend(np, "numpy-test", quiet=True)


def _random(shape, scale=2.0, seed=0):
    return (np.random.default_rng(seed).standard_normal(shape) * scale).astype(np.float32)


def _close(got, want, ulps=4.0):
    """|got - want| within ``ulps`` float32 ulps of max(|want|, 1): 1 + erf cancels in gelu,
    so its small outputs carry the absolute error of values near 1."""
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    assert got.shape == want.shape
    assert np.array_equal(np.isnan(got), np.isnan(want))
    finite = np.isfinite(want)
    assert np.array_equal(got[~finite & ~np.isnan(want)], want[~finite & ~np.isnan(want)])
    scale = np.maximum(np.abs(want[finite]), 1.0) * 2.0 ** -23
    err = np.abs(got[finite] - want[finite]) / scale
    assert err.max(initial=0) <= ulps, err.max()


# -------------------------------------------------------------------------- the chooser

def test_the_cpu_backend_is_numbas_when_installed_and_numpys_when_switched_off(monkeypatch):
    monkeypatch.delenv(jit.ENV, raising=False)
    assert jit.unavailable_reason() is None
    assert jit.cpu_backend_class() is NumbaBackend
    assert "numba kernels" in jit.description()
    plugrad.zeros(1)
    assert isinstance(get_registry().backend("cpu").impl, NumbaBackend)
    monkeypatch.setenv(jit.ENV, "0")
    assert jit.cpu_backend_class() is ArrayModuleBackend
    assert jit.description() == "numpy on the host CPU (numba kernels off: PLUGRAD_NUMBA=0)"


def test_a_kernel_module_that_cannot_load_warns_once_and_the_numpy_kernel_runs():
    broken = jit.KernelModule("_no_such_kernels")
    with pytest.warns(RuntimeWarning, match="_no_such_kernels cannot load.*numpy kernels"):
        assert broken() is None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert broken() is None


# -------------------------------------------------------------------------- erf and gelu

def test_erf_is_within_0_52_ulp_of_exact_and_keeps_edge_values(compiled, plain):
    x = np.concatenate([np.linspace(-5, 5, 200_001, dtype=np.float32),
                        _random(100_000, 1.5), np.float32(np.geomspace(1e-38, 4, 5000))])
    got = compiled.erf(x)
    exact = np.array([math.erf(float(v)) for v in x])
    ulp = np.spacing(np.abs(exact).astype(np.float32)).astype(np.float64)
    assert got.dtype == np.float32
    assert (np.abs(got - exact) / ulp).max() <= 0.53
    edges = compiled.erf(EDGES)
    np.testing.assert_array_equal(edges, plain.erf(EDGES))
    np.testing.assert_array_equal(np.signbit(edges), np.signbit(EDGES))
    torchs = torch.erf(torch.from_numpy(EDGES)).numpy()      # torch rounds erf(1e-30) up
    np.testing.assert_allclose(edges, torchs, rtol=1.2e-7, atol=0)


@pytest.mark.parametrize("x", [_random((37, 21)), _random((8, 6))[:, ::2], np.float32(0.75),
                               np.zeros((0, 3), np.float32), EDGES],
                         ids=["2d", "strided", "0d", "empty", "edges"])
def test_gelu_and_its_backward_equal_numpys_and_torchs(compiled, plain, x):
    x = np.asarray(x)
    g = np.asarray(_random(x.shape, 1.0, seed=1))
    out, cdf = compiled.gelu(x)
    want_out, want_cdf = plain.gelu(x)
    assert out.shape == cdf.shape == x.shape and out.dtype == cdf.dtype == np.float32
    _close(out, want_out, 1)
    _close(cdf, want_cdf, 1)
    xt = torch.from_numpy(x.copy())
    _close(out, torch.nn.functional.gelu(xt).numpy())
    grad = compiled.gelu_backward(g, x, cdf)
    _close(grad, plain.gelu_backward(g, x, want_cdf), 2)
    _close(grad, torch.ops.aten.gelu_backward(torch.from_numpy(g), xt).numpy())


def test_other_dtypes_go_to_the_numpy_kernels(compiled, plain):
    x = _random(50).astype(np.float64)
    for got, want in zip(compiled.gelu(x), plain.gelu(x)):
        np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(compiled.erf(x), plain.erf(x))
    half = x.astype(np.float16)
    np.testing.assert_array_equal(compiled.erf(half), plain.erf(half))


def test_small_arrays_and_other_dtypes_go_to_the_numpy_kernels(plain):
    backend = NumbaBackend(np, "numba-threshold", quiet=True)
    small = _random(backend.min_elements - 1)
    for got, want in zip(backend.gelu(small), plain.gelu(small)):
        np.testing.assert_array_equal(got, want)
    big = _random(backend.min_elements)
    assert not np.array_equal(backend.erf(big), plain.erf(big))   # ulp-level differences


# -------------------------------------------------------------------------- layer norm

@pytest.mark.parametrize("affine", ["both", "weight", "bias", "none"])
@pytest.mark.parametrize("shape", [(6, 7, 128), (3, 5), (0, 4)], ids=["3d", "2d", "empty"])
def test_layer_norm_forward_and_backward_equal_numpys_and_torchs(compiled, plain, affine, shape):
    n = shape[-1]
    x = _random(shape, 1.5) + np.float32(0.3)
    g = np.asarray(_random(shape, 1.0, seed=1))
    w = _random(n, 1.0, seed=2) if affine in ("both", "weight") else None
    b = _random(n, 1.0, seed=3) if affine in ("both", "bias") else None
    out, mean, rstd = compiled.layer_norm(x, w, b, n, 1e-5)
    want = plain.layer_norm(x, w, b, n, 1e-5)
    assert out.shape == x.shape and mean.shape == rstd.shape == (x.size // n,)
    for got, ref in zip((out, mean, rstd), want):
        assert got.dtype == np.float32
        np.testing.assert_allclose(got, ref, rtol=2e-5, atol=2e-5)
    xt = torch.tensor(x, requires_grad=True)
    wt, bt = (None if v is None else torch.tensor(v, requires_grad=True) for v in (w, b))
    tout = torch.nn.functional.layer_norm(xt, [n], wt, bt, 1e-5)
    np.testing.assert_allclose(out, tout.detach().numpy(), rtol=2e-5, atol=2e-5)
    tout.backward(torch.from_numpy(g))
    dx, dw, db = compiled.layer_norm_backward(g, x, w, mean, rstd, n)
    for got, ref in ((dx, xt), (dw, wt), (db, bt)):
        if ref is not None and ref.grad is not None:
            np.testing.assert_allclose(got, ref.grad.numpy(), rtol=1e-4, atol=1e-4)
    pdx, pdw, pdb = plain.layer_norm_backward(g, x, w, mean, rstd, n)
    for got, ref in ((dx, pdx), (dw, pdw), (db, pdb)):
        assert got.dtype == np.float32 and got.shape == ref.shape
        np.testing.assert_allclose(got, ref, rtol=1e-4, atol=1e-4)


def test_layer_norm_keeps_nan_and_inf_rows_as_numpys(compiled, plain):
    x = _random((4, 16))
    x[1, 3], x[2, 0] = np.nan, np.inf
    got, want = compiled.layer_norm(x, None, None, 16, 1e-5), plain.layer_norm(x, None, None, 16, 1e-5)
    for a, b in zip(got, want):
        np.testing.assert_array_equal(np.isnan(a), np.isnan(b))


# -------------------------------------------------------------------------- softmax

def test_softmax_equals_numpys_and_torchs_with_masked_and_edge_rows(compiled, plain):
    x = _random((3, 4, 64, 64), 3.0)
    rows, cols = np.triu_indices(64, 1)
    x[..., rows, cols] = -np.inf                        # a causal mask
    edge_rows = np.float32([[0, -np.inf, 1, 2], [np.nan, 0, 1, 2], [-np.inf] * 4,
                            [np.inf, 0, 1, 2], [0, 1, np.nan, 2], [1e30, -1e30, 0, 88]])
    for data in (x, edge_rows, x[..., :7]):
        got, want = compiled.softmax(data, data.ndim - 1), plain.softmax(data, data.ndim - 1)
        assert got.dtype == np.float32 and got.shape == data.shape
        torchs = torch.softmax(torch.from_numpy(np.ascontiguousarray(data)), -1).numpy()
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(got, torchs, rtol=1e-6, atol=1e-7)


def test_softmax_over_another_axis_uses_the_numpy_kernel(compiled, plain):
    x = _random((5, 6, 7))
    np.testing.assert_array_equal(compiled.softmax(x, 1), plain.softmax(x, 1))


# -------------------------------------------------------------------------- adam

ADAM = [dict(weight_decay=0.1, decoupled=True, amsgrad=False, maximize=False, beta1=0.9),
        dict(weight_decay=0.05, decoupled=False, amsgrad=False, maximize=True, beta1=0.9),
        dict(weight_decay=0.0, decoupled=False, amsgrad=True, maximize=False, beta1=0.3),
        dict(weight_decay=0.02, decoupled=True, amsgrad=True, maximize=True, beta1=0.6)]


@pytest.mark.parametrize("options", ADAM, ids=["adamw", "l2-maximize", "amsgrad-lerp", "all"])
def test_adam_steps_equal_the_numpy_kernels_bitwise(compiled, plain, options):
    shapes = [(40, 300), (128,), (7, 5)]

    def state(seed):
        rng = np.random.default_rng(seed)
        draw = [[rng.standard_normal(s).astype(np.float32) * k for s in shapes]
                for k in (1.0, 1.0, 0.1)]
        squares = [[np.abs(rng.standard_normal(s)).astype(np.float32) * 0.01 for s in shapes]
                   for _ in range(2)]
        if not options["amsgrad"]:
            squares[1] = None          # the frontend passes None then
        return draw + squares

    # every parameter compiled, and (default threshold) only the first one
    mixed = NumbaBackend(np, "numba-mixed", quiet=True)
    ours, partly, numpys = state(0), state(0), state(0)
    ours[1][0] = np.asfortranarray(ours[1][0])          # a strided gradient is copied first
    for step in (1, 2, 3):
        hyper = dict(options, lr=1e-2, beta2=0.99, eps=1e-6, step=step)
        compiled.adam_step(*ours, hyper)
        mixed.adam_step(*partly, hyper)
        plain.adam_step(*numpys, hyper)
    for results in (ours, partly):
        for got, want in zip(results, numpys):
            for a, b in zip(got or (), want or ()):
                np.testing.assert_array_equal(a, b)


def test_adamw_on_a_large_parameter_follows_torchs(compiled):
    rng = np.random.default_rng(3)
    w0 = rng.standard_normal((96, 128)).astype(np.float32)
    grads = [rng.standard_normal(w0.shape).astype(np.float32) for _ in range(3)]
    wt = torch.nn.Parameter(torch.tensor(w0))
    opt = torch.optim.AdamW([wt], lr=1e-2, weight_decay=0.1, foreach=False)
    p, m, v = w0.copy(), np.zeros_like(w0), np.zeros_like(w0)
    for step, g in enumerate(grads, 1):
        wt.grad = torch.tensor(g)
        opt.step()
        compiled.adam_step([p], [g], [m], [v], [None],
                           dict(lr=1e-2, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.1,
                                decoupled=True, amsgrad=False, maximize=False, step=step))
    np.testing.assert_allclose(p, wt.detach().numpy(), rtol=1e-6, atol=1e-7)


# -------------------------------------------------------------------------- index_put

def test_accumulating_row_scatter_equals_numpys_bitwise(compiled, plain):
    rng = np.random.default_rng(5)
    for shape, rows in [((65, 128), rng.integers(-65, 65, 768)), ((10, 3, 4), rng.integers(0, 10, (6, 7))),
                        ((5,), np.array([4, 4, -1, 0]))]:
        values = rng.standard_normal(rows.shape + shape[1:]).astype(np.float32)
        ours, numpys = (rng.standard_normal(shape).astype(np.float32),) * 2
        ours, numpys = ours.copy(), numpys.copy()
        compiled.index_put(ours, [rows], values, True)
        plain.index_put(numpys, [rows], values, True)
        np.testing.assert_array_equal(ours, numpys)


def test_a_row_out_of_range_raises_numpys_error_and_leaves_x_unchanged(compiled):
    x = np.zeros((4, 3), np.float32)
    with pytest.raises(IndexError):
        compiled.index_put(x, [np.array([0, 1, 4])], np.ones((3, 3), np.float32), True)
    assert not x.any()


# ------------------------------------------------------------------------- LSTM cell

def _lstm_step(backend, n=6, h=9):
    rng = np.random.default_rng(3)
    ig, hg = _random((n, 4 * h), 3.0, 4), _random((n, 4 * h), 3.0, 5)
    hg[0, :10] = (0.0, -0.0, 1e-30, -1e-30, 1e-4, -1e-4, 60.0, -60.0, 1e20, -1e20)
    ig[0, :10] = 0.0
    c = _random((n, h), 1.0, 6)
    rows = np.empty((3, n, h), np.float32)          # written buffers: rows of a larger one
    h_out, c_out, ws = rows[1], rows[2], np.empty((n, 4 * h), np.float32)
    backend.lstm_cell(ig, hg, c, h_out, c_out, ws)
    gh, gc = rng.standard_normal((2, n, h)).astype(np.float32)
    dgates = np.empty((2, n, 4 * h), np.float32)[1]
    dc = backend.lstm_cell_backward(gh, gc, c, c_out, ws, dgates)
    return [h_out.copy(), c_out.copy(), ws, dgates, dc]


def test_lstm_cell_matches_the_numpy_kernel(compiled, plain):
    got, want = _lstm_step(compiled), _lstm_step(plain)
    for g, w in zip(got, want):
        # c' = f c + i g and the gate gradients may cancel: absolute error of values ~1
        _close(g, w, ulps=8.0)


def test_lstm_layer_with_compiled_cell_matches_torch(compiled):
    """The fused layer on the numba backend (the compiled cell for every step) vs torch."""
    from plugrad.plugins import BackendSpec, hookimpl
    name = "numbalstm"

    class Plugin:
        @hookimpl
        def plugrad_backends():
            yield BackendSpec(name=name, load=lambda: compiled)
    get_registry().register(Plugin, name=name)
    try:
        res = []
        for lib, dev in ((torch, "cpu"), (plugrad, name)):
            lib.manual_seed(0)
            m = lib.nn.LSTM(8, 16, 2).to(dev)
            x = lib.tensor(_random((5, 3, 8)), device=dev, requires_grad=True)
            out, (hn, cn) = m(x)
            (out.sum() + hn.sum() * 2 + cn.sum() * 3).backward()
            res.append([t.detach().cpu().numpy() for t in (out, hn, cn, x.grad)] +
                       [p.grad.cpu().numpy() for p in m.parameters()])
    finally:
        get_registry().unregister(name)
    for g, w in zip(res[1], res[0]):
        np.testing.assert_allclose(g, w, rtol=1e-4, atol=1e-5)
