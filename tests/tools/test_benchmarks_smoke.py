"""The benchmarks run: asv suites on the cpu backend and a third-party one, and the comparison
table of ``python -m plugrad bench --compare``. Nothing here asserts a speed.

CI also runs the real asv smoke (``asv run --python=same --quick``); these tests keep the
suites honest under plain pytest: every benchmark body runs once, unavailable backends are
n/a (NotImplementedError in setup), and a backend registered by a third party becomes a line.
"""
from __future__ import annotations

import inspect
import io
import itertools
import os
import re
import sys
from contextlib import redirect_stdout
from pathlib import Path

import numpy
import pytest
import torch  # noqa: F401  (the comparison's PyTorch columns need it installed)

from plugrad import _bench
from plugrad import _bench_workloads
from plugrad._bench_workloads import workloads
from plugrad.backends.xp import ArrayModuleBackend
from plugrad.plugins import BackendSpec, get_registry, hookimpl

_env = dict(os.environ)  # the suites pin BLAS threads for asv; leave this process's env alone
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from benchmarks import (bench_memory, bench_ops, bench_overhead, bench_training,  # noqa: E402
                        bench_vs_torch, common)
os.environ.clear()
os.environ.update(_env)

SUITES = (bench_ops, bench_overhead, bench_training, bench_memory, bench_vs_torch)
PREFIXES = ("time_", "track_", "peakmem_", "mem_")


def _plugin(name, available=True):
    class Plugin:
        @staticmethod
        @hookimpl
        def plugrad_backends():
            yield BackendSpec(name=name, load=lambda: ArrayModuleBackend(numpy, name),
                              is_available=(lambda: True) if available
                              else (lambda: "no such device in this test"),
                              description="numpy under another name (benchmark test)")
    return Plugin


@pytest.fixture
def third_party():
    """Register backends 'benchdev' (works) and 'benchgone' (unavailable) for one test."""
    registry = get_registry()
    registry.register(_plugin("benchdev"), name="benchdev-plugin")
    registry.register(_plugin("benchgone", available=False), name="benchgone-plugin")
    yield "benchdev", "benchgone"
    registry.unregister("benchdev-plugin")
    registry.unregister("benchgone-plugin")


def _classes():
    for module in SUITES:
        for name, cls in vars(module).items():
            if inspect.isclass(cls) and not name.startswith("_") and hasattr(cls, "params"):
                yield cls


def _run_once(cls, backend):
    """Each benchmark of ``cls`` once for every parameter combination on ``backend``."""
    ran = 0
    rest = cls.params[1:]
    for combo in itertools.product(*rest):
        bench = cls()
        try:
            bench.setup(backend, *combo)
        except NotImplementedError:
            continue
        for name in dir(cls):
            if name.startswith(PREFIXES):
                getattr(bench, name)(backend, *combo)
                ran += 1
    return ran


def test_backend_parameter_is_the_registry_list():
    assert common.BACKENDS == [e.name for e in get_registry().entries()]
    for cls in _classes():
        assert cls.params[0] is common.BACKENDS and cls.param_names[0] == "backend", cls


@pytest.mark.parametrize("cls", list(_classes()), ids=lambda c: f"{c.__module__}.{c.__name__}")
def test_every_benchmark_runs_on_cpu(cls, monkeypatch):
    # the sizes stay, the sampling shrinks: this is a smoke run
    monkeypatch.setattr(common, "best_seconds", lambda *pairs, **kw: [1.0] * len(pairs))
    monkeypatch.setattr(bench_overhead, "best_seconds", common.best_seconds)
    monkeypatch.setattr(bench_vs_torch, "best_seconds", common.best_seconds)
    ran = _run_once(cls, "cpu")
    only_elsewhere = {"DeviceMemory"}  # device memory statistics exist on cuda only
    assert ran > 0 or cls.__name__ in only_elsewhere


