"""Matrix factorizations of ``torch.linalg`` and their gradients.

Each forward is one backend kernel (``linalg_cholesky``, ``linalg_qr``, ... in the contract's
decomposition group; a backend without it runs it on the cpu backend). Each backward is
torch's formula (``FunctionsManual.cpp``) written in frontend ops, so gradients of gradients
work too. Failures come back from the kernel as LAPACK ``info`` codes and are raised here
with torch's messages, as :class:`LinAlgError`.
"""
from __future__ import annotations

from .. import _dtype as D
from .._tensor import Tensor, _from_buffer
from ..autograd.function import Function


class LinAlgError(RuntimeError):
    """torch.linalg.LinAlgError: a matrix was singular or not positive-definite."""


LinAlgError.__module__ = "torch._C"
LinAlgError.__qualname__ = LinAlgError.__name__ = "_LinAlgError"


# ----------------------------------------------------------------------------- checks
def check_matrix(A, fname, *, square=True, name="A", allow_int=False):
    """torch's checks on a linalg input: a floating tensor of >= 2 dims, square if asked."""
    if not isinstance(A, Tensor):
        raise TypeError(f"{fname}(): argument '{name}' (position 1) must be Tensor, not "
                        f"{type(A).__name__}")
    if A.ndim < 2:
        raise RuntimeError(f"{fname}: The input tensor {name} must have at least 2 dimensions.")
    if square and A._shape[-1] != A._shape[-2]:
        raise RuntimeError(f"{fname}: {name} must be batches of square matrices, but they are "
                           f"{A._shape[-2]} by {A._shape[-1]} matrices")
    check_float(A, fname, allow_int)


# torch raises NotImplementedError naming its cpu kernel where the dtype reaches it (half for
# most; integers too for eigh and solve_triangular), RuntimeError where linalg checks first
_KERNEL = {"linalg.cholesky": "cholesky_cpu", "linalg.eig": "linalg_eig_cpu",
           "linalg.eigvals": "linalg_eig_cpu", "linalg.det": "lu_cpu",
           "linalg.eigh": "linalg_eigh_cpu", "linalg.eigvalsh": "linalg_eigh_cpu",
           "linalg.svd": "linalg_svd_cpu", "linalg.svdvals": "linalg_svd_cpu",
           "linalg.qr": "geqrf_cpu", "linalg.solve_triangular": "triangular_solve_cpu"}
_INT_REACHES_KERNEL = ("linalg.eigh", "linalg.eigvalsh", "linalg.solve_triangular")


def check_float(A, fname, allow_int=False):
    dt = A._dtype
    if dt.is_floating_point and dt not in (D.float16, D.bfloat16) or dt.is_complex:
        return
    if allow_int and not dt.is_floating_point:
        return
    kernel = _KERNEL.get(fname)
    if kernel is not None and (dt.is_floating_point or fname in _INT_REACHES_KERNEL):
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{D.legacy_name(dt)}'")
    if dt.is_floating_point:
        raise RuntimeError(f"{fname}: Low precision dtypes not supported. Got "
                           f"{D.legacy_name(dt)}")
    shown = "linalg.svd" if fname == "linalg.svdvals" else fname
    raise RuntimeError(f"{shown}: Expected a floating point or complex tensor as input. "
                       f"Got {D.legacy_name(dt)}")


def check_same_dtype(A, B, fname):
    if A._dtype is not B._dtype:
        raise RuntimeError(f"{fname}: Expected A and B to have the same dtype, but found A of "
                           f"type {D.legacy_name(A._dtype)} and B of type "
                           f"{D.legacy_name(B._dtype)} instead")


def raise_from_info(info, fname, message):
    """Read the info codes (a host sync, as torch's checked forms do) and raise the first
    failure; ``message(code)`` words it."""
    codes = info.reshape(-1).tolist()
    for i, code in enumerate(codes):
        if code:
            batch = f"(Batch element {i}): " if info.ndim else ""
            raise LinAlgError(f"{fname}: {batch}{message(code)}")


