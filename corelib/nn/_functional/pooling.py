"""Pooling: max/avg over sliding windows and adaptive pooling, composed from plugrad ops.

Sliding windows come from :func:`plugrad.ops.conv.windows` (one strided slice per kernel
offset, stacked), so a max pool is ``windows(...).max(2)``: its backward sends each gradient to
the first maximum of the window in row-major order, as torch's CPU kernel does. Adaptive pools
use a reshape when the sizes divide and otherwise gather/matmul over torch's
``[floor(i*In/Out), ceil((i+1)*In/Out))`` bins.
"""
from __future__ import annotations

import math

from ... import _dtype as D
from ...ops import pooling as _pool_ops
from ...ops.conv import windows
from ...ops.creation import arange, tensor
from ...ops.movement import constant_pad
from ...ops._graph import named
from .conv import _tuple

__all__ = ["max_pool1d", "max_pool2d", "max_pool1d_with_indices", "max_pool2d_with_indices",
           "avg_pool1d", "avg_pool2d", "adaptive_avg_pool1d", "adaptive_avg_pool2d",
           "adaptive_max_pool1d", "adaptive_max_pool2d", "lp_pool1d", "lp_pool2d", "max_pool3d",
           "max_pool3d_with_indices", "avg_pool3d", "adaptive_avg_pool3d", "adaptive_max_pool3d",
           "lp_pool3d"]


def _out_len(size, k, s, p, d, ceil_mode):
    """torch's pooling_output_shape: floor or ceil, and the last window starts inside."""
    n = size + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil_mode else 0)
    out = n // s + 1
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1
    return out


def _pool_args(name, input, kernel_size, stride, padding, dilation, nd):
    kernel = _tuple(kernel_size, nd, "kernel_size")
    stride = kernel if stride is None or (isinstance(stride, (list, tuple)) and not stride) \
        else _tuple(stride, nd, "stride")
    padding = _tuple(padding, nd, "padding")
    dilation = _tuple(dilation, nd, "dilation")
    if input.ndim not in (nd + 1, nd + 2) or input.numel() == 0:
        if nd == 1:
            raise RuntimeError(f"{name}: Expected 2D or 3D (batch mode) tensor with optional 0 "
                               f"dim batch size for input, but got:{list(input.shape)}")
        raise RuntimeError(f"non-empty {nd + 1}D or {nd + 2}D (batch mode) tensor expected for "
                           "input")
    if any(s == 0 for s in stride):
        raise RuntimeError("stride should not be zero")
    if any(k <= 0 for k in kernel):
        raise RuntimeError("kernel size should be greater than zero")
    if any(d <= 0 for d in dilation):
        raise RuntimeError("dilation should be greater than zero")
    for k, p, d in zip(kernel, padding, dilation):
        if p > (d * (k - 1) + 1) // 2:
            raise RuntimeError(f"pad should be at most half of effective kernel size, but got "
                               f"pad={p}, kernel_size={k} and dilation={d}")
    return kernel, stride, padding, dilation


def _as_images(input, nd):
    """(N, C, [H,] W) or unbatched -> 4-D, and the function undoing it."""
    shape = input.shape
    x = input
    if x.ndim == nd + 1:
        x = x.unsqueeze(0)
    if nd == 1:
        x = x.unsqueeze(2)

    def back(out):
        if nd == 1:
            out = out.squeeze(2)
        return out.squeeze(0) if len(shape) == nd + 1 else out
    return x, back


