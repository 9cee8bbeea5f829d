"""Complex tensors on opencl: kept in host memory, computed by the cpu backend, reported as
opencl (plugrad.plugins.host_storage). Values against torch; the frontend-wide complex, fft
and linalg tests also run here through their ``device`` parameter."""
import io
import warnings

import numpy
import plugrad
import pytest
import torch
from plugrad.plugins import FallbackWarning, get_registry
from plugrad.plugins.host_storage import HostBuffer

from conftest import availability

Z = numpy.array([[1 + 2j, 3 - 1j, 0.25j], [0.5j, 2 - 0.3j, -1.0]])
R = numpy.array([[0.5, -2.0, 1.5], [3.0, 0.25, -1.0]])


@pytest.fixture(autouse=True)
def _opencl(monkeypatch):
    if availability("opencl") is not True:
        pytest.fail("these tests need the opencl backend (PoCL is installed in CI)")
    monkeypatch.delenv("PLUGRAD_STRICT_BACKEND", raising=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FallbackWarning)
        yield


def _same(ours, ref, tol=1e-12):
    assert str(ours.dtype) == str(ref.dtype) and tuple(ours.shape) == tuple(ref.shape)
    assert ours.device == plugrad.device("opencl", 0)
    numpy.testing.assert_allclose(ours.detach().cpu().numpy(),
                                  ref.detach().resolve_conj().numpy(), rtol=tol, atol=tol)


def test_where_the_data_lives():
    z = plugrad.tensor(Z, device="opencl")
    assert type(z._data) is HostBuffer                         # complex: host memory
    assert type(z.real._data) is HostBuffer                    # a view of it: too
    assert type(z.abs()._data) is not HostBuffer               # a real result: the device
    assert type((z.real + 1)._data) is not HostBuffer
    assert z.device == plugrad.device("opencl:0") and z.is_complex()


def test_transfers_copy_and_round_trip():
    c = plugrad.tensor(Z)
    o = c.to("opencl")
    o.real.mul_(0)                          # writes to the opencl tensor only
    numpy.testing.assert_array_equal(c.numpy(), Z)
    back = o.cpu()
    back.imag.zero_()
    numpy.testing.assert_array_equal(o.cpu().numpy(), 1j * Z.imag)
    assert back.device.type == "cpu"
    with pytest.raises(TypeError, match="can't convert opencl:0 device type tensor to numpy"):
        o.numpy()


def test_mixed_host_and_device_operands():
    z, zt = plugrad.tensor(Z, device="opencl"), torch.tensor(Z)
    x, xt = plugrad.tensor(R, device="opencl"), torch.tensor(R)
    _same(z.real + x, zt.real + xt)
    y, yt = x.clone(), xt.clone()
    y.add_(z.imag)
    yt.add_(zt.imag)
    _same(y, yt)
    w, wt = z.clone(), zt.clone()
    w.real.add_(x)
    wt.real.add_(xt)
    _same(w, wt)
    _same(plugrad.where(x > 0, z, x), torch.where(xt > 0, zt, xt))
    _same(plugrad.cat([z, x]), torch.cat([zt, xt]))
    _same(plugrad.stack([z.real, z.imag], -1), torch.stack([zt.real, zt.imag], -1))
    idx, idxt = plugrad.tensor([1, 0], device="opencl"), torch.tensor([1, 0])
    _same(z[idx], zt[idxt])
    _same(z[x > 0], zt[xt > 0])
    w, wt = z.clone(), zt.clone()
    w[x > 1] = 5j
    wt[xt > 1] = 5j
    _same(w, wt)
    _same(x.to(plugrad.complex64) * 1j, xt.to(torch.complex64) * 1j)


def test_save_load_keeps_the_device_and_exchanges_with_torch():
    z = plugrad.tensor(Z.astype(numpy.complex64), device="opencl")
    buf = io.BytesIO()
    plugrad.save({"z": z, "re": z.real.clone()}, buf)
    buf.seek(0)
    back = plugrad.load(buf)
    _same(back["z"], torch.tensor(Z.astype(numpy.complex64)))
    _same(back["re"], torch.tensor(Z.real.astype(numpy.float32)))
    buf.seek(0)
    ref = torch.load(buf, map_location="cpu")
    numpy.testing.assert_array_equal(ref["z"].numpy(), Z.astype(numpy.complex64))
    buf = io.BytesIO()
    torch.save(torch.tensor(Z), buf)
    buf.seek(0)
    _same(plugrad.load(buf, map_location="opencl"), torch.tensor(Z))


