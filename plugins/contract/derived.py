"""Primitives that are exact compositions of others, so a backend need not write them.

A backend lacking one of these, but having what its composition calls, gets the composition:
it runs on the backend's own device through its dispatch table -- no host copies, no
fallback warning. A backend that has its own keeps it (a fast path). Each composition gives
the same values and dtype as the primitive's contract, nan and signed zeros included; the
conformance kit checks them like any other entry (``tests/plugins/test_derived.py`` runs the kit on a
backend that lacks all of them).

Each entry is ``name: (needs, make)``: ``make(table)`` returns the function, which calls
``table.<op>`` at run time (so kernel plugins and refills reach it too).
"""
from __future__ import annotations

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
