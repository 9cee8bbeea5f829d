"""Convolutions: Conv1d/2d/3d and ConvTranspose1d/2d/3d (torch's _ConvNd)."""
from __future__ import annotations

import math

from ...ops.creation import empty
from .. import functional as F
from .. import init
from ..parameter import Parameter
from .module import Module

__all__ = ["Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d"]


def _ntuple(value, n):
    if isinstance(value, (list, tuple)):
        return tuple(value) if len(value) != 1 else tuple(value) * n
    return (value,) * n


class _ConvNd(Module):
    """Shared configuration, parameters and initialisation of every convolution."""

    _nd = 2

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, dilation,
                 transposed, output_padding, groups, bias, padding_mode, device=None,
                 dtype=None):
        super().__init__()
        if groups <= 0:
            raise ValueError("groups must be a positive integer")
        if in_channels % groups != 0:
            raise ValueError("in_channels must be divisible by groups")
        if out_channels % groups != 0:
            raise ValueError("out_channels must be divisible by groups")
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(f"Invalid padding string {padding!r}, should be one of "
                                 f"{set(['same', 'valid'])}")
            if padding == "same" and any(s != 1 for s in stride):
                raise ValueError("padding='same' is not supported for strided convolutions")
        modes = {"zeros", "reflect", "replicate", "circular"}
        if padding_mode not in modes:
            raise ValueError(f"padding_mode must be one of {modes}, but got "
                             f"padding_mode='{padding_mode}'")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = kernel_size
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
        self.transposed = transposed
        self.output_padding = output_padding
        self.groups = groups
        self.padding_mode = padding_mode
        if isinstance(padding, str):
            # torch: 'same' pads total d*(k-1), the extra unit on the right
            reversed_pads = [0, 0] * len(kernel_size)
            if padding == "same":
                for d, k, i in zip(dilation, kernel_size, range(len(kernel_size) - 1, -1, -1)):
                    total = d * (k - 1)
                    reversed_pads[2 * i] = total // 2
                    reversed_pads[2 * i + 1] = total - total // 2
            self._reversed_padding_repeated_twice = reversed_pads
        else:
            self._reversed_padding_repeated_twice = [p for p in reversed(padding) for _ in (0, 1)]
        shape = (in_channels, out_channels // groups) if transposed else \
            (out_channels, in_channels // groups)
        self.weight = Parameter(empty(shape + tuple(kernel_size), device=device, dtype=dtype))
        if bias:
            self.bias = Parameter(empty(out_channels, device=device, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        # kaiming_uniform_(a=sqrt(5)) then U(-1/sqrt(fan_in), 1/sqrt(fan_in)), torch's draw order
        # (https://github.com/pytorch/pytorch/issues/57109)
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def extra_repr(self):
        s = "{in_channels}, {out_channels}, kernel_size={kernel_size}, stride={stride}"
        if self.padding != (0,) * len(self.padding):
            s += ", padding={padding}"
        if self.dilation != (1,) * len(self.dilation):
            s += ", dilation={dilation}"
        if self.output_padding != (0,) * len(self.output_padding):
            s += ", output_padding={output_padding}"
        if self.groups != 1:
            s += ", groups={groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += ", padding_mode={padding_mode}"
        return s.format(**self.__dict__)

    def __setstate__(self, state):
        super().__setstate__(state)
        if not hasattr(self, "padding_mode"):
            self.padding_mode = "zeros"


class _Conv(_ConvNd):
    _fn = None

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, padding_mode="zeros", device=None, dtype=None):
        n = self._nd
        super().__init__(in_channels, out_channels, _ntuple(kernel_size, n), _ntuple(stride, n),
                         padding if isinstance(padding, str) else _ntuple(padding, n),
                         _ntuple(dilation, n), False, _ntuple(0, n), groups, bias, padding_mode,
                         device, dtype)

    def _conv_forward(self, input, weight, bias):
        fn = type(self)._fn
        if self.padding_mode != "zeros":
            padded = F.pad(input, self._reversed_padding_repeated_twice, mode=self.padding_mode)
            return fn(padded, weight, bias, self.stride, 0, self.dilation, self.groups)
        return fn(input, weight, bias, self.stride, self.padding, self.dilation, self.groups)

    def forward(self, input):
        return self._conv_forward(input, self.weight, self.bias)


class Conv1d(_Conv):
    r"""1-D cross-correlation: :math:`out(N_i, C_{out_j}) = b_j + \sum_k w_{jk} \star x_{ik}`.

    Args:
        in_channels, out_channels, kernel_size: the layer's shape.
        stride=1, padding=0 (int, tuple, 'valid' or 'same'), dilation=1, groups=1, bias=True,
        padding_mode='zeros' ('reflect', 'replicate', 'circular').

    Shape: (N, C_in, L_in) or (C_in, L_in) -> (N, C_out, L_out).

    Attributes:
        weight: (out_channels, in_channels/groups, kernel_size), and bias: (out_channels),
            both from U(-sqrt(k), sqrt(k)), k = groups / (C_in * kernel_size).

    Examples::

        >>> m = nn.Conv1d(16, 33, 3, stride=2)
        >>> m(torch.randn(20, 16, 50)).size()
        torch.Size([20, 33, 24])
    """
    _nd = 1
    _fn = staticmethod(F.conv1d)


class Conv2d(_Conv):
    r"""2-D cross-correlation over (N, C, H, W) input.

    Args:
        in_channels, out_channels, kernel_size: the layer's shape (int or pair).
        stride=1, padding=0 (int, pair, 'valid' or 'same'), dilation=1, groups=1, bias=True,
        padding_mode='zeros' ('reflect', 'replicate', 'circular').

    Shape: (N, C_in, H, W) or (C_in, H, W) -> (N, C_out, H_out, W_out) with
        H_out = floor((H + 2 padding - dilation (kernel - 1) - 1) / stride + 1).

    Attributes:
        weight: (out_channels, in_channels/groups, kh, kw), bias: (out_channels), both from
            U(-sqrt(k), sqrt(k)), k = groups / (C_in * kh * kw).

    Examples::

        >>> m = nn.Conv2d(16, 33, 3, stride=2)
        >>> m(torch.randn(20, 16, 50, 100)).size()
        torch.Size([20, 33, 24, 49])
    """
    _nd = 2
    _fn = staticmethod(F.conv2d)


class Conv3d(_Conv):
    """3-D cross-correlation over (N, C, D, H, W) input.

    Attributes: weight (out_channels, in_channels/groups, kd, kh, kw), bias (out_channels),
    both from U(-sqrt(k), sqrt(k)), k = groups / (C_in * kd * kh * kw).
    """
    _nd = 3
    _fn = staticmethod(F.conv3d)


class _ConvTranspose(_ConvNd):
    _fn = None

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 output_padding=0, groups=1, bias=True, dilation=1, padding_mode="zeros",
                 device=None, dtype=None):
        if padding_mode != "zeros":
            raise ValueError(f'Only "zeros" padding mode is supported for {type(self).__name__}')
        n = self._nd
        super().__init__(in_channels, out_channels, _ntuple(kernel_size, n), _ntuple(stride, n),
                         _ntuple(padding, n), _ntuple(dilation, n), True,
                         _ntuple(output_padding, n), groups, bias, padding_mode, device, dtype)

    def _output_padding(self, input, output_size, stride, padding, kernel_size,
                        num_spatial_dims, dilation=None):
        """The output_padding that yields ``output_size`` (torch's check and message)."""
        if output_size is None:
            return tuple(self.output_padding)
        batched = input.ndim == num_spatial_dims + 2
        lead = 2 if batched else 1
        if len(output_size) == lead + num_spatial_dims:
            output_size = output_size[lead:]
        if len(output_size) != num_spatial_dims:
            raise ValueError(f"ConvTranspose{num_spatial_dims}D: for {input.ndim}D input, "
                             f"output_size must have {num_spatial_dims} or "
                             f"{lead + num_spatial_dims} elements (got {len(output_size)})")
        mins, maxs = [], []
        for d in range(num_spatial_dims):
            size = (input.shape[d + lead] - 1) * stride[d] - 2 * padding[d] + \
                (dilation[d] if dilation is not None else 1) * (kernel_size[d] - 1) + 1
            mins.append(size)
            maxs.append(size + stride[d] - 1)
        for size, lo, hi in zip(output_size, mins, maxs):
            if size < lo or size > hi:
                raise ValueError(f"requested an output size of {output_size}, but valid sizes "
                                 f"range from {mins} to {maxs} (for an input of "
                                 f"{input.shape[lead:]!r})")
        return tuple(s - lo for s, lo in zip(output_size, mins))

    def forward(self, input, output_size=None):
        output_padding = self._output_padding(input, output_size, self.stride, self.padding,
                                              self.kernel_size, self._nd, self.dilation)
        return type(self)._fn(input, self.weight, self.bias, self.stride, self.padding,
                              output_padding, self.groups, self.dilation)


class ConvTranspose1d(_ConvTranspose):
    """1-D transposed convolution (the gradient of Conv1d with respect to its input).

    Attributes: weight (in_channels, out_channels/groups, kernel_size), bias (out_channels).
    """
    _nd = 1
    _fn = staticmethod(F.conv_transpose1d)


class ConvTranspose2d(_ConvTranspose):
    """2-D transposed convolution (the gradient of Conv2d with respect to its input).

    Shape: (N, C_in, H, W) -> (N, C_out, H_out, W_out) with
        H_out = (H - 1) stride - 2 padding + dilation (kernel - 1) + output_padding + 1.

    Attributes: weight (in_channels, out_channels/groups, kh, kw), bias (out_channels).

    Examples::

        >>> m = nn.ConvTranspose2d(16, 33, 3, stride=2)
        >>> m(torch.randn(20, 16, 50, 100)).size()
        torch.Size([20, 33, 101, 201])
    """
    _nd = 2
    _fn = staticmethod(F.conv_transpose2d)


class ConvTranspose3d(_ConvTranspose):
    """3-D transposed convolution (the gradient of Conv3d with respect to its input).

    Attributes: weight (in_channels, out_channels/groups, kd, kh, kw), bias (out_channels).
    """
    _nd = 3
    _fn = staticmethod(F.conv_transpose3d)
