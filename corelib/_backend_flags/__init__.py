"""torch.backends' flag modules (``cudnn``, ``cuda``, ``mps``, ``mkldnn``, ``opt_einsum``, ...).

``plugrad.backends`` is the package of backend *plugins* (numpy, cupy, opencl); torch's
``torch.backends`` is a package of *flags*. The flags live here and ``plugrad/backends``
binds each under its torch name (``import plugrad.backends.cudnn`` works), so neither meaning
hides the other: plugin modules keep their own names, none of which torch uses.
"""
from __future__ import annotations

import contextlib
import sys
import types

TORCH_NAMES = ("cpu", "cuda", "cudnn", "mkl", "mkldnn", "mps", "openmp", "opt_einsum")


class FlagModule(types.ModuleType):
    """A module whose boolean flags refuse non-bools, as torch's ``ContextProp`` setters do."""

    _flags: dict = {}   # flag name -> torch's setter name, used in the error message

    def __setattr__(self, name, value):
        setter = type(self)._flags.get(name)
        if setter is not None and not isinstance(value, bool):
            raise RuntimeError(f"{setter} expects a bool, but got {type(value).__name__}")
        super().__setattr__(name, value)


def install(module_name: str, flags: dict) -> FlagModule:
    """Turn the module ``module_name`` into a FlagModule checking ``flags``; returns it."""
    mod = sys.modules[module_name]
    cls = type(f"{module_name.rsplit('.', 1)[-1]}_flags", (FlagModule,), {"_flags": flags})
    mod.__class__ = cls
    return mod


@contextlib.contextmanager
def set_flags(module, **values):
    """Set flags on ``module`` for a with-block, restoring the old values after."""
    old = {k: getattr(module, k) for k, v in values.items() if v is not None}
    try:
        for k in old:
            setattr(module, k, values[k])
        yield
    finally:
        for k, v in old.items():
            setattr(module, k, v)
