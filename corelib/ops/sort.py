"""Sorting: sort (stable, as the backend contract requires), argsort, topk, msort."""
from __future__ import annotations

from .. import _dtype as D
from .._tensor import _from_buffer, _wrap_dim
from ..autograd.node import Node
from ._graph import attach, edge, named, needs_grad


class SortBackward0(Node):
    __slots__ = ("shape", "dim", "index")

    def backward(self, g):
        return (g.new_zeros(self.shape).scatter(self.dim, self.index, g),)

    def _drop(self):
        self.index = None


class SortBackward1(SortBackward0):
    """sort(stable=...): torch's stable overload."""
    __slots__ = ()


def sort(input, dim=-1, descending=False, stable=None, *, out=None):
    """(values, indices) sorted along ``dim``; stable, nan sorts as the largest value."""
    from .reduce import return_types
    if isinstance(dim, bool):
        dim, descending = -1, dim
    dev = input._device
    if not input._shape:
        _wrap_dim(dim, 0)
        values = named(input.clone(), "SortBackward0" if stable is None else "SortBackward1")
        return return_types["sort"](values, _from_buffer(dev.ops.full((), 0, "int64"), (), D.int64, dev))
    d = _wrap_dim(dim, input.ndim)
    vdata, idata = dev.ops.sort(input._data, d, bool(descending))
    values = _from_buffer(vdata, input._shape, input._dtype, dev)
    indices = _from_buffer(idata, input._shape, D.int64, dev)
    if needs_grad(input):
        node = (SortBackward1 if stable is not None else SortBackward0)((edge(input),),
                                                                          (indices,))
        node.shape, node.dim, node.index = input._shape, d, indices
        attach(values, node)
    return return_types["sort"](values, indices)


def argsort(input, dim=-1, descending=False, stable=False):
    """The indices that sort ``input`` along ``dim``."""
    return sort(input, dim, descending).indices


def topk(input, k, dim=-1, largest=True, sorted=True):
    """(values, indices) of the ``k`` largest (or smallest) entries along ``dim``."""
    from .reduce import return_types
    d = _wrap_dim(dim, max(input.ndim, 1))
    if input._dtype.name == "bool":
        raise RuntimeError("topk does not support bool dtypes on CPU")
    size = input._shape[d] if input._shape else 1
    if not 0 <= k <= size:
        raise RuntimeError("selected index k out of range")
    s = sort(input, d, descending=largest)
    values = s.values.narrow(d, 0, k) if input._shape else s.values
    indices = s.indices.narrow(d, 0, k) if input._shape else s.indices
    return return_types["topk"](named(values, "TopkBackward0"), indices)


def msort(input):
    """Sorted along dim 0 (values only)."""
    return sort(input, 0).values
