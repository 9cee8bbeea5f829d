"""Seeded inputs for the conformance kit, and the view recipes that make them non-contiguous.

An input is host data (numpy) plus view ops applied *with each backend's own view ops*, so the
backend under test receives strided, offset and broadcast buffers exactly as the frontend
would hand them over -- and the cpu reference receives the same layout.
"""
from __future__ import annotations

import numpy as np

try:        # bfloat16 is checked where numpy has it (ml_dtypes, the cpu reference's bfloat16)
    import ml_dtypes  # noqa: F401
except ImportError:                     # pragma: no cover - optional dependency
    ml_dtypes = None

FLOATS = ("float16", "float32", "float64") + (("bfloat16",) if ml_dtypes is not None else ())
INTS = ("uint8", "int8", "int16", "int32", "int64")
ALL = ("bool",) + INTS + FLOATS
SPECIAL = (np.nan, np.inf, -np.inf, 0.0, 1.0, -1.0, -0.0, 0.5)

# (rtol, atol) for float results: a few ulps of the dtype, as two correct libraries differ.
TOL = {"float16": (2e-3, 2e-3), "float32": (2e-5, 1e-6), "float64": (1e-10, 1e-12),
       "bfloat16": (1.6e-2, 1.6e-2)}
SUM_TOL = {"float16": (1e-2, 1e-2), "float32": (1e-5, 1e-4), "float64": (1e-10, 1e-10),
           "bfloat16": (4e-2, 4e-2)}


def kind(dtype):
    """numpy's dtype kind letter, with ml_dtypes' bfloat16 (kind 'V') counted as a float."""
    return "f" if str(dtype) == "bfloat16" else np.dtype(dtype).kind


def data(shape, dtype, seed=0, low=-3.0, high=3.0, special=False, nonzero=False):
    """Seeded host data; ``special`` puts nan/inf/0/+-1 first, ``nonzero`` avoids zeros."""
    rng = np.random.default_rng(seed)
    if dtype == "bool":
        return rng.random(shape) < 0.5
    if kind(dtype) in "iu":
        lo = 0 if dtype == "uint8" else max(int(low * 10), np.iinfo(dtype).min)
        x = rng.integers(lo, int(high * 10) + 1, size=shape).astype(dtype)
        if nonzero:
            x[x == 0] = 1
        return x
    x = rng.uniform(low, high, size=shape).astype(dtype)
    if special and x.size >= len(SPECIAL):
        x.flat[:len(SPECIAL)] = SPECIAL
    if nonzero:
        x[x == 0] = 1
    return x


def scalar_for(dtype):
    """A Python scalar of the kind the frontend passes for dtype (bool, int or float)."""
    return {"b": True, "u": 3, "i": -3, "f": 1.5}[kind(dtype)]


class V:
    """An input: a host base array plus view ops applied identically on each backend."""
    __slots__ = ("base", "views")

    def __init__(self, base, *views):
        self.base, self.views = np.asarray(base), views

    def make(self, table):
        buf = table.from_host(self.base)
        for op, arg in self.views:
            buf = getattr(table, op)(buf, arg)
        return buf

    def __repr__(self):
        steps = "".join(f".{op}{arg}" for op, arg in self.views)
        return f"{self.base.dtype.name}{list(self.base.shape)}{steps}"


class Alloc:
    """An output buffer for ``out=``: ``full(shape, fill)``, optionally seen through views."""
    __slots__ = ("shape", "dtype", "views")

    def __init__(self, shape, dtype, *views):
        self.shape, self.dtype, self.views = tuple(shape), dtype, views

    def make(self, table):
        fill = False if self.dtype == "bool" else 7
        buf = table.full(self.shape, fill, self.dtype)
        for op, arg in self.views:
            buf = getattr(table, op)(buf, arg)
        return buf

    def __repr__(self):
        return f"out {self.dtype}{list(self.shape)}" + "".join(f".{o}" for o, _ in self.views)


def make(table, value):
    """Materialise an argument (V, Alloc, ndarray, list of them, or anything else) on table."""
    if isinstance(value, (V, Alloc)):
        return value.make(table)
    if isinstance(value, (np.ndarray, np.generic)):  # x[i, j] gives a numpy scalar: 0-d
        return table.from_host(np.asarray(value))
    if isinstance(value, list):
        return [make(table, v) for v in value]
    return value


def permuted(x):
    """x as the transpose of a contiguous array: a non-contiguous view with x's values."""
    axes = tuple(reversed(range(x.ndim)))
    return V(np.ascontiguousarray(x.transpose(axes)), ("permute", axes))


def stepped(x):
    """x as a stepped, offset slice of a bigger array (every other element, from index 1)."""
    big = np.zeros(tuple(2 * n + 1 for n in x.shape), x.dtype)
    big[tuple(slice(1, 2 * n + 1, 2) for n in x.shape)] = x
    return V(big, ("slice", [(1, 2 * n + 1, 2) for n in x.shape]))


def expanded(x):
    """x's first row broadcast over axis 0 with stride 0."""
    return V(x[:1], ("expand", x.shape))


def describe(value) -> str:
    if isinstance(value, (np.ndarray, np.generic)):
        return f"{value.dtype.name}{list(np.shape(value))}"
    if isinstance(value, list):
        return "[" + ", ".join(describe(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{...}"
    return repr(value)
