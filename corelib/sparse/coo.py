"""Sparse COO tensors (``layout=torch.sparse_coo``): construction, coalescing, densifying.

A sparse tensor holds ``indices`` (sparse_dim, nnz) int64 and ``values`` (nnz, *dense_shape),
both ordinary dense tensors on the tensor's device. Every sparse op is composed from dense
frontend ops (``index_add``, ``index_select``, ``unique``, ``cat``), so it runs on every
backend and is differentiable through their own backwards.

Autograd: the stored indices and values never carry a graph; the sparse tensor's own
``grad_fn`` does. :func:`entries` gives the values as a differentiable dense tensor (its node
turns a dense gradient of the values back into a sparse gradient with this tensor's
indices), and :func:`construct` makes a sparse tensor from differentiable values (its node
gathers the values' gradient from a sparse or dense gradient). Every sparse op is
``construct(f(entries(s)))``, so gradients reach sparse and dense inputs alike.
"""
from __future__ import annotations

from .. import _dtype as D
from .._layout import SparseOperand, sparse_coo
from .._tensor import Tensor
from ..autograd.grad_mode import _state as grad_state
from ..autograd.node import Node
from ..ops._graph import attach, edge

__all__ = ["SparseTensor", "sparse_coo_tensor", "to_sparse", "to_dense", "coalesce",
           "construct", "entries", "grad_values", "linear_index", "gather_rows", "make"]


def _unsupported(self):
    dev = self._device.type
    backend = "SparseCPU" if dev == "cpu" else f"Sparse{dev.upper()}"
    raise SparseOperand(
        f"Could not run this operation with arguments from the '{backend}' backend: plugrad's "
        "sparse COO tensors support to_dense(), coalesce(), indices()/values(), +, -, * and / "
        "by a scalar, sparse + sparse, dense + sparse, mm/matmul with a dense operand, "
        "sum and .to(); convert with to_dense() for anything else")


class SparseTensor(Tensor):
    """A tensor of layout ``torch.sparse_coo`` (``isinstance(s, torch.Tensor)`` holds).

    Dense ops read a tensor's ``_data``: here that raises torch's NotImplementedError for
    the sparse backend, so an op without a sparse version fails clearly rather than reading
    garbage.
    """

    is_sparse = True
    layout = sparse_coo
    _data = property(_unsupported)

    def __new__(cls, *args, **kwargs):
        raise TypeError("make sparse tensors with torch.sparse_coo_tensor or Tensor.to_sparse")

    # ------------------------------------------------------------------ structure
    def sparse_dim(self) -> int:
        """The number of sparse dims (rows of ``indices``)."""
        return self._sp_indices._shape[0]

    def dense_dim(self) -> int:
        """The number of dense dims (each value's own dims)."""
        return len(self._sp_values._shape) - 1

    def _nnz(self) -> int:
        """The number of stored entries (duplicates included until coalesced)."""
        return self._sp_values._shape[0]

    def is_coalesced(self) -> bool:
        """True when indices are sorted and unique (after ``coalesce()``)."""
        return self._sp_coalesced

    def _coalesced_(self, coalesced):
        """Mark the indices as (not) coalesced without checking, as torch's."""
        self._sp_coalesced = bool(coalesced)
        return self

    def _indices(self):
        """The stored indices (sparse_dim, nnz), whether coalesced or not."""
        return self._sp_indices

    def _values(self):
        """The stored values (nnz, *dense_shape); differentiable to a coalesced tensor."""
        return grad_values(self) if self._sp_coalesced else self._sp_values

    def indices(self):
        """The indices of a coalesced tensor (RuntimeError otherwise, as torch)."""
        if not self._sp_coalesced:
            raise RuntimeError("Cannot get indices on an uncoalesced tensor, please call "
                               ".coalesce() first")
        return self._sp_indices

    def values(self):
        """The values of a coalesced tensor (RuntimeError otherwise, as torch)."""
        if not self._sp_coalesced:
            raise RuntimeError("Cannot get values on an uncoalesced tensor, please call "
                               ".coalesce() first")
        return grad_values(self)

    def coalesce(self):
        return coalesce(self)

    def to_dense(self, dtype=None, *, masked_grad=None):
        out = to_dense(self)
        return out if dtype is None else out.to(dtype)

    def to_sparse(self, sparse_dim=None, *, layout=None, blocksize=None, dense_dim=None):
        if layout not in (None, sparse_coo):
            raise NotImplementedError(f"to_sparse: conversion to {layout} is not supported "
                                      "by plugrad (only torch.sparse_coo)")
        if sparse_dim is not None and sparse_dim != self.sparse_dim():
            raise RuntimeError("to_sparse: conversion from Sparse to Sparse with sparse_dim "
                               "argument !=self.sparse_dim() is not supported")
        return self

    to_sparse_coo = to_sparse

    # ------------------------------------------------------------------ bookkeeping
    def stride(self, dim=None):
        raise RuntimeError("Cannot access strides of sparse tensor")

    def is_contiguous(self, memory_format=None):
        raise RuntimeError("Tensors of type SparseTensorImpl do not have is_contiguous")

    def detach(self):
        return make(self._sp_indices, self._sp_values, self._shape, self._sp_coalesced)

    def clone(self, *, memory_format=None):
        indices, values = entries(self)
        return construct(indices.clone(), values.clone(), self._shape,
                         self._sp_coalesced or indices is not self._sp_indices,
                         "CloneBackward0")

    def numpy(self, *, force=False):
        raise TypeError("can't convert sparse tensor to numpy: use to_dense().numpy()")

    def __repr__(self, *, tensor_contents=None):
        from .._formatting import format_sparse
        fn = self._grad_fn
        return format_sparse(self, grad_fn=fn.name() if fn is not None else None,
                             requires_grad=self._requires_grad and fn is None)

    __str__ = __repr__

    def __reduce_ex__(self, protocol):
        return (_rebuild_sparse, (self._sp_indices, self._sp_values, tuple(self._shape),
                                  self._sp_coalesced, self._requires_grad))

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        new = make(self._sp_indices.clone(), self._sp_values.clone(), self._shape,
                   self._sp_coalesced)
        new._requires_grad = self._requires_grad
        memo[id(self)] = new
        return new


