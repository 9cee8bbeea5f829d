"""Reductions and scans: sum, mean, prod, max/min, arg-extrema, any/all, var/std, norms, cumsum.

Backends reduce over a tuple of axes keeping dtype; the frontend picks torch's output dtype
(sums of ints are int64, mean of ints is an error), normalises dims and writes backwards.
"""
from __future__ import annotations

import collections
import math
import warnings
from typing import TYPE_CHECKING

from .._layout import SparseOperand
from .. import _dtype as D
from .._tensor import Tensor, _from_buffer, _wrap_dim
from ..autograd.grad_mode import is_grad_enabled
from ..autograd.node import Node
from ._graph import attach, edge, named, needs_grad

if TYPE_CHECKING:
    from collections.abc import Sequence


def dim_or_axis(name, dim, axis, default=None):
    """torch accepts numpy's ``axis=`` for ``dim=``; giving both is a TypeError."""
    if dim is not default:
        raise TypeError(f"{name}() received an invalid combination of arguments: got both "
                        "'dim' and its alias 'axis'")
    return axis


def reduce_dims(dim, ndim):
    """Normalise ``dim`` (None, int or sequence) to a sorted tuple of unique axes."""
    if dim is None:
        return tuple(range(ndim))
    if isinstance(dim, bool) or isinstance(dim, (list, tuple)) and \
            True in [isinstance(d, bool) for d in dim]:     # (this module defines any())
        raise TypeError(f"received an invalid combination of arguments - got (dim="
                        f"{type(dim).__name__}), but expected one of: (*, torch.dtype dtype = "
                        "None) (tuple of ints dim, bool keepdim = False, *, torch.dtype dtype "
                        "= None)")
    if isinstance(dim, (list, tuple)):
        wrapped = [_wrap_dim(d, ndim) for d in dim]
        dims = tuple(sorted(set(wrapped)))
        if len(dims) != len(dim):
            twice = next(d for i, d in enumerate(wrapped) if d in wrapped[:i])
            raise RuntimeError(f"dim {twice} appears multiple times in the list of dims")
        return dims if dims else tuple(range(ndim))
    return (_wrap_dim(dim, ndim),)


def _kept_shape(shape, dims):
    return tuple(1 if i in dims else s for i, s in enumerate(shape))


def _out_shape(shape, dims, keepdim):
    if keepdim:
        return _kept_shape(shape, dims)
    return tuple(s for i, s in enumerate(shape) if i not in dims)


def _expand_back(g, shape, dims, keepdim):
    """Broadcast a reduced gradient back to the input shape."""
    if not keepdim and dims:
        g = g.reshape(_kept_shape(shape, dims))
    return g.expand(shape)


def _reduce(prim, x, dims, keepdim, dtype):
    """Run a backend reduction (0-d inputs reduce to themselves)."""
    dev = x._device
    data = x._data if x._dtype is dtype else dev.ops.cast(x._data, dtype.name)
    if not x._shape:
        return _from_buffer(dev.ops.copy(data), (), dtype, dev)
    return _from_buffer(getattr(dev.ops, prim)(data, dims, keepdim), _out_shape(x._shape, dims, keepdim),
                 dtype, dev)


class _ReduceNode(Node):
    __slots__ = ("shape", "dims", "keepdim", "x", "y", "count")

    def _drop(self):
        self.x = self.y = None


# ---------------------------------------------------------------------------- sum / mean

class SumBackward0(_ReduceNode):
    __slots__ = ()

    def backward(self, g):
        return (_expand_back(g, self.shape, self.dims, self.keepdim),)


class SumBackward1(SumBackward0):
    __slots__ = ()


_ALL_AXES = tuple(tuple(range(n)) for n in range(33))