def _singular(code):
    return (f"The diagonal element {code} is zero, the inversion could not be completed "
            "because the input matrix is singular.")


def _not_pd(code):
    return ("The factorization could not be completed because the input is not "
            f"positive-definite (the leading minor of order {code} is not positive-definite).")


# ---------------------------------------------------------------------- mechanics
def mH(x):
    """The conjugate transpose of the last two dims."""
    x = x.transpose(-2, -1)
    return x.conj() if x._dtype.is_complex else x


def _kernel(A, name):
    return getattr(A._device.ops, name)


def _named(torch_name, holomorphic=False):
    """Give a Function's nodes torch's grad_fn name (``LinalgInvExBackward0``).

    The backward formulas here are torch's, written for its conjugate Wirtinger convention, so
    by default the engine passes complex gradients to them unchanged (``holomorphic=False``);
    a holomorphic op written as for real inputs passes True (see ``Node.holomorphic``)."""
    def deco(cls):
        name = lambda self: torch_name  # noqa: E731
        for node_cls in (cls._backward_cls, cls._select_cls):
            node_cls.name = name
            node_cls.__name__ = node_cls.__qualname__ = torch_name
        cls._backward_cls.holomorphic = holomorphic
        return cls
    return deco


def _info_tensor(A, data):
    return _from_buffer(data, A._shape[:-2], D.int32, A._device)


# --------------------------------------------------------------------------- cholesky
@_named("LinalgCholeskyExBackward0")
class _Cholesky(Function):
    @staticmethod
    def forward(ctx, A, upper):
        ctx.set_materialize_grads(False)
        L, info = _kernel(A, "linalg_cholesky")(A.contiguous()._data, bool(upper))
        L = _from_buffer(L, A._shape, A._dtype, A._device)
        ctx.upper = upper
        ctx.save_for_backward(L)
        return L, _info_tensor(A, info)

    @staticmethod
    def backward(ctx, gL, _ginfo):
        (L,) = ctx.saved_tensors
        if gL is None:
            return None, None
        from .linalg import matmul
        if ctx.upper:
            L, gL = mH(L), mH(gL)
        gA = matmul(mH(L), gL).tril()
        gA = 0.5 * (gA + mH(gA.tril(-1)))
        gA = solve_triangular(mH(L), gA, upper=True, left=True)
        gA = solve_triangular(L, gA, upper=False, left=False)
        return gA, None


def cholesky_ex(A, *, upper=False, check_errors=False, out=None):
    """(L, info): the Cholesky factor and LAPACK's info codes (0 where it succeeded)."""
    check_matrix(A, "linalg.cholesky")
    L, info = _Cholesky.apply(A, upper)
    if check_errors:
        raise_from_info(info, "linalg.cholesky", _not_pd)
    return _ret("linalg_cholesky_ex", ("L", "info"), (L, info))


def cholesky(A, *, upper=False, out=None):
    """The Cholesky factor L of a Hermitian positive-definite A = L L^H (upper: U = L^H)."""
    check_matrix(A, "linalg.cholesky")
    L, info = _Cholesky.apply(A, upper)
    raise_from_info(info, "linalg.cholesky", _not_pd)
    return L


# -------------------------------------------------------------------------------- inv
@_named("LinalgInvExBackward0")
class _Inv(Function):
    @staticmethod
    def forward(ctx, A):
        ctx.set_materialize_grads(False)
        inv, info = _kernel(A, "linalg_inv")(A.contiguous()._data)
        inv = _from_buffer(inv, A._shape, A._dtype, A._device)
        ctx.save_for_backward(inv)
        return inv, _info_tensor(A, info)

    @staticmethod
    def backward(ctx, g, _ginfo):
        (inv,) = ctx.saved_tensors
        if g is None:
            return (None,)
        from .linalg import matmul
        h = mH(inv)
        return (-matmul(h, matmul(g, h)),)


