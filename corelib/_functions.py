"""The ``torch.*`` function namespace, gathered from the op modules."""
from __future__ import annotations

from . import _dtype as D
from ._tensor import Tensor
from .ops import (activation, binary, conversion, creation, indexing, linalg, math_extra,
                  movement, reduce, stats, unary, views)
from .ops._graph import named as _named
from .ops._operands import broadcast_shapes as _broadcast_pair
from .ops.inplace import can_cast

# creation
tensor = creation.tensor
as_tensor = creation.as_tensor
asarray = creation.as_tensor
from_numpy = creation.from_numpy
from_dlpack = creation.from_dlpack
zeros, ones, empty, full = creation.zeros, creation.ones, creation.empty, creation.full
zeros_like, ones_like = creation.zeros_like, creation.ones_like
empty_like, full_like = creation.empty_like, creation.full_like
arange, linspace, logspace, eye = creation.arange, creation.linspace, creation.logspace, \
    creation.eye
rand, randn, randint, randperm = creation.rand, creation.randn, creation.randint, \
    creation.randperm
rand_like, randn_like, randint_like = creation.rand_like, creation.randn_like, \
    creation.randint_like
bernoulli, normal, multinomial = creation.bernoulli, creation.normal, creation.multinomial

tril_indices, triu_indices = creation.tril_indices, creation.triu_indices

# elementwise
add, sub, subtract, mul, multiply = binary.add, binary.sub, binary.sub, binary.mul, binary.mul
div, divide, true_divide = binary.div, binary.div, binary.true_divide
floor_divide, remainder, fmod = binary.floor_divide, binary.remainder, binary.fmod
pow, square, rsub = binary.pow, binary.square, binary.rsub
maximum, minimum, atan2, arctan2 = binary.maximum, binary.minimum, binary.atan2, binary.atan2
eq, ne, lt, le, gt, ge = binary.eq, binary.ne, binary.lt, binary.le, binary.gt, binary.ge
greater, greater_equal, less, less_equal, not_equal = binary.gt, binary.ge, binary.lt, \
    binary.le, binary.ne
logical_and, logical_or, logical_xor = binary.logical_and, binary.logical_or, \
    binary.logical_xor
bitwise_and, bitwise_or, bitwise_xor = binary.bitwise_and, binary.bitwise_or, \
    binary.bitwise_xor
allclose, isclose, equal = binary.allclose, binary.isclose, binary.eq_all
lerp, addcmul, addcdiv = binary.lerp, binary.addcmul, binary.addcdiv
neg, negative, abs, absolute, sign = unary.neg, unary.neg, unary.abs, unary.abs, unary.sign
exp, exp2, expm1, log, log1p, log2, log10 = unary.exp, unary.exp2, unary.expm1, unary.log, \
    unary.log1p, unary.log2, unary.log10
sqrt, rsqrt, reciprocal = unary.sqrt, unary.rsqrt, unary.reciprocal
sin, cos, tan, asin, acos, atan = unary.sin, unary.cos, unary.tan, unary.asin, unary.acos, \
    unary.atan
arcsin, arccos, arctan = unary.asin, unary.acos, unary.atan
sinh, cosh, tanh, sigmoid, erf = unary.sinh, unary.cosh, unary.tanh, unary.sigmoid, unary.erf
floor, ceil, round, trunc, fix, frac = unary.floor, unary.ceil, unary.round, unary.trunc, \
    unary.trunc, unary.frac
logical_not, bitwise_not = unary.logical_not, unary.bitwise_not
isnan, isinf, isfinite, isposinf, isneginf = unary.isnan, unary.isinf, unary.isfinite, \
    unary.isposinf, unary.isneginf
relu, clamp, clip = activation.relu, activation.clamp, activation.clamp
clamp_min, clamp_max = activation.clamp_min, activation.clamp_max
softmax, log_softmax = activation.softmax, activation.log_softmax
where = indexing.where

