"""Lazy modules: LazyLinear, LazyConv*/LazyConvTranspose*, LazyBatchNorm*, LazyInstanceNorm*.

As in torch, their parameters start as :class:`UninitializedParameter` (buffers as
:class:`UninitializedBuffer`); the first forward reads the input's feature size, materializes
them, runs the layer's ``reset_parameters`` (drawing from the random stream exactly as the
eager layer built at that moment would) and turns the module into that layer's class. Loading
a state dict into a module that is still lazy materializes the tensors with the loaded shapes.
Nothing is drawn at construction.
"""
from __future__ import annotations

from ..._tensor import Tensor
from ...autograd.grad_mode import no_grad
from ...ops.creation import empty
from ..parameter import Parameter
from . import batchnorm, conv, linear, normalization

__all__ = ["UninitializedParameter", "UninitializedBuffer", "LazyModuleMixin", "LazyLinear",
           "LazyConv1d", "LazyConv2d", "LazyConv3d", "LazyConvTranspose1d",
           "LazyConvTranspose2d", "LazyConvTranspose3d", "LazyBatchNorm1d", "LazyBatchNorm2d",
           "LazyBatchNorm3d", "LazyInstanceNorm1d", "LazyInstanceNorm2d", "LazyInstanceNorm3d"]

_SHAPE_ERROR = ("Can't access the shape of an uninitialized parameter or buffer. This error "
                "usually happens in `load_state_dict` when trying to load an uninitialized "
                "parameter into an initialized one. Call `forward` to initialize the parameters "
                "before accessing their attributes.")


class _UninitializedMixin:
    """Shared by the uninitialized parameter and buffer: no shape until ``materialize``."""
    cls_to_become = None

    def materialize(self, shape, device=None, dtype=None):
        """Give the tensor ``shape`` (uninitialized memory) and its final class."""
        device = self._device if device is None else device
        dtype = self._dtype if dtype is None else dtype
        data = empty(tuple(shape), device=device, dtype=dtype)
        self._data, self._shape, self._dtype, self._device = \
            data._data, data._shape, data._dtype, data._device
        self.__class__ = self.cls_to_become

    @property
    def shape(self):
        raise RuntimeError(_SHAPE_ERROR)

    def size(self, dim=None):
        raise RuntimeError(_SHAPE_ERROR)

    def numel(self):
        raise RuntimeError(_SHAPE_ERROR)

    def __repr__(self):
        return f"<{type(self).__name__}>"

    __str__ = __repr__

    def __reduce_ex__(self, protocol):
        return (type(self), (self._requires_grad,))


class UninitializedParameter(_UninitializedMixin, Parameter):
    """A parameter whose shape is not known yet (a lazy module's, before its first call)."""
    cls_to_become = Parameter

    def __new__(cls, requires_grad=True, device=None, dtype=None):
        return Tensor.__new__(cls)

    def __init__(self, requires_grad=True, device=None, dtype=None):
        super().__init__(empty(0, device=device, dtype=dtype), requires_grad)

    def __deepcopy__(self, memo):
        if id(self) not in memo:
            memo[id(self)] = type(self)(self._requires_grad, self._device, self._dtype)
        return memo[id(self)]


class UninitializedBuffer(_UninitializedMixin, Tensor):
    """A buffer whose shape is not known yet."""
    cls_to_become = Tensor

    def __new__(cls, requires_grad=False, device=None, dtype=None):
        data = empty(0, device=device, dtype=dtype)
        data.__class__ = cls
        return data

    def __init__(self, requires_grad=False, device=None, dtype=None):
        pass

    def to(self, *args, **kwargs):
        """Moves and casts keep the buffer uninitialized (Module.to replaces buffers)."""
        new = Tensor.to(self, *args, **kwargs)
        if new is not self:
            new.__class__ = type(self)
        return new


def _is_lazy(t):
    return isinstance(t, _UninitializedMixin)