def inv_ex(A, *, check_errors=False, out=None):
    """(inverse, info)."""
    check_matrix(A, "linalg.inv")
    inv, info = _Inv.apply(A)
    if check_errors:
        raise_from_info(info, "linalg.inv", _singular)
    return _ret("linalg_inv_ex", ("inverse", "info"), (inv, info))


def inv(A, *, out=None):
    """The inverse of each square matrix of A; LinAlgError when one is singular."""
    check_matrix(A, "linalg.inv")
    result, info = _Inv.apply(A)
    raise_from_info(info, "linalg.inv", _singular)
    return result


def inverse(input, *, out=None):
    """torch.inverse: linalg.inv."""
    return inv(input)


# ------------------------------------------------------------------------------ solve
@_named("LinalgSolveExBackward0")
class _Solve(Function):
    @staticmethod
    def forward(ctx, A, B):
        ctx.set_materialize_grads(False)
        X, info = _kernel(A, "linalg_solve")(A.contiguous()._data, B.contiguous()._data)
        X = _from_buffer(X, B._shape, A._dtype, A._device)
        ctx.save_for_backward(A, X)
        return X, _info_tensor(A, info)

    @staticmethod
    def backward(ctx, g, _ginfo):
        A, X = ctx.saved_tensors
        if g is None:
            return None, None
        from .linalg import matmul
        gB = solve(mH(A), g)
        gA = -matmul(gB, mH(X)) if ctx.needs_input_grad[0] else None
        return gA, gB


def _solve_operands(A, B, left, fname):
    check_matrix(A, fname)
    if not isinstance(B, Tensor):
        raise TypeError(f"{fname}(): argument 'B' (position 2) must be Tensor, not "
                        f"{type(B).__name__}")
    check_same_dtype(A, B, fname)
    n = A._shape[-1]
    vector = B.ndim == 1 or (B.ndim == A.ndim - 1 and B._shape == A._shape[:-1])
    if vector:
        B = B.unsqueeze(-1)
    if not left:
        A, B = A.transpose(-2, -1), B.transpose(-2, -1)     # X A = B <=> A^T X^T = B^T
    if B._shape[-2] != n:
        eq = "AX = B" if left else "XA = B"
        raise RuntimeError(f"{fname}: Incompatible shapes of A and B for the equation {eq} "
                           f"({A._shape[-2]}x{A._shape[-1]} and {B._shape[-2]}x"
                           f"{B._shape[-1]})")
    from ._operands import broadcast_shapes
    batch = broadcast_shapes(A._shape[:-2], B._shape[:-2])
    A = A.expand(batch + A._shape[-2:])
    B = B.expand(batch + B._shape[-2:])
    return A, B, vector


def solve_ex(A, B, *, left=True, check_errors=False, out=None):
    """(result, info) of A X = B (X A = B when not left)."""
    A2, B2, vector = _solve_operands(A, B, left, "linalg.solve")
    X, info = _Solve.apply(A2, B2)
    if not left:
        X = X.transpose(-2, -1)
    if vector:
        X = X.squeeze(-1)
    if check_errors:
        raise_from_info(info, "linalg.solve", lambda code: "The solver failed because the "
                        "input matrix is singular.")
    return _ret("linalg_solve_ex", ("result", "info"), (X, info))


def solve(A, B, *, left=True, out=None):
    """X with A X = B (batched, B a vector or matrices); LinAlgError when A is singular."""
    A2, B2, vector = _solve_operands(A, B, left, "linalg.solve")
    X, info = _Solve.apply(A2, B2)
    if info.numel() and bool((info != 0).any()):
        raise LinAlgError("torch.linalg.solve: The solver failed because the input matrix is "
                          "singular.")
    if not left:
        X = X.transpose(-2, -1)
    return X.squeeze(-1) if vector else X


