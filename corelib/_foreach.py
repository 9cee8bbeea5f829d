"""``torch._foreach_*``: one op over a list of tensors, as optimizers (timm's, torch's own
``foreach=True`` paths) and gradient utilities call them directly.

torch runs these as multi-tensor kernels; here each is the plain op per tensor, so results,
dtypes, autograd and errors are those of the single-tensor ops. What torch checks first is
checked here the same way, with its messages: the list argument's type, an empty list,
lists of different lengths, scalar lists of the wrong length, and a tensor "scalar" with more
than one element. Out-of-place forms return a tuple (as torch's binding does); in-place forms
(``_foreach_add_``) update each tensor and return the list they were given.
"""
from __future__ import annotations

import numbers

from ._tensor import Tensor

_UNARY = ("abs", "acos", "asin", "atan", "ceil", "cos", "cosh", "erf", "erfc", "exp", "expm1",
          "floor", "frac", "lgamma", "log", "log10", "log1p", "log2", "neg", "reciprocal",
          "round", "rsqrt", "sigmoid", "sign", "sin", "sinh", "sqrt", "tan", "tanh", "trunc")


def _tensors(name, value, position=1, arg="self"):
    if not isinstance(value, (list, tuple)) or not all(isinstance(t, Tensor) for t in value):
        raise TypeError(f"_foreach_{name}(): argument '{arg}' (position {position}) must be "
                        f"tuple of Tensors, not {type(value).__name__}")
    if not value:
        raise RuntimeError("Tensor list must have at least one tensor.")
    return value


def _same_length(tensors, others):
    if len(others) != len(tensors):
        raise RuntimeError(f"Tensor lists must have the same number of tensors, got "
                           f"{len(tensors)} and {len(others)}")


def _is_number(value):
    return isinstance(value, numbers.Number) and not isinstance(value, Tensor)


def _invalid(name, *args):
    kinds = ", ".join(type(a).__name__ for a in args)
    return TypeError(f"_foreach_{name}() received an invalid combination of arguments - got "
                     f"({kinds})")


def _per_tensor_operands(name, tensors, other, tensor_scalar=True):
    """``other`` spread over ``tensors``: a tensor list, a scalar list, a Number, or a 0-dim
    Tensor; a list of operands of the same length. ``tensor_scalar``: the op has torch's
    Tensor overload (add/mul/div); the others read a 0-dim Tensor as a Number."""
    n = len(tensors)
    if isinstance(other, (list, tuple)):
        if other and all(isinstance(o, Tensor) for o in other):
            _same_length(tensors, other)
            return list(other)
        if all(_is_number(o) for o in other):
            if len(other) != n:
                raise RuntimeError("Tensor list must have same number of elements as scalar "
                                   "list.")
            return list(other)
        raise _invalid(name, tensors, other)
    if _is_number(other):
        return [other] * n
    if isinstance(other, Tensor):
        if other.dim() != 0:
            raise RuntimeError(f"scalar tensor expected to be 0 dim but it has {other.dim()} "
                               f"dimensions and {other.numel()} elements.")
        return [other] * n
    raise _invalid(name, tensors, other)


def _unary(name):
    def op(self):
        return tuple(getattr(t, name)() for t in _tensors(name, self))

    def op_(self):
        for t in _tensors(name + "_", self):
            getattr(t, name + "_")()
        return self
    op.__doc__ = f"``torch.{name}`` of each tensor (a tuple of results)."
    op_.__doc__ = f"``Tensor.{name}_`` on each tensor in place; returns the list."
    return op, op_


def _binary(name, method, alpha=False, tensor_scalar=True):
    def run(self, other, inplace, alpha_value):
        label = name + ("_" if inplace else "")
        tensors = _tensors(label, self)
        if alpha_value is not None and not tensor_scalar and isinstance(other, Tensor):
            # sub(list, Tensor) is the Scalar overload, which has no alpha
            raise TypeError(f"_foreach_{label}(): argument 'other' (position 2) must be tuple "
                            "of Tensors, not Tensor")
        if alpha_value is not None and alpha_value != 1 and not (
                isinstance(other, Tensor) or isinstance(other, (list, tuple)) and other and
                all(isinstance(o, Tensor) for o in other)):
            raise _invalid(label, self, other)
        others = _per_tensor_operands(label, tensors, other, tensor_scalar)
        kwargs = {} if alpha_value is None or alpha_value == 1 else {"alpha": alpha_value}
        if inplace:
            for t, o in zip(tensors, others):
                getattr(t, method + "_")(o, **kwargs)
            return self
        return tuple(getattr(t, method)(o, **kwargs) for t, o in zip(tensors, others))

    if alpha:
        def op(self, other, *, alpha=None):
            return run(self, other, False, alpha)

        def op_(self, other, *, alpha=None):
            return run(self, other, True, alpha)
    else:
        def op(self, other):
            return run(self, other, False, None)

        def op_(self, other):
            return run(self, other, True, None)
    op.__doc__ = (f"``{method}`` of each tensor with its operand: a tensor list, a scalar "
                  "list, a Number" + (" or a 0-dim Tensor" if tensor_scalar else "") + ".")
    op_.__doc__ = f"In-place form of ``_foreach_{name}``; returns the list."
    return op, op_