def test_autograd_through_fft_and_eig_on_opencl():
    x = plugrad.tensor(R, device="opencl", requires_grad=True)
    xt = torch.tensor(R, requires_grad=True)
    spec, spect = plugrad.fft.rfft(x, norm="ortho"), torch.fft.rfft(xt, norm="ortho")
    _same(spec, spect)
    (spec.abs() ** 2).sum().backward()
    (spect.abs() ** 2).sum().backward()
    _same(x.grad, xt.grad)
    a = plugrad.tensor(R[:, :2], device="opencl", requires_grad=True)
    at = torch.tensor(R[:, :2], requires_grad=True)
    ev, evt = plugrad.linalg.eigvals(a), torch.linalg.eigvals(at)
    _same(ev, evt)
    ev.abs().sum().backward()
    evt.abs().sum().backward()
    _same(a.grad, at.grad)


def test_one_warning_then_counts_and_info():
    registry = get_registry()
    registry.fallbacks.reset()
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always", FallbackWarning)
        z = plugrad.tensor(Z, device="opencl")
        (z * z).sum().item()
        z.abs()                     # kernels opencl lacks, given host data: the same warning
        plugrad.fft.fft(z)
    assert [str(w.message).split(";")[0] for w in record] == [
        "plugrad: backend 'opencl' does not support complex128"]
    report = registry.fallbacks.report()
    assert report["opencl.mul[complex128]"] == 1
    assert report["opencl.complex_abs[complex128]"] == report["opencl.fft_c2c[complex128]"] == 1
    assert "  opencl: complex64, complex128 -- complex tensors, torch.fft and " \
        "linalg.eig/eigvals run on the cpu backend" in plugrad.plugins.info_table()


def _rope(lib, x, device):
    """Rotary position embedding as LLaMA-style code writes it (view_as_complex/polar)."""
    t, d = x.shape[-2], x.shape[-1]
    freqs = 1.0 / (10000 ** (lib.arange(0, d, 2, device=device)[: d // 2].float() / d))
    angles = lib.outer(lib.arange(t, device=device).float(), freqs)
    cis = lib.polar(lib.ones_like(angles), angles)
    xc = lib.view_as_complex(x.float().reshape(*x.shape[:-1], -1, 2))
    return lib.view_as_real(xc * cis).flatten(-2).type_as(x)


def test_rotary_embedding_program_values_and_grads():
    x = numpy.random.default_rng(0).standard_normal((2, 5, 8)).astype(numpy.float32)
    a = plugrad.tensor(x, device="opencl", requires_grad=True)
    b = torch.tensor(x, requires_grad=True)
    oa, ob = _rope(plugrad, a, "opencl"), _rope(torch, b, "cpu")
    _same(oa, ob, 1e-5)
    w = numpy.linspace(-1, 1, x.size).reshape(x.shape).astype(numpy.float32)
    (oa * plugrad.tensor(w, device="opencl")).sum().backward()
    (ob * torch.tensor(w)).sum().backward()
    _same(a.grad, b.grad, 1e-5)


def test_compiled_function_with_complex_tensors():
    """Capture records complex scalars as scalars; programs holding complex data are not
    fused by opencl (their calls run on the cpu backend), and replay equals torch."""
    x = numpy.random.default_rng(1).standard_normal((4, 8)).astype(numpy.float32)

    def f(lib, a):
        z = lib.fft.rfft(a) * (1 + 2j)
        return (z.abs() + lib.view_as_real(z).sum(-1)).sum(-1) + (z.real * 2 + 1).sum(-1)
    compiled = plugrad.compile(lambda t: f(plugrad, t))
    a = plugrad.tensor(x, device="opencl")
    want = f(torch, torch.tensor(x))
    for _ in range(3):                  # capture, then replays
        _same(compiled(a), want, 1e-4)