# ---------------------------------------------------------------------- determinants
@_named("LinalgDetBackward0")
class _Det(Function):
    @staticmethod
    def forward(ctx, A):
        d = _from_buffer(_kernel(A, "linalg_det")(A.contiguous()._data), A._shape[:-2], A._dtype,
                  A._device)
        ctx.save_for_backward(A, d)
        return d

    @staticmethod
    def backward(ctx, g):
        A, d = ctx.saved_tensors
        return (_det_grad(A, d, g),)


def _det_grad(A, d, g):
    """g * cofactor(A): g det(A) A^{-H} when A is invertible; else from the SVD
    A = U S V^H, cofactor = conj(det U det V^H) U diag(prod_{j != i} s_j) V^H (torch's
    linalg_det_backward does the same for singular inputs)."""
    from .linalg import matmul
    scale = (g * d.conj() if d._dtype.is_complex else g * d).unsqueeze(-1).unsqueeze(-1)
    if A._shape[-1] == 0:
        return A.new_zeros(A._shape)
    if bool((d != 0).all()):
        return scale * mH(inv(A))
    U, S, Vh = svd(A)
    n = S._shape[-1]
    from .creation import eye
    I = eye(n, dtype=S._dtype, device=S._device)
    others = (S.unsqueeze(-2) * (1 - I) + I).prod(-1)          # prod_{j != i} s_j
    sign = det(U) * det(Vh)
    if sign._dtype.is_complex:
        sign = sign.conj()
    cof = matmul(U * others.unsqueeze(-2), Vh) * sign.unsqueeze(-1).unsqueeze(-1)
    return g.unsqueeze(-1).unsqueeze(-1) * cof


def det(A):
    """The determinant of each square matrix of A (LU based, as LAPACK's getrf)."""
    check_matrix(A, "linalg.det")
    return _Det.apply(A)


@_named("LinalgSlogdetBackward0")
class _Slogdet(Function):
    @staticmethod
    def forward(ctx, A):
        ctx.set_materialize_grads(False)
        sign, logabs = _kernel(A, "linalg_slogdet")(A.contiguous()._data)
        sign = _from_buffer(sign, A._shape[:-2], A._dtype, A._device)
        logabs = _from_buffer(logabs, A._shape[:-2], A._dtype.to_real(), A._device)
        ctx.save_for_backward(A)
        ctx.mark_non_differentiable(sign)
        return sign, logabs

    @staticmethod
    def backward(ctx, _gsign, glog):
        (A,) = ctx.saved_tensors
        if glog is None:
            return (None,)
        return (glog.unsqueeze(-1).unsqueeze(-1) * mH(inv(A)),)


def slogdet(A, *, out=None):
    """(sign, logabsdet) of each square matrix of A."""
    check_matrix(A, "linalg.slogdet")
    sign, logabs = _Slogdet.apply(A)
    return _ret("linalg_slogdet", ("sign", "logabsdet"), (sign, logabs))


def torch_slogdet(input, *, out=None):
    """torch.slogdet: linalg.slogdet under its older return-type name."""
    check_matrix(input, "linalg.slogdet")
    sign, logabs = _Slogdet.apply(input)
    return _ret("slogdet", ("sign", "logabsdet"), (sign, logabs))


def logdet(input):
    """log(det(A)): nan where the determinant is negative, -inf where it is 0."""
    check_matrix(input, "logdet")
    sign, logabs = _Slogdet.apply(input)
    from .ternary import where
    nan = float("nan")
    return where(sign < 0, nan, logabs)


