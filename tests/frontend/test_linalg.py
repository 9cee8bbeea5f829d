"""torch.linalg against torch: values (batched, float32/float64), gradients equal to torch's
and gradcheck in float64, torch's errors (LinAlgError for singular / not positive-definite
inputs), the torch.* and Tensor spellings; on every backend (opencl runs the factorizations
through the cpu fallback)."""
import math
import warnings

import numpy
import plugrad
import pytest
import torch

RNG = numpy.random.default_rng(7)


def _supported(device, dtype):
    if dtype == "float64" and not plugrad.plugins.supports(device, "add", "float64"):
        pytest.skip(f"{device} has no float64")


def _pair(arr, device, dtype="float64", grad=False):
    arr = numpy.asarray(arr, dtype=dtype)
    ours = plugrad.tensor(arr, device=device, requires_grad=grad)
    ref = torch.tensor(arr, requires_grad=grad)
    return ours, ref


def _close(ours, ref, rtol=1e-10, atol=1e-10):
    if isinstance(ref, (tuple, list)):
        assert len(ours) == len(ref)
        for o, r in zip(ours, ref):
            _close(o, r, rtol, atol)
        return
    assert str(ours.dtype) == str(ref.dtype), (ours.dtype, ref.dtype)
    assert tuple(ours.shape) == tuple(ref.shape)
    numpy.testing.assert_allclose(ours.detach().cpu().numpy(), ref.detach().numpy(),
                                  rtol=rtol, atol=atol)


def _tol(dtype):
    return (1e-10, 1e-10) if dtype == "float64" else (2e-4, 2e-4)


def _spd(*batch, n=4):
    a = RNG.standard_normal(batch + (n, n))
    return a @ numpy.swapaxes(a, -1, -2) + n * numpy.eye(n)


def _general(*shape):
    return RNG.standard_normal(shape) + 3 * numpy.eye(shape[-2], shape[-1])


# ------------------------------------------------------------------------ values + grads
def _check_op(device, dtype, arrays, ours_fn, ref_fn, loss=None, grad=True):
    """Values equal torch's; then the gradient of loss(outputs) (a weighted sum) too."""
    _supported(device, dtype)
    pairs = [_pair(a, device, dtype, grad=grad) for a in arrays]
    ours_out = ours_fn(*[p[0] for p in pairs])
    ref_out = ref_fn(*[p[1] for p in pairs])
    rtol, atol = _tol(dtype)
    if loss is None:
        _close(ours_out, ref_out, rtol, atol)
        outs_o = ours_out if isinstance(ours_out, tuple) else (ours_out,)
        outs_r = ref_out if isinstance(ref_out, tuple) else (ref_out,)
        loss = lambda outs, lib: sum((o * lib.tensor(  # noqa: E731
            numpy.linspace(0.5, 1.5, o.numel()).reshape(tuple(o.shape)),
            dtype=o.dtype, device=o.device)).sum() for o in outs if o.dtype.is_floating_point)
    else:
        outs_o, outs_r = ours_out, ref_out
    if not grad:
        return
    lo, lr = loss(outs_o, plugrad), loss(outs_r, torch)
    _close(lo, lr, rtol, atol)
    lo.backward()
    lr.backward()
    for (o, r) in pairs:
        _close(o.grad, r.grad, rtol * 10, atol * 10)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("upper", [False, True])
def test_cholesky(device, dtype, upper):
    _check_op(device, dtype, [_spd(2, 3)],
              lambda a: plugrad.linalg.cholesky(a, upper=upper),
              lambda a: torch.linalg.cholesky(a, upper=upper))


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_inv_det_slogdet(device, dtype):
    a = _general(2, 4, 4)
    _check_op(device, dtype, [a], plugrad.linalg.inv, torch.linalg.inv)
    _check_op(device, dtype, [a], plugrad.linalg.det, torch.linalg.det)
    _check_op(device, dtype, [a], lambda x: tuple(plugrad.linalg.slogdet(x)),
              lambda x: tuple(torch.linalg.slogdet(x)))
    _check_op(device, dtype, [a], plugrad.inverse, torch.inverse)
    _check_op(device, dtype, [a], lambda x: x.det(), lambda x: x.det())
    _check_op(device, dtype, [_spd(3)], lambda x: x.logdet(), lambda x: x.logdet())


