"""Movement ops that copy: clone, contiguous, flip, pad, cat/stack, repeat, roll, tril/triu."""
from __future__ import annotations

from typing import TYPE_CHECKING

from .. import _dtype as D
from .._tensor import Tensor, _from_buffer, _wrap_dim
from ..autograd.node import Node
from ._graph import attach, edge, named, needs_grad
from ._operands import check_same_device
from .inplace import write_out

if TYPE_CHECKING:
    from collections.abc import Sequence


class CloneBackward0(Node):
    __slots__ = ()

    def backward(self, g):
        return (g,)


def clone(input, *, memory_format=None):
    """A contiguous copy that stays in the graph."""
    out = _from_buffer(input._device.ops.copy(input._data), input._shape, input._dtype, input._device)
    if needs_grad(input):
        attach(out, CloneBackward0((edge(input),)))
    return out


def contiguous(input, memory_format=None):
    """input itself when contiguous (in ``memory_format``), else a contiguous copy."""
    if memory_format is not None:
        from .._memory_format import to_format
        return to_format(input, memory_format)
    return input if input.is_contiguous() else clone(input)


class FlipBackward0(Node):
    __slots__ = ("dims",)

    def backward(self, g):
        return (g.flip(self.dims),)


def flip(input, *dims):
    """A copy with the order of elements along ``dims`` reversed."""
    dims = dims[0] if len(dims) == 1 else dims
    if isinstance(dims, int):
        dims = (dims,)
    wrapped = [_wrap_dim(d, input.ndim) for d in dims]
    axes = tuple(sorted(set(wrapped)))
    if len(axes) != len(dims):
        twice = next(d for i, d in enumerate(wrapped) if d in wrapped[:i])
        raise RuntimeError(f"dim {twice} appears multiple times in the list of dims")
    data = input._device.ops.flip(input._data, axes) if axes and input._shape else \
        input._device.ops.copy(input._data)
    out = _from_buffer(data, input._shape, input._dtype, input._device)
    if needs_grad(input):
        node = FlipBackward0((edge(input),))
        node.dims = axes
        attach(out, node)
    return out


def fliplr(input):
    """A copy flipped along dim 1 (left/right); needs at least 2 dims."""
    return flip(input, (1,))


def flipud(input):
    """A copy flipped along dim 0 (up/down); needs at least 1 dim."""
    return flip(input, (0,))

# ------------------------------------------------------------------------------- pad


class ConstantPadNdBackward0(Node):
    __slots__ = ("pads",)

    def backward(self, g):
        return (constant_pad(g, [-p for p in self.pads]),)


