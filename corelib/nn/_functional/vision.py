"""pad (constant, reflect, replicate, circular), interpolate (nearest, nearest-exact, linear,
bilinear, area) and pixel_shuffle: gathers along each spatial dim with index tensors computed
the way torch's CPU kernels compute them (float32 source coordinates)."""
from __future__ import annotations

import math

from ... import _dtype as D
from ...ops._graph import named
from ...ops.creation import arange, tensor
from ...ops.movement import constant_pad
from .pooling import adaptive_avg_pool1d, adaptive_avg_pool2d

__all__ = ["pad", "interpolate", "upsample", "upsample_nearest", "upsample_bilinear",
           "pixel_shuffle", "pixel_unshuffle"]

_PAD_NAMES = {"reflect": "ReflectionPad", "replicate": "ReplicationPad",
              "circular": "CircularPad"}


def _pad_indices(mode, size, left, right):
    """Source index for each output position of one padded dim."""
    out = []
    for i in range(-left, size + right):
        if mode == "reflect":
            j = abs(i)
            j = 2 * (size - 1) - j if j >= size else j
        elif mode == "replicate":
            j = min(max(i, 0), size - 1)
        else:
            j = i % size
        out.append(j)
    return out


def pad(input, pad, mode="constant", value=None):
    """Pad the last len(pad)//2 dims; ``pad`` lists (left, right) from the last dim back."""
    if mode == "constant":
        return constant_pad(input, pad, 0 if value is None else value)
    if mode not in _PAD_NAMES:
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    if value is not None and value != 0:
        raise RuntimeError(f'Padding mode "{mode}" doesn\'t take in value argument')
    npad = len(pad) // 2
    if len(pad) % 2 or npad not in (1, 2, 3) or input.ndim not in (npad + 1, npad + 2):
        raise NotImplementedError(
            f"Padding size {len(pad)} is not supported for {input.ndim}D input tensor.\n"
            "Supported combinations for non-constant padding:\n"
            "  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
            "  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
            "  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)")
    out = input
    for k in range(npad):
        dim = input.ndim - 1 - k
        left, right = int(pad[2 * k]), int(pad[2 * k + 1])
        size = input.shape[dim]
        if mode == "reflect" and (left >= size or right >= size):
            raise RuntimeError(f"Argument #4: Padding size should be less than the corresponding "
                               f"input dimension, but got: padding ({left}, {right}) at "
                               f"dimension {dim} of input {list(input.shape)}")
        if mode == "circular" and (left > size or right > size):
            raise RuntimeError("Padding value causes wrapping around more than once.")
        if left == 0 and right == 0:
            continue
        index = tensor(_pad_indices(mode, size, left, right), dtype=D.int64,
                       device=input.device)
        out = out.index_select(dim, index)
    name = f"{_PAD_NAMES[mode]}{npad}DBackward0" if mode != "circular" else "CopySlices"
    return named(out, name)


# ---------------------------------------------------------------------------- interpolate

def _f32(value):
    """Round a Python float to float32 (torch computes source coordinates in float)."""
    import struct
    return struct.unpack("f", struct.pack("f", value))[0]


def _output_sizes(input, size, scale_factor, nd):
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if size is not None:
        sizes = list(size) if isinstance(size, (list, tuple)) else [size] * nd
        if len(sizes) != nd:
            raise ValueError(f"Input and output must have the same number of spatial "
                             f"dimensions, but got input with spatial dimensions of "
                             f"{list(input.shape[2:])} and output size of {sizes}. Please "
                             "provide input tensor in (N, C, d1, d2, ...,dK) format and output "
                             "size in (o1, o2, ...,oK) format.")
        return [int(s) for s in sizes], None
    if scale_factor is None:
        raise ValueError("either size or scale_factor should be defined")
    scales = list(scale_factor) if isinstance(scale_factor, (list, tuple)) \
        else [scale_factor] * nd
    if len(scales) != nd:
        raise ValueError(f"Input and scale_factor must have the same number of spatial "
                         f"dimensions, but got input with spatial dimensions of "
                         f"{list(input.shape[2:])} and scale_factor of shape {scales}. Please "
                         "provide input tensor in (N, C, d1, d2, ...,dK) format and "
                         "scale_factor in (s1, s2, ...,sK) format.")
    sizes = [int(math.floor(float(input.shape[i + 2]) * s)) for i, s in enumerate(scales)]
    return sizes, [float(s) for s in scales]


def _scale(in_size, out_size, scale, align_corners=False, single=True):
    """torch's area_pixel_compute_scale / compute_scales_value, in float32 (``single``) or
    float64 (its opmath type for double input)."""
    r = _f32 if single else float
    if align_corners:
        return r((in_size - 1) / (out_size - 1)) if out_size > 1 else 0.0
    if scale is not None and scale > 0:
        return r(1.0 / scale)
    return r(r(in_size) / out_size)


def _nearest_index(in_size, out_size, scale, exact, device):
    s = _scale(in_size, out_size, scale)
    pos = arange(out_size, dtype=D.float32, device=device)
    if exact:
        pos = pos + 0.5
    src = (pos * s).floor().clamp(max=in_size - 1)
    return src.long()


