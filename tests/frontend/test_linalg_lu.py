"""LU (lu_factor(_ex), lu, lu_unpack, lu_solve, torch.lu/lu_solve), matrix_exp, tensorinv,
tensorsolve and vander against torch: values, gradients (equal to torch's, gradcheck in
float64), errors; on every backend (opencl factors through the cpu fallback)."""
import warnings

import numpy
import plugrad
import pytest
import torch
from plugrad.autograd import gradcheck, gradgradcheck

from test_linalg import _check_op, _close, _pair, _supported

RNG = numpy.random.default_rng(11)


def _mat(*shape):
    return RNG.standard_normal(shape)


# ----------------------------------------------------------------------------- lu family
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("shape", [(4, 4), (2, 3, 5), (2, 5, 3), (1, 1)])
def test_lu_factor_values_pivots_and_grads(device, dtype, shape):
    _check_op(device, dtype, [_mat(*shape)],
              lambda a: tuple(plugrad.linalg.lu_factor(a)),
              lambda a: tuple(torch.linalg.lu_factor(a)))


@pytest.mark.parametrize("shape", [(4, 4), (2, 3, 5), (2, 5, 3)])
def test_lu_plu_and_grads(device, shape):
    _check_op(device, "float64", [_mat(*shape)],
              lambda a: tuple(plugrad.linalg.lu(a)), lambda a: tuple(torch.linalg.lu(a)))


@pytest.mark.parametrize("shape", [(3, 3), (2, 4), (4, 2), (2, 3, 3)])
def test_lu_gradcheck(device, shape):
    _supported(device, "float64")
    a = plugrad.tensor(_mat(*shape) + numpy.eye(*shape[-2:]), device=device,
                       requires_grad=True)
    assert gradcheck(lambda x: plugrad.linalg.lu_factor(x).LU, (a,))
    assert gradcheck(lambda x: plugrad.linalg.lu(x)[1:], (a,))
    assert gradgradcheck(lambda x: plugrad.linalg.lu_factor(x).LU, (a,))


def test_lu_factor_ex_singular_and_named_results(device):
    _supported(device, "float64")
    a, ref = _pair([[[1.0, 2.0], [2.0, 4.0]], [[0.0, 0.0], [0.0, 0.0]]], device)
    ours, theirs = plugrad.linalg.lu_factor_ex(a), torch.linalg.lu_factor_ex(ref)
    assert type(ours).__name__ == "linalg_lu_factor_ex" and ours._fields == ("LU", "pivots", "info")
    assert theirs.LU is theirs[0] and ours.info is ours[2]
    _close(tuple(ours), tuple(theirs))
    with pytest.raises(RuntimeError) as ours_err:
        plugrad.linalg.lu_factor(a)
    with pytest.raises(RuntimeError) as ref_err:
        torch.linalg.lu_factor(ref)
    assert str(ours_err.value) == str(ref_err.value)
    with pytest.raises(RuntimeError, match=r"lu_factor_ex: \(Batch element 0\): U\[2,2\]"):
        plugrad.linalg.lu_factor_ex(a, check_errors=True)


@pytest.mark.parametrize("call, message", [
    (lambda L, a: L.lu_factor(a, pivot=False), "LU without pivoting is not implemented"),
    (lambda L, a: L.lu(a[0]), "Expected tensor with 2 or more dimensions"),
    (lambda L, a: L.lu_factor(a.long()), "not implemented for 'Long'"),
    (lambda L, a: L.lu_solve(a, a.int()[:, 0], a[:2]), "Incompatible shapes"),
    (lambda L, a: L.lu_solve(a, a.long()[:, 0], a), "pivots should be a Tensor of scalar type"),
    (lambda L, a: L.lu_solve(a, a.int()[:, 0], a[0]), "B must have at least 2 dimensions"),
])
def test_lu_errors_as_torch(call, message):
    a = numpy.eye(3) + 1
    for lib in (torch, plugrad):
        with pytest.raises((RuntimeError, NotImplementedError), match=message) as err:
            call(lib.linalg, lib.tensor(a))
        if lib is torch:
            kind = err.type
        else:
            assert err.type is kind


@pytest.mark.parametrize("left", [True, False])
@pytest.mark.parametrize("adjoint", [False, True])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_lu_solve(device, left, adjoint, dtype):
    a = _mat(2, 4, 4) + 2 * numpy.eye(4)
    b = _mat(2, 4, 3) if left else _mat(2, 3, 4)

    def run(lib, a, b):
        LU, piv = lib.linalg.lu_factor(a)
        return lib.linalg.lu_solve(LU, piv, b, left=left, adjoint=adjoint)
    _check_op(device, dtype, [a, b], lambda a, b: run(plugrad, a, b),
              lambda a, b: run(torch, a, b))


