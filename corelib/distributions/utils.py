"""Helpers shared by the distributions: parameter broadcasting, probs <-> logits, lazy
attributes (torch.distributions.utils, same names and rules)."""
from __future__ import annotations

import numbers
from functools import update_wrapper

import plugrad as torch

__all__ = ["broadcast_all", "clamp_probs", "lazy_property", "logits_to_probs", "probs_to_logits",
           "sum_rightmost", "tril_matrix_to_vec", "vec_to_tril_matrix"]


def broadcast_all(*values):
    """Tensors of one broadcast shape from tensors and Python numbers; numbers take the dtype
    and device of the first tensor (the default dtype when all are numbers)."""
    if not all(isinstance(v, (torch.Tensor, numbers.Number)) for v in values):
        raise ValueError("Input arguments must all be instances of numbers.Number, "
                         "torch.Tensor or objects implementing __torch_function__.")
    if not all(isinstance(v, torch.Tensor) for v in values):
        like = next((v for v in values if isinstance(v, torch.Tensor)), None)
        opts = ({"dtype": like.dtype, "device": like.device} if like is not None
                else {"dtype": torch.get_default_dtype()})
        values = [v if isinstance(v, torch.Tensor) else torch.tensor(v, **opts) for v in values]
    return torch.broadcast_tensors(*values)


def _standard_normal(shape, dtype, device):
    """N(0, 1) draws of ``shape``: the same stream position and values as torch's."""
    return torch.normal(torch.zeros(shape, dtype=dtype, device=device),
                        torch.ones(shape, dtype=dtype, device=device))


def sum_rightmost(value, dim):
    """Sum out the ``dim`` rightmost dimensions."""
    if dim == 0:
        return value
    return value.reshape(value.shape[:-dim] + (-1,)).sum(-1)


def clamp_probs(probs):
    """Probabilities clamped into [eps, 1 - eps] of their dtype (finite logits)."""
    eps = torch.finfo(probs.dtype).eps
    return probs.clamp(min=eps, max=1 - eps)


def logits_to_probs(logits, is_binary=False):
    """sigmoid for binary logits, softmax over the last dim otherwise."""
    if is_binary:
        return torch.sigmoid(logits)
    return torch.softmax(logits, dim=-1)


def probs_to_logits(probs, is_binary=False):
    """log-odds for binary probabilities, log(probs) otherwise (clamped, so never -inf)."""
    clamped = clamp_probs(probs)
    if is_binary:
        return torch.log(clamped) - torch.log1p(-clamped)
    return torch.log(clamped)


class lazy_property:
    """A parameter computed on first access and then stored in the instance's ``__dict__``
    (so ``probs`` or ``logits``, whichever was not given, costs nothing until used)."""

    def __init__(self, wrapped):
        self.wrapped = wrapped
        update_wrapper(self, wrapped)

    def __get__(self, instance, obj_type=None):
        if instance is None:
            return _lazy_property_and_property(self.wrapped)
        with torch.enable_grad():
            value = self.wrapped(instance)
        setattr(instance, self.wrapped.__name__, value)
        return value


class _lazy_property_and_property(lazy_property, property):
    """What the class attribute looks like: both a lazy_property and a property (as torch's)."""

    def __init__(self, wrapped):
        property.__init__(self, wrapped)


def tril_matrix_to_vec(mat, diag=0):
    """The lower triangle (offset ``diag``) of the last two dims, row by row, as a vector."""
    n = mat.shape[-1]
    rows, cols = [], []
    for i in range(n):
        for j in range(n):
            if j - i <= diag:
                rows.append(i)
                cols.append(j)
    idx = torch.tensor([i * n + j for i, j in zip(rows, cols)], device=mat.device)
    return mat.reshape(mat.shape[:-2] + (n * n,))[..., idx]


def vec_to_tril_matrix(vec, diag=0):
    """Inverse of :func:`tril_matrix_to_vec`."""
    m = vec.shape[-1]
    n = round(((1 + 8 * m) ** 0.5 - 1) / 2 - diag)
    if n * (n + 1) // 2 + n * diag != m and not (diag < 0):
        raise ValueError("Incorrect size")
    flat = [i * n + j for i in range(n) for j in range(n) if j - i <= diag]
    out = vec.new_zeros(vec.shape[:-1] + (n * n,))
    idx = torch.tensor(flat, device=vec.device)
    out = out.index_copy(-1, idx, vec) if hasattr(out, "index_copy") else out.scatter(
        -1, idx.expand(vec.shape[:-1] + (len(flat),)), vec)
    return out.reshape(vec.shape[:-1] + (n, n))


def _sum_rightmost_or_self(value, dim):
    """sum_rightmost for tensors; a Python number passes through (a constant Jacobian)."""
    if isinstance(value, numbers.Number):
        return value
    return sum_rightmost(value, dim)
