"""Reductions and scans: sum, mean, prod, max/min, arg-extrema, any/all, var/std, norms, cumsum.

Backends reduce over a tuple of axes keeping dtype; the frontend picks torch's output dtype
(sums of ints are int64, mean of ints is an error), normalises dims and writes backwards.
"""
from __future__ import annotations

import collections
import math
import warnings

from .. import _dtype as D
from .._tensor import Tensor, _make, _wrap_dim
from ..autograd.node import Node
from ._graph import attach, edge, named, needs_grad


def reduce_dims(dim, ndim):
    """Normalise ``dim`` (None, int or sequence) to a sorted tuple of unique axes."""
    if dim is None:
        return tuple(range(ndim))
    if isinstance(dim, (list, tuple)):
        dims = tuple(sorted({_wrap_dim(d, ndim) for d in dim}))
        if len(dims) != len(dim):
            raise RuntimeError(f"dim {dim} appears multiple times in the list of dims")
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
        return _make(dev.ops.copy(data), (), dtype, dev)
    return _make(getattr(dev.ops, prim)(data, dims, keepdim), _out_shape(x._shape, dims, keepdim),
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


def sum(input, dim=None, keepdim=False, *, dtype=None):
    """Sum over ``dim`` (all dims by default); integer and bool inputs sum as int64."""
    if isinstance(dim, D.dtype):
        dim, dtype = None, dim
    out_dtype = dtype or (input._dtype if input._dtype.is_floating_point else D.int64)
    dims = reduce_dims(dim, input.ndim)
    res = _reduce("sum", input, dims, keepdim, out_dtype)
    if needs_grad(input):
        node = (SumBackward0 if dim is None else SumBackward1)((edge(input),))
        node.shape, node.dims, node.keepdim = input._shape, dims, keepdim
        attach(res, node)
    return res


class MeanBackward0(_ReduceNode):
    __slots__ = ()

    def backward(self, g):
        return (_expand_back(g, self.shape, self.dims, self.keepdim) / self.count,)


class MeanBackward1(MeanBackward0):
    __slots__ = ()


def mean(input, dim=None, keepdim=False, *, dtype=None):
    """Arithmetic mean; floating dtypes only (as torch)."""
    if isinstance(dim, D.dtype):
        dim, dtype = None, dim
    out_dtype = dtype or input._dtype
    if not out_dtype.is_floating_point:
        raise RuntimeError("mean(): could not infer output dtype. Input dtype must be either a "
                           f"floating point or complex dtype. Got: {_legacy_name(input._dtype)}")
    dims = reduce_dims(dim, input.ndim)
    count = 1
    for d in dims:
        count *= input._shape[d]
    total = _reduce("sum", input, dims, keepdim, out_dtype)
    dev = total._device
    res = _make(dev.ops.div(total._data, float(count) if count else float("nan")), total._shape,
                out_dtype, dev)
    if needs_grad(input):
        node = (MeanBackward0 if dim is None else MeanBackward1)((edge(input),))
        node.shape, node.dims, node.keepdim, node.count = input._shape, dims, keepdim, count
        attach(res, node)
    return res


def _legacy_name(dt):
    return {"int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte",
            "bool": "Bool", "float32": "Float", "float64": "Double", "float16": "Half",
            "bfloat16": "BFloat16"}[dt.name]


def nansum(input, dim=None, keepdim=False, *, dtype=None):
    return sum(input.masked_fill(input.isnan(), 0), dim, keepdim, dtype=dtype)


def nanmean(input, dim=None, keepdim=False, *, dtype=None):
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
    ones_shape = list(x._shape)
    ones_shape[dim] = 1
    from .movement import cat
    one = x.new_ones(ones_shape)
    left = cat([one, x.narrow(dim, 0, n - 1)], dim).cumprod(dim)
    right = cat([one, x.flip(dim).narrow(dim, 0, n - 1)], dim).cumprod(dim).flip(dim)
    return left * right


def prod(input, dim=None, keepdim=False, *, dtype=None):
    out_dtype = dtype or (input._dtype if input._dtype.is_floating_point else D.int64)
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
                                              "mode", "cummax", "cummin", "aminmax")}


class _EvenlyDistributed(_ReduceNode):
    """Full max/min and amax/amin: ties share the gradient evenly (as torch)."""
    __slots__ = ()

    def backward(self, g):
        x, y = self.x, self.y
        y = y.reshape(_kept_shape(self.shape, self.dims)) if not self.keepdim else y
        mask = (x == y)
        count = mask.sum(self.dims, keepdim=True)
        return (_expand_back(g, self.shape, self.dims, self.keepdim) * mask / count,)


class MaxBackward1(_EvenlyDistributed):
    __slots__ = ()


