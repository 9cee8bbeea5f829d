"""The cuda backend's Python glue run without a GPU, on tests/support/cupy_standin.py.

``CupyBackend`` (the real class) is handed the stand-in instead of CuPy; its ElementwiseKernels
run their own CUDA bodies through g++. What this checks: that each op launches the kernels
it means to with arguments CuPy would accept (dtypes, raw/contiguous arrays, argument
order), and that the deferred index errors are raised at the next read and then cleared.
What it cannot check: CuPy's own kernels and numerics, raw modules, cuBLAS -- those run
only on a GPU (benchmarks/gpu/run.sh).
"""
from __future__ import annotations

import numpy as np
import pytest

import cuda_host as H
import cupy_standin as S
from plugrad.backends.cupy.backend import CupyBackend

DEFERRED = r"index was out of bounds in an earlier op"


@pytest.fixture(scope="module")
def be(tmp_path_factory):
    if H.gxx is None:
        pytest.skip("g++ not installed")
    S.ElementwiseKernel.folder = tmp_path_factory.mktemp("standin")
    return CupyBackend(S.StandinCupy())


def _dev(a):
    return np.asarray(a).view(S.Array)


def test_the_standin_refuses_out_ellipsis_like_cupy(be):
    with pytest.raises(TypeError, match="ellipsis"):
        be.cupy.isinf(_dev([1.0]), out=...)
    x = _dev(np.array([1.0, np.inf, -np.inf, np.nan], np.float32))
    np.testing.assert_array_equal(be.isinf(x), [False, True, True, False])


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
@pytest.mark.parametrize("op, ufunc", [("floordiv", np.floor_divide),
                                       ("remainder", np.remainder)])
def test_float_divmod_runs_the_numpy_algorithm_kernel(be, dtype, op, ufunc):
    a = np.array([5.0, -5.0, np.inf, 7.5, -0.0, 3.0], dtype)
    b = np.array([np.inf, np.inf, 1.5, -2.0, 3.0, 0.0], dtype)
    with np.errstate(all="ignore"):
        for left, right in [(a, b), (a, 1.5), (2.5, b)]:
            want = ufunc(left, right)
            got = getattr(be, op)(*(_dev(v) if isinstance(v, np.ndarray) else v
                                    for v in (left, right)))
            assert got.dtype == want.dtype
            np.testing.assert_array_equal(np.asarray(got), want)
            out = _dev(np.empty(want.shape, dtype))
            assert getattr(be, op)(*(_dev(v) if isinstance(v, np.ndarray) else v
                                     for v in (left, right)), out) is out
            np.testing.assert_array_equal(np.asarray(out), want)


@pytest.mark.parametrize("dtype", ["int32", "int64"])
def test_integer_divmod_stays_with_cupys_ufuncs_and_defers_zero_division(be, dtype):
    a, b = _dev(np.array([7, -7], dtype)), _dev(np.array([2, 2], dtype))
    np.testing.assert_array_equal(be.floordiv(a, b), [3, -4])
    np.testing.assert_array_equal(be.remainder(a, b), [1, 1])
    be.synchronize(0)
    got = be.remainder(a, _dev(np.array([0, 2], dtype)))
    with pytest.raises(RuntimeError, match="^ZeroDivisionError: an integer division"):
        be.to_host(got)
    be.floordiv(a, 3)                                   # a Python divisor: the frontend's
    be.synchronize(0)
    be.index(_dev(np.ones((2, 2))), [_dev(np.array([5]))])
    be.floordiv(a, _dev(np.zeros(2, dtype)))
    with pytest.raises(RuntimeError, match="ZeroDivisionError.*Also: cuda:0: an index"):
        be.synchronize(0)


