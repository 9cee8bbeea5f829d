"""The rest of ``torch.linalg``, composed from the factorizations and ordinary ops.

Norms, pseudo-inverse, least squares, rank, powers, products and the older ``torch.*``
spellings. Being compositions of differentiable ops, their gradients come for free (and are
torch's where torch also composes: pinv, matrix_norm, lstsq through the pseudo-inverse).
"""
from __future__ import annotations

import math
import warnings

from .. import _dtype as D
from ._graph import named
from ._operands import broadcast_shapes
from .._tensor import Tensor
from ..autograd.function import Function
from .decomp import (LinAlgError, _named, _ret, check_float, check_matrix, cholesky, eigh, inv, mH,
                     solve_triangular, svd, svdvals)


def _matmul(a, b):
    from .linalg import matmul
    return matmul(a, b)


def _eye_like(A, n):
    from .creation import eye
    return eye(n, dtype=A._dtype, device=A._device)


# ------------------------------------------------------------------------------- norms
def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None, out=None):
    """The vector ord-norm of x over ``dim`` (all elements by default)."""
    if isinstance(ord, (str, type(None))) or isinstance(ord, bool):
        raise TypeError(f"linalg_vector_norm(): argument 'ord' must be Number, not "
                        f"{type(ord).__name__}")
    from .reduce import norm
    if x._dtype.is_complex:
        x = x.abs()
    return norm(x, float(ord), dim, keepdim, dtype=dtype)


def _matrix_dims(A, dim, fname):
    if not isinstance(dim, (tuple, list)) or len(dim) != 2:
        raise RuntimeError(f"{fname}: dim must be a 2-tuple. Got "
                           f"{' '.join(str(d) for d in (dim if isinstance(dim, (tuple, list)) else [dim]))}")
    nd = A.ndim
    d0, d1 = (d + nd if d < 0 else d for d in dim)
    if d0 == d1:
        raise RuntimeError(f"{fname}: dims must be different. Got ({dim[0]}, {dim[1]})")
    return d0, d1


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None, out=None):
    """'fro', 'nuc', inf, -inf, 1, -1, 2 or -2 matrix norm over the two dims ``dim``."""
    fname = "linalg.matrix_norm"
    if A.ndim < 2:
        raise RuntimeError(f"{fname}: The input tensor A must have at least 2 dimensions.")
    if not (A._dtype.is_floating_point or A._dtype.is_complex):
        check_float(A, fname)
    if dtype is not None:
        A = A.to(dtype)
    d0, d1 = _matrix_dims(A, dim, fname)
    if isinstance(ord, str):
        if ord not in ("fro", "nuc"):
            raise RuntimeError(f"{fname}: Order {ord} not supported.")
    elif ord not in (1, -1, 2, -2, math.inf, -math.inf):
        raise RuntimeError(f"{fname}: Order {ord:g} not supported.")
    if ord == "fro":
        return vector_norm(A, 2, (d0, d1), keepdim)
    if ord in ("nuc", 2, -2):
        moved = A.movedim((d0, d1), (-2, -1))
        s = svdvals(moved)
        if ord == "nuc":
            r = s.sum(-1)
        else:
            r = s.amax(-1) if ord == 2 else s.amin(-1)
        if keepdim:
            r = r.unsqueeze(min(d0, d1)).unsqueeze(max(d0, d1))
        return r
    a = A.abs()
    if ord in (1, -1):          # max/min column sum: sum over rows (d0), then over d1
        s = a.sum(d0, keepdim=True)
        r = s.amax(d1, keepdim=True) if ord > 0 else s.amin(d1, keepdim=True)
    else:                       # inf: row sums
        s = a.sum(d1, keepdim=True)
        r = s.amax(d0, keepdim=True) if ord > 0 else s.amin(d0, keepdim=True)
    return r if keepdim else r.squeeze((d0, d1))