@pytest.mark.parametrize("left", [True, False])
def test_solve_broadcast_and_vector(device, left):
    a = _general(2, 1, 3, 3)
    b = RNG.standard_normal((4, 3, 2)) if left else RNG.standard_normal((4, 2, 3))
    _check_op(device, "float64", [a, b], lambda x, y: plugrad.linalg.solve(x, y, left=left),
              lambda x, y: torch.linalg.solve(x, y, left=left))
    if left:
        v = RNG.standard_normal(3)
        _check_op(device, "float64", [a[0, 0], v], plugrad.linalg.solve, torch.linalg.solve)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("mode", ["reduced", "complete"])
@pytest.mark.parametrize("shape", [(2, 5, 3), (4, 4), (2, 3, 5)])
def test_qr(device, dtype, mode, shape):
    if mode == "complete" and shape[-2] > shape[-1]:
        grad = False
    else:
        grad = True
    _check_op(device, dtype, [RNG.standard_normal(shape)],
              lambda a: tuple(plugrad.linalg.qr(a, mode=mode)),
              lambda a: tuple(torch.linalg.qr(a, mode=mode)), grad=grad)


def test_qr_mode_r_and_its_backward_error(device):
    a, at = _pair(RNG.standard_normal((4, 3)), device, grad=True)
    q, r = plugrad.linalg.qr(a, mode="r")
    qt, rt = torch.linalg.qr(at, mode="r")
    assert tuple(q.shape) == tuple(qt.shape) == (0,)
    _close(r, rt)
    with pytest.raises(RuntimeError, match="not computed when mode='r'"):
        r.sum().backward()


def _svd_loss(outs, lib):
    U, S, Vh = outs
    k = S.shape[-1]
    # sign-invariant: singular values and the rank-1 terms u_i v_i^H
    rank1 = U[..., :, :k].unsqueeze(-1) * Vh[..., :k, :].unsqueeze(-3)
    w = lib.tensor(numpy.linspace(0.5, 1.5, rank1.numel()).reshape(tuple(rank1.shape)),
                   dtype=S.dtype, device=S.device)
    return (S * S).sum() + (rank1.transpose(-1, -2) * w.transpose(-1, -2)).sum()


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("full", [False, True])
@pytest.mark.parametrize("shape", [(2, 5, 3), (3, 3), (2, 3, 5)])
def test_svd(device, dtype, full, shape):
    a = RNG.standard_normal(shape)
    _check_op(device, dtype, [a], lambda x: tuple(plugrad.linalg.svd(x, full_matrices=full)),
              lambda x: tuple(torch.linalg.svd(x, full_matrices=full)), loss=_svd_loss)
    _check_op(device, dtype, [a], plugrad.linalg.svdvals, torch.linalg.svdvals)


def test_svd_reconstructs_and_torch_svd_spelling(device):
    a, at = _pair(RNG.standard_normal((4, 3)), device)
    U, S, V = plugrad.svd(a)
    _close(U @ S.diag_embed() @ V.mT, at)
    assert tuple(V.shape) == (3, 3)
    _close(plugrad.svd(a, compute_uv=False).S, torch.svd(at, compute_uv=False).S)


def _eigh_loss(outs, lib):
    L, V = outs
    # eigenvectors up to sign: V diag(w) V^T with distinct weights
    w = lib.tensor(numpy.linspace(0.5, 1.5, L.shape[-1]), dtype=L.dtype, device=L.device)
    return (L * L).sum() + ((V * w) @ V.mT).pow(2).mul(lib.tensor(
        numpy.linspace(1, 2, V.numel()).reshape(tuple(V.shape)), dtype=L.dtype,
        device=L.device)).sum()


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("UPLO", ["L", "U"])
def test_eigh(device, dtype, UPLO):
    a = RNG.standard_normal((2, 4, 4))
    _check_op(device, dtype, [a], lambda x: tuple(plugrad.linalg.eigh(x, UPLO)),
              lambda x: tuple(torch.linalg.eigh(x, UPLO)), loss=_eigh_loss)
    _check_op(device, dtype, [a], lambda x: plugrad.linalg.eigvalsh(x, UPLO),
              lambda x: torch.linalg.eigvalsh(x, UPLO))


