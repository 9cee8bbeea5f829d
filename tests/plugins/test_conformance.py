"""The conformance kit: built-in backends pass it; a broken backend fails it, precisely.

The broken backend is the cpu backend's implementation under another name with four ops
sabotaged (a 1% error, a wrong dtype, a wrong shape, an exception): the kit must name each.
"""
from __future__ import annotations

import itertools
import os
import subprocess
import sys

import numpy as np
import pytest
import torch  # noqa: F401  (the oracle must be installed)

from plugin_dists import make_dist
from plugrad.backends.xp import ArrayModuleBackend
from plugrad.plugins import BackendSpec, Registry, get_registry, hookimpl
from plugrad.plugins.conformance import main, run, select_cases

_ids = itertools.count()


class BrokenBackend(ArrayModuleBackend):
    """numpy with four sabotaged ops."""

    def __init__(self, xp, name):
        super().__init__(xp, name)          # binds the ufunc ops, tanh and exp among them
        self.tanh, self.exp = self._tanh, self._exp

    def _tanh(self, x, out=None):
        return np.tanh(x) * np.asarray(1.01, x.dtype)        # 1% off

    def sum(self, x, axes, keepdims):
        return np.sum(x, axis=axes, keepdims=keepdims, dtype=np.float64)   # wrong dtype

    def matmul(self, a, b):
        return np.matmul(a, b).swapaxes(-1, -2).copy()        # wrong shape

    def _exp(self, x, out=None):
        raise RuntimeError("exp kernel failed to compile")


def _plugin(name, cls=BrokenBackend):
    class Plugin:
        @hookimpl
        def plugrad_backends():
            yield BackendSpec(name=name, load=lambda: cls(np, name))
    return Plugin


@pytest.fixture
def broken_global():
    """The broken backend in the process-wide registry (the frontend phases need it)."""
    name = f"brokendev{next(_ids)}"
    get_registry().register(_plugin(name), name=name)
    try:
        yield name
    finally:
        get_registry().unregister(name)


def test_builtin_backend_passes_the_kit(device):
    # cpu: every case; accelerators: every op, fewer layouts and dtypes (CI time), and
    # `python -m plugrad conformance opencl` runs them all.
    quick = device != "cpu"
    report = run(device, quick=quick, dtypes=("bool", "int64", "float32") if quick else None)
    assert report.ok, str(report)
    assert report.counts()["pass"] > (600 if quick else 2500)
    assert {r.name for r in report.frontend} >= {"autograd matmul", "training mlp+adam"}


def test_broken_backend_fails_with_errors_per_op():
    reg = Registry()
    name = reg.register(_plugin("brokenfresh"), name="brokenfresh") and "brokenfresh"
    report = run(name, registry=reg, ops=["tanh", "sum", "matmul", "exp", "add"])
    cells = report.cells()
    assert cells[("tanh", "float32")].startswith("FAIL ")
    assert 1e-3 < float(cells[("tanh", "float32")].split()[1]) < 1e-1
    assert cells[("sum", "int64")] == "FAIL dtype"
    assert cells[("matmul", "float32")] == "FAIL shape"
    assert cells[("exp", "float64")] == "ERR"
    assert cells[("add", "float32")] == "ok"
    assert not report.ok
    text = str(report)
    assert "exp kernel failed to compile" in text and "FAILED:" in text
    assert "inputs: float32[4, 9]" in text                    # each input's dtype and shape
    assert "autograd and training were not run" in text
    (tanh,) = [r for r in report.failures if r.case.ident == "tanh-float32-contiguous"]
    assert "elements differ" in tanh.detail and "max abs error" in tanh.detail


def test_frontend_phases_catch_a_wrong_op(broken_global):
    report = run(broken_global, ops=["add"])
    by_name = {r.name: r for r in report.frontend}
    tanh = by_name["autograd tanh"]
    assert tanh.status == "fail"
    assert tanh.detail.startswith("op 'tanh': forward output at index (0, 0): received")
    assert by_name["autograd exp"].status == "error"
    assert "exp kernel failed to compile" in by_name["autograd exp"].detail
    assert "forward output shape (3, 5) float64, expected (3, 5) float32" in \
        by_name["autograd sum-dim"].detail
    assert by_name["autograd mul"].status == "pass"