def _pointwise(name, method):
    """addcmul/addcdiv: self + value * t1 op t2. torch's overloads: a Number ``value``
    (positional or keyword), or per-tensor ``scalars`` (positional or keyword) as a list or a
    1-D Tensor."""
    def parse(label, args, kwargs):
        if len(args) + len(kwargs) > 1 or set(kwargs) - {"value", "scalars"}:
            raise _invalid(label, *args, *kwargs.values())
        if args:
            return args[0]
        if "value" in kwargs:
            if not _is_number(kwargs["value"]):
                raise _invalid(label, kwargs["value"])
            return kwargs["value"]
        if "scalars" in kwargs:
            if _is_number(kwargs["scalars"]):
                raise _invalid(label, kwargs["scalars"])
            return kwargs["scalars"]
        return 1

    def run(self, tensor1, tensor2, value, inplace):
        label = name + ("_" if inplace else "")
        tensors = _tensors(label, self)
        t1 = _tensors(label, tensor1, 2, "tensor1")
        t2 = _tensors(label, tensor2, 3, "tensor2")
        _same_length(tensors, t1)
        _same_length(tensors, t2)
        if isinstance(value, Tensor):
            if value.dim() != 1:
                raise RuntimeError(f"Expected scalars to be 1D tensor, but got {value.dim()}D "
                                   "tensor instead.")
            if value.numel() != len(tensors):
                raise RuntimeError(f"Expected length of scalars to match input of length "
                                   f"{len(tensors)} but got {value.numel()} instead.")
            values = value.tolist()
        elif isinstance(value, (list, tuple)):
            if len(value) != len(tensors):
                raise RuntimeError("Tensor list must have same number of elements as scalar "
                                   "list.")
            values = list(value)
        elif _is_number(value):
            values = [value] * len(tensors)
        else:
            raise _invalid(label, self, tensor1, tensor2, value)
        if inplace:
            for t, a, b, v in zip(tensors, t1, t2, values):
                getattr(t, method + "_")(a, b, value=v)
            return self
        return tuple(getattr(t, method)(a, b, value=v)
                     for t, a, b, v in zip(tensors, t1, t2, values))

    def op(self, tensor1, tensor2, *args, **kwargs):
        return run(self, tensor1, tensor2, parse(name, args, kwargs), False)

    def op_(self, tensor1, tensor2, *args, **kwargs):
        return run(self, tensor1, tensor2, parse(name + "_", args, kwargs), True)
    op.__doc__ = f"``{method}`` of each tensor (value: Number, scalar list or 1-D Tensor)."
    op_.__doc__ = f"In-place form of ``_foreach_{name}``; returns the list."
    return op, op_


def _lerp_weights(label, tensors, weight):
    if isinstance(weight, (list, tuple)):
        if weight and all(isinstance(w, Tensor) for w in weight):
            _same_length(tensors, weight)
            return list(weight)
        if len(weight) != len(tensors):
            raise RuntimeError("Tensor list must have same number of elements as scalar list.")
        return list(weight)
    if _is_number(weight) or isinstance(weight, Tensor):
        return [weight] * len(tensors)
    raise _invalid(label, tensors, weight)


def _foreach_lerp(self, tensors1, weight):
    """``lerp`` of each tensor towards its partner (weight: Number, scalar list or tensors)."""
    tensors = _tensors("lerp", self)
    ends = _tensors("lerp", tensors1, 2, "tensors1")
    _same_length(tensors, ends)
    return tuple(t.lerp(e, w) for t, e, w in zip(tensors, ends,
                                                 _lerp_weights("lerp", tensors, weight)))


