"""embedding_bag: sums, means or maxima of bags of embedding rows without materialising the
per-bag lists in Python.

Bags come from ``offsets`` (1-D input) or the rows of a 2-D input. Every looked-up row is
tagged with its bag and summed with one ``index_add`` (mean divides by the bag's count of
non-padding entries); max gathers the bags into a padded (bags, longest, dim) block filled
with -inf and reduces it, so the gradient goes to each bag's first maximum, as torch's.
Entries equal to ``padding_idx`` are left out of every bag; an empty bag gives zeros.
"""
from __future__ import annotations

import math

from ... import _dtype as D
from ...ops._graph import named
from ...ops.creation import tensor
from ...ops.ternary import where
from ...autograd.grad_mode import is_grad_enabled
from .sparse import _renorm_rows, sparse_rows

__all__ = ["embedding_bag"]


def _bags(n_input, offsets, include_last_offset):
    """(bag of every input position, entries per bag) from the offsets list."""
    # include_last_offset: the last offset closes the last bag (torch documents it as the
    # input's length; its kernels disagree with each other on anything else)
    starts = offsets[:-1] if include_last_offset else offsets
    ends = list(offsets[1:]) if include_last_offset else list(starts[1:]) + [n_input]
    bag_of, counts = [], []
    for b, (s, e) in enumerate(zip(starts, ends)):
        length = max(e - s, 0)
        bag_of += [b] * length
        counts.append(length)
    return bag_of, counts


