"""Counting and bucketing integers: searchsorted, bucketize, bincount, histc.

Compositions of comparisons, gather and scatter_add, so every backend runs them exactly.
searchsorted is torch's own binary search run on all values at once (one gather per halving
step), which keeps torch's answers even where boundaries hold nan. None has a gradient (torch's
neither: integer results; histc and bincount's weights are not differentiable in torch).
"""
from __future__ import annotations

import math

from .. import _dtype as D
from .._tensor import Tensor
from ..autograd.grad_mode import no_grad
from .inplace import write_out

_SS = "torch.searchsorted(): "


def _search(seq, values, right, sorter):
    """Index of each value in the last dim of ``seq``: torch's lower/upper bound loop."""
    m = seq.shape[-1]
    n_lead = seq.dim() - 1
    if n_lead:
        vals = values
    else:
        vals = values.reshape(1, -1)
        seq = seq.reshape(1, m)
        if sorter is not None:
            sorter = sorter.reshape(1, m)
    lo = vals.new_zeros(vals.shape, dtype=D.int64)
    hi = vals.new_full(vals.shape, m, dtype=D.int64)
    for _ in range(max(1, math.ceil(math.log2(m + 1)))) if m else ():
        active = lo < hi
        mid = (lo + hi) // 2
        pos = mid.clamp(max=m - 1)
        if sorter is not None:
            pos = sorter.gather(-1, pos)
        mid_val = seq.gather(-1, pos)
        go_right = (mid_val > vals) if right else (mid_val >= vals)
        go_right = go_right.logical_not()          # "!(mid >= v)": nan goes right, as torch
        lo = lo.where(active.logical_and(go_right).logical_not(), mid + 1)
        hi = hi.where(active.logical_and(go_right.logical_not()).logical_not(), mid)
    return lo if n_lead else lo.reshape(values.shape)


def searchsorted(sorted_sequence, input, *, out_int32=False, right=False, side=None,
                 sorter=None, out=None):
    """Indices where ``input`` would be inserted into the innermost dim of ``sorted_sequence``."""
    if side is not None:
        if side not in ("left", "right"):
            raise RuntimeError(f"{_SS}side can only be 'left' or 'right' but got {side}")
        if right and side == "left":
            raise RuntimeError(f"{_SS}side and right can't be set to opposites, got side of "
                               f"left while right was True")
        right = side == "right"
    seq = sorted_sequence
    scalar = not isinstance(input, Tensor)
    values = seq.new_tensor(input) if scalar else input
    if seq.dim() > 1 and (values.dim() != seq.dim() or values.shape[:-1] != seq.shape[:-1]):
        raise RuntimeError(f"{_SS}boundaries tensor should be 1 dimension or the first N-1 "
                           f"dimensions of boundaries tensor and input value tensor must match, "
                           f"but we got boundaries tensor {list(seq.shape)} and input value "
                           f"tensor {list(values.shape)}")
    if sorter is not None:
        if sorter.shape != seq.shape:
            raise RuntimeError(f"{_SS}boundary and sorter must have the same size, but got "
                               f"boundary tensor {list(seq.shape)}and got sorter tensor "
                               f"{list(sorter.shape)}")
        if sorter._dtype is not D.int64:
            raise RuntimeError(f"{_SS}sorter must be a tensor of long dtype but got dtype "
                               f"{D.legacy_name(sorter._dtype)}")
    if seq._dtype is not values._dtype:
        common = D.promote_types(seq._dtype, values._dtype)
        seq, values = seq.to(common), values.to(common)
    with no_grad():
        res = _search(seq.detach(), values.detach(), right, sorter)
    if out_int32:
        res = res.to(D.int32)
    if out is not None:
        return write_out(out, res)
    return res


def bucketize(input, boundaries, *, out_int32=False, right=False, out=None):
    """The bucket of each element of ``input`` among the 1-d ``boundaries``."""
    if boundaries.dim() != 1:
        raise RuntimeError(f"boundaries tensor must be 1 dimension, but got dim("
                           f"{boundaries.dim()})")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right, out=out)