def _padded_for_windows(x, kernel, stride, padding, dilation, ceil_mode, fill):
    """x padded with ``fill`` (extra right padding for ceil_mode) and the output size."""
    h, w = x.shape[2:]
    oh = _out_len(h, kernel[0], stride[0], padding[0], dilation[0], ceil_mode)
    ow = _out_len(w, kernel[1], stride[1], padding[1], dilation[1], ceil_mode)
    if oh <= 0 or ow <= 0:
        raise RuntimeError(f"Given input size: ({x.shape[1]}x{h}x{w}). Calculated output size: "
                           f"({x.shape[1]}x{oh}x{ow}). Output size is too small")
    need_h = (oh - 1) * stride[0] + dilation[0] * (kernel[0] - 1) + 1
    need_w = (ow - 1) * stride[1] + dilation[1] * (kernel[1] - 1) + 1
    rh = max(need_h - h - padding[0], 0)
    rw = max(need_w - w - padding[1], 0)
    if padding[0] or padding[1] or rh or rw:
        x = constant_pad(x, [padding[1], rw, padding[0], rh], fill)
    return x, (oh, ow)


def _windows_of(x, kernel, stride, padding, dilation, ceil_mode, fill):
    """(N, C, K, oh, ow) windows of x padded with ``fill`` (extra right padding for ceil)."""
    x, out_hw = _padded_for_windows(x, kernel, stride, padding, dilation, ceil_mode, fill)
    return windows(x, kernel, stride, dilation, out_hw), out_hw


# ------------------------------------------------------------------------------- max pool

def _max_pool(name, nd, input, kernel_size, stride, padding, dilation, ceil_mode,
              return_indices):
    kernel, stride, padding, dilation = _pool_args(name, input, kernel_size, stride, padding,
                                                   dilation, nd)
    x, back = _as_images(input, nd)
    if nd == 1:
        kernel, stride, padding, dilation = ((1,) + kernel, (1,) + stride, (0,) + padding,
                                             (1,) + dilation)
    padded, (oh, ow) = _padded_for_windows(x, kernel, stride, padding, dilation, ceil_mode,
                                           -math.inf)
    values, window = _pool_ops.max_pool2d(padded, kernel, stride, dilation, (oh, ow))
    values = back(values)
    if nd == 2 and values.grad_fn is not None and \
            values.grad_fn.name() != "MaxPool2DWithIndicesBackward0":
        values = named(values, "MaxPool2DWithIndicesBackward0")
    if not return_indices:
        return values
    # flat index into the unpadded H*W plane: row = o*s - p + i*d for kernel row i = k // kw
    w = x.shape[3]
    dev = x.device
    kw = kernel[1]
    rows = (arange(oh, device=dev) * stride[0] - padding[0]).reshape(oh, 1) + \
        (window // kw) * dilation[0]
    cols = (arange(ow, device=dev) * stride[1] - padding[1]) + (window % kw) * dilation[1]
    return values, back(rows * w + cols)


def max_pool2d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=True):
    """:func:`max_pool2d` returning (values, indices)."""
    return _max_pool("max_pool2d", 2, input, kernel_size, stride, padding, dilation, ceil_mode,
                     True)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """Max over (kh, kw) windows of (N, C, H, W) or (C, H, W) input."""
    return _max_pool("max_pool2d", 2, input, kernel_size, stride, padding, dilation, ceil_mode,
                     return_indices)


def max_pool1d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=True):
    """:func:`max_pool1d` returning (values, indices)."""
    return _max_pool("max_pool1d", 1, input, kernel_size, stride, padding, dilation, ceil_mode,
                     True)


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """Max over length-k windows of (N, C, L) or (C, L) input."""
    return _max_pool("max_pool1d", 1, input, kernel_size, stride, padding, dilation, ceil_mode,
                     return_indices)


# ------------------------------------------------------------------------------- avg pool

def _divisors(size, k, s, p, out, count_include_pad):
    """Per-position divisor along one axis, as torch's avg_pool kernel computes it."""
    result = []
    for o in range(out):
        start = o * s - p
        end = min(start + k, size + p)
        pool = end - start
        valid = min(end, size) - max(start, 0)
        result.append(pool if count_include_pad else valid)
    return result


