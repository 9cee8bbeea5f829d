"""``plugrad.compile``: capture a function's backend calls once, replay them without Python.

The package is callable: ``plugrad.compile(model_or_fn, ...)`` is torch.compile. Its
modules: :mod:`.program` (the captured program, what a backend's fusion hook receives),
:mod:`.capture` (recording through the dispatch tables), :mod:`.compiled` (guards, cache,
replay), :mod:`.api` (torch.compile's signature), :mod:`.report` (explain). Importing the package is
cheap (frontend modules import :mod:`._state` from it); the rest loads on first use.
"""
from __future__ import annotations

import importlib
import sys
import types


class _CallableModule(types.ModuleType):
    """The module object itself answers ``plugrad.compile(...)``."""

    def __call__(self, *args, **kwargs):
        from .api import compile as _compile_fn
        return _compile_fn(*args, **kwargs)


def __getattr__(name):
    if name == "explain":
        return importlib.import_module(".report", __name__).explain
    if name == "is_compiling":
        return importlib.import_module(".capture", __name__).is_compiling
    raise AttributeError(f"module 'plugrad.compile' has no attribute '{name}'")


sys.modules[__name__].__class__ = _CallableModule