def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type=2,
                  scale_grad_by_freq=False, mode="mean", sparse=False,
                  per_sample_weights=None, include_last_offset=False, padding_idx=None):
    """Reduce (sum/mean/max) bags of rows of ``weight``: (B, N) input holds B bags of N
    indices; 1-D input with ``offsets`` holds bags starting at each offset."""
    if weight.dtype is D.int64 and input.dtype.is_floating_point:
        input, weight = weight, input           # torch accepts the old argument order
    if per_sample_weights is not None and tuple(input.shape) != tuple(per_sample_weights.shape):
        raise ValueError(f"embedding_bag: If per_sample_weights ({_size(per_sample_weights)}) "
                         f"is not None, then it must have the same shape as the input "
                         f"({_size(input)})")
    if weight.ndim != 2:
        raise ValueError(f"weight has to be a 2D Tensor, but got Tensor of dimension "
                         f"{weight.ndim}")
    if input.ndim == 2:
        if offsets is not None:
            raise ValueError(f"if input is 2D, then offsets has to be None, as input is treated "
                             f"is a mini-batch of fixed length sequences. However, found "
                             f"offsets of type {_type_str(offsets)}")
        b, n = input.shape
        offsets_list = [i * n for i in range(b)]
        input = input.reshape(-1)
        if per_sample_weights is not None:
            per_sample_weights = per_sample_weights.reshape(-1)
        include_last_offset = False
    elif input.ndim == 1:
        if offsets is None:
            raise ValueError("offsets has to be a 1D Tensor but got None")
        if offsets.ndim != 1:
            raise ValueError("offsets has to be a 1D Tensor")
        offsets_list = [int(v) for v in offsets.tolist()]
    else:
        raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension "
                         f"{input.ndim}")
    if mode not in ("sum", "mean", "max"):
        raise ValueError("mode has to be one of sum, mean or max")
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError(f"embedding_bag: per_sample_weights was not None. "
                                  f"per_sample_weights is only supported for mode='sum' (got "
                                  f"mode='{mode}'). Please open a feature request on GitHub.")
    if input.dtype not in (D.int64, D.int32):
        raise RuntimeError(f"Expected tensor for argument #1 'indices' to have one of the "
                           f"following scalar types: Long, Int; but got {input.type()} instead "
                           "(while checking arguments for embedding_bag)")
    num, dim = weight.shape
    n_input = input.shape[0]
    if offsets_list and offsets_list[0] != 0:
        raise RuntimeError(f"offsets[0] has to be 0, i.e., the first sequence in the mini-batch "
                           f"has to start from position 0. However, got {offsets_list[0]}\n"
                           f"[ torch.LongTensor{{}} ]")
    if offsets_list and offsets_list[-1] > n_input:
        raise RuntimeError(f"offsets[-1] can not be greater than input's length {n_input} but "
                           f"got offsets[-1] of {offsets_list[-1]}")
    values = input.tolist()
    for i, v in enumerate(values):
        if not 0 <= v < num:
            raise RuntimeError(f"Index {i} of input takes value {v} which is not in the valid "
                               f"range [0, {num})")
    if padding_idx is not None:
        if not -num <= padding_idx < num:
            raise AssertionError("padding_idx must be within num_embeddings")
        padding_idx = padding_idx % num
    flat = input.long()
    if max_norm is not None and n_input:
        _renorm_rows(weight, flat, max_norm, norm_type)
    bag_of, counts = _bags(n_input, offsets_list, include_last_offset)
    bags = len(counts)
    keep = [padding_idx is None or v != padding_idx for v in values]
    if sparse and mode == "max":
        raise ValueError("max mode does not support sparse weights")
    if sparse and bag_of and weight.requires_grad and is_grad_enabled():
        if scale_grad_by_freq:
            raise RuntimeError("embedding_backward: scale_grad_by_freq not supported with "
                               "sparse gradients")
        rows = sparse_rows(weight, flat[:len(bag_of)], padding_idx)
    else:
        rows = weight.index_select(0, flat[:len(bag_of)]) if bag_of else weight[:0]
    if scale_grad_by_freq and rows.requires_grad and mode != "max":
        counts_of = weight.new_zeros(num).index_add(0, flat, weight.new_ones(n_input))
        scale = (1.0 / counts_of.index_select(0, flat[:len(bag_of)])).unsqueeze(1)
        rows = rows.detach() + (rows - rows.detach()) * scale
    if mode == "max":
        out = _bag_max(rows, bag_of, counts, keep, dim, weight)
    else:
        if per_sample_weights is not None:
            rows = rows * per_sample_weights[:len(bag_of)].unsqueeze(1)
        if padding_idx is not None:
            mask = tensor(keep[:len(bag_of)], device=weight.device).unsqueeze(1)
            rows = where(mask, rows, 0.0)
        index = tensor(bag_of, dtype=D.int64, device=weight.device)
        out = weight.new_zeros((bags, dim)).index_add(0, index, rows)
        if mode == "mean":
            kept = [0] * bags
            for b, k in zip(bag_of, keep):
                kept[b] += k
            if any(k != 1 for k in kept):
                div = tensor([float(max(k, 1)) for k in kept], dtype=weight.dtype,
                             device=weight.device)
                out = out / div.unsqueeze(1)
    return named(out, "EmbeddingBagBackward0")


def _bag_max(rows, bag_of, counts, keep, dim, weight):
    """Per-bag maximum of ``rows`` via a (bags, longest, dim) block padded with -inf."""
    bags = len(counts)
    longest = max(counts) if counts else 0
    if longest == 0:
        return weight.new_zeros((bags, dim))
    slot, position, start = [], [], 0
    table = [[len(bag_of)] * longest for _ in range(bags)]   # len(bag_of): the -inf row
    for b, count in enumerate(counts):
        j = 0
        for i in range(start, start + count):
            if keep[i]:
                table[b][j] = i
                j += 1
        start += count
    padded = rows.new_full((1, dim), -math.inf)
    from ...ops.movement import cat
    block = cat([rows, padded], 0).index_select(
        0, tensor([i for row in table for i in row], dtype=D.int64, device=weight.device))
    best = block.reshape(bags, longest, dim).max(1)[0]
    return where(best == -math.inf, 0.0, best)


def _size(t):
    return f"torch.Size({list(t.shape)})"


def _type_str(value):
    from ..._tensor import Tensor
    return "<class 'torch.Tensor'>" if isinstance(value, Tensor) else str(type(value))
