"""Embedding lookup and one_hot."""
from __future__ import annotations

from ...compile._state import capturing as _capturing

from ... import _dtype as D
from ...autograd.grad_mode import is_grad_enabled, no_grad
from ...autograd.node import Node
from ...ops._graph import attach, edge
from ...sparse.coo import construct
from ...ops._graph import named
from ...ops._operands import check_same_device
from ...ops.creation import arange
from ...ops.ternary import where

__all__ = ["embedding", "one_hot"]


def _check_rows(input, num):
    """IndexError unless every index is a row of a ``num``-row weight (torch's message)."""
    bounds = _host_range(input)
    if bounds is not None and (bounds[0] < 0 or bounds[1] >= num):
        raise IndexError("index out of range in self")


def _host_range(t):
    """(min, max) of an integer tensor, None when empty or when the backend checks indices
    on the device (an out-of-range row then raises at the next ``.item()``); elsewhere a row
    outside the weight would be read from outside its buffer."""
    from ...ops.indexing import checked_on_device, index_range
    if t.numel() == 0 or checked_on_device(t):
        return None
    return index_range(t)


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0,
              scale_grad_by_freq=False, sparse=False):
    """Rows of ``weight`` picked by the integer ``input``; shape input.shape + (dim,).

    ``padding_idx`` rows get no gradient; ``max_norm`` renormalizes the looked-up rows of
    ``weight`` in place first (torch's embedding_renorm_).
    """
    if input.dtype not in (D.int64, D.int32):
        raise RuntimeError(f"Expected tensor for argument #1 'indices' to have one of the "
                           f"following scalar types: Long, Int; but got {input.type()} instead "
                           "(while checking arguments for embedding)")
    if weight.ndim != 2:
        raise RuntimeError("'weight' must be 2-D")
    check_same_device(weight, input)
    if weight.shape[0] == 0 and input.numel():
        raise RuntimeError("index_select(): self indexing axis dim should be positive")
    num = weight.shape[0]
    if padding_idx is not None:
        if padding_idx > 0:
            assert padding_idx < num, "Padding_idx must be within num_embeddings"
        elif padding_idx < 0:
            assert padding_idx >= -num, "Padding_idx must be within num_embeddings"
            padding_idx = num + padding_idx
    if _capturing:      # a compiled function checks again on every replay
        from ...compile.capture import record_check
        record_check(_check_rows, input, num)
    else:
        _check_rows(input, num)
    flat = input.reshape(-1)
    if flat.dtype is not D.int64:
        flat = flat.long()
    if max_norm is not None:
        _renorm_rows(weight, flat, max_norm, norm_type)
    if sparse and weight.requires_grad and is_grad_enabled():
        if scale_grad_by_freq:
            raise RuntimeError("embedding_backward: scale_grad_by_freq not supported with "
                               "sparse gradients")
        out = sparse_rows(weight, flat, padding_idx)
        return out.reshape(tuple(input.shape) + (weight.shape[1],))
    out = weight.index_select(0, flat)
    if padding_idx is not None and out.requires_grad:
        keep = (flat != padding_idx).unsqueeze(1)
        out = where(keep, out, out.detach())
    if scale_grad_by_freq and out.requires_grad:
        counts = weight.new_zeros(num).index_add(0, flat, weight.new_ones(flat.shape[0]))
        scale = (1.0 / counts.index_select(0, flat)).unsqueeze(1)
        out = out.detach() + (out - out.detach()) * scale
    return named(out.reshape(tuple(input.shape) + (weight.shape[1],)), "EmbeddingBackward0")


class EmbeddingBackward0(Node):
    """Rows picked from a weight, with torch's sparse gradient: a COO tensor whose indices
    are the picked rows in order (padding_idx left out) and whose values are the rows'
    gradients, uncoalesced."""
    __slots__ = ("index", "num", "padding_idx")

    def backward(self, g):
        index, values = self.index, g
        if self.padding_idx is not None:
            keep = index != self.padding_idx
            index, values = index[keep], values[keep]
        shape = (self.num, g.shape[-1])
        return (construct(index.reshape(1, -1), values.reshape(-1, g.shape[-1]), shape,
                          False, "EmbeddingBackward0"),)

    def _drop(self):
        self.index = None


def sparse_rows(weight, flat, padding_idx=None):
    """``weight[flat]`` (rows of a 2-D weight) whose gradient is sparse COO, as torch's
    ``embedding(sparse=True)``: one entry per looked-up row."""
    with no_grad():
        out = weight.index_select(0, flat)
    node = EmbeddingBackward0((edge(weight),))
    node.index, node.num, node.padding_idx = flat, weight.shape[0], padding_idx
    return attach(out, node)


def _renorm_rows(weight, flat, max_norm, norm_type):
    """Scale the rows named in ``flat`` down to norm ``max_norm`` (in place, no grad)."""
    with no_grad():
        rows = weight.index_select(0, flat)
        norms = rows.norm(norm_type, dim=1, keepdim=True)
        scale = where(norms > max_norm, max_norm / (norms + 1e-7), 1.0)
        weight.index_put_((flat,), rows * scale)


def one_hot(tensor, num_classes=-1):
    """(*,) int64 class indices -> (*, num_classes) int64 one-hot."""
    if tensor.dtype is not D.int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    if num_classes == -1:
        if tensor.numel() == 0:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
        num_classes = int(tensor.max().item()) + 1
    if tensor.numel():
        lo, hi = int(tensor.min().item()), int(tensor.max().item())
        if lo < 0:
            raise RuntimeError("Class values must be non-negative.")
        if hi >= num_classes:
            raise RuntimeError("Class values must be smaller than num_classes.")
    classes = arange(num_classes, device=tensor.device)
    return (tensor.unsqueeze(-1) == classes).long()
