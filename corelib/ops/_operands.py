"""Operand normalisation for elementwise ops: scalars, dtype promotion, devices, broadcasting.

Every elementwise op starts here. The common case -- two tensors of one dtype on one device --
returns after a few identity checks; everything else goes through :func:`_slow`.
"""
from __future__ import annotations

import functools
import numbers

import numpy

from .. import _dtype as D
from .._tensor import Tensor

_SCALARS = (bool, int, float, complex)


@functools.lru_cache(maxsize=4096)
def broadcast_shapes(sa: tuple, sb: tuple) -> tuple:
    """Broadcast two shapes; RuntimeError with torch's message when they are incompatible."""
    n = max(len(sa), len(sb))
    pa = (1,) * (n - len(sa)) + sa
    pb = (1,) * (n - len(sb)) + sb
    out = [0] * n
    for i in range(n - 1, -1, -1):          # torch checks (and reports) from the last dim
        x, y = pa[i], pb[i]
        if x == y or y == 1:
            out[i] = x
        elif x == 1:
            out[i] = y
        else:
            raise RuntimeError(f"The size of tensor a ({x}) must match the size of tensor b ({y}) "
                               f"at non-singleton dimension {i}")
    return tuple(out)


def _kind(t) -> int:
    return D.DIM if t._shape else D.ZERO_DIM


def as_scalar(value, dt):
    """A Python scalar converted to the Python type backends expect for dtype ``dt``;
    integers outside a narrow dtype's range wrap around, as torch's C casts do."""
    if dt.is_floating_point:
        return float(value)
    if dt.is_complex:
        return complex(value)
    if dt is D.bool_:
        return bool(value)
    value = int(value)
    bits = dt.itemsize * 8
    low = -(1 << (bits - 1)) if dt.is_signed else 0
    if not low <= value < low + (1 << bits):
        value = (value - low) % (1 << bits) + low
    return value


def binary(a, b):
    """(ta, tb, xa, xb, dtype, shape, device) for an elementwise op on ``a`` and ``b``.

    ``ta``/``tb`` are the Tensor operands (None for Python scalars); ``xa``/``xb`` are backend
    buffers or Python scalars already converted to the result dtype.
    """
    tb = type(b)
    if type(a) is Tensor:
        if tb is Tensor:
            dev = a._device
            if b._device is dev and a._dtype is b._dtype:
                sa, sb = a._shape, b._shape
                return (a, b, a._data, b._data, a._dtype,
                        sa if sa == sb else broadcast_shapes(sa, sb), dev)
        elif tb is float:
            # a Python float keeps a floating tensor's dtype (torch's wrapped-number rule)
            dt = a._dtype
            if dt.is_floating_point or dt.is_complex:
                return a, None, a._data, b, dt, a._shape, a._device
        elif tb is int:
            dt = a._dtype
            if dt.is_floating_point or dt.is_complex:
                return a, None, a._data, float(b), dt, a._shape, a._device
            if dt is _INT64:
                return a, None, a._data, b, dt, a._shape, a._device
    elif tb is Tensor:
        ta = type(a)
        dt = b._dtype
        if ta is float and (dt.is_floating_point or dt.is_complex):
            return None, b, a, b._data, dt, b._shape, b._device
        if ta is int and (dt.is_floating_point or dt.is_complex):
            return None, b, float(a), b._data, dt, b._shape, b._device
    return _slow(a, b)


_INT64 = D.int64


def _from_numpy_operand(value, like):
    """A numpy operand, as torch treats it: numpy scalars are Python numbers (wrapped, so
    ``x * np.float64(2)`` stays float32); arrays are tensors on ``like``'s device that count
    as dimensioned (``x + np.array(2.0)`` is float64, as torch gives)."""
    if isinstance(value, numpy.generic):
        if value.dtype.kind not in "biuf":
            raise TypeError(f"unsupported operand type: numpy.{value.dtype.name}")
        return value.item(), False
    if isinstance(value, numpy.ndarray):
        from .creation import from_host_array
        device = like._device if isinstance(like, Tensor) else None
        return from_host_array(numpy.ascontiguousarray(value), None, device, owned=False), True
    raise TypeError(f"unsupported operand type: '{type(value).__name__}' (expected Tensor or "
                    "Number)")


def _kind_of(t, forced):
    return D.DIM if forced or t._shape else D.ZERO_DIM


def _slow(a, b):
    fa = fb = False
    if not isinstance(a, Tensor) and not isinstance(a, _SCALARS):
        a, fa = _from_numpy_operand(a, b)
    if not isinstance(b, Tensor) and not isinstance(b, _SCALARS):
        b, fb = _from_numpy_operand(b, a)
    if isinstance(a, Tensor):
        if isinstance(b, Tensor):
            a, b = _same_device(a, b)
            dt = D.result_type(a._dtype, _kind_of(a, fa), b._dtype, _kind_of(b, fb))
            shape = broadcast_shapes(a._shape, b._shape)
            return a, b, cast_data(a, dt), cast_data(b, dt), dt, shape, a._device
        dt = D.result_type(a._dtype, _kind_of(a, fa), D.scalar_dtype(b), D.SCALAR)
        return a, None, cast_data(a, dt), as_scalar(b, dt), dt, a._shape, a._device
    if isinstance(b, Tensor):
        dt = D.result_type(D.scalar_dtype(a), D.SCALAR, b._dtype, _kind_of(b, fb))
        return None, b, as_scalar(a, dt), cast_data(b, dt), dt, b._shape, b._device
    raise TypeError("at least one operand must be a Tensor")


def cast_data(t, dt):
    """t's buffer in dtype ``dt`` (no copy when it already is)."""
    if t._dtype is dt:
        return t._data
    return t._device.ops.cast(t._data, dt.name)


def _same_device(a, b):
    """Enforce torch's device rule: one device, except 0-dim cpu tensors used as scalars."""
    if a._device is b._device:
        return a, b
    if not b._shape and b._device.type == "cpu":
        return a, b.to(a._device)
    if not a._shape and a._device.type == "cpu":
        return a.to(b._device), b
    raise RuntimeError(f"Expected all tensors to be on the same device, but found at least two "
                       f"devices, {a._device} and {b._device}!")


def check_same_device(*tensors):
    """RuntimeError unless all tensors share a device (for ops without the scalar exception)."""
    first = tensors[0]._device
    for t in tensors[1:]:
        if t._device is not first:
            raise RuntimeError(f"Expected all tensors to be on the same device, but found at "
                               f"least two devices, {first} and {t._device}!")


def is_number(value) -> bool:
    return isinstance(value, numbers.Number) and not isinstance(value, Tensor)
