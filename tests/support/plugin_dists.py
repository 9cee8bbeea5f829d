"""Throwaway plugin distributions for registry tests, discovered exactly as pip-installed ones.

An installed distribution is, to ``importlib.metadata``, a ``<name>-<version>.dist-info``
directory on ``sys.path`` holding ``METADATA`` and ``entry_points.txt``. :func:`make_dist`
writes one (plus the plugin's modules) into a temporary directory; prepend it to ``sys.path``
(``monkeypatch.syspath_prepend``) and a fresh ``Registry()`` finds its entry points.
"""
from __future__ import annotations

import textwrap
from pathlib import Path

GROUP = "plugrad.backends"


def make_dist(root: Path, name: str, version: str, entry_points: dict, modules: dict = None,
              group: str = GROUP) -> Path:
    """Write distribution ``name`` with entry points {ep name: "module[:attr]"} into root."""
    root = Path(root)
    for module, source in (modules or {}).items():
        path = root / (module.replace(".", "/") + ".py")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source))
    info = root / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    lines = "".join(f"{ep} = {target}\n" for ep, target in entry_points.items())
    (info / "entry_points.txt").write_text(f"[{group}]\n{lines}")
    return root


# A real backend for tests: the cpu backend's array-module implementation under another
# name (and so another device), optionally with ops removed or broken on purpose.
NUMPY_BACKEND = '''
import numpy
from plugrad.plugins import BackendSpec, hookimpl
from plugrad.backends.xp import ArrayModuleBackend

def load():
    return ArrayModuleBackend(numpy, "{name}")

@hookimpl
def plugrad_backends():
    yield BackendSpec(name="{name}", load=load, api_version={api_version},
                      description="numpy under another name (test)")
'''


def numpy_backend_source(name: str, api_version: int = 1) -> str:
    return NUMPY_BACKEND.format(name=name, api_version=api_version)