erfc, logit, sgn, sinc = math_extra.erfc, math_extra.logit, math_extra.sgn, math_extra.sinc
deg2rad, rad2deg, signbit = math_extra.deg2rad, math_extra.rad2deg, math_extra.signbit
nan_to_num, hypot, xlogy = math_extra.nan_to_num, math_extra.hypot, math_extra.xlogy
logaddexp, logaddexp2 = math_extra.logaddexp, math_extra.logaddexp2
fmax, fmin, copysign = math_extra.fmax, math_extra.fmin, math_extra.copysign
float_power, heaviside, dist = math_extra.float_power, math_extra.heaviside, math_extra.dist

# reductions
sum, nansum, mean, nanmean, prod = reduce.sum, reduce.nansum, reduce.mean, reduce.nanmean, \
    reduce.prod
max, min, amax, amin, aminmax = reduce.max, reduce.min, reduce.amax, reduce.amin, \
    reduce.aminmax
argmax, argmin, any, all = reduce.argmax, reduce.argmin, reduce.any, reduce.all
count_nonzero = reduce.count_nonzero
var, std, var_mean, std_mean = reduce.var, reduce.std, reduce.var_mean, reduce.std_mean
logsumexp, norm, cumsum, cumprod = reduce.logsumexp, reduce.norm, reduce.cumsum, reduce.cumprod

median, nanmedian, kthvalue = stats.median, stats.nanmedian, stats.kthvalue
cummax, cummin, logcumsumexp = stats.cummax, stats.cummin, stats.logcumsumexp
unique, isin = stats.unique, stats.isin

# shape
reshape, flatten, unflatten, ravel = views.reshape, views.flatten, views.unflatten, views.ravel
squeeze, unsqueeze, permute = views.squeeze, views.unsqueeze, views.permute
transpose, swapaxes, swapdims, t = views.transpose, views.transpose, views.transpose, views.t
movedim, moveaxis = views.movedim, views.movedim
broadcast_to, narrow, select = views.broadcast_to, views.narrow, views.select
split, chunk, tensor_split, unbind = views.split, views.chunk, views.tensor_split, views.unbind
diagonal = views.diagonal
clone, flip, fliplr, flipud = movement.clone, movement.flip, movement.fliplr, movement.flipud
cat, concat, concatenate, stack = movement.cat, movement.cat, movement.cat, movement.stack
hstack, vstack, dstack, row_stack = movement.hstack, movement.vstack, movement.dstack, \
    movement.vstack
column_stack = movement.column_stack
atleast_1d, atleast_2d, atleast_3d = movement.atleast_1d, movement.atleast_2d, \
    movement.atleast_3d
tile, roll, tril, triu = movement.tile, movement.roll, movement.tril, movement.triu
repeat_interleave, rot90, diff = movement.repeat_interleave, movement.rot90, movement.diff
diag_embed, kron = movement.diag_embed, movement.kron
vsplit, hsplit, dsplit = movement.vsplit, movement.hsplit, movement.dsplit

# indexing
gather, scatter, scatter_add = indexing.gather, indexing.scatter, indexing.scatter_add
index_select, index_add = indexing.index_select, indexing.index_add
index_put, index_fill = indexing.index_put, indexing.index_fill
masked_fill, masked_select = indexing.masked_fill, indexing.masked_select
masked_scatter = indexing.masked_scatter
nonzero, argwhere, take = indexing.nonzero, indexing.argwhere, indexing.take
take_along_dim = indexing.take_along_dim
sort, argsort, topk, msort = indexing.sort, indexing.argsort, indexing.topk, indexing.msort

# linear algebra
matmul, mm, bmm, mv = linalg.matmul, linalg.mm, linalg.bmm, linalg.mv
dot, inner, outer, ger = linalg.dot, linalg.dot, linalg.outer, linalg.outer
addmm, baddbmm, addmv = linalg.addmm, linalg.baddbmm, linalg.addmv
einsum, tensordot = linalg.einsum, linalg.tensordot


def _addmm_activation(input, mat1, mat2, *, beta=1, alpha=1, use_gelu=False):
    """torch._addmm_activation: act(beta*input + alpha*mat1@mat2), fused where the backend can."""
    from .ops import fused
    return fused.addmm_activation(input, mat1, mat2, beta=beta, alpha=alpha, use_gelu=use_gelu)


