"""Primitives that are exact compositions of others, so a backend need not write them.

A backend lacking one of these, but having what its composition calls, gets the composition:
it runs on the backend's own device through its dispatch table -- no host copies, no
fallback warning. A backend that has its own keeps it (a fast path). Each composition gives
the same values and dtype as the primitive's contract, nan and signed zeros included (only
the sign bit *of a nan* may differ: derived ``neg`` is ``x * -1.0``); the conformance kit
checks them like any other entry (``tests/plugins/test_derived.py`` runs the kit on a
backend that lacks all of them).

Each entry is ``name: (needs, make)``: ``make(table)`` returns the function, which calls
``table.<op>`` at run time (so kernel plugins and refills reach it too).

``neg``, ``sign`` and ``pad`` need their input's dtype (-1 is 255 in uint8; -0.0 must stay
-0.0, so ``0 - x`` will not do) and read it from the buffer's ``.dtype``
(:func:`~._spec.buffer_dtype`, no device access), the one place every call site -- the
frontend's, backward passes', the conformance kit's -- can read it. A backend whose buffers
state no dtype must implement those three (PluginError at the first call says so).
"""
from __future__ import annotations

from ._spec import buffer_dtype

DERIVED: dict = {}


def _derives(name, *needs):
    def register(make):
        DERIVED[name] = (needs, make)
        return make
    return register


def _truth(t, x):
    """x != 0 as a bool buffer, or a Python bool for a scalar operand."""
    return bool(x) if isinstance(x, (bool, int, float)) else t.ne(x, 0)


# ------------------------------------------------------------------ comparisons

@_derives("gt", "lt")
def _gt(t):
    return lambda a, b, out=None: t.lt(b, a, out=out)          # a > b  <=>  b < a


@_derives("lt", "gt")
def _lt(t):
    return lambda a, b, out=None: t.gt(b, a, out=out)


@_derives("ge", "le")
def _ge(t):
    return lambda a, b, out=None: t.le(b, a, out=out)


@_derives("le", "ge")
def _le(t):
    return lambda a, b, out=None: t.ge(b, a, out=out)


@_derives("ne", "eq", "logical_not")
def _ne(t):
    return lambda a, b, out=None: t.logical_not(t.eq(a, b), out=out)


@_derives("eq", "ne", "logical_not")
def _eq(t):
    return lambda a, b, out=None: t.logical_not(t.ne(a, b), out=out)


# ------------------------------------------------------------------------ logic

@_derives("logical_not", "eq")
def _logical_not(t):
    return lambda x, out=None: t.eq(x, 0, out=out)             # (a bool x: x == False)


@_derives("logical_and", "ne", "bitwise_and")
def _logical_and(t):
    return lambda a, b, out=None: t.bitwise_and(_truth(t, a), _truth(t, b), out=out)


@_derives("logical_or", "ne", "bitwise_or")
def _logical_or(t):
    return lambda a, b, out=None: t.bitwise_or(_truth(t, a), _truth(t, b), out=out)


@_derives("logical_xor", "ne", "bitwise_xor")
def _logical_xor(t):
    return lambda a, b, out=None: t.bitwise_xor(_truth(t, a), _truth(t, b), out=out)


# ------------------------------------------------------------- dtype-dependent

def _dtype(x, op):
    name = buffer_dtype(x)
    if name is None:
        from ..types import PluginError
        raise PluginError(f"the derived '{op}' reads its input's dtype from the buffer's "
                          f"'.dtype' attribute, which {type(x).__name__} lacks: implement "
                          f"'{op}' in the backend")
    return name


def _minus_one(dtype):
    """-1 as a value of ``dtype``: 2**bits - 1 for the unsigned (-x is 255 * x in uint8)."""
    if dtype == "uint8":
        return 255
    return -1.0 if "float" in dtype else -1


@_derives("neg", "mul")
def _neg(t):
    # x * -1: exact in every dtype (floats flip zeros' signs, nan stays nan -- its own sign
    # bit as the multiplication leaves it; integers wrap as negation does, the most negative
    # value included)
    return lambda x, out=None: t.mul(x, _minus_one(_dtype(x, "neg")), out=out)


@_derives("sign", "gt", "lt", "add", "where")
def _sign(t):
    def sign(x, out=None):
        dtype = _dtype(x, "sign")
        if dtype == "bool":
            return t.where(x, True, False, out=out)
        zero, one = (0.0, 1.0) if "float" in dtype else (0, 1)
        # 1 above zero, -1 below; elsewhere x + 0: zeros become +0 and nan stays nan
        rest = t.add(x, zero)
        if dtype != "uint8":
            rest = t.where(t.lt(x, zero), _minus_one(dtype), rest)
        return t.where(t.gt(x, zero), one, rest, out=out)
    return sign


@_derives("pad", "concat")
def _pad(t):
    def pad(x, pads, value):
        # one concat per padded axis: [full block, x, full block]; no write into x or a view
        # (a backend with immutable buffers can take this one too)
        dtype = _dtype(x, "pad")
        shape = list(x.shape)
        padded = False
        for axis, (before, after) in enumerate(pads):
            if not (before or after):
                continue
            block = [tuple(shape[:axis]) + (n,) + tuple(shape[axis + 1:]) for n in (before, after)]
            parts = ([t.full(block[0], value, dtype)] if before else []) + [x] + (
                [t.full(block[1], value, dtype)] if after else [])
            x = t.concat(parts, axis)
            shape[axis] += before + after
            padded = True
        return x if padded else t.copy(x)
    return pad


# ------------------------------------------------------------------ float unary

@_derives("reciprocal", "div")
def _reciprocal(t):
    return lambda x, out=None: t.div(1.0, x, out=out)          # float dtypes only


@_derives("ceil", "floor", "mul")
def _ceil(t):
    # -floor(-x): multiplying by -1.0 is exact and keeps nan, inf and the sign of zero
    return lambda x, out=None: t.mul(t.floor(t.mul(x, -1.0)), -1.0, out=out)


@_derives("trunc", "where", "lt", "ceil", "floor")
def _trunc(t):
    # ceil below zero, floor elsewhere (nan, -0.0 and +-inf pass through floor unchanged)
    return lambda x, out=None: t.where(t.lt(x, 0.0), t.ceil(x), t.floor(x), out=out)


@_derives("isnan", "ne")
def _isnan(t):
    return lambda x, out=None: t.ne(x, x, out=out)


@_derives("isinf", "eq", "abs")
def _isinf(t):
    return lambda x, out=None: t.eq(t.abs(x), float("inf"), out=out)


# ------------------------------------------------------------------- reductions

@_derives("any", "sum", "cast", "ne")
def _any(t):
    # a count of true elements (int64 cannot overflow here) compared with 0
    return lambda x, axes, keepdims: t.ne(t.sum(t.cast(x, "int64"), axes, keepdims), 0)


@_derives("all", "any", "logical_not")
def _all(t):
    return lambda x, axes, keepdims: t.logical_not(t.any(t.logical_not(x), axes, keepdims))


def derive(table, available) -> dict:
    """{name: composition} for every derived entry missing from ``available`` (a set of op
    names the table runs natively) whose needs are met, to a fixed point (``trunc`` needs
    ``ceil``, which may itself be derived)."""
    have = set(available)
    made = {}
    changed = True
    while changed:
        changed = False
        for name, (needs, make) in DERIVED.items():
            if name not in have and all(n in have for n in needs):
                made[name] = make(table)
                have.add(name)
                changed = True
    return made
