"""Order statistics and set ops: median, kthvalue, cummax/cummin, logcumsumexp, unique, isin.

Selections are made with the backend's stable sort; their gradients reuse the max/min nodes
(the chosen element gets the gradient; a full median spreads it over ties, as torch does).
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING

from .. import _dtype as D
from .._tensor import _from_buffer, _wrap_dim
from ..autograd.grad_mode import no_grad
from ._graph import attach, edge, named, needs_grad
from .reduce import _EvenlyDistributed, _return_type, _SelectedIndex, return_types

if TYPE_CHECKING:
    from .._tensor import Tensor

return_types.setdefault("nanmedian", _return_type("nanmedian"))


class MedianBackward0(_EvenlyDistributed):
    __slots__ = ()


class NanmedianBackward0(_EvenlyDistributed):
    __slots__ = ()


class MedianBackward1(_SelectedIndex):
    __slots__ = ()


class NanmedianBackward1(_SelectedIndex):
    __slots__ = ()


class KthvalueBackward0(_SelectedIndex):
    __slots__ = ()


def _select_kth(x, d, k_of, skip_nan):
    """(values, indices) of the k-th smallest along d; nan propagates unless skip_nan."""
    s = x.sort(d, stable=True)
    n = x._shape[d]
    if skip_nan:
        valid = x.isnan().logical_not().sum(d, keepdim=True)
        k = ((valid - 1).clamp(min=0) // 2) if k_of is None else None
        values = s.values.gather(d, k)
        indices = s.indices.gather(d, k)
        return values.squeeze(d), indices.squeeze(d)
    k = k_of if k_of is not None else (n - 1) // 2
    values = s.values.narrow(d, k, 1).squeeze(d)
    indices = s.indices.narrow(d, k, 1).squeeze(d)
    if x._dtype.is_floating_point and k_of is None:
        nan = x.isnan()
        has_nan = nan.any(d)
        values = values.masked_fill(has_nan, math.nan)
        indices = indices.where(has_nan.logical_not(), nan.to(D.uint8).argmax(d))
    return values, indices


def _median_like(name, full_node, dim_node, input, dim, keepdim, skip_nan):
    if input._dtype is D.bool_:
        raise NotImplementedError(f"\"{name}_cpu\" not implemented for 'Bool'" if dim is None
                                  else f"\"{name}_out\" not implemented for 'Bool'")
    if dim is None:
        if input.numel() == 0:
            return input.new_full((), math.nan)
        with no_grad():
            flat = input.reshape(-1)
            value, _ = _select_kth(flat, 0, None, skip_nan)
        res = _from_buffer(value._data, (), input._dtype, input._device)
        if needs_grad(input):
            alias = res.detach()
            node = full_node((edge(input),), (input, alias))
            node.shape, node.dims, node.keepdim = input._shape, tuple(range(input.ndim)), False
            node.x, node.y = input, alias
            attach(res, node)
        return res
    d = _wrap_dim(dim, max(input.ndim, 1))
    if input._shape and input._shape[d] == 0:     # (torch names median for nanmedian too)
        raise IndexError(f"median(): Expected reduction dim {d} to have non-zero size.")
    if not input._shape:
        values, indices = input.clone(), input.new_zeros((), dtype=D.int64)
    else:
        with no_grad():
            values, indices = _select_kth(input, d, None, skip_nan)
            if keepdim:
                values, indices = values.unsqueeze(d), indices.unsqueeze(d)
        values = _from_buffer(values._data, values._shape, values._dtype, values._device)
    if needs_grad(input) and input._shape:
        node = dim_node((edge(input),), (indices,))
        node.shape, node.dims, node.keepdim, node.y = input._shape, (d,), keepdim, indices
        attach(values, node)
    return return_types[name](values, indices)


def median(input, dim=None, keepdim=False):
    """The lower median (of all elements, or (values, indices) along ``dim``); nan wins."""
    return _median_like("median", MedianBackward0, MedianBackward1, input, dim, keepdim, False)


def nanmedian(input, dim=None, keepdim=False):
    """median ignoring nan."""
    return _median_like("nanmedian", NanmedianBackward0, NanmedianBackward1, input, dim,
                        keepdim, True)


def kthvalue(input, k, dim=-1, keepdim=False):
    """(values, indices) of the k-th smallest element along ``dim`` (1-based k)."""
    d = _wrap_dim(dim, max(input.ndim, 1))
    n = input._shape[d] if input._shape else 1
    if n == 0:
        raise IndexError(f"kthvalue(): Expected reduction dim {d} to have non-zero size.")
    if not 1 <= k <= n:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {d}")
    if not input._shape:
        return return_types["kthvalue"](input.clone(), input.new_zeros((), dtype=D.int64))
    with no_grad():
        values, indices = _select_kth(input, d, k - 1, False)
        if keepdim:
            values, indices = values.unsqueeze(d), indices.unsqueeze(d)
    values = _from_buffer(values._data, values._shape, values._dtype, values._device)
    if needs_grad(input):
        node = KthvalueBackward0((edge(input),), (indices,))
        node.shape, node.dims, node.keepdim, node.y = input._shape, (d,), keepdim, indices
        attach(values, node)
    return return_types["kthvalue"](values, indices)


class CummaxBackward0(_SelectedIndex):
    """Each output position's gradient goes to the element it copied (scatter-add)."""
    __slots__ = ()

    def backward(self, g):
        d = self.dims[0]
        return (g.new_zeros(self.shape).scatter_add(d, self.y, g),)


