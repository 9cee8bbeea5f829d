"""The wheel lists every subpackage: pyproject's explicit ``packages`` must match the tree."""
from __future__ import annotations

import pathlib
import tomllib

ROOT = pathlib.Path(__file__).resolve().parents[2]


def _discovered():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    found = set()
    for package, folder in config["package-dir"].items():
        base = ROOT / folder
        for init in base.rglob("__init__.py"):
            rel = init.parent.relative_to(base)
            if "examples" in rel.parts or "__pycache__" in rel.parts:
                continue
            found.add(".".join((package, *rel.parts)))
    return config, found


def test_every_subpackage_is_listed_for_wheels():
    config, found = _discovered()
    listed = set(config["packages"])
    assert found - listed == set(), "add these to [tool.setuptools] packages in pyproject.toml"
    assert listed - found == set(), "these listed packages do not exist"


def test_entry_points_name_importable_modules():
    import importlib
    import importlib.metadata as md
    names = {ep.name: ep.value for ep in md.entry_points(group="plugrad.backends")
             if ep.value.startswith("plugrad.")}
    assert {"numpy", "cupy", "opencl"} <= set(names)
    for value in names.values():
        importlib.import_module(value)   # cheap: heavy imports happen in BackendSpec.load
