"""Indexing: ``x[key]``, ``x[key] = v`` and index_put.

Basic indices (ints, slices, None, Ellipsis) become one view through the ``slice`` and
``reshape`` primitives. Advanced indices (integer / bool tensors, lists) follow numpy's rules
and run on the backend's ``index`` / ``index_put`` primitives over the leading axes of a
permuted view: the indexed dims are moved to the front, indexed, and moved back when they were
adjacent (where numpy and torch keep them in place).
"""
from __future__ import annotations

from ..compile._state import capturing as _capturing

import warnings

import numpy

from .. import _dtype as D
from .._tensor import Tensor, _from_buffer
from ..autograd.node import Node
from ._graph import attach, edge, needs_grad, unbroadcast
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


def _uint8_as_mask(k):
    """A uint8 index tensor is a mask, as in torch (which warns that this is deprecated)."""
    if not (isinstance(k, Tensor) and k._dtype is D.uint8):
        return k
    warnings.warn("indexing with dtype torch.uint8 is now deprecated, please use a dtype "
                  "torch.bool instead.", UserWarning, stacklevel=4)
    return k.bool()


def _expand_key(key, ndim):
    """Tuple key with Ellipsis expanded; counts the dims each entry consumes."""
    key = _as_key_tuple(key)
    if any(isinstance(k, Tensor) and k._dtype is D.uint8 for k in key):
        key = tuple(_uint8_as_mask(k) for k in key)
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
        from .views import slice_backward
        slices = self.args
        if not self.shape:
            return (g.reshape(()),)
        sliced = tuple(max(0, (stop - start + step - 1) // step) for start, stop, step in slices)
        if g._shape != sliced:
            g = g.reshape(sliced)
        return (slice_backward(g, self.shape, slices),)


_BASIC_NODES: dict = {}


def _basic_node_class(label):
    """The node class named ``label`` (``type(y.grad_fn).__name__`` is torch's name too)."""
    cls = _BASIC_NODES.get(label)
    if cls is None:
        cls = _BASIC_NODES[label] = type(label, (BasicIndexBackward,), {"__slots__": ()})
    return cls


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
        node = _basic_node_class(label)((edge(x),))
        node.shape, node.args, node.label = x._shape, slices, label
        attach(view, node)
    return view


Tensor._basic_index = basic_index


def checked_on_device(t):
    """True when t's backend checks indices in its kernels (the contract's optional
    ``checks_indices``): an out-of-range index there is memory-safe and raises RuntimeError at
    the next ``.item()``/``.cpu()``/``synchronize``, as torch's device-side asserts do, so an
    eager check -- a device-to-host read per call -- is left out."""
    dev = t._device
    return not dev.host_memory and dev.ops.checks_indices


def index_range(index):
    """(min, max) of a non-empty integer tensor as Python ints.

    Device backends compute both with one reduction each and hand back one 2-element buffer.
    Callers skip it where :func:`checked_on_device` holds; elsewhere a kernel given an
    out-of-range index may read or write outside its buffer (a third-party backend makes no
    promise), so indices are checked first.
    """
    if index._device.host_memory:
        values = index._host()
        return int(values.min()), int(values.max())
    ops = index._device.ops
    data = index._data if index._shape else ops.reshape(index._data, (1,))
    axes = tuple(range(max(index.ndim, 1)))
    both = ops.concat([ops.min(data, axes, True), ops.max(data, axes, True)], 0)
    low, high = ops.to_host(ops.reshape(both, (2,))).tolist()
    return int(low), int(high)


def _check_bounds(index, size, dim, wrap=True, message=None, exc=IndexError):
    """Raise for out-of-range indices with torch's exception and message, on the host before
    the call -- unless the backend checks them on the device (:func:`checked_on_device`).
    ``wrap`` allows -size <= i < 0. A compiled function checks again on every replay."""
    if index.numel() == 0 or checked_on_device(index):
        return
    if _capturing:
        from ..compile.capture import record_check
        return record_check(_check_range, index, size, dim, wrap, message, exc)
    _check_range(index, size, dim, wrap, message, exc)


def _check_range(index, size, dim, wrap, message, exc):
    low, high = index_range(index)
    if low < (-size if wrap else 0) or high >= size:
        bad = high if high >= size else low
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
    out = _from_buffer(data, shape, view._dtype, dev)
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
    out = _from_buffer(dev.ops.copy(x._data), x._shape, x._dtype, dev)
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
    if isinstance(key, Tensor) and key._dtype is D.uint8 and (
            not isinstance(value, Tensor) or not value._shape):
        # torch runs x[mask] = scalar as masked_fill_, which takes no uint8 mask
        raise RuntimeError("masked_fill_ only supports boolean masks, but got mask with dtype "
                           "unsigned char")
    view, advanced = _basic(x, _expand_key(key, x.ndim))
    check_inplace(view if view is not x else x)     # torch writes through the view
    dev = x._device
    if not isinstance(value, Tensor):
        if isinstance(value, (list, tuple, numpy.ndarray)):
            from .creation import as_tensor
            value = as_tensor(value, dtype=x._dtype, device=dev)
        elif isinstance(value, complex) and not x._dtype.is_complex and x._dtype is not D.bool_:
            raise RuntimeError(f"value cannot be converted to type {_C_TYPE[x._dtype.name]} "
                               "without overflow")
        elif not isinstance(value, (bool, int, float, complex)):
            raise TypeError(f"can't assign a {type(value).__name__} to a {x.type()}")
    elif value._device is not dev:
        if value._shape or value._device.type != "cpu":
            raise RuntimeError(f"Expected all tensors to be on the same device, but found at "
                               f"least two devices, {dev} and {value._device}!")
        value = value.to(dev)
    if not advanced:
        from .inplace import check_no_internal_overlap
        check_no_internal_overlap(view)     # torch: x[:] = v copies into the view
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
    out = _from_buffer(dev.ops.copy(input._data), input._shape, input._dtype, dev)
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


# torch names the C type in "value cannot be converted to type T without overflow"
_C_TYPE = {"float32": "float", "float64": "double", "float16": "double", "bfloat16": "double",
           "int64": "int64_t", "int32": "int", "int16": "int16_t", "int8": "int8_t",
           "uint8": "uint8_t"}


def _scalar_for(value, dt):
    if dt.is_floating_point:
        return float(value)
    if dt.is_complex:
        return complex(value)
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


def _no_grad():
    from ..autograd.grad_mode import no_grad
    return no_grad()
