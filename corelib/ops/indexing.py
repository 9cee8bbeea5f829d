"""Indexing: ``x[key]``, ``x[key] = v`` and the gather/scatter family.

Basic indices (ints, slices, None, Ellipsis) become a view through the ``slice`` and
``reshape`` primitives. Advanced indices (integer / bool tensors, lists) follow numpy's rules
and run on the backend's ``index`` / ``index_put`` primitives over the leading axes of a
permuted view: the indexed dims are moved to the front, indexed, and moved back when they were
adjacent (where numpy and torch keep them in place).
"""
from __future__ import annotations

import numpy

from .. import _dtype as D
from .._tensor import Tensor, _make, _wrap_dim
from ..autograd.grad_mode import is_grad_enabled
from ..autograd.node import Node
from ._graph import attach, edge, named, needs_grad, unbroadcast
from .views import make_view


# ------------------------------------------------------------------ key normalisation

def _as_index_tensor(value, device):
    from .creation import as_tensor
    if isinstance(value, Tensor):
        t = value
    else:
        arr = numpy.asarray(value)
        if arr.dtype == object:
            raise IndexError("only integers, slices (`:`), ellipsis (`...`), None and long or "
                             "byte Variables are valid indices")
        if arr.size == 0 and arr.dtype.kind == "f":
            arr = arr.astype(numpy.int64)
        t = as_tensor(arr)
    if t._dtype.is_floating_point:
        raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
    if t._device is not device:
        t = t.to(device)
    return t


def _as_key_tuple(key):
    """torch's treatSequenceAsTuple: a list holding sequences, slices, None, Ellipsis or
    tensors is a tuple of indices (``x[[[0, 1], [2, 2]]]`` is ``x[[0, 1], [2, 2]]``)."""
    if isinstance(key, tuple):
        return key
    if isinstance(key, list) and len(key) < 32 and any(
            k is None or k is Ellipsis or isinstance(k, (list, tuple, slice, Tensor,
                                                         numpy.ndarray)) for k in key):
        return tuple(key)
    return (key,)


def _expand_key(key, ndim):
    """Tuple key with Ellipsis expanded; counts the dims each entry consumes."""
    key = _as_key_tuple(key)
    consumed = 0
    ellipses = 0
    for k in key:
        if k is Ellipsis:
            ellipses += 1
            continue
        if k is None or isinstance(k, bool):
            continue
        if isinstance(k, Tensor) and k._dtype is D.bool_:
            consumed += k.ndim
        elif isinstance(k, (list, numpy.ndarray)) and numpy.asarray(k).dtype == bool:
            consumed += numpy.asarray(k).ndim
        else:
            consumed += 1
    if ellipses > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    if consumed > ndim:
        raise IndexError(f"too many indices for tensor of dimension {ndim}")
    out = []
    for k in key:
        if k is Ellipsis:
            out.extend([slice(None)] * (ndim - consumed))
        else:
            out.append(k)
    if not ellipses:
        out.extend([slice(None)] * (ndim - consumed))
    return out


def _check_index_type(k):
    if isinstance(k, str):
        raise TypeError("new(): invalid data type 'str'")
    if isinstance(k, (float, complex)) or k is NotImplemented:
        raise IndexError("only integers, slices (`:`), ellipsis (`...`), None and long or byte "
                         "Variables are valid indices (got " + type(k).__name__ + ")")


