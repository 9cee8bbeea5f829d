"""numpy's floating-point warnings, silenced inside the cpu backend's own calls.

torch never warns when arithmetic makes inf or nan (``log(0)``, ``1/0``, ``inf - inf``);
numpy does ("divide by zero encountered in log"). A process-wide ``warnings`` filter would
also hide users' own numpy warnings, and is lost when it is installed inside a
``warnings.catch_warnings`` block (pytest collects tests in one), so the cpu backend runs its
own calls with numpy's error state "ignore" instead.

numpy keeps that state in one context variable. Setting and resetting it around each op
costs ~0.22 us (a Token per call), more than a third of a small op; ``numpy.errstate`` costs
~1.9 us. So each wrapped op owns a prepared :class:`contextvars.Context`, a copy of the
import-time context with the state set to "ignore", and runs its numpy call inside it:
``Context.run`` costs ~10 ns. A context can be entered once at a time, so when the same op is
already running (another thread inside it while numpy has released the GIL, or the op
re-entered from within itself) the call falls back to setting and resetting the variable.
Inside the prepared context other context variables read their import-time values; numpy
reads only its error state and its memory handler there (a handler a user installs later does
not reach the backend's arrays). Where the variable is missing (another numpy),
``numpy.errstate`` is used for every call.
"""
from __future__ import annotations

import contextvars
import functools
import inspect

import numpy

try:
    from numpy._core._ufunc_config import _extobj_contextvar, _make_extobj
    IGNORE = _make_extobj(all="ignore")
    enter, leave = _extobj_contextvar.set, _extobj_contextvar.reset
    CONTEXTS = True
except (ImportError, AttributeError, TypeError):          # pragma: no cover - other numpy
    IGNORE = {"all": "ignore"}
    CONTEXTS = False

    def enter(state):
        context = numpy.errstate(**state)
        context.__enter__()
        return context

    def leave(context):
        context.__exit__(None, None, None)

# contract ops numpy never warns in (views, copies, comparisons, selections), left unwrapped;
# full, assign, pad and where take scalars that may overflow the dtype, so they are wrapped
SILENT = frozenset({
    "device_count", "empty", "from_host", "to_host", "copy", "strides",
    "synchronize", "reshape", "permute", "expand", "slice", "flip", "concat", "index",
    "nonzero", "sort", "neg", "abs", "sign", "floor", "ceil", "round", "trunc",
    "isnan", "isinf", "logical_not", "bitwise_not", "eq", "ne", "lt", "le", "gt", "ge",
    "logical_and", "logical_or", "logical_xor", "bitwise_and", "bitwise_or", "bitwise_xor",
    "maximum", "minimum", "max", "min", "argmax", "argmin", "any", "all",
})

# ...except that a Python float operand is cast to the array's dtype, which can overflow
# (float16 < 1e30): these binary ufuncs go quiet only when an operand is a float scalar
SCALAR_QUIET = frozenset({"eq", "ne", "lt", "le", "gt", "ge", "maximum", "minimum"})


def call_quietly(fn, *args, **kwargs):
    """``fn(*args, **kwargs)`` with the error state set and reset around it (the slow way)."""
    token = enter(IGNORE)
    try:
        return fn(*args, **kwargs)
    finally:
        leave(token)


def prepared_context():
    """``(run, busy)``: a fresh prepared context's ``run`` and the ``args`` of the
    RuntimeError it raises while it is already entered."""
    context = contextvars.copy_context()
    context.run(enter, IGNORE)
    return context.run, (f"cannot enter context: {context!r} is already entered",)


def quiet_runner(fn):
    """``run(*args, **kwargs)``: ``fn`` called inside this runner's own prepared context.

    Falls back to :func:`call_quietly` when the context is busy (see the module docstring).
    """
    if not CONTEXTS:                                      # pragma: no cover - other numpy
        return functools.partial(call_quietly, fn)
    run_in_context, busy = prepared_context()

    def run(*args, **kwargs):
        try:
            return run_in_context(fn, *args, **kwargs)
        except RuntimeError as error:
            if error.args != busy:
                raise
        return call_quietly(fn, *args, **kwargs)
    return run


def quiet(fn):
    """``fn`` with numpy's floating-point warnings off while it runs.

    The wrapper is compiled with ``fn``'s own parameters (as :mod:`dataclasses` builds its
    methods): a ``*args, **kwargs`` wrapper costs ~0.3 us more per call in packing them.
    """
    if not CONTEXTS:                                      # pragma: no cover - other numpy
        return functools.wraps(fn)(functools.partial(call_quietly, fn))
    parameters = list(inspect.signature(fn).parameters.values())
    if any(p.name.startswith("_") for p in parameters):  # could shadow the wrapper's names
        return functools.wraps(fn)(quiet_runner(fn))
    run, busy = prepared_context()
    params, passed, defaults = [], [], {}
    for i, p in enumerate(parameters):
        name = p.name
        if p.default is not p.empty:
            defaults[f"_default_{name}"] = p.default
            name += f"=_default_{name}"
        if p.kind is p.VAR_POSITIONAL:
            params.append(f"*{p.name}")
            passed.append(f"*{p.name}")
        elif p.kind is p.VAR_KEYWORD:
            params.append(f"**{p.name}")
            passed.append(f"**{p.name}")
        elif p.kind is p.KEYWORD_ONLY:
            if not any(q.startswith("*") for q in params):
                params.append("*")
            params.append(name)
            passed.append(f"{p.name}={p.name}")
        else:
            params.append(name)
            passed.append(p.name)
            if p.kind is p.POSITIONAL_ONLY and (i + 1 == len(parameters) or
                                                parameters[i + 1].kind is not p.POSITIONAL_ONLY):
                params.append("/")
    args = ", ".join(passed)
    source = (f"def wrapper({', '.join(params)}):\n"
              f"    try:\n"
              f"        return _run(_fn, {args})\n"
              f"    except RuntimeError as _error:\n"
              f"        if _error.args != _busy:\n"
              f"            raise\n"
              f"    return _call_quietly(_fn, {args})\n")
    namespace = dict(defaults, _run=run, _fn=fn, _busy=busy, _call_quietly=call_quietly)
    exec(source, namespace)                               # noqa: S102 - source built above
    return functools.wraps(fn)(namespace["wrapper"])
