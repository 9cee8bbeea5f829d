"""The backend object: plugrad's contract implemented with PyTorch CPU tensor ops.

Buffers are ``torch.Tensor`` on the CPU. Every method follows the signature and semantics in
``plugrad.plugins.contract``; the frontend has validated arguments, so nothing is checked
here. Optional kernels we skip (addmm_act, cross_entropy, optimizer steps) are composed by
the frontend from the primitives below.
"""
from __future__ import annotations

import numpy
import torch

DTYPES = {"bool": torch.bool, "uint8": torch.uint8, "int8": torch.int8,
          "int16": torch.int16, "int32": torch.int32, "int64": torch.int64,
          "float16": torch.float16, "float32": torch.float32, "float64": torch.float64}
# bfloat16 is left out: to_host must return a numpy array, and numpy has no bfloat16.

UNARY = {"neg": torch.neg, "abs": torch.abs, "exp": torch.exp, "log": torch.log,
         "log1p": torch.log1p, "expm1": torch.expm1, "sqrt": torch.sqrt, "sin": torch.sin,
         "cos": torch.cos, "tan": torch.tan, "tanh": torch.tanh, "sigmoid": torch.sigmoid,
         "asin": torch.asin, "acos": torch.acos, "atan": torch.atan, "sinh": torch.sinh,
         "cosh": torch.cosh, "erf": torch.erf, "floor": torch.floor, "ceil": torch.ceil,
         "round": torch.round, "trunc": torch.trunc, "reciprocal": torch.reciprocal,
         "logical_not": torch.logical_not, "isnan": torch.isnan, "isinf": torch.isinf,
         "bitwise_not": torch.bitwise_not}
BINARY = {"add": torch.add, "sub": torch.sub, "mul": torch.mul, "div": torch.true_divide,
          "floordiv": torch.floor_divide, "remainder": torch.remainder, "pow": torch.pow,
          "maximum": torch.maximum, "minimum": torch.minimum, "atan2": torch.atan2,
          "eq": torch.eq, "ne": torch.ne, "lt": torch.lt, "le": torch.le, "gt": torch.gt,
          "ge": torch.ge, "logical_and": torch.logical_and, "logical_or": torch.logical_or,
          "logical_xor": torch.logical_xor, "bitwise_and": torch.bitwise_and,
          "bitwise_or": torch.bitwise_or, "bitwise_xor": torch.bitwise_xor}


def _finish(result, out):
    """The contract's ``out=``: write into the given (possibly strided) buffer, return it."""
    if out is None:
        return result
    out.copy_(result)
    return out


def _tensors(*values):
    """Python scalars become 0-d tensors of the buffers' dtype (the contract's meaning)."""
    like = next(v for v in values if isinstance(v, torch.Tensor))
    return [v if isinstance(v, torch.Tensor) else torch.tensor(v, dtype=like.dtype)
            for v in values]


def _unary(fn):
    def op(self, x, out=None):
        return _finish(fn(x), out)
    return op


def _binary(fn):
    def op(self, a, b, out=None):
        return _finish(fn(*_tensors(a, b)), out)
    return op


