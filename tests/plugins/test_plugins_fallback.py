"""Fallback: an op a backend lacks runs on the cpu backend, with a one-time warning.

The backend here is the cpu backend's own array-module implementation under another device
name, with four primitives removed -- registered in the process-wide registry for the test
(the frontend only uses that one) and unregistered afterwards.
"""
from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest
import torch

import plugrad
from plugrad.backends.xp import ArrayModuleBackend
from plugrad.plugins import BackendSpec, fallback_report, get_registry, hookimpl
from plugrad.plugins.conformance import run

LACKING = ("erf", "sort", "index_put", "cumsum")
_ids = itertools.count()


class LackingBackend(ArrayModuleBackend):
    """numpy, minus four primitives."""
    erf = sort = index_put = cumsum = None


@pytest.fixture
def lackdev():
    name = f"lackdev{next(_ids)}"

    class Plugin:
        @hookimpl
        def plugrad_backends():
            yield BackendSpec(name=name, load=lambda: LackingBackend(np, name))
    registry = get_registry()
    registry.register(Plugin, name=name)
    try:
        yield name
    finally:
        registry.unregister(name)


def test_missing_ops_run_on_cpu_with_one_warning_each(lackdev, monkeypatch):
    monkeypatch.delenv("PLUGRAD_STRICT_BACKEND", raising=False)
    values = [0.5, -1.25, 2.0, 0.0]
    x = plugrad.tensor(values, device=lackdev)
    with pytest.warns(RuntimeWarning) as record:
        y = plugrad.erf(x)
    messages = [str(w.message) for w in record if lackdev in str(w.message)]
    assert messages == [f"plugrad: backend '{lackdev}' does not implement 'erf'; it runs on "
                        "the cpu backend with copies in and out (set PLUGRAD_STRICT_BACKEND=1 "
                        "to make this an error)"]
    assert y.device.type == lackdev
    np.testing.assert_allclose(y.cpu().numpy(), torch.erf(torch.tensor(values)).numpy(),
                               rtol=1e-6)
    with warnings.catch_warnings():
        warnings.simplefilter("error")                 # the second call does not warn
        plugrad.erf(x)
    assert fallback_report()[f"{lackdev}.erf"] == 2


def test_fallback_results_stay_on_the_device_and_in_place_ops_write_back(lackdev):
    data = [3.0, 1.0, 2.0, 1.0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        x = plugrad.tensor(data, device=lackdev)
        values, indices = plugrad.sort(x)
        c = x.cumsum(0)
        view = x[1:]                                   # index_put into a view of x
        view[plugrad.tensor([0, 2], device=lackdev)] = 9.0
    want_v, want_i = torch.sort(torch.tensor(data))
    assert values.device.type == lackdev and indices.dtype == plugrad.int64
    np.testing.assert_array_equal(values.cpu().numpy(), want_v.numpy())
    np.testing.assert_array_equal(indices.cpu().numpy(), want_i.numpy())
    np.testing.assert_array_equal(c.cpu().numpy(), np.cumsum(data))
    np.testing.assert_array_equal(x.cpu().numpy(), [3.0, 9.0, 2.0, 9.0])
    report = fallback_report()
    assert {f"{lackdev}.sort", f"{lackdev}.cumsum", f"{lackdev}.index_put"} <= set(report)


def test_strict_backend_turns_fallback_into_an_error(lackdev, monkeypatch):
    monkeypatch.setenv("PLUGRAD_STRICT_BACKEND", "1")
    x = plugrad.tensor([0.5], device=lackdev)
    with pytest.raises(RuntimeError, match=rf"backend '{lackdev}' does not implement 'erf' "
                                           "and PLUGRAD_STRICT_BACKEND=1 forbids"):
        plugrad.erf(x)


def test_supports_and_the_kit_call_missing_ops_missing(lackdev):
    assert not plugrad.plugins.supports(lackdev, "erf", "float32")
    assert plugrad.plugins.supports(lackdev, "exp", plugrad.float32)
    report = run(lackdev, ops=list(LACKING) + ["exp"], frontend=False)
    cells = report.cells()
    assert {cells[(op, "float32")] for op in ("erf", "sort", "cumsum")} == {"miss"}
    assert cells[("exp", "float32")] == "ok" and report.ok


class NoLog1pBackend(ArrayModuleBackend):
    """numpy without log1p, which softplus's forward and backward need."""
    log1p = None

    def __init__(self, xp, name):
        super().__init__(xp, name)
        del self.log1p                 # the ufunc bound on the instance; the class says None


class NoSliceBackend(ArrayModuleBackend):
    """numpy without the slice view."""
    slice = None


def _register(backend_class):
    name = f"{backend_class.__name__.lower()}{next(_ids)}"

    class Plugin:
        @hookimpl
        def plugrad_backends():
            yield BackendSpec(name=name, load=lambda: backend_class(np, name))
    get_registry().register(Plugin, name=name)
    return name


def test_fallback_inside_plugrad_warns_with_its_own_category_at_the_users_line(monkeypatch):
    # issue 17.1: a fallback reached inside nn.functional and backward used to be swallowed
    monkeypatch.delenv("PLUGRAD_STRICT_BACKEND", raising=False)
    name = _register(NoLog1pBackend)
    try:
        x = plugrad.tensor([0.5, -2.0, 30.0], device=name, requires_grad=True)
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("default")
            plugrad.nn.functional.softplus(x).sum().backward()
        hits = [w for w in record if issubclass(w.category, plugrad.plugins.FallbackWarning)]
        assert len(hits) == 1 and f"backend '{name}' does not implement 'log1p'" in \
            str(hits[0].message)
        assert hits[0].filename == __file__                # the user's line, not plugrad's
        assert issubclass(plugrad.plugins.FallbackWarning, RuntimeWarning)
        assert fallback_report()[f"{name}.log1p"] >= 1
        t = torch.tensor([0.5, -2.0, 30.0], requires_grad=True)
        torch.nn.functional.softplus(t).sum().backward()
        np.testing.assert_allclose(x.grad.cpu().numpy(), t.grad.numpy(), rtol=1e-6)
    finally:
        get_registry().unregister(name)


def test_a_backend_without_a_view_primitive_is_rejected_not_silently_copied():
    # issue 17.2: slice through a cpu copy made x[1] = 5 a no-op
    name = _register(NoSliceBackend)
    try:
        with pytest.raises(plugrad.plugins.PluginError,
                           match=rf"backend '{name}' lacks view primitives: slice\. Views "
                                 r"\(reshape, permute, expand, slice\) cannot run on the cpu"):
            plugrad.zeros(3, device=name)
        assert fallback_report().get(f"{name}.slice") is None
        with pytest.raises(RuntimeError, match="lacks view primitives"):
            plugrad.zeros(3, device=name)                  # still rejected, not half-loaded
    finally:
        get_registry().unregister(name)


def test_views_of_a_real_backend_write_through(lackdev):
    x = plugrad.zeros(3, 4, device=lackdev)
    x[1] = 5
    x[:, 2].fill_(7)
    x.permute(1, 0)[0, 2] = 3
    want = torch.zeros(3, 4)
    want[1] = 5
    want[:, 2].fill_(7)
    want.permute(1, 0)[0, 2] = 3
    np.testing.assert_array_equal(x.cpu().numpy(), want.numpy())
