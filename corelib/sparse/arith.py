"""Arithmetic on sparse COO tensors, each composed from dense frontend ops on the indices and
values (see :mod:`plugrad.sparse.coo`): sums, scaling, matrix products, reductions, moves.

Where torch keeps a result sparse (sparse + sparse, sparse * scalar, ``torch.sparse.sum``
over some sparse dims) so does plugrad; a product with a dense matrix is dense.
"""
from __future__ import annotations

from .. import _dtype as D
from .._tensor import Tensor, _wrap_dim
from ..autograd.grad_mode import _state as grad_state
from ..autograd.node import Node
from ..ops._graph import attach, edge
from .coo import coalesce, construct, entries, gather_rows, linear_index, to_dense, _delinear

__all__ = ["add", "mul", "div", "neg", "mm", "rmm", "sum", "transpose", "dense_add_",
           "sparse_mask", "to", "sparse_add_"]


def _is_scalar(x):
    return isinstance(x, (int, float, bool)) or (isinstance(x, Tensor) and not x.is_sparse
                                                 and x.ndim == 0)


def _check_same_size(a, b, op="add"):
    if a._shape != b._shape:
        raise RuntimeError(f"{op}: expected 'self' and 'other' to have same size, but self has "
                           f"size {list(a._shape)} while other has size {list(b._shape)} "
                           "(FYI: dense-sparse addition does not currently support "
                           "broadcasting)")
    if a.sparse_dim() != b.sparse_dim():
        raise RuntimeError(f"{op}: expected 'self' and 'other' to have same sparse_dim, but "
                           f"got {a.sparse_dim()} and {b.sparse_dim()}")


def _merged(t, src, alpha):
    """torch's sparse + sparse: (indices, values, coalesced) of t + alpha * src.

    torch walks both index lists once, taking the smaller index first and summing equal
    ones (a merge: it assumes sorted lists but runs on any); when either values tensor is
    not contiguous it concatenates instead. The positions are index bookkeeping, worked out
    on the host; the values are summed on the device with ``index_add``.
    """
    from ..ops.creation import tensor
    from ..ops.movement import cat
    it, vt = entries(t)
    is_, vs = entries(src)
    dt = D.promote_types(vt._dtype, vs._dtype)
    vt, vs = vt.to(dt), vs.to(dt)
    if alpha != 1:
        vs = vs * alpha
    coalesced = t._sp_coalesced and src._sp_coalesced
    if vs._shape[0] == 0:
        return it, vt, t._sp_coalesced
    if vt._shape[0] == 0:
        return is_, vs, src._sp_coalesced
    if not (t._sp_values.is_contiguous() and src._sp_values.is_contiguous()):
        return cat([it, is_], 1), cat([vt, vs]), False
    k = it._shape[0]
    sizes = t._shape[:k]
    lin_t, lin_s = linear_index(it, sizes), linear_index(is_, sizes)
    kt, ks = lin_t.tolist(), lin_s.tolist()
    pos_t, pos_s, order_t, order_s = [], [], [], []
    i = j = r = 0
    nt, ns = len(kt), len(ks)
    while i < nt or j < ns:
        if i >= nt:
            cmp = -1
        elif j >= ns:
            cmp = 1
        else:
            cmp = 1 if kt[i] < ks[j] else (-1 if kt[i] > ks[j] else 0)
        if cmp >= 0:
            pos_t.append(r)
            i += 1
        if cmp <= 0:
            pos_s.append(r)
            j += 1
        r += 1
    dev = vt._device
    pt = tensor(pos_t, dtype=D.int64, device=dev)
    ps = tensor(pos_s, dtype=D.int64, device=dev)
    keys = lin_t.new_zeros(r).index_put((ps,), lin_s).index_put((pt,), lin_t)
    indices = _delinear(keys, sizes)
    values = vt.new_zeros((r,) + tuple(vt._shape[1:])).index_add(0, pt, vt).index_add(0, ps, vs)
    return indices, values, coalesced


