"""``torch._dynamo``: the parts programs touch -- ``reset``, ``explain``, ``config``,
``exc``, ``list_backends``, ``disable`` -- backed by :mod:`plugrad.compile`."""
from __future__ import annotations

from ..compile.api import list_backends
from ..compile.compiled import config
from ..compile.report import explain
from . import exc
from ..compiler import disable, is_compiling, reset

__all__ = ["reset", "explain", "config", "exc", "list_backends", "disable", "is_compiling"]