def test_eigh_repeated_eigenvalues_as_torch(device):
    """torch documents that eigenvectors' gradients are undefined for repeated eigenvalues
    (it divides by their difference); the eigenvalues' gradient stays well defined."""
    a, at = _pair(numpy.diag([1.0, 1.0, 2.0]), device, grad=True)
    plugrad.linalg.eigvalsh(a).mul(plugrad.tensor([1.0, 2.0, 3.0], dtype=plugrad.float64,
                                                  device=device)).sum().backward()
    torch.linalg.eigvalsh(at).mul(torch.tensor([1.0, 2.0, 3.0],
                                               dtype=torch.float64)).sum().backward()
    _close(a.grad, at.grad)
    b, bt = _pair(numpy.diag([1.0, 1.0, 2.0]), device, grad=True)
    plugrad.linalg.eigh(b)[1].sum().backward()
    torch.linalg.eigh(bt)[1].sum().backward()
    ours, ref = b.grad.cpu().numpy(), bt.grad.numpy()
    assert not numpy.isfinite(ref).all()
    numpy.testing.assert_array_equal(numpy.isfinite(ours), numpy.isfinite(ref))


@pytest.mark.parametrize("upper", [False, True])
@pytest.mark.parametrize("left", [False, True])
@pytest.mark.parametrize("unit", [False, True])
def test_solve_triangular(device, upper, left, unit):
    a = _general(2, 4, 4)
    b = RNG.standard_normal((2, 4, 3) if left else (2, 3, 4))
    _check_op(device, "float64", [a, b],
              lambda x, y: plugrad.linalg.solve_triangular(x, y, upper=upper, left=left,
                                                           unitriangular=unit),
              lambda x, y: torch.linalg.solve_triangular(x, y, upper=upper, left=left,
                                                         unitriangular=unit))


def test_cholesky_solve_inverse_triangular_solve(device):
    s = _spd(2)
    L = numpy.linalg.cholesky(s)
    b = RNG.standard_normal((2, 4, 3))
    for upper in (False, True):
        f = numpy.swapaxes(L, -1, -2) if upper else L
        _check_op(device, "float64", [b, f],
                  lambda x, y: plugrad.cholesky_solve(x, y, upper),
                  lambda x, y: torch.cholesky_solve(x, y, upper))
        _check_op(device, "float64", [f], lambda y: plugrad.cholesky_inverse(y, upper),
                  lambda y: torch.cholesky_inverse(y, upper))
    _check_op(device, "float64", [b, _general(2, 4, 4)],
              lambda x, y: tuple(plugrad.triangular_solve(x, y, transpose=True)),
              lambda x, y: tuple(torch.triangular_solve(x, y, transpose=True)))
    _check_op(device, "float64", [s], lambda x: x.cholesky(), lambda x: x.cholesky())


# -------------------------------------------------------------------------- composites
@pytest.mark.parametrize("ord", [None, "fro", "nuc", 1, -1, 2, -2, math.inf, -math.inf])
def test_matrix_and_linalg_norm(device, ord):
    a = RNG.standard_normal((2, 3, 4))
    _check_op(device, "float64", [a],
              lambda x: plugrad.linalg.matrix_norm(x, "fro" if ord is None else ord),
              lambda x: torch.linalg.matrix_norm(x, "fro" if ord is None else ord))
    _check_op(device, "float64", [a[0]], lambda x: plugrad.linalg.norm(x, ord),
              lambda x: torch.linalg.norm(x, ord))
    _check_op(device, "float64", [a],
              lambda x: plugrad.linalg.norm(x, ord, dim=(0, 2), keepdim=True),
              lambda x: torch.linalg.norm(x, ord, dim=(0, 2), keepdim=True))


