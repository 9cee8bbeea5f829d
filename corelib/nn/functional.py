"""``torch.nn.functional``: the functional form of every layer, activation and loss.

Composite functions are written with plugrad ops and have no backward of their own; where
PyTorch users see a specific ``grad_fn`` name the result is renamed (``named``) to match.
"""
from __future__ import annotations

import warnings

from .. import _dtype as D
from .._tensor import Tensor
from ..ops import activation as _act
from ..ops import linalg as _linalg
from ..ops._graph import named

relu = _act.relu
softmax = _act.softmax
log_softmax = _act.log_softmax


def linear(input, weight, bias=None):
    """y = input @ weight.T + bias; one AddmmBackward0 node for 2-D input, as torch."""
    if input.ndim == 2 and bias is not None:
        return _linalg.addmm(bias, input, weight.t())
    out = _linalg.matmul(input, weight.t())
    if bias is not None:
        out = out + bias
    return out


def bilinear(input1, input2, weight, bias=None):
    out = _linalg.einsum("...i,oij,...j->...o", input1, weight, input2)
    if bias is not None:
        out = out + bias
    return out


def sigmoid(input):
    return input.sigmoid()


def tanh(input):
    return input.tanh()


def relu_(input):
    return input.relu_()


def _reduce(loss, reduction):
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ValueError(f"{reduction} is not a valid value for reduction")


def _legacy_reduction(size_average, reduce, reduction):
    if size_average is None and reduce is None:
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    if not reduce:
        return "none"
    return "mean" if size_average else "sum"


def _check_target_size(input, target, name):
    if target.shape != input.shape:
        warnings.warn(f"Using a target size ({target.shape}) that is different to the input size "
                      f"({input.shape}). This will likely lead to incorrect results due to "
                      "broadcasting. Please ensure they have the same size.", UserWarning,
                      stacklevel=3)


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean squared error."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_target_size(input, target, "mse_loss")
    diff = input - target
    loss = diff * diff
    if weight is not None:
        loss = loss * weight
    return named(_reduce(loss, reduction), "MseLossBackward0")