class TorchCPUBackend:
    """plugrad's backend contract over ``torch.Tensor`` CPU buffers.

    The elementwise primitives with a one-to-one torch function are attached after the class
    from the ``UNARY`` and ``BINARY`` tables.
    """

    def supports(self, op, dtype):
        return dtype in DTYPES

    # ------------------------------------------------------------------------- runtime
    def device_count(self):
        return 1

    def empty(self, shape, dtype, device=0):
        return torch.empty(shape, dtype=DTYPES[dtype])

    def full(self, shape, value, dtype, device=0):
        return torch.full(shape, value, dtype=DTYPES[dtype])

    def arange(self, start, step, n, dtype, device=0):
        if DTYPES[dtype].is_floating_point:   # the contract: computed in float64, then cast
            values = torch.arange(n, dtype=torch.float64) * step + start
        else:
            values = torch.arange(n, dtype=torch.int64) * int(step) + int(start)
        return values.to(DTYPES[dtype])

    def from_host(self, array, device=0):
        return torch.from_numpy(numpy.array(array, copy=True, order="C"))

    def to_host(self, x):
        return x.numpy().copy()

    def copy(self, x):
        return x.clone(memory_format=torch.contiguous_format)

    def cast(self, x, dtype):
        return x.to(DTYPES[dtype], copy=True)

    def assign(self, dst, src):
        if not isinstance(src, torch.Tensor):
            dst.fill_(src)
        elif src.untyped_storage().data_ptr() == dst.untyped_storage().data_ptr():
            dst.copy_(src.clone())            # torch refuses overlapping copies
        else:
            dst.copy_(src)

    def strides(self, x):
        return tuple(x.stride())

    def synchronize(self, device=0):
        return None

    # ---------------------------------------------------------------- elementwise extras
    def sign(self, x, out=None):
        result = torch.sign(x)
        if x.is_floating_point():             # the contract: sign(nan) is nan (torch gives 0)
            result = torch.where(torch.isnan(x), x, result)
        return _finish(result, out)

    def where(self, cond, a, b, out=None):
        return _finish(torch.where(cond, *_tensors(a, b)), out)

    # ----------------------------------------------------------------------- reductions
    def _sum_like(self, fn, x, axes, keepdims):
        if x.dtype == torch.float16:          # accumulate half in float32, as the cpu does
            return fn(x.float(), axes, keepdims).half()
        return fn(x, axes, keepdims)

    def sum(self, x, axes, keepdims):
        if x.dtype == torch.bool:             # numpy's add.reduce on bool is a logical or
            return torch.any(x, dim=axes, keepdim=keepdims)
        return self._sum_like(lambda v, a, k: torch.sum(v, dim=a, keepdim=k, dtype=v.dtype),
                              x, axes, keepdims)

    def prod(self, x, axes, keepdims):
        if x.dtype == torch.bool:
            return torch.all(x, dim=axes, keepdim=keepdims)

        def prod(v, axes, keep):              # torch.prod takes one dim at a time
            for axis in sorted(axes, reverse=True):
                v = torch.prod(v, axis, keepdim=True, dtype=v.dtype)
            return v if keep else v.squeeze(tuple(axes)) if axes else v
        return self._sum_like(prod, x, axes, keepdims)

    def max(self, x, axes, keepdims):
        if x.dtype == torch.bool:
            return torch.any(x, dim=axes, keepdim=keepdims)
        return torch.amax(x, dim=axes, keepdim=keepdims)

    def min(self, x, axes, keepdims):
        if x.dtype == torch.bool:
            return torch.all(x, dim=axes, keepdim=keepdims)
        return torch.amin(x, dim=axes, keepdim=keepdims)

    def any(self, x, axes, keepdims):
        return torch.any(x, dim=axes, keepdim=keepdims)

    def all(self, x, axes, keepdims):
        return torch.all(x, dim=axes, keepdim=keepdims)

    def argmax(self, x, axis, keepdims):
        return torch.argmax(x, dim=axis, keepdim=keepdims)

    def argmin(self, x, axis, keepdims):
        return torch.argmin(x, dim=axis, keepdim=keepdims)

    def cumsum(self, x, axis):
        if x.dtype == torch.bool:             # a running logical or
            return torch.cumsum(x.long(), axis) != 0
        return torch.cumsum(x, axis, dtype=x.dtype)

    def cumprod(self, x, axis):
        if x.dtype == torch.bool:             # a running logical and
            return torch.cumprod(x.long(), axis) != 0
        return torch.cumprod(x, axis, dtype=x.dtype)

    # ---------------------------------------------------------------- views and movement
    def reshape(self, x, shape):
        return x.reshape(shape)

    def permute(self, x, axes):
        return x.permute(axes)

    def expand(self, x, shape):
        return x.expand(shape)

    def slice(self, x, slices):
        return x[tuple(slice(start, stop, step) for start, stop, step in slices)]

    def flip(self, x, axes):
        return torch.flip(x, axes)

    def pad(self, x, pads, value):
        shape = tuple(n + before + after for n, (before, after) in zip(x.shape, pads))
        out = torch.full(shape, value, dtype=x.dtype)
        out[tuple(slice(before, before + n) for n, (before, _) in zip(x.shape, pads))] = x
        return out

    def concat(self, xs, axis):
        return torch.cat(xs, dim=axis)

    # ------------------------------------------------------------------------- indexing
    def index(self, x, indices):
        return x[tuple(indices)]

    def index_put(self, x, indices, values, accumulate):
        (values,) = _tensors(values, x)[:1]
        x.index_put_(tuple(indices), values, accumulate=accumulate)

    def nonzero(self, x):
        return torch.nonzero(x)

    def sort(self, x, axis, descending):
        values, indices = torch.sort(x, dim=axis, descending=descending, stable=True)
        return values, indices

    # -------------------------------------------------------------------- fused kernels
    def matmul(self, a, b):
        return torch.matmul(a, b)

    def conv2d(self, x, w, stride, padding, dilation, groups):
        return torch.nn.functional.conv2d(x, w, None, stride, padding, dilation, groups)

    def conv2d_input_grad(self, grad, w, x_shape, stride, padding, dilation, groups):
        return torch.nn.grad.conv2d_input(x_shape, w, grad, stride, padding, dilation, groups)

    def conv2d_weight_grad(self, x, grad, w_shape, stride, padding, dilation, groups):
        return torch.nn.grad.conv2d_weight(x, w_shape, grad, stride, padding, dilation, groups)

    def softmax(self, x, axis):
        return torch.softmax(x, axis)

    def log_softmax(self, x, axis):
        return torch.log_softmax(x, axis)


for _name, _fn in UNARY.items():
    setattr(TorchCPUBackend, _name, _unary(_fn))
for _name, _fn in BINARY.items():
    setattr(TorchCPUBackend, _name, _binary(_fn))
