"""Tier 2 of the contract: the primitives every backend is expected to implement.

A missing one runs on the ``cpu`` backend with copies in and out and a one-time warning
(``PLUGRAD_STRICT_BACKEND=1`` makes that an error) -- or, for the ones in ``DERIVABLE``, as an
exact composition of the backend's own ops. The four views (``reshape``, ``permute``,
``expand``, ``slice``) are the exception: required, because a copy on the cpu backend would
lose writes made through the view. Conventions (the frontend has validated
every argument before the call):

* Elementwise ops: buffer operands share one dtype and broadcast like numpy; one operand of
  a binary or ternary op may instead be a Python scalar meaning a value of that dtype. Float
  functions (exp, sin, ...) receive float dtypes only; ``result="bool"`` ops return bool.
* ``out=None``: when given, ``out`` is a buffer of the result's shape and dtype (possibly one
  of the inputs, possibly a strided view); the op writes into it and returns it.
* Reductions take a non-empty tuple of normalised axes and ``keepdims``.
* Ops return a *new* buffer, except the view group: those return buffers sharing memory
  with their input whenever the layout allows, so writes through a view reach the base.
"""
from __future__ import annotations

from ._spec import Axes, Buf, Scalar, Sequence, Shape, Slice, primitive

# ruff: noqa: A001


# ---------------------------------------------------------------------- unary

@primitive("unary")
def neg(x: Buf, out: Buf | None = None) -> Buf:
    """Elementwise -x."""


@primitive("unary")
def abs(x: Buf, out: Buf | None = None) -> Buf:
    """Elementwise |x|."""


@primitive("unary")
def sign(x: Buf, out: Buf | None = None) -> Buf:
    """Elementwise -1, 0 or 1 (0 for 0, nan for nan)."""


@primitive("unary")
def exp(x: Buf, out: Buf | None = None) -> Buf:
    """Elementwise e**x."""


@primitive("unary")
def log(x: Buf, out: Buf | None = None) -> Buf:
    """Natural log."""


@primitive("unary")
def log1p(x: Buf, out: Buf | None = None) -> Buf:
    """Elementwise log(1+x)."""


@primitive("unary")
def expm1(x: Buf, out: Buf | None = None) -> Buf:
    """Elementwise e**x - 1."""


@primitive("unary")
def sqrt(x: Buf, out: Buf | None = None) -> Buf:
    """Square root."""


@primitive("unary")
def sin(x: Buf, out: Buf | None = None) -> Buf:
    """Elementwise sine."""


@primitive("unary")
def cos(x: Buf, out: Buf | None = None) -> Buf:
    """Elementwise cosine."""


@primitive("unary")
def tan(x: Buf, out: Buf | None = None) -> Buf:
    """Elementwise tangent."""


@primitive("unary")
def tanh(x: Buf, out: Buf | None = None) -> Buf:
    """Hyperbolic tangent."""


@primitive("unary")
def sigmoid(x: Buf, out: Buf | None = None) -> Buf:
    """Elementwise 1/(1+e**-x), no overflow warnings."""


@primitive("unary")
def asin(x: Buf, out: Buf | None = None) -> Buf:
    """Elementwise arcsine."""


@primitive("unary")
def acos(x: Buf, out: Buf | None = None) -> Buf:
    """Elementwise arccosine."""


@primitive("unary")
def atan(x: Buf, out: Buf | None = None) -> Buf:
    """Elementwise arctangent."""


@primitive("unary")
def sinh(x: Buf, out: Buf | None = None) -> Buf:
    """Hyperbolic sine."""


@primitive("unary")
def cosh(x: Buf, out: Buf | None = None) -> Buf:
    """Hyperbolic cosine."""


@primitive("unary")
def erf(x: Buf, out: Buf | None = None) -> Buf:
    """Error function, accurate to the dtype."""


@primitive("unary")
def floor(x: Buf, out: Buf | None = None) -> Buf:
    """Round down."""


@primitive("unary")
def ceil(x: Buf, out: Buf | None = None) -> Buf:
    """Round up."""


@primitive("unary")
def round(x: Buf, out: Buf | None = None) -> Buf:
    """Round half to even."""


@primitive("unary")
def trunc(x: Buf, out: Buf | None = None) -> Buf:
    """Round toward 0."""


@primitive("unary")
def reciprocal(x: Buf, out: Buf | None = None) -> Buf:
    """Elementwise 1/x."""


