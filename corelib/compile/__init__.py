"""``plugrad.compile``: capture a function's backend calls once, replay them without Python.

The package is callable: ``plugrad.compile(model_or_fn, ...)`` is torch.compile; its
submodules hold the pieces (:mod:`.program` the captured program's data structure).
"""
from __future__ import annotations

import sys
import types

from .._compile_eager import compile as _compile_fn


class _CallableModule(types.ModuleType):
    """The module object itself answers ``plugrad.compile(...)``."""

    def __call__(self, *args, **kwargs):
        return _compile_fn(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
