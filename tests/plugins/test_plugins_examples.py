"""The out-of-tree examples under plugins/examples/: each is a separate distribution that
plugrad finds only through the entry point its own pyproject.toml declares.

When an example is pip-installed (CI's .ci/run installs plugrad-torchcpu) the installed
distribution is used; otherwise the test writes the ``.dist-info`` pip would write, from the
example's pyproject.toml, so the same entry-point path is exercised.
"""
from __future__ import annotations

import importlib.metadata as metadata
import sys
import tomllib
from pathlib import Path

import numpy as np
import pytest
import torch

import plugrad
from plugin_dists import make_dist
from plugrad.plugins import Registry, get_registry
from plugrad.plugins.conformance import run, select_cases
from plugrad.plugins.conformance.harness import run_cases
from plugrad.plugins.info import info_table

EXAMPLES = Path(__file__).resolve().parents[2] / "plugins" / "examples"


def _installed(dist):
    try:
        return metadata.distribution(dist)
    except metadata.PackageNotFoundError:
        return None


def _expose(example, tmp_path, monkeypatch):
    """Make an example discoverable as pip would: its src/ importable plus a dist-info with
    the entry points of its pyproject.toml. Returns (distribution name, version)."""
    project = tomllib.loads((EXAMPLES / example / "pyproject.toml").read_text())["project"]
    name, version = project["name"], project["version"]
    if _installed(name) is None:
        eps = project["entry-points"]["plugrad.backends"]
        monkeypatch.syspath_prepend(str(EXAMPLES / example / "src"))
        monkeypatch.syspath_prepend(str(make_dist(tmp_path / example, name, version, eps)))
    return name, version


@pytest.fixture
def torchcpu(tmp_path, monkeypatch):
    """The torchcpu backend in the process-wide registry (the frontend needs that one)."""
    _expose("plugrad-torchcpu", tmp_path, monkeypatch)
    registry = get_registry()
    if "torchcpu" in {e.name for e in registry.entries()}:
        yield "torchcpu"
        return
    import plugrad_torchcpu
    registry.register(plugrad_torchcpu, name="torchcpu", distribution="plugrad-torchcpu")
    try:
        yield "torchcpu"
    finally:
        registry.unregister("torchcpu")


def test_torchcpu_registers_solely_through_its_entry_point(tmp_path, monkeypatch):
    dist, version = _expose("plugrad-torchcpu", tmp_path, monkeypatch)
    reg = Registry()
    entry = reg.backend("torchcpu")
    assert entry.provider.distribution == dist and entry.provider.version == version
    assert entry.provider.plugin_name == "torchcpu"
    assert type(reg.table("torchcpu").impl).__module__ == "plugrad_torchcpu.backend"
    text = info_table(reg)
    assert "torchcpu" in text and f"{dist} {version}" in text


def test_torchcpu_passes_the_conformance_kit(torchcpu):
    report = run(torchcpu)
    assert report.ok, str(report)
    cells = report.cells()
    assert cells[("matmul", "float32")] == "ok" and cells[("sgd_step", "float32")] == "miss"
    assert report.counts()["pass"] > 2500


def test_torchcpu_tensors_behave_like_torch(torchcpu):
    x = plugrad.tensor([[1.0, -2.0], [0.5, 4.0]], device=torchcpu, requires_grad=True)
    y = (x.tanh() @ x).sum()
    y.backward()
    assert isinstance(x._data, torch.Tensor) and x.device == plugrad.device("torchcpu:0")
    xt = torch.tensor([[1.0, -2.0], [0.5, 4.0]], requires_grad=True)
    (xt.tanh() @ xt).sum().backward()
    np.testing.assert_allclose(y.item(), (xt.tanh() @ xt).sum().item(), rtol=1e-6)
    np.testing.assert_allclose(x.grad.cpu().numpy(), xt.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_kernel_plugin_overrides_cpu_erf_and_shows_in_info(tmp_path, monkeypatch):
    pytest.importorskip("scipy", reason="the plugrad-scipy-erf example needs scipy")
    dist, version = _expose("plugrad-scipy-erf", tmp_path, monkeypatch)
    reg = Registry()
    table = reg.table("cpu")
    import plugrad_scipy_erf
    assert table.erf.__wrapped__ is plugrad_scipy_erf.erf    # behind the cheap result check
    assert table.overridden == {"erf": "scipy_erf"}
    assert (f"cpu.erf (primitive) from plugin 'scipy_erf' (distribution {dist} {version}): "
            "active") in info_table(reg)
    # the replacement agrees with the built-in erf over the kit's erf cases...
    native = get_registry().table("cpu")
    results = run_cases(table, native, select_cases(ops=["erf"]))
    assert {r.status for r in results} == {"pass"}, [r.message() for r in results]
    # ...and with torch
    x = np.linspace(-4, 4, 101, dtype=np.float32)
    np.testing.assert_allclose(table.erf(x), torch.erf(torch.from_numpy(x)).numpy(),
                               rtol=2e-6, atol=1e-7)
    assert sys.modules["plugrad_scipy_erf"] is plugrad_scipy_erf
