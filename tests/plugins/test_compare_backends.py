"""plugrad.testing.compare_backends: per-output and per-gradient differences across devices,
and (with trace=True) the first primitive whose result diverged.

Deliberately wrong backends here are the cpu backend's implementation under another name
with one op sabotaged, registered in the process-wide registry for the test only.
"""
from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch  # noqa: F401  (the oracle must be installed)

import plugrad
from plugrad.backends.xp import ArrayModuleBackend
from plugrad.plugins import BackendSpec, get_registry, hookimpl
from plugrad.testing import compare_backends

_ids = itertools.count()


def _register(make_backend):
    name = f"cmpdev{next(_ids)}"

    class Plugin:
        @hookimpl
        def plugrad_backends():
            yield BackendSpec(name=name, load=lambda: make_backend(name))
    get_registry().register(Plugin, name=name)
    return name


@pytest.fixture
def backend_with():
    """backend_with(tanh=..., ...) -> device name of numpy with those ops replaced."""
    names = []

    def make(**ops):
        def build(name):
            b = ArrayModuleBackend(np, name)
            for op, fn in ops.items():
                setattr(b, op, fn)
            return b
        names.append(_register(build))
        return names[-1]
    yield make
    for name in names:
        get_registry().unregister(name)


def _model():
    plugrad.manual_seed(0)
    return plugrad.nn.Sequential(plugrad.nn.Linear(4, 8), plugrad.nn.Tanh(),
                                 plugrad.nn.Linear(8, 3))


def _tanh_off(x, out=None):
    return np.tanh(x) * np.asarray(1.01, x.dtype)


def test_builtin_backends_agree_with_cpu(device):
    x = plugrad.randn(6, 4, requires_grad=True)
    report = compare_backends(_model(), x, devices=["cpu", device], trace=True)
    assert report.ok, str(report)
    assert set(report.rows) == {"output", "grad input[0]", "grad 0.weight", "grad 0.bias",
                                "grad 2.weight", "grad 2.bias"}
    assert report.max_abs("grad 0.weight") < 1e-5 and not report.divergences
    assert x.grad is None                          # the caller's tensors are left alone


def test_a_wrong_primitive_is_located(backend_with):
    bad = backend_with(tanh=_tanh_off)
    x = plugrad.randn(5, 4, requires_grad=True)
    report = compare_backends(lambda a: (a * 2).sum(1).tanh().exp(), x,
                              devices=["cpu", bad], trace=True)
    assert not report.ok
    assert 1e-3 < report.max_abs("output") < 1.0
    (div,) = report.divergences
    assert div.op == "tanh" and div.device == f"{bad}:0"
    assert "test_compare_backends.py" in div.where and "in <lambda>" in div.where
    assert 0.009 < div.max_rel < 0.011
    text = str(report)
    assert "FAIL" in text and "first divergent primitive" in text and "'tanh'" in text
    with pytest.raises(AssertionError, match="tanh"):
        report.assert_close()


def test_divergence_is_found_when_backends_issue_different_kernels(backend_with):
    # no native matmul (the frontend composes it from mul+sum) and a wrong exp after it
    bad = backend_with(matmul=None, exp=lambda x, out=None: np.exp(x) * np.asarray(1.02, x.dtype))
    a = plugrad.randn(3, 4, requires_grad=True)
    b = plugrad.randn(4, 2)
    report = compare_backends(lambda a, b: (a @ b).exp(), a, b, devices=["cpu", bad],
                              trace=True)
    (div,) = report.divergences
    assert div.op == "exp" and div.call != div.ref_call       # aligned across sequences


def test_dtype_mismatch_is_reported(backend_with):
    bad = backend_with(sum=lambda x, axes, keepdims: np.sum(x, axis=axes, keepdims=keepdims,
                                                           dtype=np.float64))
    report = compare_backends(lambda a: a.sum(0), plugrad.ones(3, 2), devices=["cpu", bad])
    (diff,) = report.rows["output"]
    assert not diff.ok and diff.problem == "float64[2] vs float32[2]"


def test_tables_are_restored_even_when_fn_raises(backend_with):
    name = backend_with()
    ops = get_registry().table(name)
    before = {op: getattr(ops, op) for op in ("add", "tanh", "matmul", "from_host")}

    def boom(a):
        a.tanh()
        raise ValueError("model failed")
    with pytest.raises(ValueError, match="model failed"):
        compare_backends(boom, plugrad.ones(2), devices=["cpu", name], trace=True)
    assert {op: getattr(ops, op) for op in before} == before
    assert plugrad.tensor([1.0], device=name).tanh().item() == pytest.approx(np.tanh(1.0))


def test_outputs_in_containers_and_non_tensor_arguments():
    def fn(x, scale):
        return {"double": x * scale, "parts": (x.sum(), x.amax())}
    report = compare_backends(fn, plugrad.arange(6.0).reshape(2, 3), 2.0,
                              devices=["cpu", "cpu"])
    assert set(report.rows) == {"output[double]", "output[parts][0]", "output[parts][1]"}
    assert report.ok and report.max_abs("output[double]") == 0.0
