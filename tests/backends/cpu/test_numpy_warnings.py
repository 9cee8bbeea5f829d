"""The cpu backend prints none of numpy's floating-point warnings (torch prints none).

Issue 17.8: ``plugrad.log(plugrad.tensor([0., -1.]))`` said "divide by zero encountered in
log". The backend now turns numpy's warnings off inside its own calls only, so the checks
hold under ``simplefilter("error")`` and users' own numpy still warns.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import plugrad

CASES = [
    ("log", lambda T: T.log(T.tensor([0.0, -1.0, 2.0]))),
    ("div by zero", lambda T: T.tensor([1.0, 0.0, -1.0]) / 0),
    ("rdiv by zero", lambda T: 1 / T.tensor([0.0, 2.0])),
    ("inf - inf", lambda T: T.tensor([float("inf")]) - float("inf")),
    ("exp overflow", lambda T: T.exp(T.tensor([1000.0]))),
    ("sqrt of negative", lambda T: T.sqrt(T.tensor([-1.0]))),
    ("to float16", lambda T: T.tensor([1e30]).half()),
    ("float16 sum", lambda T: T.full((4,), 60000.0, dtype=T.float16).sum()),
    ("asin out of domain", lambda T: T.asin(T.tensor([2.0]))),
    ("pow overflow", lambda T: T.tensor([1e30]) ** 4),
    ("softplus grad", lambda T: _softplus_grad(T)),
    ("log_softmax of inf", lambda T: T.log_softmax(T.tensor([float("inf"), 0.0]), 0)),
    ("setitem overflow", lambda T: _setitem(T)),
    ("compare half with a huge float", lambda T: T.zeros(2, dtype=T.float16) < 1e30),
    ("half equals a huge float", lambda T: T.zeros(2, dtype=T.float16).eq(-1e30)),
    ("where with a huge float", lambda T: T.where(T.tensor([True, False]),
                                                  T.zeros(2, dtype=T.float16), 1e30)),
]


def _setitem(T):
    x = T.zeros(3, dtype=T.float16)
    x[0] = 1e30                         # torch: inf, no error (full/fill_ raise instead)
    return x


def _softplus_grad(T):
    x = T.tensor([-1e30, 0.0, 1e30], requires_grad=True)
    T.nn.functional.softplus(x, beta=1e10).sum().backward()
    return x.grad


@pytest.mark.parametrize("name,fn", CASES, ids=[c[0] for c in CASES])
def test_no_numpy_warning_and_torchs_values(name, fn):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = fn(plugrad)
        want = fn(torch)
    np.testing.assert_allclose(got.numpy().astype(np.float64),
                               want.detach().numpy().astype(np.float64), rtol=1e-6)


def test_users_numpy_still_warns():
    plugrad.log(plugrad.tensor([0.0]))
    with pytest.warns(RuntimeWarning, match="divide by zero"):
        np.log(np.zeros(1))


def _backend_module(name):
    import importlib
    return importlib.import_module(f"{plugrad.__name__}.backends.xp.{name}")


def test_an_op_reentered_from_itself_is_still_quiet():
    # each wrapped op runs in its own prepared context, which cannot be entered twice: the
    # inner call must fall back to setting the error state, not raise RuntimeError
    quiet = _backend_module("quiet").quiet
    depth = []

    def log_twice(x, *, again=True):
        depth.append(1)
        inner = wrapped(x, again=False) if again else None
        return np.log(x), inner

    wrapped = quiet(log_twice)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        outer, (inner, _) = wrapped(np.zeros(2))
    assert len(depth) == 2 and np.isneginf(outer).all() and np.isneginf(inner).all()


def test_a_runtime_error_from_the_op_itself_is_not_swallowed():
    quiet = _backend_module("quiet").quiet

    def fails(x):
        raise RuntimeError("cannot enter context: not ours")

    with pytest.raises(RuntimeError, match="not ours"):
        quiet(fails)(1)


def test_threads_running_the_same_op_at_once_stay_quiet():
    # numpy releases the GIL inside a large ufunc loop, so two threads can be inside the same
    # op's context at once; the second falls back instead of failing
    import threading
    x = plugrad.zeros(1 << 20)
    errors, results = [], []
    barrier = threading.Barrier(4)

    def work():
        try:
            barrier.wait()
            for _ in range(20):
                results.append(bool(plugrad.log(x).isneginf().all()))
                results.append(bool(((x / x).isnan()).all()))
        except BaseException as error:   # noqa: BLE001 - reported below
            errors.append(error)

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        threads = [threading.Thread(target=work) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert errors == [] and len(results) == 160 and all(results)


def test_a_method_wrapper_keeps_the_signature():
    import inspect
    quiet = _backend_module("quiet").quiet

    def op(x, axes, keepdims=False, *, dtype=None):
        return x, axes, keepdims, dtype

    wrapped = quiet(op)
    assert str(inspect.signature(wrapped)) == str(inspect.signature(op))
    assert wrapped(1, (0,), dtype="f") == (1, (0,), False, "f")
    with pytest.raises(TypeError):
        wrapped(1, (0,), True, "f")
