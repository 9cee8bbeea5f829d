"""Host storage: a backend refusing complex dtypes gets complex tensors through the cpu backend.

The backend (tests/support/no_complex_backend.py) is numpy that raises whenever a complex
array reaches one of its ops; it only says ``supports(op, 'complex64')`` False. Registered in
the process-wide registry for each test and unregistered afterwards.
"""
from __future__ import annotations

import io
import itertools
import warnings

import numpy as np
import pytest
import torch

import plugrad
from no_complex_backend import NoComplexNumpy
from plugrad.plugins import BackendSpec, FallbackWarning, fallback_report, get_registry, hookimpl
from plugrad.plugins.host_storage import HostBuffer

_ids = itertools.count()
Z = np.array([[1 + 2j, -0.5j], [3.0 - 1j, 0.25 + 0.75j]])


@pytest.fixture
def dev(monkeypatch):
    monkeypatch.delenv("PLUGRAD_STRICT_BACKEND", raising=False)
    name = f"nocomplex{next(_ids)}"

    class Plugin:
        @hookimpl
        def plugrad_backends():
            yield BackendSpec(name=name, load=lambda: NoComplexNumpy(np, name))
    registry = get_registry()
    registry.register(Plugin, name=name)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FallbackWarning)
            yield name
    finally:
        registry.unregister(name)


def _same(ours, ref, tol=1e-12):
    assert str(ours.dtype) == str(ref.dtype) and tuple(ours.shape) == tuple(ref.shape)
    np.testing.assert_allclose(ours.detach().cpu().numpy(), ref.detach().resolve_conj().numpy(),
                               rtol=tol, atol=tol)


def test_backend_really_refuses_complex(dev):
    impl = get_registry().backend(dev).impl or get_registry().table(dev).impl
    with pytest.raises(RuntimeError, match="complex argument reached 'from_host'"):
        impl.from_host(Z)
    assert not plugrad.plugins.supports(dev, "add", "complex64")
    assert get_registry().table(dev).host_dtypes == {"complex64", "complex128"}


def test_complex_tensors_work_and_report_the_device(dev):
    z = plugrad.tensor(Z, device=dev)
    assert z.device.type == dev and type(z._data) is HostBuffer
    r = plugrad.tensor([[0.5, 2.0], [-1.0, 3.0]], dtype=plugrad.float64, device=dev)
    zt, rt = torch.tensor(Z), torch.tensor([[0.5, 2.0], [-1.0, 3.0]], dtype=torch.float64)
    _same(z * r + 1j, zt * rt + 1j)
    _same(z @ z.mH, zt @ zt.mH)
    _same(plugrad.complex(r, r * 2), torch.complex(rt, rt * 2))
    _same(plugrad.fft.fft(r), torch.fft.fft(rt))
    _same(plugrad.fft.irfft(plugrad.fft.rfft(r), n=2), torch.fft.irfft(torch.fft.rfft(rt), n=2))
    # a real result of a complex op is an ordinary buffer of the backend again
    a = z.abs()
    _same(a, zt.abs())
    assert type(a._data) is np.ndarray and a.device.type == dev
    line = plugrad.tensor(Z[0], device=dev)
    assert f", device='{dev}:0'" in repr(line)
    # (the long device name wraps the line where torch's cpu repr does not)
    assert " ".join(repr(line).replace(f", device='{dev}:0'", "").split()) == repr(zt[0])


def test_views_share_host_memory_and_gradients_match(dev):
    z = plugrad.tensor(Z, device=dev)
    z.real[0, 0] = 42.0
    z.imag[1, 1] = -7.0
    plugrad.view_as_real(z)[0, 1, 0] = 5.0
    want = Z.copy()
    want[0, 0] = 42 + 2j
    want[1, 1] = 0.25 - 7j
    want[0, 1] = 5 - 0.5j
    np.testing.assert_array_equal(z.cpu().numpy(), want)
    zg = plugrad.tensor(Z, device=dev, requires_grad=True)
    zt = torch.tensor(Z, requires_grad=True)
    (zg.exp() * zg.conj()).abs().sum().backward()
    (zt.exp() * zt.conj()).abs().sum().backward()
    assert zg.grad.device.type == dev
    _same(zg.grad, zt.grad)


def test_save_load_and_cpu_round_trip(dev):
    z = plugrad.tensor(Z.astype(np.complex64), device=dev)
    buf = io.BytesIO()
    plugrad.save(z, buf)
    buf.seek(0)
    back = plugrad.load(buf)
    assert back.device.type == dev and back.dtype == plugrad.complex64
    np.testing.assert_array_equal(back.cpu().numpy(), Z.astype(np.complex64))
    np.testing.assert_array_equal(z.cpu().to(dev).cpu().numpy(), Z.astype(np.complex64))


def test_warns_once_per_dtype_and_counts_each_op(dev):
    get_registry().fallbacks.reset()
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always", FallbackWarning)
        z = plugrad.tensor(Z, device=dev)
        (z * z).sum()
    messages = [str(w.message) for w in record if dev in str(w.message)]
    assert messages == [f"plugrad: backend '{dev}' does not support complex128; complex128 "
                        "tensors on it are kept in host memory and their ops run on the cpu "
                        "backend with copies in and out (set PLUGRAD_STRICT_BACKEND=1 to make "
                        "this an error)"]
    assert fallback_report()[f"{dev}.mul[complex128]"] == 1


def test_strict_mode_makes_it_an_error(dev, monkeypatch):
    monkeypatch.setenv("PLUGRAD_STRICT_BACKEND", "1")
    with pytest.raises(RuntimeError, match=f"backend '{dev}' does not support complex128"):
        plugrad.tensor(Z, device=dev)
    with pytest.raises(RuntimeError, match="PLUGRAD_STRICT_BACKEND=1 forbids"):
        plugrad.ones(2, device=dev) * 1j
    plugrad.ones(2, device=dev) * 2.0          # real ops are unaffected


def test_info_names_the_dtypes(dev):
    get_registry().table(dev)
    text = plugrad.plugins.info_table()
    assert f"  {dev}: complex64, complex128 -- complex tensors, torch.fft" in text


def test_the_conformance_kit_passes(dev):
    from plugrad.plugins.conformance import run
    report = run(dev)
    assert report.ok, str(report)