def _rebuild_sparse(indices, values, size, coalesced, requires_grad=False):
    """Inverse of ``SparseTensor.__reduce_ex__`` (plain pickle)."""
    t = make(indices, values, tuple(size), coalesced)
    if requires_grad:
        t.requires_grad_(True)
    return t


_new = object.__new__


def make(indices, values, shape, coalesced):
    """Wrap graph-free ``indices`` and ``values`` as a sparse tensor of ``shape`` (no checks)."""
    t = _new(SparseTensor)
    t._shape = tuple(shape)
    t._dtype = values._dtype
    t._device = values._device
    t._requires_grad = False
    t._grad_fn = None
    t._sp_indices = indices
    t._sp_values = values
    t._sp_coalesced = coalesced or values._shape[0] < 2     # torch: 0 or 1 entry is coalesced
    return t


# ---------------------------------------------------------------------- autograd glue

class SparseValuesBackward(Node):
    """values(s) -> s (s coalesced): a dense gradient of the values is a sparse gradient
    of s with s's indices."""
    __slots__ = ("indices", "shape")

    def name(self):
        return "ValuesBackward0"

    def backward(self, g):
        return (construct(self.indices, g, self.shape, True),)


class SparseFromValuesBackward(Node):
    """values -> sparse s: the values' gradient is the gradient of s at s's indices."""
    __slots__ = ("indices", "shape", "torch_name")

    def name(self):
        return self.torch_name

    def backward(self, g):
        if g.is_sparse:
            if g._sp_indices is self.indices and g._sp_coalesced:
                return (grad_values(g),)     # the gradient of these very (unique) entries
            g = to_dense(g)
        return (gather_rows(g, self.indices, self.shape),)


class CoalesceBackward0(Node):
    """coalesce(s) is the same tensor as s: its gradient passes through unchanged."""
    __slots__ = ()

    def backward(self, g):
        return (g,)


def entries(s):
    """(indices, values) of ``s``, the values a dense tensor whose gradient flows back to
    ``s``. A tensor with duplicate entries is coalesced first when it needs grad: a gradient
    is a function of positions, and one value per position keeps it well defined."""
    if s._requires_grad and grad_state.enabled:
        if not s._sp_coalesced:
            s = coalesce(s)
        out = s._sp_values.detach()
        node = SparseValuesBackward((edge(s),))
        node.indices, node.shape = s._sp_indices, s._shape
        return s._sp_indices, attach(out, node)
    return s._sp_indices, s._sp_values