@pytest.mark.parametrize("ord", [2, 1, 0, 3.5, math.inf, -math.inf, 0.5])
def test_vector_norm(device, ord):
    a = RNG.standard_normal((3, 4))
    _check_op(device, "float64", [a], lambda x: plugrad.linalg.vector_norm(x, ord, dim=1),
              lambda x: torch.linalg.vector_norm(x, ord, dim=1), grad=ord != 0)
    _check_op(device, "float64", [a], lambda x: plugrad.linalg.norm(x, ord, dim=-1),
              lambda x: torch.linalg.norm(x, ord, dim=-1), grad=ord != 0)


@pytest.mark.parametrize("shape", [(2, 5, 3), (2, 3, 5)])
def test_pinv_rank_lstsq(device, shape):
    a = RNG.standard_normal(shape)
    _check_op(device, "float64", [a], plugrad.linalg.pinv, torch.linalg.pinv)
    _check_op(device, "float64", [a], plugrad.pinverse, torch.pinverse)
    s = _spd(2)
    _check_op(device, "float64", [s], lambda x: plugrad.linalg.pinv(x, hermitian=True),
              lambda x: torch.linalg.pinv(x, hermitian=True))
    low = a[..., :1] * RNG.standard_normal(shape[-1])        # rank 1
    _check_op(device, "float64", [low], plugrad.linalg.matrix_rank, torch.linalg.matrix_rank,
              grad=False)
    _check_op(device, "float64", [a], plugrad.linalg.matrix_rank, torch.linalg.matrix_rank,
              grad=False)
    if shape[-2] >= shape[-1]:
        b = RNG.standard_normal(shape[:-1] + (2,))
        for driver in (None, "gelsd", "gelss"):
            _check_op(device, "float64", [a, b],
                      lambda x, y: tuple(plugrad.linalg.lstsq(x, y, driver=driver)),
                      lambda x, y: tuple(torch.linalg.lstsq(x, y, driver=driver)),
                      loss=lambda outs, lib: (outs[0] * outs[0]).sum())


@pytest.mark.parametrize("n", [0, 1, 2, 5, -1, -3])
def test_matrix_power(device, n):
    _check_op(device, "float64", [_general(2, 3, 3) / 2],
              lambda x: plugrad.linalg.matrix_power(x, n),
              lambda x: torch.linalg.matrix_power(x, n), grad=n != 0)
    _check_op(device, "float64", [_general(3, 3) / 2], lambda x: x.matrix_power(n),
              lambda x: x.matrix_power(n), grad=n != 0)


def test_cross_multi_dot_vecdot_householder(device):
    a, b = RNG.standard_normal((4, 3)), RNG.standard_normal((1, 3))
    _check_op(device, "float64", [a, b], plugrad.linalg.cross, torch.linalg.cross)
    _check_op(device, "float64", [a, b], lambda x, y: plugrad.cross(x, y, dim=1),
              lambda x, y: torch.cross(x, y, dim=1))
    _check_op(device, "float64", [a, b], lambda x, y: x.cross(y, dim=-1),
              lambda x, y: x.cross(y, dim=-1))
    c, d = RNG.standard_normal((3, 5)), RNG.standard_normal((3, 5))
    with warnings.catch_warnings():     # torch warns once per process (TORCH_WARN_ONCE)
        warnings.simplefilter("ignore")
        want = torch.cross(torch.tensor(c), torch.tensor(d)).numpy()
    with pytest.warns(UserWarning, match="without specifying the dim arg is deprecated"):
        got = plugrad.cross(plugrad.tensor(c, device=device), plugrad.tensor(d, device=device))
    numpy.testing.assert_allclose(got.cpu().numpy(), want, rtol=1e-12)   # the first size-3 dim
    for bad in (lambda T: T.cross(T.zeros(4, 2), T.zeros(4, 2)),
                lambda T: T.zeros(4, 3).cross(T.zeros(4, 3), dim=0)):
        with pytest.raises(RuntimeError) as want:
            bad(torch)
        with pytest.raises(RuntimeError, match=str(want.value).split(":")[0]):
            bad(plugrad)
    mats = [RNG.standard_normal(s) for s in [(3,), (3, 5), (5, 2), (2, 4), (4,)]]
    _check_op(device, "float64", mats, lambda *m: plugrad.linalg.multi_dot(list(m)),
              lambda *m: torch.linalg.multi_dot(list(m)))
    _check_op(device, "float64", [a, a[::-1].copy()], plugrad.linalg.vecdot,
              torch.linalg.vecdot)
    h, tau = RNG.standard_normal((2, 5, 3)), RNG.standard_normal((2, 2))
    _check_op(device, "float64", [h, tau], plugrad.linalg.householder_product,
              torch.linalg.householder_product)