# ---------------------------------------------------------------------------------- qr
@_named("LinalgQrBackward0")
class _Qr(Function):
    @staticmethod
    def forward(ctx, A, mode):
        ctx.set_materialize_grads(False)
        q, r = _kernel(A, "linalg_qr")(A.contiguous()._data, mode)
        m, n = A._shape[-2:]
        k = min(m, n)
        batch = A._shape[:-2]
        if mode == "r":
            Q = _from_buffer(q, (0,), A._dtype, A._device)
            R = _from_buffer(r, batch + (k, n), A._dtype, A._device)
        elif mode == "complete":
            Q = _from_buffer(q, batch + (m, m), A._dtype, A._device)
            R = _from_buffer(r, batch + (m, n), A._dtype, A._device)
        else:
            Q = _from_buffer(q, batch + (m, k), A._dtype, A._device)
            R = _from_buffer(r, batch + (k, n), A._dtype, A._device)
        ctx.mode, ctx.mn = mode, (m, n)
        ctx.save_for_backward(A, Q, R)
        return Q, R

    @staticmethod
    def backward(ctx, gQ, gR):
        A, Q, R = ctx.saved_tensors
        m, n = ctx.mn
        if ctx.mode == "r":
            raise RuntimeError("The derivative of linalg.qr depends on Q, which is not computed "
                               "when mode='r'. Please use linalg.qr(A, mode='reduced') if you "
                               "are going to differentiate through linalg.qr.")
        if ctx.mode == "complete" and m > n:
            raise RuntimeError("The QR decomposition is not differentiable when mode='complete' "
                               "and nrows > ncols.")
        if gQ is None and gR is None:
            return None, None
        if m >= n:
            return _qr_grad_tall(Q, R, gQ, gR), None
        from .linalg import matmul
        from .movement import cat
        Y = A.narrow(-1, m, n - m)
        U = R.narrow(-1, 0, m)
        gU = gV = None
        if gR is not None:
            gU, gV = gR.narrow(-1, 0, m), gR.narrow(-1, m, n - m)
        gQ2 = gQ
        if gV is not None:
            extra = matmul(Y, mH(gV))
            gQ2 = extra if gQ2 is None else gQ2 + extra
        gX = _qr_grad_tall(Q, U, gQ2, gU)
        gY = matmul(Q, gV) if gV is not None else Y.new_zeros(Y._shape)
        return cat([gX, gY], -1), None


def _qr_grad_tall(Q, R, gQ, gR):
    """gA = [gQ + Q copyltu(M)] R^{-H} with M = R gR^H - gQ^H Q (m >= n)."""
    from .linalg import matmul
    M = None
    if gR is not None:
        M = matmul(R, mH(gR))
    if gQ is not None:
        t = matmul(mH(gQ), Q)
        M = -t if M is None else M - t
    Mt = M.tril()
    M = Mt + mH(Mt)
    diag = M.diagonal(0, -2, -1)
    M = M - (0.5 * diag).diag_embed()
    rhs = matmul(Q, M)
    if gQ is not None:
        rhs = rhs + gQ
    # rhs R^{-H} = (R^{-1} rhs^H)^H
    return mH(solve_triangular(R, mH(rhs), upper=True))


_QR_MODES = ("reduced", "complete", "r")


def qr(A, mode="reduced", *, out=None):
    """(Q, R) with A = Q R (Householder, LAPACK's signs); mode 'reduced', 'complete' or 'r'."""
    if mode not in _QR_MODES:
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of "
                           "'reduced' (default), 'r', or 'complete'")
    check_matrix(A, "linalg.qr", square=False)
    Q, R = _Qr.apply(A, mode)
    return _ret("linalg_qr", ("Q", "R"), (Q, R))


def torch_qr(input, some=True, *, out=None):
    """torch.qr (deprecated spelling): some=True is mode 'reduced', else 'complete'."""
    check_matrix(input, "linalg.qr", square=False)
    Q, R = _Qr.apply(input, "reduced" if some else "complete")
    return _ret("qr", ("Q", "R"), (Q, R))