class LazyModuleMixin:
    """Infers parameter shapes from the first input (``initialize_parameters``), then becomes
    ``cls_to_become``."""
    cls_to_become = None

    def _lazy_setup(self):
        self._initialize_hook = self.register_forward_pre_hook(_infer_parameters,
                                                               with_kwargs=True)

    def has_uninitialized_params(self):
        """Whether any parameter or buffer is still uninitialized."""
        return any(_is_lazy(t) for t in (*self._parameters.values(), *self._buffers.values()))

    def _load_plan(self, state_dict, prefix, *args):
        # torch's _lazy_load_hook: loading into a lazy tensor materializes it first
        with no_grad():
            for store in (self._parameters, self._buffers):
                for name, t in store.items():
                    key = prefix + name
                    if _is_lazy(t) and key in state_dict and \
                            isinstance(state_dict[key], Tensor) and \
                            not _is_lazy(state_dict[key]):
                        t.materialize(state_dict[key]._shape)
        super()._load_plan(state_dict, prefix, *args)

    def _save_to_state_dict(self, destination, prefix, keep_vars):
        for store in (self._parameters, self._buffers):
            for name, t in store.items():
                if t is None or name in self._non_persistent_buffers_set:
                    continue
                destination[prefix + name] = t if keep_vars or _is_lazy(t) else t.detach()

    def initialize_parameters(self, *args, **kwargs):
        raise NotImplementedError(f"initialize_parameters is not implemented for "
                                  f"{type(self).__name__}")


def _infer_parameters(module, args, kwargs=None):
    module.initialize_parameters(*args, **(kwargs or {}))
    if module.has_uninitialized_params():
        raise RuntimeError(f"module {module._get_name()} has not been fully initialized")
    module._initialize_hook.remove()
    del module.__dict__["_initialize_hook"]
    if module.cls_to_become is not None:
        module.__class__ = module.cls_to_become


# ---------------------------------------------------------------------------------- layers

class LazyLinear(LazyModuleMixin, linear.Linear):
    """Linear whose ``in_features`` is read from the first input's last dim."""
    cls_to_become = linear.Linear

    def __init__(self, out_features, bias=True, device=None, dtype=None):
        super().__init__(0, 0, False)
        self.weight = UninitializedParameter(device=device, dtype=dtype)
        self.out_features = out_features
        if bias:
            self.bias = UninitializedParameter(device=device, dtype=dtype)
        self._lazy_setup()

    def reset_parameters(self):
        if not self.has_uninitialized_params() and self.in_features != 0:
            super().reset_parameters()

    def initialize_parameters(self, input):
        if self.has_uninitialized_params():
            with no_grad():
                self.in_features = input.shape[-1]
                self.weight.materialize((self.out_features, self.in_features))
                if self.bias is not None:
                    self.bias.materialize((self.out_features,))
                self.reset_parameters()