def test_third_party_backend_is_a_new_line_and_unavailable_is_na(third_party):
    works, gone = third_party
    names = common._registered_backends()
    assert works in names and gone in names
    assert common.require(works)() is None          # its synchronize
    with pytest.raises(NotImplementedError, match="no such device in this test"):
        common.require(gone)
    assert _run_once(bench_overhead.Dispatch, works) > 0
    assert _run_once(bench_overhead.Dispatch, gone) == 0


def test_best_seconds_takes_the_best_sample():
    calls = []
    best = common.best_seconds((lambda: calls.append(1), lambda: None), repeat=3,
                               min_time=0.0)
    assert len(best) == 1 and 0 < best[0] < 0.01 and len(calls) >= 5


def _table_impls():
    impls = [_bench.Impl("plugrad cpu", "plugrad", None, "cpu", None, True),
             _bench.Impl("numpy", "numpy", None, None, None, True),
             _bench.Impl("torch cpu", "torch", None, "cpu", None, True)]
    name = workloads()[0].name
    impls[0].times[name], impls[1].times[name], impls[2].times[name] = 3e-6, 1.5e-6, 4e-6
    return impls, workloads()[:1]


def test_table_ratios_are_plugrad_over_reference():
    impls, works = _table_impls()
    text = _bench.table(works, impls)
    row = next(line for line in text.splitlines() if "plugrad cpu" in line)
    assert "3 us" in row and "2.00x" in row and "0.75x" in row
    assert "vs cupy" not in text                    # no CuPy column without CuPy
    md = _bench.table(works, impls, markdown=True)
    assert md.startswith("| workload |") and "| 2.00x |" in md


def test_table_shows_why_a_cell_is_missing():
    impls, works = _table_impls()
    impls[0].times[works[0].name] = "plugrad.nn.functional has no conv2d"
    row = next(line for line in _bench.table(works, impls).splitlines()
               if "plugrad cpu" in line)
    assert "n/a" in row and "has no conv2d" in row


def test_compare_command_measures_every_backend_beside_numpy_and_torch(third_party):
    out = io.StringIO()
    with redirect_stdout(out):
        code = _bench.main(["--compare", "--quick", "--threads", "0", "--repeat", "1",
                            "--only", "a + b,matmul 1024,host->device"])
    text = out.getvalue()
    assert code == 0, text
    for label in ("plugrad cpu", "plugrad benchdev", "numpy", "torch cpu", "vs numpy",
                  "vs torch", "a + b, 2x2", "matmul 1024^3", "GFLOP/s"):
        assert label in text, (label, text)
    assert "plugrad benchgone" not in text          # unavailable: no row
    add_rows = text.split("a + b, 2x2")[1].split("matmul")[0]
    assert len(re.findall(r"\d\.\d\dx", add_rows)) >= 4   # 2 plugrad rows x 2 references


def test_compare_reruns_itself_with_pinned_threads(monkeypatch):
    seen = {}

    def fake_call(cmd, env):
        seen.update(cmd=cmd, env=env)
        return 0
    monkeypatch.setattr(_bench.subprocess, "call", fake_call)
    for var in _bench.THREAD_VARS:
        monkeypatch.delenv(var, raising=False)
    assert _bench.main(["--compare", "--quick"]) == 0
    assert seen["cmd"][1:3] == ["-m", "plugrad._bench"] and "--quick" in seen["cmd"]
    assert all(seen["env"][var] == "1" for var in _bench.THREAD_VARS)


def test_a_failing_workload_is_an_error_cell_not_a_crash():
    def broken(lib, device):
        raise RuntimeError("kernel exploded")
    work = _bench_workloads.Workload("broken workload", "us", broken)
    impl = _bench.Impl("plugrad cpu", "plugrad", None, "cpu", lambda: None, True)
    _bench.measure(work, [impl], repeat=1, min_time=0.0)
    assert impl.times["broken workload"] == "error: RuntimeError: kernel exploded"
    assert "kernel exploded" in _bench.table([work], [impl])
