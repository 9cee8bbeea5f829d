"""Write-back for backends whose buffers cannot be written in place (``mutable_buffers = False``).

JAX-like array libraries have pure functions only: no ``out=``, no in-place ``assign`` or
``index_put``, no views sharing memory. The frontend is written against a contract with all
three, and reaches the backend only through it, so every write the frontend makes -- ``x[i] =
v``, ``copy_``, ``fill_``, ``index_put_``, in-place ops (``out=x``), ``out=`` arguments,
optimizer updates composed from primitives, writes through views -- arrives here as one of
three calls: an op with ``out=``, ``assign`` or ``index_put``. :class:`WriteBack` turns each
into a pure call plus a rebinding, once for every such backend, instead of each author
inventing a memory layer:

* the frontend holds a :class:`Box` per buffer: a mutable handle on the backend's current
  immutable array;
* a view op makes a box that remembers its root box and the view ops leading to it (the
  replay); its array is the replay applied to the root's current array, recomputed only
  after the root was written;
* a write computes the new array with the backend's pure ops, and for a view scatters it
  into the root's array: the view's element positions come from replaying the view ops on
  an ``arange`` of the root's size, and the root's new array is the backend's functional
  ``index_put`` of the flattened root at those positions. Every other view of that root then
  sees the write, as views sharing memory would.

What such a backend implements: every contract op as a pure function (``out=`` is never passed),
and ``index_put`` returning the updated copy (it never writes ``x``). It need not define
``assign`` (the layer writes from ``full``/``expand``). The optimizer-step kernels and
``mt19937_generate``, which update their arguments in place, are not used: the frontend composes
the steps from primitives and draws random numbers on the host. Nothing changes for backends
with mutable buffers (the default): the registry wraps only a backend that declares
``mutable_buffers = False``.
"""
from __future__ import annotations

import functools

from .contract import OPS

VIEWS = ("reshape", "permute", "expand", "slice", "as_strided")
IN_PLACE_KERNELS = ("sgd_step", "adam_step", "mt19937_generate", "lstm_cell",
                    "lstm_cell_backward")
_CREATION = ("empty", "full", "arange", "from_host")


class Box:
    """A mutable handle on an immutable backend array (what a tensor's ``_data`` holds)."""
    __slots__ = ("root", "replay", "device", "version", "_array", "_seen", "__weakref__")

    def __init__(self, array, device, root=None, replay=()):
        self.root = root            # None: this box owns its array; else the box it views
        self.replay = replay        # ((view op, args), ...) from the root's array to this one
        self.device = device
        self.version = 0            # a root's count of writes
        self._array = array
        self._seen = 0              # the root's version ``_array`` was replayed at

    @property
    def shape(self):            # a write never changes a box's shape or dtype
        return tuple(self._array.shape)

    @property
    def dtype(self):
        return self._array.dtype

    def __repr__(self):
        kind = "view" if self.root is not None else "root"
        return f"<Box {kind} {self.shape} {self.dtype}>"