def norm(A, ord=None, dim=None, keepdim=False, *, dtype=None, out=None):
    """linalg.norm: a vector norm over one dim (or all, flattened), a matrix norm over two."""
    if isinstance(dim, int):
        dim = (dim,)
    if dim is not None and len(dim) == 2:
        return matrix_norm(A, "fro" if ord is None else ord, tuple(dim), keepdim, dtype=dtype)
    if dim is None and ord is not None:
        if A.ndim == 2:
            return matrix_norm(A, ord, (-2, -1), keepdim, dtype=dtype)
        if A.ndim != 1:
            raise RuntimeError("linalg.norm: If dim is not specified but ord is, the input "
                               f"must be 1D or 2D. Got {A.ndim}D.")
    if isinstance(ord, str):
        raise RuntimeError(f"linalg.norm: If dim is specified, it mut be of length 1 or 2. "
                           f"Got {list(dim) if dim is not None else dim}")
    return vector_norm(A, 2 if ord is None else ord, dim, keepdim, dtype=dtype)


def cond(A, p=None, *, out=None):
    """The condition number: smax/smin (p None or 2), else norm(A, p) * norm(inv(A), p)."""
    check_matrix(A, "linalg.cond", square=p not in (None, 2, -2))
    if p in (None, 2, -2):
        s = svdvals(A)
        r = s.amax(-1) / s.amin(-1)
        return r if p != -2 else 1 / r
    return matrix_norm(A, p) * matrix_norm(inv(A), p)


# -------------------------------------------------------------------- pinv / rank / lstsq
def _tolerance(A, S, atol, rtol, fname):
    """max(atol, rtol * smax) with torch's default rtol eps * max(m, n) when neither given."""
    smax = S.amax(-1, keepdim=True) if S._shape[-1] else S.sum(-1, keepdim=True)
    if rtol is None:
        eps = 2.220446049250313e-16 if A._dtype.to_real() is D.float64 else 1.1920928955078125e-07
        rtol = eps * max(A._shape[-2:]) if atol is None or (
            isinstance(atol, (int, float)) and atol <= 0) else 0.0
    atol = 0.0 if atol is None else atol
    tol = smax * rtol
    if isinstance(atol, Tensor):
        from .binary import maximum
        return maximum(atol.unsqueeze(-1) if atol.ndim else atol, tol)
    return tol.clamp(min=atol)


def pinv(A, *, atol=None, rtol=None, hermitian=False, out=None):
    """The Moore-Penrose pseudo-inverse through the SVD (eigh when hermitian); singular
    values at or below max(atol, rtol * smax) count as zero. Its gradient is torch's
    pinv_backward (the general formula, whichever factorization ran)."""
    check_matrix(A, "linalg.pinv", square=False)
    return _Pinv.apply(A, atol, rtol, hermitian)


def _pinv_forward(A, atol, rtol, hermitian):
    if hermitian:
        L, V = eigh(A)
        tol = _tolerance(A, L.abs(), atol, rtol, "linalg.pinv")
        Linv = (1 / L).where(L.abs() > tol, 0.0)
        return _matmul(V * Linv.unsqueeze(-2), mH(V))
    U, S, Vh = svd(A, full_matrices=False)
    tol = _tolerance(A, S, atol, rtol, "linalg.pinv")
    Sinv = (1 / S).where(S > tol, 0.0)
    return _matmul(mH(Vh) * Sinv.unsqueeze(-2), mH(U))


@_named("LinalgPinvBackward0")
class _Pinv(Function):
    @staticmethod
    def forward(ctx, A, atol, rtol, hermitian):
        P = _pinv_forward(A, atol, rtol, hermitian)
        ctx.save_for_backward(A, P)
        return P

    @staticmethod
    def backward(ctx, g):
        A, P = ctx.saved_tensors
        m, n = A._shape[-2:]
        Ph, gh = mH(P), mH(g)
        mm = _matmul
        if m <= n:
            K = mm(gh, P)
            KPh = mm(K, Ph)
            gA = -mH(mm(P, K)) + KPh - mm(mm(A, P), KPh) + mm(mm(Ph, P), gh - mm(K, A))
        else:
            K = mm(P, gh)
            PhK = mm(Ph, K)
            gA = -mH(mm(K, P)) + mm(mm(gh - mm(A, K), P), Ph) + PhK - mm(mm(PhK, P), A)
        return gA, None, None, None


