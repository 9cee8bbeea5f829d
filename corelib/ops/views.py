"""View ops: results share storage with their input, so writes through a view reach the base.

A view records its base, shares the base's version counter (in-place changes to either are
seen by autograd's saved-tensor checks) and remembers how to be rebuilt from the base
(``_view_fn``), which in-place autograd on views needs.
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING

from .._dtype import dtype as _dtype_cls
from .._tensor import Tensor, _from_buffer, _wrap_dim
from ..autograd.grad_mode import _state as _grad_state
from ..autograd.node import Node
from ._graph import attach, edge, needs_grad

if TYPE_CHECKING:
    from collections.abc import Sequence


class _ViewNode(Node):
    __slots__ = ("shape", "args")


def make_view(input, data, shape, node_cls=None, replay=None, args=()):
    """Wrap ``data`` (a backend view of input's buffer) as a view tensor of ``input``.

    :param replay: (method name, args) that rebuild this view from ``input``.
    """
    out = _from_buffer(data, shape, input._dtype, input._device)
    base = input._base
    out._base = input if base is None else base
    out._vc = input._shared_vc()
    if not _grad_state.enabled or input._no_grad_view:
        out._no_grad_view = True      # torch forbids rebasing its history later (inplace.py)
    if replay is not None:
        out._view_fn = (input._view_fn if base is not None else None, replay)
    if node_cls is not None and needs_grad(input):
        node = node_cls((edge(input),))
        node.shape, node.args = input._shape, args
        attach(out, node)
    return out


def replay_view(base, view_fn):
    """Rebuild a view of ``base`` from its recorded chain of view ops."""
    if view_fn is None:
        return base
    parent, (method, args) = view_fn
    return getattr(replay_view(base, parent), method)(*args)


Tensor._view_fn = None
Tensor._no_grad_view = False   # made under no_grad (or from such a view)

# -------------------------------------------------------------------------- reshape family


def _compute_stride(oldshape, oldstride, newshape):
    """Strides for viewing (oldshape, oldstride) as newshape, or None (ATen computeStride)."""
    if not oldshape:
        return tuple(1 for _ in newshape)
    numel = 1
    for s in oldshape:
        numel *= s
    if numel == 0:
        return _contiguous_strides(newshape)
    newstride = [0] * len(newshape)
    view_d = len(newshape) - 1
    chunk_base_stride = oldstride[-1]
    tensor_numel = 1
    view_numel = 1
    for tensor_d in range(len(oldshape) - 1, -1, -1):
        tensor_numel *= oldshape[tensor_d]
        if tensor_d == 0 or (oldshape[tensor_d - 1] != 1 and
                             oldstride[tensor_d - 1] != tensor_numel * chunk_base_stride):
            while view_d >= 0 and (view_numel < tensor_numel or newshape[view_d] == 1):
                newstride[view_d] = view_numel * chunk_base_stride
                view_numel *= newshape[view_d]
                view_d -= 1
            if view_numel != tensor_numel:
                return None
            if tensor_d > 0:
                chunk_base_stride = oldstride[tensor_d - 1]
                tensor_numel = 1
                view_numel = 1
    if view_d != -1:
        return None
    return tuple(newstride)


def _contiguous_strides(shape):
    strides, acc = [], 1
    for s in reversed(shape):
        strides.append(acc)
        acc *= max(s, 1)
    return tuple(reversed(strides))


def infer_shape(shape, numel):
    """Resolve one -1 in ``shape``; RuntimeError as torch when sizes don't fit."""
    if len(shape) == 1 and isinstance(shape[0], (list, tuple)):
        shape = tuple(shape[0])
    shape = tuple(int(s) for s in shape)
    infer = [i for i, s in enumerate(shape) if s == -1]
    if len(infer) > 1:
        raise RuntimeError("only one dimension can be inferred")
    for s in shape:
        if s < -1:
            raise RuntimeError(f"invalid shape dimension {s}")
    known = 1
    for s in shape:
        if s != -1:
            known *= s
    if infer:
        if known == 0 or numel % known:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
        shape = shape[:infer[0]] + (numel // known,) + shape[infer[0] + 1:]
    elif known != numel:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
    return shape


class ViewBackward0(_ViewNode):
    __slots__ = ()

    def backward(self, g):
        return (g.reshape(self.shape),)


class UnsafeViewBackward0(ViewBackward0):
    __slots__ = ()


def view(input: Tensor, *shape: int | Sequence[int]) -> Tensor:
    """Same data, new shape; RuntimeError when the strides don't allow a view."""
    if len(shape) == 1 and isinstance(shape[0], _dtype_cls):
        raise RuntimeError("view(dtype) is not supported by plugrad")
    shape = infer_shape(shape, input.numel())
    if shape == input._shape:
        return make_view(input, input._data, shape, ViewBackward0, ("view", (shape,)))
    if _compute_stride(input._shape, input.stride(), shape) is None:
        raise RuntimeError("view size is not compatible with input tensor's size and stride (at "
                           "least one dimension spans across two contiguous subspaces). Use "
                           ".reshape(...) instead.")
    return make_view(input, input._device.ops.reshape(input._data, shape), shape,
                     ViewBackward0, ("view", (shape,)))


def reshape(input: Tensor, *shape: int | Sequence[int]) -> Tensor:
    """A view when the strides allow it, else a copy (as torch)."""
    shape = infer_shape(shape, input.numel())
    if shape == input._shape:
        return make_view(input, input._data, shape, ViewBackward0, ("view", (shape,)))
    if input.ndim <= 1 or _compute_stride(input._shape, input.stride(), shape) is not None:
        return make_view(input, input._device.ops.reshape(input._data, shape), shape,
                         ViewBackward0, ("view", (shape,)))
    dev = input._device
    out = _from_buffer(dev.ops.reshape(dev.ops.copy(input._data), shape), shape, input._dtype, dev)
    if needs_grad(input):
        node = UnsafeViewBackward0((edge(input),))
        node.shape = input._shape
        attach(out, node)
    return out


def unsafe_view(input, shape):
    """torch's _unsafe_view: reshape a result nobody else holds, so it is not a view of it."""
    dev = input._device
    out = _from_buffer(dev.ops.reshape(input._data, shape), shape, input._dtype, dev)
    if needs_grad(input):
        node = UnsafeViewBackward0((edge(input),))
        node.shape = input._shape
        attach(out, node)
    return out


def view_as(input: Tensor, other: Tensor) -> Tensor:
    """``input.view(other.shape)``."""
    return view(input, other._shape)


def reshape_as(input: Tensor, other: Tensor) -> Tensor:
    """``input.reshape(other.shape)``."""
    return reshape(input, other._shape)


def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """A view (or copy when strides forbid) with dims ``start_dim``..``end_dim`` merged."""
    if not input._shape:
        return reshape(input, 1)
    s = _wrap_dim(start_dim, input.ndim)
    e = _wrap_dim(end_dim, input.ndim)
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if s == e:
        return input
    shape = input._shape
    n = 1
    for d in shape[s:e + 1]:
        n *= d
    return reshape(input, shape[:s] + (n,) + shape[e + 1:])


def unflatten(input, dim, sizes):
    """Split dim ``dim`` into ``sizes`` (one may be -1)."""
    d = _wrap_dim(dim, input.ndim)
    sizes = tuple(sizes)
    if -1 not in sizes and math.prod(sizes) != input._shape[d]:
        raise RuntimeError(f"unflatten: Provided sizes {list(sizes)} don't multiply up to the "
                           f"size of dim {dim} ({input._shape[d]}) in the input tensor")
    sizes = infer_shape(sizes, input._shape[d])
    return view(input, input._shape[:d] + sizes + input._shape[d + 1:])


def adjoint(input):
    """The conjugate transpose of the last two dims (a view; plugrad has no complex)."""
    if input.ndim < 2:
        raise RuntimeError(f"tensor.adjoint() is only supported on matrices or batches of "
                           f"matrices. Got {input.ndim}-D tensor.")
    return transpose(input, -2, -1)


def ravel(input):
    """The elements as 1-D: a view when contiguous, else a copy."""
    return reshape(input, -1)


class SqueezeBackward0(ViewBackward0):
    """squeeze() of every size-1 dim."""
    __slots__ = ()


class SqueezeBackward1(ViewBackward0):
    """squeeze(dim)."""
    __slots__ = ()


class SqueezeBackward2(ViewBackward0):
    """squeeze(dims) with a tuple."""
    __slots__ = ()


class UnsqueezeBackward0(ViewBackward0):
    __slots__ = ()


def squeeze(input: Tensor, dim: int | Sequence[int] | None = None) -> Tensor:
    """Drop size-1 dims (all, or those listed in ``dim``)."""
    shape = input._shape
    if dim is None:
        dims = {i for i, s in enumerate(shape) if s == 1}
    elif isinstance(dim, (list, tuple)):
        dims = {_wrap_dim(d, input.ndim) for d in dim}
    else:
        dims = {_wrap_dim(dim, input.ndim)}
    new = tuple(s for i, s in enumerate(shape) if not (i in dims and s == 1))
    node = SqueezeBackward0 if dim is None else SqueezeBackward2 if isinstance(
        dim, (list, tuple)) else SqueezeBackward1
    return make_view(input, input._device.ops.reshape(input._data, new), new, node,
                     ("squeeze", (dim,)))


def unsqueeze(input: Tensor, dim: int) -> Tensor:
    """A view with a new size-1 dim inserted at ``dim``."""
    d = _wrap_dim(dim, input.ndim + 1)
    new = input._shape[:d] + (1,) + input._shape[d:]
    return make_view(input, input._device.ops.reshape(input._data, new), new,
                     UnsqueezeBackward0, ("unsqueeze", (dim,)))

# -------------------------------------------------------------------- axis permutations


class PermuteBackward0(_ViewNode):
    __slots__ = ()

    def backward(self, g):
        perm = self.args
        inverse = [0] * len(perm)
        for i, p in enumerate(perm):
            inverse[p] = i
        return (g.permute(inverse),)


def permute(input: Tensor, *dims: int | Sequence[int]) -> Tensor:
    """A view with the dims reordered: ``x.permute(2, 0, 1)``."""
    if len(dims) == 1 and isinstance(dims[0], (list, tuple)):
        dims = tuple(dims[0])
    n = input.ndim
    if len(dims) != n:
        raise RuntimeError(f"permute(sparse_coo): number of dimensions in the tensor input does "
                           f"not match the length of the desired ordering of dimensions i.e. "
                           f"input.dim() = {n} is not equal to len(dims) = {len(dims)}")
    perm = tuple(_wrap_dim(d, n) for d in dims)
    if len(set(perm)) != n:
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    shape = tuple(input._shape[p] for p in perm)
    return make_view(input, input._device.ops.permute(input._data, perm), shape,
                     PermuteBackward0, ("permute", (perm,)), perm)


class TransposeBackward0(_ViewNode):
    __slots__ = ()

    def backward(self, g):
        return (g.transpose(*self.args),)


class TBackward0(_ViewNode):
    __slots__ = ()

    def backward(self, g):
        return (g.t(),)


def transpose(input: Tensor, dim0: int, dim1: int) -> Tensor:
    """A view with dims ``dim0`` and ``dim1`` swapped."""
    n = input.ndim
    if n == 0:
        d0 = _wrap_dim(dim0, 0)
        d1 = _wrap_dim(dim1, 0)
        return make_view(input, input._data, (), TransposeBackward0, ("transpose", (d0, d1)),
                         (d0, d1))
    d0, d1 = _wrap_dim(dim0, n), _wrap_dim(dim1, n)
    perm = list(range(n))
    perm[d0], perm[d1] = perm[d1], perm[d0]
    shape = tuple(input._shape[p] for p in perm)
    return make_view(input, input._device.ops.permute(input._data, tuple(perm)), shape,
                     TransposeBackward0, ("transpose", (d0, d1)), (d0, d1))


swapaxes = swapdims = transpose


def t(input: Tensor) -> Tensor:
    """Transpose of a tensor of at most 2 dims (1-D and 0-D unchanged)."""
    if input.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is "
                           f"{input.ndim}D")
    if input.ndim < 2:
        return make_view(input, input._data, input._shape, TBackward0, ("t", ()))
    shape = (input._shape[1], input._shape[0])
    return make_view(input, input._device.ops.permute(input._data, (1, 0)), shape, TBackward0,
                     ("t", ()))


def movedim(input, source, destination):
    """A view with dim(s) ``source`` moved to position(s) ``destination``."""
    src = [source] if isinstance(source, int) else list(source)
    dst = [destination] if isinstance(destination, int) else list(destination)
    n = input.ndim
    if len(src) != len(dst):
        raise RuntimeError(f"movedim: Invalid source or destination dims: source ({src} dims) "
                           f"should contain the same number of dims as destination ({dst} dims)")
    src = [_wrap_dim(s, n) for s in src]
    dst = [_wrap_dim(d, n) for d in dst]
    for what, dims in (("source", src), ("destination", dst)):
        if len(set(dims)) != len(dims):
            raise RuntimeError(f"movedim: repeated dim in `{what}` ({dims})")
    order = [None] * n
    for s, d in zip(src, dst):
        order[d] = s
    rest = iter(i for i in range(n) if i not in src)
    order = [o if o is not None else next(rest) for o in order]
    return permute(input, order)


moveaxis = movedim

# ------------------------------------------------------------------------------- expand


class ExpandBackward0(_ViewNode):
    __slots__ = ()

    def backward(self, g):
        return (g.sum_to_size(self.shape),)


def expand(input: Tensor, *sizes: int | Sequence[int]) -> Tensor:
    """Broadcast view: size-1 dims stretch (stride 0); -1 keeps a size."""
    if len(sizes) == 1 and isinstance(sizes[0], (list, tuple)):
        sizes = tuple(sizes[0])
    sizes = tuple(int(s) for s in sizes)
    shape = input._shape
    if len(sizes) < len(shape):
        raise RuntimeError(f"expand(torch.FloatTensor{{{list(shape)}}}, size={list(sizes)}): the "
                           f"number of sizes provided ({len(sizes)}) must be greater or equal to "
                           f"the number of dimensions in the tensor ({len(shape)})")
    lead = len(sizes) - len(shape)
    full = (1,) * lead + shape
    target = []
    for i, (have, want) in enumerate(zip(full, sizes)):
        if want == -1:
            if i < lead:
                raise RuntimeError(f"The expanded size of the tensor (-1) isn't allowed in a "
                                   f"leading, non-existing dimension {i}")
            want = have
        elif have != want and have != 1:
            raise RuntimeError(f"The expanded size of the tensor ({want}) must match the existing "
                               f"size ({have}) at non-singleton dimension {i}.  Target sizes: "
                               f"{list(sizes)}.  Tensor sizes: {list(shape)}")
        target.append(want)
    target = tuple(target)
    if target == shape:
        return make_view(input, input._data, shape, ExpandBackward0, ("expand", (target,)))
    ops = input._device.ops
    data = ops.reshape(input._data, full) if lead else input._data
    return make_view(input, ops.expand(data, target), target, ExpandBackward0,
                     ("expand", (target,)))


def expand_as(input: Tensor, other: Tensor) -> Tensor:
    """``input.expand(other.shape)``: a broadcast view, no copy."""
    return expand(input, other._shape)


def broadcast_to(input, shape):
    """A read-only view expanded to ``shape`` by broadcasting (no copy)."""
    return expand(input, shape)

# ------------------------------------------------------------------------ slicing views


class SliceBackward0(_ViewNode):
    """Gradient of a strided slice: g placed into zeros of the input's shape."""
    __slots__ = ()

    def backward(self, g):
        return (slice_backward(g, self.shape, self.args),)


class SelectBackward0(_ViewNode):
    __slots__ = ()

    def backward(self, g):
        dim, index = self.args
        slices = [(0, s, 1) for s in self.shape]
        slices[dim] = (index, index + 1, 1)
        return (slice_backward(g.unsqueeze(dim), self.shape, tuple(slices)),)


def slice_view(input, slices, node_cls=SliceBackward0, replay=None):
    """View of ``input`` through one normalised (start, stop, step) per axis."""
    shape = tuple(max(0, (stop - start + step - 1) // step) for start, stop, step in slices)
    data = input._device.ops.slice(input._data, slices)
    return make_view(input, data, shape, node_cls, replay or ("_slice", (slices,)), slices)


def _slice(input, slices):
    return slice_view(input, slices)


Tensor._slice = _slice


def narrow(input, dim, start, length):
    """A view of ``length`` elements of dim ``dim`` from ``start``."""
    d = _wrap_dim(dim, input.ndim)
    size = input._shape[d]
    if isinstance(start, Tensor):
        start = int(start)
    if start < 0:
        start += size
    if not 0 <= start <= size or length < 0 or start + length > size:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({size}).")
    slices = tuple((start, start + length, 1) if i == d else (0, s, 1)
                   for i, s in enumerate(input._shape))
    return slice_view(input, slices, replay=("narrow", (d, start, length)))


def select(input, dim, index, *, _indexing=False):
    """The sub-tensor at ``index`` along ``dim`` (a view with that dim removed)."""
    if input.ndim == 0:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    d = _wrap_dim(dim, input.ndim)
    size = input._shape[d]
    i = int(index)
    if not -size <= i < size:
        if _indexing:       # x[i] words it as indexing does
            raise IndexError(f"index {i} is out of bounds for dimension {d} with size {size}")
        raise IndexError(f"select(): index {i} out of range for tensor of size "
                         f"{list(input._shape)} at dimension {d}")
    if i < 0:
        i += size
    slices = tuple((i, i + 1, 1) if k == d else (0, s, 1) for k, s in enumerate(input._shape))
    ops = input._device.ops
    sliced = ops.slice(input._data, slices)
    shape = input._shape[:d] + input._shape[d + 1:]
    return make_view(input, ops.reshape(sliced, shape), shape, SelectBackward0,
                     ("select", (d, i)), (d, i))


class SplitBackward0(SliceBackward0):
    __slots__ = ()


class SplitWithSizesBackward0(SliceBackward0):
    __slots__ = ()


class UnbindBackward0(SelectBackward0):
    __slots__ = ()


def split(input, split_size_or_sections, dim=0, *, _node=None):
    """Views of consecutive pieces: of equal size (an int), or of the listed sizes."""
    d = _wrap_dim(dim, input.ndim)
    size = input._shape[d]
    if isinstance(split_size_or_sections, int):
        step = split_size_or_sections
        if step <= 0 and size:
            raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got "
                               f"dimension size of {size}")
        sizes = [min(step, size - s) for s in range(0, size, step)] if size else [0]
    else:
        sizes = [int(s) for s in split_size_or_sections]
        _node = _node or SplitWithSizesBackward0
        total = 0
        for s in sizes:
            total += s
        if total != size:
            raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {size} "
                               f"(input tensor's size at dimension {d}), but got "
                               f"split_sizes={sizes}")
    out, start = [], 0
    for length in sizes:
        slices = tuple((start, start + length, 1) if i == d else (0, s, 1)
                       for i, s in enumerate(input._shape))
        out.append(slice_view(input, slices, _node or SplitBackward0,
                              ("narrow", (d, start, length))))
        start += length
    return tuple(out)


def chunk(input, chunks, dim=0):
    """Split into ``chunks`` views along ``dim`` (the last may be smaller)."""
    if chunks <= 0:
        raise RuntimeError("chunk expects `chunks` to be greater than 0, got: " + str(chunks))
    d = _wrap_dim(dim, input.ndim)
    size = input._shape[d]
    if size == 0:   # torch: `chunks` empty pieces (split_with_sizes of zeros)
        return split(input, [0] * chunks, d)
    return split(input, -(-size // chunks), d)


def tensor_split(input, indices_or_sections, dim=0):
    """Split along ``dim`` into n nearly equal views, or at the given indices."""
    d = _wrap_dim(dim, input.ndim)
    size = input._shape[d]
    if isinstance(indices_or_sections, int):
        n = indices_or_sections
        if n <= 0:
            raise RuntimeError(f"number of sections must be larger than 0, got {n}")
        q, r = divmod(size, n)
        sizes = [q + 1] * r + [q] * (n - r)
    else:
        bounds = [0] + [min(max(int(i), 0), size) for i in indices_or_sections] + [size]
        sizes = [max(b - a, 0) for a, b in zip(bounds, bounds[1:])]
    return split(input, sizes, d, _node=SliceBackward0)


def unbind(input, dim=0):
    """The slices along ``dim``, as a tuple of views without that dim."""
    d = _wrap_dim(dim, input.ndim)
    out = []
    for i in range(input._shape[d]):
        v = select(input, d, i)
        if v._grad_fn is not None:
            v._grad_fn.__class__ = UnbindBackward0
        out.append(v)
    return tuple(out)


# ---------------------------------------------------------------- the backward of slicing
# slice_view and slice_backward are each other's gradient (create_graph), so they live together
class SliceBackwardBackward0(Node):
    __slots__ = ("slices",)

    def backward(self, g):
        return (slice_view(g, self.slices),)


def slice_backward(grad, shape, slices):
    """zeros(shape) with ``grad`` written at ``slices`` ((start, stop, step) per axis)."""
    ops = grad._device.ops
    data = ops.full(shape, 0, grad._dtype.name)
    ops.assign(ops.slice(data, slices), grad._data)
    out = _from_buffer(data, shape, grad._dtype, grad._device)
    if needs_grad(grad):
        node = SliceBackwardBackward0((edge(grad),))
        node.slices = slices
        attach(out, node)
    return out
