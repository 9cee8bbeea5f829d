"""searchsorted and bucketize: torch's binary search, run for every value at once.

Each round halves every value's [start, end) range with one gather, as torch's CPU loop
does per value (``!(mid >= v)`` goes right; ``>`` for ``right=True``), so NaNs and unsorted
boundaries give torch's indices too, not those of a count of smaller elements.
"""
from __future__ import annotations

from .. import _dtype as D
from .._tensor import Tensor

__all__ = ["searchsorted", "bucketize"]


def _binary_search(seq, values, right, sorter):
    """Indices into the last axis of ``seq`` (..., M) for ``values`` (..., K)."""
    from .ternary import where
    m = seq.shape[-1]
    start = values.new_zeros(values.shape, dtype=D.int64)
    end = start + m
    for _ in range(max(m, 1).bit_length() + 1):
        active = start < end
        mid = (start + end) // 2
        probe = mid.clamp(max=max(m - 1, 0))
        if sorter is not None:
            probe = sorter.gather(-1, probe)
        mid_val = seq.gather(-1, probe) if m else values
        go_right = ~(mid_val > values) if right else ~(mid_val >= values)   # NaN: right
        start = where(active & go_right, mid + 1, start)
        end = where(active & ~go_right, mid, end)
    return start


def searchsorted(sorted_sequence, input, *, out_int32=False, right=False, side=None,
                 sorter=None, out=None):
    """Indices where ``input``'s values would be inserted into the last axis of
    ``sorted_sequence`` to keep it sorted (``right``/``side='right'``: after equal ones)."""
    from .creation import tensor as make_tensor
    if side is not None:
        if side not in ("left", "right"):
            raise RuntimeError(f"torch.searchsorted(): side can only be 'left' or 'right' but "
                               f"got {side}")
        if right and side == "left":
            raise RuntimeError("torch.searchsorted(): side and right can't be set to "
                               "opposites, got side of left while right was True")
        right = side == "right"
    scalar = not isinstance(input, Tensor)
    values = make_tensor(input, dtype=sorted_sequence.dtype, device=sorted_sequence.device) \
        if scalar else input
    seq = sorted_sequence
    if seq.ndim == 0:
        raise RuntimeError("torch.searchsorted(): boundaries tensor should be 1 dimension or "
                           "the first N-1 dimensions of boundaries tensor and input value "
                           "tensor must match, but we got boundaries tensor [] and input "
                           f"value tensor {list(values.shape)}")
    if seq.ndim > 1 and (values.ndim != seq.ndim or values.shape[:-1] != seq.shape[:-1]):
        raise RuntimeError("torch.searchsorted(): boundaries tensor should be 1 dimension or "
                           "the first N-1 dimensions of boundaries tensor and input value "
                           f"tensor must match, but we got boundaries tensor "
                           f"{list(seq.shape)} and input value tensor {list(values.shape)}")
    if sorter is not None and tuple(sorter.shape) != tuple(seq.shape):
        raise RuntimeError("torch.searchsorted(): boundary and sorter must have the same size, "
                           f"but got boundary tensor {list(seq.shape)}and got sorter tensor "
                           f"{list(sorter.shape)}")
    if seq.ndim == 1:
        flat = values.reshape(1, -1)
        found = _binary_search(seq.reshape(1, -1), flat, right,
                               None if sorter is None else sorter.reshape(1, -1))
        found = found.reshape(values.shape)
    else:
        found = _binary_search(seq, values, right, sorter)
    return found.int() if out_int32 else found


def bucketize(input, boundaries, *, out_int32=False, right=False, out=None):
    """The bucket of each value of ``input`` among the 1-D ``boundaries`` (searchsorted)."""
    if boundaries.ndim != 1:
        raise RuntimeError(f"boundaries tensor must be 1 dimension, but got dim("
                           f"{boundaries.ndim})")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)