@primitive("unary", result="bool")
def logical_not(x: Buf, out: Buf | None = None) -> Buf:
    """x == 0."""


@primitive("unary", result="bool")
def isnan(x: Buf, out: Buf | None = None) -> Buf:
    """x != x."""


@primitive("unary", result="bool")
def isinf(x: Buf, out: Buf | None = None) -> Buf:
    """x is +inf or -inf."""


@primitive("unary")
def bitwise_not(x: Buf, out: Buf | None = None) -> Buf:
    """~x on integer/bool dtypes."""


# ---------------------------------------------------------------------- binary

@primitive("binary")
def add(a: Buf | Scalar, b: Buf | Scalar, out: Buf | None = None) -> Buf:
    """Elementwise a + b."""


@primitive("binary")
def sub(a: Buf | Scalar, b: Buf | Scalar, out: Buf | None = None) -> Buf:
    """Elementwise a - b."""


@primitive("binary")
def mul(a: Buf | Scalar, b: Buf | Scalar, out: Buf | None = None) -> Buf:
    """Elementwise a * b."""


@primitive("binary")
def div(a: Buf | Scalar, b: Buf | Scalar, out: Buf | None = None) -> Buf:
    """True division (floats)."""


@primitive("binary")
def floordiv(a: Buf | Scalar, b: Buf | Scalar, out: Buf | None = None) -> Buf:
    """Elementwise floor(a / b), Python semantics."""


@primitive("binary")
def remainder(a: Buf | Scalar, b: Buf | Scalar, out: Buf | None = None) -> Buf:
    """Python-style modulo: the result has the sign of b."""


@primitive("binary")
def pow(a: Buf | Scalar, b: Buf | Scalar, out: Buf | None = None) -> Buf:
    """Elementwise a ** b."""


@primitive("binary")
def maximum(a: Buf | Scalar, b: Buf | Scalar, out: Buf | None = None) -> Buf:
    """Elementwise max, nan-propagating."""


@primitive("binary")
def minimum(a: Buf | Scalar, b: Buf | Scalar, out: Buf | None = None) -> Buf:
    """Elementwise min, nan-propagating."""


@primitive("binary")
def atan2(a: Buf | Scalar, b: Buf | Scalar, out: Buf | None = None) -> Buf:
    """Elementwise atan2(a, b)."""


@primitive("binary", result="bool")
def eq(a: Buf | Scalar, b: Buf | Scalar, out: Buf | None = None) -> Buf:
    """a == b."""


@primitive("binary", result="bool")
def ne(a: Buf | Scalar, b: Buf | Scalar, out: Buf | None = None) -> Buf:
    """a != b."""


@primitive("binary", result="bool")
def lt(a: Buf | Scalar, b: Buf | Scalar, out: Buf | None = None) -> Buf:
    """a < b."""


@primitive("binary", result="bool")
def le(a: Buf | Scalar, b: Buf | Scalar, out: Buf | None = None) -> Buf:
    """a <= b."""


@primitive("binary", result="bool")
def gt(a: Buf | Scalar, b: Buf | Scalar, out: Buf | None = None) -> Buf:
    """a > b."""


@primitive("binary", result="bool")
def ge(a: Buf | Scalar, b: Buf | Scalar, out: Buf | None = None) -> Buf:
    """a >= b."""


@primitive("binary", result="bool")
def logical_and(a: Buf | Scalar, b: Buf | Scalar, out: Buf | None = None) -> Buf:
    """a and b (non-zero is true)."""


@primitive("binary", result="bool")
def logical_or(a: Buf | Scalar, b: Buf | Scalar, out: Buf | None = None) -> Buf:
    """a or b (non-zero is true)."""


@primitive("binary", result="bool")
def logical_xor(a: Buf | Scalar, b: Buf | Scalar, out: Buf | None = None) -> Buf:
    """a xor b (non-zero is true)."""


@primitive("binary")
def bitwise_and(a: Buf | Scalar, b: Buf | Scalar, out: Buf | None = None) -> Buf:
    """a & b on integer/bool dtypes."""


@primitive("binary")
def bitwise_or(a: Buf | Scalar, b: Buf | Scalar, out: Buf | None = None) -> Buf:
    """a | b on integer/bool dtypes."""


@primitive("binary")
def bitwise_xor(a: Buf | Scalar, b: Buf | Scalar, out: Buf | None = None) -> Buf:
    """a ^ b on integer/bool dtypes."""


