"""Numerical integration along a dim: trapezoid (and its old name trapz), cumulative_trapezoid.

Compositions of slicing, sums and cumsum, so gradients and every backend come for free.
"""
from __future__ import annotations

from numbers import Number

from .. import _dtype as D
from .._tensor import Tensor, _wrap_dim


def _areas(y, x, dx, dim):
    """The trapezoids' areas along ``dim`` (integers become the default float, as torch)."""
    if not (y._dtype.is_floating_point or y._dtype.is_complex):
        y = y.to(D.get_default_dtype())
    d = _wrap_dim(dim, y.dim())
    n = y.shape[d]
    mids = (y.narrow(d, 1, n - 1) + y.narrow(d, 0, n - 1)) / 2 if n else y
    if x is None:
        return mids * dx
    if x.dim() == 1:
        if x.shape[0] != n:
            raise RuntimeError("trapezoid: There must be one `x` value for each sample point")
        step = x.diff().reshape([-1 if i == d else 1 for i in range(y.dim())])
    else:
        step = x.diff(dim=dim)
    return mids * step


def _check(x, dx, name):
    if x is not None and dx is not None:
        raise TypeError(f"{name}() received an invalid combination of arguments - got (Tensor, "
                        f"Tensor, dx=...): pass either x or dx")
    if x is not None and not isinstance(x, Tensor):
        raise TypeError(f"{name}(): argument 'x' must be Tensor, not {type(x).__name__}")
    if dx is not None and not isinstance(dx, Number):
        raise TypeError(f"{name}(): argument 'dx' must be Number, not {type(dx).__name__}")


def trapezoid(y, x=None, *, dx=None, dim=-1):
    """Integral of ``y`` along ``dim`` by the trapezoidal rule (samples at ``x``, or ``dx``
    apart)."""
    _check(x, dx, "trapezoid")
    if y.shape[_wrap_dim(dim, y.dim())] == 0:
        out_dtype = y._dtype if y._dtype.is_floating_point else D.get_default_dtype()
        return y.sum(dim).to(out_dtype) * 0
    return _areas(y, x, 1 if dx is None else dx, dim).sum(dim)


def trapz(y, x=None, *, dx=None, dim=-1):
    """trapezoid's older name (torch keeps both)."""
    return trapezoid(y, x, dx=dx, dim=dim)


def cumulative_trapezoid(y, x=None, *, dx=None, dim=-1):
    """Running trapezoid integral along ``dim`` (one element fewer than ``y``)."""
    _check(x, dx, "cumulative_trapezoid")
    d = _wrap_dim(dim, y.dim())
    if y.shape[d] == 0:
        out_dtype = y._dtype if y._dtype.is_floating_point else D.get_default_dtype()
        return y.to(out_dtype)
    return _areas(y, x, 1 if dx is None else dx, dim).cumsum(d)


__all__ = ["trapezoid", "trapz", "cumulative_trapezoid"]
