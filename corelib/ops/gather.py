"""The gather/scatter family, index_select/add/fill, masks and nonzero (``where``: :mod:`.ternary`).

Each runs on the backend's ``index`` / ``index_put`` primitives over index tensors built from
aranges (``_dim_index``); gradients are the mirror op (gather <-> scatter_add, ...).
"""
from __future__ import annotations

from .. import _dtype as D
from .._tensor import Tensor, _from_buffer, _wrap_dim
from ..autograd.grad_mode import is_grad_enabled
from ..autograd.node import Node
from ._graph import attach, edge, named, needs_grad
from .indexing import _check_bounds, _normalise, _scalar_for, getitem, index_put_functional
from ._operands import check_same_device
from .ternary import where


class IndexFillBackward0(Node):
    __slots__ = ("dim", "index")

    def backward(self, g):
        return (index_fill(g, self.dim, self.index, 0),)

    def _drop(self):
        self.index = None


class IndexFillBackward1(Node):
    """index_fill with a 0-dim tensor value (which gets the sum of the filled grads)."""
    __slots__ = ("dim", "index", "vdtype")

    def backward(self, g):
        ex, ev = self.next
        gx = index_fill(g, self.dim, self.index, 0) if ex is not None else None
        gv = None
        if ev is not None:
            gv = index_select(g, self.dim, self.index).sum()
            gv = gv if gv._dtype is self.vdtype else gv.to(self.vdtype)
        return gx, gv

    def _drop(self):
        self.index = None


def index_fill(input, dim, index, value):
    """A copy of input with ``value`` at ``index`` along ``dim`` (negative indices wrap)."""
    check_same_device(input, index, *(value,) if isinstance(value, Tensor) and value.ndim else ())
    d = _wrap_dim(dim, max(input.ndim, 1))
    if index.ndim > 1:
        raise IndexError("Index has to be a vector/scalar")
    if index._dtype is not D.int64:
        raise IndexError("index_fill_(): Expected dtype int64 for index.")
    if isinstance(value, Tensor) and value.ndim:
        raise RuntimeError(f"index_fill_ only supports a 0-dimensional value tensor, but got "
                           f"tensor with {value.ndim} dimension(s).")
    size = input._shape[d] if input._shape else 1
    _check_bounds(index, size, d)
    idx = _normalise(index.reshape(-1), size)
    dev = input._device
    out = _from_buffer(dev.ops.copy(input._data), input._shape, input._dtype, dev)
    target = out if out._shape else out.reshape(1)
    with _no_grad():
        fill = value.detach().to(input._dtype) if isinstance(value, Tensor) else value
        target[(slice(None),) * d + (idx,)] = fill
    value_grad = isinstance(value, Tensor) and value._requires_grad
    if needs_grad(input) or (value_grad and is_grad_enabled()):
        if value_grad:
            node = IndexFillBackward1((edge(input), edge(value)), (idx,))
            node.vdtype = value._dtype
        else:
            node = IndexFillBackward0((edge(input),), (idx,))
        node.dim, node.index = d, idx
        attach(out, node)
    return out


def _dim_index(index, dim):
    """Index tensors addressing x[a0, a1, ..., index, ...]: aranges broadcast with index."""
    from .creation import arange
    parts = []
    for d in range(index.ndim):
        if d == dim:
            parts.append(index)
        else:
            shape = [1] * index.ndim
            shape[d] = index._shape[d]
            parts.append(arange(index._shape[d], device=index._device).reshape(shape).expand(
                index._shape))
    return parts


def _check_gather(name, input, dim, index):
    check_same_device(input, index)
    if index._dtype not in (D.int64, D.int32):
        raise RuntimeError(f"{name}(): Expected dtype int32/int64 for index")
    if index.ndim != input.ndim and not (index.ndim <= 1 and input.ndim <= 1):
        raise RuntimeError("Index tensor must have the same number of dimensions as input "
                           "tensor")
    d = _wrap_dim(dim, max(input.ndim, 1))
    for k in range(index.ndim):
        if k != d and index._shape[k] > (input._shape[k] if input._shape else 1):
            raise RuntimeError(f"Size does not match at dimension {k} expected index "
                               f"{list(index._shape)} to be smaller than self "
                               f"{list(input._shape)} apart from dimension {d}")
    _check_bounds(index, input._shape[d] if input._shape else 1, d, wrap=False,
                  exc=RuntimeError)
    return d


