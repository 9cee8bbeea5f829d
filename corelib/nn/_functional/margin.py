"""The multi-class margin losses (multi_margin_loss, multilabel_margin_loss) and
triplet_margin_with_distance_loss, composed from ops with torch's checks and messages.

multilabel_margin_loss reads each row's targets up to the first -1 (torch's convention) and
compares every listed target with every class not listed; a class listed twice counts twice,
as in torch's kernel.
"""
from __future__ import annotations

from ... import _dtype as D
from ...ops.creation import arange
from ...ops.ternary import where
from ...ops._graph import named
from .distance import pairwise_distance
from .loss import _check_reduction, _reduce, legacy_reduction

__all__ = ["multi_margin_loss", "multilabel_margin_loss", "triplet_margin_with_distance_loss"]


def _check_matrix(input):
    if input.ndim not in (1, 2) or (input.ndim == 2 and input.shape[1] == 0) or \
            (input.ndim == 1 and input.shape[0] == 0):
        raise RuntimeError(f"Expected non-empty vector or matrix with optional 0-dim batch "
                           f"size, but got: {list(input.shape)}")


def _check_long(target):
    if target.dtype is not D.int64:
        name = {"float32": "Float", "float64": "Double", "int32": "Int"}.get(target.dtype.name,
                                                                              target.dtype.name)
        raise RuntimeError(f"expected scalar type Long but found {name}")


def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, size_average=None,
                      reduce=None, reduction="mean"):
    """sum_{j != y} max(0, margin - x[y] + x[j])^p / C (times weight[y]) per sample."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if p != 1 and p != 2:
        raise ValueError("only p == 1 and p == 2 supported")
    _check_matrix(input)
    _check_long(target)
    x = input if input.ndim == 2 else input.unsqueeze(0)
    n, c = x.shape
    if target.numel() != n or target.ndim > 1:
        raise RuntimeError(f"multi_margin_loss: target tensor should be 1-D with size equal to "
                           f"the number of input samples (batch size). Expected target size "
                           f"[{n}], but got {list(target.shape)}. Input has shape "
                           f"{list(input.shape)}.")
    if weight is not None and (weight.ndim != 1 or weight.shape[0] != c):
        raise RuntimeError(f"inconsistent weight size, expected {c} but got "
                           f"{list(weight.shape)}")
    t = target.reshape(n)
    if n and (int(t.min().item()) < 0 or int(t.max().item()) >= c):
        raise RuntimeError("target out of range")
    t = t.unsqueeze(1)
    z = (margin - x.gather(1, t) + x).clamp_min(0)
    if p == 2:
        z = z * z
    if weight is not None:
        z = z * weight.gather(0, t.reshape(n)).unsqueeze(1)
    others = arange(c, device=x.device).unsqueeze(0) != t
    loss = where(others, z, 0.0).sum(1) / c
    if input.ndim == 1 or (target.ndim == 0 and reduction == "none"):
        loss = loss.reshape(target.shape) if reduction == "none" else loss
    return _reduce(loss, reduction)


def multilabel_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """sum over listed targets j and unlisted classes i of max(0, 1 - (x[j] - x[i])) / C;
    each row of ``target`` lists class indices up to the first -1."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    _check_matrix(input)
    _check_long(target)
    if tuple(target.shape) != tuple(input.shape):
        raise RuntimeError(f"inconsistent target size: {list(target.shape)} for input of size: "
                           f"{list(input.shape)}")
    x = input if input.ndim == 2 else input.unsqueeze(0)
    t = target.reshape(x.shape)
    n, c = x.shape
    if t.numel() and (int(t.min().item()) < -1 or int(t.max().item()) >= c):
        raise RuntimeError("argument #2 'target' is out of range")
    valid = (t != -1).to(D.int64).cumprod(1) != 0                   # (N, C) slots before -1
    slot = t.clamp_min(0)
    classes = arange(c, device=x.device)
    listed = ((slot.unsqueeze(2) == classes) & valid.unsqueeze(2)).any(1)   # (N, C)
    x_target = x.gather(1, slot)                                      # (N, slots)
    z = (1 - x_target.unsqueeze(2) + x.unsqueeze(1)).clamp_min(0)     # (N, slots, C)
    keep = valid.unsqueeze(2) & ~listed.unsqueeze(1)
    loss = where(keep, z, 0.0).sum((1, 2)) / c
    if input.ndim == 1 and reduction == "none":
        loss = loss.reshape(())
    return named(_reduce(loss, reduction), "MultilabelMarginLossBackward0")


def triplet_margin_with_distance_loss(anchor, positive, negative, *, distance_function=None,
                                      margin=1.0, swap=False, reduction="mean"):
    """max(d(a, p) - d(a, n) + margin, 0) with any distance (default pairwise_distance)."""
    _check_reduction(reduction)
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    if not anchor.ndim == positive.ndim == negative.ndim:
        raise RuntimeError(f"The anchor, positive, and negative tensors are expected to have the "
                           f"same number of dimensions, but got: anchor {anchor.ndim}D, positive "
                           f"{positive.ndim}D, and negative {negative.ndim}D inputs")
    distance = distance_function if distance_function is not None else pairwise_distance
    d_pos = distance(anchor, positive)
    d_neg = distance(anchor, negative)
    if swap:
        d_neg = d_neg.minimum(distance(positive, negative))
    return _reduce((margin + d_pos - d_neg).clamp_min(0), reduction)