def sum(input: Tensor, dim: int | Sequence[int] | None = None, keepdim: bool = False, *,
        dtype: D.dtype | None = None, axis: int | Sequence[int] | None = None) -> Tensor:
    """Sum over ``dim`` (all dims by default); integer and bool inputs sum as int64."""
    try:
        if axis is not None:
            dim = dim_or_axis("sum", dim, axis)
        if dim is None and dtype is None and input._dtype.is_floating_point and input._shape \
                and not keepdim:
            # fast path for the most common call, loss.sum(): no dim bookkeeping
            dev = input._device
            res = _from_buffer(dev.ops.sum(input._data, _ALL_AXES[len(input._shape)], False),
                               (), input._dtype, dev)
            if input._requires_grad and is_grad_enabled():
                node = SumBackward0((edge(input),))
                node.shape, node.dims, node.keepdim = input._shape, _ALL_AXES[len(input._shape)], \
                    False
                attach(res, node)
            return res
        if isinstance(dim, D.dtype):
            dim, dtype = None, dim
        if dtype is not None and dtype is not input._dtype:
            # the gradient flows back through the cast (torch's engine casts it the same way)
            input = input.to(dtype)
        # an explicit dtype is the result's (int8 wraps, bool is "any"), as torch
        out_dtype = input._dtype if input._dtype.is_floating_point or input._dtype.is_complex \
            or dtype is not None else \
            D.int64
        dims = reduce_dims(dim, input.ndim)
        res = _reduce("any" if out_dtype is D.bool_ else "sum", input, dims, keepdim, out_dtype)
        if needs_grad(input):
            node = (SumBackward0 if dim is None else SumBackward1)((edge(input),))
            node.shape, node.dims, node.keepdim = input._shape, dims, keepdim
            attach(res, node)
        return res
    except SparseOperand:       # a sparse COO input (its buffer is not a dense array)
        from ..sparse.arith import sum as sparse_sum
        if keepdim:
            raise NotImplementedError("sum(keepdim=True) of a sparse tensor is not supported")
        return sparse_sum(input, dim, dtype=dtype)


class MeanBackward0(_ReduceNode):
    __slots__ = ()

    def backward(self, g):
        return (_expand_back(g, self.shape, self.dims, self.keepdim) / self.count,)


class MeanBackward1(MeanBackward0):
    __slots__ = ()


def mean(input: Tensor, dim: int | Sequence[int] | None = None, keepdim: bool = False, *,
         dtype: D.dtype | None = None, axis: int | Sequence[int] | None = None) -> Tensor:
    """Arithmetic mean; floating dtypes only (as torch)."""
    if axis is not None:
        dim = dim_or_axis("mean", dim, axis)
    if isinstance(dim, D.dtype):
        dim, dtype = None, dim
    out_dtype = dtype or input._dtype
    if not (out_dtype.is_floating_point or out_dtype.is_complex):
        raise RuntimeError("mean(): could not infer output dtype. Input dtype must be either a "
                           f"floating point or complex dtype. Got: {D.legacy_name(input._dtype)}")
    if out_dtype is not input._dtype:
        input = input.to(out_dtype)
    dims = reduce_dims(dim, input.ndim)
    count = 1
    for d in dims:
        count *= input._shape[d] if input._shape else 1
    dev = input._device
    if out_dtype in (D.float16, D.bfloat16):
        # torch accumulates half in float: mean([60000, 60000]) is 60000, not inf
        wide = _reduce("sum", _from_buffer(dev.ops.cast(input._data, "float32"), input._shape,
                                    D.float32, dev), dims, keepdim, D.float32)
        data = dev.ops.cast(dev.ops.div(wide._data, float(count) if count else float("nan")),
                            out_dtype.name)
        total = wide
    else:
        total = _reduce("sum", input, dims, keepdim, out_dtype)
        data = dev.ops.div(total._data, float(count) if count else float("nan"))
    res = _from_buffer(data, total._shape, out_dtype, dev)
    if needs_grad(input):
        node = (MeanBackward0 if dim is None else MeanBackward1)((edge(input),))
        node.shape, node.dims, node.keepdim, node.count = input._shape, dims, keepdim, count
        attach(res, node)
    return res


def nansum(input, dim=None, keepdim=False, *, dtype=None, axis=None):
    """Sum treating nan as zero."""
    if axis is not None:
        dim = dim_or_axis("nansum", dim, axis)
    return named(sum(input.masked_fill(input.isnan(), 0), dim, keepdim, dtype=dtype),
                 "NansumBackward0")


def nanmean(input, dim=None, keepdim=False, *, dtype=None, axis=None):
    """Mean over ``dim`` (all by default) ignoring nan; nan where every value is nan."""
    if axis is not None:
        dim = dim_or_axis("nanmean", dim, axis)
    if not input._dtype.is_floating_point and dtype is None:
        raise RuntimeError(f"nanmean(): expected input to have floating point or complex dtype "
                           f"but got {D.legacy_name(input._dtype)}")
    keep = input.isnan().logical_not()
    return nansum(input, dim, keepdim, dtype=dtype) / keep.sum(dim, keepdim)

# -------------------------------------------------------------------------------- prod