def pinverse(input, rcond=1e-15):
    """torch.pinverse: pinv with rtol=rcond."""
    return pinv(input, rtol=rcond)


def matrix_rank(A, *, atol=None, rtol=None, hermitian=False, tol=None, out=None):
    """The number of singular values (|eigenvalues| when hermitian) above the tolerance."""
    check_matrix(A, "linalg.matrix_rank", square=False)
    if tol is not None:
        atol, rtol = tol, 0.0
    from ..autograd.grad_mode import no_grad
    with no_grad():
        S = eigh(A)[0].abs() if hermitian else svdvals(A)
        cut = _tolerance(A, S, atol, rtol, "linalg.matrix_rank")
        return (S > cut).sum(-1)


_DRIVERS = ("gels", "gelsy", "gelsd", "gelss")


def lstsq(A, B, rcond=None, *, driver=None):
    """(solution, residuals, rank, singular_values) of min ||A X - B|| (torch's cpu drivers:
    gelsy by default, no singular values; gelsd/gelss give them; residuals only when
    m > n and every matrix has full rank, for the drivers that report them)."""
    fname = "torch.linalg.lstsq"
    check_matrix(A, "linalg.lstsq", square=False)
    if not isinstance(B, Tensor):
        raise TypeError(f"linalg_lstsq(): argument 'b' (position 2) must be Tensor, not "
                        f"{type(B).__name__}")
    if driver is not None and driver not in _DRIVERS:
        raise RuntimeError(f"{fname}: parameter `driver` should be one of (gels, gelsy, "
                           f"gelsd, gelss)")
    driver = driver or "gelsy"
    vector = B.ndim == A.ndim - 1
    B2 = B.unsqueeze(-1) if vector else B
    if A._shape[-2] != B2._shape[-2]:
        raise RuntimeError(f"{fname}: input.size(-2) should match other.size(-2)")
    if A._dtype is not B._dtype:
        raise RuntimeError(f"{fname}: Expected input and other to have the same dtype, but "
                           f"got input's dtype {D.legacy_name(A._dtype)} and other's dtype "
                           f"{D.legacy_name(B._dtype)}")
    m, n = A._shape[-2:]
    eps = 2.220446049250313e-16 if A._dtype.to_real() is D.float64 else 1.1920928955078125e-07
    rtol = eps * max(m, n) if rcond is None or rcond < 0 else rcond
    X = _matmul(pinv(A, rtol=rtol), B2)
    from ..autograd.grad_mode import no_grad
    with no_grad():
        S = svdvals(A)
        rank = (S > S.amax(-1, keepdim=True) * rtol).sum(-1) if S._shape[-1] else \
            S.sum(-1).long()
    empty = A.new_zeros((0,)).to(A._dtype.to_real())
    if driver == "gels":
        rank_out = A.new_zeros((0,), dtype=D.int64)
    else:
        rank_out = rank
    resid = empty
    if driver != "gelsy" and m > n and bool((rank == n).all()):
        r = _matmul(A, X) - B2
        resid = (r.abs() ** 2).sum(-2)
    sv = S if driver in ("gelsd", "gelss") else empty
    return _ret("linalg_lstsq", ("solution", "residuals", "rank", "singular_values"),
                (X.squeeze(-1) if vector else X, resid, rank_out, sv))


