"""What users are told about devices (issue 17.7, 17.11): remedies, no repeats, no duplicates.
"""
from __future__ import annotations

import sys

import pytest

import plugrad
import plugrad.backends.opencl as ocl
from plugrad.plugins import get_registry


def test_an_unavailable_device_gives_its_reason_once():
    reason = get_registry().backend("cuda").availability()
    if reason is True:
        pytest.skip("cuda is available here")
    with pytest.raises(RuntimeError, match="device 'cuda' is not available") as info:
        plugrad.zeros(1, device="cuda")
    assert str(info.value).count(reason) == 1, str(info.value)


def test_missing_pyopencl_and_missing_driver_come_with_install_hints(monkeypatch):
    try:
        monkeypatch.setitem(sys.modules, "pyopencl", None)
        ocl._probe.cache_clear()
        reason = ocl.is_available()
        assert reason.startswith("pyopencl not importable") and \
            "pip install 'plugrad[opencl]'" in reason and "'plugrad[pocl]'" in reason
        monkeypatch.undo()
        import pyopencl
        monkeypatch.setattr(pyopencl, "get_platforms", lambda: [])
        ocl._probe.cache_clear()
        reason = ocl.is_available()
        assert "no OpenCL platform found" in reason and "'plugrad[pocl]'" in reason
    finally:
        monkeypatch.undo()
        ocl._probe.cache_clear()


def test_unknown_target_cpu_names_the_distribution_pocl():
    exc = RuntimeError("clBuildProgram failed: BUILD_PROGRAM_FAILURE\n"
                       "error: unknown target CPU 'generic'\nnote: valid target CPU values ...")
    reason = ocl.compile_failure(exc)
    assert reason.startswith("cannot compile kernels: RuntimeError: error: unknown target CPU "
                             "'generic'")
    assert "apt-get install pocl-opencl-icd" in reason and ocl.PLATFORM_ENV in reason
    other = ocl.compile_failure(RuntimeError("error: something else"))
    assert "pocl-opencl-icd" not in other


def _record(name, platform, key, usable=True):
    return {"name": name, "platform_version": platform, "cpu_key": key, "usable": usable,
            "reason": None if usable else "cannot compile kernels: ..."}


def test_one_cpu_through_two_icds_is_listed_once():
    same = (4098, 16, 2 ** 34, 3000)
    records = [_record("gpu", "vendor", None), _record("pthread-haswell-EPYC", "PoCL 3.1", same),
               _record("pthread-EPYC", "PoCL 3.0-rc2", same), _record("other-cpu", "x", (1, 2, 3, 4))]
    ocl.drop_duplicate_cpus(records)
    assert [r["usable"] for r in records] == [True, True, False, True]
    assert records[2]["reason"].startswith("the same CPU as pthread-haswell-EPYC on PoCL 3.1")
    # the first driver cannot compile (pip's PoCL on a too-new CPU): the second one is kept
    records = [_record("a", "pip PoCL", same, usable=False), _record("b", "debian PoCL", same)]
    ocl.drop_duplicate_cpus(records)
    assert [r["usable"] for r in records] == [False, True]


def test_no_usable_opencl_cpu_is_listed_twice_here():
    if ocl.is_available() is not True:
        pytest.skip(f"opencl: {ocl.is_available()}")
    _, records, _ = ocl._probe()
    keys = [r["cpu_key"] for r in records if r["usable"] and r["cpu_key"] is not None]
    assert len(keys) == len(set(keys))
