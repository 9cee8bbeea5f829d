"""Bind the op functions to Tensor as methods, operators and in-place variants.

Each op is defined once in :mod:`plugrad.ops`; this table is the only place that says which
of them are also ``Tensor`` methods, so ``torch.add(a, b)``, ``a.add(b)`` and ``a + b`` run
the same code.
"""
from __future__ import annotations

import types

from . import _dtype as D
from ._tensor import Tensor
from .ops import (activation, binary, conversion, creation, indexing, inplace, linalg,
                  math_extra, movement, reduce, stats, unary, views)
from .ops.inplace import apply_inplace, check_inplace, fast_binary_

# ------------------------------------------------------------------ plain methods

_METHODS = {
    # binary
    "add": binary.add, "sub": binary.sub, "subtract": binary.sub, "mul": binary.mul,
    "multiply": binary.mul, "div": binary.div, "divide": binary.div,
    "true_divide": binary.true_divide, "floor_divide": binary.floor_divide,
    "remainder": binary.remainder, "fmod": binary.fmod, "pow": binary.pow,
    "square": binary.square, "maximum": binary.maximum, "minimum": binary.minimum,
    "atan2": binary.atan2, "arctan2": binary.atan2, "eq": binary.eq, "ne": binary.ne,
    "lt": binary.lt, "le": binary.le, "gt": binary.gt, "ge": binary.ge,
    "greater": binary.gt, "greater_equal": binary.ge, "less": binary.lt,
    "less_equal": binary.le, "not_equal": binary.ne, "logical_and": binary.logical_and,
    "logical_or": binary.logical_or, "logical_xor": binary.logical_xor,
    "bitwise_and": binary.bitwise_and, "bitwise_or": binary.bitwise_or,
    "bitwise_xor": binary.bitwise_xor, "allclose": binary.allclose,
    "isclose": binary.isclose, "equal": binary.eq_all, "rsub": binary.rsub,
    # unary
    "neg": unary.neg, "negative": unary.neg, "abs": unary.abs, "absolute": unary.abs,
    "sign": unary.sign, "exp": unary.exp, "exp2": unary.exp2, "expm1": unary.expm1,
    "log": unary.log, "log1p": unary.log1p, "log2": unary.log2, "log10": unary.log10,
    "sqrt": unary.sqrt, "rsqrt": unary.rsqrt, "reciprocal": unary.reciprocal,
    "sin": unary.sin, "cos": unary.cos, "tan": unary.tan, "asin": unary.asin,
    "arcsin": unary.asin, "acos": unary.acos, "arccos": unary.acos, "atan": unary.atan,
    "arctan": unary.atan, "sinh": unary.sinh, "cosh": unary.cosh, "tanh": unary.tanh,
    "sigmoid": unary.sigmoid, "erf": unary.erf, "floor": unary.floor, "ceil": unary.ceil,
    "round": unary.round, "trunc": unary.trunc, "fix": unary.trunc, "frac": unary.frac,
    "logical_not": unary.logical_not, "isnan": unary.isnan, "isinf": unary.isinf,
    "isfinite": unary.isfinite, "isposinf": unary.isposinf, "isneginf": unary.isneginf,
    "bitwise_not": unary.bitwise_not,
    # activations
    "relu": activation.relu, "clamp": activation.clamp, "clip": activation.clamp,
    "clamp_min": activation.clamp_min, "clamp_max": activation.clamp_max,
    "softmax": activation.softmax, "log_softmax": activation.log_softmax,
    # reductions
    "sum": reduce.sum, "nansum": reduce.nansum, "mean": reduce.mean, "nanmean": reduce.nanmean,
    "prod": reduce.prod, "max": reduce.max, "min": reduce.min, "amax": reduce.amax,
    "amin": reduce.amin, "aminmax": reduce.aminmax, "argmax": reduce.argmax,
    "argmin": reduce.argmin, "any": reduce.any, "all": reduce.all,
    "count_nonzero": reduce.count_nonzero, "var": reduce.var, "std": reduce.std,
    "logsumexp": reduce.logsumexp, "norm": reduce.norm, "cumsum": reduce.cumsum,
    "cumprod": reduce.cumprod,
    # views
    "view": views.view, "view_as": views.view_as, "reshape": views.reshape,
    "reshape_as": views.reshape_as, "flatten": views.flatten, "unflatten": views.unflatten,
    "ravel": views.ravel, "squeeze": views.squeeze, "unsqueeze": views.unsqueeze,
    "permute": views.permute, "transpose": views.transpose, "swapaxes": views.transpose,
    "swapdims": views.transpose, "t": views.t, "movedim": views.movedim,
    "moveaxis": views.movedim, "expand": views.expand, "expand_as": views.expand_as,
    "broadcast_to": views.broadcast_to, "narrow": views.narrow, "select": views.select,
    "split": views.split, "chunk": views.chunk, "tensor_split": views.tensor_split,
    "unbind": views.unbind, "diagonal": views.diagonal,
    # movement
    "clone": movement.clone, "contiguous": movement.contiguous, "flip": movement.flip,
    "fliplr": movement.fliplr, "flipud": movement.flipud, "repeat": movement.repeat,
    "tile": movement.tile, "roll": movement.roll, "tril": movement.tril,
    "triu": movement.triu,
    # indexing
    "gather": indexing.gather, "scatter": indexing.scatter,
    "scatter_add": indexing.scatter_add, "index_select": indexing.index_select,
    "index_add": indexing.index_add, "masked_fill": indexing.masked_fill,
    "masked_select": indexing.masked_select, "masked_scatter": indexing.masked_scatter,
    "nonzero": indexing.nonzero, "argwhere": indexing.argwhere, "take": indexing.take,
    "take_along_dim": indexing.take_along_dim, "sort": indexing.sort,
    "argsort": indexing.argsort, "topk": indexing.topk, "msort": indexing.msort,
    # linear algebra
    "matmul": linalg.matmul, "mm": linalg.mm, "bmm": linalg.bmm, "mv": linalg.mv,
    "dot": linalg.dot, "inner": linalg.dot, "outer": linalg.outer, "ger": linalg.outer,
    "addmm": linalg.addmm,
    # conversion
    "to": conversion.to, "cpu": conversion.cpu, "cuda": conversion.cuda,
    "float": conversion.float_, "double": conversion.double, "half": conversion.half,
    "bfloat16": conversion.bfloat16, "long": conversion.long, "int": conversion.int_,
    "short": conversion.short, "char": conversion.char, "byte": conversion.byte,
    "bool": conversion.bool_, "type_as": conversion.type_as,
    # composites
    "erfc": math_extra.erfc, "logit": math_extra.logit, "sgn": math_extra.sgn,
    "sinc": math_extra.sinc, "deg2rad": math_extra.deg2rad, "rad2deg": math_extra.rad2deg,
    "signbit": math_extra.signbit, "nan_to_num": math_extra.nan_to_num,
    "hypot": math_extra.hypot, "logaddexp": math_extra.logaddexp,
    "logaddexp2": math_extra.logaddexp2, "xlogy": math_extra.xlogy, "fmax": math_extra.fmax,
    "fmin": math_extra.fmin, "copysign": math_extra.copysign,
    "float_power": math_extra.float_power, "heaviside": math_extra.heaviside,
    "dist": math_extra.dist, "median": stats.median, "nanmedian": stats.nanmedian,
    "kthvalue": stats.kthvalue, "cummax": stats.cummax, "cummin": stats.cummin,
    "logcumsumexp": stats.logcumsumexp, "unique": stats.unique, "isin": stats.isin,
    "repeat_interleave": movement.repeat_interleave, "rot90": movement.rot90,
    "diff": movement.diff, "diag_embed": movement.diag_embed, "kron": movement.kron,
    "vsplit": movement.vsplit, "hsplit": movement.hsplit, "dsplit": movement.dsplit,
    "baddbmm": linalg.baddbmm, "addmv": linalg.addmv, "index_put": indexing.index_put,
    # creation
    "new_zeros": creation.new_zeros, "new_ones": creation.new_ones,
    "new_full": creation.new_full, "new_empty": creation.new_empty,
    "new_tensor": creation.new_tensor,
}

