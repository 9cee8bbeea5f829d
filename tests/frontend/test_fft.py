"""torch.fft against torch: values and gradients (equal to torch's, and gradcheck in float64)
for every transform, norm mode, n/s trimming and padding; shifts and frequencies; errors.
Every test runs on every backend; on opencl, which stores no complex dtype, the transforms
run on the cpu backend (plugrad.plugins.host_storage) and the results report opencl."""
import numpy
import plugrad
import pytest
import torch

RNG = numpy.random.default_rng(11)
X = RNG.standard_normal((4, 6))
Z = X + 1j * RNG.standard_normal((4, 6))
NORMS = [None, "ortho", "forward"]


def _check(device, fo, ft, arr, atol=1e-10, names=True, grad_tol=1e-9):
    a = plugrad.tensor(arr, requires_grad=True, device=device)
    b = torch.tensor(arr, requires_grad=True)
    o, t = fo(a), ft(b)
    assert str(o.dtype) == str(t.dtype) and tuple(o.shape) == tuple(t.shape)
    assert o.device.type == device
    numpy.testing.assert_allclose(o.detach().cpu().numpy(), t.detach().resolve_conj().numpy(),
                                  atol=atol, rtol=1e-9)
    w = numpy.linspace(0.5, 1.5, o.numel()).reshape(tuple(o.shape))
    wo = plugrad.tensor(w, device=device)
    lo = (o * wo).abs().sum() if o.is_complex() else (o * wo).sum()
    lt = (t * torch.tensor(w)).abs().sum() if t.is_complex() else (t * torch.tensor(w)).sum()
    lo.backward()
    lt.backward()
    assert a.grad.device.type == device
    numpy.testing.assert_allclose(a.grad.cpu().numpy(), b.grad.resolve_conj().numpy(),
                                  atol=grad_tol, rtol=grad_tol * 10)
    if names:       # (torch transforms a real input of fft/ifft one-sided: other nodes)
        assert o.grad_fn.name() == type(t.grad_fn).__name__


def _both(name, **kw):
    return (lambda x: getattr(plugrad.fft, name)(x, **kw),
            lambda x: getattr(torch.fft, name)(x, **kw))


@pytest.mark.parametrize("norm", NORMS)
@pytest.mark.parametrize("name", ["fft", "ifft"])
def test_c2c_1d(name, norm, device):
    _check(device, *_both(name, norm=norm), Z)
    _check(device, *_both(name, n=9, dim=0, norm=norm), Z)
    _check(device, *_both(name, n=3, norm=norm), Z)
    _check(device, *_both(name, norm=norm), X, names=False)         # real input becomes complex


@pytest.mark.parametrize("norm", NORMS)
@pytest.mark.parametrize("name", ["fft2", "ifft2", "fftn", "ifftn"])
def test_c2c_nd(name, norm, device):
    _check(device, *_both(name, norm=norm), Z)
    _check(device, *_both(name, s=(3, 8), norm=norm), Z)
    if name.endswith("n"):
        _check(device, *_both(name, dim=(0,), norm=norm), Z)


@pytest.mark.parametrize("norm", NORMS)
@pytest.mark.parametrize("name", ["rfft", "ihfft"])
def test_real_to_complex(name, norm, device):
    _check(device, *_both(name, norm=norm), X)
    _check(device, *_both(name, n=7, norm=norm), X)
    _check(device, *_both(name, n=4, dim=0, norm=norm), X)


@pytest.mark.parametrize("norm", NORMS)
@pytest.mark.parametrize("name", ["irfft", "hfft"])
def test_complex_to_real(name, norm, device):
    _check(device, *_both(name, norm=norm), Z)
    _check(device, *_both(name, n=7, norm=norm), Z)
    _check(device, *_both(name, n=13, norm=norm), Z)


@pytest.mark.parametrize("norm", NORMS)
def test_real_nd(norm, device):
    for name in ("rfft2", "rfftn"):
        _check(device, *_both(name, norm=norm), X)
        _check(device, *_both(name, s=(3, 5), norm=norm), X)
    for name in ("irfft2", "irfftn"):
        _check(device, *_both(name, norm=norm), Z)
        _check(device, *_both(name, s=(5, 9), norm=norm), Z)


def test_float32_gives_complex64(device):
    _check(device, *_both("fft"), X.astype(numpy.float32), atol=1e-4, names=False, grad_tol=1e-5)
    _check(device, *_both("rfft"), X.astype(numpy.float32), atol=1e-4, grad_tol=1e-5)
    _check(device, *_both("irfft"), Z.astype(numpy.complex64), atol=1e-4, grad_tol=1e-5)
    t = plugrad.fft.fft(plugrad.arange(4, device=device))
    assert t.dtype == plugrad.complex64 and t.device.type == device


def test_shifts_and_frequencies(device):
    _check(device, plugrad.fft.fftshift, torch.fft.fftshift, Z)
    _check(device, *_both("ifftshift", dim=1), X)
    _check(device, *_both("fftshift", dim=(0,)), X)
    for n in (1, 5, 6):
        for d in (1.0, 0.5):
            for name in ("fftfreq", "rfftfreq"):
                ours = getattr(plugrad.fft, name)(n, d)
                ref = getattr(torch.fft, name)(n, d)
                numpy.testing.assert_allclose(ours.numpy(), ref.numpy(), rtol=1e-6)
                assert str(ours.dtype) == str(ref.dtype)
    assert plugrad.fft.fftfreq(4, dtype=plugrad.float64).dtype == plugrad.float64