class GatherBackward0(Node):
    __slots__ = ("shape", "dim", "index")

    def backward(self, g):
        return (g.new_zeros(self.shape).scatter_add(self.dim, self.index, g),)

    def _drop(self):
        self.index = None


def gather(input, dim, index, *, sparse_grad=False):
    """out[i][j] = input[index[i][j]][j] (for dim=0), as torch.gather."""
    d = _check_gather("gather", input, dim, index)
    if not input._shape:
        return input.reshape(1).gather(0, index.reshape(1)).reshape(index._shape)
    region = input
    if index._shape != input._shape:
        slices = tuple((0, index._shape[k] if k != d else input._shape[k], 1)
                       for k in range(input.ndim))
        from .views import slice_view
        region = slice_view(input.detach(), slices)
    parts = _dim_index(index if index._dtype is D.int64 else index.to(D.int64), d)
    dev = input._device
    data = dev.ops.index(region._data, [p._data for p in parts])
    out = _from_buffer(data, index._shape, input._dtype, dev)
    if needs_grad(input):
        node = GatherBackward0((edge(input),), (index,))
        node.shape, node.dim, node.index = input._shape, d, index
        attach(out, node)
    return out


def take_along_dim(input, indices, dim=None):
    """Values at ``indices`` along ``dim`` (the flattened input when dim is None),
    the indices broadcast against the input."""
    check_same_device(input, indices)
    if dim is None:
        return gather(input.reshape(-1), 0, indices.reshape(-1))
    from ._operands import broadcast_shapes
    d = _wrap_dim(dim, input.ndim)
    shape_i = list(input._shape)
    shape_x = list(indices._shape)
    shape_i[d] = 1
    shape_x[d] = 1
    common = list(broadcast_shapes(tuple(shape_i), tuple(shape_x)))
    ci = common.copy()
    ci[d] = indices._shape[d]
    cx = common.copy()
    cx[d] = input._shape[d]
    return gather(input.expand(cx), d, indices.expand(ci))


class ScatterBackward0(Node):
    __slots__ = ("dim", "index", "vshape", "reduce_add")

    def backward(self, g):
        ex, es = self.next
        gx = None
        if ex is not None:
            gx = g if self.reduce_add else g.scatter(self.dim, self.index, 0.0)
        gs = g.gather(self.dim, self.index) if es is not None else None
        return gx, gs

    def _drop(self):
        self.index = None


class ScatterBackward1(ScatterBackward0):
    """scatter of a scalar value."""
    __slots__ = ()


class ScatterAddBackward0(ScatterBackward0):
    __slots__ = ()


def _scatter(name, input, dim, index, src, accumulate):
    d = _check_gather(name, input, dim, index)
    if isinstance(src, Tensor):
        check_same_device(input, src)
        if src._dtype is not input._dtype:
            raise RuntimeError(f"{name}(): Expected self.dtype to be equal to src.dtype")
        for k in range(index.ndim):
            if index._shape[k] > src._shape[k]:
                raise RuntimeError(f"Size does not match at dimension {k} expected index "
                                   f"{list(index._shape)} to be smaller than src "
                                   f"{list(src._shape)}")
        if src._shape != index._shape:
            from .views import slice_view
            src_region = slice_view(src, tuple((0, s, 1) for s in index._shape))
        else:
            src_region = src
    else:
        src_region = src
    parts = _dim_index(index if index._dtype is D.int64 else index.to(D.int64), d)
    out = index_put_functional(input, parts, src_region, accumulate)
    if out._grad_fn is not None:
        cls = ScatterAddBackward0 if accumulate else ScatterBackward0 if isinstance(
            src, Tensor) else ScatterBackward1
        node = cls((edge(input), edge(src) if isinstance(src, Tensor) else None), (index,))
        node.dim, node.index, node.reduce_add = d, index, accumulate
        attach(out, node)
    return out


def scatter(input, dim, index, src=None, *, value=None, reduce=None):
    """Out-of-place scatter: a copy of input with src (or value) written at index."""
    if src is None:
        src = value
    if reduce is not None:
        if reduce == "add":
            return scatter_add(input, dim, index, src if isinstance(src, Tensor) else
                               input.new_full(index._shape, src))
        raise RuntimeError(f"reduce argument must be either add or multiply, got {reduce}")
    return _scatter("scatter", input, dim, index, src, False)