# ---------------------------------------------------------------------- ternary

@primitive("ternary")
def where(cond: Buf, a: Buf | Scalar, b: Buf | Scalar, out: Buf | None = None) -> Buf:
    """cond (bool) ? a : b, broadcasting."""


# ---------------------------------------------------------------------- reduce

@primitive("reduce")
def sum(x: Buf, axes: Axes, keepdims: bool) -> Buf:
    """Sum over the non-empty tuple ``axes``; same dtype as x."""


@primitive("reduce")
def prod(x: Buf, axes: Axes, keepdims: bool) -> Buf:
    """Product over the non-empty tuple ``axes``; same dtype as x."""


@primitive("reduce")
def max(x: Buf, axes: Axes, keepdims: bool) -> Buf:
    """Maximum over the non-empty tuple ``axes``, nan-propagating; same dtype as x."""


@primitive("reduce")
def min(x: Buf, axes: Axes, keepdims: bool) -> Buf:
    """Minimum over the non-empty tuple ``axes``, nan-propagating; same dtype as x."""


@primitive("reduce")
def any(x: Buf, axes: Axes, keepdims: bool) -> Buf:
    """Logical or over the non-empty tuple ``axes`` of a bool input."""


@primitive("reduce")
def all(x: Buf, axes: Axes, keepdims: bool) -> Buf:
    """Logical and over the non-empty tuple ``axes`` of a bool input."""


@primitive("reduce")
def argmax(x: Buf, axis: int, keepdims: bool) -> Buf:
    """Index of the first extreme value along one axis (nan counts as the extreme)."""


@primitive("reduce")
def argmin(x: Buf, axis: int, keepdims: bool) -> Buf:
    """Index of the first extreme value along one axis (nan counts as the extreme)."""


@primitive("reduce")
def cumsum(x: Buf, axis: int) -> Buf:
    """Inclusive scan along one axis, same dtype.

    float16 carries the running sum in float32 at least and rounds each output once, so long
    axes do not drift (kept in float16, a sum of 0.05s stalls at 128). float32 may carry it
    wider: the cpu backend uses float64, as torch's CPU scans do."""


@primitive("reduce")
def cumprod(x: Buf, axis: int) -> Buf:
    """Inclusive scan along one axis, same dtype."""


# ---------------------------------------------------------------------- view

@primitive("view")
def reshape(x: Buf, shape: Shape) -> Buf:
    """A view when x's strides allow it, else a copy."""


@primitive("view")
def permute(x: Buf, axes: Axes) -> Buf:
    """View with axes reordered."""


@primitive("view")
def expand(x: Buf, shape: Shape) -> Buf:
    """A read-only broadcast view to shape (same ndim; size-1 axes stretch with stride 0)."""


@primitive("view")
def slice(x: Buf, slices: Sequence[Slice]) -> Buf:
    """A view; ``slices`` is one (start, stop, step) per axis with 0 <= start <= stop <=
    size and step >= 1."""


# ---------------------------------------------------------------------- movement

@primitive("movement")
def flip(x: Buf, axes: Axes) -> Buf:
    """A new buffer with the given axes reversed."""


@primitive("movement")
def pad(x: Buf, pads: Sequence[tuple[int, int]], value: Scalar) -> Buf:
    """Pads is one (before, after) pair of non-negative ints per axis; new elements get the
    scalar value."""


@primitive("movement")
def concat(xs: Sequence[Buf], axis: int) -> Buf:
    """Join buffers of one dtype along an existing axis."""


# ---------------------------------------------------------------------- indexing

@primitive("indexing")
def index(x: Buf, indices: Sequence[Buf]) -> Buf:
    """Numpy advanced indexing x[i0, i1, ...] over the leading len(indices) axes; indices
    are int64 buffers, in range, broadcast together; result shape is
    broadcast(indices).shape + x.shape[len(indices):]."""


@primitive("indexing")
def index_put(x: Buf, indices: Sequence[Buf], values: Buf | Scalar, accumulate: bool) -> None:
    """In place, x[i0, i1, ...] = values (or += with accumulate=True, summing duplicate
    indices); x may be a strided view."""


@primitive("indexing")
def nonzero(x: Buf) -> Buf:
    """Coordinates of non-zero elements in C order."""


@primitive("indexing")
def sort(x: Buf, axis: int, descending: bool) -> tuple[Buf, Buf]:
    """Stable sort along one axis; nan sorts as the largest value."""
