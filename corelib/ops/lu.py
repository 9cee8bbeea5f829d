"""LU factorization: ``linalg.lu_factor(_ex)``, ``linalg.lu``, ``lu_unpack``, ``linalg.lu_solve``
and the older ``torch.lu``/``torch.lu_solve`` spellings.

The factorization is one backend kernel (``linalg_lu_factor``: getrf's partial pivoting, the
cpu backend for backends without it); unpacking and solving are composed of frontend ops
(triangular solves, gathers), so their gradients come from those. The factorization's own
gradient is torch's ``lu_factor_ex_backward`` / ``linalg_lu_backward``.
"""
from __future__ import annotations

import warnings

from .. import _dtype as D
from .._tensor import Tensor, _from_buffer
from ..autograd.function import Function
from ..autograd.grad_mode import no_grad
from .decomp import _kernel, _named, _ret, check_float, mH, raise_from_info, solve_triangular


def _check_lu_input(A, fname):
    if not isinstance(A, Tensor):
        raise TypeError(f"{fname}(): argument 'A' (position 1) must be Tensor, not "
                        f"{type(A).__name__}")
    if A.ndim < 2:
        shown = "torch.lu_factor" if fname == "linalg.lu_factor" else fname
        raise RuntimeError(f"{shown}: Expected tensor with 2 or more dimensions. Got size: "
                           f"{list(A._shape)} instead")
    dt = A._dtype
    if not (dt.is_complex or dt.is_floating_point and dt not in (D.float16, D.bfloat16)):
        raise NotImplementedError(f"\"lu_cpu\" not implemented for '{D.legacy_name(dt)}'")


def _check_pivot(pivot):
    if not pivot:
        raise RuntimeError("linalg.lu_factor: LU without pivoting is not implemented on the CPU")


def _lu_backward(gL, gU, P, L, U):
    """torch's linalg_lu_backward (square, wide and tall cases); gL/gU may be None."""
    from .linalg import matmul
    from .movement import cat
    m, n = L._shape[-2], U._shape[-1]
    k = min(m, n)
    if m == n:
        gA = matmul(mH(L), gL).tril(-1) if gL is not None else None
        if gU is not None:
            t = matmul(gU, mH(U)).triu()
            gA = t if gA is None else gA + t
        gA = solve_triangular(mH(U), gA, upper=False, left=False)
        gA = solve_triangular(mH(L), gA, upper=True, unitriangular=True)
    elif m < n:
        U1 = U[..., :, :k]
        gA = matmul(mH(L), gL) if gL is not None else None
        if gU is not None:
            t = matmul(gU.triu(), mH(U))
            gA = -t if gA is None else gA - t
        gA = solve_triangular(mH(U1), gA.tril(-1), upper=False, left=False)
        if gU is not None:
            gA = cat([gA + gU[..., :, :k].triu(), gU[..., :, k:]], -1)
        gA = solve_triangular(mH(L), gA, upper=True, unitriangular=True)
        if gU is None:
            gA = cat([gA, U[..., :, k:].detach() * 0], -1)
    else:
        L1 = L[..., :k, :]
        gA = matmul(gU, mH(U)) if gU is not None else None
        if gL is not None:
            t = matmul(mH(L), gL.tril(-1))
            gA = -t if gA is None else gA - t
        gA = solve_triangular(mH(L1), gA.triu(), upper=True, unitriangular=True)
        if gL is not None:
            gA = cat([gA + gL[..., :k, :].tril(-1), gL[..., k:, :]], -2)
        gA = solve_triangular(mH(U), gA, upper=False, left=False)
        if gL is None:
            gA = cat([gA, L[..., k:, :].detach() * 0], -2)
    return matmul(P, gA)


@_named("LinalgLuFactorExBackward0")
class _LuFactor(Function):
    @staticmethod
    def forward(ctx, A):
        ctx.set_materialize_grads(False)
        lu, piv, info = _kernel(A, "linalg_lu_factor")(A.contiguous()._data)
        k = min(A._shape[-2:])
        LU = _from_buffer(lu, A._shape, A._dtype, A._device)
        pivots = _from_buffer(piv, A._shape[:-2] + (k,), D.int32, A._device)
        ctx.save_for_backward(LU, pivots)
        ctx.mark_non_differentiable(pivots)
        return LU, pivots, _from_buffer(info, A._shape[:-2], D.int32, A._device)

    @staticmethod
    def backward(ctx, g, _gpiv, _ginfo):
        if g is None:
            return (None,)
        LU, pivots = ctx.saved_tensors
        P, L, U = lu_unpack(LU, pivots)
        k = min(LU._shape[-2:])
        return (_lu_backward(g[..., :, :k], g[..., :k, :], P, L, U),)


