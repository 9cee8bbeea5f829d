"""Bind the declared ops to Tensor as methods, in-place methods, operators and ufuncs.

Which op has which variant is declared once, in :mod:`plugrad.ops.table`; this module only
turns rows into attributes, so ``torch.add(a, b)``, ``a.add(b)``, ``a.add_(b)`` and ``a + b``
run the same code. What remains written out here are the operators with behaviour of their
own (``==`` with None, ``~`` on bools, ``number / x``) and Tensor attributes that are not ops.
"""
from __future__ import annotations

import types

from . import _dtype as D
from ._tensor import Tensor
from .ops import binary, creation, unary
from .ops.inplace import apply_inplace
from .ops.table import OPS, resolve

_COMPARISONS = frozenset({"eq", "ne", "lt", "le", "gt", "ge"})
_UNARY_OPERATORS = frozenset({"neg", "abs", "invert"})

# ------------------------------------------------------------------ derived bindings


def _general_inplace(op, name):
    """``x.name_(...)``: compute ``op(x, ...)`` and write it into x (autograd-aware)."""
    def method(self, *args, **kwargs):
        return apply_inplace(self, op, *args, **kwargs)
    method.__name__ = method.__qualname__ = f"{name}_"
    method.__doc__ = f"In-place version of :meth:`Tensor.{name}`: writes the result into self."
    return method


def _reflect(fn):
    def reflected(self, other):
        return fn(other, self)
    reflected.__name__ = f"r{fn.__name__}"
    return reflected


def _operator(fn, reflected=False):
    """``a + b`` etc.: the op with temporary elision allowed (see ``ops/_elision.py``).

    The forward operator is a copy of the op function whose ``_elide`` keyword defaults to
    True -- the same code object, so no wrapper frame is added to the hottest call there is.
    """
    if reflected:
        def op(self, other):
            return fn(other, self, _elide=True)
        op.__name__ = f"__r{fn.__name__}__"
        return op
    op = types.FunctionType(fn.__code__, fn.__globals__, f"__{fn.__name__}__",
                            fn.__defaults__, fn.__closure__)
    op.__kwdefaults__ = {**(fn.__kwdefaults__ or {}), "_elide": True}
    op.__doc__, op.__module__ = fn.__doc__, fn.__module__
    return op


def _iop(method_name):
    def iop(self, other):
        return getattr(self, method_name)(other)
    return iop


def _bind_operator(stem, fn, inplace_name):
    """``__stem__``, and for binary arithmetic ``__rstem__`` and ``__istem__``."""
    if stem in _COMPARISONS or stem in _UNARY_OPERATORS:
        setattr(Tensor, f"__{stem}__", fn)
        return
    elides = "_elide" in (fn.__kwdefaults__ or {})
    setattr(Tensor, f"__{stem}__", _operator(fn) if elides else fn)
    setattr(Tensor, f"__r{stem}__", _operator(fn, reflected=True) if elides else _reflect(fn))
    if inplace_name is not None:
        setattr(Tensor, f"__i{stem}__", _iop(inplace_name))


_UFUNC_OPS = {}


def _bind(rows):
    for row in rows:
        fn = resolve(row.impl)
        method = resolve(row.method) if row.method else fn
        inplace = None
        if "i" in row.variants:
            inplace = resolve(row.inplace) if row.inplace else _general_inplace(method, row.name)
        for name in row.names():
            if "m" in row.variants:
                setattr(Tensor, name, method)
            if inplace is not None:
                setattr(Tensor, f"{name}_", inplace)
        if row.operator:
            _bind_operator(row.operator, fn, f"{row.name}_" if inplace is not None else None)
        for ufunc in row.ufunc:
            _UFUNC_OPS[ufunc] = fn


_bind(OPS.values())

# ------------------------------------------------- operators with behaviour of their own


def _eq(self, other):
    if other is None or other is Ellipsis or isinstance(other, (str, type)):
        return False
    return binary.eq(self, other)


def _ne(self, other):
    if other is None or other is Ellipsis or isinstance(other, (str, type)):
        return True
    return binary.ne(self, other)


def _invert(self):
    if self._dtype is D.bool_:
        return unary.logical_not(self)
    if self._dtype.is_floating_point:
        raise TypeError("~ (operator.invert) is only implemented on integer and Boolean-type "
                        "tensors")
    return unary.bitwise_not(self)