class WriteBack:
    """The contract over :class:`Box` handles, computed by a backend with immutable arrays."""

    def __init__(self, impl):
        self.impl = impl
        for name, spec in OPS.items():
            if name == "assign":        # written here from full/expand: the backend has none
                continue
            fn = getattr(impl, name, None)
            if fn is None or name in IN_PLACE_KERNELS:
                setattr(self, name, None)
            elif name in VIEWS:
                setattr(self, name, functools.partial(self._view, name, fn))
            elif name not in ("assign", "index_put", "to_host", "strides", "device_count",
                              "synchronize"):
                setattr(self, name, functools.partial(self._pure, name, fn,
                                                      name in _CREATION))

    def __getattr__(self, name):
        # capabilities and anything else the frontend asks the backend object itself
        return getattr(self.impl, name)

    # ---------------------------------------------------------------- reading boxes
    def _value(self, x):
        """The current array of a box (replaying its views after a write to the root)."""
        if type(x) is not Box:
            return x
        root = x.root
        if root is None or x._seen == root.version:
            return x._array
        array = root._array
        impl = self.impl
        for op, args in x.replay:
            array = getattr(impl, op)(array, *args)
        x._array, x._seen = array, root.version
        return array

    def _unwrap(self, arg):
        if type(arg) is Box:
            return self._value(arg)
        if isinstance(arg, (list, tuple)) and arg and any(type(a) is Box for a in arg):
            return type(arg)(self._value(a) for a in arg)
        return arg

    def _device(self, args, kwargs):
        if "device" in kwargs:
            return kwargs["device"]
        for a in args:
            if type(a) is Box:
                return a.device
            if isinstance(a, (list, tuple)):
                for b in a:
                    if type(b) is Box:
                        return b.device
        return 0

    def _wrap(self, result, device):
        if isinstance(result, tuple):
            return tuple(self._wrap(r, device) for r in result)
        return Box(result, device) if result is not None else None

    # ----------------------------------------------------------------- the contract
    def _pure(self, name, fn, creation, *args, out=None, **kwargs):
        device = kwargs.get("device", 0) if creation else self._device(args, kwargs)
        result = fn(*[self._unwrap(a) for a in args],
                    **{k: self._unwrap(v) for k, v in kwargs.items()})
        if out is None:
            return self._wrap(result, device)
        self._write(out, result)
        return out

    def _view(self, name, fn, x, *args):
        array = fn(self._value(x), *args)
        root = x if x.root is None else x.root
        box = Box(array, x.device, root, x.replay + ((name, args),))
        box._seen = root.version
        return box

    def assign(self, dst, src):
        impl = self.impl
        if type(src) is Box:
            new = impl.expand(self._value(src), dst.shape)
        else:
            new = impl.full(dst.shape, src, _dtype_name(self._value(dst)), dst.device)
        self._write(dst, new)

    def index_put(self, x, indices, values, accumulate):
        impl = self.impl
        indices, values = self._unwrap(list(indices)), self._unwrap(values)
        if x.root is None:
            x._array = impl.index_put(x._array, indices, values, accumulate)
            x.version += 1
            return
        # only the elements written: their positions in the root, picked by the same indices
        # (an expanded view's aliases are written once, as through shared memory)
        targets = impl.index(self._positions(x), indices)
        if type(values) is not Box and not hasattr(values, "shape"):
            values = impl.full(tuple(targets.shape), values, _dtype_name(self._value(x)),
                               x.device)
        self._scatter(x.root, targets, values, accumulate)

    def to_host(self, x):
        return self.impl.to_host(self._value(x))

    def strides(self, x):
        return self.impl.strides(self._value(x))

    def device_count(self):
        return self.impl.device_count()

    def synchronize(self, device=0):
        return self.impl.synchronize(device)

    # -------------------------------------------------------------------- writing
    def _write(self, box, new):
        """Make ``new`` (box's shape and dtype) the contents of ``box`` and of its root."""
        if box.root is None:
            box._array = new
            box.version += 1
            return
        self._scatter(box.root, self._positions(box), new, False)

    def _positions(self, box):
        """Where each element of view ``box`` lives in its root's array: the view ops replayed
        on an ``arange`` of the root's size."""
        impl, root = self.impl, box.root
        shape = tuple(root._array.shape)
        positions = impl.reshape(impl.arange(0, 1, _size(shape), "int64", root.device), shape)
        for op, args in box.replay:
            positions = getattr(impl, op)(positions, *args)
        return positions

    def _scatter(self, root, positions, values, accumulate):
        """The root's array with ``values`` (broadcast to ``positions``) written (or added) at
        ``positions``, by the backend's functional ``index_put``; every view replays after."""
        impl = self.impl
        shape, size = tuple(positions.shape), _size(positions.shape)
        if size:
            array = root._array
            flat = impl.index_put(impl.reshape(array, (_size(array.shape),)),
                                  [impl.reshape(positions, (size,))],
                                  impl.reshape(impl.expand(values, shape), (size,)), accumulate)
            root._array = impl.reshape(flat, tuple(array.shape))
        root.version += 1           # every view of root replays at its next read


def _size(shape):
    n = 1
    for s in shape:
        n *= s
    return n


def _dtype_name(array):
    from .contract import buffer_dtype
    return buffer_dtype(array)


def wrap_if_immutable(impl):
    """``impl`` itself, or its :class:`WriteBack` when it declares ``mutable_buffers = False``."""
    from .contract import capability
    if capability(impl, "mutable_buffers"):
        return impl
    return WriteBack(impl)
