"""max_unpool1d/2d/3d: the partial inverse of max pooling, a scatter of each value to the
position its index names inside a zero output (gradient: the matching gather)."""
from __future__ import annotations

from .conv import _tuple

__all__ = ["max_unpool1d", "max_unpool2d", "max_unpool3d"]


def _output_size(input, kernel, stride, padding, output_size, nd):
    default = [(input.shape[input.ndim - nd + d] - 1) * stride[d] + kernel[d] - 2 * padding[d]
               for d in range(nd)]
    if output_size is None:
        return default
    sizes = list(output_size)
    if len(sizes) == nd + 2:
        sizes = sizes[2:]
    if len(sizes) != nd:
        raise ValueError(f"output_size should be a sequence containing {nd} or {nd + 2} "
                         f"elements, but it has a length of '{len(sizes)}'")
    for d in range(nd):
        lo, hi = default[d] - stride[d], default[d] + stride[d]
        if not lo < sizes[d] < hi:
            raise ValueError(f'invalid output_size "{tuple(sizes)}" (dim {d} must be between '
                             f"{lo} and {hi})")
    return sizes


def _max_unpool(nd, input, indices, kernel_size, stride, padding, output_size):
    kernel = _tuple(kernel_size, nd, "kernel_size")
    stride = kernel if stride is None else _tuple(stride, nd, "stride")
    padding = _tuple(padding, nd, "padding")
    sizes = _output_size(input, kernel, stride, padding, output_size, nd)
    batched = input.ndim == nd + 2
    x = input if batched else input.unsqueeze(0)
    idx = indices if batched else indices.unsqueeze(0)
    n, c = x.shape[:2]
    volume = 1
    for s in sizes:
        volume *= s
    flat_idx = idx.reshape(n, c, -1)
    if flat_idx.numel():
        lo, hi = int(flat_idx.min().item()), int(flat_idx.max().item())
        bad = hi if hi >= volume else lo if lo < 0 else None
        if bad is not None:
            shown = "x".join(str(s) for s in sizes)
            raise RuntimeError(f"Found an invalid max index: {bad} (output volumes are of size "
                               f"{shown})")
    out = x.new_zeros((n, c, volume)).scatter(2, flat_idx, x.reshape(n, c, -1))
    out = out.reshape((n, c) + tuple(sizes))
    return out if batched else out.squeeze(0)


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Place (N, C, L) values at their max_pool1d indices in a zero (N, C, L_out)."""
    return _max_unpool(1, input, indices, kernel_size, stride, padding, output_size)


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Place (N, C, H, W) values at their max_pool2d indices in a zero (N, C, H_out, W_out)."""
    return _max_unpool(2, input, indices, kernel_size, stride, padding, output_size)


def max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Place (N, C, D, H, W) values at their max_pool3d indices in a zero output."""
    return _max_unpool(3, input, indices, kernel_size, stride, padding, output_size)