for _name, _fn in _METHODS.items():
    setattr(Tensor, _name, _fn)


def _where_method(self, condition, other):
    return indexing.where(condition, self, other)


def _sum_to_size(self, *size):
    from .ops._graph import unbroadcast
    if len(size) == 1 and isinstance(size[0], (list, tuple)):
        size = tuple(size[0])
    return unbroadcast(self, tuple(size))


def _T(self):
    return self.permute(tuple(reversed(range(self.ndim))))


def _mT(self):
    if self.ndim < 2:
        raise RuntimeError("tensor.mT is only supported on matrices or batches of matrices. Got "
                           f"{self.ndim}-D tensor.")
    return self.transpose(-2, -1)


Tensor.where = _where_method
Tensor.sum_to_size = _sum_to_size
Tensor.T = property(_T)
Tensor.mT = property(_mT)
Tensor.H = property(_T)
Tensor.mH = property(_mT)

# -------------------------------------------------------------------------- operators


def _reflect(fn):
    def reflected(self, other):
        return fn(other, self)
    reflected.__name__ = f"r{fn.__name__}"
    return reflected


def _eq(self, other):
    if other is None or other is Ellipsis or isinstance(other, (str, type)):
        return False
    return binary.eq(self, other)


def _ne(self, other):
    if other is None or other is Ellipsis or isinstance(other, (str, type)):
        return True
    return binary.ne(self, other)