def bincount(input, weights=None, minlength=0):
    """How often each non-negative integer occurs in the 1-d ``input`` (summing ``weights``)."""
    if minlength < 0:
        raise RuntimeError("minlength should be >= 0")
    if input._dtype.is_floating_point or input._dtype.is_complex or input._dtype is D.bool_:
        raise NotImplementedError(f"\"bincount_cpu\" not implemented for "
                                  f"'{D.legacy_name(input._dtype)}'")
    if input.dim() != 1:
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if weights is not None and (weights.dim() != 1 or weights.shape[0] != input.shape[0]):
        raise RuntimeError("weights should be 1-d and have the same length as input")
    with no_grad():
        idx = input.to(D.int64)
        if input.numel() and bool(idx.min() < 0):
            raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
        size = max(minlength, int(idx.max()) + 1 if input.numel() else 0)
        if weights is None:
            src, dt = idx.new_ones(idx.shape), D.int64
        else:
            dt = weights._dtype if weights._dtype in (D.float32, D.float64) else D.float64
            src = weights.detach().to(dt)
        return src.new_zeros(size, dtype=dt).scatter_add_(0, idx, src)


def histc(input, bins=100, min=0, max=0, *, out=None):
    """Histogram of ``bins`` equal bins over [min, max] (the data's range when min == max);
    elements outside (and nan) are ignored, ``max`` falls in the last bin."""
    if not input._dtype.is_floating_point:
        raise NotImplementedError(f"\"histogram_cpu\" not implemented for "
                                  f"'{D.legacy_name(input._dtype)}'")
    if bins <= 0:
        raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {bins} for "
                           f"dimension 0")
    with no_grad():
        x = input.detach().reshape(-1)
        lo, hi = float(min), float(max)
        if lo == hi and x.numel():
            lo, hi = float(x.min()), float(x.max())     # nan in the data: not finite, as torch
        if lo == hi:
            lo, hi = lo - 1, hi + 1
        if lo > hi:
            raise RuntimeError("torch.histc: max must be larger than min")
        if not (math.isfinite(lo) and math.isfinite(hi)):
            raise RuntimeError(f"torch.histc: range of [{lo}, {hi}] is not finite")
        inside = (x >= lo).logical_and(x <= hi)
        x = x[inside]
        pos = ((x - lo) * bins / (hi - lo)).to(D.int64).clamp(max=bins - 1)
        res = x.new_zeros(bins).scatter_add_(0, pos, x.new_ones(x.shape))
    return res if out is None else write_out(out, res)


__all__ = ["searchsorted", "bucketize", "bincount", "histc", "unique_consecutive"]


def unique_consecutive(input, return_inverse=False, return_counts=False, dim=None):
    """``input`` with each run of equal consecutive elements (or slices along ``dim``)
    collapsed to one; optionally each element's run index and each run's length."""
    from .._functions import cat
    from .._tensor import _wrap_dim
    with no_grad():
        x = input.detach()
        if dim is None:
            flat, d = x.reshape(-1), 0
        else:
            d = _wrap_dim(dim, x.dim())
            flat = x
        n = flat.shape[d]
        if n:
            nxt, prev = flat.narrow(d, 1, n - 1), flat.narrow(d, 0, n - 1)
            differs = nxt != prev                        # nan != nan: runs of nan stay apart
            if flat.dim() > 1:
                differs = differs.movedim(d, 0).reshape(n - 1, -1).any(1)
            starts = cat([differs.new_ones(1), differs])
        else:
            starts = flat.new_zeros(0, dtype=D.bool_)
        keep = starts.nonzero().reshape(-1)
        out = flat.index_select(d, keep)
        res = [out]
        if return_inverse:
            inv = starts.to(D.int64).cumsum(0) - 1
            res.append(inv.reshape(x.shape) if dim is None else inv)
        if return_counts:
            ends = cat([keep[1:], keep.new_full((1,), n)]) if n else keep
            res.append(ends - keep)
    return res[0] if len(res) == 1 else tuple(res)