def _zero_pivot(code):
    return (f"U[{code},{code}] is zero and using it on lu_solve would result in a division by "
            "zero. If you still want to perform the factorization, consider calling "
            "linalg.lu(A, pivot) or linalg.lu_factor_ex(A, pivot)")


def lu_factor_ex(A, *, pivot=True, check_errors=False, out=None):
    """(LU, pivots, info): the compact partially pivoted LU of A (..., m, n)."""
    _check_lu_input(A, "linalg.lu_factor")
    _check_pivot(pivot)
    LU, pivots, info = _LuFactor.apply(A)
    if check_errors:
        raise_from_info(info, "torch.linalg.lu_factor_ex", _zero_pivot)
    return _ret("linalg_lu_factor_ex", ("LU", "pivots", "info"), (LU, pivots, info))


def lu_factor(A, *, pivot=True, out=None):
    """(LU, pivots) of A; RuntimeError when U has a zero on its diagonal (use lu_factor_ex)."""
    _check_lu_input(A, "linalg.lu_factor")
    _check_pivot(pivot)
    LU, pivots, info = _LuFactor.apply(A)
    raise_from_info(info, "torch.linalg.lu_factor", _zero_pivot)
    return _ret("linalg_lu_factor", ("LU", "pivots"), (LU, pivots))


def _permutation(pivots, m):
    """The row order perm (..., m) int64 with (P^T A) = A[perm], from getrf's sequential
    swaps (row i <-> row pivots[i] - 1)."""
    from .creation import arange
    batch = pivots._shape[:-1]
    with no_grad():
        perm = arange(m, device=pivots._device).expand(batch + (m,)).contiguous()
        piv = pivots.long() - 1
        for i in range(pivots._shape[-1]):
            j = piv[..., i:i + 1]
            here = perm[..., i:i + 1].clone()
            perm[..., i:i + 1] = perm.gather(-1, j)
            perm.scatter_(-1, j, here)
    return perm


def lu_unpack(LU_data, LU_pivots, unpack_data=True, unpack_pivots=True, *, out=None):
    """(P, L, U) with A = P L U from lu_factor's compact result; an empty P (L and U) when
    unpack_pivots (unpack_data) is False."""
    if not isinstance(LU_pivots, Tensor) or LU_pivots._dtype is not D.int32:
        raise RuntimeError("torch.lu_unpack: LU_pivots is expected to be a contiguous tensor "
                           "of torch.int32 dtype.\nNote: this function is intended to be used "
                           "with the output produced by torch.linalg.lu_factor")
    if LU_data.ndim < 2:
        raise RuntimeError(f"torch.lu_unpack: Expected tensor with 2 or more dimensions. Got "
                           f"size: {list(LU_data._shape)} instead")
    from .creation import empty, eye
    m, n = LU_data._shape[-2:]
    k = min(m, n)
    dt, dev = LU_data._dtype, LU_data._device
    if unpack_data:
        L = LU_data[..., :, :k].tril(-1) + eye(m, k, dtype=dt, device=dev)
        U = LU_data[..., :k, :].triu()
    else:
        L = U = empty(0, dtype=dt, device=dev)
    if unpack_pivots:
        from ..nn.functional import one_hot
        perm = _permutation(LU_pivots, m)
        P = one_hot(perm, m).to(dt).transpose(-2, -1)
    else:
        P = empty(0, dtype=dt, device=dev)
    return _ret("lu_unpack", ("P", "L", "U"), (P, L, U))


def lu(A, *, pivot=True, out=None):
    """(P, L, U) with A = P L U: L (..., m, k) unit lower, U (..., k, n) upper."""
    _check_lu_input(A, "linalg.lu")
    _check_pivot(pivot)
    LU, pivots, _ = _LuFactor.apply(A)
    P, L, U = lu_unpack(LU, pivots)
    return _ret("linalg_lu", ("P", "L", "U"), (P, L, U))


