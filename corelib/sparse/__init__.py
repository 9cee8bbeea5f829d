"""torch.sparse: sparse COO tensors (see :mod:`plugrad.sparse.coo`) and their functions.

``torch.sparse_coo_tensor``, ``Tensor.to_sparse()`` and the sparse gradients of
``nn.Embedding(sparse=True)`` make :class:`SparseTensor` objects; this module binds their
methods and holds ``torch.sparse.mm`` / ``sum`` / ``addmm``.
"""
from __future__ import annotations

from .._tensor import Tensor
from . import arith
from .coo import SparseTensor, sparse_coo_tensor, to_dense, to_sparse

__all__ = ["mm", "sum", "addmm", "spmm", "SparseTensor", "sparse_coo_tensor",
           "check_sparse_tensor_invariants"]


def mm(mat1, mat2):
    """Matrix product where either operand may be sparse COO (the other dense); a sparse
    operand's gradient keeps its positions (``SparseAddmmBackward0``)."""
    return product(mat1, mat2, masked=True)


def product(mat1, mat2, masked=False):
    """``torch.mm``/``matmul``/``@`` with a sparse operand (a sparse operand's gradient is
    dense, as torch's ``MmBackward0``)."""
    if mat1.is_sparse:
        return arith.mm(mat1, mat2, masked)
    if mat2.is_sparse:
        return arith.rmm(mat1, mat2, masked)
    return mat1.mm(mat2)


def spmm(input, mat2):
    """torch.spmm: ``torch.mm`` of a sparse and a dense matrix."""
    return product(input, mat2)


def addmm(mat, mat1, mat2, *, beta=1.0, alpha=1.0):
    """beta * mat + alpha * (mat1 @ mat2) with sparse ``mat1``."""
    prod = mm(mat1, mat2)
    if alpha != 1:
        prod = prod * alpha
    if mat.is_sparse:
        mat = to_dense(mat)
    return prod + (mat * beta if beta != 1 else mat)


def sum(input, dim=None, dtype=None):
    """Sum of a sparse tensor: a dense 0-dim tensor over everything, else over ``dim``
    (sparse while sparse dims remain)."""
    if not input.is_sparse:
        return input.sum(dim, dtype=dtype) if dim is not None else input.sum(dtype=dtype)
    return arith.sum(input, dim, dtype=dtype)


class check_sparse_tensor_invariants:
    """torch's context manager/decorator: plugrad always checks index bounds when a sparse
    tensor is made, so this only records the flag."""
    _enabled = False

    def __init__(self, enable=True):
        self.enable = enable

    @staticmethod
    def is_enabled():
        return check_sparse_tensor_invariants._enabled

    @staticmethod
    def enable():
        check_sparse_tensor_invariants._enabled = True

    @staticmethod
    def disable():
        check_sparse_tensor_invariants._enabled = False

    def __enter__(self):
        self._saved = check_sparse_tensor_invariants._enabled
        check_sparse_tensor_invariants._enabled = self.enable
        return self

    def __exit__(self, *exc):
        check_sparse_tensor_invariants._enabled = self._saved

    def __call__(self, fn):
        import functools

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with check_sparse_tensor_invariants(self.enable):
                return fn(*args, **kwargs)
        return wrapper


# ---------------------------------------------------------------- methods of sparse tensors

def _add(self, other, *, alpha=1):
    return arith.add(self, other, alpha=alpha)


def _scalar_other(other):
    return not isinstance(other, Tensor)


def _radd(self, other):
    if _scalar_other(other):
        return _add(self, other)
    return arith.add(other, self)


def _sub(self, other, *, alpha=1):
    return _add(self, other, alpha=-alpha) if isinstance(other, Tensor) else _add(self, other)


def _rsub(self, other):
    if _scalar_other(other):
        return _add(self, other)
    return arith.add(other, self, alpha=-1)


def _add_(self, other, *, alpha=1):
    return arith.sparse_add_(self, other, alpha=alpha)


def _sub_(self, other, *, alpha=1):
    return arith.sparse_add_(self, other, alpha=-alpha)


def _matmul(self, other):
    return product(self, other)


def _rmatmul(self, other):
    return product(other, self)


def _sum(self, dim=None, keepdim=False, *, dtype=None):
    if keepdim:
        raise NotImplementedError("sum(keepdim=True) of a sparse tensor is not supported")
    return arith.sum(self, dim, dtype=dtype)