class ProdBackward0(_ReduceNode):
    """d prod / d x_i = product of the other elements, via exclusive scans (zeros are fine)."""
    __slots__ = ()

    def backward(self, g):
        x = self.x
        if len(self.dims) != 1 or not x._shape:
            flat = x.reshape(-1)
            others = _exclusive_product(flat, 0).reshape(x._shape)
        else:
            others = _exclusive_product(x, self.dims[0])
        return (_expand_back(g, self.shape, self.dims, self.keepdim) * others,)


class ProdBackward1(ProdBackward0):
    __slots__ = ()


def _exclusive_product(x, dim):
    """out_i = prod_{j != i} x_j along ``dim``."""
    n = x._shape[dim]
    if n == 0:       # an empty axis has no products (and narrow(dim, 0, -1) would raise)
        return x.new_ones(x._shape)
    ones_shape = list(x._shape)
    ones_shape[dim] = 1
    from .movement import cat
    one = x.new_ones(ones_shape)
    left = cat([one, x.narrow(dim, 0, n - 1)], dim).cumprod(dim)
    right = cat([one, x.flip(dim).narrow(dim, 0, n - 1)], dim).cumprod(dim).flip(dim)
    return left * right


def prod(input: Tensor, dim: int | None = None, keepdim: bool = False, *,
         dtype: D.dtype | None = None, axis: int | None = None) -> Tensor:
    """Product over ``dim`` (all dims by default); integer and bool inputs give int64."""
    if axis is not None:
        dim = dim_or_axis("prod", dim, axis)
    out_dtype = dtype or (input._dtype if input._dtype.is_floating_point
                          or input._dtype.is_complex else D.int64)
    dims = reduce_dims(dim, input.ndim)
    res = _reduce("prod", input, dims, keepdim, out_dtype)
    if needs_grad(input):
        node = (ProdBackward0 if dim is None else ProdBackward1)((edge(input),), (input,))
        node.shape, node.dims, node.keepdim, node.x = input._shape, dims, keepdim, input
        attach(res, node)
    return res

# ---------------------------------------------------------------------- max / min family


_VI = collections.namedtuple("_VI", ["values", "indices"])


def _return_type(name):
    class ReturnType(_VI):
        __slots__ = ()

        def __repr__(self):
            return (f"torch.return_types.{name}(\nvalues={self.values!r},\n"
                    f"indices={self.indices!r})")
    ReturnType.__name__ = name
    ReturnType.__qualname__ = f"return_types.{name}"
    return ReturnType


return_types = {n: _return_type(n) for n in ("max", "min", "sort", "topk", "kthvalue", "median",
                                              "mode", "cummax", "cummin")}


class _MinMax(collections.namedtuple("_MinMax", ["min", "max"])):
    __slots__ = ()

    def __repr__(self):
        return f"torch.return_types.aminmax(\nmin={self.min!r},\nmax={self.max!r})"


_MinMax.__name__ = "aminmax"
_MinMax.__qualname__ = "return_types.aminmax"
return_types["aminmax"] = _MinMax


class _EvenlyDistributed(_ReduceNode):
    """Full max()/min(): ties share the gradient evenly; a nan result sends it to the nans
    (torch's evenly_distribute_backward: zeros elsewhere, exactly)."""
    __slots__ = ()

    def backward(self, g):
        x, y = self.x, self.y
        mask = x.isnan() if bool(y.isnan()) else x == y
        return ((g / mask.sum()).where(mask, 0.0),)


class MaxBackward1(_EvenlyDistributed):
    __slots__ = ()


class MinBackward1(_EvenlyDistributed):
    __slots__ = ()


class AmaxBackward0(_ReduceNode):
    """amax/amin: torch's scale_grad_by_count, (grad / count) * (x == result)."""
    __slots__ = ()

    def backward(self, g):
        x, y = self.x, self.y
        y = _expand_back(y, self.shape, self.dims, self.keepdim)
        mask = x == y
        g = _expand_back(g, self.shape, self.dims, self.keepdim)
        return ((g / mask.sum(self.dims, keepdim=True)) * mask,)


class AminBackward0(AmaxBackward0):
    __slots__ = ()


class _SelectedIndex(_ReduceNode):
    """max/min along a dim: the gradient goes to the selected index only."""
    __slots__ = ()

    def backward(self, g):
        dim = self.dims[0]
        idx = self.y
        if not self.keepdim and self.shape:
            g = g.unsqueeze(dim)
            idx = idx.unsqueeze(dim)
        if not self.shape:
            return (g.clone(),)
        return (g.new_zeros(self.shape).scatter(dim, idx, g),)


class MaxBackward0(_SelectedIndex):
    __slots__ = ()


class MinBackward0(_SelectedIndex):
    __slots__ = ()