def add(a, b, *, alpha=1):
    """a + alpha * b with at least one sparse operand (torch's rules for the layouts)."""
    if not isinstance(b, Tensor) or (a.is_sparse and not b.is_sparse):
        raise RuntimeError("add(sparse, dense) is not supported. Use add(dense, sparse) "
                           "instead.")
    if a.is_sparse and b.is_sparse:
        _check_same_size(a, b)
        indices, values, coalesced = _merged(a, b, alpha)
        return construct(indices, values, a._shape, coalesced, "AddBackward0")
    if a._shape != b._shape:
        raise RuntimeError(f"add: expected 'self' and 'other' to have same size, but self has "
                           f"size {list(a._shape)} while other has size {list(b._shape)} "
                           "(FYI: dense-sparse addition does not currently support "
                           "broadcasting)")
    dense = to_dense(b)
    return a + (dense * alpha if alpha != 1 else dense)


def mul(s, other):
    """A sparse tensor times a scalar (a number or 0-dim tensor) or a dense tensor of its
    shape: sparse, the values scaled by the scalar or by the dense entries at its indices."""
    if isinstance(other, Tensor) and other.is_sparse:
        raise NotImplementedError("mul: plugrad does not multiply two sparse tensors; "
                                  "densify one with to_dense()")
    if not _is_scalar(other):
        if other._shape != s._shape:
            raise RuntimeError(f"mul: a sparse tensor of size {list(s._shape)} times a dense "
                               f"tensor of size {list(other._shape)}: plugrad needs the same "
                               "size (no broadcasting)")
        indices, values = entries(s)
        if s.dense_dim():
            raise NotImplementedError("mul: sparse (with dense dims) * dense is not supported")
        return construct(indices, values * gather_rows(other, indices, s._shape), s._shape,
                         indices is not s._sp_indices or s._sp_coalesced, "MulBackward0")
    indices, values = entries(s)
    return construct(indices, values * other, s._shape, indices is not s._sp_indices
                     or s._sp_coalesced, "MulBackward0")


def div(s, other):
    """A sparse tensor divided by a scalar."""
    if not _is_scalar(other):
        raise NotImplementedError("div: plugrad divides a sparse tensor only by a scalar")
    indices, values = entries(s)
    return construct(indices, values / other, s._shape, indices is not s._sp_indices
                     or s._sp_coalesced, "DivBackward0")


def neg(s):
    indices, values = entries(s)
    return construct(indices, -values, s._shape, indices is not s._sp_indices
                     or s._sp_coalesced, "NegBackward0")


def sparse_add_(s, other, *, alpha=1):
    """In place: s += alpha * other (sparse), as torch's add_ (a gradient accumulating in
    ``.grad``): the same merge as ``+``, written into s."""
    if not (isinstance(other, Tensor) and other.is_sparse):
        raise RuntimeError("add_(sparse, dense) is not supported: the result would be dense; "
                           "use dense.add_(sparse)")
    _check_same_size(s, other, "add_")
    if s._requires_grad and grad_state.enabled:
        raise RuntimeError("a leaf Variable that requires grad is being used in an in-place "
                           "operation.")
    indices, values, coalesced = _merged(s, other, alpha)
    s._sp_indices, s._sp_values, s._sp_coalesced = indices, values.to(s._dtype), coalesced
    s._bump_version()
    return s


def sparse_mul_(s, other):
    """In place: the values scaled by a scalar."""
    if not _is_scalar(other):
        raise NotImplementedError("mul_: plugrad multiplies a sparse tensor only by a scalar")
    s._sp_values = s._sp_values * other
    s._bump_version()
    return s


def dense_add_(dense, s, *, alpha=1):
    """In place: dense += alpha * s (sparse), each entry added once, duplicates in order."""
    if dense._shape != s._shape:
        raise RuntimeError(f"add_: expected 'self' and 'other' to have same size, but self has "
                           f"size {list(dense._shape)} while other has size {list(s._shape)} "
                           "(FYI: dense-sparse addition does not currently support "
                           "broadcasting)")
    indices, values = s._sp_indices, s._sp_values
    if values._shape[0] == 0:
        return dense
    if alpha != 1:
        values = values * alpha
    if values._dtype is not dense._dtype:
        values = values.to(dense._dtype)
    k = indices._shape[0]
    rows = tuple(indices[d] for d in range(k))
    return dense.index_put_(rows, values, accumulate=True)


