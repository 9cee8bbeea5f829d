"""The cuda backend's torch.linalg / torch.fft / complex kernels run without a GPU, on the
CuPy stand-in (tests/support/cupy_standin.py; its ``linalg``/``fft`` are numpy's).

What this checks: that the shared array-module glue (backends/xp/decomp.py, fft.py,
complex.py) the CuPy backend inherits calls ``xp.linalg``/``xp.fft`` with arguments CuPy's
accept and turns their results into the contract's (dtypes, shapes, info codes) -- including
CuPy's way of failing: its factorizations do not raise, they leave nan, which the glue must
turn into LAPACK info codes. What it cannot check: cuSOLVER/cuFFT numerics (GPU only).
"""
from __future__ import annotations

import types

import numpy as np
import pytest

import cuda_host as H
import cupy_standin as S
from plugrad.backends.cupy.backend import CupyBackend


@pytest.fixture(scope="module")
def be(tmp_path_factory):
    if H.gxx is None:
        pytest.skip("g++ not installed")
    S.ElementwiseKernel.folder = tmp_path_factory.mktemp("standin_decomp")
    return CupyBackend(S.StandinCupy())


def _dev(a):
    return np.ascontiguousarray(a).view(S.Array)


def _spd(n=3, batch=2):
    a = np.random.default_rng(0).standard_normal((batch, n, n))
    return a @ a.transpose(0, 2, 1) + n * np.eye(n)


def test_factorizations_match_numpy(be):
    a = _spd()
    L, info = be.linalg_cholesky(_dev(a), False)
    np.testing.assert_allclose(np.asarray(L), np.linalg.cholesky(a))
    assert np.asarray(info).dtype == np.int32 and not np.asarray(info).any()
    inv, info = be.linalg_inv(_dev(a))
    np.testing.assert_allclose(np.asarray(inv), np.linalg.inv(a))
    q, r = be.linalg_qr(_dev(a[:, :, :2]), "reduced")
    np.testing.assert_allclose(np.asarray(q) @ np.asarray(r), a[:, :, :2], atol=1e-12)
    u, s, vh = be.linalg_svd(_dev(a), False)
    np.testing.assert_allclose(np.asarray(s), np.linalg.svd(a, compute_uv=False))
    w, v = be.linalg_eigh(_dev(a), False)
    np.testing.assert_allclose(np.asarray(w), np.linalg.eigvalsh(a))
    x = be.linalg_solve_triangular(_dev(np.triu(a)), _dev(a), True, True, False)
    np.testing.assert_allclose(np.triu(a) @ np.asarray(x), a, atol=1e-10)
    w, v = be.linalg_eig(_dev(a[0]))
    assert np.asarray(w).dtype == np.complex128 and np.asarray(v).dtype == np.complex128


def test_cupy_style_failures_become_info_codes(be, monkeypatch):
    """CuPy returns nan for a failed factorization instead of raising: the glue must find
    which matrix failed and report LAPACK's code for it."""
    def quiet_cholesky(m):
        m = np.asarray(m)
        out = np.empty_like(m)
        for idx in np.ndindex(m.shape[:-2]):
            try:
                out[idx] = np.linalg.cholesky(m[idx])
            except np.linalg.LinAlgError:
                out[idx] = np.nan
        return out
    linalg = types.SimpleNamespace(**{n: getattr(np.linalg, n) for n in dir(np.linalg)
                                      if not n.startswith("_")})
    linalg.cholesky = quiet_cholesky
    monkeypatch.setattr(be.xp, "linalg", linalg, raising=False)
    a = np.stack([np.eye(3), [[1.0, 2, 0], [2, 1, 0], [0, 0, 1]]])
    _, info = be.linalg_cholesky(_dev(a), False)
    assert np.asarray(info).tolist() == [0, 2]


def test_fft_and_complex_kernels(be):
    x = np.random.default_rng(1).standard_normal((3, 8)).astype(np.float32)
    z = (x + 1j * x[::-1]).astype(np.complex64)
    out = be.fft_c2c(_dev(z), (1,), True, "ortho")
    assert np.asarray(out).dtype == np.complex64
    np.testing.assert_allclose(np.asarray(out), np.fft.fft(z, norm="ortho"), rtol=1e-5,
                               atol=1e-5)
    half = be.fft_r2c(_dev(x), (0, 1), "backward")
    np.testing.assert_allclose(np.asarray(half), np.fft.rfftn(x), rtol=1e-4, atol=1e-4)
    back = be.fft_c2r(half, (0, 1), 8, "backward")
    assert np.asarray(back).dtype == np.float32
    np.testing.assert_allclose(np.asarray(back), x, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(np.asarray(be.complex_abs(_dev(z))), np.abs(z), rtol=1e-6)
    v = be.view_as_real(_dev(z))
    assert v.shape == (3, 8, 2)
    np.testing.assert_array_equal(np.asarray(be.view_as_complex(v)), z)


def test_lu_factor_on_the_standin(be):
    """linalg_lu_factor's batched elimination uses only xp indexing/argmax/where, which CuPy
    has: pivots, LU and info as the cpu backend's (a singular matrix gives getrf's info)."""
    import torch
    a = np.random.default_rng(1).standard_normal((3, 4, 4))
    a[2] = [[1.0, 2.0, 0.0, 0.0], [2.0, 4.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 1.0]]
    lu, piv, info = be.linalg_lu_factor(_dev(a))
    ref = torch.linalg.lu_factor_ex(torch.tensor(a))
    np.testing.assert_allclose(np.asarray(lu), ref.LU.numpy(), atol=1e-12)
    assert np.asarray(piv).dtype == np.int32 and (np.asarray(piv) == ref.pivots.numpy()).all()
    assert (np.asarray(info) == ref.info.numpy()).all()