def scatter_add(input, dim, index, src):
    """A copy of ``input`` with ``src`` added at ``index`` along ``dim`` (duplicates sum)."""
    return _scatter("scatter_add", input, dim, index, src, True)


class IndexSelectBackward0(Node):
    __slots__ = ("shape", "dim", "index")

    def backward(self, g):
        return (g.new_zeros(self.shape).index_add(self.dim, self.index, g),)

    def _drop(self):
        self.index = None


def index_select(input, dim, index):
    """The entries of ``input`` at ``index`` (1-D, int64) along ``dim``, as a copy."""
    check_same_device(input, index)
    if index.ndim > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    if index._dtype not in (D.int64, D.int32):
        raise RuntimeError("index_select(): Expected dtype int32 or int64 for index")
    d = _wrap_dim(dim, max(input.ndim, 1))
    if not input._shape:
        return named(input.reshape(1).index_select(0, index).reshape(()),
                     "IndexSelectBackward0")
    _check_bounds(index, input._shape[d], d, wrap=False, message="index out of range in self")
    idx = index.reshape(-1)
    idx = idx if idx._dtype is D.int64 else idx.to(D.int64)
    moved = input.movedim(d, 0) if d else input
    dev = input._device
    data = dev.ops.index(moved._data, [idx._data])
    shape = idx._shape + moved._shape[1:]
    out = _from_buffer(data, shape, input._dtype, dev)
    if d:
        out = out.movedim(0, d)
        out = _from_buffer(out._data, out._shape, out._dtype, out._device)
    if needs_grad(input):
        node = IndexSelectBackward0((edge(input),), (index,))
        node.shape, node.dim, node.index = input._shape, d, idx
        attach(out, node)
    return out


class IndexAddBackward0(Node):
    __slots__ = ("dim", "index", "alpha")

    def backward(self, g):
        ex, es = self.next
        gs = g.index_select(self.dim, self.index) * self.alpha if es is not None else None
        return (g if ex is not None else None), gs

    def _drop(self):
        self.index = None


def index_add(input, dim, index, source, *, alpha=1):
    """A copy of ``input`` with ``alpha * source`` added at ``index`` along ``dim``."""
    check_same_device(input, index, source)
    if source._dtype is not input._dtype:
        raise RuntimeError(f"index_add_(): self ({D.legacy_name(input._dtype)}) and source "
                           f"({D.legacy_name(source._dtype)}) must have the same scalar type")
    d = _wrap_dim(dim, max(input.ndim, 1))
    _check_bounds(index, input._shape[d] if input._shape else 1, d, wrap=False,
                  exc=RuntimeError)
    idx = index.reshape(-1)
    idx = idx if idx._dtype is D.int64 else idx.to(D.int64)
    src = source * alpha if alpha != 1 else source
    perm = [d] + [k for k in range(input.ndim) if k != d]
    moved = input.permute(perm) if d else input
    smoved = src.permute(perm) if d else src
    with _no_grad():
        out_m = index_put_functional(moved.detach(), [idx], smoved.detach(), accumulate=True)
    inverse = [0] * len(perm)
    for i, p in enumerate(perm):
        inverse[p] = i
    out = out_m.permute(inverse) if d else out_m
    out = _from_buffer(out._data, out._shape, out._dtype, out._device)
    if needs_grad(input, source):
        node = IndexAddBackward0((edge(input), edge(source)), (index,))
        node.dim, node.index, node.alpha = d, idx, alpha
        attach(out, node)
    return out


def _no_grad():
    from ..autograd.grad_mode import no_grad
    return no_grad()

# ------------------------------------------------------------------------ masks

def _legacy(dt):
    return D.legacy_name(dt)


class MaskedFillBackward0(Node):
    __slots__ = ("mask",)

    def backward(self, g):
        return (g.masked_fill(self.mask, 0),)

    def _drop(self):
        self.mask = None


class MaskedFillBackward1(Node):
    """masked_fill with a 0-dim tensor value: the value gets the sum of the masked grads."""
    __slots__ = ("mask", "vdtype")

    def backward(self, g):
        ex, ev = self.next
        gx = g.masked_fill(self.mask, 0) if ex is not None else None
        gv = None
        if ev is not None:
            gv = g.where(self.mask, 0.0).sum()
            gv = gv if gv._dtype is self.vdtype else gv.to(self.vdtype)
        return gx, gv

    def _drop(self):
        self.mask = None