def _extreme(name, prim, arg_prim, full_node, dim_node, input, dim, keepdim):
    if isinstance(dim, Tensor):  # torch.max(a, b) is maximum
        from .binary import maximum, minimum
        return (maximum if name == "max" else minimum)(input, dim)
    if dim is None:
        if input.numel() == 0:
            raise RuntimeError(f"{name}(): Expected reduction dim to be specified for "
                               "input.numel() == 0. Specify the reduction dim with the 'dim' "
                               "argument.")
        dims = tuple(range(input.ndim))
        res = _reduce(prim, input, dims, False, input._dtype)
        if needs_grad(input):
            node = full_node((edge(input),), (input, res.detach()))
            node.shape, node.dims, node.keepdim = input._shape, dims, False
            node.x, node.y = input, res.detach()
            attach(res, node)
        return res
    d = _wrap_dim(dim, input.ndim)
    if input._shape and input._shape[d] == 0:
        raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")
    values = _reduce(prim, input, (d,) if input._shape else (), keepdim, input._dtype)
    indices = _argreduce(arg_prim, input, d, keepdim)
    if needs_grad(input):
        node = dim_node((edge(input),), (indices,))
        node.shape, node.dims, node.keepdim, node.y = input._shape, (d,), keepdim, indices
        attach(values, node)
    return return_types[name](values, indices)


def max(input: Tensor, dim: int | Tensor | None = None, keepdim: bool = False, *,
        axis: int | None = None):
    """Maximum of all elements; or (values, indices) along ``dim``; or maximum(a, b)."""
    if axis is not None:
        dim = dim_or_axis("max", dim, axis)
    return _extreme("max", "max", "argmax", MaxBackward1, MaxBackward0, input, dim, keepdim)


def min(input: Tensor, dim: int | Tensor | None = None, keepdim: bool = False, *,
        axis: int | None = None):
    """Minimum of all elements; or (values, indices) along ``dim``; or minimum(a, b)."""
    if axis is not None:
        dim = dim_or_axis("min", dim, axis)
    return _extreme("min", "min", "argmin", MinBackward1, MinBackward0, input, dim, keepdim)


def _amax(name, prim, node_cls, input, dim, keepdim):
    if dim in ((), None) and input.numel() == 0:
        raise RuntimeError(f"{name}(): Expected reduction dim to be specified for "
                           "input.numel() == 0. Specify the reduction dim with the 'dim' "
                           "argument.")
    dims = reduce_dims(dim if dim != () else None, input.ndim)
    for d in dims:
        if input._shape[d] == 0:
            raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")
    res = _reduce(prim, input, dims, keepdim, input._dtype)
    if needs_grad(input):
        node = node_cls((edge(input),), (input, res.detach()))
        node.shape, node.dims, node.keepdim = input._shape, dims, keepdim
        node.x, node.y = input, res.detach()
        attach(res, node)
    return res


def amax(input: Tensor, dim: int | Sequence[int] = (), keepdim: bool = False, *,
         axis: int | Sequence[int] | None = None) -> Tensor:
    """Maximum over ``dim`` (all by default, several allowed); the gradient is shared
    evenly between tied maxima, as torch."""
    if axis is not None:
        dim = dim_or_axis("amax", dim, axis, ())
    return _amax("amax", "max", AmaxBackward0, input, dim, keepdim)


def amin(input: Tensor, dim: int | Sequence[int] = (), keepdim: bool = False, *,
         axis: int | Sequence[int] | None = None) -> Tensor:
    """Minimum over ``dim`` (all by default, several allowed); the gradient is shared
    evenly between tied minima, as torch."""
    if axis is not None:
        dim = dim_or_axis("amin", dim, axis, ())
    return _amax("amin", "min", AminBackward0, input, dim, keepdim)


def _argreduce(prim, input, dim, keepdim):
    dev = input._device
    if dim is None:
        flat = input.reshape(-1)
        return _from_buffer(getattr(dev.ops, prim)(flat._data, 0, False), (), D.int64, dev)
    if not input._shape:
        return _from_buffer(dev.ops.full((), 0, "int64"), (), D.int64, dev)
    shape = _out_shape(input._shape, (dim,), keepdim)
    return _from_buffer(getattr(dev.ops, prim)(input._data, dim, keepdim), shape, D.int64, dev)


