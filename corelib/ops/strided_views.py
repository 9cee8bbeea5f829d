"""Views that need arbitrary strides: ``diagonal``, ``unfold``, ``as_strided``.

Each is a window over the input's elements described by (shape, strides, offset) in the
input's own index space. With the backend's optional ``as_strided`` kernel the result is a
real view (writes reach the input, as in torch); without it, the same elements are gathered
into a copy. The gradient scatters back through the same positions, so it is one function for
all three ops and works on every backend.
"""
from __future__ import annotations

from .._tensor import _wrap_dim
from ..autograd.grad_mode import no_grad
from ..autograd.node import Node
from ._graph import attach, edge, named, needs_grad
from .views import _contiguous_strides, make_view


def _positions(shape, strides, offset, device):
    """int64 tensor of ``shape``: offset + sum(idx[i] * strides[i]) (flat C-order index)."""
    from .creation import arange, full
    with no_grad():
        pos = full(shape, int(offset), device=device)
        for i, (n, s) in enumerate(zip(shape, strides)):
            view = [1] * len(shape)
            view[i] = n
            pos = pos + arange(n, device=device).reshape(view) * s
    return pos


class _StridedBackward(Node):
    __slots__ = ("in_shape", "positions", "label")

    def name(self):
        return self.label

    def backward(self, g):
        from .indexing import index_put_functional
        numel = 1
        for n in self.in_shape:
            numel *= n
        flat = g.new_zeros((numel,))
        flat = index_put_functional(flat, (self.positions.reshape(-1),), g.reshape(-1),
                                    accumulate=True)
        return (flat.reshape(self.in_shape),)

    def _drop(self):
        self.positions = None


def strided_window(input, shape, logical, physical, label, replay):
    """The window ``(shape, strides, offset)`` of ``input``, a view where the backend can.

    :param logical: (strides, offset) over input's C-contiguous index space (the gradient).
    :param physical: (strides, offset) over input's real memory layout, or None when it
        cannot be expressed (then the result is a gathered copy).
    """
    shape = tuple(shape)
    dev = input._device
    kernel = dev.ops.as_strided
    strides, offset = logical
    track = needs_grad(input)
    positions = _positions(shape, strides, offset, dev) if track or kernel is None or \
        physical is None else None
    if kernel is not None and physical is not None:
        out = make_view(input, kernel(input._data, shape, *physical), shape, None, replay)
        if track:
            node = _StridedBackward((edge(input),))
            node.in_shape, node.positions, node.label = input._shape, positions, label
            attach(out, node)
        return out
    flat = input.reshape(-1)
    return named(flat[positions], label) if track else flat[positions]


# ------------------------------------------------------------------------------ ops
def diagonal(input, offset=0, dim1=0, dim2=1):
    """The diagonal of dims (dim1, dim2) as a new last dim: a view, as torch's."""
    nd = input.ndim
    d1, d2 = _wrap_dim(dim1, nd), _wrap_dim(dim2, nd)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    offset = int(offset)
    shape = input._shape
    length = max(0, min(shape[d1] - max(-offset, 0), shape[d2] - max(offset, 0)))
    rest = [i for i in range(nd) if i not in (d1, d2)]
    out_shape = tuple(shape[i] for i in rest) + (length,)

    def window(st):
        start = (max(-offset, 0) * st[d1] + max(offset, 0) * st[d2]) if length else 0
        return tuple(st[i] for i in rest) + (st[d1] + st[d2],), start

    return strided_window(input, out_shape, window(_contiguous_strides(shape)),
                          window(input.stride()), "DiagonalBackward0",
                          ("diagonal", (offset, d1, d2)))


def unfold(input, dimension, size, step):
    """All windows of ``size`` elements, ``step`` apart, along ``dimension`` (a view)."""
    nd = max(input.ndim, 1)
    d = _wrap_dim(dimension, nd)
    n = input._shape[d] if input._shape else 1
    if size < 0:
        raise RuntimeError(f"size is {size} but must be >= 0")
    if size > n:
        raise RuntimeError(f"maximum size for tensor at dimension {d} is {n} but size is "
                           f"{size}")
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    count = (n - size) // step + 1
    shape = list(input._shape) or [1]

    def window(st):
        st = list(st) or [1]
        sd = st[d]
        st[d] = sd * step
        return tuple(st) + (sd,), 0

    out_shape = tuple(shape[:d] + [count] + shape[d + 1:]) + (size,)
    return strided_window(input, out_shape, window(_contiguous_strides(input._shape)),
                          window(input.stride()), "UnfoldBackward0",
                          ("unfold", (d, size, step)))


def storage_offset(input):
    """Elements between the start of the storage (the base tensor's first element) and this
    tensor's first, as torch's ``storage_offset()``."""
    base = input._base
    if base is None or not input.numel() or not base.numel():
        return 0
    return (input.data_ptr() - base.data_ptr()) // input.element_size()


def as_strided(input, size, stride, storage_offset=None):
    """torch.as_strided of a C-contiguous input (``storage_offset`` counted from the storage's
    start, as torch); the window must lie inside the input's own elements."""
    size, stride = tuple(int(s) for s in size), tuple(int(s) for s in stride)
    if len(size) != len(stride):
        raise RuntimeError("mismatch in length of strides and shape")
    for s in size:
        if s < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: "
                               f"{list(size)}")
    for s in stride:
        if s < 0:
            raise RuntimeError(f"as_strided: Negative strides are not supported at the moment, "
                               f"got strides: {list(stride)}")
    own = globals()["storage_offset"](input)
    offset = 0 if storage_offset is None else int(storage_offset) - own
    if offset < 0:
        raise RuntimeError(f"as_strided: storage offset {storage_offset} lies before this "
                           f"tensor's first element (its storage offset is {own}); plugrad "
                           "views only the input's own elements: call it on the base tensor")
    if not input.is_contiguous():
        raise RuntimeError("as_strided: plugrad supports only a contiguous input (its strides "
                           "are then those of the storage); call .contiguous() first")
    extent = offset + 1 + sum((n - 1) * s for n, s in zip(size, stride)) if all(size) else 0
    if extent > input.numel():
        raise RuntimeError(f"setStorage: sizes {list(size)}, strides {list(stride)}, storage "
                           f"offset {offset}, and itemsize {input.element_size()} requiring a "
                           f"storage size of {extent * input.element_size()} are out of "
                           f"bounds for storage of size {input.numel() * input.element_size()}")
    return strided_window(input, size, (stride, offset), (stride, offset),
                          "AsStridedBackward0", ("as_strided", (size, stride, offset)))
