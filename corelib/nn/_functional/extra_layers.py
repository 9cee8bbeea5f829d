"""Small functions of torch.nn.functional composed from others: local_response_norm,
channel_shuffle, pdist, rrelu, the in-place celu_/selu_, and the ``*_with_indices`` spellings
of the adaptive max pools."""
from __future__ import annotations

import struct

from ..._dtype import float64
from ...autograd.grad_mode import no_grad
from ...ops._graph import named
from ...ops.creation import empty, ones_like, tensor
from ...ops.gather import where
from .activation import celu, leaky_relu, selu
from .pooling import (adaptive_max_pool1d, adaptive_max_pool2d, adaptive_max_pool3d,
                      avg_pool2d, avg_pool3d)
from .vision import pad

__all__ = ["conv_tbc", "local_response_norm", "channel_shuffle", "native_channel_shuffle", "pdist",
           "rrelu", "rrelu_", "celu_", "selu_", "adaptive_max_pool1d_with_indices",
           "adaptive_max_pool2d_with_indices", "adaptive_max_pool3d_with_indices"]


def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):
    """x / (k + alpha * mean of x^2 over ``size`` neighbouring channels)^beta (torch's
    composition: zero-padded channel windows averaged by avg_pool)."""
    dim = input.ndim
    if dim < 3:
        raise ValueError(f"Expected 3D or higher dimensionality                          input "
                         f"(got {dim} dimensions)")
    if input.numel() == 0:
        return input
    div = input * input
    if dim == 3:
        div = pad(div.unsqueeze(1), (0, 0, size // 2, (size - 1) // 2))
        div = avg_pool2d(div, (size, 1), stride=1).squeeze(1)
    else:
        sizes = input.shape
        div = div.reshape(sizes[0], 1, sizes[1], sizes[2], -1)
        div = pad(div, (0, 0, 0, 0, size // 2, (size - 1) // 2))
        div = avg_pool3d(div, (size, 1, 1), stride=1).squeeze(1).reshape(sizes)
    return input / (div * alpha + k).pow(beta)


def channel_shuffle(input, groups):
    """Interleave the channels of ``groups`` groups: (N, g*k, *) -> channel order (k, g)."""
    if input.ndim <= 2:
        raise RuntimeError(f"channel_shuffle expects input with > 2 dims, but got input with "
                           f"sizes {list(input.shape)}")
    if groups <= 0:
        raise RuntimeError(f"Number of groups to divide channels in must be positive. Value of "
                           f"groups:{groups}")
    c = input.shape[1]
    if c % groups:
        raise RuntimeError(f"Number of channels must be divisible by groups. Got {c} channels "
                           f"and {groups} groups.")
    n, rest = input.shape[0], tuple(input.shape[2:])
    return input.reshape((n, groups, c // groups) + rest).transpose(1, 2) \
        .reshape((n, c) + rest)


native_channel_shuffle = channel_shuffle


def pdist(input, p=2):
    """Distances between every pair of rows i < j of an (N, M) input, row-major."""
    if input.ndim != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {input.ndim}D")
    n = input.shape[0]
    rows = [(i, j) for i in range(n) for j in range(i + 1, n)]
    if not rows:
        return input.new_zeros((0,))
    left = tensor([i for i, _ in rows], device=input.device)
    right = tensor([j for _, j in rows], device=input.device)
    return (input.index_select(0, left) - input.index_select(0, right)).norm(p, dim=1)


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, inplace=False):
    """Leaky ReLU whose negative slope is drawn from U(lower, upper) per element in training
    (mean slope in eval).

    Training draws torch's numbers: one ``uniform_real_distribution<double>`` value per element
    ``<= 0``, in row-major order, between bounds rounded to the input's compute precision, and
    rounded to the input's dtype (torch's rrelu_with_noise); the slopes are the gradient."""
    if not training:
        out = leaky_relu(input, (lower + upper) / 2, inplace)
        return out if inplace else named(out, "RreluWithNoiseBackward0")
    with no_grad():
        negative = input <= 0
        count = int(negative.sum())
        low, high = (float(lower), float(upper)) if input.dtype == float64 else \
            (_to_float32(lower), _to_float32(upper))
        # u * (high - low) + low rounded twice, as rrelu's loop does (uniform_ fuses it)
        draws = empty(count, dtype=float64).uniform_() * (high - low) + low
        slopes = ones_like(input).masked_scatter(negative, draws.to(input.device, input.dtype))
    out = named(input * slopes, "RreluWithNoiseBackward0")
    return input.copy_(out) if inplace else out


def _to_float32(value: float) -> float:
    """``value`` rounded to float32 (torch's opmath type for float inputs)."""
    return struct.unpack("f", struct.pack("f", value))[0]


def rrelu_(input, lower=1.0 / 8, upper=1.0 / 3, training=False):
    """In-place :func:`rrelu`."""
    return rrelu(input, lower, upper, training, True)


def celu_(input, alpha=1.0):
    """In-place celu."""
    return celu(input, alpha, True)


def selu_(input):
    """In-place selu."""
    return selu(input, True)


def adaptive_max_pool1d_with_indices(input, output_size, return_indices=False):
    """adaptive_max_pool1d returning (values, indices)."""
    return adaptive_max_pool1d(input, output_size, True)


def adaptive_max_pool2d_with_indices(input, output_size, return_indices=False):
    """adaptive_max_pool2d returning (values, indices)."""
    return adaptive_max_pool2d(input, output_size, True)


def adaptive_max_pool3d_with_indices(input, output_size, return_indices=False):
    """adaptive_max_pool3d returning (values, indices)."""
    return adaptive_max_pool3d(input, output_size, True)


def conv_tbc(input, weight, bias, pad=0):
    """1-D convolution of time-batch-channel input (T, B, C_in) with a (k, C_in, C_out)
    weight: conv1d in (B, C, T) layout, permuted back to (T_out, B, C_out)."""
    from .conv import conv1d
    if input.ndim != 3:
        raise RuntimeError("Input must have 3 dims: time, batch, in_channel")
    if weight.ndim != 3:
        raise RuntimeError("Weight tensor must have 3 dims: kernel_width, in_channels, "
                           "out_channels.")
    if bias.ndim != 1 or bias.shape[0] != weight.shape[2]:
        raise RuntimeError("Bias size must equal dim 2 in the weight tensor (output channels).")
    if input.shape[2] != weight.shape[1]:
        raise RuntimeError("Input dim 2 (input channels) is not == dim 1 in the weight tensor")
    out = conv1d(input.permute(1, 2, 0), weight.permute(2, 1, 0), bias, padding=pad)
    return named(out.permute(2, 0, 1), "ConvTbcBackward0")