def sparse_mask(dense, mask):
    """The entries of ``dense`` at the positions of sparse ``mask`` (torch's sparse_mask)."""
    if not mask.is_sparse:
        raise RuntimeError("sparse_mask(): expected mask to be a sparse COO tensor")
    if dense._shape != mask._shape:
        raise RuntimeError(f"sparse_mask(): operands have incompatible sizes; self has size "
                           f"{list(dense._shape)} but mask has size {list(mask._shape)}")
    m = coalesce(mask.detach())
    # torch flags the result as the mask was flagged, though its indices are coalesced
    return construct(m._sp_indices, gather_rows(dense, m._sp_indices, m._shape), m._shape,
                     mask._sp_coalesced, "SparseMaskBackward0")


def _check_mm(s, d, name):
    if d.is_sparse:
        raise NotImplementedError(f"{name}: a product of two sparse tensors is not supported "
                                  "by plugrad; densify one with to_dense()")
    if s.sparse_dim() != 2 or s.dense_dim() != 0:
        raise RuntimeError(f"{name}: expected a 2-D sparse matrix, got sparse_dim "
                           f"{s.sparse_dim()} and dense_dim {s.dense_dim()}")
    if s._device is not d._device:
        raise RuntimeError(f"Expected all tensors to be on the same device, but found at least "
                           f"two devices, {s._device} and {d._device}!")
    if s._dtype is not d._dtype:
        raise RuntimeError(f"expected mat1 and mat2 to have the same dtype, but got: "
                           f"{s._dtype} != {d._dtype}")


class SparseMmBackward(Node):
    """Gradients of ``s @ d`` (``left``) or ``d @ s`` with sparse s: the dense operand's
    through the sparse product with s transposed; s's dense (torch.mm) or masked to s's
    positions (torch.sparse.mm)."""
    __slots__ = ("s", "d", "left", "masked", "torch_name")

    def name(self):
        return self.torch_name

    def backward(self, g):
        es, ed = self.next
        s, d = self.s, self.d
        st = transpose(s, 0, 1)
        if self.left:                              # out = s @ d
            gs = g.mm(d.t()) if es is not None else None
            gd = _sparse_dense(st, g) if ed is not None else None
        else:                                      # out = d @ s
            gs = d.t().mm(g) if es is not None else None
            gd = _dense_sparse(g, st) if ed is not None else None
        if gs is not None and self.masked:
            gs = sparse_mask(gs, s)
        return gs, gd

    def _drop(self):
        self.s = self.d = None


def _sparse_dense(s, d):
    """s @ d from s's stored entries (duplicates add up), differentiable in d only."""
    indices, values = s._sp_indices, s._sp_values
    out = d.new_zeros((s._shape[0], d._shape[1]))
    if values._shape[0]:
        out = out.index_add(0, indices[0], d.index_select(0, indices[1]) * values.unsqueeze(1))
    return out


def _dense_sparse(d, s):
    """d @ s from s's stored entries, differentiable in d only."""
    indices, values = s._sp_indices, s._sp_values
    out = d.new_zeros((d._shape[0], s._shape[1]))
    if values._shape[0]:
        out = out.index_add(1, indices[1], d.index_select(1, indices[0]) * values.unsqueeze(0))
    return out


def _record_mm(out, s, d, left, masked):
    if (s._requires_grad or d._requires_grad) and grad_state.enabled:
        node = SparseMmBackward((edge(s), edge(d)))
        node.s, node.d, node.left, node.masked = s.detach(), d.detach(), left, masked
        node.torch_name = "SparseAddmmBackward0" if masked else "MmBackward0"
        out = out.detach()
        attach(out, node)
    return out