def _linear_axis(x, dim, out_size, scale, align_corners):
    """Interpolate x along ``dim`` by gathering the two neighbours and blending them."""
    in_size = x.shape[dim]
    ct = D.float64 if x.dtype is D.float64 else D.float32
    s = _scale(in_size, out_size, scale, align_corners, ct is D.float32)
    dev = x.device
    pos = arange(out_size, dtype=ct, device=dev)
    src = pos * s if align_corners else ((pos + 0.5) * s - 0.5).clamp(min=0)
    i0 = src.long()   # truncation == floor for src >= 0
    i1 = (i0 + 1).clamp(max=in_size - 1)
    lam1 = (src - i0.to(ct)).to(x.dtype)
    shape = [1] * x.ndim
    shape[dim] = out_size
    lam1 = lam1.reshape(shape)
    lam0 = 1 - lam1
    return x.index_select(dim, i0) * lam0 + x.index_select(dim, i1) * lam1


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """Resize the spatial dims of (N, C, *) input (nearest, nearest-exact, linear, bilinear,
    area)."""
    nd = input.ndim - 2
    if nd < 1:
        raise ValueError(f"Input Error: Only 3D, 4D and 5D input Tensors supported (got "
                         f"{input.ndim}D) for the modes: nearest | linear | bilinear | bicubic "
                         f"| trilinear | area | nearest-exact (got {mode})")
    if mode in ("nearest", "area", "nearest-exact") and align_corners is not None:
        raise ValueError("align_corners option can only be set with the interpolating modes: "
                         "linear | bilinear | bicubic | trilinear")
    if antialias:
        raise NotImplementedError("Anti-alias option is only supported for bilinear and "
                                  "bicubic modes")
    sizes, scales = _output_sizes(input, size, scale_factor, nd)
    spatial = tuple(input.shape[2:])
    if 0 in spatial or any(s <= 0 for s in sizes):
        names = ("D", "H", "W")[3 - nd:]
        shown = [", ".join(f"{n}: {v}" for n, v in zip(names, vals)) for vals in (spatial, sizes)]
        joint = " and " if nd == 1 else " "
        raise RuntimeError(f"Input and output sizes should be greater than 0, but got input "
                           f"({shown[0]}){joint}output ({shown[1]})")
    if recompute_scale_factor:
        scales = None
    if scales is None:
        scales = [None] * nd
    if mode in ("nearest", "nearest-exact"):
        out = input
        for k in range(nd):
            dim = 2 + k
            if sizes[k] == input.shape[dim] and scales[k] is None:
                continue
            idx = _nearest_index(input.shape[dim], sizes[k], scales[k], mode == "nearest-exact",
                                 input.device)
            out = out.index_select(dim, idx)
        suffix = "Exact" if mode == "nearest-exact" else ""
        return named(out if out is not input else input * 1, f"UpsampleNearest{suffix}{nd}DBackward0")
    if mode == "area":
        if nd == 1:
            return adaptive_avg_pool1d(input, sizes)
        if nd == 2:
            return adaptive_avg_pool2d(input, sizes)
    linear_modes = {"linear": 1, "bilinear": 2, "trilinear": 3}
    if mode in linear_modes:
        if linear_modes[mode] != nd:
            raise NotImplementedError(f"Got {input.ndim}D input, but {mode} mode needs "
                                      f"{linear_modes[mode] + 2}D input")
        out = input
        for k in range(nd):
            out = _linear_axis(out, 2 + k, sizes[k], scales[k], bool(align_corners))
        return named(out, f"Upsample{mode.capitalize()}{nd}DBackward0")
    raise NotImplementedError(f"Input Error: Only 3D, 4D and 5D input Tensors supported (got "
                              f"{input.ndim}D) for the modes: nearest | linear | bilinear | "
                              f"area | nearest-exact (got {mode})")


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """Deprecated spelling of :func:`interpolate`."""
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    """Deprecated: ``interpolate(..., mode="nearest")``."""
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    """Deprecated: ``interpolate(..., mode="bilinear", align_corners=True)``."""
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


def pixel_shuffle(input, upscale_factor):
    """(*, C r^2, H, W) -> (*, C, H r, W r)."""
    r = int(upscale_factor)
    *lead, c, h, w = input.shape
    if c % (r * r):
        raise RuntimeError(f"pixel_shuffle expects its input's 'channel' dimension to be "
                           f"divisible by the square of upscale_factor, but input.size(-3)={c} "
                           f"is not divisible by {r * r}")
    n = len(lead)
    x = input.reshape(*lead, c // (r * r), r, r, h, w)
    perm = list(range(n)) + [n, n + 3, n + 1, n + 4, n + 2]
    return x.permute(perm).reshape(*lead, c // (r * r), h * r, w * r)


def pixel_unshuffle(input, downscale_factor):
    """(*, C, H r, W r) -> (*, C r^2, H, W)."""
    r = int(downscale_factor)
    *lead, c, h, w = input.shape
    if h % r or w % r:
        raise RuntimeError(f"pixel_unshuffle expects height to be divisible by "
                           f"downscale_factor, but input.size(-2)={h} is not divisible by {r}")
    n = len(lead)
    x = input.reshape(*lead, c, h // r, r, w // r, r)
    perm = list(range(n)) + [n, n + 2, n + 4, n + 1, n + 3]
    return x.permute(perm).reshape(*lead, c * r * r, h // r, w // r)