def constant_pad(input, pad, value=0):
    """F.pad(mode='constant'): ``pad`` lists (left, right) pairs from the last dim backwards;
    negative amounts crop."""
    pad = [int(p) for p in pad]
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    if len(pad) // 2 > input.ndim:
        raise RuntimeError(f"Padding length should be less than or equal to two times the input "
                           f"dimension but got padding length {len(pad)} and input of dimension "
                           f"{input.ndim}")
    pairs = [(0, 0)] * input.ndim
    for i in range(len(pad) // 2):
        pairs[input.ndim - 1 - i] = (pad[2 * i], pad[2 * i + 1])
    dev = input._device
    data = input._data
    shape = list(input._shape)
    if any(a < 0 or b < 0 for a, b in pairs):
        slices = []
        for i, (a, b) in enumerate(pairs):
            start, stop = max(-a, 0), shape[i] - max(-b, 0)
            if stop < start:
                raise RuntimeError(f"The input size {shape[i]}, plus negative padding {a} and "
                                   f"{b} resulted in a negative output size, which is invalid. "
                                   f"Check dimension {i} of your input.")
            slices.append((start, stop, 1))
            shape[i] = stop - start
        data = dev.ops.slice(data, tuple(slices))
    positive = tuple((max(a, 0), max(b, 0)) for a, b in pairs)
    if any(a or b for a, b in positive):
        fill = float(value) if input._dtype.is_floating_point else int(value)
        data = dev.ops.pad(data, positive, fill)
        shape = [s + a + b for s, (a, b) in zip(shape, positive)]
    else:
        data = dev.ops.copy(data)
    out = _from_buffer(data, tuple(shape), input._dtype, dev)
    if needs_grad(input):
        node = ConstantPadNdBackward0((edge(input),))
        node.pads = pad
        attach(out, node)
    return out

# -------------------------------------------------------------------------- cat / stack


class CatBackward0(Node):
    __slots__ = ("dim", "sizes", "dtypes")

    def backward(self, g):
        out, start = [], 0
        for edge_, size in zip(self.next, self.sizes):
            if size is None:        # a skipped legacy empty 1-D input gets an empty gradient
                out.append(g.new_zeros(0) if edge_ is not None else None)
                continue
            out.append(g.narrow(self.dim, start, size) if edge_ is not None else None)
            start += size
        if self.dtypes is not None:     # promoted inputs get gradients of their own dtype
            out = [o if o is None or o._dtype is dt else o.to(dt)
                   for o, dt in zip(out, self.dtypes)]
        return tuple(out)


def cat(tensors: Sequence[Tensor], dim: int = 0, *, out: Tensor | None = None) -> Tensor:
    """Join tensors along ``dim`` (dtypes promote; 1-D empty tensors are skipped, as torch)."""
    if isinstance(tensors, Tensor):
        raise TypeError("cat(): argument 'tensors' (position 1) must be tuple of Tensors, not "
                        "Tensor")
    tensors = list(tensors)
    if not tensors:
        raise ValueError("torch.cat(): expected a non-empty list of Tensors")
    for t in tensors:
        if not isinstance(t, Tensor):
            raise TypeError(f"expected Tensor as element in argument 0, but got "
                            f"{type(t).__name__}")
    check_same_device(*tensors)
    parts = [t for t in tensors if not (t._shape == (0,))] or tensors[:1]
    ref = parts[0]
    if ref.ndim == 0:
        raise RuntimeError("zero-dimensional tensor (at position 0) cannot be concatenated")
    d = _wrap_dim(dim, ref.ndim)
    dt = ref._dtype
    for t in parts:
        if t.ndim != ref.ndim:
            raise RuntimeError(f"Tensors must have same number of dimensions: got {ref.ndim} and "
                               f"{t.ndim}")
        for k in range(ref.ndim):
            if k != d and t._shape[k] != ref._shape[k]:
                raise RuntimeError(f"Sizes of tensors must match except in dimension {d}. "
                                   f"Expected size {ref._shape[k]} but got size {t._shape[k]} "
                                   f"for tensor number "
                                   f"{next(j for j, u in enumerate(tensors) if u is t)} in the "
                                   "list.")
    for t in tensors:   # the skipped empty tensors take part in promotion too (torch)
        dt = D.promote_types(dt, t._dtype)
    dev = ref._device
    datas = [t._data if t._dtype is dt else dev.ops.cast(t._data, dt.name) for t in parts]
    shape = list(ref._shape)
    total = 0
    for t in parts:
        total += t._shape[d]
    shape[d] = total
    res = _from_buffer(dev.ops.concat(datas, d), tuple(shape), dt, dev)
    if needs_grad(*tensors):
        node = CatBackward0(tuple(edge(t) for t in tensors))
        kept = {id(t) for t in parts}
        node.dim = d
        node.sizes = tuple(t._shape[d] if id(t) in kept else None for t in tensors)
        node.dtypes = None if all(t._dtype is dt for t in tensors) else \
            tuple(t._dtype for t in tensors)
        attach(res, node)
    if out is not None:
        return write_out(out, res)
    return res


concat = concatenate = cat


def stack(tensors: Sequence[Tensor], dim: int = 0, *, out: Tensor | None = None) -> Tensor:
    """Join tensors of one shape along a new dim ``dim``."""
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    first = tensors[0]._shape
    for i, t in enumerate(tensors):
        if t._shape != first:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got "
                               f"{list(first)} at entry 0 and {list(t._shape)} at entry {i}")
    d = _wrap_dim(dim, len(first) + 1)
    res = named(cat([t.unsqueeze(d) for t in tensors], d), "StackBackward0")
    if out is not None:
        return write_out(out, res)
    return res


def hstack(tensors):
    """Join along dim 1 (dim 0 for 1-D tensors)."""
    tensors = [t if t.ndim else t.reshape(1) for t in tensors]
    return cat(tensors, 0 if tensors[0].ndim == 1 else 1)


def vstack(tensors):
    """Join along dim 0, 1-D tensors taken as rows."""
    return cat([atleast_2d(t) for t in tensors], 0)


row_stack = vstack


def dstack(tensors):
    """Join along dim 2, after making every tensor at least 3-D."""
    return cat([atleast_3d(t) for t in tensors], 2)


def column_stack(tensors):
    """Join as columns: 1-D tensors become (n, 1), then ``hstack``."""
    return cat([t.reshape(-1, 1) if t.ndim <= 1 else t for t in tensors], 1)


def atleast_1d(t):
    """The tensor (or each of several) viewed with at least 1 dim."""
    return t.reshape(1) if t.ndim == 0 else t


