"""Grad mode: whether ops record the graph. Thread-local, as in PyTorch.

Each class works as a context manager and as a decorator, like torch's.
"""
from __future__ import annotations

import functools
import inspect
import threading

class _GradState(threading.local):
    """Per-thread grad mode; the class attribute is every new thread's default."""
    enabled = True


# ops read ``_state.enabled`` directly on their hot path (an attribute read, ~20 ns; a
# getattr() with a default on a plain threading.local that lacks the attribute costs ~300 ns)
_state = _GradState()


def is_grad_enabled() -> bool:
    """True unless inside ``no_grad`` / ``set_grad_enabled(False)`` (per thread)."""
    return _state.enabled


def _set_enabled(mode: bool) -> None:
    _state.enabled = bool(mode)


class _GradModeContext:
    """Base: subclasses set ``self.mode``; usable as ``with`` block or ``@decorator``."""
    mode = True

    def __enter__(self):
        self.prev = is_grad_enabled()
        _set_enabled(self.mode)

    def __exit__(self, *exc):
        _set_enabled(self.prev)
        return False

    def __call__(self, fn):
        if inspect.isclass(fn):
            raise TypeError(f"{type(self).__name__} cannot decorate a class")
        if inspect.isgeneratorfunction(fn):
            @functools.wraps(fn)
            def generator(*args, **kwargs):
                with self.clone():
                    yield from fn(*args, **kwargs)
            return generator

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.clone():
                return fn(*args, **kwargs)
        return wrapper

    def clone(self):
        return type(self)()


class no_grad(_GradModeContext):
    """Disable graph recording inside the block (``with no_grad():`` or ``@no_grad()``)."""
    mode = False

    def __new__(cls, orig_func=None):
        # torch also accepts the bare decorator form ``@no_grad`` (no parentheses)
        if orig_func is not None:
            return _GradModeContext.__call__(super().__new__(cls), orig_func)
        return super().__new__(cls)

    def __init__(self, orig_func=None):
        pass


class enable_grad(_GradModeContext):
    """Re-enable graph recording inside a ``no_grad`` block."""
    mode = True


class set_grad_enabled(_GradModeContext):
    """Set grad mode to ``mode``: immediately (like a function call) and as a context manager."""

    def __init__(self, mode: bool):
        self.prev = is_grad_enabled()
        self.mode = bool(mode)
        _set_enabled(self.mode)

    def __enter__(self):
        pass

    def __exit__(self, *exc):
        _set_enabled(self.prev)
        return False

    def __call__(self, fn):
        _set_enabled(self.prev)  # used as a decorator: only the decorated calls change mode
        return super().__call__(fn)

    def clone(self):
        return set_grad_enabled(self.mode)


class inference_mode(_GradModeContext):
    """Like no_grad (plugrad has no separate inference tensors)."""

    def __init__(self, mode: bool = True):
        self.mode = not mode