# --------------------------------------------------------------------------------- svd
@_named("LinalgSvdBackward0")
class _Svd(Function):
    @staticmethod
    def forward(ctx, A, full_matrices):
        ctx.set_materialize_grads(False)
        u, s, vh = _kernel(A, "linalg_svd")(A.contiguous()._data, bool(full_matrices))
        m, n = A._shape[-2:]
        k = min(m, n)
        batch = A._shape[:-2]
        U = _from_buffer(u, batch + ((m, m) if full_matrices else (m, k)), A._dtype, A._device)
        S = _from_buffer(s, batch + (k,), A._dtype.to_real(), A._device)
        Vh = _from_buffer(vh, batch + ((n, n) if full_matrices else (k, n)), A._dtype, A._device)
        ctx.full = full_matrices
        ctx.save_for_backward(U, S, Vh)
        return U, S, Vh

    @staticmethod
    def backward(ctx, gU, gS, gVh):
        U, S, Vh = ctx.saved_tensors
        k = S._shape[-1]
        if ctx.full:
            U, Vh = U.narrow(-1, 0, k), Vh.narrow(-2, 0, k)
            gU = gU.narrow(-1, 0, k) if gU is not None else None
            gVh = gVh.narrow(-2, 0, k) if gVh is not None else None
        return svd_grad(U, S, Vh, gU, gS, gVh), None


def svd_grad(U, S, Vh, gU, gS, gVh):
    """torch's svd_backward (real inputs): with J = U^H gU, K = V^H gV, E_jk = s_k^2 - s_j^2,
    gA = U [skew(J)/E S + S skew(K)/E + diag(gS)] V^H + (I - U U^H) gU S^-1 V^H
    + U S^-1 gV^H (I - V V^H). Equal singular values divide by 0, as in torch."""
    from .linalg import matmul
    m, n = U._shape[-2], Vh._shape[-1]
    k = S._shape[-1]
    if gU is None and gVh is None:
        if gS is None:
            return None
        return matmul(U * gS.unsqueeze(-2), Vh)
    inner = gS.diag_embed() if gS is not None else None
    S2 = S * S
    E = S2.unsqueeze(-2) - S2.unsqueeze(-1)
    from .creation import eye
    I = eye(k, dtype=S._dtype, device=S._device)
    E = E + I
    extra = None
    if gU is not None:
        J = matmul(mH(U), gU)
        term = ((J - mH(J)) / E) * S.unsqueeze(-2)
        inner = term if inner is None else inner + term
        if m > k:
            extra = matmul((gU - matmul(U, J)) / S.unsqueeze(-2), Vh)
    if gVh is not None:
        V, gV = mH(Vh), mH(gVh)
        K = matmul(Vh, gV)
        term = S.unsqueeze(-1) * ((K - mH(K)) / E)
        inner = term if inner is None else inner + term
        if n > k:
            e2 = matmul(U, mH((gV - matmul(V, K)) / S.unsqueeze(-2)))
            extra = e2 if extra is None else extra + e2
    gA = matmul(matmul(U, inner), Vh)
    return gA if extra is None else gA + extra


def svd(A, full_matrices=True, *, driver=None, out=None):
    """(U, S, Vh) with A = U diag(S) Vh, S descending."""
    check_matrix(A, "linalg.svd", square=False)
    U, S, Vh = _Svd.apply(A, full_matrices)
    return _ret("linalg_svd", ("U", "S", "Vh"), (U, S, Vh))


def svdvals(A, *, driver=None, out=None):
    """The singular values of A, descending (gradient through the reduced SVD)."""
    check_matrix(A, "linalg.svdvals", square=False)
    if A.requires_grad:
        return _Svd.apply(A, False)[1]
    data = _kernel(A, "linalg_svdvals")(A.contiguous()._data)
    return _from_buffer(data, A._shape[:-2] + (min(A._shape[-2:]),), A._dtype.to_real(), A._device)


def torch_svd(input, some=True, compute_uv=True, *, out=None):
    """torch.svd (deprecated): (U, S, V) with V not transposed; zeros without compute_uv."""
    check_matrix(input, "linalg.svd", square=False)
    U, S, Vh = _Svd.apply(input, not some)
    if not compute_uv:
        U, Vh = U.detach().zero_(), Vh.detach().zero_()
    return _ret("svd", ("U", "S", "V"), (U, S, mH(Vh)))