def _avg_pool(name, nd, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
              divisor_override):
    kernel, stride, padding, _ = _pool_args(name, input, kernel_size, stride, padding, 1, nd)
    x, back = _as_images(input, nd)
    if nd == 1:
        kernel, stride, padding = (1,) + kernel, (1,) + stride, (0,) + padding
    cols, (oh, ow) = _windows_of(x, kernel, stride, padding, (1, 1), ceil_mode, 0)
    total = cols.sum(2)
    if divisor_override:
        out = total / divisor_override
    else:
        h, w = x.shape[2:]
        dh = _divisors(h, kernel[0], stride[0], padding[0], oh, count_include_pad)
        dw = _divisors(w, kernel[1], stride[1], padding[1], ow, count_include_pad)
        if len(set(dh)) == 1 and len(set(dw)) == 1:
            out = total / float(dh[0] * dw[0])
        else:
            div = tensor([[a * b for b in dw] for a in dh], dtype=x.dtype, device=x.device)
            out = total / div
    return named(back(out), "AvgPool2DBackward0") if nd == 2 else back(out)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """Mean over (kh, kw) windows; padding counts toward the divisor unless told otherwise."""
    return _avg_pool("avg_pool2d", 2, input, kernel_size, stride, padding, ceil_mode,
                     count_include_pad, divisor_override)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True):
    """1-D average pooling over (N, C, L) input with the given window, stride and padding."""
    return _avg_pool("avg_pool1d", 1, input, kernel_size, stride, padding, ceil_mode,
                     count_include_pad, None)


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """(sum over windows of x^p)^(1/p), torch's formula (sign(x) * relu(|x|) * k)^(1/p)."""
    kh, kw = _tuple(kernel_size, 2, "kernel_size")
    out = avg_pool2d(input.pow(norm_type), (kh, kw), stride, 0, ceil_mode)
    return (out.sign() * out.abs().relu()).mul(kh * kw).pow(1.0 / norm_type)


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """1-D power-average pooling: (sum of x**norm_type over each window) ** (1/norm_type)."""
    out = avg_pool1d(input.pow(norm_type), kernel_size, stride, 0, ceil_mode)
    return (out.sign() * out.abs().relu()).mul(kernel_size).pow(1.0 / norm_type)


# -------------------------------------------------------------------------- adaptive pools