class MinBackward1(_EvenlyDistributed):
    __slots__ = ()


class AmaxBackward0(_EvenlyDistributed):
    __slots__ = ()


class AminBackward0(_EvenlyDistributed):
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


def max(input, dim=None, keepdim=False):
    """Maximum of all elements; or (values, indices) along ``dim``; or maximum(a, b)."""
    return _extreme("max", "max", "argmax", MaxBackward1, MaxBackward0, input, dim, keepdim)


def min(input, dim=None, keepdim=False):
    return _extreme("min", "min", "argmin", MinBackward1, MinBackward0, input, dim, keepdim)


def _amax(name, prim, node_cls, input, dim, keepdim):
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


def amax(input, dim=(), keepdim=False):
    return _amax("amax", "max", AmaxBackward0, input, dim, keepdim)


def amin(input, dim=(), keepdim=False):
    return _amax("amin", "min", AminBackward0, input, dim, keepdim)


def _argreduce(prim, input, dim, keepdim):
    dev = input._device
    if dim is None:
        flat = input.reshape(-1)
        return _make(getattr(dev.ops, prim)(flat._data, 0, False), (), D.int64, dev)
    if not input._shape:
        return _make(dev.ops.full((), 0, "int64"), (), D.int64, dev)
    shape = _out_shape(input._shape, (dim,), keepdim)
    return _make(getattr(dev.ops, prim)(input._data, dim, keepdim), shape, D.int64, dev)


def argmax(input, dim=None, keepdim=False):
    """Index of the maximum, into the flattened tensor when ``dim`` is None (as torch)."""
    if input.numel() == 0:
        raise RuntimeError("argmax(): Expected reduction dim to be specified for input.numel() "
                           "== 0.")
    d = None if dim is None else _wrap_dim(dim, input.ndim)
    res = _argreduce("argmax", input, d, keepdim)
    if dim is None and keepdim:
        res = res.reshape((1,) * input.ndim)
    return res


def argmin(input, dim=None, keepdim=False):
    if input.numel() == 0:
        raise RuntimeError("argmin(): Expected reduction dim to be specified for input.numel() "
                           "== 0.")
    d = None if dim is None else _wrap_dim(dim, input.ndim)
    res = _argreduce("argmin", input, d, keepdim)
    if dim is None and keepdim:
        res = res.reshape((1,) * input.ndim)
    return res


def aminmax(input, *, dim=None, keepdim=False):
    ret = collections.namedtuple("aminmax", ["min", "max"])
    return ret(amin(input, () if dim is None else dim, keepdim),
               amax(input, () if dim is None else dim, keepdim))

# -------------------------------------------------------------------------- any / all


def _truthy(input):
    if input._dtype is D.bool_:
        return input
    return input != 0


def any(input, dim=None, keepdim=False):
    dims = reduce_dims(dim, input.ndim)
    return _reduce("any", _truthy(input), dims, keepdim, D.bool_)


def all(input, dim=None, keepdim=False):
    dims = reduce_dims(dim, input.ndim)
    return _reduce("all", _truthy(input), dims, keepdim, D.bool_)


def count_nonzero(input, dim=None):
    return sum(_truthy(input), dim)

# ---------------------------------------------------------------- var / std / norms


def _correction(unbiased, correction):
    if correction is not None:
        return correction
    if unbiased is None:
        return 1
    return 1 if unbiased else 0


def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """Variance with Bessel's correction by default (``correction=1``), as torch."""
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
        warnings.warn("var(): degrees of freedom is <= 0. Correction should be strictly less "
                      "than the reduction factor (input numel divided by output numel).",
                      UserWarning, stacklevel=3)
    centered = input - mean(input, dims if input._shape else None, keepdim=True)
    squares = (centered * centered).sum(dims if input._shape else None, keepdim=keepdim)
    return named(squares / _dof(n, corr), "VarBackward0")


def _dof(n, corr):
    dof = n - corr
    return float(dof) if dof > 0 else (float("nan") if dof == 0 and n == 0 else
                                       (0.0 if dof == 0 else float(dof)))


def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    v = var(input, dim, unbiased, keepdim, correction=correction)
    return named(v.sqrt(), "StdBackward0")


def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    return (var(input, dim, unbiased, keepdim, correction=correction),
            mean(input, dim, keepdim))


def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    return (std(input, dim, unbiased, keepdim, correction=correction),
            mean(input, dim, keepdim))