# --------------------------------------------------------------------- powers, products
def matrix_power(A, n):
    """A^n by repeated squaring (n < 0: of the inverse; n == 0: identity)."""
    check_matrix(A, "linalg.matrix_power", allow_int=True)
    if not isinstance(n, int) or isinstance(n, bool):
        raise TypeError(f"matrix_power(): argument 'n' (position 2) must be int, not "
                        f"{type(n).__name__}")
    size = A._shape[-1]
    if n == 0:
        return _eye_like(A, size).expand(A._shape).clone()
    if n < 0:
        A, n = inv(A), -n
    result, base = None, A
    while n:
        if n & 1:
            result = base if result is None else _matmul(result, base)
        n >>= 1
        if n:
            base = _matmul(base, base)
    return result if result is not A else A.clone()


def multi_dot(tensors, *, out=None):
    """The chained product of a list of matrices (the first/last may be vectors)."""
    tensors = list(tensors)
    if len(tensors) < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {len(tensors)}")
    first_vec, last_vec = tensors[0].ndim == 1, tensors[-1].ndim == 1
    for i, t in enumerate(tensors):
        want = 1 if (i == 0 and first_vec) or (i == len(tensors) - 1 and last_vec) else 2
        if t.ndim != want and not (t.ndim == 2):
            raise RuntimeError(f"multi_dot(): tensor {i} must be 2D but got {t.ndim}D")
    mats = list(tensors)
    if first_vec:
        mats[0] = mats[0].unsqueeze(0)
    if last_vec:
        mats[-1] = mats[-1].unsqueeze(-1)
    result = _chain(mats)
    if first_vec:
        result = result.squeeze(0)
    if last_vec:
        result = result.squeeze(-1)
    return result


def _chain(mats):
    """Multiply in the order of least scalar multiplications (torch's dynamic programme)."""
    n = len(mats)
    dims = [mats[0]._shape[0]] + [m._shape[1] for m in mats]
    cost = [[0] * n for _ in range(n)]
    split = [[0] * n for _ in range(n)]
    for length in range(1, n):
        for i in range(n - length):
            j = i + length
            cost[i][j] = math.inf
            for k in range(i, j):
                c = cost[i][k] + cost[k + 1][j] + dims[i] * dims[k + 1] * dims[j + 1]
                if c < cost[i][j]:
                    cost[i][j], split[i][j] = c, k

    def build(i, j):
        if i == j:
            return mats[i]
        k = split[i][j]
        return _matmul(build(i, k), build(k + 1, j))
    return build(0, n - 1)


def cross(input, other, *, dim=-1, out=None):
    """The 3-vector cross product along ``dim`` (batch dims broadcast)."""
    nd = max(input.ndim, other.ndim)
    d = dim + nd if dim < 0 else dim
    a_len = input._shape[dim] if input.ndim else 0
    b_len = other._shape[dim] if other.ndim else 0
    if a_len != 3 or b_len != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3. Got "
                           f"{a_len} and {b_len}")
    a0, a1, a2 = (input.narrow(dim, i, 1) for i in range(3))
    b0, b1, b2 = (other.narrow(dim, i, 1) for i in range(3))
    from .movement import cat
    return named(cat([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0], d),
                 "LinalgCrossBackward0")


_CROSS_DIM_DEPRECATED = (
    "Using torch.cross without specifying the dim arg is deprecated.\nPlease either pass the "
    "dim explicitly or simply use torch.linalg.cross.\nThe default value of dim will change "
    "to agree with that of linalg.cross in a future release.")


def torch_cross(input, other, dim=None, *, out=None):
    """``torch.cross`` / ``Tensor.cross``: :func:`cross` along ``dim``; without it, along the
    first dimension of size 3 (torch's deprecated default, with its warning)."""
    if dim is None:
        warnings.warn(_CROSS_DIM_DEPRECATED, UserWarning, stacklevel=3)
        shape = broadcast_shapes(input._shape, other._shape)
        dim = next((i for i, size in enumerate(shape) if size == 3), None)
        if dim is None:
            raise RuntimeError("no dimension of size 3 in input")
    result = cross(input, other, dim=dim)
    if out is None:
        return result
    return out.copy_(result)


def vecdot(x, y, *, dim=-1, out=None):
    """sum(conj(x) * y) over ``dim``."""
    return ((x.conj() if x._dtype.is_complex else x) * y).sum(dim)


