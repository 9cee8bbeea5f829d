"""``nn.Parameter``: a leaf tensor that modules register as a learnable parameter."""
from __future__ import annotations

from .._tensor import Tensor


class Parameter(Tensor):
    """A Tensor that is a module parameter; shares storage with the tensor it wraps."""

    def __new__(cls, data=None, requires_grad=True):
        return super().__new__(cls)

    def __init__(self, data=None, requires_grad=True):
        if data is None:
            from ..ops.creation import empty
            data = empty(0)
        if not isinstance(data, Tensor):
            raise TypeError(f"Parameter(): data must be a Tensor, got {type(data).__name__}")
        self._data, self._shape = data._data, data._shape
        self._dtype, self._device = data._dtype, data._device
        self._grad_fn = None
        self._requires_grad = False
        self._vc = data._shared_vc()
        self._is_param = True
        if requires_grad:
            self.requires_grad_(True)

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        from ..autograd.grad_mode import no_grad
        with no_grad():
            result = Parameter(self.detach().clone(), self._requires_grad)
        if self._grad is not None:
            result._grad = self._grad.__deepcopy__(memo)
        memo[id(self)] = result
        return result

    def __reduce_ex__(self, protocol):
        from ..serialization import _pickled_values, _rebuild_parameter
        return (_rebuild_parameter, (_pickled_values(self), self._dtype.name,
                                     str(self._device), self._requires_grad))


class Buffer(Tensor):
    """``nn.Buffer(tensor)``: marks a tensor to be registered as a module buffer."""

    def __new__(cls, data=None, *, persistent=True):
        from ..ops.creation import empty
        data = data if data is not None else empty(0)
        data = data.detach()
        data._buffer_persistent = persistent
        return data