def atleast_2d(t):
    """The tensor (or each of several) viewed with at least 2 dims."""
    return t.reshape(1, -1) if t.ndim < 2 else t


def atleast_3d(t):
    """The tensor (or each of several) viewed with at least 3 dims."""
    if t.ndim == 0:
        return t.reshape(1, 1, 1)
    if t.ndim == 1:
        return t.reshape(1, -1, 1)
    if t.ndim == 2:
        return t.unsqueeze(-1)
    return t

# ------------------------------------------------------------------- repeat / roll / tri


def repeat(input, *sizes):
    """Tile ``input`` ``sizes`` times per dim (composed from expand + reshape)."""
    if len(sizes) == 1 and isinstance(sizes[0], (list, tuple)):
        sizes = tuple(sizes[0])
    sizes = tuple(int(s) for s in sizes)
    if len(sizes) < input.ndim:
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number "
                           "of dimensions of tensor")
    shape = (1,) * (len(sizes) - input.ndim) + input._shape
    interleaved, expanded, final = [], [], []
    for r, s in zip(sizes, shape):
        interleaved += [1, s]
        expanded += [r, s]
        final.append(r * s)
    for n in final:
        if n < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {n}: {final}")
    # one copy always (torch's repeat never returns a view): a reshape that merges an
    # expanded dim with a size-1 one would otherwise give a stride-0 view that in-place ops refuse
    x = clone(input.reshape(interleaved).expand(expanded)).reshape(final)
    return named(x, "RepeatBackward0")


def tile(input, *dims):
    """The tensor repeated ``dims`` times along each dim (leading 1s added as needed)."""
    dims = tuple(dims[0]) if len(dims) == 1 and isinstance(dims[0], (tuple, list)) else dims
    if len(dims) < input.ndim:
        dims = (1,) * (input.ndim - len(dims)) + dims
    return repeat(input, dims)


def roll(input, shifts, dims=None):
    """Shift elements cyclically along ``dims`` (the flattened tensor when None)."""
    n_shifts = len(shifts) if isinstance(shifts, (tuple, list)) else 1
    n_dims = 0 if dims is None else len(dims) if isinstance(dims, (tuple, list)) else 1
    if n_shifts != n_dims and not (dims is None and n_shifts == 1):
        raise RuntimeError(f"shifts and dimensions must align. shifts: {n_shifts}, dims:{n_dims}")
    if dims is None:
        shifts = shifts[0] if isinstance(shifts, (tuple, list)) else shifts
        flat = roll(input.reshape(-1), shifts, 0)
        return named(flat.reshape(input._shape), "RollBackward0")
    shifts = tuple(shifts) if isinstance(shifts, (tuple, list)) else (shifts,)
    dims = tuple(dims) if isinstance(dims, (tuple, list)) else (dims,)
    x = input
    for s, d in zip(shifts, dims):
        d = _wrap_dim(d, x.ndim)
        n = x._shape[d]
        if n == 0:
            continue
        s %= n
        if s:
            x = cat([x.narrow(d, n - s, s), x.narrow(d, 0, n - s)], d)
    return named(x if x is not input else x.clone(), "RollBackward0")


def _tri_mask(input, diagonal, upper):
    from .creation import arange
    rows, cols = input._shape[-2], input._shape[-1]
    r = arange(rows, device=input._device).unsqueeze(1)
    c = arange(cols, device=input._device).unsqueeze(0)
    return (c - r >= diagonal) if upper else (c - r <= diagonal)


def tril(input, diagonal=0):
    """The lower triangle (on and below diagonal ``diagonal``); the rest zero."""
    if input.ndim < 2:
        raise RuntimeError("tril: input tensor must have at least 2 dimensions")
    return named(input.masked_fill(_tri_mask(input, diagonal, False).logical_not(), 0),
                 "TrilBackward0")


def triu(input, diagonal=0):
    """The upper triangle (on and above diagonal ``diagonal``); the rest zero."""
    if input.ndim < 2:
        raise RuntimeError("triu: input tensor must have at least 2 dimensions")
    return named(input.masked_fill(_tri_mask(input, diagonal, True).logical_not(), 0),
                 "TriuBackward0")

# ------------------------------------------------------------- more composite movement