def _arg_extreme(name, input, dim, keepdim):
    """argmax/argmin: into the flattened tensor when ``dim`` is None (as torch)."""
    if input._dtype is D.bool_:
        raise RuntimeError(f"{name}(): does not support bool input")
    d = None if dim is None else _wrap_dim(dim, input.ndim)
    if input.numel() == 0:   # only the reduced dim must be non-empty (torch)
        if d is None:
            raise IndexError(f"{name}(): Expected reduction dim to be specified for "
                             "input.numel() == 0.")
        if input._shape and input._shape[d] == 0:
            raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")
    res = _argreduce(name, input, d, keepdim)
    if dim is None and keepdim:
        res = res.reshape((1,) * input.ndim)
    return res


def argmax(input: Tensor, dim: int | None = None, keepdim: bool = False, *,
           axis: int | None = None) -> Tensor:
    """Index of the first maximum (nan counts as the maximum)."""
    if axis is not None:
        dim = dim_or_axis("argmax", dim, axis)
    return _arg_extreme("argmax", input, dim, keepdim)


def argmin(input: Tensor, dim: int | None = None, keepdim: bool = False, *,
           axis: int | None = None) -> Tensor:
    """Index of the first minimum (nan counts as the minimum)."""
    if axis is not None:
        dim = dim_or_axis("argmin", dim, axis)
    return _arg_extreme("argmin", input, dim, keepdim)


def aminmax(input, *, dim=None, keepdim=False):
    """(min, max) in one call; both outputs' grad_fn is AminmaxBackward0, as torch."""
    d = () if dim is None else dim
    return return_types["aminmax"](named(amin(input, d, keepdim), "AminmaxBackward0"),
                                   named(amax(input, d, keepdim), "AminmaxBackward0"))

# -------------------------------------------------------------------------- any / all


def _truthy(input):
    if input._dtype is D.bool_:
        return input
    return input != 0


def any(input: Tensor, dim: int | Sequence[int] | None = None, keepdim: bool = False, *,
        axis: int | Sequence[int] | None = None) -> Tensor:
    """True where any element is non-zero; uint8 inputs give uint8, as torch."""
    if axis is not None:
        dim = dim_or_axis("any", dim, axis)
    return _logical_reduce("any", input, dim, keepdim)


def all(input: Tensor, dim: int | Sequence[int] | None = None, keepdim: bool = False, *,
        axis: int | Sequence[int] | None = None) -> Tensor:
    """True where every element is non-zero; uint8 inputs give uint8, as torch."""
    if axis is not None:
        dim = dim_or_axis("all", dim, axis)
    return _logical_reduce("all", input, dim, keepdim)


def _logical_reduce(prim, input, dim, keepdim):
    dims = reduce_dims(dim, input.ndim)
    res = _reduce(prim, _truthy(input), dims, keepdim, D.bool_)
    if input._dtype is D.uint8:
        res = _from_buffer(res._device.ops.cast(res._data, "uint8"), res._shape, D.uint8, res._device)
    return res


def count_nonzero(input, dim=None):
    """Number of non-zero elements over ``dim`` (all by default), as int64."""
    return sum(_truthy(input), dim)

# ---------------------------------------------------------------- var / std / norms


def _correction(unbiased, correction):
    if correction is not None:
        return correction
    if unbiased is None:
        return 1
    return 1 if unbiased else 0


class VarBackward0(_ReduceNode):
    """torch's var_backward: (2 / (n - correction)) * grad * (x - mean(x)); for a full
    reduction with no degrees of freedom, nan where x equals its mean and inf elsewhere."""
    __slots__ = ("correction", "full")

    def backward(self, g):
        return (_var_backward(g, self.x, self),)


def _var_backward(g, x, node):
    n = 1
    for d in node.dims:
        n *= node.shape[d] if node.shape else 1
    dof = n - node.correction
    if node.full:
        centered = x - x.mean()
        if dof <= 0:    # torch's (2 / 0) * g * centered: +-inf, and nan where centered is 0/nan
            return g * (centered * math.inf)
        return (2.0 / dof) * g * centered
    g = _expand_back(g, node.shape, node.dims, node.keepdim)
    scale = 2.0 / dof if dof != 0 else math.inf
    return scale * g * (x - x.mean(node.dims, keepdim=True))


class StdBackward0(VarBackward0):
    """torch's std_backward: var_backward(grad / (2 * result)), zero where result is 0."""
    __slots__ = ()

    def backward(self, g):
        y = self.y
        if is_grad_enabled():
            y = _var_value(self.x, self.dims, self.correction, self.keepdim, sqrt=True)
        return (_var_backward((g / (y * 2)).masked_fill(y == 0, 0), self.x, self),)


def _correction(unbiased, correction):
    if correction is not None:
        return correction
    if unbiased is None:
        return 1
    return 1 if unbiased else 0