def _invert(self):
    if self._dtype is D.bool_:
        return unary.logical_not(self)
    if self._dtype.is_floating_point:
        raise TypeError("~ (operator.invert) is only implemented on integer and Boolean-type "
                        "tensors")
    return unary.bitwise_not(self)


def _rtruediv(self, other):
    # torch computes number / x as x.reciprocal() * number (grad_fn MulBackward0)
    if isinstance(other, (bool, int, float)) or _is_numpy_scalar(other):
        return binary.mul(unary.reciprocal(self), other)
    return binary.div(other, self)


def _is_numpy_scalar(value):
    import numpy
    return isinstance(value, numpy.generic)


def _pos(self):
    return self


def _operator(fn, reflected=False):
    """``a + b`` etc.: the op with temporary elision allowed (see ``ops/_elision.py``).

    The forward operator is a copy of the op function whose ``_elide`` keyword defaults to
    True -- the same code object, so no wrapper frame is added to the hottest call there is.
    """
    if reflected:
        def op(self, other):
            return fn(other, self, _elide=True)
        op.__name__ = f"__r{fn.__name__}__"
        return op
    op = types.FunctionType(fn.__code__, fn.__globals__, f"__{fn.__name__}__",
                            fn.__defaults__, fn.__closure__)
    op.__kwdefaults__ = {**(fn.__kwdefaults__ or {}), "_elide": True}
    op.__doc__, op.__module__ = fn.__doc__, fn.__module__
    return op


Tensor.__add__ = _operator(binary.add)
Tensor.__radd__ = _operator(binary.add, reflected=True)
Tensor.__sub__ = _operator(binary.sub)
Tensor.__rsub__ = _operator(binary.sub, reflected=True)
Tensor.__mul__ = _operator(binary.mul)
Tensor.__rmul__ = _operator(binary.mul, reflected=True)
Tensor.__truediv__ = _operator(binary.div)
Tensor.__rtruediv__ = _rtruediv
Tensor.__floordiv__ = binary.floor_divide
Tensor.__rfloordiv__ = _reflect(binary.floor_divide)
Tensor.__mod__ = binary.remainder
Tensor.__rmod__ = _reflect(binary.remainder)
Tensor.__pow__ = binary.pow
Tensor.__rpow__ = _reflect(binary.pow)
Tensor.__matmul__ = linalg.matmul
Tensor.__rmatmul__ = _reflect(linalg.matmul)
Tensor.__and__ = binary.bitwise_and
Tensor.__rand__ = _reflect(binary.bitwise_and)
Tensor.__or__ = binary.bitwise_or
Tensor.__ror__ = _reflect(binary.bitwise_or)
Tensor.__xor__ = binary.bitwise_xor
Tensor.__rxor__ = _reflect(binary.bitwise_xor)
Tensor.__neg__ = unary.neg
Tensor.__pos__ = _pos
Tensor.__abs__ = unary.abs
Tensor.__invert__ = _invert
Tensor.__eq__ = _eq
Tensor.__ne__ = _ne
Tensor.__lt__ = binary.lt
Tensor.__le__ = binary.le
Tensor.__gt__ = binary.gt
Tensor.__ge__ = binary.ge
Tensor.__getitem__ = indexing.getitem
Tensor.__setitem__ = indexing.setitem
def _array_ufunc(self, ufunc, method, *inputs, **kwargs):
    """numpy ufuncs on tensors give tensors, as torch's do (``np.exp(t)``,
    ``ndarray + t``): the common ones run as plugrad ops on the tensor's device (and record
    autograd); any other runs in numpy on host copies and the result is wrapped."""
    op = _UFUNC_OPS.get(ufunc.__name__) if method == "__call__" and not kwargs else None
    if op is not None:
        return op(*inputs)
    import numpy
    arrays = [numpy.asarray(x) if isinstance(x, Tensor) else x for x in inputs]
    out = kwargs.get("out")
    if out is not None:
        kwargs["out"] = tuple(numpy.asarray(o) if isinstance(o, Tensor) else o for o in out)
    result = getattr(ufunc, method)(*arrays, **kwargs)
    if out is not None:
        return out[0] if len(out) == 1 else out
    if isinstance(result, tuple):
        return tuple(creation.as_tensor(numpy.asarray(r)) for r in result)
    return creation.as_tensor(numpy.asarray(result)) if isinstance(result, (numpy.ndarray,
                                                                            numpy.generic)) \
        else result


