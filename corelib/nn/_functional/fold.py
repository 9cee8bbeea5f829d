"""unfold (im2col) and fold (col2im), and the overlap-add that fold and the 3-d transposed
convolution share.

``unfold`` stacks one strided slice per kernel offset (:func:`plugrad.ops.conv.windows`);
``fold`` is its adjoint: each offset's block is written into a zero image at the same strided
positions and the K images are summed (:func:`overlap_add`). Both are compositions of
differentiable ops, so each one's gradient is the other.
"""
from __future__ import annotations

from ...ops._graph import named
from ...ops.conv import windows
from ...ops.movement import constant_pad
from ...ops.views import slice_backward
from .conv import _tuple

__all__ = ["unfold", "fold"]


def overlap_add(blocks, shape, starts, strides):
    """sum_k zeros(shape) with blocks[k] written at ``starts[k]`` (one start per trailing
    axis, stepping by ``strides``); leading axes are taken whole."""
    total = None
    lead = len(shape) - len(strides)
    for block, start in zip(blocks, starts):
        slices = tuple((0, shape[a], 1) for a in range(lead))
        slices += tuple((s0, s0 + st * (n - 1) + 1, st) for s0, st, n in
                        zip(start, strides, block.shape[lead:]))
        part = slice_backward(block.contiguous(), tuple(shape), slices)
        total = part if total is None else total + part
    return total


def _pairs(kernel_size, dilation, padding, stride):
    return (_tuple(kernel_size, 2, "kernel_size"), _tuple(dilation, 2, "dilation"),
            _tuple(padding, 2, "padding"), _tuple(stride, 2, "stride"))


def _check_params(kernel, dilation, padding, stride):
    if any(k <= 0 for k in kernel):
        raise RuntimeError(f"kernel size should be greater than zero, but got kernel_height: "
                           f"{kernel[0]} kernel_width: {kernel[1]}")
    if any(d <= 0 for d in dilation):
        raise RuntimeError(f"dilation should be greater than zero, but got dilation_height: "
                           f"{dilation[0]} dilation_width: {dilation[1]}")
    if any(p < 0 for p in padding):
        raise RuntimeError(f"padding should be non-negative, but got pad_height: {padding[0]} "
                           f"pad_width: {padding[1]}")
    if any(s <= 0 for s in stride):
        raise RuntimeError(f"stride should be greater than zero, but got stride_height: "
                           f"{stride[0]} stride_width: {stride[1]}")


def _blocks(size, kernel, dilation, padding, stride):
    return [(s + 2 * p - (d * (k - 1) + 1)) // st + 1
            for s, k, d, p, st in zip(size, kernel, dilation, padding, stride)]


def _check_length(name, value, n=2):
    if isinstance(value, (list, tuple)) and len(value) not in (1, n):
        raise RuntimeError(f"It is expected {name} equals to {n}, but got size {len(value)}")


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """Sliding local blocks of (N, C, H, W) (or (C, H, W)) input as columns:
    (N, C * kh * kw, L), L the number of blocks."""
    for name, v in (("kernel_size", kernel_size), ("dilation", dilation),
                    ("padding", padding), ("stride", stride)):
        _check_length(name, v)
    kernel, dilation, padding, stride = _pairs(kernel_size, dilation, padding, stride)
    _check_params(kernel, dilation, padding, stride)
    if input.ndim not in (3, 4) or any(s == 0 for s in input.shape[-3:]):
        raise RuntimeError(f"Expected 3D or 4D (batch mode) tensor with possibly 0 batch size "
                           f"and other non-zero dimensions for input, but got: "
                           f"{list(input.shape)}")
    batched = input.ndim == 4
    x = input if batched else input.unsqueeze(0)
    oh, ow = _blocks(x.shape[2:], kernel, dilation, padding, stride)
    if oh < 1 or ow < 1:
        raise RuntimeError(f"Given input with spatial size ({x.shape[2]}, {x.shape[3]}), "
                           f"kernel_size=({kernel[0]}, {kernel[1]}), dilation=({dilation[0]}, "
                           f"{dilation[1]}), padding=({padding[0]}, {padding[1]}), calculated "
                           f"shape of the array of sliding blocks as ({oh}, {ow}), but its "
                           "components must be at least one.")
    if padding[0] or padding[1]:
        x = constant_pad(x, [padding[1], padding[1], padding[0], padding[0]])
    n, c = x.shape[:2]
    cols = windows(x, kernel, stride, dilation, (oh, ow)).reshape(
        n, c * kernel[0] * kernel[1], oh * ow)
    cols = named(cols, "Im2ColBackward0")
    return cols if batched else cols.squeeze(0)


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """Sum sliding local blocks (N, C * kh * kw, L) back into an (N, C, H, W) image
    (``output_size`` = (H, W)); overlapping values add up (the adjoint of :func:`unfold`)."""
    for name, v in (("output_size", output_size), ("kernel_size", kernel_size),
                    ("dilation", dilation), ("padding", padding), ("stride", stride)):
        _check_length(name, v)
    size = _tuple(output_size, 2, "output_size")
    kernel, dilation, padding, stride = _pairs(kernel_size, dilation, padding, stride)
    _check_params(kernel, dilation, padding, stride)
    if input.ndim not in (2, 3) or any(s == 0 for s in input.shape[-2:]):
        raise RuntimeError(f"Expected 2D or 3D (batch mode) tensor for input with possibly 0 "
                           f"batch size and non-zero dimensions for input, but got: "
                           f"{list(input.shape)}")
    batched = input.ndim == 3
    x = input if batched else input.unsqueeze(0)
    k = kernel[0] * kernel[1]
    if x.shape[1] % k:
        raise RuntimeError(f"Expected size of input's dimension 1 to be divisible by the product "
                           f"of kernel_size, but got input.size(1)={x.shape[1]} and "
                           f"kernel_size=({kernel[0]}, {kernel[1]}).")
    oh, ow = _blocks(size, kernel, dilation, padding, stride)
    if oh < 1 or ow < 1 or x.shape[2] != oh * ow:
        raise RuntimeError(f"Given output_size=({size[0]}, {size[1]}), kernel_size=({kernel[0]}, "
                           f"{kernel[1]}), dilation=({dilation[0]}, {dilation[1]}), padding=("
                           f"{padding[0]}, {padding[1]}), stride=({stride[0]}, {stride[1]}), "
                           f"expected size of input's dimension 2 to match the calculated number "
                           f"of sliding blocks {oh} * {ow} = {oh * ow}, but got input.size(2)="
                           f"{x.shape[2]}.")
    n, c = x.shape[0], x.shape[1] // k
    cols = x.reshape(n, c, k, oh, ow)
    padded = (n, c, size[0] + 2 * padding[0], size[1] + 2 * padding[1])
    starts = [(i * dilation[0], j * dilation[1]) for i in range(kernel[0])
              for j in range(kernel[1])]
    out = overlap_add(cols.unbind(2), padded, starts, stride)
    out = out[:, :, padding[0]:padding[0] + size[0], padding[1]:padding[1] + size[1]]
    out = named(out, "Col2ImBackward0")
    return out if batched else out.squeeze(0)