@pytest.mark.parametrize("name", ["fft", "ifft", "rfft", "irfft", "fftn", "irfftn"])
def test_gradcheck_float64(name, device):
    arr = Z[:2, :4] if name in ("fft", "ifft", "irfft", "fftn", "irfftn") else X[:2, :4]
    a = plugrad.tensor(arr, requires_grad=True, device=device)
    fn = getattr(plugrad.fft, name)
    assert plugrad.autograd.gradcheck(lambda x: fn(x, norm="ortho"), (a,))
    assert plugrad.autograd.gradcheck(fn, (a,))


def _raises(device, fo, ft, arr):
    with pytest.raises(Exception) as want:
        ft(torch.tensor(arr))
    with pytest.raises(Exception) as got:
        fo(plugrad.tensor(arr, device=device))
    assert type(got.value) is type(want.value)
    assert str(got.value) == str(want.value)


def test_errors_as_torch(device):
    x = X[0]
    _raises(device, *_both("fft", norm="bad"), x)
    _raises(device, *_both("fft", n=0), x)
    _raises(device, *_both("fft", dim=3), x)
    _raises(device, *_both("rfft"), x + 0j)
    _raises(device, *_both("fftn", s=(3, 4)), x)
    _raises(device, *_both("fft2"), x)


STFT = [dict(n_fft=16), dict(n_fft=16, hop_length=5, win_length=12, pad_mode="constant"),
        dict(n_fft=15, hop_length=3), dict(n_fft=16, center=False, normalized=True)]


@pytest.mark.parametrize("windowed", [False, True])
@pytest.mark.parametrize("kw", STFT, ids=lambda kw: "-".join(f"{k}{v}" for k, v in kw.items()))
def test_stft_istft_values_and_grads(kw, windowed, device):
    sig = RNG.standard_normal((2, 64))
    a = plugrad.tensor(sig, requires_grad=True, device=device)
    b = torch.tensor(sig, requires_grad=True)
    wl = kw.get("win_length", kw["n_fft"])
    wt = torch.hann_window(wl, dtype=torch.float64) if windowed else None
    wa = plugrad.tensor(wt.numpy(), device=device) if windowed else None
    o = plugrad.stft(a, window=wa, return_complex=True, **kw)
    t = torch.stft(b, window=wt, return_complex=True, **kw)
    assert tuple(o.shape) == tuple(t.shape)
    assert o.device.type == device
    numpy.testing.assert_allclose(o.detach().cpu().numpy(), t.detach().numpy(), atol=1e-10)
    o.abs().sum().backward()
    t.abs().sum().backward()
    numpy.testing.assert_allclose(a.grad.cpu().numpy(), b.grad.numpy(), atol=1e-9)
    inv = {k: v for k, v in kw.items() if k != "pad_mode"}
    if not kw.get("center", True) and windowed:     # hann frames alone fail NOLA at the ends
        with pytest.raises(RuntimeError):
            torch.istft(t.detach(), window=wt, **inv)
        with pytest.raises(RuntimeError, match="window overlap add min"):
            plugrad.istft(o.detach(), window=wa, **inv)
        return
    for length in (None, 64, 70):
        try:
            yt = torch.istft(t.detach(), window=wt, length=length, **inv)
        except RuntimeError:        # the window envelope vanishes somewhere: both refuse
            with pytest.raises(RuntimeError, match="window overlap add min"):
                plugrad.istft(o.detach(), window=wa, length=length, **inv)
            continue
        yo = plugrad.istft(o.detach(), window=wa, length=length, **inv)
        assert tuple(yo.shape) == tuple(yt.shape)
        numpy.testing.assert_allclose(yo.cpu().numpy(), yt.numpy(), atol=1e-10)
    one = plugrad.stft(a[0].detach(), 16, return_complex=True)
    assert tuple(one.shape) == tuple(torch.stft(b[0].detach(), 16, return_complex=True).shape)


def test_stft_needs_return_complex_and_real_view(device):
    x = plugrad.tensor(RNG.standard_normal(32), device=device)
    with pytest.raises(RuntimeError, match="requires the return_complex parameter"):
        plugrad.stft(x, 8)
    r = plugrad.stft(x, 8, return_complex=False)
    ref = torch.stft(torch.tensor(x.cpu().numpy()), 8, return_complex=False)
    numpy.testing.assert_allclose(r.cpu().numpy(), ref.numpy(), atol=1e-10)
    assert x.stft(8, return_complex=True).is_complex()


@pytest.mark.parametrize("name", ["hann_window", "hamming_window", "blackman_window",
                                  "bartlett_window"])
def test_window_functions_equal_torch(name, device):
    for length in (0, 1, 2, 5, 16, 17):
        for periodic in (True, False):
            for dt in ("float32", "float64"):
                if dt == "float64" and not plugrad.plugins.supports(device, "add", "float64"):
                    continue
                ours = getattr(plugrad, name)(length, periodic, dtype=getattr(plugrad, dt),
                                              device=device)
                ref = getattr(torch, name)(length, periodic, dtype=getattr(torch, dt))
                assert tuple(ours.shape) == tuple(ref.shape) and str(ours.dtype) == str(ref.dtype)
                numpy.testing.assert_allclose(ours.cpu().numpy(), ref.numpy(),
                                              atol=1e-6 if dt == "float32" else 1e-14)
    with pytest.raises(RuntimeError, match="non-negative window_length"):
        getattr(plugrad, name)(-1)
