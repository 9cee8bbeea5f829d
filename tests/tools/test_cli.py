"""``python -m plugrad`` / ``plugrad``: help texts, the demo's device choice, errors and picture.

Issue 17.11-17.13: ``--help`` printed literal double backticks and always said
``python -m plugrad``; ``demo --device cuda`` without a GPU ended in a 33-line traceback; the
demo chose PoCL's CPU device over numpy (3x slower); there was no way to see the result.
"""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

import plugrad
from plugrad import _demo
from plugrad.__main__ import main, program_name


def _run(*args, **kwargs):
    return subprocess.run([sys.executable, "-m", "plugrad", *args], capture_output=True,
                          text=True, timeout=300, **kwargs)


@pytest.mark.parametrize("argv", [["--help"], ["demo", "--help"], ["bench", "--help"],
                                  ["conformance", "--help"]])
def test_help_has_no_rst_markup_and_every_option_is_explained(argv, capsys):
    with pytest.raises(SystemExit) as done:
        main(argv)
    assert done.value.code == 0
    text = capsys.readouterr().out
    assert "``" not in text and text.startswith("usage: ")
    if argv[0] == "demo":
        for option in ("--device", "--epochs", "--plot"):
            line = next(ln for ln in text.splitlines() if ln.strip().startswith(option))
            assert len(line.split()) > 2, line                   # a help text after the flag


def test_usage_names_the_command_the_user_typed(monkeypatch):
    monkeypatch.setattr(sys, "argv", ["/usr/bin/plugrad", "--help"])
    assert program_name() == "plugrad"
    monkeypatch.setattr(sys, "argv", ["/x/plugrad/__main__.py", "--help"])
    assert program_name() == "python -m plugrad"


def test_demo_on_an_unavailable_device_is_one_line_and_exit_2():
    proc = _run("demo", "--device", "nosuchdevice", "--epochs", "1")
    assert proc.returncode == 2 and proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("plugrad demo: cannot use device "
                                                   "'nosuchdevice': unknown device")


def test_demo_prefers_cpu_over_an_opencl_device_on_the_cpu(monkeypatch):
    registry = plugrad.plugins.get_registry()
    if registry.backend("cuda").availability() is True:
        pytest.skip("a GPU is here")
    monkeypatch.setattr(_demo, "_opencl_on_cpu", lambda: True)
    assert _demo.demo_device() == "cpu"
    if registry.backend("opencl").availability() is True:
        monkeypatch.setattr(_demo, "_opencl_on_cpu", lambda: False)   # as on a GPU driver
        assert _demo.demo_device() == "opencl"


def test_demo_plot_without_matplotlib_stops_before_training(monkeypatch, capsys, tmp_path):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    assert _demo.run("cpu", 1, str(tmp_path / "x.png")) == 2
    out, err = capsys.readouterr()
    assert out == "" and "--plot needs matplotlib: pip install matplotlib" in err
    assert not os.listdir(tmp_path)


def test_demo_saves_a_picture(tmp_path, capsys):
    pytest.importorskip("matplotlib")                      # optional: the demo's extra
    path = tmp_path / "demo.png"
    assert _demo.run("cpu", 2, str(path)) == 0
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 10_000
    assert f"saved the loss curve and decision boundary to {path}" in capsys.readouterr().out


def test_bench_reports_progress_per_workload_on_stderr(monkeypatch, capsys):
    from plugrad import _bench
    for var in _bench.THREAD_VARS:                      # no re-run in a child process
        monkeypatch.setenv(var, "1")
    assert _bench.main(["--compare", "--quick", "--backends", "cpu", "--only",
                        "a + b, 2x2,(a*b).sum()"]) == 0
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("[1/2] a + b, 2x2 float32 ... ") and lines[0].endswith(" s")
    assert lines[1].startswith("[2/2] (a*b).sum(), 2x2 float32 ... ")
    assert "[1/2]" not in out and "a + b, 2x2 float32" in out           # the table