def test_cond(device):
    _check_op(device, "float64", [_general(2, 3, 3)], plugrad.linalg.cond, torch.linalg.cond)
    # (torch's own backward of cond(A, 'fro') fails: inv_ex's output is changed in place)
    _check_op(device, "float64", [_general(3, 3)], lambda x: plugrad.linalg.cond(x, "fro"),
              lambda x: torch.linalg.cond(x, "fro"), grad=False)


# ------------------------------------------------------------------------------ gradcheck
GRADCHECK = {
    "cholesky": lambda A: plugrad.linalg.cholesky(A @ A.mT + 3 * plugrad.eye(
        3, dtype=A.dtype, device=A.device)),
    "inv": plugrad.linalg.inv,
    "det": plugrad.linalg.det,
    "slogdet": lambda A: plugrad.linalg.slogdet(A).logabsdet,
    "solve": lambda A: plugrad.linalg.solve(A, A.sum(-1)),
    "qr": lambda A: tuple(plugrad.linalg.qr(A[..., :2])),
    "qr_wide": lambda A: tuple(plugrad.linalg.qr(A[..., :2, :])),
    "svdvals": plugrad.linalg.svdvals,
    "eigvalsh": lambda A: plugrad.linalg.eigvalsh(A + A.mT),
    "pinv": plugrad.linalg.pinv,
    "solve_triangular": lambda A: plugrad.linalg.solve_triangular(A, A.mT, upper=True),
    "matrix_norm_nuc": lambda A: plugrad.linalg.matrix_norm(A, "nuc"),
}


@pytest.mark.parametrize("name", sorted(GRADCHECK))
def test_gradcheck_float64(device, name):
    _supported(device, "float64")
    a = plugrad.tensor(_general(2, 3, 3), device=device, requires_grad=True)
    assert plugrad.autograd.gradcheck(GRADCHECK[name], (a,))