def _bins(size, out):
    return [(i * size // out, -(-(i + 1) * size // out)) for i in range(out)]


def _adaptive_sizes(name, input, output_size, nd):
    if input.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(f"{name}(): Expected {nd + 1}D or {nd + 2}D tensor, but got "
                           f"{list(input.shape)}")
    sizes = list(output_size) if isinstance(output_size, (list, tuple)) else [output_size] * nd
    if len(sizes) != nd:
        raise RuntimeError(f"{name}: internal error: output_size.size() must be {nd}")
    spatial = input.shape[-nd:]
    sizes = tuple(int(s) if s is not None else spatial[i] for i, s in enumerate(sizes))
    if any(s < 0 for s in sizes):
        shown = "{" + ", ".join(str(s) for s in sizes) + "}"
        raise RuntimeError(f"{name}: elements of output_size must be greater than or equal to 0 "
                           f"but received {shown}")
    for i in range(1, input.ndim):
        if input.shape[i] == 0:
            raise RuntimeError(f"{name}(): Expected input to have non-zero size for non-batch "
                               f"dimensions, but input has sizes {list(input.shape)} with "
                               f"dimension {i} being empty")
    return sizes


def _avg_matrix(size, out, like):
    rows = [[0.0] * size for _ in range(out)]
    for i, (a, b) in enumerate(_bins(size, out)):
        for j in range(a, b):
            rows[i][j] = 1.0 / (b - a)
    return tensor(rows, dtype=like.dtype, device=like.device)


def _adaptive_avg_axis(x, axis, out):
    """Average x (4-D) along axis 2 or 3 into ``out`` bins."""
    size = x.shape[axis]
    if size == out:
        return x
    if out == 0:            # torch: an empty output (no bins)
        return x.narrow(axis, 0, 0) * 1.0
    if size % out == 0:
        k = size // out
        shape = list(x.shape)
        shape[axis:axis + 1] = [out, k]
        return x.reshape(shape).mean(axis + 1)
    m = _avg_matrix(size, out, x)
    return m.matmul(x) if axis == 2 else x.matmul(m.t())


def adaptive_avg_pool2d(input, output_size):
    """Mean over torch's adaptive bins, (N, C, H, W) or (C, H, W) -> (..., oh, ow)."""
    oh, ow = _adaptive_sizes("adaptive_avg_pool2d", input, output_size, 2)
    x, back = _as_images(input, 2)
    out = _adaptive_avg_axis(_adaptive_avg_axis(x, 2, oh), 3, ow)
    if out is x:
        out = x * 1.0
    return named(back(out), "AdaptiveAvgPool2DBackward0")


def adaptive_avg_pool1d(input, output_size):
    """Average pooling over (N, C, L) input to length ``output_size``, windows sized to fit."""
    (ol,) = _adaptive_sizes("adaptive_avg_pool1d", input, _tuple(output_size, 1), 1)
    x, back = _as_images(input, 1)
    out = _adaptive_avg_axis(x, 3, ol)
    if out is x:
        out = x * 1.0
    return back(out)


def _gather_table(size, out, device):
    """(out, L) source indices per bin; short bins repeat their last index (never chosen
    before the original by a first-maximum rule)."""
    bins = _bins(size, out)
    width = max(b - a for a, b in bins)
    rows = [[min(a + j, b - 1) for j in range(width)] for a, b in bins]
    return tensor(rows, dtype=D.int64, device=device), width


def _adaptive_max(name, nd, input, output_size, return_indices):
    sizes = _adaptive_sizes(name, input, output_size, nd)
    x, back = _as_images(input, nd)
    oh, ow = (1,) + sizes if nd == 1 else sizes
    n, c, h, w = x.shape
    if oh == 0 or ow == 0:      # torch: an empty output (no bins)
        empty = x.reshape(-1)[:0].reshape(n, c, oh, ow)
        values = back(empty)
        if not return_indices:
            return values
        return values, back(empty.new_zeros(empty.shape, dtype=D.int64))
    th, lh = _gather_table(h, oh, x.device)
    tw, lw = _gather_table(w, ow, x.device)
    g = x.index_select(2, th.reshape(-1)).index_select(3, tw.reshape(-1))
    g = g.reshape(n, c, oh, lh, ow, lw).permute(0, 1, 2, 4, 3, 5).reshape(n, c, oh, ow, lh * lw)
    values, arg = g.max(-1)
    values = named(back(values), "AdaptiveMaxPool2DBackward0") if nd == 2 else back(values)
    if not return_indices:
        return values
    flat = (th.reshape(oh, 1, lh, 1) * w + tw.reshape(1, ow, 1, lw)).reshape(1, 1, oh, ow,
                                                                             lh * lw)
    indices = flat.expand(n, c, oh, ow, lh * lw).gather(-1, arg.unsqueeze(-1)).squeeze(-1)
    return values, back(indices)


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """Max pooling over (N, C, H, W) input to ``output_size`` (h, w); with return_indices,
    (values, indices)."""
    return _adaptive_max("adaptive_max_pool2d", 2, input, output_size, return_indices)


def adaptive_max_pool1d(input, output_size, return_indices=False):
    """Max pooling over (N, C, L) input to length ``output_size``; with return_indices,
    (values, indices)."""
    return _adaptive_max("adaptive_max_pool1d", 1, input, _tuple(output_size, 1),
                         return_indices)


# -------------------------------------------------------------------------------- 3-d pools
# Separable compositions: a 2-D pool over (H, W) of every depth slice, then the same
# reduction over depth windows. For max pooling the first maximum in (d, h, w) order still
# wins (the 2-D stage keeps each slice's first (h, w), the depth stage the first d).

def _pool3d_args(name, input, kernel_size, stride, padding, dilation):
    kernel, stride, padding, dilation = _pool_args(name, input, kernel_size, stride, padding,
                                                   dilation, 3)
    return kernel, stride, padding, dilation


def _depth_windows(x, k, s, d, p, out, fill):
    """(N, C, D, ...) -> (N, C, k, out, ...): depth windows of x padded with ``fill``."""
    from ...ops.movement import stack
    depth = x.shape[2]
    need = (out - 1) * s + d * (k - 1) + 1
    right = max(need - depth - p, 0)
    if p or right:
        pads = [0, 0] * (x.ndim - 3) + [p, right]
        x = constant_pad(x, pads, fill)
    span = s * (out - 1) + 1
    return stack([x[:, :, i * d:i * d + span:s] for i in range(k)], 2)


def _batched5(input):
    return (input, lambda t: t) if input.ndim == 5 else \
        (input.unsqueeze(0), lambda t: t.squeeze(0))


def _max_pool3d(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices):
    kernel, stride, padding, dilation = _pool3d_args("max_pool3d", input, kernel_size, stride,
                                                     padding, dilation)
    x, back = _batched5(input)
    n, c, d, h, w = x.shape
    od = _out_len(d, kernel[0], stride[0], padding[0], dilation[0], ceil_mode)
    oh = _out_len(h, kernel[1], stride[1], padding[1], dilation[1], ceil_mode)
    ow = _out_len(w, kernel[2], stride[2], padding[2], dilation[2], ceil_mode)
    if od <= 0 or oh <= 0 or ow <= 0:
        raise RuntimeError(f"Given input size: ({c}x{d}x{h}x{w}). Calculated output size: "
                           f"({c}x{od}x{oh}x{ow}). Output size is too small")
    planes, hw_index = _max_pool("max_pool2d", 2, x.reshape(n, c * d, h, w), kernel[1:],
                                 stride[1:], padding[1:], dilation[1:], ceil_mode, True)
    planes = planes.reshape(n, c, d, oh, ow)
    wins = _depth_windows(planes, kernel[0], stride[0], dilation[0], padding[0], od, -math.inf)
    values, arg = wins.max(2)
    values = named(back(values), "MaxPool3DWithIndicesBackward0")
    if not return_indices:
        return values
    hw = _depth_windows(hw_index.reshape(n, c, d, oh, ow), kernel[0], stride[0], dilation[0],
                        padding[0], od, 0)
    hw = hw.gather(2, arg.unsqueeze(2)).squeeze(2)
    depth = (arange(od, device=x.device) * stride[0] - padding[0]).reshape(od, 1, 1) + \
        arg * dilation[0]
    return values, back(depth * (h * w) + hw)


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """Max over (kd, kh, kw) windows of (N, C, D, H, W) or (C, D, H, W) input."""
    return _max_pool3d(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def max_pool3d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=True):
    """:func:`max_pool3d` returning (values, indices)."""
    return _max_pool3d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """Mean over (kd, kh, kw) windows of (N, C, D, H, W) or (C, D, H, W) input."""
    kernel, stride, padding, _ = _pool3d_args("avg_pool3d", input, kernel_size, stride,
                                              padding, 1)
    x, back = _batched5(input)
    n, c, d, h, w = x.shape
    sizes = (d, h, w)
    outs = [_out_len(s, k, st, p, 1, ceil_mode) for s, k, st, p in
            zip(sizes, kernel, stride, padding)]
    if any(o <= 0 for o in outs) or any(s + 2 * p < k for s, p, k in zip(sizes, padding,
                                                                          kernel)):
        raise RuntimeError(f"input image (T: {d} H: {h} W: {w}) smaller than kernel size "
                           f"(kT: {kernel[0]} kH: {kernel[1]} kW: {kernel[2]})")
    od, oh, ow = outs
    sums = avg_pool2d(x.reshape(n, c * d, h, w), kernel[1:], stride[1:], padding[1:],
                      ceil_mode, True, 1).reshape(n, c, d, oh, ow)
    total = _depth_windows(sums, kernel[0], stride[0], 1, padding[0], od, 0).sum(2)
    if divisor_override:
        out = total / divisor_override
    else:
        per_axis = [_divisors(s, k, st, p, o, count_include_pad) for s, k, st, p, o in
                    zip(sizes, kernel, stride, padding, outs)]
        if all(len(set(v)) == 1 for v in per_axis):
            out = total / float(per_axis[0][0] * per_axis[1][0] * per_axis[2][0])
        else:
            div = tensor([[[a * b * e for e in per_axis[2]] for b in per_axis[1]]
                          for a in per_axis[0]], dtype=x.dtype, device=x.device)
            out = total / div
    return named(back(out), "AvgPool3DBackward0")


def adaptive_avg_pool3d(input, output_size):
    """Mean over torch's adaptive bins, (N, C, D, H, W) or (C, D, H, W) -> (..., od, oh, ow)."""
    od, oh, ow = _adaptive_sizes("adaptive_avg_pool3d", input, output_size, 3)
    x, back = _batched5(input)
    n, c, d, h, w = x.shape
    if (od, oh, ow) == (1, 1, 1):     # torch takes the mean here (grad_fn MeanBackward1)
        return back(x.mean((2, 3, 4), keepdim=True))
    out = _adaptive_avg_axis(x.reshape(n, c, d, h * w), 2, od).reshape(n, c * od, h, w)
    out = _adaptive_avg_axis(_adaptive_avg_axis(out, 2, oh), 3, ow)
    out = out.reshape(n, c, od, oh, ow)
    if (od, oh, ow) == (d, h, w):     # every axis kept: still a new tensor, as torch
        out = out * 1.0
    return named(back(out), "AdaptiveAvgPool3DBackward0")


def adaptive_max_pool3d(input, output_size, return_indices=False):
    """Max over torch's adaptive bins of (N, C, D, H, W) input; with return_indices,
    (values, indices into each D*H*W volume)."""
    if input.ndim not in (4, 5):
        raise RuntimeError(f"adaptive_max_pool3d(): Expected 4D or 5D tensor, but got: "
                           f"{list(input.shape)}")
    od, oh, ow = _adaptive_sizes("adaptive_max_pool3d", input, output_size, 3)
    x, back = _batched5(input)
    n, c, d, h, w = x.shape
    if 0 in (od, oh, ow):
        empty = x.reshape(-1)[:0].reshape(n, c, od, oh, ow)
        values = back(empty)
        return (values, back(empty.new_zeros(empty.shape, dtype=D.int64))) \
            if return_indices else values
    td, ld = _gather_table(d, od, x.device)
    th, lh = _gather_table(h, oh, x.device)
    tw, lw = _gather_table(w, ow, x.device)
    g = x.index_select(2, td.reshape(-1)).index_select(3, th.reshape(-1)) \
        .index_select(4, tw.reshape(-1))
    g = g.reshape(n, c, od, ld, oh, lh, ow, lw).permute(0, 1, 2, 4, 6, 3, 5, 7) \
        .reshape(n, c, od, oh, ow, ld * lh * lw)
    values, arg = g.max(-1)
    values = named(back(values), "AdaptiveMaxPool3DBackward0")
    if not return_indices:
        return values
    flat = (td.reshape(od, 1, 1, ld, 1, 1) * (h * w) + th.reshape(1, oh, 1, 1, lh, 1) * w +
            tw.reshape(1, 1, ow, 1, 1, lw)).reshape(1, 1, od, oh, ow, ld * lh * lw)
    indices = flat.expand(n, c, od, oh, ow, ld * lh * lw).gather(-1, arg.unsqueeze(-1))
    return values, back(indices.squeeze(-1))


def lp_pool3d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """(sum over (kd, kh, kw) windows of x^p)^(1/p), torch's formula."""
    kd, kh, kw = _tuple(kernel_size, 3, "kernel_size")
    out = avg_pool3d(input.pow(norm_type), (kd, kh, kw), stride, 0, ceil_mode)
    return (out.sign() * out.abs().relu()).mul(kd * kh * kw).pow(1.0 / norm_type)