class _LazyConvMixin(LazyModuleMixin):
    def _lazy_conv_setup(self, out_channels, bias, device, dtype):
        self.weight = UninitializedParameter(device=device, dtype=dtype)
        self.out_channels = out_channels
        if bias:
            self.bias = UninitializedParameter(device=device, dtype=dtype)
        self._lazy_setup()

    def reset_parameters(self):
        if not self.has_uninitialized_params() and self.in_channels != 0:
            super().reset_parameters()

    def initialize_parameters(self, input, *args, **kwargs):
        if not self.has_uninitialized_params():
            return
        self.in_channels = self._get_in_channels(input)
        if self.in_channels % self.groups != 0:
            raise ValueError("in_channels must be divisible by groups")
        with no_grad():
            if self.transposed:
                shape = (self.in_channels, self.out_channels // self.groups)
            else:
                shape = (self.out_channels, self.in_channels // self.groups)
            self.weight.materialize(shape + tuple(self.kernel_size))
            if self.bias is not None:
                self.bias.materialize((self.out_channels,))
            self.reset_parameters()

    def _get_in_channels(self, input):
        no_batch = self._nd + 1
        if input.dim() not in (no_batch, no_batch + 1):
            raise RuntimeError(f"Expected {no_batch}D (unbatched) or {no_batch + 1}D (batched) "
                               f"input to {type(self).__name__}, but got input of size: "
                               f"{input.shape}")
        return input.shape[1] if input.dim() == no_batch + 1 else input.shape[0]


def _lazy_conv(base, nd):
    class LazyConv(_LazyConvMixin, base):
        cls_to_become = base

        def __init__(self, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                     groups=1, bias=True, padding_mode="zeros", device=None, dtype=None):
            base.__init__(self, 0, 0, kernel_size, stride, padding, dilation, groups, False,
                          padding_mode)
            self._lazy_conv_setup(out_channels, bias, device, dtype)
    LazyConv.__name__ = LazyConv.__qualname__ = f"LazyConv{nd}d"
    LazyConv.__doc__ = f"Conv{nd}d whose ``in_channels`` is read from the first input."
    return LazyConv


def _lazy_conv_transpose(base, nd):
    class LazyConvTranspose(_LazyConvMixin, base):
        cls_to_become = base

        def __init__(self, out_channels, kernel_size, stride=1, padding=0, output_padding=0,
                     groups=1, bias=True, dilation=1, padding_mode="zeros", device=None,
                     dtype=None):
            base.__init__(self, 0, 0, kernel_size, stride, padding, output_padding, groups,
                          False, dilation, padding_mode)
            self._lazy_conv_setup(out_channels, bias, device, dtype)
    LazyConvTranspose.__name__ = LazyConvTranspose.__qualname__ = f"LazyConvTranspose{nd}d"
    LazyConvTranspose.__doc__ = (f"ConvTranspose{nd}d whose ``in_channels`` is read from the "
                                 "first input.")
    return LazyConvTranspose


LazyConv1d = _lazy_conv(conv.Conv1d, 1)
LazyConv2d = _lazy_conv(conv.Conv2d, 2)
LazyConv3d = _lazy_conv(conv.Conv3d, 3)
LazyConvTranspose1d = _lazy_conv_transpose(conv.ConvTranspose1d, 1)
LazyConvTranspose2d = _lazy_conv_transpose(conv.ConvTranspose2d, 2)
LazyConvTranspose3d = _lazy_conv_transpose(conv.ConvTranspose3d, 3)


class _LazyNormBase(LazyModuleMixin):
    def __init__(self, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
                 device=None, dtype=None):
        super().__init__(0, eps, momentum, False, False)
        self.affine = affine
        self.track_running_stats = track_running_stats
        if affine:
            self.weight = UninitializedParameter(device=device, dtype=dtype)
            self.bias = UninitializedParameter(device=device, dtype=dtype)
        if track_running_stats:
            from ...ops.creation import tensor
            from ... import _dtype as D
            self.running_mean = UninitializedBuffer(device=device, dtype=dtype)
            self.running_var = UninitializedBuffer(device=device, dtype=dtype)
            self.num_batches_tracked = tensor(0, dtype=D.int64, device=device)
        self._lazy_setup()

    def reset_parameters(self):
        if not self.has_uninitialized_params() and self.num_features != 0:
            super().reset_parameters()

    def initialize_parameters(self, input):
        if not self.has_uninitialized_params():
            return
        self.num_features = self._features_of(input)
        with no_grad():
            if self.affine:
                self.weight.materialize((self.num_features,))
                self.bias.materialize((self.num_features,))
            if self.track_running_stats:
                self.running_mean.materialize((self.num_features,))
                self.running_var.materialize((self.num_features,))
            self.reset_parameters()

    def _features_of(self, input):
        return input.shape[1]


def _lazy_batch_norm(base, nd):
    class LazyBatchNorm(_LazyNormBase, base):
        cls_to_become = base

        def _features_of(self, input):
            self._check_input_dim(input)
            return input.shape[1]
    LazyBatchNorm.__name__ = LazyBatchNorm.__qualname__ = f"LazyBatchNorm{nd}d"
    LazyBatchNorm.__doc__ = f"BatchNorm{nd}d whose ``num_features`` is read from the first input."
    return LazyBatchNorm


def _lazy_instance_norm(base, nd):
    class LazyInstanceNorm(_LazyNormBase, base):
        cls_to_become = base

        def _features_of(self, input):
            self._check_input_dim(input)
            return input.shape[0] if input.dim() == self._no_batch_dim else input.shape[1]
    LazyInstanceNorm.__name__ = LazyInstanceNorm.__qualname__ = f"LazyInstanceNorm{nd}d"
    LazyInstanceNorm.__doc__ = (f"InstanceNorm{nd}d whose ``num_features`` is read from the "
                                "first input.")
    return LazyInstanceNorm


LazyBatchNorm1d = _lazy_batch_norm(batchnorm.BatchNorm1d, 1)
LazyBatchNorm2d = _lazy_batch_norm(batchnorm.BatchNorm2d, 2)
LazyBatchNorm3d = _lazy_batch_norm(batchnorm.BatchNorm3d, 3)
LazyInstanceNorm1d = _lazy_instance_norm(normalization.InstanceNorm1d, 1)
LazyInstanceNorm2d = _lazy_instance_norm(normalization.InstanceNorm2d, 2)
LazyInstanceNorm3d = _lazy_instance_norm(normalization.InstanceNorm3d, 3)
