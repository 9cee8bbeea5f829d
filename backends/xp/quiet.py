"""numpy's floating-point warnings, silenced inside the cpu backend's own calls.

torch never warns when arithmetic makes inf or nan (``log(0)``, ``1/0``, ``inf - inf``);
numpy does ("divide by zero encountered in log"). A process-wide ``warnings`` filter would
also hide users' own numpy warnings, and is lost when it is installed inside a
``warnings.catch_warnings`` block (pytest collects tests in one), so the cpu backend sets
numpy's error state to "ignore" around each of its own calls instead.

``numpy.errstate`` costs ~1.9 us per use, more than a whole small op; numpy keeps that state
in one context variable, and setting and resetting it directly costs ~0.13 us. Where that
variable is missing (another numpy), ``numpy.errstate`` is used. Use as
``token = enter(IGNORE)`` ... ``leave(token)`` in a ``try``/``finally``, or :func:`quiet`.
"""
from __future__ import annotations

import functools

import numpy

try:
    from numpy._core._ufunc_config import _extobj_contextvar, _make_extobj
    IGNORE = _make_extobj(all="ignore")
    enter, leave = _extobj_contextvar.set, _extobj_contextvar.reset
except (ImportError, AttributeError, TypeError):          # pragma: no cover - other numpy
    IGNORE = {"all": "ignore"}

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


def quiet(fn):
    """``fn`` with numpy's floating-point warnings off while it runs."""
    @functools.wraps(fn)
    def run(*args, **kwargs):
        token = enter(IGNORE)
        try:
            return fn(*args, **kwargs)
        finally:
            leave(token)
    return run
