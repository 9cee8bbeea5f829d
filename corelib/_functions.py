"""The ``torch.*`` function namespace: the table's functions, plus a few written here."""
from __future__ import annotations

from typing import TYPE_CHECKING as _TYPE_CHECKING

from . import _dtype as D
from ._tensor import Tensor
from .ops import strided_views, views
from .ops._graph import named as _named
from .ops._operands import broadcast_shapes as _broadcast_pair
from .ops.inplace import can_cast
from .ops.table import OPS as _OPS
from .ops.table import resolve as _resolve

if _TYPE_CHECKING:
    from collections.abc import Sequence

    from ._tensor import Size

def _inplace_function(name):
    def fn(input, *args, **kwargs):
        return getattr(input, name)(*args, **kwargs)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"torch.{name}(input, ...): input.{name}(...), in place."
    return fn


# every ``f`` variant of the op table, under its name and its aliases; ``F``: torch.name_
for _row in _OPS.values():
    if "f" in _row.variants:
        _fn = _resolve(_row.impl)
        for _name in _row.names():
            globals()[_name] = _fn
    if "F" in _row.variants:
        for _name in _row.names():
            globals()[_name + "_"] = _inplace_function(_name + "_")


def _addmm_activation(input, mat1, mat2, *, beta=1, alpha=1, use_gelu=False):
    """torch._addmm_activation: act(beta*input + alpha*mat1@mat2), fused where the backend can."""
    from .ops import fused
    return fused.addmm_activation(input, mat1, mat2, beta=beta, alpha=alpha, use_gelu=use_gelu)


def is_tensor(obj: object) -> bool:
    """True if obj is a plugrad Tensor."""
    return isinstance(obj, Tensor)


def is_floating_point(input: Tensor) -> bool:
    """True if input's dtype is a floating dtype (float16/bfloat16/float32/float64)."""
    return input._dtype.is_floating_point


def is_complex(input: Tensor) -> bool:
    """True if input's dtype is complex (complex64/complex128)."""
    return input._dtype.is_complex


def numel(input: Tensor) -> int:
    """The number of elements of input (the product of its shape)."""
    return input.numel()


def result_type(tensor1: Tensor | float, tensor2: Tensor | float) -> D.dtype:
    """The dtype an arithmetic op on the two operands (tensors or numbers) would return."""
    from .ops._operands import binary as _prep
    return _prep(tensor1, tensor2)[4]


def broadcast_shapes(*shapes: int | Sequence[int]) -> Size:
    """The shape the given shapes broadcast to (RuntimeError when they do not)."""
    result = ()
    for s in shapes:
        result = _broadcast_pair(result, (s,) if isinstance(s, int) else tuple(s))
    from ._tensor import Size
    return Size(result)


def broadcast_tensors(*tensors: Tensor) -> tuple[Tensor, ...]:
    """The tensors expanded (as views, no copy) to their common broadcast shape."""
    shape = broadcast_shapes(*(t._shape for t in tensors))
    return tuple(t.expand(shape) for t in tensors)


def meshgrid(*tensors: Tensor, indexing: str = "ij") -> tuple[Tensor, ...]:
    """Coordinate grids from 1-D tensors: output i repeats tensor i along dim i
    (``indexing="xy"`` swaps the first two dims, as numpy). Outputs are expanded views."""
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
    return _named(strided_views.diagonal(input, diagonal).clone(), "DiagonalBackward0_copy")


def cdist(x1, x2, p=2.0, compute_mode=None):
    """Pairwise p-norm distances between the rows of x1 and x2 (batched)."""
    if x1.ndim < 2 or x2.ndim < 2:
        raise RuntimeError(f"cdist only supports at least 2D tensors, X1 got: {x1.ndim}D")
    if x1._shape[-1] != x2._shape[-1]:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: "
                           f"{x1._shape[-1]} X2: {x2._shape[-1]}")
    diff = x1.unsqueeze(-2) - x2.unsqueeze(-3)
    return _named(diff.norm(p=p, dim=-1), "CdistBackward0")


def detach(input: Tensor) -> Tensor:
    """A new tensor sharing input's data, cut from the autograd graph (requires_grad False)."""
    return input.detach()


def numpy_dtype(dt):
    return dt.np


__all__ = [n for n in dir() if not n.startswith("_") and n not in (
    "D", "Tensor", "activation", "binary", "conversion", "creation", "indexing", "linalg",
    "movement", "reduce", "unary", "views", "annotations", "numpy_dtype", "math_extra",
    "stats")]
__all__.append("can_cast")
