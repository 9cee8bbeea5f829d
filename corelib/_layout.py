"""torch.layout: how a tensor's elements are stored (``torch.strided``, ``torch.sparse_coo``)."""
from __future__ import annotations


class SparseOperand(NotImplementedError):
    """Raised when a dense op reads a sparse tensor's buffer (``SparseTensor._data``): ops
    with a sparse version (``add``, ``mul``, ``sum``) catch it and run that instead, at no
    cost to their dense path."""


class layout:
    """A memory layout; prints as torch does (``torch.sparse_coo``)."""
    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return f"torch.{self.name}"

    def __reduce__(self):
        return (_by_name, (self.name,))


strided = layout("strided")
sparse_coo = layout("sparse_coo")
sparse_csr = layout("sparse_csr")
sparse_csc = layout("sparse_csc")
sparse_bsr = layout("sparse_bsr")
sparse_bsc = layout("sparse_bsc")
_jagged = layout("jagged")

_ALL = {lay.name: lay for lay in (strided, sparse_coo, sparse_csr, sparse_csc, sparse_bsr,
                                   sparse_bsc, _jagged)}


def _by_name(name):
    return _ALL[name]