def _var_args(input, dim, unbiased, correction, name="var"):
    if isinstance(dim, bool):
        dim, unbiased = None, dim
    if not input._dtype.is_floating_point:
        raise RuntimeError("std and var only support floating point and complex dtypes")
    corr = _correction(unbiased, correction)
    dims = reduce_dims(dim, input.ndim)
    n = 1
    for d in dims:
        n *= input._shape[d] if input._shape else 1
    if n - corr <= 0:
        warnings.warn(f"{name}(): degrees of freedom is <= 0. Correction should be strictly less "
                      "than the reduction factor (input numel divided by output numel).",
                      UserWarning, stacklevel=4)
    return dim, dims, corr


def _var_value(input, dims, corr, keepdim, sqrt=False):
    """sum((x - mean)^2) / max(0, n - correction) (its sqrt with ``sqrt``).

    The corrected two-pass algorithm (Chan, Golub & LeVeque): the mean, rounded to the
    dtype, is off by up to half an ulp of its magnitude -- 0.5 for data near 1e7 in float32,
    which adds 0.25 to a variance of 1 -- so sum(x - mean)^2 is reduced by sum(x - mean)^2 / n,
    which cancels that error to first order (torch accumulates var in double on the CPU)."""
    if input._dtype in (D.float16, D.bfloat16):
        # torch accumulates half in float and rounds once: var([296, 0, 0, 0]) is 21904,
        # std([512, 0]) is 256 -- not overflows of a float16 sum of squares or variance
        return _var_value(input.float(), dims, corr, keepdim, sqrt).to(input._dtype)
    n = 1
    for d in dims:
        n *= input._shape[d] if input._shape else 1
    axes = dims if input._shape else None
    centered = input - mean(input, axes, keepdim=True)
    squares = (centered * centered).sum(axes, keepdim=keepdim)
    if n:
        shift = centered.sum(axes, keepdim=keepdim)
        squares = (squares - shift * shift / n).clamp_min(0)
    dof = n - corr
    var = squares / (float(dof) if dof > 0 else 0.0)
    return var.sqrt() if sqrt else var


def _var_like(cls, input, dim, unbiased, keepdim, correction):
    dim, dims, corr = _var_args(input, dim, unbiased, correction,
                                "std" if cls is StdBackward0 else "var")
    with _no_grad():
        res = _var_value(input, dims, corr, keepdim, sqrt=cls is StdBackward0)
    res = _from_buffer(res._data, res._shape, res._dtype, res._device)
    if needs_grad(input):
        alias = res.detach()
        node = cls((edge(input),), (input, alias))
        node.shape, node.dims, node.keepdim = input._shape, dims, keepdim
        node.x, node.y, node.correction = input, alias, corr
        node.full = dim is None or not input._shape
        attach(res, node)
    return res


def var(input: Tensor, dim: int | Sequence[int] | None = None, unbiased: bool | None = None,
        keepdim: bool = False, *, correction: float | None = None,
        axis: int | Sequence[int] | None = None) -> Tensor:
    """Variance with Bessel's correction by default (``correction=1``), as torch."""
    if axis is not None:
        dim = dim_or_axis("var", dim, axis)
    return _var_like(VarBackward0, input, dim, unbiased, keepdim, correction)


def std(input: Tensor, dim: int | Sequence[int] | None = None, unbiased: bool | None = None,
        keepdim: bool = False, *, correction: float | None = None,
        axis: int | Sequence[int] | None = None) -> Tensor:
    """Standard deviation, sqrt(var); its gradient is zero where it is zero (as torch)."""
    if axis is not None:
        dim = dim_or_axis("std", dim, axis)
    return _var_like(StdBackward0, input, dim, unbiased, keepdim, correction)


def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """(variance, mean) over ``dim``, with Bessel's correction by default."""
    mdim = None if isinstance(dim, bool) else dim
    return (named(var(input, dim, unbiased, keepdim, correction=correction), "VarMeanBackward0"),
            named(mean(input, mdim, keepdim), "VarMeanBackward0"))


def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """(standard deviation, mean) over ``dim``, with Bessel's correction by default."""
    mdim = None if isinstance(dim, bool) else dim
    return (named(std(input, dim, unbiased, keepdim, correction=correction), "StdMeanBackward0"),
            named(mean(input, mdim, keepdim), "StdMeanBackward0"))


class LogsumexpBackward0(_ReduceNode):
    """grad * exp(x - result) (torch's logsumexp_backward)."""
    __slots__ = ()

    def backward(self, g):
        y = self.y
        if is_grad_enabled():
            y = logsumexp(self.x, self.dims, self.keepdim)
        g = _expand_back(g, self.shape, self.dims, self.keepdim)
        y = _expand_back(y, self.shape, self.dims, self.keepdim)
        return (g * (self.x - y).exp(),)