class CumminBackward0(CummaxBackward0):
    __slots__ = ()


def _cum_extreme(name, node_cls, input, dim):
    d = _wrap_dim(dim, max(input.ndim, 1))
    if not input._shape:
        return return_types[name](input.clone(), input.new_zeros((), dtype=D.int64))
    from .creation import arange
    n = input._shape[d]
    with no_grad():
        x = input.movedim(d, -1)
        i = arange(n, device=input._device)
        upto = i.reshape(n, 1) >= i.reshape(1, n)               # [out i, source j]: j <= i
        rows = x.unsqueeze(-2).expand(*x._shape[:-1], n, n)
        fill = -math.inf if name == "cummax" else math.inf
        if not input._dtype.is_floating_point:
            rows = rows.to(D.float64)       # room for the +-inf fill
        masked = rows.masked_fill(upto.logical_not(), fill)
        values = (masked.amax(-1) if name == "cummax" else masked.amin(-1))
        if input._dtype.is_floating_point:
            nan_seen = x.isnan().to(D.int64).cumsum(-1) > 0
            values = values.masked_fill(nan_seen, math.nan)
        values = values.to(input._dtype)
        # torch keeps the latest index holding the running extreme (and the first nan)
        hit = rows.eq(values.to(rows._dtype).unsqueeze(-1)).logical_and(upto)
        if input._dtype.is_floating_point:
            first_nan = x.isnan().to(D.int64).cumsum(-1).eq(1).logical_and(x.isnan())
            nan_hit = first_nan.unsqueeze(-2).expand(*x._shape[:-1], n, n).logical_and(upto)
            hit = hit.where(values.isnan().logical_not().unsqueeze(-1), nan_hit)
        indices = (hit.to(D.int64) * (i + 1)).amax(-1) - 1
        values, indices = values.movedim(-1, d), indices.movedim(-1, d)
    values = _from_buffer(values._device.ops.copy(values._data), values._shape, values._dtype,
                   values._device)
    indices = _from_buffer(indices._device.ops.copy(indices._data), indices._shape, D.int64,
                    indices._device)
    if needs_grad(input):
        node = node_cls((edge(input),), (indices,))
        node.shape, node.dims, node.keepdim, node.y = input._shape, (d,), True, indices
        attach(values, node)
    return return_types[name](values, indices)


def cummax(input, dim):
    """Running maximum along ``dim``: (values, indices)."""
    return _cum_extreme("cummax", CummaxBackward0, input, dim)


def cummin(input: Tensor, dim: int):
    """Running minimum along ``dim``: (values, indices)."""
    return _cum_extreme("cummin", CumminBackward0, input, dim)


def logcumsumexp(input, dim):
    """log(cumsum(exp(x))) along ``dim``: each prefix is a stable logsumexp (an n x n masked
    matrix per row, so a large value later never swamps earlier prefixes)."""
    from .creation import arange
    d = _wrap_dim(dim, max(input.ndim, 1))
    if not input._shape:
        return named(input.clone(), "LogcumsumexpBackward0")
    n = input._shape[d]
    x = input.movedim(d, -1)
    i = arange(n, device=input._device)
    later = i.reshape(1, n) > i.reshape(n, 1)               # [prefix i, element j]: j > i
    rows = x.unsqueeze(-2).expand(*x._shape[:-1], n, n).masked_fill(later, -math.inf)
    return named(rows.logsumexp(-1).movedim(-1, d), "LogcumsumexpBackward0")


def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    """The distinct values (sorted), optionally with the inverse map and the counts."""
    if dim is not None:
        raise NotImplementedError("unique(dim=...) is not supported by plugrad")
    from .movement import cat
    with no_grad():
        flat = input.reshape(-1)
        if flat.numel() == 0:
            values = flat.clone()
            inverse = input.new_zeros(input._shape, dtype=D.int64)
            counts = input.new_zeros(0, dtype=D.int64)
        else:
            s = flat.sort(stable=True)
            first = flat.new_ones(1, dtype=D.bool_)
            new = cat([first, s.values[1:] != s.values[:-1]])
            values = s.values[new]
            group = new.to(D.int64).cumsum(0) - 1
            inverse = group.new_zeros(flat._shape).scatter(0, s.indices, group)
            inverse = inverse.reshape(input._shape)
            counts = group.new_zeros(values._shape).scatter_add(0, group, group.new_ones(
                group._shape))
    out = (values,)
    if return_inverse:
        out += (inverse,)
    if return_counts:
        out += (counts,)
    return out[0] if len(out) == 1 else out


def isin(elements, test_elements, *, assume_unique=False, invert=False):
    """True where an element of ``elements`` appears in ``test_elements``."""
    from .._tensor import Tensor
    with no_grad():
        if not isinstance(test_elements, Tensor):
            test_elements = elements.new_tensor(test_elements)
        if not isinstance(elements, Tensor):
            elements = test_elements.new_tensor(elements)
        found = (elements.unsqueeze(-1) == test_elements.reshape(-1)).any(-1)
        return found.logical_not() if invert else found


__all__ = ["median", "nanmedian", "kthvalue", "cummax", "cummin", "logcumsumexp", "unique",
           "isin"]
