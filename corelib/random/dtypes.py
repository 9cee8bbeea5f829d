"""dtype names the random engine accepts, with the names torch prints in its errors."""
from __future__ import annotations

import numpy as np

__all__ = ["resolve", "FLOATS", "scalar_name", "cpp_name", "not_implemented"]

_NAMES = ("float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool")
_FLOAT_NAMES = ("float16", "float32", "float64")
try:                    # bfloat16 is numpy's through ml_dtypes (the cpu backend's dependency)
    import ml_dtypes
    _NAMES += ("bfloat16",)
    _FLOAT_NAMES += ("bfloat16",)
except ImportError:     # pragma: no cover - optional
    pass
FLOATS = frozenset(np.dtype(n) for n in _FLOAT_NAMES)
# float16 and bfloat16: drawn in float32 like torch's reduced-precision branches
REDUCED = frozenset(np.dtype(n) for n in _FLOAT_NAMES if n in ("float16", "bfloat16"))

# c10::toString(ScalarType), used by AT_DISPATCH's "not implemented for 'X'"
_SCALAR = {"bfloat16": "BFloat16", "float16": "Half", "float32": "Float", "float64": "Double", "int8": "Char", "int16": "Short",
           "int32": "Int", "int64": "Long", "uint8": "Byte", "bool": "Bool"}
# caffe2::TypeMeta names, used by the random_ bounds checks ("to - 1 is out of bounds for int")
_CPP = {"bfloat16": "c10::BFloat16", "float16": "c10::Half", "float32": "float", "float64": "double", "int8": "signed char",
        "int16": "short int", "int32": "int", "int64": "long int", "uint8": "unsigned char", "bool": "bool"}


def ml_finfo(dt: np.dtype):
    """finfo of an ml_dtypes type (numpy's refuses them)."""
    return ml_dtypes.finfo(dt)


def resolve(dtype) -> np.dtype:
    """numpy dtype for a name such as ``"float32"`` (or a numpy dtype); TypeError names the choices."""
    try:
        dt = np.dtype(dtype)
    except TypeError:
        dt = None
    if dt is None or dt.name not in _NAMES:
        raise TypeError(f"unsupported dtype {dtype!r}; expected one of: {', '.join(_NAMES)}")
    return dt


def scalar_name(dt: np.dtype) -> str:
    return _SCALAR[dt.name]


def cpp_name(dt: np.dtype) -> str:
    return _CPP[dt.name]


def not_implemented(kernel: str, dt: np.dtype) -> NotImplementedError:
    """The error torch's AT_DISPATCH raises for a dtype a kernel lacks."""
    return NotImplementedError(f'"{kernel}" not implemented for \'{scalar_name(dt)}\'')