_UFUNC_OPS = {
    "add": binary.add, "subtract": binary.sub, "multiply": binary.mul,
    "true_divide": binary.div, "divide": binary.div, "floor_divide": binary.floor_divide,
    "remainder": binary.remainder, "fmod": binary.fmod, "power": binary.pow,
    "maximum": binary.maximum, "minimum": binary.minimum, "arctan2": binary.atan2,
    "equal": binary.eq, "not_equal": binary.ne, "less": binary.lt, "less_equal": binary.le,
    "greater": binary.gt, "greater_equal": binary.ge, "logical_and": binary.logical_and,
    "logical_or": binary.logical_or, "logical_xor": binary.logical_xor,
    "bitwise_and": binary.bitwise_and, "bitwise_or": binary.bitwise_or,
    "bitwise_xor": binary.bitwise_xor, "matmul": lambda a, b: linalg.matmul(a, b),
    "negative": unary.neg, "absolute": unary.abs, "sign": unary.sign, "exp": unary.exp,
    "expm1": unary.expm1, "exp2": unary.exp2, "log": unary.log, "log1p": unary.log1p,
    "log2": unary.log2, "log10": unary.log10, "sqrt": unary.sqrt, "square": binary.square,
    "reciprocal": unary.reciprocal, "sin": unary.sin, "cos": unary.cos, "tan": unary.tan,
    "arcsin": unary.asin, "arccos": unary.acos, "arctan": unary.atan, "sinh": unary.sinh,
    "cosh": unary.cosh, "tanh": unary.tanh, "floor": unary.floor, "ceil": unary.ceil,
    "trunc": unary.trunc, "rint": unary.round, "logical_not": unary.logical_not,
    "isnan": unary.isnan, "isinf": unary.isinf, "isfinite": unary.isfinite,
    "invert": lambda x: ~x,
}

Tensor.__array_ufunc__ = _array_ufunc

# -------------------------------------------------------------------------- in place


def _fast_or_general(prim, op):
    """In-place arithmetic: one backend call when no autograd is involved, else rebase.
    ``alpha`` goes through the op itself (fused with one rounding, as torch)."""
    def method(self, other, *, alpha=1):
        if alpha != 1:
            return apply_inplace(self, op, other, alpha=alpha)
        result = fast_binary_(self, other, prim)
        if result is not None:
            return result
        return apply_inplace(self, op, other)
    method.__name__ = f"{prim}_"
    return method


Tensor.add_ = _fast_or_general("add", binary.add)
Tensor.sub_ = _fast_or_general("sub", binary.sub)
Tensor.subtract_ = Tensor.sub_
Tensor.mul_ = _fast_or_general("mul", binary.mul)
Tensor.multiply_ = Tensor.mul_


def _div_(self, other, *, rounding_mode=None):
    if rounding_mode is None and self._dtype.is_floating_point:
        result = fast_binary_(self, other, "div")
        if result is not None:
            return result
    return apply_inplace(self, binary.div, other, rounding_mode=rounding_mode)


Tensor.div_ = _div_
Tensor.divide_ = _div_
Tensor.true_divide_ = _div_


def _iop(method_name):
    def iop(self, other):
        return getattr(self, method_name)(other)
    return iop


Tensor.__iadd__ = _iop("add_")
Tensor.__isub__ = _iop("sub_")
Tensor.__imul__ = _iop("mul_")
Tensor.__itruediv__ = _iop("div_")