def test_deferred_errors_belong_to_their_thread(be):
    import threading
    x = _dev(np.ones((2, 2)))
    done = []
    thread = threading.Thread(target=lambda: done.append(be.index(x, [_dev(np.array([9]))])))
    thread.start()
    thread.join()
    be.synchronize(0)                                   # this thread saw no error
    be.to_host(x)
    errors = []

    def other():
        be.index(x, [_dev(np.array([9]))])
        try:
            be.synchronize(0)
        except RuntimeError as exc:
            errors.append(str(exc))
    thread = threading.Thread(target=other)
    thread.start()
    thread.join()
    assert len(errors) == 1 and "out of bounds" in errors[0]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_index_reads_rows_and_defers_out_of_range(be, dtype):
    x = _dev(np.arange(24, dtype=dtype).reshape(4, 3, 2))
    i, j = _dev(np.array([[0], [3]])), _dev(np.array([2, 0, 1]))
    np.testing.assert_array_equal(be.index(x, [i, j]), np.asarray(x)[np.asarray(i),
                                                                       np.asarray(j)])
    np.testing.assert_array_equal(be.index(x[:, 1], [i]), np.asarray(x)[:, 1][np.asarray(i)])
    be.to_host(x)                                            # nothing pending
    got = be.index(x, [_dev(np.array([1, 4, -1]))])          # after the frontend's wrap
    with pytest.raises(RuntimeError, match=DEFERRED):
        be.to_host(got)
    np.testing.assert_array_equal(be.to_host(got)[1:], 0)    # read 0; the flag was reset
    be.synchronize(0)


@pytest.mark.parametrize("accumulate", [False, True])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_index_put_skips_out_of_range_writes(be, dtype, accumulate):
    x = _dev(np.zeros((5, 2), dtype))
    idx = _dev(np.array([1, 4, 1]))
    vals = _dev(np.arange(6, dtype=dtype).reshape(3, 2) + 1)
    be.index_put(x, [idx], vals, accumulate)
    want = np.zeros((5, 2), dtype)
    if accumulate:
        np.add.at(want, np.asarray(idx), np.asarray(vals))
    else:
        want[np.asarray(idx)] = np.asarray(vals)
    np.testing.assert_array_equal(be.to_host(x), want)
    be.index_put(x, [_dev(np.array([7, 0]))], 2.5, accumulate)      # a scalar value
    with pytest.raises(RuntimeError, match=DEFERRED):
        be.synchronize(0)
    want[0] = want[0] + 2.5 if accumulate else 2.5
    np.testing.assert_array_equal(be.to_host(x), want)
    strided = _dev(np.zeros((2, 6), dtype))[:, ::2]                  # written back
    be.index_put(strided, [_dev(np.array([1]))], 1.0, accumulate)
    np.testing.assert_array_equal(be.to_host(strided), [[0, 0, 0], [1, 1, 1]])
    be.index_put(x, [_dev(np.zeros(0, np.int64))], 1.0, accumulate)  # empty: nothing


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_cross_entropy_backward_flags_an_out_of_range_target(be, dtype, monkeypatch):
    # the row softmax is a raw (warp-shuffle) kernel: the composed one stands in for it here
    monkeypatch.setattr(be, "_softmax", lambda x, axis, log_mode: _dev(
        _numpy_backend().softmax(np.asarray(x), axis)))
    rng = np.random.default_rng(0)
    x = _dev(rng.standard_normal((3, 4)).astype(dtype))
    lse = _dev(np.log(np.exp(np.asarray(x, np.float64)).sum(1)).astype(dtype))
    g = _dev(np.ones(3, dtype))
    target = _dev(np.array([1, -100, 2]))
    grad = be.cross_entropy_backward(g, x, target, lse, -100)
    be.to_host(grad)
    want = np.exp(np.asarray(x) - np.asarray(lse)[:, None])
    want[[0, 2], [1, 2]] -= 1
    want[1] = 0
    np.testing.assert_allclose(np.asarray(grad), want, rtol=1e-6, atol=1e-7)
    be.cross_entropy_backward(g, x, _dev(np.array([1, 4, 2])), lse, -100)
    with pytest.raises(RuntimeError, match=DEFERRED):
        be.synchronize(0)


