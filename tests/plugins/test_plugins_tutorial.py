"""The README's "Writing a backend" tutorial, followed literally.

Every code block titled with a file name is written to that file, the distribution is
pip-installed (into a temporary target directory, as ``pip install`` would into
site-packages), and the kit runs in a fresh process that knows the backend only through the
installed entry point. The tutorial passing the kit is the promise the README makes.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import torch  # noqa: F401  (the tutorial's backend wraps torch; the oracle must be installed)

TUTORIAL = Path(__file__).resolve().parents[2] / "README.md"
BLOCK = re.compile(r'^```\w+ title="([^"]+)"\n(.*?)^```', re.M | re.S)


def test_tutorial_backend_installs_and_passes_the_kit(tmp_path):
    files = BLOCK.findall(TUTORIAL.read_text())
    assert [name for name, _ in files] == [
        "plugrad-mytorch/pyproject.toml", "plugrad-mytorch/src/plugrad_mytorch/__init__.py",
        "plugrad-mytorch/src/plugrad_mytorch/backend.py"]
    for name, text in files:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps",
                    "--no-build-isolation", "--no-index", "--target", str(site),
                    str(tmp_path / "plugrad-mytorch")], check=True, capture_output=True,
                   timeout=300)
    env = dict(os.environ, PYTHONPATH=f"{site}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
               PLUGRAD_DISABLE_PLUGINS="opencl,cupy")   # not needed here; saves probing
    info = subprocess.run([sys.executable, "-m", "plugrad", "info"], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)
    line = next(ln for ln in info.stdout.splitlines() if ln.startswith("mytorch"))
    assert "available" in line and "plugrad-mytorch 0.1.0" in line
    prims, prims_total, kernels, kernels_total = re.search(
        r"(\d+)/(\d+)\s+(\d+)/(\d+)", line).groups()
    # the kernel total grows with the contract; the README names what the backend provides
    assert int(kernels_total) >= int(kernels) == 1
    assert f"{prims}/{prims_total} primitives, {kernels} kernel" in TUTORIAL.read_text()
    kit = subprocess.run([sys.executable, "-m", "plugrad", "conformance", "mytorch"], env=env,
                         cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert kit.returncode == 0, kit.stdout[-4000:] + kit.stderr[-2000:]
    assert "PASSED" in kit.stdout and "training mlp+adam                pass" in kit.stdout
