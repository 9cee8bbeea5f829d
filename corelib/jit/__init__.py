"""``torch.jit``: TorchScript's decorators and entry points.

plugrad has no TorchScript compiler. ``trace`` runs the function or module once on the example
inputs (a model that fails on them fails here too) and returns a module unchanged (it runs as
Python: the same results a trace would give on those shapes) or a function under
``plugrad.compile`` (captured and replayed, with guards where a trace would bake in the
example's shapes and branches). ``script`` cannot be honoured -- it would compile Python's
control flow -- so it returns its argument with a one-time warning saying so.
``is_scripting()``/``is_tracing()`` are False, and ``ignore``/``unused``/``export``/``Final`` are
the no-ops they are outside scripting. Saving a scripted program raises.
"""
from __future__ import annotations

import typing

Final = typing.Final


_warned = []


def script(obj, optimize=None, _frames_up=0, _rcb=None, example_inputs=None):
    """Return ``obj`` unchanged (it keeps running as Python), warning once that TorchScript
    is not available."""
    if not _warned:
        _warned.append(True)
        import warnings
        warnings.warn("torch.jit.script: plugrad has no TorchScript compiler; the module or "
                      "function runs as Python (use torch.compile to capture and replay it)",
                      UserWarning, stacklevel=2)
    return obj


def trace(func, example_inputs=None, optimize=None, check_trace=True, check_inputs=None,
          check_tolerance=1e-05, strict=True, _force_outplace=False, _module_class=None,
          _compilation_unit=None, example_kwarg_inputs=None, _store_inputs=True):
    """Run ``func`` once on the example inputs; return a module as is, a function compiled
    (captured and replayed like a trace, with guards)."""
    if example_inputs is None and example_kwarg_inputs is None:
        raise RuntimeError("example_kwarg_inputs or example_inputs must be provided to trace")
    from .._tensor import Tensor
    from ..autograd.grad_mode import no_grad
    args = (example_inputs,) if isinstance(example_inputs, Tensor) else tuple(example_inputs or ())
    with no_grad():
        func(*args, **(example_kwarg_inputs or {}))
    from ..nn.modules.module import Module
    if isinstance(func, Module) or not callable(func):
        return func
    from ..compile.api import compile as _compile
    return _compile(func)


def trace_module(mod, inputs, **kwargs):
    for method, example in inputs.items():
        trace(getattr(mod, method), example)
    return mod


def is_scripting() -> bool:
    return False


def is_tracing() -> bool:
    return False


def ignore(drop=False, **kwargs):
    """``@torch.jit.ignore`` or ``@torch.jit.ignore(drop=True)``: the function is left alone."""
    if callable(drop):
        return drop
    return lambda fn: fn


def unused(fn):
    return fn


def export(fn):
    return fn


def interface(obj):
    return obj


def annotate(the_type, the_value):
    return the_value


def _not_scriptable(what):
    raise NotImplementedError(f"torch.jit.{what}: plugrad has no TorchScript; save the "
                              f"state_dict with torch.save instead")


def save(m, f, _extra_files=None):
    _not_scriptable("save")


def load(f, map_location=None, _extra_files=None):
    _not_scriptable("load")


class ScriptModule:
    """Only for ``isinstance`` checks: plugrad never creates one."""


class ScriptFunction:
    """Only for ``isinstance`` checks: plugrad never creates one."""