def mm(s, d, masked=False):
    """sparse (n, k) @ dense (k, m) -> dense (n, m): out[r] += v * d[c] for each entry.
    ``masked``: s's gradient keeps s's positions (torch.sparse.mm), else it is dense."""
    if d.ndim == 1:
        return mm(s, d.unsqueeze(1), masked).squeeze(1)
    _check_mm(s, d, "mm")
    if d.ndim != 2:
        raise RuntimeError("mat2 must be a matrix")
    n, k = s._shape
    if d._shape[0] != k:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({n}x{k} and "
                           f"{d._shape[0]}x{d._shape[1]})")
    with _no_grad():
        out = _sparse_dense(s, d.detach())
    return _record_mm(out, s, d, True, masked)


def rmm(d, s, masked=False):
    """dense (n, k) @ sparse (k, m) -> dense (n, m): out[:, c] += d[:, r] * v per entry."""
    _check_mm(s, d, "mm")
    if d.ndim != 2:
        raise RuntimeError("self must be a matrix")
    k, m = s._shape
    if d._shape[1] != k:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({d._shape[0]}x"
                           f"{d._shape[1]} and {k}x{m})")
    with _no_grad():
        out = _dense_sparse(d.detach(), s)
    return _record_mm(out, s, d, False, masked)


def _no_grad():
    from ..autograd.grad_mode import no_grad
    return no_grad()


def sum(s, dim=None, keepdim=False, dtype=None):
    """torch.sparse.sum: all entries (a dense 0-dim tensor), or over ``dim``: sparse while
    sparse dims remain, dense otherwise (the input is coalesced first, as torch's)."""
    if dim is not None:
        s = coalesce(s)
    indices, values = entries(s)
    if dtype is not None:
        values = values.to(dtype)
    if dim is None:
        return values.sum()
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    ndim = len(s._shape)
    dims = sorted({_wrap_dim(d, ndim) for d in dims})
    k = indices._shape[0]
    kept = [d for d in range(k) if d not in dims]
    dense_dims = [d - k + 1 for d in dims if d >= k]
    if dense_dims:
        values = values.sum(dense_dims)
    dense_shape = tuple(n for d, n in enumerate(s._shape) if d >= k and d not in dims)
    if not kept:
        return values.sum(0)
    if len(kept) == k:
        return construct(indices, values, tuple(s._shape[:k]) + dense_shape, True,
                         "SumBackward1")
    from ..ops.movement import stack
    new_indices = stack([indices[d] for d in kept])
    shape = tuple(s._shape[d] for d in kept) + dense_shape
    return coalesce(construct(new_indices, values, shape, False, "SumBackward1"))


def transpose(s, dim0, dim1):
    """Two sparse dims swapped (a new tensor over the same values, not coalesced)."""
    ndim = len(s._shape)
    dim0, dim1 = _wrap_dim(dim0, ndim), _wrap_dim(dim1, ndim)
    k = s.sparse_dim()
    if dim0 == dim1:
        return s
    if dim0 >= k or dim1 >= k:
        raise RuntimeError(f"transpose: plugrad swaps only sparse dims of a sparse tensor "
                           f"(sparse_dim {k}), got {dim0} and {dim1}")
    from ..ops.movement import stack
    indices, values = entries(s)
    order = list(range(k))
    order[dim0], order[dim1] = order[dim1], order[dim0]
    shape = list(s._shape)
    shape[dim0], shape[dim1] = shape[dim1], shape[dim0]
    return construct(stack([indices[d] for d in order]), values, tuple(shape), False,
                     "TransposeBackward0")


def to(s, device, dtype, copy):
    """The sparse tensor on ``device`` / as ``dtype`` (indices and values moved)."""
    if device is s._device and dtype is s._dtype and not copy:
        return s
    indices, values = entries(s)
    coalesced = s._sp_coalesced or indices is not s._sp_indices
    return construct(indices.to(device), values.to(device=device, dtype=dtype, copy=copy),
                     s._shape, coalesced, "ToCopyBackward0")
