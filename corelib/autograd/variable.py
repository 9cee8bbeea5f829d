"""``torch.autograd.Variable``: since torch 0.4 every tensor is a Variable.

Calling it returns an alias of the data outside any graph with the requested ``requires_grad``
(torch's behaviour: ``Variable(y)`` of a non-leaf is detached); ``isinstance(t, Variable)`` is
true for every tensor.
"""
from __future__ import annotations

import warnings


class _VariableMeta(type):
    def __instancecheck__(cls, obj):
        from .._tensor import Tensor
        return isinstance(obj, Tensor)

    def __call__(cls, data=None, requires_grad=False, volatile=None):
        from .._tensor import Tensor
        if volatile is not None:
            warnings.warn("volatile was removed and now has no effect. Use `with torch.no_grad():` "
                          "instead.", stacklevel=2)
        if data is None:
            from ..ops.creation import empty
            return empty(0)
        if not isinstance(data, Tensor):
            raise TypeError(f"Variable data has to be a tensor, but got {type(data).__name__}")
        return data.detach().requires_grad_(requires_grad)


class Variable(metaclass=_VariableMeta):
    """A tensor (kept for programs written before torch 0.4)."""