def test_lu_solve_broadcasts_and_gradchecks(device):
    _supported(device, "float64")
    a = plugrad.tensor(_mat(4, 4) + 2 * numpy.eye(4), device=device, requires_grad=True)
    b = plugrad.tensor(_mat(3, 4, 2), device=device, requires_grad=True)
    LU, piv = plugrad.linalg.lu_factor(a)
    ref = torch.linalg.lu_solve(*torch.linalg.lu_factor(torch.tensor(a.detach().cpu().numpy())),
                                torch.tensor(b.detach().cpu().numpy()))
    _close(plugrad.linalg.lu_solve(LU, piv, b), ref)
    assert gradcheck(lambda a, b: plugrad.linalg.lu_solve(*plugrad.linalg.lu_factor(a), b,
                                                          adjoint=True), (a, b))


@pytest.mark.parametrize("unpack_data, unpack_pivots", [(True, True), (False, True),
                                                        (True, False)])
def test_lu_unpack_and_torch_spellings(device, unpack_data, unpack_pivots):
    _supported(device, "float64")
    a, ref = _pair(_mat(2, 5, 3), device)
    ours = plugrad.lu_unpack(*plugrad.linalg.lu_factor(a), unpack_data, unpack_pivots)
    theirs = torch.lu_unpack(*torch.linalg.lu_factor(ref), unpack_data, unpack_pivots)
    assert type(ours).__name__ == "lu_unpack"
    _close(tuple(ours), tuple(theirs))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _close(tuple(a.lu(get_infos=True)), tuple(ref.lu(get_infos=True)))
        _close(tuple(plugrad.lu(a)), tuple(torch.lu(ref)))
    sq, sq_ref = _pair(_mat(4, 4) + 2 * numpy.eye(4), device)
    b, b_ref = _pair(_mat(4, 2), device)
    _close(plugrad.lu_solve(b, *plugrad.linalg.lu_factor(sq)),
           torch.lu_solve(b_ref, *torch.linalg.lu_factor(sq_ref)))
    _close(b.lu_solve(*plugrad.linalg.lu_factor(sq)),
           b_ref.lu_solve(*torch.linalg.lu_factor(sq_ref)))
    with pytest.raises(RuntimeError, match="LU_pivots is expected to be a contiguous tensor"):
        plugrad.lu_unpack(a, plugrad.linalg.lu_factor(a).pivots.long())


def test_lu_complex_cpu():
    a = _mat(3, 3) + 1j * _mat(3, 3)
    ours, ref = plugrad.tensor(a), torch.tensor(a)
    _close(tuple(plugrad.linalg.lu_factor(ours)), tuple(torch.linalg.lu_factor(ref)))
    _close(tuple(plugrad.linalg.lu(ours)), tuple(torch.linalg.lu(ref)))


# ---------------------------------------------------------------------------- matrix_exp
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("scale", [0.1, 1.0, 8.0])
def test_matrix_exp(device, dtype, scale):
    a = scale * _mat(2, 4, 4)
    _supported(device, dtype)
    ours, ref = _pair(a, device, dtype, grad=True)
    out, expect = plugrad.linalg.matrix_exp(ours), torch.linalg.matrix_exp(ref)
    rtol = 1e-12 if dtype == "float64" else 1e-5
    numpy.testing.assert_allclose(out.detach().cpu().numpy(), expect.detach().numpy(),
                                  rtol=rtol, atol=rtol * float(expect.abs().max()))
    assert out.grad_fn.name() == "LinalgMatrixExpBackward0"
    g = _mat(2, 4, 4)
    out.backward(plugrad.tensor(g, dtype=out.dtype, device=device))
    expect.backward(torch.tensor(g, dtype=expect.dtype))
    numpy.testing.assert_allclose(ours.grad.cpu().numpy(), ref.grad.numpy(), rtol=rtol * 10,
                                  atol=rtol * 10 * float(ref.grad.abs().max()))
    _close(ours.detach().matrix_exp(), torch.matrix_exp(ref.detach()), rtol * 10, rtol * 10 *
           float(expect.abs().max()))


def test_matrix_exp_gradcheck_errors_and_parametrization_uses_it(device):
    _supported(device, "float64")
    a = plugrad.tensor(_mat(3, 3), device=device, requires_grad=True)
    assert gradcheck(plugrad.linalg.matrix_exp, (a,))
    assert gradgradcheck(plugrad.linalg.matrix_exp, (a,))
    for bad, message in ((plugrad.ones(2, 3), "must be batches of square matrices"),
                         (plugrad.ones(3), "must have at least 2 dimensions"),
                         (plugrad.ones(2, 2, dtype=plugrad.int64),
                          "Expected a floating point or complex tensor")):
        with pytest.raises(RuntimeError, match=message):
            plugrad.linalg.matrix_exp(bad)
    from plugrad.nn.utils import parametrizations
    assert not hasattr(parametrizations, "_matrix_exp")
    assert parametrizations.matrix_exp is plugrad.linalg.matrix_exp