def test_float16_cross_entropy_checks_targets_in_a_kernel(be):
    x = _dev(np.array([[1.0, 2.0, 0.5], [0.0, 0.0, 0.0]], np.float16))
    loss, lse = be.cross_entropy(x, _dev(np.array([1, 3])), -100)
    with pytest.raises(RuntimeError, match=DEFERRED):
        be.to_host(loss)
    assert np.asarray(loss)[1] == np.asarray(lse)[1]          # the picked logit read as 0
    grad = be.cross_entropy_backward(_dev(np.ones(2, np.float16)), x,
                                     _dev(np.array([1, 3])), lse, -100)
    with pytest.raises(RuntimeError, match=DEFERRED):
        be.synchronize(0)
    np.testing.assert_allclose(np.asarray(grad)[1], np.full(3, 1 / 3), rtol=1e-3)


@pytest.mark.parametrize("act", ["none", "relu", "gelu"])
def test_fused_epilogues_and_sigmoid_launch(be, act):
    rng = np.random.default_rng(1)
    m1, m2 = rng.standard_normal((3, 4)), rng.standard_normal((4, 5))
    bias = rng.standard_normal(5)
    got = np.asarray(be.addmm_act(_dev(bias), _dev(m1), _dev(m2), act))
    np.testing.assert_allclose(got, _numpy_backend().addmm_act(bias, m1, m2, act),
                               rtol=1e-12, atol=1e-12)
    x = _dev(np.array([-800.0, 0.0, 3.0], np.float32))
    with np.errstate(over="ignore"):
        want = 1 / (1 + np.exp(-np.asarray(x)))
    np.testing.assert_allclose(np.asarray(be.sigmoid(x)), want, rtol=1e-6)


def _numpy_backend():
    from plugrad.plugins import get_registry
    return get_registry().table("cpu").impl


def test_casts_to_small_integers_go_through_int64(be):
    """(numpy wraps as torch does either way: this checks the path runs, not CUDA's
    saturation, which only a GPU shows)"""
    x = _dev(np.array([-1.0, 300.0, 2.7], np.float32))
    got = be.cast(x, "uint8")
    assert got.dtype == np.uint8
    np.testing.assert_array_equal(np.asarray(got), [255, 44, 2])     # torch's values


def test_matmul_keeps_cupy_for_what_cublas_does_not_get(be):
    a, b = _dev(np.ones((2, 3), np.float32)), _dev(np.ones((3, 4), np.float32))
    np.testing.assert_array_equal(np.asarray(be.matmul(a, b)), np.full((2, 4), 3.0))
    ai, bi = _dev(np.ones((2, 2, 3), np.int64)), _dev(np.ones((2, 3, 4), np.int64))
    np.testing.assert_array_equal(np.asarray(be.matmul(ai, bi)), np.full((2, 2, 4), 3))


@pytest.mark.parametrize("dtype", ["int64", "int32", "int8", "bool"])
def test_index_put_accumulate_of_integers_uses_the_atomic_forms(be, dtype):
    """int64 adds as uint64 (two's complement), int32 directly, narrower ints and bool in an
    int32 copy: the atomicAdd forms CUDA has."""
    x = _dev(np.zeros(3, dtype))
    idx = _dev(np.array([0, 2, 0, 9]))
    vals = _dev(np.array([-1, 5, 3, 7]).astype(dtype))
    be.index_put(x, [idx], vals, True)
    with pytest.raises(RuntimeError, match=DEFERRED):
        be.synchronize(0)
    want = np.zeros(3, dtype)
    np.add.at(want, [0, 2, 0], np.asarray(vals)[:3])
    np.testing.assert_array_equal(be.to_host(x), want)
    np.testing.assert_array_equal(be.index(x, [_dev(np.array([2, 0]))]), want[[2, 0]])
