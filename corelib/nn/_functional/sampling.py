"""grid_sample (bilinear, nearest, bicubic; zeros/border/reflection padding) and affine_grid,
composed from ops the way torch's CPU kernels compute them (GridSampler.cpp/.h).

A grid point's source coordinate is unnormalized from [-1, 1] (``align_corners`` decides
whether -1/1 are pixel centres or edges), then clipped or reflected for border/reflection
padding. Bilinear (trilinear for 5-D input) sums the 2^d neighbours weighted by distance;
an out-of-range neighbour contributes zero (torch's ``within_bounds``). Bicubic uses torch's
cubic convolution (A = -0.75) on the 4x4 neighbours and pads each tap separately. The
neighbours are gathered from the flattened image, so gradients reach the input (a scatter-add)
and the grid (through the weights) from the composition.
"""
from __future__ import annotations

import itertools
import warnings

from ...ops.creation import linspace, ones
from ...ops.ternary import where
from ...ops._graph import named

__all__ = ["grid_sample", "affine_grid"]

_ALIGN_WARNING = ("Default grid_sample and affine_grid behavior has changed to "
                  "align_corners=False since 1.3.0. Please specify align_corners=True if the old "
                  "behavior is desired. See the documentation of grid_sample for details.")
_CUBIC_A = -0.75


def _align(align_corners):
    if align_corners is None:
        warnings.warn(_ALIGN_WARNING, UserWarning, stacklevel=3)
        return False
    return align_corners


# ------------------------------------------------------------------------- coordinates

def _unnormalize(coord, size, align_corners):
    if align_corners:
        return (coord + 1) / 2 * (size - 1)
    return ((coord + 1) * size - 1) / 2


def _clip(coord, size):
    return coord.clamp(0, size - 1)


def _reflect(coord, twice_low, twice_high):
    if twice_low == twice_high:
        return coord * 0
    low = twice_low / 2
    span = (twice_high - twice_low) / 2
    coord = (coord - low).abs()
    extra = coord.fmod(span)
    flips = (coord / span).floor()
    return where(flips.fmod(2) == 0, extra + low, span - extra + low)


def _pad_coordinate(coord, size, padding_mode, align_corners):
    """torch's compute_coordinates: border clips, reflection reflects then clips."""
    if padding_mode == "border":
        return _clip(coord, size)
    if padding_mode == "reflection":
        if align_corners:
            coord = _reflect(coord, 0, 2 * (size - 1))
        else:
            coord = _reflect(coord, -1, 2 * size - 1)
        return _clip(coord, size)
    return coord


# --------------------------------------------------------------------------- gathering

def _gather(flat, sizes, indices):
    """Values of flat (N, C, prod(sizes)) at integer positions ``indices`` (one (N, *out)
    float tensor per spatial dim, slowest first); out-of-range positions give 0."""
    n, c = flat.shape[:2]
    out_shape = tuple(indices[0].shape[1:])
    inside = None
    linear = None
    for idx, size in zip(indices, sizes):
        ok = (idx >= 0) & (idx <= size - 1)
        inside = ok if inside is None else inside & ok
        clamped = idx.clamp(0, size - 1).long()
        linear = clamped if linear is None else linear * size + clamped
    count = 1
    for s in out_shape:
        count *= s
    picked = flat.gather(2, linear.reshape(n, 1, count).expand(n, c, count))
    picked = picked.reshape((n, c) + out_shape)
    return where(inside.unsqueeze(1), picked, 0.0)


def _cubic_coefficients(t):
    a = _CUBIC_A

    def conv1(x):
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def conv2(x):
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
    return [conv2(t + 1.0), conv1(t), conv1(1.0 - t), conv2(2.0 - t)]


def grid_sample(input, grid, mode="bilinear", padding_mode="zeros", align_corners=None):
    """Sample ``input`` (N, C, H, W) or (N, C, D, H, W) at the normalized (x, y[, z])
    positions of ``grid`` (N, H_out, W_out, 2) or (N, D_out, H_out, W_out, 3)."""
    if mode not in ("bilinear", "nearest", "bicubic"):
        raise ValueError(f"nn.functional.grid_sample(): expected mode to be 'bilinear', "
                         f"'nearest' or 'bicubic', but got: '{mode}'")
    if padding_mode not in ("zeros", "border", "reflection"):
        raise ValueError(f"nn.functional.grid_sample(): expected padding_mode to be 'zeros', "
                         f"'border', or 'reflection', but got: '{padding_mode}'")
    align_corners = _align(align_corners)
    nd = input.ndim - 2
    if input.ndim != grid.ndim or input.shape[0] != grid.shape[0]:
        raise RuntimeError(f"grid_sampler(): expected grid and input to have same batch size, "
                           f"but got input with sizes {list(input.shape)} and grid with sizes "
                           f"{list(grid.shape)}")
    if grid.shape[-1] != nd:
        raise RuntimeError(f"grid_sampler(): expected grid to have size {nd} in last dimension, "
                           f"but got grid with sizes {list(grid.shape)}")
    if nd not in (2, 3):
        raise RuntimeError(f"grid_sampler(): expected 4D or 5D input and grid with same number "
                           f"of dimensions, but got input with sizes {list(input.shape)} and "
                           f"grid with sizes {list(grid.shape)}")
    if mode == "bicubic" and nd != 2:
        raise RuntimeError("grid_sampler(): bicubic interpolation only supports 4D input")
    if input.dtype is not grid.dtype:
        names = {"float32": "Float", "float64": "Double", "float16": "Half"}
        raise RuntimeError(f"expected scalar type {names.get(input.dtype.name, input.dtype.name)}"
                           f" but found {names.get(grid.dtype.name, grid.dtype.name)}")
    sizes = tuple(input.shape[2:])                       # (D,) H, W: slowest first
    n, c = input.shape[:2]
    flat = input.reshape(n, c, -1)
    # grid's last axis is (x, y[, z]): fastest dim first
    raw = [grid[..., nd - 1 - k] for k in range(nd)]   # slowest first
    coords = [_unnormalize(g, s, align_corners) for g, s in zip(raw, sizes)]
    if mode == "bicubic":
        out = _bicubic(flat, sizes, coords, padding_mode, align_corners)
    else:
        coords = [_pad_coordinate(p, s, padding_mode, align_corners)
                  for p, s in zip(coords, sizes)]
        if mode == "nearest":
            out = _gather(flat, sizes, [p.round() for p in coords])
        else:
            out = _linear(flat, sizes, coords)
    return named(out, f"GridSampler{nd}DBackward0")