# -------------------------------------------------------------------------------- eigh
@_named("LinalgEighBackward0")
class _Eigh(Function):
    @staticmethod
    def forward(ctx, A, upper):
        ctx.set_materialize_grads(False)
        w, v = _kernel(A, "linalg_eigh")(A.contiguous()._data, upper)
        L = _from_buffer(w, A._shape[:-1], A._dtype.to_real(), A._device)
        V = _from_buffer(v, A._shape, A._dtype, A._device)
        ctx.save_for_backward(L, V)
        return L, V

    @staticmethod
    def backward(ctx, gL, gV):
        L, V = ctx.saved_tensors
        return eig_grad(gL, gV, L, V, hermitian=True), None


def eig_grad(gL, gV, L, V, hermitian):
    """torch's linalg_eig_backward: gA = V^-H (diag(gL) + (V^H gV projected) / E) V^H with
    E_ij = conj(L_j - L_i); repeated eigenvalues divide by zero (torch documents that the
    eigenvectors' gradient is then undefined)."""
    from .linalg import matmul
    if gL is None and gV is None:
        return None
    if gV is None:
        if hermitian:
            return matmul(V * gL.unsqueeze(-2), mH(V))
        return solve(mH(V), gL.unsqueeze(-1) * mH(V))
    VhgV = matmul(mH(V), gV)
    if hermitian:
        VhgV = 0.5 * (VhgV - mH(VhgV))
    else:
        diag = VhgV.diagonal(0, -2, -1)
        VhgV = VhgV - matmul(mH(V), V * diag.real.unsqueeze(-2) if diag._dtype.is_complex
                             else V * diag.unsqueeze(-2))
    Lc = L.conj() if L._dtype.is_complex else L
    E = Lc.unsqueeze(-2) - Lc.unsqueeze(-1)
    from .creation import eye
    n = L._shape[-1]
    I = eye(n, dtype=E._dtype, device=E._device)
    gA = VhgV / (E + I)
    if gL is not None:
        gA = gA * (1 - I) + gL.to(gA._dtype).diag_embed()
    else:
        gA = gA * (1 - I)
    if hermitian:
        return matmul(V, matmul(gA, mH(V)))
    return solve(mH(V), matmul(gA, mH(V)))


@_named("LinalgEigBackward0")
class _Eig(Function):
    @staticmethod
    def forward(ctx, A):
        ctx.set_materialize_grads(False)
        w, v = _kernel(A, "linalg_eig")(A.contiguous()._data)
        cdt = A._dtype.to_complex()
        L = _from_buffer(w, A._shape[:-1], cdt, A._device)
        V = _from_buffer(v, A._shape, cdt, A._device)
        ctx.real_input = not A._dtype.is_complex
        ctx.save_for_backward(L, V)
        return L, V

    @staticmethod
    def backward(ctx, gL, gV):
        L, V = ctx.saved_tensors
        gA = eig_grad(gL, gV, L, V, hermitian=False)
        if gA is not None and ctx.real_input:
            gA = gA.real            # a real input keeps the real part (torch's handle_r_to_c)
        return (gA,)


def eig(A, *, out=None):
    """(eigenvalues, eigenvectors) of general square matrices, both complex; gradients as
    torch's (undefined for repeated eigenvalues, and the loss must not depend on the
    eigenvectors' phase, as torch documents)."""
    check_matrix(A, "linalg.eig")
    L, V = _Eig.apply(A)
    return _ret("linalg_eig", ("eigenvalues", "eigenvectors"), (L, V))


def eigvals(A, *, out=None):
    """The eigenvalues of general square matrices (complex)."""
    check_matrix(A, "linalg.eigvals")
    return _Eig.apply(A)[0]


def _uplo(UPLO, fname):
    if UPLO not in ("L", "U"):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")
    return UPLO == "U"