def _rtruediv(self, other):
    # torch computes number / x as x.reciprocal() * number (grad_fn MulBackward0)
    if isinstance(other, (bool, int, float)) or _is_numpy_scalar(other):
        return binary.mul(unary.reciprocal(self), other)
    return binary.div(other, self)


def _is_numpy_scalar(value):
    import numpy
    return isinstance(value, numpy.generic)


def _pos(self):
    return self


Tensor.__eq__ = _eq
Tensor.__ne__ = _ne
Tensor.__invert__ = _invert
Tensor.__rtruediv__ = _rtruediv
Tensor.__pos__ = _pos
_UFUNC_OPS["invert"] = _invert      # numpy's invert is ~ (logical not on bools)


Tensor.__getitem__ = resolve("indexing.getitem")
Tensor.__setitem__ = resolve("indexing.setitem")


def _array_ufunc(self, ufunc, method, *inputs, **kwargs):
    """numpy ufuncs on tensors give tensors, as torch's do (``np.exp(t)``,
    ``ndarray + t``): the declared ones run as plugrad ops on the tensor's device (and record
    autograd); any other runs in numpy on host copies and the result is wrapped."""
    op = _UFUNC_OPS.get(ufunc.__name__) if method == "__call__" and not kwargs else None
    if op is not None:
        return op(*inputs)
    import numpy
    arrays = [numpy.asarray(x) if isinstance(x, Tensor) else x for x in inputs]
    out = kwargs.get("out")
    if out is not None:
        kwargs["out"] = tuple(numpy.asarray(o) if isinstance(o, Tensor) else o for o in out)
    result = getattr(ufunc, method)(*arrays, **kwargs)
    if out is not None:
        return out[0] if len(out) == 1 else out
    if isinstance(result, tuple):
        return tuple(creation.as_tensor(numpy.asarray(r)) for r in result)
    return creation.as_tensor(numpy.asarray(result)) if isinstance(result, (numpy.ndarray,
                                                                            numpy.generic)) \
        else result


Tensor.__array_ufunc__ = _array_ufunc

# ------------------------------------------------------- Tensor attributes, not ops


def _sum_to_size(self, *size):
    """Sum self down to ``size`` (a shape self broadcasts from), as a gradient is unbroadcast."""
    from .ops._graph import unbroadcast
    if len(size) == 1 and isinstance(size[0], (list, tuple)):
        size = tuple(size[0])
    return unbroadcast(self, tuple(size))


def _T(self):
    return self.permute(tuple(reversed(range(self.ndim))))


def _mT(self):
    if self.ndim < 2:
        raise RuntimeError("tensor.mT is only supported on matrices or batches of matrices. Got "
                           f"{self.ndim}-D tensor.")
    return self.transpose(-2, -1)


Tensor.sum_to_size = _sum_to_size
Tensor.T = property(_T)
Tensor.mT = property(_mT)
def _conj_if_complex(t):
    return t.conj() if t._dtype.is_complex else t


Tensor.H = property(lambda self: _conj_if_complex(_T(self)))
Tensor.mH = property(lambda self: _conj_if_complex(_mT(self)))


def _real_property(self):
    from .ops.complex_ops import real
    return real(self)


def _imag_property(self):
    from .ops.complex_ops import imag
    return imag(self)


def _set_part(getter):
    def setter(self, value):
        getter(self).copy_(value)
    return setter


Tensor.real = property(_real_property, _set_part(_real_property))
Tensor.imag = property(_imag_property, _set_part(_imag_property))
Tensor.apply_ = lambda self, fn: self.copy_(creation.tensor(
    [fn(v) for v in self.reshape(-1).tolist()], dtype=self._dtype).reshape(self._shape))
Tensor.apply_.__doc__ = "Replace each element x by fn(x), fn a Python callable, in place (slow)."
Tensor.map_ = lambda self, other, fn: self.copy_(creation.tensor(
    [fn(a, b) for a, b in zip(self.reshape(-1).tolist(), other.expand(self._shape).reshape(
        -1).tolist())], dtype=self._dtype).reshape(self._shape))
Tensor.map_.__doc__ = "Replace each element a by fn(a, b), b from other (broadcast), in place."
