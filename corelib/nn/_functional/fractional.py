"""Fractional max pooling (Graham, 2014): pooling windows at pseudo-random, increasing offsets.

The offsets come from one uniform sample per (batch, channel, dim), drawn as torch draws them
(``rand(N, C, nd)``, so a seeded run pools the same windows) or passed as
``_random_samples``; they follow torch's generate_intervals in the input's dtype:
``start[i] = int((i + u) * alpha) - int(u * alpha)``, alpha = (in - k) / (out - 1), the last
window flush with the end. Windows are gathered per dim and reduced; the first maximum in
row-major window order wins, as in torch's kernel.
"""
from __future__ import annotations

from ... import _dtype as D
from ...ops.creation import arange, rand, tensor
from .conv import _tuple

__all__ = ["fractional_max_pool2d", "fractional_max_pool2d_with_indices",
           "fractional_max_pool3d", "fractional_max_pool3d_with_indices"]

_DIM_NAMES = {2: ("height", "width"), 3: ("time", "height", "width")}


def _starts(sample, size, out, k, dtype, device):
    """(N, C, out) window starts along one dim from samples (N, C)."""
    last = tensor([size - k], dtype=D.int64, device=device).expand(*sample.shape, 1)
    if out <= 1:
        return last[..., :out] if out == 0 else last
    alpha = tensor(float(size - k), dtype=dtype, device=device) / float(out - 1)
    steps = arange(out - 1, dtype=dtype, device=device)
    s = sample.unsqueeze(-1)
    body = ((steps + s) * alpha).long() - (s * alpha).long()
    from ...ops.movement import cat
    return cat([body, last], -1)


def _fractional(nd, input, kernel_size, output_size, output_ratio, _random_samples):
    name = f"fractional_max_pool{nd}d"
    kernel = _tuple(kernel_size, nd, "kernel_size")
    if output_size is None and output_ratio is None:
        raise ValueError(f"{name} requires specifying either an output_size or an "
                         "output_ratio")
    if input.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(f"{name}(): Expected {nd + 1}D or {nd + 2}D tensor, but got: "
                           f"{list(input.shape)}")
    spatial = tuple(input.shape[-nd:])
    if output_size is None:
        ratio = _ratio(output_ratio, nd)
        output_size = [int(s * r) for s, r in zip(spatial, ratio)]
    out = _tuple(output_size, nd, "output_size")
    batched = input.ndim == nd + 2
    x = input if batched else input.unsqueeze(0)
    n, c = x.shape[:2]
    # torch's 3-d kernel needs one spare element (its check is strict), the 2-d one none
    spare, where_ = (0, f"{name}()") if nd == 2 else (1, f"{name}_out()")
    for d in range(nd):
        if out[d] + kernel[d] - 1 + spare > spatial[d]:
            what = _DIM_NAMES[nd][d]
            raise RuntimeError(f"{where_}: pool {what} {kernel[d]} too large relative to "
                               f"input {what} {spatial[d]}")
    if _random_samples is None:
        _random_samples = rand(n, c, nd, dtype=input.dtype, device=input.device)
    elif _random_samples.ndim != 3 or _random_samples.shape[2] != nd:
        raise RuntimeError(f"Expect _random_samples.size(2) equals to {nd}; got "
                           f"{_random_samples.shape[-1]}.")
    samples = _random_samples.to(device=input.device, dtype=input.dtype)
    # torch's kernels read sample [0] for width (2-d), for time (3-d)
    order = (1, 0) if nd == 2 else (0, 1, 2)
    starts = [_starts(samples[..., order[d]], spatial[d], out[d], kernel[d], input.dtype,
                      input.device) for d in range(nd)]
    rows = [(st.unsqueeze(-1) + arange(k, device=input.device)).reshape(n, c, -1)
            for st, k in zip(starts, kernel)]                   # (N, C, out*k) per dim
    g = x
    for d in range(nd):
        shape = list(g.shape)
        shape[2 + d] = rows[d].shape[-1]
        view = [n, c] + [1] * nd
        view[2 + d] = rows[d].shape[-1]
        g = g.gather(2 + d, rows[d].reshape(view).expand(shape))
    split = [n, c]
    for o, k in zip(out, kernel):
        split += [o, k]
    g = g.reshape(split)
    perm = [0, 1] + [2 + 2 * d for d in range(nd)] + [3 + 2 * d for d in range(nd)]
    window = 1
    for k in kernel:
        window *= k
    g = g.permute(perm).reshape([n, c] + list(out) + [window])
    values, arg = g.max(-1)
    flat = None
    rest = arg
    for d in range(nd - 1, -1, -1):                  # split the window index, fastest first
        offset = rest % kernel[d]
        rest = rest // kernel[d]
        view = [n, c] + [1] * nd
        view[2 + d] = out[d]
        pos = starts[d].reshape(view) + offset
        stride = 1
        for s in spatial[d + 1:]:
            stride *= s
        term = pos * stride
        flat = term if flat is None else flat + term
    if not batched:
        values, flat = values.squeeze(0), flat.squeeze(0)
    return values, flat


def _ratio(output_ratio, nd):
    ratio = list(output_ratio) if isinstance(output_ratio, (list, tuple)) else [output_ratio] * nd
    if len(ratio) == 1:
        ratio = ratio * nd
    return [float(r) for r in ratio]


def fractional_max_pool2d_with_indices(input, kernel_size, output_size=None, output_ratio=None,
                                       return_indices=False, _random_samples=None):
    """:func:`fractional_max_pool2d` returning (values, indices)."""
    return _fractional(2, input, kernel_size, output_size, output_ratio, _random_samples)


def fractional_max_pool2d(input, kernel_size, output_size=None, output_ratio=None,
                          return_indices=False, _random_samples=None):
    """Fractional max pooling over (N, C, H, W) to ``output_size`` (or ``output_ratio``)."""
    values, indices = _fractional(2, input, kernel_size, output_size, output_ratio,
                                  _random_samples)
    return (values, indices) if return_indices else values


def fractional_max_pool3d_with_indices(input, kernel_size, output_size=None, output_ratio=None,
                                       return_indices=False, _random_samples=None):
    """:func:`fractional_max_pool3d` returning (values, indices)."""
    return _fractional(3, input, kernel_size, output_size, output_ratio, _random_samples)


def fractional_max_pool3d(input, kernel_size, output_size=None, output_ratio=None,
                          return_indices=False, _random_samples=None):
    """Fractional max pooling over (N, C, T, H, W) to ``output_size`` (or ``output_ratio``)."""
    values, indices = _fractional(3, input, kernel_size, output_size, output_ratio,
                                  _random_samples)
    return (values, indices) if return_indices else values