def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    """Repeat each element ``repeats`` times (an int, or one count per element) along dim
    (the flattened tensor when None)."""
    from .creation import arange
    if repeats is None:                     # torch.repeat_interleave(counts)
        counts = input
        return repeat_interleave(arange(counts.numel(), device=counts._device), counts, 0)
    if dim is None:
        input, dim = input.reshape(-1), 0
    d = _wrap_dim(dim, max(input.ndim, 1))
    if isinstance(repeats, int) or (isinstance(repeats, Tensor) and repeats.numel() == 1
                                    and input._shape and input._shape[d] != 1):
        r = int(repeats)
        shape = input._shape
        x = input.unsqueeze(d + 1).expand(*shape[:d + 1], r, *shape[d + 1:])
        return named(x.reshape(*shape[:d], shape[d] * r, *shape[d + 1:]), "ViewBackward0")
    return input.index_select(d, _expand_counts(repeats.to(D.int64)))


def _expand_counts(counts):
    """[0, 0, 1, 2, 2, 2] for counts [2, 1, 3]: a position's index, via cumsum + scatter."""
    from .creation import arange
    total = int(counts.sum())
    starts = counts.cumsum(0) - counts
    marks = counts.new_zeros(total + 1)
    marks = marks.index_add(0, starts.masked_select(counts > 0),
                            counts.new_ones(int((counts > 0).sum())))
    idx = marks.cumsum(0)[:total] - 1
    keep = arange(counts.numel(), device=counts._device).masked_select(counts > 0)
    return keep[idx]


def rot90(input, k=1, dims=(0, 1)):
    """Rotate by 90 degrees k times in the plane of ``dims``."""
    d0, d1 = (_wrap_dim(d, input.ndim) for d in dims)
    k %= 4
    if k == 0:
        out = input.clone()
    elif k == 1:
        out = input.flip(d1).transpose(d0, d1)
    elif k == 2:
        out = input.flip((d0, d1))
    else:
        out = input.flip(d0).transpose(d0, d1)
    return named(out, "Rot90Backward0")


def diff(input, n=1, dim=-1, prepend=None, append=None):
    """n-th forward difference along ``dim``."""
    d = _wrap_dim(dim, input.ndim)
    parts = [p for p in (prepend, input, append) if p is not None]
    x = cat(parts, d) if len(parts) > 1 else input
    for _ in range(n):
        m = x._shape[d]
        x = x.narrow(d, 1, m - 1) - x.narrow(d, 0, m - 1) if x._dtype is not D.bool_ else \
            x.narrow(d, 1, m - 1).logical_xor(x.narrow(d, 0, m - 1))
    return x


def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    """Put the last dim of input on a diagonal of new dims (dim1, dim2)."""
    from .creation import arange
    n = input._shape[-1] + abs(offset)
    out_nd = input.ndim + 1
    d1, d2 = _wrap_dim(dim1, out_nd), _wrap_dim(dim2, out_nd)
    idx = arange(input._shape[-1], device=input._device)
    rows, cols = idx + max(-offset, 0), idx + max(offset, 0)
    base = input.new_zeros(*input._shape[:-1], n, n)
    moved = base.index_put(tuple([None] * (input.ndim - 1)) + (rows, cols), input)
    order = list(range(input.ndim - 1))
    perm = [None] * out_nd
    perm[d1], perm[d2] = input.ndim - 1, input.ndim
    it = iter(order)
    perm = [p if p is not None else next(it) for p in perm]
    inverse = [0] * out_nd
    for i, p in enumerate(perm):
        inverse[i] = p
    return named(moved.permute(inverse), "DiagEmbedBackward0")


def kron(input, other):
    """Kronecker product."""
    nd = max(input.ndim, other.ndim)
    a = input.reshape((1,) * (nd - input.ndim) + input._shape)
    b = other.reshape((1,) * (nd - other.ndim) + other._shape)
    inter_a, inter_b, final = [], [], []
    for sa, sb in zip(a._shape, b._shape):
        inter_a += [sa, 1]
        inter_b += [1, sb]
        final.append(sa * sb)
    return (a.reshape(inter_a) * b.reshape(inter_b)).reshape(final)


def _split_along(input, sections, dim, name):
    from .views import tensor_split
    if isinstance(sections, int) and input._shape[dim] % sections:
        raise RuntimeError(f"torch.{name} attempted to split along dimension {dim}, but the size "
                           f"of the dimension {input._shape[dim]} is not divisible by the "
                           f"split_size {sections}!")
    return tensor_split(input, sections, dim)


def vsplit(input, sections):
    """Split along dim 0 into equal parts or at indices (``tensor_split``)."""
    return _split_along(input, sections, 0, "vsplit")


def hsplit(input, sections):
    """Split along dim 1 (dim 0 for 1-D) into equal parts or at indices."""
    return _split_along(input, sections, 1 if input.ndim > 1 else 0, "hsplit")


def dsplit(input, sections):
    """Split along dim 2 into equal parts or at indices."""
    return _split_along(input, sections, 2, "dsplit")