def _general_inplace(op):
    def method(self, *args, **kwargs):
        return apply_inplace(self, op, *args, **kwargs)
    method.__name__ = f"{op.__name__}_"
    return method


for _name in ("pow", "remainder", "fmod", "floor_divide", "atan2", "neg", "abs", "sign", "exp",
              "expm1", "log", "log1p", "log2", "log10", "sqrt", "rsqrt", "reciprocal", "sin",
              "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh", "sigmoid", "erf",
              "floor", "ceil", "round", "trunc", "frac", "relu", "clamp", "clamp_min",
              "clamp_max", "masked_fill", "scatter", "scatter_add", "index_add", "logical_not",
              "logical_and", "logical_or", "logical_xor", "bitwise_and", "bitwise_or",
              "bitwise_xor", "bitwise_not", "square", "maximum", "minimum", "tril", "triu",
              "eq", "ne", "lt", "le", "gt", "ge"):
    setattr(Tensor, f"{_name}_", _general_inplace(_METHODS[_name]))

Tensor.clip_ = Tensor.clamp_
Tensor.negative_ = Tensor.neg_
Tensor.absolute_ = Tensor.abs_
Tensor.__ipow__ = _iop("pow_")
Tensor.__ifloordiv__ = _iop("floor_divide_")
Tensor.__imod__ = _iop("remainder_")
Tensor.__iand__ = _iop("bitwise_and_")
Tensor.__ior__ = _iop("bitwise_or_")
Tensor.__ixor__ = _iop("bitwise_xor_")


def _where_(self, condition, other):
    return apply_inplace(self, lambda x, c, o: indexing.where(c, x, o), condition, other)


Tensor.lerp = binary.lerp
Tensor.addcmul = binary.addcmul
Tensor.addcdiv = binary.addcdiv
Tensor.lerp_ = _general_inplace(binary.lerp)
Tensor.addcmul_ = _general_inplace(binary.addcmul)
Tensor.addcdiv_ = _general_inplace(binary.addcdiv)


class CopyBackwards:
    """Marker name; copy_ with autograd is an in-place write of the converted source."""


def copy_(self, src, non_blocking=False):
    """Copy src's values into self (broadcasting, converting dtype and device)."""
    if not isinstance(src, Tensor):
        raise TypeError(f"copy_(): argument 'other' (position 1) must be Tensor, not "
                        f"{type(src).__name__}")
    check_inplace(self)
    if src._device is not self._device or src._dtype is not self._dtype:
        src = conversion.to(src, device=self._device, dtype=self._dtype)
    if src._shape != self._shape:
        src = views.expand(src, self._shape)
    from .autograd.grad_mode import is_grad_enabled
    if (src._requires_grad or self._requires_grad) and is_grad_enabled():
        from .ops.inplace import commit_region
        self._device.ops.assign(self._data, src._data)
        commit_region(self, self, Ellipsis, src, None)
        return self
    self._device.ops.assign(self._data, src._data)
    self._bump_version()
    return self


def fill_(self, value):
    if isinstance(value, Tensor):
        if value.ndim:
            raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor "
                               f"with {value.ndim} dimensions.")
        if value._requires_grad:
            return copy_(self, value.expand(self._shape))
        value = value.item()
    check_inplace(self)
    from .autograd.grad_mode import is_grad_enabled
    if self._requires_grad and is_grad_enabled():
        return apply_inplace(self, lambda x: x * 0 + value)
    self._device.ops.assign(self._data, binary.as_scalar(value, self._dtype))
    self._bump_version()
    return self


def zero_(self):
    return fill_(self, 0)


Tensor.copy_ = copy_
Tensor.fill_ = fill_
Tensor.zero_ = zero_
Tensor.where_ = _where_

# ------------------------------------------------------------ in-place random fills


def _random_fill(method):
    def fill(self, *args, generator=None):
        from . import _generator
        check_inplace(self)
        gen = _generator.resolve(generator)
        # made on the device when its backend has mt19937_generate, else drawn and uploaded
        src = gen.generate(self._device, method, self._shape, self._dtype, *args)
        self._device.ops.assign(self._data, src._data)
        self._bump_version()
        return self
    fill.__name__ = f"{method}_"
    return fill


def uniform_(self, a=0.0, b=1.0, *, generator=None):
    return _random_fill("uniform")(self, float(a), float(b), generator=generator)


