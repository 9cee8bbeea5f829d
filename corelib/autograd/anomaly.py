"""Anomaly detection: name the op whose backward first produced nan.

``with plugrad.autograd.detect_anomaly():`` records each node's forward stack trace and, during
backward, raises RuntimeError naming the first node that returned nan values.
"""
from __future__ import annotations

import warnings

enabled = False
check_nan = True


class detect_anomaly:
    """Context manager (and decorator) turning on anomaly detection, as torch's."""

    def __init__(self, check_nan: bool = True):
        self.check_nan = check_nan

    def __enter__(self):
        global enabled, check_nan
        self.prev = (enabled, check_nan)
        enabled, check_nan = True, self.check_nan
        warnings.warn("Anomaly Detection has been enabled. This mode will increase the runtime "
                      "and should only be enabled for debugging.", UserWarning, stacklevel=2)

    def __exit__(self, *exc):
        global enabled, check_nan
        enabled, check_nan = self.prev
        return False

    def __call__(self, fn):
        import functools

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with detect_anomaly(self.check_nan):
                return fn(*args, **kwargs)
        return wrapper


class set_detect_anomaly:
    """Set anomaly detection on or off, immediately and as a context manager."""

    def __init__(self, mode: bool, check_nan: bool = True):
        global enabled
        self.prev = (enabled, globals()["check_nan"])
        enabled = bool(mode)
        globals()["check_nan"] = check_nan

    def __enter__(self):
        pass

    def __exit__(self, *exc):
        global enabled, check_nan
        enabled, check_nan = self.prev
        return False


def is_anomaly_enabled() -> bool:
    """True inside ``detect_anomaly()`` / after ``set_detect_anomaly(True)``."""
    return enabled


def check(node, grads):
    """Raise if any gradient ``node`` returned contains nan (called only when enabled)."""
    for i, g in enumerate(grads):
        if g is not None and g.dtype.is_floating_point and bool(g.isnan().any()):
            trace = "".join(node.trace or ())
            raise RuntimeError(f"Function '{node.name()}' returned nan values in its {i}th "
                               f"output.\nForward call that produced it:\n{trace}")