def logsumexp(input, dim, keepdim=False):
    """log(sum(exp(x))) computed stably by shifting with the (detached) maximum."""
    dims = reduce_dims(dim, input.ndim)
    if not input._dtype.is_floating_point:
        input = input.to(D.get_default_dtype())
    if input.numel() == 0:
        return named(input.exp().sum(dims, keepdim).log(), "LogsumexpBackward0")
    m = amax(input.detach(), dims, keepdim=True)
    m = m.masked_fill(m.isinf(), 0)
    total = (input - m).exp().sum(dims, keepdim=True).log() + m
    if not keepdim:
        total = total.squeeze(dims) if dims else total
    return named(total, "LogsumexpBackward0")


class LinalgVectorNormBackward0(_ReduceNode):
    """p-norm gradient; zero where the norm is zero (as torch), evenly split for inf."""
    __slots__ = ("p",)

    def backward(self, g):
        x, y, p = self.x, self.y, self.p
        g = _expand_back(g, self.shape, self.dims, self.keepdim)
        y = _expand_back(y, self.shape, self.dims, self.keepdim)
        if p == 0:
            return (g * 0,)
        if p == 1:
            return (g * x.sign(),)
        if p == 2:
            return (g * (x / y).masked_fill(y == 0, 0),)
        if math.isinf(p):
            mask = (x.abs() == y)
            count = mask.sum(self.dims, keepdim=True)
            return (g * x.sign() * mask / count,)
        scale = x * x.abs().pow(p - 2) / y.pow(p - 1)
        return (g * scale.masked_fill(y == 0, 0),)


def norm(input, p="fro", dim=None, keepdim=False, dtype=None):
    """Vector p-norm over ``dim`` (all elements by default); 'fro' is the 2-norm."""
    if p == "fro" or p is None:
        p = 2
    if p == "nuc":
        raise NotImplementedError("nuclear norm is not supported")
    if not input._dtype.is_floating_point:
        raise RuntimeError("linalg.vector_norm: Expected a floating point or complex tensor as "
                           f"input. Got {_legacy_name(input._dtype)}")
    dims = reduce_dims(dim, input.ndim)
    with _no_grad():
        a = input.abs()
        if p == 2:
            res = (a * a).sum(dims, keepdim).sqrt()
        elif p == 1:
            res = a.sum(dims, keepdim)
        elif p == 0:
            res = (a != 0).to(input._dtype).sum(dims, keepdim)
        elif math.isinf(p):
            res = (a.amax if p > 0 else a.amin)(dims, keepdim)
        else:
            res = a.pow(p).sum(dims, keepdim).pow(1.0 / p)
    res = _make(res._data, res._shape, res._dtype, res._device)
    if needs_grad(input):
        node = LinalgVectorNormBackward0((edge(input),), (input,))
        node.shape, node.dims, node.keepdim = input._shape, dims, keepdim
        node.x, node.y, node.p = input, res.detach(), p
        attach(res, node)
    return res


def _no_grad():
    from ..autograd.grad_mode import no_grad
    return no_grad()

# ------------------------------------------------------------------------------ scans


class CumsumBackward0(_ReduceNode):
    __slots__ = ()

    def backward(self, g):
        d = self.dims[0]
        return (g.flip(d).cumsum(d).flip(d),)


def cumsum(input, dim, *, dtype=None):
    d = _wrap_dim(dim, input.ndim)
    out_dtype = dtype or (input._dtype if input._dtype.is_floating_point else D.int64)
    dev = input._device
    data = input._data if input._dtype is out_dtype else dev.ops.cast(input._data,
                                                                       out_dtype.name)
    if not input._shape:
        return _make(dev.ops.copy(data), (), out_dtype, dev)
    res = _make(dev.ops.cumsum(data, d), input._shape, out_dtype, dev)
    if needs_grad(input):
        node = CumsumBackward0((edge(input),))
        node.dims = (d,)
        attach(res, node)
    return res


class CumprodBackward0(_ReduceNode):
    """Gradient for inputs without zeros: reverse-cumsum(g * y) / x."""
    __slots__ = ()

    def backward(self, g):
        d = self.dims[0]
        x, y = self.x, self.y
        return ((g * y).flip(d).cumsum(d).flip(d) / x,)


def cumprod(input, dim, *, dtype=None):
    d = _wrap_dim(dim, input.ndim)
    out_dtype = dtype or (input._dtype if input._dtype.is_floating_point else D.int64)
    dev = input._device
    data = input._data if input._dtype is out_dtype else dev.ops.cast(input._data,
                                                                       out_dtype.name)
    if not input._shape:
        return _make(dev.ops.copy(data), (), out_dtype, dev)
    res = _make(dev.ops.cumprod(data, d), input._shape, out_dtype, dev)
    if needs_grad(input):
        node = CumprodBackward0((edge(input),), (input,))
        node.dims, node.x, node.y = (d,), input, res.detach()
        attach(res, node)
    return res