def householder_product(A, tau, *, out=None):
    """The first n columns of H_1 ... H_k, H_i = I - tau_i v_i v_i^H, v_i the i-th column
    of A below the diagonal with an implicit 1 on it (LAPACK's orgqr)."""
    fname = "torch.linalg.householder_product"
    if not isinstance(tau, Tensor):
        raise TypeError(f"linalg_householder_product(): argument 'tau' (position 2) must be "
                        f"Tensor, not {type(tau).__name__}")
    if A.ndim < 2:
        raise RuntimeError(f"{fname}: input must have at least 2 dimensions.")
    m, n = A._shape[-2:]
    k = tau._shape[-1] if tau.ndim else 0
    if m < n:
        raise RuntimeError(f"{fname}: input.shape[-2] must be greater than or equal to "
                           "input.shape[-1]")
    if n < k:
        raise RuntimeError(f"{fname}: input.shape[-1] must be greater than or equal to "
                           "tau.shape[-1]")
    if tau.ndim != A.ndim - 1:
        raise RuntimeError(f"{fname}: Expected tau to have one dimension less than input, but "
                           f"got tau.ndim equal to {tau.ndim} and input.ndim is equal to {A.ndim}")
    eye = _eye_like(A, m)
    Q = eye.expand(A._shape[:-2] + (m, m))
    for i in range(k):
        mask = eye[:, i:i + 1]                                  # e_i
        col = A[..., :, i:i + 1]
        lower = _below(m, i, A)
        v = col * lower + mask                                  # (..., m, 1)
        t = tau[..., i:i + 1].unsqueeze(-1)
        Q = Q - t * _matmul(_matmul(Q, v), mH(v))
    return Q[..., :, :n]


def orgqr(input, tau, *, out=None):
    """torch.orgqr: the Q of a :func:`geqrf` factorization (linalg.householder_product)."""
    return householder_product(input, tau)


def geqrf(input, *, out=None):
    """(a, tau): LAPACK's compact QR -- R on and above the diagonal, the Householder vectors
    below it (each with an implicit leading 1), their scales in tau -- as dgeqrf computes it
    (dlarfg's reflector: beta = -sign(alpha) * ||x||, tau = 0 where the column below the
    diagonal is already zero). Real floating dtypes; its backward raises, as torch's."""
    if input.ndim < 2:
        raise RuntimeError("torch.geqrf: input must have at least 2 dimensions.")
    if not input._dtype.is_floating_point:
        raise NotImplementedError(f"\"geqrf_cpu\" not implemented for "
                                  f"'{D.legacy_name(input._dtype)}'")
    return _ret("geqrf", ("a", "tau"), _Geqrf.apply(input))


@_named("GeqrfBackward0")
class _Geqrf(Function):

    @staticmethod
    def forward(ctx, input):
        from .movement import cat, stack
        from .ternary import where
        m, n = input._shape[-2:]
        a = input.clone()
        taus = []
        for j in range(min(m, n)):
            x = a[..., j:, j]
            alpha, tail = x[..., 0], x[..., 1:]
            xnorm = tail.norm(dim=-1) if m - j > 1 else alpha * 0
            zero = xnorm == 0
            beta = -(alpha.hypot(xnorm)).copysign(alpha)
            tau = where(zero, 0.0, (beta - alpha) / where(zero, 1.0, beta))
            v_tail = where(zero.unsqueeze(-1), 0.0,
                           tail / where(zero, 1.0, alpha - beta).unsqueeze(-1))
            v = cat([alpha.new_ones(alpha._shape + (1,)), v_tail], -1)
            if j + 1 < n:                     # H = I - tau v v^T applied to the columns right
                block = a[..., j:, j + 1:]
                w = (v.unsqueeze(-1) * block).sum(-2)
                block -= tau.unsqueeze(-1).unsqueeze(-1) * v.unsqueeze(-1) * w.unsqueeze(-2)
            a[..., j, j] = where(zero, alpha, beta)
            if m - j > 1:
                a[..., j + 1:, j] = v_tail
            taus.append(tau)
        tau = stack(taus, -1) if taus else a.new_zeros(a._shape[:-2] + (0,))
        return a, tau

    @staticmethod
    def backward(ctx, ga, gtau):
        raise NotImplementedError("the derivative for 'geqrf' is not implemented.")