def _basic(x, key):
    """Apply the basic part of ``key`` as one view; return (view, [(position, index), ...]).

    The view's grad_fn is named after the last op torch applies for the same key (select,
    slice, unsqueeze), so ``x[1, :2]`` shows SliceBackward0 as in torch.
    """
    device = x._device
    slices, shape_after, advanced = [], [], []
    dim = 0
    out_pos = 0
    label = None
    for k in key:
        if k is None:
            shape_after.append(1)
            label = "UnsqueezeBackward0"
            out_pos += 1
            continue
        if isinstance(k, Tensor) and not k._shape and not k._dtype.is_floating_point \
                and k._dtype is not D.bool_:
            k = int(k.item())           # a 0-d integer tensor indexes like an int (select)
        if isinstance(k, bool) or (isinstance(k, Tensor) and not k._shape and
                                   k._dtype is D.bool_):
            # a bool scalar adds a dim of size 1 (True) or 0 (False, an empty index)
            # (torch: unsqueeze, then index that dim with [0] for True or [] for False)
            shape_after.append(1)
            label = "UnsqueezeBackward0"
            advanced.append((out_pos, _as_index_tensor(
                numpy.zeros(1 if bool(k) else 0, numpy.int64), device)))
            out_pos += 1
            continue
        if isinstance(k, slice):
            size = x._shape[dim]
            start, stop, step = k.indices(size)
            if step <= 0:
                raise ValueError("step must be greater than zero")
            stop = max(stop, start)
            if (start, stop, step) != (0, size, 1):
                label = "SliceBackward0"
            slices.append((start, stop, step))
            shape_after.append(max(0, (stop - start + step - 1) // step))
            dim += 1
            out_pos += 1
            continue
        if isinstance(k, int) or (hasattr(k, "__index__") and not isinstance(k, Tensor)
                                  and not isinstance(k, (list, numpy.ndarray))):
            i = int(k)
            size = x._shape[dim]
            if not -size <= i < size:
                raise IndexError(f"index {i} is out of bounds for dimension {dim} with size "
                                 f"{size}")
            i %= size
            slices.append((i, i + 1, 1))
            label = "SelectBackward0"
            dim += 1
            continue
        _check_index_type(k)
        t = _as_index_tensor(k, device)
        if t._dtype is D.bool_:
            span = t.ndim
            for j in range(span):
                if t._shape[j] != x._shape[dim + j]:
                    raise IndexError(f"The shape of the mask {list(t._shape)} at index {j} does "
                                     f"not match the shape of the indexed tensor "
                                     f"{list(x._shape)} at index {dim + j}")
            coords = t.nonzero()
            for j in range(span):
                slices.append((0, x._shape[dim], 1))
                shape_after.append(x._shape[dim])
                advanced.append((out_pos, coords.select(1, j)))
                dim += 1
                out_pos += 1
            continue
        if not isinstance(k, Tensor) and t.numel():
            # host data: check bounds here, whatever device the index goes to
            arr = numpy.asarray(k)
            size = x._shape[dim]
            if arr.min() < -size or arr.max() >= size:
                bad = int(arr.max()) if arr.max() >= size else int(arr.min())
                raise IndexError(f"index {bad} is out of bounds for dimension {len(advanced)} "
                                 f"with size {size}")
        slices.append((0, x._shape[dim], 1))
        shape_after.append(x._shape[dim])
        advanced.append((out_pos, t))
        dim += 1
        out_pos += 1
    full = tuple(slices) + tuple((0, s, 1) for s in x._shape[dim:])
    shape_after = tuple(shape_after) + x._shape[dim:]
    if label is None:
        return x, advanced
    return basic_index(x, full, shape_after, label), advanced


class BasicIndexBackward(Node):
    """One node for a chain of select/slice/unsqueeze; named after the last of them."""
    __slots__ = ("shape", "args", "label")

    def name(self):
        return self.label

    def backward(self, g):
        from .scatter_views import slice_backward
        slices = self.args
        if not self.shape:
            return (g.reshape(()),)
        sliced = tuple(max(0, (stop - start + step - 1) // step) for start, stop, step in slices)
        if g._shape != sliced:
            g = g.reshape(sliced)
        return (slice_backward(g, self.shape, slices),)


def basic_index(x, slices, shape, label="SliceBackward0"):
    """View of x through one (start, stop, step) per axis, then reshaped to ``shape``."""
    ops = x._device.ops
    data = x._data
    if any(sl != (0, n, 1) for sl, n in zip(slices, x._shape)):
        data = ops.slice(data, slices)
    if shape != x._shape:
        data = ops.reshape(data, shape)
    view = make_view(x, data, shape, None, ("_basic_index", (slices, shape, label)))
    if needs_grad(x):
        node = BasicIndexBackward((edge(x),))
        node.shape, node.args, node.label = x._shape, slices, label
        attach(view, node)
    return view


Tensor._basic_index = basic_index


def _check_bounds(index, size, dim, wrap=True, message=None, exc=IndexError):
    """Raise for out-of-range indices (host-memory backends; device backends trust them, as
    torch's CUDA kernels do). ``wrap`` allows -size <= i < 0."""
    if index.numel() == 0 or not index._device.host_memory:
        return
    values = index._host()
    low, high = values.min(), values.max()
    if low < (-size if wrap else 0) or high >= size:
        bad = int(high) if high >= size else int(low)
        text = message or "index {bad} is out of bounds for dimension {dim} with size {size}"
        raise exc(text.format(bad=bad, dim=dim, size=size))


def _normalise(index, size):
    index = index if index._dtype is D.int64 else index.to(D.int64)
    if index.numel() and index._device.host_memory and index._host().min() >= 0:
        return index
    return index.where(index >= 0, index + size)


def _advanced_layout(view, advanced):
    """Permutation moving indexed dims first, broadcast index buffers, and result layout."""
    positions = [p for p, _ in advanced]
    for k, (p, t) in enumerate(advanced):
        _check_bounds(t, view._shape[p], k)    # torch counts among the index tensors
    from ._operands import broadcast_shapes
    bshape = ()
    for _, t in advanced:
        bshape = broadcast_shapes(bshape, t._shape)
    indices = [_normalise(t, view._shape[p]).expand(bshape) for p, t in advanced]
    rest = [d for d in range(view.ndim) if d not in positions]
    perm = positions + rest
    adjacent = positions == list(range(positions[0], positions[0] + len(positions)))
    return perm, indices, bshape, rest, adjacent and positions[0] != 0, positions[0]


# --------------------------------------------------------------------------- getitem

class IndexBackward0(Node):
    __slots__ = ("shape", "perm", "indices", "front")

    def backward(self, g):
        return (_index_backward(g, self.shape, self.perm, self.indices, self.front),)

    def _drop(self):
        self.indices = None


def _index_backward(g, shape, perm, indices, front):
    """zeros(shape) with g accumulated at the indexed positions."""
    if front is not None:
        nb = len(indices[0]._shape)
        g = g.movedim(tuple(range(front, front + nb)), tuple(range(nb)))
    permuted_shape = tuple(shape[p] for p in perm)
    grad = g.new_zeros(permuted_shape)
    grad = index_put_functional(grad, indices, g, accumulate=True)
    inverse = [0] * len(perm)
    for i, p in enumerate(perm):
        inverse[p] = i
    return grad.permute(inverse)


def getitem(x, key):
    """x[key] with torch/numpy semantics."""
    if type(key) is int and x._shape:
        from .views import select
        return select(x, 0, key, _indexing=True)
    if x.ndim == 0 and not isinstance(key, tuple) and key is not None and key is not Ellipsis \
            and not isinstance(key, (Tensor, bool, slice, list)):
        raise IndexError("invalid index of a 0-dim tensor. Use `tensor.item()` in Python or "
                         "`tensor.item<T>()` in C++ to convert a 0-dim tensor to a number")
    view, advanced = _basic(x, _expand_key(key, x.ndim))
    if not advanced:
        if view is x:
            return make_view(x, x._data, x._shape, AliasBackward0, ("_alias", ()))
        return view
    return index_with_layout(view, advanced)


class AliasBackward0(Node):
    __slots__ = ("shape", "args")

    def backward(self, g):
        return (g,)


Tensor._alias = lambda self: getitem(self, Ellipsis)


def index_with_layout(view, advanced):
    """view[advanced indices] as one IndexBackward0 node (indexed dims first, then moved
    back to where they were when they were adjacent, as torch and numpy place them)."""
    perm, indices, bshape, rest, keep_in_place, first = _advanced_layout(view, advanced)
    dev = view._device
    ops = dev.ops
    data = view._data if perm == list(range(view.ndim)) else ops.permute(view._data,
                                                                         tuple(perm))
    data = ops.index(data, [i._data for i in indices])
    shape = bshape + tuple(view._shape[d] for d in rest)
    if keep_in_place:
        nb = len(bshape)
        order = list(range(nb, nb + first)) + list(range(nb)) + list(range(nb + first,
                                                                           len(shape)))
        data = ops.permute(data, tuple(order))
        shape = tuple(shape[o] for o in order)
    out = _make(data, shape, view._dtype, dev)
    if needs_grad(view):
        node = IndexBackward0((edge(view),), tuple(indices))
        node.shape, node.perm, node.indices = view._shape, perm, indices
        node.front = first if keep_in_place else None
        attach(out, node)
    return out


def index_with(x, indices):
    """x[i0, i1, ...] for index tensors over the leading dims (internal helper)."""
    return index_with_layout(x, [(p, t) for p, t in enumerate(indices)])

# ------------------------------------------------------------------- index_put (functional)


class _LeadingIndexPut(Node):
    """index_put over the leading axes with normalised index buffers (internal)."""
    __slots__ = ("indices", "vshape", "vdtype", "accumulate")

    def name(self):
        return "IndexPutBackward0"

    def backward(self, g):
        ex, ev = self.next
        gx = None
        if ex is not None:
            gx = g if self.accumulate else index_put_functional(g, self.indices, 0.0)
        gv = None
        if ev is not None:
            gv = _back(index_with(g, self.indices), self.vshape, self.vdtype)
        return gx, gv

    def _drop(self):
        self.indices = None


def _back(g, shape, dtype):
    g = unbroadcast(g, shape)
    return g if g._dtype is dtype else g.to(dtype)


def index_put_functional(x, indices, values, accumulate=False):
    """A copy of x with x[indices] = values (or += with accumulate), differentiable."""
    dev = x._device
    out = _make(dev.ops.copy(x._data), x._shape, x._dtype, dev)
    if isinstance(values, Tensor):
        vdata = values._data if values._dtype is x._dtype else dev.ops.cast(values._data,
                                                                            x._dtype.name)
    else:
        vdata = values
    dev.ops.index_put(out._data, [i._data for i in indices], vdata, accumulate)
    if needs_grad(x, values):
        node = _LeadingIndexPut((edge(x), edge(values)),
                                 tuple(i for i in indices))
        node.indices, node.accumulate = indices, accumulate
        node.vshape = values._shape if isinstance(values, Tensor) else ()
        node.vdtype = values._dtype if isinstance(values, Tensor) else x._dtype
        attach(out, node)
    return out


# --------------------------------------------------------------------------- setitem

def setitem(x, key, value):
    """x[key] = value, in place (writes through views; autograd rebases history)."""
    from .inplace import check_inplace, commit_region
    view, advanced = _basic(x, _expand_key(key, x.ndim))
    check_inplace(view if view is not x else x)     # torch writes through the view
    dev = x._device
    if not isinstance(value, Tensor):
        if isinstance(value, (list, tuple, numpy.ndarray)):
            from .creation import as_tensor
            value = as_tensor(value, dtype=x._dtype, device=dev)
        elif not isinstance(value, (bool, int, float)):
            raise TypeError(f"can't assign a {type(value).__name__} to a {x.type()}")
    elif value._device is not dev:
        if value._shape or value._device.type != "cpu":
            raise RuntimeError(f"Expected all tensors to be on the same device, but found at "
                               f"least two devices, {dev} and {value._device}!")
        value = value.to(dev)
    if not advanced:
        _assign_region(view, value)
        commit_region(x, view, key, value, None)
        return
    if isinstance(value, Tensor) and value._dtype is not x._dtype:
        raise RuntimeError(f"Index put requires the source and destination dtypes match, got "
                           f"{D.legacy_name(x._dtype)} for the destination and "
                           f"{D.legacy_name(value._dtype)} for the source.")
    if view is x and x._base is None and needs_grad(x, value):
        # torch runs index_put_ on x itself: its history gets an IndexPutBackward0 node
        from .inplace import apply_inplace
        spots = dict(advanced)
        key_tensors = tuple(spots.get(p) for p in range(max(spots) + 1))
        apply_inplace(x, index_put, key_tensors, value)
        return
    layout = _advanced_layout(view, advanced)
    perm, indices = layout[0], layout[1]
    permuted = view.permute(perm)
    vdata = _advanced_value(view, value, layout)
    dev.ops.index_put(permuted._data, [i._data for i in indices], vdata, False)
    commit_region(x, view, key, value, (perm, indices, layout[4], layout[5]))


def _advanced_value(view, value, layout):
    """``value`` as a buffer laid out like view.permute(perm)[indices] (or a scalar)."""
    perm, indices, bshape, rest, keep_in_place, first = layout
    dev = view._device
    if not isinstance(value, Tensor):
        return _scalar_for(value, view._dtype)
    if keep_in_place:
        nb = len(bshape)
        shape = tuple(view._shape[d] for d in rest[:first]) + bshape + tuple(
            view._shape[d] for d in rest[first:])
        v = _broadcast_value(value, shape).movedim(tuple(range(first, first + nb)),
                                                   tuple(range(nb)))
    else:
        v = _broadcast_value(value, bshape + tuple(view._shape[d] for d in rest))
    return v._data if v._dtype is view._dtype else dev.ops.cast(v._data, view._dtype.name)


class IndexPutBackward0(Node):
    """index_put(indices, values): values receive the indexed gradient; the input keeps the
    rest (all of it with accumulate)."""
    __slots__ = ("key", "vshape", "vdtype", "accumulate")

    def backward(self, g):
        ex, ev = self.next
        gx = gv = None
        if ex is not None:
            gx = g if self.accumulate else index_put(g, self.key, g.new_zeros(()))
        if ev is not None:
            gv = _back(getitem(g, self.key), self.vshape, self.vdtype)
        return gx, gv

    def _drop(self):
        self.key = None


def _index_put_key(indices):
    if isinstance(indices, Tensor):
        indices = (indices,)
    key = tuple(indices)
    for k in key:
        if k is not None and not isinstance(k, Tensor):
            raise TypeError(f"index_put(): argument 'indices' must be tuple of Tensors, but "
                            f"found element of type {type(k).__name__}")
    # torch: a None entry leaves that dim whole
    return tuple(slice(None) if k is None else k for k in key)


def _index_put_into(x, key, values, accumulate):
    """Write (or add, summing duplicates) ``values`` at x[key] in x's buffer; no autograd."""
    view, advanced = _basic(x, _expand_key(key, x.ndim))
    if not advanced:
        if accumulate:
            values = _broadcast_value(values, view._shape) if isinstance(values, Tensor) \
                else values
            with _no_grad():
                _assign_region(view, view + values)
        else:
            _assign_region(view, values)
        return
    layout = _advanced_layout(view, advanced)
    permuted = view.permute(layout[0])
    vdata = _advanced_value(view, values, layout)
    x._device.ops.index_put(permuted._data, [i._data for i in layout[1]], vdata,
                            bool(accumulate))


def index_put(input, indices, values, accumulate=False):
    """A copy of input with input[indices] = values (or += with accumulate, duplicates
    summed), differentiable in both."""
    key = _index_put_key(indices)
    if isinstance(values, Tensor) and values._dtype is not input._dtype:
        raise RuntimeError(f"Index put requires the source and destination dtypes match, got "
                           f"{D.legacy_name(input._dtype)} for the destination and "
                           f"{D.legacy_name(values._dtype)} for the source.")
    dev = input._device
    out = _make(dev.ops.copy(input._data), input._shape, input._dtype, dev)
    _index_put_into(out, key, values, accumulate)
    if needs_grad(input, values):
        node = IndexPutBackward0((edge(input), edge(values)))
        node.key, node.accumulate = key, accumulate
        node.vshape = values._shape if isinstance(values, Tensor) else ()
        node.vdtype = values._dtype if isinstance(values, Tensor) else input._dtype
        attach(out, node)
    return out


def index_put_(input, indices, values, accumulate=False):
    """In-place index_put: one backend call without autograd, else rebased history."""
    from .inplace import apply_inplace, check_inplace
    check_inplace(input)
    if needs_grad(input, values):
        return apply_inplace(input, index_put, indices, values, accumulate)
    key = _index_put_key(indices)
    if isinstance(values, Tensor) and values._dtype is not input._dtype:
        raise RuntimeError(f"Index put requires the source and destination dtypes match, got "
                           f"{D.legacy_name(input._dtype)} for the destination and "
                           f"{D.legacy_name(values._dtype)} for the source.")
    _index_put_into(input, key, values, accumulate)
    input._bump_version()
    return input


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
    d = _wrap_dim(dim, max(input.ndim, 1))
    if index.ndim > 1:
        raise IndexError("Index has to be a vector/scalar")
    if index._dtype is not D.int64:
        raise IndexError(f"index_fill_(): Expected dtype int64 for index.")
    if isinstance(value, Tensor) and value.ndim:
        raise RuntimeError(f"index_fill_ only supports a 0-dimensional value tensor, but got "
                           f"tensor with {value.ndim} dimension(s).")
    size = input._shape[d] if input._shape else 1
    _check_bounds(index, size, d)
    idx = _normalise(index.reshape(-1), size)
    dev = input._device
    out = _make(dev.ops.copy(input._data), input._shape, input._dtype, dev)
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


def _scalar_for(value, dt):
    if dt.is_floating_point:
        return float(value)
    if dt is D.bool_:
        return bool(value)
    return int(value)


def _broadcast_value(value, shape):
    from ._operands import broadcast_shapes
    vshape = value._shape
    while len(vshape) > len(shape) and vshape[0] == 1:
        vshape = vshape[1:]
        value = value.reshape(vshape)
    try:
        if broadcast_shapes(vshape, shape) != tuple(shape):
            raise RuntimeError
    except RuntimeError:
        raise RuntimeError(f"shape mismatch: value tensor of shape {list(value._shape)} cannot "
                           f"be broadcast to indexing result of shape {list(shape)}") from None
    return value.expand(shape)


def _assign_region(view, value):
    dev = view._device
    if isinstance(value, Tensor):
        v = _broadcast_value(value, view._shape)
        data = v._data if v._dtype is view._dtype else dev.ops.cast(v._data, view._dtype.name)
    else:
        data = _scalar_for(value, view._dtype)
    dev.ops.assign(view._data, data)

# --------------------------------------------------------------- gather / scatter family


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
    if index._dtype not in (D.int64, D.int32):
        raise RuntimeError(f"{name}(): Expected dtype int32/int64 for index")
    if index.ndim != input.ndim and not (index.ndim <= 1 and input.ndim <= 1):
        raise RuntimeError(f"Index tensor must have the same number of dimensions as input "
                           f"tensor")
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
    out = _make(data, index._shape, input._dtype, dev)
    if needs_grad(input):
        node = GatherBackward0((edge(input),), (index,))
        node.shape, node.dim, node.index = input._shape, d, index
        attach(out, node)
    return out


def take_along_dim(input, indices, dim=None):
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
    return _scatter("scatter_add", input, dim, index, src, True)


class IndexSelectBackward0(Node):
    __slots__ = ("shape", "dim", "index")

    def backward(self, g):
        return (g.new_zeros(self.shape).index_add(self.dim, self.index, g),)

    def _drop(self):
        self.index = None


def index_select(input, dim, index):
    if index.ndim > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    if index._dtype not in (D.int64, D.int32):
        raise RuntimeError("index_select(): Expected dtype int32 or int64 for index")
    d = _wrap_dim(dim, max(input.ndim, 1))
    if not input._shape:
        return named(input.reshape(1).index_select(0, index).reshape(()),
                     "IndexSelectBackward0")
    _check_bounds(index, input._shape[d], d, wrap=False, exc=RuntimeError,
                  message="INDICES element is out of DATA bounds, id={bad} axis_dim={size}")
    idx = index.reshape(-1)
    idx = idx if idx._dtype is D.int64 else idx.to(D.int64)
    moved = input.movedim(d, 0) if d else input
    dev = input._device
    data = dev.ops.index(moved._data, [idx._data])
    shape = idx._shape + moved._shape[1:]
    out = _make(data, shape, input._dtype, dev)
    if d:
        out = out.movedim(0, d)
        out = _make(out._data, out._shape, out._dtype, out._device)
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
    out = _make(out._data, out._shape, out._dtype, out._device)
    if needs_grad(input, source):
        node = IndexAddBackward0((edge(input), edge(source)), (index,))
        node.dim, node.index, node.alpha = d, idx, alpha
        attach(out, node)
    return out


def _no_grad():
    from ..autograd.grad_mode import no_grad
    return no_grad()

# ------------------------------------------------------------------ masks and where


class WhereBackward0(Node):
    __slots__ = ("cond", "sa", "sb", "da", "db")

    def backward(self, g):
        ea, eb = self.next
        zero = g * 0
        ga = _back(g.where(self.cond, zero), self.sa, self.da) if ea is not None else None
        gb = _back(zero.where(self.cond, g), self.sb, self.db) if eb is not None else None
        return ga, gb

    def _drop(self):
        self.cond = None


def where(condition, input=None, other=None, *, out=None):
    """condition ? input : other (broadcasting); one argument gives nonzero as a tuple."""
    if input is None and other is None:
        return nonzero(condition, as_tuple=True)
    if not isinstance(condition, Tensor):
        raise TypeError("where(): argument 'condition' must be Tensor")
    if condition._dtype is not D.bool_:
        if condition._dtype is D.uint8:
            condition = condition != 0
        else:
            raise RuntimeError(f"where expected condition to be a boolean tensor, but got a "
                               f"tensor with dtype {_legacy(condition._dtype)}")
    from ._operands import binary, broadcast_shapes, _same_device, as_scalar
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        # two scalars: torch wraps both (ints -> int64, floats -> the default dtype)
        dt = D.result_type(D.scalar_dtype(input), D.SCALAR, D.scalar_dtype(other), D.SCALAR)
        dev = condition._device
        res = _make(dev.ops.where(condition._data, as_scalar(input, dt), as_scalar(other, dt)),
                    condition._shape, dt, dev)
        return res if out is None else out.copy_(res)
    ta, tb, xa, xb, dt, shape, dev = binary(input, other)
    if condition._device is not dev:
        condition, _ = _same_device(condition, ta if ta is not None else tb)
    shape = broadcast_shapes(condition._shape, shape)
    res = _make(dev.ops.where(condition._data, xa, xb), shape, dt, dev)
    if needs_grad(ta, tb):
        node = WhereBackward0((edge(ta), edge(tb)), (condition,))
        node.cond = condition
        node.sa = ta._shape if ta is not None else ()
        node.sb = tb._shape if tb is not None else ()
        node.da = ta._dtype if ta is not None else None
        node.db = tb._dtype if tb is not None else None
        attach(res, node)
    if out is not None:
        return out.copy_(res)
    return res


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
            res = _make(res._data, res._shape, res._dtype, res._device)
            node = MaskedFillBackward1((edge(input), edge(value)), (mask,))
            node.mask, node.vdtype = mask, value._dtype
            return attach(res, node)
        value = value.item()
    dev = input._device
    if mask._device is not dev:
        mask = mask.to(dev)
    scalar = _scalar_for(value, input._dtype)
    res = _make(dev.ops.where(mask._data, scalar, input._data), input._shape, input._dtype, dev)
    if needs_grad(input):
        node = MaskedFillBackward0((edge(input),), (mask,))
        node.mask = mask
        attach(res, node)
    return res


def masked_select(input, mask):
    """The elements where ``mask`` (broadcast with input) is True, as a 1-D tensor."""
    from ._operands import broadcast_shapes
    if mask._dtype is not D.bool_:
        raise RuntimeError(f"masked_select: expected BoolTensor for mask")
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
        coords = _make(data, _shape_of(dev, data), D.int64, dev)
        return (coords.select(1, 0),) if as_tuple else coords[:, :0]
    data = dev.ops.nonzero(x._data)
    coords = _make(data, _shape_of(dev, data), D.int64, dev)
    if as_tuple:
        return tuple(coords.select(1, j) for j in range(input.ndim))
    return coords


def _shape_of(dev, data):
    """Shape of a data-dependent result; buffers expose ``.shape`` (see the contract)."""
    return tuple(data.shape)


def argwhere(input):
    return nonzero(input)


def take(input, index):
    """input.flatten()[index] (negative indices wrap)."""
    n = input.numel()
    _check_bounds(index, n, 0, message="out of range: tried to access index {bad} on a tensor "
                                       "of " + str(n) + " elements.")
    return named(getitem(input.reshape(-1), index), "TakeBackward0")

# ------------------------------------------------------------------------ sorting


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
    from .reduce import return_types
    if isinstance(dim, bool):
        dim, descending = -1, dim
    dev = input._device
    if not input._shape:
        _wrap_dim(dim, 0)
        values = named(input.clone(), "SortBackward0" if stable is None else "SortBackward1")
        return return_types["sort"](values, _make(dev.ops.full((), 0, "int64"), (), D.int64, dev))
    d = _wrap_dim(dim, input.ndim)
    vdata, idata = dev.ops.sort(input._data, d, bool(descending))
    values = _make(vdata, input._shape, input._dtype, dev)
    indices = _make(idata, input._shape, D.int64, dev)
    if needs_grad(input):
        node = (SortBackward1 if stable is not None else SortBackward0)((edge(input),),
                                                                          (indices,))
        node.shape, node.dim, node.index = input._shape, d, indices
        attach(values, node)
    return return_types["sort"](values, indices)


def argsort(input, dim=-1, descending=False, stable=False):
    return sort(input, dim, descending).indices


def topk(input, k, dim=-1, largest=True, sorted=True):
    from .reduce import return_types
    d = _wrap_dim(dim, max(input.ndim, 1))
    size = input._shape[d] if input._shape else 1
    if not 0 <= k <= size:
        raise RuntimeError("selected index k out of range")
    s = sort(input, d, descending=largest)
    values = s.values.narrow(d, 0, k) if input._shape else s.values
    indices = s.indices.narrow(d, 0, k) if input._shape else s.indices
    return return_types["topk"](named(values, "TopkBackward0"), indices)


def msort(input):
    return sort(input, 0).values