def grad_values(s):
    """The values of ``s`` (coalesced first when it needs grad), differentiable to ``s``."""
    return entries(s)[1]


def construct(indices, values, shape, coalesced,
              name="SparseCooTensorWithDimsAndTensorsBackward0"):
    """A sparse tensor from ``values`` that may carry a graph (``name``: torch's grad_fn)."""
    needs = values._requires_grad and grad_state.enabled
    t = make(indices, values.detach() if values._requires_grad else values, shape, coalesced)
    if needs:
        node = SparseFromValuesBackward((edge(values),))
        node.indices, node.shape, node.torch_name = indices, tuple(shape), name
        attach(t, node)
    return t


# ---------------------------------------------------------------------- index arithmetic

def linear_index(indices, sizes):
    """Row-major position of each column of ``indices`` (k, nnz) in a grid of ``sizes``."""
    key = indices[0]
    for d in range(1, len(sizes)):
        key = key * sizes[d] + indices[d]
    return key


def _delinear(key, sizes):
    """Inverse of :func:`linear_index`: (k, n) indices from row-major positions."""
    from ..ops.movement import stack
    rows = []
    for size in reversed(sizes[1:]):
        rows.append(key.remainder(size))
        key = key.div(size, rounding_mode="floor")
    rows.append(key)
    return stack(rows[::-1])


def _prod(sizes):
    n = 1
    for s in sizes:
        n *= s
    return n


def gather_rows(dense, indices, shape):
    """``dense[indices[0], indices[1], ...]``: the (nnz, *dense_shape) entries at ``indices``."""
    k = indices._shape[0]
    sparse_sizes = tuple(shape[:k])
    flat = dense.reshape((_prod(sparse_sizes),) + tuple(shape[k:]))
    return flat.index_select(0, linear_index(indices, sparse_sizes))


# ---------------------------------------------------------------------- conversions

def to_dense(s):
    """The dense tensor of ``s`` (duplicates summed), differentiable to ``s``."""
    if not s.is_sparse:
        return s
    from ..ops._graph import named
    k = s._sp_indices._shape[0]
    sparse_sizes = s._shape[:k]
    indices, values = entries(s)
    flat = values.new_zeros((_prod(sparse_sizes),) + s._shape[k:])
    if values._shape[0]:
        flat = flat.index_add(0, linear_index(indices, sparse_sizes), values)
    return named(flat.reshape(s._shape), "ToDenseBackward0")


def coalesce(s):
    """``s`` with sorted, unique indices (duplicates summed); ``s`` itself if already so."""
    if s._sp_coalesced:
        return s
    from ..ops.stats import unique
    indices, values = s._sp_indices, s._sp_values
    k = indices._shape[0]
    if values._shape[0] == 0:
        out = make(indices, values, s._shape, True)
    else:
        sizes = s._shape[:k]
        with _no_grad():
            keys, inverse = unique(linear_index(indices, sizes), return_inverse=True)
            summed = values.new_zeros((keys._shape[0],) + values._shape[1:]).index_add(
                0, inverse, values)
            out = make(_delinear(keys, sizes), summed, s._shape, True)
    if s._requires_grad and grad_state.enabled:
        attach(out, CoalesceBackward0((edge(s),)))
    return out


def to_sparse(x, sparse_dim=None, *, layout=None, blocksize=None, dense_dim=None):
    """A dense tensor as sparse COO: one entry per nonzero (sub-)tensor over the first
    ``sparse_dim`` dims (all of them by default), in row-major order, coalesced."""
    if layout not in (None, sparse_coo):
        raise NotImplementedError(f"to_sparse: conversion to {layout} is not supported by "
                                  "plugrad (only torch.sparse_coo)")
    if x.is_sparse:
        return x.to_sparse(sparse_dim)
    ndim = x.ndim
    if sparse_dim is None:
        sparse_dim = ndim if dense_dim is None else ndim - dense_dim
    if not 0 <= sparse_dim <= ndim:
        raise RuntimeError(f"sparse_dim must be in [0, {ndim}] but got {sparse_dim}")
    if sparse_dim == 0:
        indices = x.new_zeros((0, 1), dtype=D.int64)
        return construct(indices, x.unsqueeze(0), x._shape, True, "ToSparseBackward0")
    with _no_grad():
        nonzero = x != 0
        if sparse_dim < ndim:
            nonzero = nonzero.reshape(x._shape[:sparse_dim] + (-1,)).any(-1)
        indices = nonzero.nonzero().t().contiguous()
    values = gather_rows(x, indices, x._shape)
    return construct(indices, values, x._shape, True, "ToSparseBackward0")