def logsumexp(input: Tensor, dim: int | Sequence[int], keepdim: bool = False) -> Tensor:
    """log(sum(exp(x))) computed stably by shifting with the maximum."""
    dims = reduce_dims(dim, input.ndim) if input._shape else ()
    if not input._shape:
        _wrap_dim(dim if not isinstance(dim, (list, tuple)) else (dim or [0])[0], 0)
    if not input._dtype.is_floating_point:
        input = input.to(D.get_default_dtype())
    with _no_grad():
        if not input._shape:
            total = input.clone()
        elif input.numel() == 0:
            total = input.exp().sum(dims, keepdim).log()
        else:
            m = amax(input, dims, keepdim=True)
            m = m.masked_fill(m.isinf(), 0)
            total = (input - m).exp().sum(dims, keepdim=True).log() + m
            if not keepdim:
                total = total.reshape(_out_shape(input._shape, dims, False))
    res = _from_buffer(total._data, total._shape, total._dtype, total._device)
    if needs_grad(input):
        alias = res.detach()
        node = LogsumexpBackward0((edge(input),), (input, alias))
        node.shape, node.dims, node.keepdim = input._shape, dims, keepdim
        node.x, node.y = input, alias
        attach(res, node)
    return res


class LinalgVectorNormBackward0(_ReduceNode):
    """torch's norm_backward, case by case (p = 0 has no gradient at all)."""
    __slots__ = ("p",)

    def backward(self, g):
        x, y, p = self.x, self.y, self.p
        if p == 0:
            return (None,)
        if is_grad_enabled():
            y = norm(x, p, self.dims, self.keepdim)
        g = _expand_back(g, self.shape, self.dims, self.keepdim)
        y = _expand_back(y, self.shape, self.dims, self.keepdim)
        if p == 1:
            return (x.sign() * g,)
        if p == 2:
            return (g * (x / y).masked_fill(y == 0, 0),)
        if math.isinf(p):
            a = x.abs()
            mask = (a == y).logical_or(a.isnan())
            return (x.sign() * ((g / mask.sum(self.dims, keepdim=True)) * mask),)
        if p < 1:
            scaled = x.sign() * x.abs().pow(p - 1).masked_fill(x == 0, 0)
            return (scaled * g * y.pow(1 - p),)
        scaled = x.sign() * x.abs().pow(p - 1) if p < 2 else x * x.abs().pow(p - 2)
        return (scaled * (g / y.pow(p - 1)).masked_fill(y == 0, 0),)


def norm(input, p="fro", dim=None, keepdim=False, dtype=None):
    """Vector p-norm over ``dim`` (all elements by default); 'fro' is the 2-norm."""
    if p == "fro" or p is None:
        p = 2
    if p == "nuc":
        raise NotImplementedError("nuclear norm is not supported")
    if isinstance(p, str):
        raise RuntimeError(f"linalg.vector_norm: ord must be a number, got {p!r}")
    if input._dtype.is_complex:     # the norm of |z| (abs differentiates in torch's convention)
        input = input.abs()
    if not input._dtype.is_floating_point:
        raise RuntimeError("linalg.vector_norm: Expected a floating point or complex tensor as "
                           f"input. Got {D.legacy_name(input._dtype)}")
    if dtype is not None:
        input = input.to(dtype)
    dims = reduce_dims(dim, input.ndim)
    with _no_grad():
        a = input.abs()
        wide = a._dtype in (D.float16, D.bfloat16)
        if wide:        # torch sums half in float: norm([256]) is 256, not sqrt(inf)
            a = a.float()
        if not input._shape:
            res = a.clone() if p != 0 else (a != 0).to(input._dtype)
        elif p == 2:
            res = _scaled_norm(a, dims, keepdim, lambda v: (v * v).sum(dims, True).sqrt())
        elif p == 1:
            res = a.sum(dims, keepdim)
        elif p == 0:
            res = (a != 0).to(input._dtype).sum(dims, keepdim)
        elif math.isinf(p):
            res = (a.amax if p > 0 else a.amin)(dims, keepdim)
        else:
            res = _scaled_norm(a, dims, keepdim,
                               lambda v: v.pow(p).sum(dims, True).pow(1.0 / p))
        if wide:
            res = res.to(input._dtype)
    res = _from_buffer(res._data, res._shape, res._dtype, res._device)
    if needs_grad(input):
        alias = res.detach()
        node = LinalgVectorNormBackward0((edge(input),), (input, alias))
        node.shape, node.dims, node.keepdim = input._shape, dims, keepdim
        node.x, node.y, node.p = input, alias, p
        attach(res, node)
    return res