def masked_fill(input, mask, value):
    """Copy of input with ``value`` where mask is True (mask broadcasts to input)."""
    if mask._dtype is not D.bool_:
        raise RuntimeError(f"masked_fill_ only supports boolean masks, but got mask with dtype "
                           f"{mask._dtype}")
    from ._operands import broadcast_shapes
    if broadcast_shapes(mask._shape, input._shape) != input._shape:
        raise RuntimeError(f"The size of tensor a ({input._shape[-1] if input._shape else 1}) "
                           f"must match the size of tensor b ({mask._shape[-1]}) at "
                           "non-singleton dimension")
    if isinstance(value, Tensor):
        if value.ndim:
            raise RuntimeError(f"masked_fill_ only supports a 0-dimensional value tensor, but got "
                               f"tensor with {value.ndim} dimension(s).")
        if value._requires_grad and is_grad_enabled():
            with _no_grad():
                res = where(mask, value.to(input._dtype), input)
            res = _from_buffer(res._data, res._shape, res._dtype, res._device)
            node = MaskedFillBackward1((edge(input), edge(value)), (mask,))
            node.mask, node.vdtype = mask, value._dtype
            return attach(res, node)
        value = value.item()
    dev = input._device
    if mask._device is not dev:
        mask = mask.to(dev)
    scalar = _scalar_for(value, input._dtype)
    res = _from_buffer(dev.ops.where(mask._data, scalar, input._data), input._shape, input._dtype, dev)
    if needs_grad(input):
        node = MaskedFillBackward0((edge(input),), (mask,))
        node.mask = mask
        attach(res, node)
    return res


def masked_select(input, mask):
    """The elements where ``mask`` (broadcast with input) is True, as a 1-D tensor."""
    from ._operands import broadcast_shapes
    if mask._dtype is not D.bool_:
        raise RuntimeError("masked_select: expected BoolTensor for mask")
    shape = broadcast_shapes(input._shape, mask._shape)
    return named(getitem(input.expand(shape), mask.expand(shape)), "MaskedSelectBackward0")


def masked_scatter(input, mask, source):
    """A copy of input with consecutive elements of ``source`` written where mask is True."""
    from ._operands import broadcast_shapes
    if mask._dtype is not D.bool_:
        raise RuntimeError("masked_scatter_ only supports boolean masks, but got mask with "
                           f"dtype {D.legacy_name(mask._dtype)}")
    shape = broadcast_shapes(input._shape, mask._shape)
    if shape != input._shape:
        input = input.expand(shape)
    mask = mask.expand(shape)
    n = int(mask.sum())
    if n > source.numel():
        raise RuntimeError("masked_scatter: expected source to have at least as many elements "
                           "as ones in mask")
    values = source.reshape(-1)[:n]
    key = mask.nonzero(as_tuple=True) if mask._shape else mask
    out = index_put_functional(input, [_normalise(k, s) for k, s in zip(key, shape)], values) \
        if mask._shape else input.where(mask.logical_not(), values.reshape(()) if n else input)
    return named(out, "MaskedScatterBackward0")


def nonzero(input, *, as_tuple=False):
    """Coordinates of non-zero elements: (n, ndim) int64, or a tuple of 1-D tensors."""
    dev = input._device
    x = input if input._dtype is D.bool_ else (input != 0)
    if not x._shape:
        # torch: a 0-d input gives coordinates of shape (n, 0)
        data = dev.ops.nonzero(x.reshape(1)._data)
        coords = _from_buffer(data, _shape_of(dev, data), D.int64, dev)
        return (coords.select(1, 0),) if as_tuple else coords[:, :0]
    data = dev.ops.nonzero(x._data)
    coords = _from_buffer(data, _shape_of(dev, data), D.int64, dev)
    if as_tuple:
        return tuple(coords.select(1, j) for j in range(input.ndim))
    return coords


def _shape_of(dev, data):
    """Shape of a data-dependent result; buffers expose ``.shape`` (see the contract)."""
    return tuple(data.shape)


def argwhere(input):
    """The (n, ndim) int64 coordinates of the non-zero elements, in C order."""
    return nonzero(input)


def take(input, index):
    """input.flatten()[index] (negative indices wrap)."""
    check_same_device(input, index)
    n = input.numel()
    _check_bounds(index, n, 0, message="out of range: tried to access index {bad} on a tensor "
                                       "of " + str(n) + " elements.")
    return named(getitem(input.reshape(-1), index), "TakeBackward0")
