"""Optional numba-compiled kernels for the ``cpu`` backend (the ``fast`` extra).

Where numpy needs many passes over memory for one op, a compiled loop makes one: float32
erf and exact gelu (numpy evaluates erf in ~40 float64 passes), gelu's backward, layer norm,
softmax, the Adam step and the embedding backward's row scatter. Each kernel keeps the numpy one's operation order and edge cases, and other dtypes
go to the numpy kernels (:mod:`plugrad.backends.xp`), which stay the pure path.

:func:`cpu_backend_class` is the one place that decides: the numba backend when numba is
installed and ``PLUGRAD_NUMBA`` is not ``0``, numpy's otherwise. numba itself is imported on
the first compiled call (importing it costs ~0.5-1 s), and the kernels are cached on disk, so
only the first run after an install or an edit compiles them (see README, "Compiled cpu
kernels").
"""
from __future__ import annotations

import importlib
import importlib.util
import os
import warnings

ENV = "PLUGRAD_NUMBA"


def unavailable_reason() -> str | None:
    """Why the compiled kernels are not used, or None when they are."""
    if os.environ.get(ENV, "1").strip() == "0":
        return f"numba kernels off: {ENV}=0"
    if importlib.util.find_spec("numba") is None:
        return "numba not installed: pip install 'plugrad[fast]' for compiled kernels"
    return None


def cpu_backend_class():
    """The class the ``cpu`` backend is built from: numba's when usable, else numpy's."""
    if unavailable_reason() is None:
        from .backend import NumbaBackend
        return NumbaBackend
    from ..xp import ArrayModuleBackend
    return ArrayModuleBackend


def description() -> str:
    """The cpu backend's line in ``python -m plugrad info``."""
    reason = unavailable_reason()
    return ("numpy on the host CPU, numba kernels (erf, gelu, layer norm, softmax, adam, "
            "LSTM cell)"
            if reason is None else f"numpy on the host CPU ({reason})")


class KernelModule:
    """A module of compiled kernels, imported on first use; None (after one warning) when
    numba fails to import or compile there, so the caller's numpy kernel runs instead."""

    __slots__ = ("name", "module", "failed")

    def __init__(self, name):
        self.name, self.module, self.failed = name, None, False

    def __call__(self):
        module = self.module
        if module is not None or self.failed:
            return module
        try:
            self.module = importlib.import_module(f"{__name__}.{self.name}")
        except Exception as exc:  # a broken numba must not break the cpu backend
            self.failed = True
            warnings.warn(f"plugrad: the numba kernels of {__name__}.{self.name} cannot load "
                          f"({type(exc).__name__}: {exc}); the cpu backend uses its numpy "
                          f"kernels instead (set {ENV}=0 to skip numba)", RuntimeWarning,
                          stacklevel=3)
        return self.module