def _foreach_lerp_(self, tensors1, weight):
    """In-place form of ``_foreach_lerp``; returns the list."""
    tensors = _tensors("lerp_", self)
    ends = _tensors("lerp_", tensors1, 2, "tensors1")
    _same_length(tensors, ends)
    for t, e, w in zip(tensors, ends, _lerp_weights("lerp_", tensors, weight)):
        t.lerp_(e, w)
    return self


def _foreach_pow(self, exponent):
    """``pow`` of each tensor; ``self`` may be a Number raised to each tensor."""
    from .ops.binary import pow as _pow
    if _is_number(self):
        return tuple(_pow(self, e) for e in _tensors("pow", exponent, 2, "exponent"))
    tensors = _tensors("pow", self)
    return tuple(t.pow(e) for t, e in zip(tensors,
                                         _per_tensor_operands("pow", tensors, exponent, False)))


def _foreach_pow_(self, exponent):
    """In-place form of ``_foreach_pow``; returns the list."""
    tensors = _tensors("pow_", self)
    for t, e in zip(tensors, _per_tensor_operands("pow_", tensors, exponent, False)):
        t.pow_(e)
    return self


def _foreach_norm(self, ord=2, dtype=None):  # noqa: A002  (torch's parameter name)
    """The vector ``ord``-norm of each tensor (0-dim tensors), optionally in ``dtype``."""
    from .linalg import vector_norm
    return tuple(vector_norm(t, ord, dtype=dtype) for t in _tensors("norm", self))


def _foreach_powsum(self, ord=2, dtype=None):  # noqa: A002
    """sum(|x| ** ord) of each tensor (the norm before its root), optionally in ``dtype``."""
    out = []
    for t in _tensors("powsum", self):
        t = t if dtype is None else t.to(dtype)
        out.append(t.abs().pow(ord).sum())
    return tuple(out)


def _foreach_max(self):
    """The largest element of each tensor (0-dim tensors)."""
    return tuple(t.max() for t in _tensors("max", self))


def _foreach_mm(self, mat2):
    """``mm`` of each matrix with its partner."""
    tensors = _tensors("mm", self)
    others = _tensors("mm", mat2, 2, "mat2")
    _same_length(tensors, others)
    return tuple(a.mm(b) for a, b in zip(tensors, others))


def _foreach_clone(self):
    """A copy of each tensor."""
    return tuple(t.clone() for t in _tensors("clone", self))


def _foreach_copy_(self, src, non_blocking=False):
    """Copy each source into its tensor in place; returns the list."""
    tensors = _tensors("copy_", self)
    sources = _tensors("copy_", src, 2, "src")
    _same_length(tensors, sources)
    for t, s in zip(tensors, sources):
        t.copy_(s, non_blocking=non_blocking)
    return self


def _foreach_zero_(self):
    """Zero each tensor in place; returns the list."""
    for t in _tensors("zero_", self):
        t.zero_()
    return self


def build():
    """Every ``_foreach_*`` function by name (unary ones only where plugrad has the op)."""
    import sys
    found = {}
    module = sys.modules[__name__]
    for name in _UNARY:
        if hasattr(Tensor, name) and hasattr(Tensor, name + "_"):
            op, op_ = _unary(name)
            found[f"_foreach_{name}"], found[f"_foreach_{name}_"] = op, op_
    for name, alpha, tensor_scalar in (("add", True, True), ("sub", True, False),
                                       ("mul", False, True), ("div", False, True),
                                       ("maximum", False, True), ("minimum", False, True),
                                       ("clamp_min", False, True),
                                       ("clamp_max", False, True)):
        # maximum/minimum with a scalar are clamps; clamp_min/max take tensors too
        method = {"maximum": "clamp_min", "minimum": "clamp_max"}.get(name, name)
        op, op_ = _binary(name, method, alpha, tensor_scalar)
        found[f"_foreach_{name}"], found[f"_foreach_{name}_"] = op, op_
    for name in ("addcmul", "addcdiv"):
        op, op_ = _pointwise(name, name)
        found[f"_foreach_{name}"], found[f"_foreach_{name}_"] = op, op_
    for name in ("lerp", "lerp_", "pow", "pow_", "norm", "powsum", "max", "mm", "clone",
                 "copy_", "zero_"):
        found[f"_foreach_{name}"] = getattr(module, f"_foreach_{name}")
    for name, fn in found.items():
        fn.__name__ = fn.__qualname__ = name
    return found