def eigh(A, UPLO="L", *, out=None):
    """(eigenvalues ascending, orthonormal eigenvectors) of symmetric/Hermitian matrices."""
    check_matrix(A, "linalg.eigh")
    L, V = _Eigh.apply(A, _uplo(UPLO, "linalg.eigh"))
    return _ret("linalg_eigh", ("eigenvalues", "eigenvectors"), (L, V))


def eigvalsh(A, UPLO="L", *, out=None):
    """The eigenvalues of symmetric/Hermitian matrices, ascending."""
    check_matrix(A, "linalg.eigvalsh")
    upper = _uplo(UPLO, "linalg.eigvalsh")
    if A.requires_grad:
        return _Eigh.apply(A, upper)[0]
    data = _kernel(A, "linalg_eigvalsh")(A.contiguous()._data, upper)
    return _from_buffer(data, A._shape[:-1], A._dtype.to_real(), A._device)


# ------------------------------------------------------------------- solve_triangular
@_named("LinalgSolveTriangularBackward0")
class _SolveTriangular(Function):
    @staticmethod
    def forward(ctx, A, B, upper, left, unitriangular):
        ctx.set_materialize_grads(False)
        X = _kernel(A, "linalg_solve_triangular")(A.contiguous()._data, B.contiguous()._data,
                                                  upper, left, unitriangular)
        X = _from_buffer(X, B._shape, A._dtype, A._device)
        ctx.flags = (upper, left, unitriangular)
        ctx.save_for_backward(A, X)
        return X

    @staticmethod
    def backward(ctx, g):
        A, X = ctx.saved_tensors
        upper, left, unit = ctx.flags
        from .linalg import matmul
        gB = solve_triangular(mH(A), g, upper=not upper, left=left, unitriangular=unit)
        gA = None
        if ctx.needs_input_grad[0]:
            gA = -matmul(gB, mH(X)) if left else -matmul(mH(X), gB)
            gA = gA.triu(1 if unit else 0) if upper else gA.tril(-1 if unit else 0)
        return gA, gB, None, None, None


def solve_triangular(A, B, *, upper, left=True, unitriangular=False, out=None):
    """X with A X = B (X A = B when not left) for triangular A (only its triangle is read)."""
    fname = "linalg.solve_triangular"
    check_matrix(A, fname)
    if not isinstance(B, Tensor):
        raise TypeError(f"{fname}(): argument 'B' (position 2) must be Tensor, not "
                        f"{type(B).__name__}")
    if B.ndim < 2:
        raise RuntimeError(f"{fname}: The input tensor B must have at least 2 dimensions.")
    check_same_dtype(A, B, fname)
    n = A._shape[-1]
    if (B._shape[-2] if left else B._shape[-1]) != n:
        eq = "AX = B" if left else "XA = B"
        raise RuntimeError(f"{fname}: Incompatible shapes of A and B for the equation {eq} "
                           f"({A._shape[-2]}x{A._shape[-1]} and {B._shape[-2]}x"
                           f"{B._shape[-1]})")
    from ._operands import broadcast_shapes
    batch = broadcast_shapes(A._shape[:-2], B._shape[:-2])
    A = A.expand(batch + A._shape[-2:])
    B = B.expand(batch + B._shape[-2:])
    return _SolveTriangular.apply(A, B, bool(upper), bool(left), bool(unitriangular))


# ------------------------------------------------------------------ named tuple results
_RETURN_TYPES: dict = {}


def _ret(name, fields, values):
    cls = _RETURN_TYPES.get(name)
    if cls is None:
        import collections

        base = collections.namedtuple(name, fields)

        def __repr__(self):
            body = ",\n".join(f"{f}={v!r}" for f, v in zip(self._fields, self))
            return f"torch.return_types.{name}(\n{body})"
        cls = type(name, (base,), {"__slots__": (), "__repr__": __repr__})
        cls.__qualname__ = f"return_types.{name}"
        cls.__module__ = "torch.return_types"
        _RETURN_TYPES[name] = cls
    return cls(*values)