def _below(m, i, A):
    """A (m, 1) mask with ones strictly below row i."""
    from .creation import arange
    rows = arange(m, device=A._device)
    return (rows > i).to(A._dtype).unsqueeze(-1)


# -------------------------------------------------------------- torch.* older spellings
def cholesky_solve(B, L, upper=False, *, out=None):
    """X with (L L^H) X = B (U^H U when upper); the gradient for L is torch's (a full
    matrix, -(C + C^H) L with C = gX X^H, not confined to the triangle)."""
    if B.ndim < 2 or L.ndim < 2:
        raise RuntimeError(f"b should have at least 2 dimensions, but has {B.ndim} dimensions "
                           "instead" if B.ndim < 2 else f"u should have at least 2 dimensions, "
                           f"but has {L.ndim} dimensions instead")
    from ._operands import broadcast_shapes
    batch = broadcast_shapes(B._shape[:-2], L._shape[:-2])
    return _CholeskySolve.apply(B.expand(batch + B._shape[-2:]),
                                L.expand(batch + L._shape[-2:]), bool(upper))


def _cholesky_solve_forward(B, L, upper):
    if upper:
        return solve_triangular(L, solve_triangular(mH(L), B, upper=False), upper=True)
    return solve_triangular(mH(L), solve_triangular(L, B, upper=False), upper=True)


@_named("CholeskySolveBackward0")
class _CholeskySolve(Function):
    @staticmethod
    def forward(ctx, B, L, upper):
        X = _cholesky_solve_forward(B, L, upper)
        ctx.upper = upper
        ctx.save_for_backward(L, X)
        return X

    @staticmethod
    def backward(ctx, g):
        L, X = ctx.saved_tensors
        gB = _CholeskySolve.apply(g, L, ctx.upper)
        gL = None
        if ctx.needs_input_grad[1]:
            C = _matmul(gB, mH(X))
            C = C + mH(C)
            gL = -_matmul(L, C) if ctx.upper else -_matmul(C, L)
        return gB, gL, None


def cholesky_inverse(L, upper=False, *, out=None):
    """(L L^H)^-1 from the Cholesky factor L (U^H U when upper)."""
    check_matrix(L, "cholesky_inverse")
    eye = _eye_like(L, L._shape[-1]).expand(L._shape)
    return cholesky_solve(eye, L, upper)


def torch_cholesky(input, upper=False, *, out=None):
    """torch.cholesky (deprecated): linalg.cholesky."""
    return cholesky(input, upper=upper)


def triangular_solve(b, A, upper=True, transpose=False, unitriangular=False, *, out=None):
    """torch.triangular_solve (deprecated): (solution of op(A) X = b, clone of A)."""
    if b.ndim < 2 or A.ndim < 2:
        raise RuntimeError("torch.triangular_solve: Expected b to have at least 2 dimensions, "
                           f"but it has {b.ndim} dimensions instead" if b.ndim < 2 else
                           "torch.triangular_solve: Expected A to have at least 2 dimensions, "
                           f"but it has {A.ndim} dimensions instead")
    M = A.transpose(-2, -1) if transpose else A
    X = solve_triangular(M, b, upper=upper != transpose, unitriangular=unitriangular)
    return _ret("triangular_solve", ("solution", "cloned_coefficient"), (X, A.clone()))


def diagonal(A, *, offset=0, dim1=-2, dim2=-1):
    """linalg.diagonal: torch.diagonal with matrix-first defaults."""
    return A.diagonal(offset, dim1, dim2)


__all__ = ["LinAlgError"]