def test_cli_prints_the_capability_table(capsys, broken_global):
    assert main(["cpu", "--ops", "add,matmul", "--no-frontend"]) == 0
    out = capsys.readouterr().out
    assert "backend 'cpu' against the cpu backend" in out and "PASSED" in out
    assert "matmul " in out and "add " in out
    assert main([broken_global, "--ops", "tanh", "--dtypes", "float32", "--no-frontend"]) == 1
    out = capsys.readouterr().out
    assert "FAIL" in out and "tanh-float32-contiguous" in out
    assert main(["cdua"]) == 2
    err = capsys.readouterr().err
    assert "unknown device 'cdua'" in err and "Available:" in err


def test_quick_selection_keeps_every_op_and_dtype():
    full, quick = select_cases(), select_cases(quick=True)
    assert len(quick) < 0.6 * len(full)
    assert {(c.op, c.dtype) for c in quick} == {(c.op, c.dtype) for c in full}


def test_pytest_plugin_on_an_installed_third_party_backend(tmp_path):
    """``pytest --plugrad-backend NAME`` in a fresh process, the backend installed only as a
    distribution with an entry point, like a user's."""
    source = """
        import numpy as np
        from plugrad.plugins import BackendSpec, hookimpl
        from plugrad.backends.xp import ArrayModuleBackend

        class Backend(ArrayModuleBackend):
            def __init__(self, xp, name):
                super().__init__(xp, name)
                self.tanh = lambda x, out=None: np.tanh(x) * np.asarray(1.01, x.dtype)

        @hookimpl
        def plugrad_backends():
            yield BackendSpec(name="kitdev", load=lambda: Backend(np, "kitdev"))
    """
    root = make_dist(tmp_path / "site", "plugrad-kitdev", "0.4", {"kitdev": "kitdev_plugin"},
                     {"kitdev_plugin": source})
    env = dict(os.environ, PYTHONPATH=f"{root}{os.pathsep}{os.environ.get('PYTHONPATH', '')}")
    # no -p: plugrad's pytest11 entry point loads the plugin (issue 17.3)
    cmd = [sys.executable, "-m", "pytest",
           "--plugrad-backend", "kitdev", "-q", "-p", "no:cacheprovider",
           "-k", "tanh-float32-contiguous or exp-float32-contiguous or training"]
    proc = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=300)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    assert "FAILED" in out and "tanh-float32-contiguous" in out
    assert "plugrad conformance: kitdev" in out               # the capability table
    assert "3 failed, 1 passed" in out                        # tanh, and training through it
    assert "training mlp+sgd: loss at step" in out


def test_pytest_plugin_by_entry_point_and_by_dash_p_at_once(tmp_path):
    """The README's older ``-p`` form on top of the entry point registers nothing twice."""
    cmd = [sys.executable, "-m", "pytest", "-p", "plugrad.plugins.conformance.pytest_plugin",
           "--plugrad-backend", "cpu", "-q", "-p", "no:cacheprovider",
           "-k", "exp-float32-contiguous"]
    proc = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert "1 passed" in out and "plugrad conformance: cpu" in out


class ClampingBackend(ArrayModuleBackend):
    """numpy, but float -> int casts saturate (as XLA does) and half scans stay in half."""

    def cast(self, x, dtype):
        if x.dtype.kind == "f" and np.dtype(dtype).kind in "iu":
            info = np.iinfo(dtype)
            with np.errstate(invalid="ignore"):
                clamped = np.clip(np.nan_to_num(x.astype(np.float64), nan=0.0),
                                  info.min, info.max)
            return clamped.astype(dtype)
        return x.astype(dtype)

    def cumsum(self, x, axis):
        return np.cumsum(x, axis=axis, dtype=x.dtype)            # float16 accumulation


def test_kit_defines_out_of_range_casts_half_scans_and_0d_nonzero():
    # issue 17.5: the kit had no case for any of these
    reg = Registry()
    name = f"clampdev{next(_ids)}"
    reg.register(_plugin(name, ClampingBackend), name=name)
    report = run(name, registry=reg, ops=["cast", "cumsum", "nonzero"], frontend=False)
    cells = {r.case.ident: r.status for r in report.results}
    # saturating is one of the unspecified results the contract allows
    assert cells["cast-float32-to-int8-out-of-range"] == "pass"
    assert cells["cast-float64-to-int64-out-of-range"] == "pass"
    assert cells["cumsum-float16-long-4096"] == "fail"            # stalls at 128
    assert cells["nonzero-int64-0-d"] == cells["nonzero-float32-0-d-zero"] == "pass"
    assert [r.case.ident for r in report.failures] == ["cumsum-float16-long-4096"]