@pytest.mark.parametrize("rows", [[[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [0.5, -1.0, 2.0]],
                                  [[0.0, 0.0], [0.0, 1.0]], [[1.0, 2.0], [2.0, 4.0]]])
def test_det_gradient_of_singular_matrix_is_the_cofactor_matrix(device, rows):
    """The cofactor matrix, as torch's SVD-based singular branch gives under create_graph
    (without it torch's LU path returns 0 there, which is not the derivative)."""
    _supported(device, "float64")
    a, at = _pair(rows, device, grad=True)
    (g,) = plugrad.autograd.grad(plugrad.linalg.det(a), a, create_graph=True)
    (gt,) = torch.autograd.grad(torch.linalg.det(at), at, create_graph=True)
    _close(g, gt, 1e-9, 1e-9)


# ---------------------------------------------------------------------------------- errors
def _raises(device, fn_ours, fn_ref, arrays, dtype="float64"):
    ours = [plugrad.tensor(numpy.asarray(a), dtype=getattr(plugrad, dtype), device=device)
            for a in arrays]
    refs = [torch.tensor(numpy.asarray(a), dtype=getattr(torch, dtype)) for a in arrays]
    with pytest.raises(Exception) as want:
        fn_ref(*refs)
    with pytest.raises(Exception) as got:
        fn_ours(*ours)
    assert isinstance(got.value, RuntimeError)
    assert type(got.value).__name__ == type(want.value).__name__
    assert str(got.value) == str(want.value)


@pytest.mark.parametrize("name", ["inv", "cholesky", "det", "eigh", "svd", "qr", "slogdet"])
def test_shape_and_dtype_errors(device, name):
    ours, ref = getattr(plugrad.linalg, name), getattr(torch.linalg, name)
    _raises(device, ours, ref, [numpy.ones(3)])
    if name not in ("svd", "qr"):
        _raises(device, ours, ref, [numpy.ones((2, 3))])
    _raises(device, ours, ref, [numpy.ones((2, 2))], dtype="int64")
    _raises(device, ours, ref, [numpy.ones((2, 2))], dtype="float16")


def test_linalg_errors_singular_and_not_positive_definite(device):
    assert issubclass(plugrad.linalg.LinAlgError, RuntimeError)
    sing = numpy.ones((2, 2))
    batch = numpy.stack([numpy.eye(2), sing])
    _raises(device, plugrad.linalg.inv, torch.linalg.inv, [sing])
    _raises(device, plugrad.linalg.inv, torch.linalg.inv, [batch])
    _raises(device, plugrad.linalg.solve, torch.linalg.solve, [sing, numpy.ones(2)])
    notpd = numpy.stack([numpy.eye(2), [[1.0, 2.0], [2.0, 1.0]]])
    _raises(device, plugrad.linalg.cholesky, torch.linalg.cholesky, [notpd])
    with pytest.raises(plugrad.linalg.LinAlgError):
        plugrad.linalg.inv(plugrad.ones(2, 2, device=device))
    L, info = plugrad.linalg.cholesky_ex(plugrad.tensor(notpd, device=device))
    _, info_t = torch.linalg.cholesky_ex(torch.tensor(notpd))
    assert info.tolist() == info_t.tolist() and info.dtype == plugrad.int32
    inv, info = plugrad.linalg.inv_ex(plugrad.tensor(batch, device=device))
    assert info.tolist() == torch.linalg.inv_ex(torch.tensor(batch)).info.tolist()
    x, info = plugrad.linalg.solve_ex(plugrad.tensor(batch, device=device),
                                      plugrad.ones(2, 2, 1, device=device,
                                                   dtype=plugrad.float64))
    assert info.tolist() == torch.linalg.solve_ex(torch.tensor(batch),
                                                  torch.ones(2, 2, 1,
                                                             dtype=torch.float64)).info.tolist()


def test_argument_errors(device):
    _raises(device, lambda a, b: plugrad.linalg.solve(a, b),
            lambda a, b: torch.linalg.solve(a, b), [numpy.eye(2), numpy.ones(3)])
    _raises(device, lambda a, b: plugrad.linalg.solve_triangular(a, b, upper=True),
            lambda a, b: torch.linalg.solve_triangular(a, b, upper=True),
            [numpy.eye(2), numpy.ones(2)])
    _raises(device, lambda a, b: plugrad.linalg.solve_triangular(a, b, upper=True),
            lambda a, b: torch.linalg.solve_triangular(a, b, upper=True),
            [numpy.eye(2), numpy.ones((3, 2))])
    _raises(device, lambda a: plugrad.linalg.qr(a, mode="x"),
            lambda a: torch.linalg.qr(a, mode="x"), [numpy.eye(2)])
    _raises(device, lambda a: plugrad.linalg.norm(a, 2), lambda a: torch.linalg.norm(a, 2),
            [numpy.ones((2, 2, 2))])
    _raises(device, lambda a: plugrad.linalg.matrix_norm(a, 3),
            lambda a: torch.linalg.matrix_norm(a, 3), [numpy.ones((2, 2))])
    _raises(device, plugrad.linalg.cross, torch.linalg.cross,
            [numpy.ones((2, 2)), numpy.ones((2, 2))])
    _raises(device, lambda a: plugrad.linalg.multi_dot([a]),
            lambda a: torch.linalg.multi_dot([a]), [numpy.ones((2, 2))])
    _raises(device, lambda a, b: plugrad.linalg.lstsq(a, b),
            lambda a, b: torch.linalg.lstsq(a, b), [numpy.ones((3, 3)), numpy.ones((2, 3))])
    _raises(device, plugrad.linalg.householder_product, torch.linalg.householder_product,
            [numpy.ones((3, 2)), numpy.ones(3)])
    a = plugrad.eye(2, device=device, dtype=plugrad.float64)
    with pytest.raises(RuntimeError, match="Expected A and B to have the same dtype"):
        plugrad.linalg.solve(a, plugrad.ones(2, device=device))


def test_grad_fn_names_and_return_types(device):
    a = plugrad.eye(2, device=device, requires_grad=True)
    assert type(plugrad.linalg.cholesky(a).grad_fn).__name__ == "LinalgCholeskyExBackward0"
    assert plugrad.linalg.inv(a).grad_fn.name() == "LinalgInvExBackward0"
    assert plugrad.linalg.det(a).grad_fn.name() == "LinalgDetBackward0"
    res = plugrad.linalg.slogdet(a)
    assert type(res).__name__ == "linalg_slogdet" and res.logabsdet.grad_fn.name() == \
        "LinalgSlogdetBackward0"
    assert repr(plugrad.linalg.qr(a.detach())).startswith("torch.return_types.linalg_qr(\nQ=")
    assert plugrad.linalg.svd(a).Vh.grad_fn.name() == "LinalgSvdBackward0"
    assert plugrad.linalg.eigh(a).eigenvectors.grad_fn.name() == "LinalgEighBackward0"


def test_opencl_runs_factorizations_through_the_cpu_fallback():
    """opencl has no decomposition kernels: the contract marks them host_fallback, so they
    run on the cpu backend (counted, one FallbackWarning per op); cpu has them natively."""
    from conftest import availability
    if availability("opencl") is not True:
        pytest.skip("no opencl")
    reg = plugrad.plugins.get_registry()
    assert reg.table("cpu").supports("linalg_cholesky")
    assert not reg.table("opencl").supports("linalg_cholesky")
    before = reg.fallbacks.report().get("opencl.linalg_inv", 0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        x = plugrad.linalg.inv(plugrad.eye(3, device="opencl") * 2)
    assert x.device.type == "opencl"
    assert x.cpu().tolist()[0][0] == 0.5
    assert reg.fallbacks.report()["opencl.linalg_inv"] == before + 1


# ------------------------------------------------------------ complex inputs and eig
# (on opencl, which stores no complex dtype, they run on the cpu backend: host_storage.py)
_CA = (numpy.random.default_rng(2).standard_normal((2, 3, 3))
       + 1j * numpy.random.default_rng(3).standard_normal((2, 3, 3)) + 3 * numpy.eye(3))
COMPLEX_CASES = {
    "inv": lambda L, x: L.linalg.inv(x), "det": lambda L, x: L.linalg.det(x),
    "slogdet": lambda L, x: L.linalg.slogdet(x)[1],
    "solve": lambda L, x: L.linalg.solve(x, x[..., 0]),
    "cholesky": lambda L, x: L.linalg.cholesky(x @ x.mH + 2 * L.eye(3, device=x.device)),
    "qr": lambda L, x: L.linalg.qr(x)[1].abs(), "svdvals": lambda L, x: L.linalg.svdvals(x),
    "eigvalsh": lambda L, x: L.linalg.eigvalsh(x @ x.mH), "pinv": lambda L, x: L.linalg.pinv(x),
    "solve_triangular": lambda L, x: L.linalg.solve_triangular(x, x, upper=True),
    "matrix_norm": lambda L, x: L.linalg.matrix_norm(x),
    "nuc": lambda L, x: L.linalg.matrix_norm(x, "nuc"),
    "cholesky_solve": lambda L, x: L.cholesky_solve(x, L.linalg.cholesky(x @ x.mH + 2 * L.eye(3, device=x.device))),
    "eigvals": lambda L, x: L.linalg.eigvals(x),
}


@pytest.mark.parametrize("name", sorted(COMPLEX_CASES))
def test_complex_inputs_values_and_grads_equal_torch(name, device):
    a = plugrad.tensor(_CA, requires_grad=True, device=device)
    b = torch.tensor(_CA, requires_grad=True)
    o, t = COMPLEX_CASES[name](plugrad, a), COMPLEX_CASES[name](torch, b)
    assert str(o.dtype) == str(t.dtype) and o.device.type == device
    numpy.testing.assert_allclose(o.detach().cpu().numpy(), t.detach().resolve_conj().numpy(),
                                  rtol=1e-9, atol=1e-9)
    (o.abs().sum() if o.is_complex() else o.sum()).backward()
    (t.abs().sum() if t.is_complex() else t.sum()).backward()
    numpy.testing.assert_allclose(a.grad.cpu().numpy(), b.grad.resolve_conj().numpy(), rtol=1e-8,
                                  atol=1e-9)


@pytest.mark.parametrize("complex_input", [False, True])
def test_eig_values_vectors_and_grads(complex_input, device):
    rng = numpy.random.default_rng(5)
    arr = rng.standard_normal((2, 4, 4))
    if complex_input:
        arr = arr + 1j * rng.standard_normal((2, 4, 4))
    a = plugrad.tensor(arr, requires_grad=True, device=device)
    b = torch.tensor(arr, requires_grad=True)
    (L, V), (Lt, Vt) = plugrad.linalg.eig(a), torch.linalg.eig(b)
    assert str(L.dtype) == str(Lt.dtype) == "torch.complex128" and L.device.type == device
    numpy.testing.assert_allclose(L.detach().cpu().numpy(), Lt.detach().numpy(), rtol=1e-9)
    numpy.testing.assert_allclose(V.detach().cpu().numpy(), Vt.detach().numpy(), rtol=1e-8,
                                  atol=1e-10)
    w = numpy.linspace(0.5, 1.5, 32).reshape(2, 4, 4)
    # a loss that does not depend on the eigenvectors' phase (torch requires that)
    ((L.abs() ** 2).sum() + (V.abs() ** 2 * plugrad.tensor(w, device=device)).sum()).backward()
    ((Lt.abs() ** 2).sum() + (Vt.abs() ** 2 * torch.tensor(w)).sum()).backward()
    assert str(a.grad.dtype) == str(b.grad.dtype)
    numpy.testing.assert_allclose(a.grad.cpu().numpy(), b.grad.resolve_conj().numpy(),
                                  rtol=1e-7, atol=1e-9)
    c = plugrad.tensor(arr[0], requires_grad=True, device=device)
    assert plugrad.autograd.gradcheck(plugrad.linalg.eigvals, (c,))
    assert type(plugrad.linalg.eig(c).eigenvalues.grad_fn).__name__ == "LinalgEigBackward0"


def test_det_gradient_of_singular_complex_matrix(device):
    s = numpy.array([[1 + 1j, 2, 3], [2 + 2j, 4 + 4j, 6 + 6j], [0.5, -1j, 2]])
    a = plugrad.tensor(s, requires_grad=True, device=device)
    b = torch.tensor(s, requires_grad=True)
    (ga,) = plugrad.autograd.grad(plugrad.linalg.det(a), a, plugrad.tensor(
        1 + 0.5j, dtype=plugrad.complex128, device=device), create_graph=True)
    (gb,) = torch.autograd.grad(torch.linalg.det(b), b, torch.tensor(
        1 + 0.5j, dtype=torch.complex128), create_graph=True)
    numpy.testing.assert_allclose(ga.detach().cpu().numpy(), gb.detach().resolve_conj().numpy(),
                                  rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("shape", [(2, 4, 3), (3, 3), (2, 3, 4)])
def test_complex_svd_gradient_of_a_phase_invariant_loss(shape):
    rng = numpy.random.default_rng(4)
    arr = rng.standard_normal(shape) + 1j * rng.standard_normal(shape)
    a, b = plugrad.tensor(arr, requires_grad=True), torch.tensor(arr, requires_grad=True)

    def loss(lib, x):
        U, S, Vh = lib.linalg.svd(x, full_matrices=False)
        rank1 = U.unsqueeze(-1) * Vh.unsqueeze(-3)       # u_i v_i^H: no phase ambiguity
        w = lib.tensor(numpy.linspace(0.5, 1.5, rank1.numel()).reshape(tuple(rank1.shape)))
        return (S * S).sum() + (rank1 * w).abs().sum()
    lo, lt = loss(plugrad, a), loss(torch, b)
    lo.backward()
    lt.backward()
    assert lo.item() == pytest.approx(lt.item(), rel=1e-10)
    numpy.testing.assert_allclose(a.grad.numpy(), b.grad.resolve_conj().numpy(), rtol=1e-8,
                                  atol=1e-9)