def test_matrix_exp_complex_cpu():
    a = _mat(3, 3) + 1j * _mat(3, 3)
    _close(plugrad.linalg.matrix_exp(plugrad.tensor(a)), torch.linalg.matrix_exp(torch.tensor(a)),
           1e-12, 1e-12)


# ------------------------------------------------------------- tensorinv / tensorsolve
def test_tensorinv_tensorsolve(device):
    a = _mat(4, 2, 2) + numpy.eye(4).reshape(4, 2, 2)
    _check_op(device, "float64", [a], lambda a: plugrad.linalg.tensorinv(a, ind=1),
              lambda a: torch.linalg.tensorinv(a, ind=1))
    a6 = _mat(2, 3, 6) + numpy.eye(6).reshape(2, 3, 6)
    _check_op(device, "float64", [a6, _mat(2, 3)], plugrad.linalg.tensorsolve,
              torch.linalg.tensorsolve)
    a6p = numpy.ascontiguousarray(numpy.moveaxis(a6, 2, 0))
    _check_op(device, "float64", [a6p, _mat(2, 3)],
              lambda a, b: plugrad.linalg.tensorsolve(a, b, dims=(0,)),
              lambda a, b: torch.linalg.tensorsolve(a, b, dims=(0,)))


@pytest.mark.parametrize("call", [
    lambda L: L.linalg.tensorinv(L.ones(4, 2, 3), ind=1),
    lambda L: L.linalg.tensorinv(L.ones(4, 2, 2), ind=0),
    lambda L: L.linalg.tensorinv(L.ones(4, 2, 2, dtype=L.float64), ind=1),
    lambda L: L.linalg.tensorsolve(L.ones(4, 2, 2), L.ones(3)),
])
def test_tensorinv_tensorsolve_errors_as_torch(call):
    with pytest.raises(RuntimeError) as ref:
        call(torch)
    with pytest.raises(RuntimeError) as ours:
        call(plugrad)
    assert type(ours.value).__name__ == type(ref.value).__name__
    assert str(ours.value) == str(ref.value)


# -------------------------------------------------------------------------------- vander
@pytest.mark.parametrize("dtype", ["float64", "float32", "int64"])
def test_vander(device, dtype):
    _supported(device, dtype if dtype != "int64" else "float64")
    x = numpy.array([[1.5, -2.0, 3.0], [0.5, 2.0, 0.0]]).astype(dtype)
    ours, ref = plugrad.tensor(x, device=device), torch.tensor(x)
    for N in (None, 2, 5):
        _close(plugrad.linalg.vander(ours, N=N), torch.linalg.vander(ref, N=N))
    for N, inc in ((None, False), (2, True), (4, False)):
        _close(plugrad.vander(ours[0], N=N, increasing=inc), torch.vander(ref[0], N=N,
                                                                           increasing=inc))
    with pytest.raises(RuntimeError, match="N must be greater than 1"):
        plugrad.linalg.vander(ours, N=1)
    with pytest.raises(RuntimeError, match="x must be a one-dimensional tensor"):
        plugrad.vander(ours)


def test_vander_grad(device):
    _check_op(device, "float64", [_mat(2, 3)], lambda x: plugrad.linalg.vander(x, N=4),
              lambda x: torch.linalg.vander(x, N=4))


# ------------------------------------------------------ addr / addbmm / chain_matmul
def test_addr_addbmm_chain_matmul(device):
    i, v1, v2 = _mat(2, 3), _mat(2), _mat(3)
    b1, b2 = _mat(4, 2, 5), _mat(4, 5, 3)
    _check_op(device, "float64", [i, v1, v2],
              lambda i, a, b: plugrad.addr(i, a, b, beta=0.5, alpha=2),
              lambda i, a, b: torch.addr(i, a, b, beta=0.5, alpha=2))
    _check_op(device, "float64", [i, b1, b2],
              lambda i, a, b: plugrad.addbmm(i, a, b, alpha=0.3),
              lambda i, a, b: torch.addbmm(i, a, b, alpha=0.3))
    _check_op(device, "float64", [i, v1, v2], lambda i, a, b: i.addr(a, b),
              lambda i, a, b: i.addr(a, b))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _check_op(device, "float64", [b1[0], b2[0], _mat(3, 4)], plugrad.chain_matmul,
                  torch.chain_matmul)
    _supported(device, "float64")
    ours, ref = _pair(i, device)
    ours.addr_(*_pair(v1, device)[:1], *_pair(v2, device)[:1])
    ref.addr_(torch.tensor(v1), torch.tensor(v2))
    _close(ours, ref)
    with pytest.raises(RuntimeError, match="addr: Expected 1-D argument vec1"):
        plugrad.addr(ours, ours, plugrad.tensor(v2, device=device))
