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