def _linear(flat, sizes, coords):
    lows = [p.floor() for p in coords]
    fracs = [p - lo for p, lo in zip(coords, lows)]
    total = None
    for corner in itertools.product((0, 1), repeat=len(sizes)):
        weight = None
        for bit, frac in zip(corner, fracs):
            w = frac if bit else 1 - frac
            weight = w if weight is None else weight * w
        value = _gather(flat, sizes, [lo + bit for lo, bit in zip(lows, corner)])
        term = value * weight.unsqueeze(1)
        total = term if total is None else total + term
    return total


def _bicubic(flat, sizes, coords, padding_mode, align_corners):
    (h, w), (iy, ix) = sizes, coords
    y0, x0 = iy.floor(), ix.floor()
    cy, cx = _cubic_coefficients(iy - y0), _cubic_coefficients(ix - x0)
    rows = []
    for i in range(4):
        yi = _pad_coordinate(y0 + (i - 1), h, padding_mode, align_corners)
        row = None
        for j in range(4):
            xj = _pad_coordinate(x0 + (j - 1), w, padding_mode, align_corners)
            term = _gather(flat, sizes, [yi, xj]) * cx[j].unsqueeze(1)
            row = term if row is None else row + term
        rows.append(row)
    total = None
    for i, row in enumerate(rows):
        term = row * cy[i].unsqueeze(1)
        total = term if total is None else total + term
    return total


# ------------------------------------------------------------------------------ affine

def _base_steps(steps, align_corners, like):
    if steps <= 1:
        return linspace(0.0, 0.0, 1, dtype=like.dtype, device=like.device)
    r = linspace(-1.0, 1.0, steps, dtype=like.dtype, device=like.device)
    return r if align_corners else r * ((steps - 1) / steps)


def affine_grid(theta, size, align_corners=None):
    """The sampling grid (N, H, W, 2) (or (N, D, H, W, 3)) of the affine maps ``theta``
    (N, 2, 3) (or (N, 3, 4)) for an output of ``size``."""
    align_corners = _align(align_corners)
    if not theta.dtype.is_floating_point:
        raise ValueError(f"Expected theta to have floating point type, but got "
                         f"torch.{theta.dtype.name}")
    size = tuple(size)
    if len(size) == 4:
        if theta.ndim != 3 or tuple(theta.shape[-2:]) != (2, 3):
            raise ValueError(f"Expected a batch of 2D affine matrices of shape Nx2x3 for size "
                             f"{size}. Got torch.Size({list(theta.shape)}).")
        spatial = size[-2:]
    elif len(size) == 5:
        if theta.ndim != 3 or tuple(theta.shape[-2:]) != (3, 4):
            raise ValueError(f"Expected a batch of 3D affine matrices of shape Nx3x4 for size "
                             f"{size}. Got torch.Size({list(theta.shape)}).")
        spatial = size[-3:]
    else:
        raise NotImplementedError(f"affine_grid only supports 4D and 5D sizes, for 2D and 3D "
                                  f"affine transforms, respectively. Got size {size}.")
    if min(size) <= 0:
        raise ValueError(f"Expected non-zero, positive output size. Got {size}")
    n = size[0]
    if theta.shape[0] != n:
        nd = len(spatial)
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{n}, {nd + 1}] but got: [{theta.shape[0]}, {nd + 1}].")
    nd = len(spatial)
    # base grid (*spatial, nd + 1): columns x, y[, z], 1 (x varies fastest)
    axes = [_base_steps(s, align_corners, theta) for s in spatial]     # slowest first
    columns = []
    for k in range(nd):
        axis = nd - 1 - k                                  # column k is the k-th fastest dim
        shape = [1] * nd
        shape[axis] = spatial[axis]
        columns.append(axes[axis].reshape(shape).expand(spatial))
    columns.append(ones(spatial, dtype=theta.dtype, device=theta.device))
    from ...ops.movement import stack
    base = stack(columns, -1).reshape(1, -1, nd + 1).expand(n, -1, nd + 1)
    grid = base.bmm(theta.transpose(1, 2))
    return named(grid.reshape((n,) + tuple(spatial) + (nd,)), "AffineGridGeneratorBackward0")
