"""dtypes, PyTorch's type promotion, and the default floating dtype.

Backends see only dtype *names* (``'float32'``); users see these objects, which print like
PyTorch's (``torch.float32``) so code comparing reprs or printing dtypes behaves the same.
"""
from __future__ import annotations

import threading

import numpy

# category order used by promotion: bool < integer < floating < complex
_BOOL, _INT, _FLOAT, _COMPLEX = 0, 1, 2, 3


class dtype:
    """A tensor element type. Singletons: compare with ``is`` or ``==``."""
    __slots__ = ("name", "itemsize", "category", "is_floating_point", "is_signed", "np",
                 "_rank", "is_complex")

    def __init__(self, name, itemsize, category, signed, rank):
        self.name = name
        self.itemsize = itemsize
        self.category = category
        self.is_floating_point = category == _FLOAT
        self.is_complex = category == _COMPLEX
        self.is_signed = signed
        self._rank = rank
        self.np = None if name == "bfloat16" else numpy.dtype(name)

    def __repr__(self):
        return f"torch.{self.name}"

    def __reduce__(self):
        return (_by_name, (self.name,))

    def to_real(self):
        """The real dtype of a complex one (complex64 -> float32); others unchanged."""
        return _REAL.get(self.name, self)

    def to_complex(self):
        """The complex dtype with this floating dtype's precision (float32 -> complex64)."""
        if self.is_complex:
            return self
        try:
            return _COMPLEX_OF[self.name]
        except KeyError:
            raise RuntimeError(f"to_complex is not supported for {self!r}") from None


bool_ = dtype("bool", 1, _BOOL, False, 0)
uint8 = dtype("uint8", 1, _INT, False, 1)
int8 = dtype("int8", 1, _INT, True, 1)
int16 = dtype("int16", 2, _INT, True, 2)
int32 = dtype("int32", 4, _INT, True, 3)
int64 = dtype("int64", 8, _INT, True, 4)
float16 = dtype("float16", 2, _FLOAT, True, 1)
bfloat16 = dtype("bfloat16", 2, _FLOAT, True, 1)
float32 = dtype("float32", 4, _FLOAT, True, 2)
float64 = dtype("float64", 8, _FLOAT, True, 3)
complex64 = dtype("complex64", 8, _COMPLEX, True, 2)
complex128 = dtype("complex128", 16, _COMPLEX, True, 3)
_REAL = {"complex64": float32, "complex128": float64}
_COMPLEX_OF = {"float32": complex64, "float64": complex128, "float16": complex64,
               "bfloat16": complex64}

ALL = (bool_, uint8, int8, int16, int32, int64, float16, bfloat16, float32, float64, complex64,
       complex128)
_NAMES = {d.name: d for d in ALL}
ALIASES = {"half": float16, "float": float32, "double": float64, "short": int16,
           "int": int32, "long": int64, "bool": bool_, "cfloat": complex64,
           "cdouble": complex128}


_LEGACY = {"bool": "Bool", "uint8": "Byte", "int8": "Char", "int16": "Short", "int32": "Int",
           "int64": "Long", "float16": "Half", "bfloat16": "BFloat16", "float32": "Float",
           "float64": "Double", "complex64": "ComplexFloat", "complex128": "ComplexDouble"}


_C_NAMES = {"bool": "bool", "uint8": "unsigned char", "int8": "signed char",
            "int16": "short int", "int32": "int", "int64": "long int", "float16": "c10::Half",
            "bfloat16": "c10::BFloat16", "float32": "float", "float64": "double",
            "complex64": "c10::complex<float>", "complex128": "c10::complex<double>"}


def c_name(d: dtype) -> str:
    """The C++ type name torch's dtype-check messages use ('float', 'long int', ...)."""
    return _C_NAMES[d.name]


def legacy_name(d: dtype) -> str:
    """torch's ScalarType name ('Float', 'Long', ...) used in its error messages."""
    return _LEGACY[d.name]


def _by_name(name):
    return _NAMES[name]


def from_name(name: str) -> dtype:
    return _NAMES[name]