def normal_(self, mean=0.0, std=1.0, *, generator=None):
    return _random_fill("normal")(self, float(mean), float(std), generator=generator)


def random_(self, from_=None, to=None, *, generator=None):
    if from_ is not None and to is None:
        from_, to = 0, from_
    return _random_fill("random_")(self, from_, to, generator=generator)


def bernoulli_(self, p=0.5, *, generator=None):
    from . import _generator
    check_inplace(self)
    gen = _generator.resolve(generator)
    if isinstance(p, Tensor):   # tensor p: drawn on the host
        array = gen.draw("bernoulli", p.detach().cpu()._host(), self._shape, self._dtype.name)
        src = creation.from_host_array(array, self._dtype, self._device)
    else:   # dropout's masks: on the device when its backend has mt19937_generate
        src = gen.generate(self._device, "bernoulli", self._shape, self._dtype, float(p))
    self._device.ops.assign(self._data, src._data)
    self._bump_version()
    return self


def exponential_(self, lambd=1.0, *, generator=None):
    # torch's CPU kernel draws every dtype as a double exponential and casts the result;
    # computed on the host, where the draws are made, so no device needs float64
    u = creation.rand(self._shape, generator=generator, dtype=D.float64)
    return copy_(self, -(1 - u).log() / lambd)


Tensor.uniform_ = uniform_
Tensor.normal_ = normal_
Tensor.random_ = random_
Tensor.bernoulli_ = bernoulli_
Tensor.exponential_ = exponential_
Tensor.bernoulli = lambda self, p=None, *, generator=None: creation.bernoulli(
    self, p, generator=generator)

# --------------------------------------------------------------- in-place shape ops


def _unsqueeze_(self, dim):
    return _set_shape(self, views.unsqueeze(self.detach(), dim))


def _squeeze_(self, dim=None):
    return _set_shape(self, views.squeeze(self.detach(), dim))


def _t_(self):
    return _set_shape(self, views.t(self.detach()))


def _transpose_(self, dim0, dim1):
    return _set_shape(self, views.transpose(self.detach(), dim0, dim1))


def _set_shape(self, view):
    """In-place view ops (t_, unsqueeze_, ...) change this tensor's shape: a new version."""
    self._data, self._shape = view._data, view._shape
    self._bump_version()
    return self


def _resize_(self, *sizes, memory_format=None):
    """Change the shape in place, keeping the first elements (torch's resize_: new elements
    are uninitialised; the tensor gets a new buffer when the shape changes)."""
    from .autograd.grad_mode import is_grad_enabled
    shape = creation._shape_arg(sizes)
    if self._requires_grad and is_grad_enabled():
        raise RuntimeError("cannot resize variables that require grad")
    if shape == self._shape:
        return self
    ops = self._device.ops
    n_new = 1
    for s in shape:
        n_new *= s
    keep = min(n_new, self.numel())
    data = ops.empty(shape, self._dtype.name)
    if keep:
        flat_new = ops.reshape(data, (n_new,))
        flat_old = ops.reshape(ops.copy(self._data), (self.numel(),))
        ops.assign(ops.slice(flat_new, ((0, keep, 1),)), ops.slice(flat_old, ((0, keep, 1),)))
    self._data, self._shape = data, shape
    self._bump_version()
    return self


def _resize_as_(self, other, memory_format=None):
    return _resize_(self, other._shape)


Tensor.resize_ = _resize_
Tensor.resize_as_ = _resize_as_
Tensor.unsqueeze_ = _unsqueeze_
Tensor.squeeze_ = _squeeze_
Tensor.t_ = _t_
Tensor.transpose_ = _transpose_


Tensor.index_put_ = indexing.index_put_
Tensor.index_put = indexing.index_put
Tensor.index_fill = indexing.index_fill
Tensor.index_fill_ = _general_inplace(indexing.index_fill)
Tensor.apply_ = lambda self, fn: self.copy_(creation.tensor(
    [fn(v) for v in self.reshape(-1).tolist()], dtype=self._dtype).reshape(self._shape))
Tensor.map_ = lambda self, other, fn: self.copy_(creation.tensor(
    [fn(a, b) for a, b in zip(self.reshape(-1).tolist(), other.expand(self._shape).reshape(
        -1).tolist())], dtype=self._dtype).reshape(self._shape))