def _t(self):
    if len(self._shape) > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 sparse and 0 dense dimensions, "
                           f"but self is {len(self._shape)}D")
    return arith.transpose(self, 0, 1) if len(self._shape) == 2 else self


def _zero_(self):
    from .. import _dtype as D
    self._sp_indices = self._sp_indices.new_zeros((self._sp_indices._shape[0], 0),
                                                  dtype=D.int64)
    self._sp_values = self._sp_values.new_zeros((0,) + tuple(self._sp_values._shape[1:]))
    self._sp_coalesced = True
    self._bump_version()
    return self


# unary ops that map 0 to 0: torch coalesces, then applies them to the values (methods only:
# ``torch.sqrt(s)`` still raises NotImplementedError)
_ZERO_PRESERVING = ("abs", "sqrt", "sin", "tan", "tanh", "asin", "atan", "sinh",
                    "atanh", "expm1", "log1p", "floor", "ceil", "round", "trunc", "sign", "sgn",
                    "erf", "erfinv", "deg2rad", "rad2deg", "frac", "relu", "square", "signbit",
                    "isnan", "isinf", "nan_to_num")


def _values_op(name):
    def method(self, *args, **kwargs):
        from .coo import coalesce, construct, entries
        c = coalesce(self)
        indices, values = entries(c)
        return construct(indices, getattr(values, name)(*args, **kwargs), c._shape, True,
                         f"{name.capitalize()}Backward0")
    method.__name__ = method.__qualname__ = name
    method.__doc__ = (f"``{name}`` of each entry (0 maps to 0, so the result stays sparse); "
                      "the tensor is coalesced first, as torch does.")
    return method


def _pow(self, exponent):
    """Entries raised to a positive scalar power (0 stays 0), coalesced first as torch."""
    if isinstance(exponent, Tensor) or not exponent > 0:
        raise NotImplementedError("pow of a sparse tensor: plugrad takes a positive scalar "
                                  "exponent only")
    return _values_op("pow")(self, exponent)


_SPARSE_METHODS = {
    "add": _add, "__add__": _add, "__radd__": _radd, "add_": _add_, "__iadd__": _add_,
    "sub": _sub, "__sub__": _sub, "__rsub__": _rsub, "sub_": _sub_, "__isub__": _sub_,
    "mul": arith.mul, "__mul__": arith.mul, "__rmul__": arith.mul, "mul_": arith.sparse_mul_,
    "__imul__": arith.sparse_mul_,
    "div": arith.div, "__truediv__": arith.div, "neg": arith.neg, "__neg__": arith.neg,
    "mm": _matmul, "matmul": _matmul, "__matmul__": _matmul, "__rmatmul__": _rmatmul,
    "sum": _sum, "t": _t, "transpose": arith.transpose, "zero_": _zero_,
}
_SPARSE_METHODS.update({n: _values_op(n) for n in _ZERO_PRESERVING})
_SPARSE_METHODS["pow"] = _SPARSE_METHODS["__pow__"] = _pow
for _name, _fn in _SPARSE_METHODS.items():
    setattr(SparseTensor, _name, _fn)


def _dense_to_sparse(self, sparse_dim=None, *, layout=None, blocksize=None, dense_dim=None):
    """This dense tensor in sparse COO layout (see :func:`plugrad.sparse.coo.to_sparse`)."""
    return to_sparse(self, sparse_dim, layout=layout, blocksize=blocksize, dense_dim=dense_dim)


def _dense_to_dense(self, dtype=None, *, masked_grad=None):
    """A dense tensor is its own dense form."""
    return self if dtype is None else self.to(dtype)


def _dense_sparse_mask(self, mask):
    """The entries of this dense tensor at the positions of sparse ``mask``."""
    return arith.sparse_mask(self, mask)


def _dense_coalesce(self):
    """A dense tensor cannot be coalesced: torch's RuntimeError."""
    raise RuntimeError("coalesce expected sparse coordinate tensor layout but got Strided")


Tensor.to_sparse = _dense_to_sparse
Tensor.to_sparse_coo = _dense_to_sparse
Tensor.to_dense = _dense_to_dense
Tensor.sparse_mask = _dense_sparse_mask
Tensor.coalesce = _dense_coalesce
del _name, _fn