def lu_solve(LU, pivots, B, *, left=True, adjoint=False, out=None):
    """X with A X = B (X A = B when not left; A^H in place of A with adjoint), A given by
    lu_factor's (LU, pivots)."""
    fname = "linalg.lu_solve"
    for name, t in (("LU", LU), ("pivots", pivots), ("B", B)):
        if not isinstance(t, Tensor):
            raise TypeError(f"{fname}(): argument '{name}' must be Tensor, not "
                            f"{type(t).__name__}")
    if LU.ndim < 2:
        raise RuntimeError(f"{fname}: The input tensor LU must have at least 2 dimensions.")
    if B.ndim < 2:
        raise RuntimeError(f"{fname}: The input tensor B must have at least 2 dimensions.")
    n = LU._shape[-1]
    if LU._shape[-2] != n:
        raise RuntimeError(f"torch.linalg.lu_solve: A must be batches of square matrices, but "
                           f"they are {LU._shape[-2]} by {n} matrices")
    check_float(LU, fname)
    if pivots._dtype is not D.int32:
        raise RuntimeError(f"{fname}: pivots should be a Tensor of scalar type torch.int32")
    if LU._dtype is not B._dtype:
        raise RuntimeError(f"{fname}: Expected LU and B to have the same dtype, but found LU "
                           f"of type {D.legacy_name(LU._dtype)} and B of type "
                           f"{D.legacy_name(B._dtype)} instead")
    if (B._shape[-2] if left else B._shape[-1]) != n:
        eq = "AX = B" if left else "XA = B"
        raise RuntimeError(f"{fname}: Incompatible shapes of A and B for the equation {eq} "
                           f"({n}x{n} and {B._shape[-2]}x{B._shape[-1]})")
    if not left:        # X A = B <=> A^H X^H = B^H
        return mH(_lu_solve_left(LU, pivots, mH(B), not adjoint))
    return _lu_solve_left(LU, pivots, B, adjoint)


def _lu_solve_left(LU, pivots, B, adjoint):
    from ._operands import broadcast_shapes
    n = LU._shape[-1]
    batch = broadcast_shapes(broadcast_shapes(LU._shape[:-2], B._shape[:-2]), pivots._shape[:-1])
    LU = LU.expand(batch + LU._shape[-2:])
    B = B.expand(batch + B._shape[-2:])
    perm = _permutation(pivots.expand(batch + pivots._shape[-1:]), n)
    if not adjoint:     # A = P L U: X = U^-1 L^-1 P^T B
        Y = solve_triangular(LU, B.gather(-2, perm.unsqueeze(-1).expand(B._shape)),
                             upper=False, unitriangular=True)
        return solve_triangular(LU, Y, upper=True)
    # A^H = U^H L^H P^T: X = P L^-H U^-H B
    Y = solve_triangular(mH(LU), B, upper=False)
    Y = solve_triangular(mH(LU), Y, upper=True, unitriangular=True)
    inverse = perm.argsort(-1)
    return Y.gather(-2, inverse.unsqueeze(-1).expand(Y._shape))


# --------------------------------------------------------------- torch.* spellings
def torch_lu(A, pivot=True, get_infos=False, out=None):
    """torch.lu (deprecated in torch): (LU, pivots[, infos]), raising on a zero pivot
    unless get_infos."""
    warnings.warn("torch.lu is deprecated in favor of torch.linalg.lu_factor / "
                  "torch.linalg.lu_factor_ex and will be removed in a future PyTorch release.",
                  UserWarning, stacklevel=2)
    _check_lu_input(A, "linalg.lu_factor")
    _check_pivot(pivot)
    LU, pivots, info = _LuFactor.apply(A)
    if not get_infos:
        raise_from_info(info, "torch.linalg.lu_factor", _zero_pivot)
        return LU, pivots
    return _ret("_lu_with_info", ("LU", "pivots", "info"), (LU, pivots, info))


def torch_lu_solve(b, LU_data, LU_pivots, *, out=None):
    """torch.lu_solve(b, LU_data, LU_pivots): linalg.lu_solve(LU_data, LU_pivots, b)."""
    return lu_solve(LU_data, LU_pivots, b)


__all__ = ["lu", "lu_factor", "lu_factor_ex", "lu_solve", "lu_unpack", "torch_lu",
           "torch_lu_solve"]