def from_numpy(np_dtype) -> dtype:
    """The plugrad dtype of a numpy dtype; TypeError for ones torch cannot hold."""
    try:
        return _NAMES[numpy.dtype(np_dtype).name]
    except KeyError:
        raise TypeError(f"can't convert np.ndarray of type numpy.{numpy.dtype(np_dtype).name}. "
                        "The only supported types are: float64, float32, float16, complex64, "
                        "complex128, int64, int32, int16, int8, uint8, and bool.") from None


# ------------------------------------------------------------------------ default dtype
_state = threading.local()


def get_default_dtype() -> dtype:
    """The floating dtype factories and integer-to-float ops use (float32 unless set)."""
    return getattr(_state, "default", float32)


def set_default_dtype(d: dtype) -> None:
    """Set the default floating dtype for this thread; non-floating dtypes raise TypeError."""
    if not isinstance(d, dtype) or not d.is_floating_point:
        raise TypeError(f"only floating-point types are supported as the default type, got {d}")
    _state.default = d


# --------------------------------------------------------------------------- promotion
def _promote_pair(a: dtype, b: dtype) -> dtype:
    """torch.promote_types for two dtypes (same rules as PyTorch's promotion table)."""
    if a is b:
        return a
    if a.category != b.category:
        hi, lo = (a, b) if a.category > b.category else (b, a)
        if hi.is_complex and lo.category == _FLOAT and lo._rank > hi._rank:
            return lo.to_complex()          # complex64 with float64: complex128
        return hi
    if a.category == _FLOAT:
        if {a, b} == {float16, bfloat16}:
            return float32
        return a if a._rank > b._rank else b
    if a.category == _COMPLEX:
        return a if a._rank > b._rank else b
    if a.category == _INT:
        if uint8 in (a, b):  # uint8 with a signed type: the smallest signed type holding both
            other = b if a is uint8 else a
            return int16 if other is int8 else other
        return a if a._rank > b._rank else b
    return a


_PROMOTE = {(a, b): _promote_pair(a, b) for a in ALL for b in ALL}


def promote_types(a: dtype, b: dtype) -> dtype:
    """The smallest dtype both a and b convert to safely, by torch's promotion table."""
    return _PROMOTE[a, b]


# Operand kinds for result_type: dimensioned tensor, zero-dim tensor, Python scalar.
DIM, ZERO_DIM, SCALAR = 0, 1, 2


def scalar_dtype(value) -> dtype:
    """The dtype a Python scalar is treated as (torch's 'wrapped number' rule)."""
    if isinstance(value, bool):
        return bool_
    if isinstance(value, int):
        return int64
    if isinstance(value, float):
        return float64
    if isinstance(value, complex):
        return complex128
    # numpy scalars behave like 0-dim tensors of their dtype in torch
    return from_numpy(numpy.asarray(value).dtype)


_RESULT_CACHE: dict = {}


def result_type(da: dtype, ka: int, db: dtype, kb: int) -> dtype:
    """torch.result_type for two operands given their dtypes and kinds (DIM/ZERO_DIM/SCALAR).

    Higher-priority kinds (dimensioned tensors) decide the dtype unless a lower-priority operand
    has a higher category; then that category's dtype wins, and a Python float becomes the
    *default* dtype rather than float64 (an int Python scalar becomes int64).
    """
    key = (da, ka, db, kb, get_default_dtype())
    hit = _RESULT_CACHE.get(key)
    if hit is not None:
        return hit
    result = _result_type(da, ka, db, kb)
    _RESULT_CACHE[key] = result
    return result


def _result_type(da, ka, db, kb):
    best = {}
    for d, k in ((da, ka), (db, kb)):
        if k == SCALAR and d.category == _FLOAT:
            d = get_default_dtype()
        elif k == SCALAR and d.category == _COMPLEX:
            d = get_default_dtype().to_complex()
        best[k] = promote_types(best[k], d) if k in best else d
    result = None
    for k in (DIM, ZERO_DIM, SCALAR):
        if k not in best:
            continue
        if result is None or best[k].category > result.category:
            result = best[k] if result is None else _lift(result, best[k], k)
    return result


def _lift(current: dtype, candidate: dtype, kind: int) -> dtype:
    """A lower-priority operand of higher category: take its dtype (scalars: default sizes)."""
    if kind == SCALAR and candidate.category == _INT:
        return int64
    if candidate.is_complex and current.category == _FLOAT:
        return current.to_complex()     # torch keeps the dimensioned operand's precision
    return candidate