def is_tensor(obj) -> bool:
    return isinstance(obj, Tensor)


def is_floating_point(input) -> bool:
    return input._dtype.is_floating_point


def is_complex(input) -> bool:
    return False


def is_nonzero(input) -> bool:
    if input.numel() != 1:
        raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
    return bool(input.item())


def numel(input) -> int:
    return input.numel()


def result_type(tensor1, tensor2):
    from .ops._operands import binary as _prep
    return _prep(tensor1, tensor2)[4]


def broadcast_shapes(*shapes):
    result = ()
    for s in shapes:
        result = _broadcast_pair(result, (s,) if isinstance(s, int) else tuple(s))
    from ._tensor import Size
    return Size(result)


def broadcast_tensors(*tensors):
    shape = broadcast_shapes(*(t._shape for t in tensors))
    return tuple(t.expand(shape) for t in tensors)


def meshgrid(*tensors, indexing="ij"):
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    n = len(tensors)
    shape = [t.numel() for t in tensors]
    out = []
    for i, t in enumerate(tensors):
        view = [1] * n
        view[i] = -1
        out.append(t.reshape(view).expand(shape))
    if indexing == "xy" and n >= 2:
        out = [o.transpose(0, 1) for o in out]
    return tuple(out)


def diag(input, diagonal=0):
    """A 1-D input placed on a diagonal of a square matrix, or a 2-D input's diagonal."""
    if input.ndim == 1:
        n = input._shape[0] + (diagonal if diagonal >= 0 else -diagonal)
        idx = arange(input._shape[0], device=input._device)
        rows = idx + (0 if diagonal >= 0 else -diagonal)
        cols = idx + (diagonal if diagonal >= 0 else 0)
        out = input.new_zeros(n, n).index_put((rows, cols), input)
        return _named(out, "DiagEmbedBackward0")
    if input.ndim != 2:
        raise RuntimeError("diag(): Supports 1D or 2D tensors. Got " + f"{input.ndim}D")
    return _named(views.diagonal(input, diagonal), "DiagonalBackward0_copy")


def trace(input):
    if input.ndim != 2:
        raise RuntimeError("trace: expected a matrix, but got tensor with dim " + str(input.ndim))
    return _named(views.diagonal(input).sum(), "TraceBackward0")


def cdist(x1, x2, p=2.0, compute_mode=None):
    """Pairwise p-norm distances between the rows of x1 and x2 (batched)."""
    if x1.ndim < 2 or x2.ndim < 2:
        raise RuntimeError(f"cdist only supports at least 2D tensors, X1 got: {x1.ndim}D")
    if x1._shape[-1] != x2._shape[-1]:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: "
                           f"{x1._shape[-1]} X2: {x2._shape[-1]}")
    diff = x1.unsqueeze(-2) - x2.unsqueeze(-3)
    return _named(diff.norm(p=p, dim=-1), "CdistBackward0")


def cross(input, other, dim=None):
    """Cross product of 3-vectors along ``dim`` (the first size-3 dim when None)."""
    if dim is None:
        dim = next((i for i, s in enumerate(broadcast_shapes(input._shape, other._shape))
                    if s == 3), None)
        if dim is None:
            raise RuntimeError("no dimension of size 3 in input")
    a = [input.select(dim, i) for i in range(3)]
    b = [other.select(dim, i) for i in range(3)]
    return _named(stack([a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2],
                         a[0] * b[1] - a[1] * b[0]], dim), "LinalgCrossBackward0")


def detach(input):
    return input.detach()


def numpy_dtype(dt):
    return dt.np


__all__ = [n for n in dir() if not n.startswith("_") and n not in (
    "D", "Tensor", "activation", "binary", "conversion", "creation", "indexing", "linalg",
    "movement", "reduce", "unary", "views", "annotations", "numpy_dtype", "math_extra",
    "stats")]
__all__.append("can_cast")
