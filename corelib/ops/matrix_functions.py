"""``linalg.matrix_exp``, ``tensorinv``/``tensorsolve`` and ``vander``: composed of frontend ops
(matmuls, reshapes, inv/solve, cumprod), so every backend runs them."""
from __future__ import annotations

import math

from .. import _dtype as D
from .._tensor import Tensor
from ..autograd.function import Function
from ..autograd.grad_mode import no_grad
from .decomp import LinAlgError, _named, check_float, inv_ex, solve

_TAYLOR_DEGREE = 18     # truncation error 1 / 19! < 1e-17 once the 1-norm is <= 1


def _matrix_exp_forward(a):
    """Scaling and squaring of a degree-18 Taylor polynomial (Horner), the 1-norm scaled
    to <= 1: double-precision accurate for every matrix of the batch."""
    from .creation import eye
    n = a._shape[-1]
    if a.numel() == 0:
        return a.clone()
    norm = float(a.abs().sum(-2).max())
    if not math.isfinite(norm):
        squarings = 0
    else:
        squarings = max(0, math.ceil(math.log2(norm))) if norm > 1 else 0
    x = a / (2 ** squarings) if squarings else a
    identity = eye(n, dtype=a._dtype, device=a._device)
    result = identity + x / _TAYLOR_DEGREE
    for k in range(_TAYLOR_DEGREE - 1, 0, -1):         # I + x/1 (I + x/2 (I + ...))
        result = identity + x.matmul(result) / k
    for _ in range(squarings):
        result = result.matmul(result)
    return result


@_named("LinalgMatrixExpBackward0")
class _MatrixExp(Function):
    @staticmethod
    def forward(ctx, A):
        with no_grad():
            out = _matrix_exp_forward(A)
        ctx.save_for_backward(A)
        return out

    @staticmethod
    def backward(ctx, g):
        """torch's: the upper-right block of exp([[A^H, g], [0, A^H]])."""
        from .creation import zeros_like
        from .decomp import mH
        from .movement import cat
        (A,) = ctx.saved_tensors
        n = A._shape[-1]
        h = mH(A)
        block = cat([cat([h, g], -1), cat([zeros_like(g), h], -1)], -2)
        return matrix_exp(block)[..., :n, n:]


def matrix_exp(A):
    """The matrix exponential sum_k A^k / k! of each square matrix of A."""
    if not isinstance(A, Tensor):
        raise TypeError(f"linalg_matrix_exp(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(A).__name__}")
    if A.ndim < 2:
        raise RuntimeError("linalg.matrix_exp: The input tensor A must have at least 2 "
                           "dimensions.")
    if A._shape[-1] != A._shape[-2]:
        raise RuntimeError(f"linalg.matrix_exp: A must be batches of square matrices, but they "
                           f"are {A._shape[-2]} by {A._shape[-1]} matrices")
    if not (A._dtype.is_floating_point or A._dtype.is_complex):
        raise RuntimeError(f"linalg.matrix_exp: Expected a floating point or complex tensor as "
                           f"input. Got {D.legacy_name(A._dtype)}")
    return _MatrixExp.apply(A)


def tensorinv(A, ind=2, *, out=None):
    """The inverse of A viewed as a map from its first ``ind`` dims to the rest: shape
    A.shape[ind:] + A.shape[:ind]."""
    if not isinstance(ind, int) or ind <= 0:
        raise RuntimeError(f"Expected a strictly positive integer for 'ind', but got {ind}")
    rows, cols = math.prod(A._shape[:ind]), math.prod(A._shape[ind:])
    if rows != cols:
        raise RuntimeError(f"Expected self to satisfy the requirement prod(self.shape[ind:]) == "
                           f"prod(self.shape[:ind]), but got {cols} != {rows}")
    check_float(A, "linalg.inv")
    result, info = inv_ex(A.reshape(rows, cols))
    if info.numel() and int(info) != 0:
        raise LinAlgError(f"inv: The diagonal element {int(info)} is zero, the inversion could "
                          "not be completed because the input matrix is singular.")
    return result.reshape(A._shape[ind:] + A._shape[:ind])


def tensorsolve(A, B, dims=None, *, out=None):
    """X with tensordot(A, X, X.ndim) = B; ``dims`` are A's dims moved to the end first."""
    if dims is not None:
        dims = [d % A.ndim for d in dims]
        keep = [d for d in range(A.ndim) if d not in dims]
        A = A.permute(*keep, *dims)
    rows, cols = B.numel(), math.prod(A._shape[B.ndim:])
    if rows != cols:
        raise RuntimeError(f"Expected self to satisfy the requirement prod(self.shape[other.ndim:])"
                           f" == prod(self.shape[:other.ndim]), but got {cols} != {rows}")
    return solve(A.reshape(cols, cols), B.reshape(rows)).reshape(A._shape[B.ndim:])


def _powers(x, N):
    """[x^0, x^1, ..., x^(N-1)] along a new last dim, by cumprod (as torch)."""
    from .movement import cat
    ones = x.new_ones(x._shape + (1,))
    if N == 1:
        return ones
    return cat([ones, x.unsqueeze(-1).expand(x._shape + (N - 1,))], -1).cumprod(-1)


def linalg_vander(x, N=None):
    """The Vandermonde matrix (..., n, N) of x (..., n): increasing powers x^0 ... x^(N-1)."""
    if x.ndim == 0 or N is not None and N <= 1:
        raise RuntimeError("N must be greater than 1.")
    n = x._shape[-1]
    N = n if N is None else N
    if N <= 1:
        raise RuntimeError("N must be greater than 1.")
    if x._dtype is D.bool_:
        x = x.long()
    return _powers(x, N)


def vander(x, N=None, increasing=False):
    """torch.vander: the powers of a 1-d x, decreasing unless ``increasing``."""
    if x.ndim != 1:
        raise RuntimeError("x must be a one-dimensional tensor.")
    if N is None:
        N = x._shape[0]
    if N < 0:
        raise RuntimeError("N must be non-negative.")
    if N == 0:
        from .creation import empty
        return empty((x._shape[0], 0), dtype=x._dtype if x._dtype.is_floating_point
                     or x._dtype.is_complex else D.int64, device=x._device)
    if not (x._dtype.is_floating_point or x._dtype.is_complex):
        x = x.long()
    out = _powers(x, N)
    return out if increasing else out.flip(-1)


__all__ = ["matrix_exp", "tensorinv", "tensorsolve", "linalg_vander", "vander"]