def _scaled_norm(a, dims, keepdim, norm_of):
    """max|x| * norm(x / max|x|): |x|**p under- or overflows long before the norm does
    (norm([3e-23]) in float32 read 3.74e-23 through the denormal 9e-46)."""
    from .ternary import where
    if a.numel() == 0:          # (amax of nothing raises; the norm of nothing is 0)
        res = norm_of(a)
    else:
        m = a.amax(dims, True)
        scale = where((m > 0) & m.isfinite(), m, 1.0)
        res = norm_of(a / scale) * scale
    return res if keepdim else res.reshape(_out_shape(a._shape, dims, False))


def _no_grad():
    from ..autograd.grad_mode import no_grad
    return no_grad()

# ------------------------------------------------------------------------------ scans


class CumsumBackward0(_ReduceNode):
    __slots__ = ()

    def backward(self, g):
        d = self.dims[0]
        return (g.flip(d).cumsum(d).flip(d),)


def _scan(prim, node_cls, input, dim, dtype):
    d = _wrap_dim(dim, input.ndim)
    if dtype is not None and dtype is not input._dtype:
        input = input.to(dtype)      # the gradient flows back through the cast
    out_dtype = input._dtype if input._dtype.is_floating_point else D.int64
    dev = input._device
    data = input._data if input._dtype is out_dtype else dev.ops.cast(input._data,
                                                                       out_dtype.name)
    if not input._shape:
        data = dev.ops.copy(data)
    elif out_dtype in (D.float16, D.bfloat16):
        # torch accumulates half scans in float and rounds each output: cumprod([256, 256,
        # 0]) is [256, inf, 0], not inf * 0 = nan
        wide = getattr(dev.ops, prim)(dev.ops.cast(data, "float32"), d)
        data = dev.ops.cast(wide, out_dtype.name)
    else:
        data = getattr(dev.ops, prim)(data, d)
    res = _from_buffer(data, input._shape, out_dtype, dev)
    if needs_grad(input):
        alias = res.detach()
        node = node_cls((edge(input),), (input, alias) if node_cls is CumprodBackward0 else ())
        node.dims, node.shape = (d,), input._shape
        if node_cls is CumprodBackward0:
            node.x, node.y = input, alias
        attach(res, node)
    return res


def cumsum(input, dim, *, dtype=None):
    """Inclusive running sum along ``dim`` (integers accumulate as int64)."""
    return _scan("cumsum", CumsumBackward0, input, dim, dtype)


class CumprodBackward0(_ReduceNode):
    """Gradient of a running product. Without zeros: reverse-cumsum(g * y) / x (torch's fast
    path); with zeros, the exact sum over j >= i of g_j * prod_{k <= j, k != i} x_k."""
    __slots__ = ()

    def backward(self, g):
        x = self.x
        if not x._shape or x._shape[self.dims[0]] <= 1:
            return (g,)         # as torch: the product of one element (so inf gives 1)
        d = self.dims[0]
        if not bool((x == 0).any()):
            y = cumprod(x, d) if is_grad_enabled() else self.y
            return ((g * y).flip(d).cumsum(d).flip(d) / x,)
        return (_cumprod_backward_exact(g, x, d),)


def _cumprod_backward_exact(g, x, d):
    from .creation import arange
    n = x._shape[d]
    xm, gm = x.movedim(d, -1), g.movedim(d, -1)
    i = arange(n, device=x._device).reshape(n, 1)
    j = arange(n, device=x._device).reshape(1, n)
    # row i: the running product over k > i, with x_k for k <= i replaced by 1
    rows = xm.unsqueeze(-2).expand(*xm._shape[:-1], n, n).where(j > i, 1.0)
    after = rows.cumprod(-1)
    before = _exclusive_cumprod(xm)
    total = (gm.unsqueeze(-2) * after).where(j >= i, 0.0).sum(-1)
    return (before * total).movedim(-1, d)


def _exclusive_cumprod(x):
    from .movement import cat
    one = x.new_ones(x._shape[:-1] + (1,))
    return cat([one, x.narrow(-1, 0, x._shape[-1] - 1)], -1).cumprod(-1)


def cumprod(input, dim, *, dtype=None):
    """Inclusive running product along ``dim``."""
    return _scan("cumprod", CumprodBackward0, input, dim, dtype)