def _no_grad():
    from ..autograd.grad_mode import no_grad
    return no_grad()


def _as_index_tensor(indices, device):
    from ..ops.creation import tensor
    if not isinstance(indices, Tensor):
        indices = tensor(indices, device=device)
    if indices._dtype is not D.int64:
        if indices._dtype.is_floating_point or indices._dtype.is_complex or \
                indices._dtype is D.bool_:
            raise RuntimeError("indices must be an int64 tensor")
        indices = indices.to(D.int64)
    return indices.detach()


def sparse_coo_tensor(indices, values, size=None, *, dtype=None, device=None,
                      pin_memory=False, requires_grad=False, check_invariants=None,
                      is_coalesced=None):
    """torch.sparse_coo_tensor: a sparse tensor with ``values`` at ``indices``.

    ``indices`` (sparse_dim, nnz) integers, ``values`` (nnz, *dense_shape); ``size`` is
    inferred from the largest index when omitted. Indices outside ``size`` raise
    RuntimeError (torch checks them only with ``check_invariants``; reading them later
    would read outside the values).
    """
    from ..ops.creation import tensor
    if isinstance(indices, Tensor) and indices.is_sparse:
        raise TypeError("sparse_coo_tensor(): indices must be a dense tensor")
    if not isinstance(values, Tensor):
        values = tensor(values, dtype=dtype, device=device)
    if dtype is not None and values._dtype is not dtype:
        values = values.to(dtype)
    if device is not None:
        values = values.to(device)
    indices = _as_index_tensor(indices, values._device)
    if indices._device is not values._device:
        if device is None:
            raise RuntimeError(f"device of indices ({indices._device}) must match device of "
                               f"values ({values._device})")
        indices = indices.to(values._device)
    if indices.ndim != 2:
        raise RuntimeError(f"indices must be sparse_dim x nnz, but got: {list(indices._shape)}")
    if values.ndim == 0:
        raise RuntimeError("values must have at least one dimension (nnz), got a 0-dim tensor")
    sparse_dim, nnz = indices._shape
    if values._shape[0] != nnz:
        raise RuntimeError(f"indices and values must have same nnz, but got nnz from indices: "
                           f"{nnz}, nnz from values: {values._shape[0]}")
    dense_shape = tuple(values._shape[1:])
    found = indices.max(1).values.tolist() if nnz else [-1] * sparse_dim
    if nnz and indices.min().item() < 0:
        raise RuntimeError(f"found negative index {indices.min().item()} for dim "
                           f"{indices.min(1).values.argmin().item()}")
    if size is None:
        shape = tuple(m + 1 for m in found) + dense_shape
    else:
        shape = tuple(int(s) for s in size)
        if len(shape) != sparse_dim + len(dense_shape):
            raise RuntimeError(f"number of dimensions must be sparse_dim ({sparse_dim}) + "
                               f"dense_dim ({len(dense_shape)}), but got {len(shape)}")
        for d, (m, s) in enumerate(zip(found, shape)):
            if m >= s:
                raise RuntimeError(f"size is inconsistent with indices: for dim {d}, size is "
                                   f"{s} but found index {m}")
        if shape[sparse_dim:] != dense_shape:
            raise RuntimeError(f"values has incorrect size, expected "
                               f"{list((nnz,) + shape[sparse_dim:])}, got "
                               f"{list(values._shape)}")
    coalesced = bool(is_coalesced) if is_coalesced is not None else False
    if requires_grad:
        out = make(indices, values.detach(), shape, coalesced)
        return out.requires_grad_(True)
    return construct(indices, values, shape, coalesced)
