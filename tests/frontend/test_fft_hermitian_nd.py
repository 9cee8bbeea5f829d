"""torch.fft.hfft2/hfftn/ihfft2/ihfftn against torch: values, dtypes, gradients (equal to
torch's; gradcheck in float64), s/dim/norm, and the complex-input error of ihfftn; every
backend (opencl through the cpu fallback for the complex data, as test_fft)."""
import numpy
import plugrad
import pytest
import torch
from plugrad.autograd import gradcheck

from test_fft import NORMS, RNG, _both, _check

Z3 = RNG.standard_normal((3, 4, 5)) + 1j * RNG.standard_normal((3, 4, 5))
X3 = RNG.standard_normal((3, 4, 6))


@pytest.mark.parametrize("norm", NORMS)
@pytest.mark.parametrize("name", ["hfft2", "hfftn"])
def test_hfft_nd(name, norm, device):
    _check(device, *_both(name, norm=norm), Z3, names=False)
    _check(device, *_both(name, s=(4, 8), norm=norm), Z3, names=False)
    if name == "hfftn":
        _check(device, *_both(name, dim=(0, 2), norm=norm), Z3, names=False)


@pytest.mark.parametrize("norm", NORMS)
@pytest.mark.parametrize("name", ["ihfft2", "ihfftn"])
def test_ihfft_nd(name, norm, device):
    _check(device, *_both(name, norm=norm), X3, names=False)
    _check(device, *_both(name, s=(3, 7), norm=norm), X3, names=False)
    if name == "ihfftn":
        _check(device, *_both(name, dim=(0, 2), norm=norm), X3, names=False)


def test_gradcheck_and_errors():
    z = plugrad.tensor(Z3[0], requires_grad=True)
    x = plugrad.tensor(X3[0], requires_grad=True)
    assert gradcheck(lambda z: plugrad.fft.hfftn(z), (z,))
    assert gradcheck(lambda x: plugrad.fft.ihfft2(x, norm="ortho"), (x,))
    for fn in ("ihfftn", "ihfft2"):
        with pytest.raises(RuntimeError) as ours:
            getattr(plugrad.fft, fn)(plugrad.tensor(Z3.astype(numpy.complex64)))
        with pytest.raises(RuntimeError) as ref:
            getattr(torch.fft, fn)(torch.tensor(Z3.astype(numpy.complex64)))
        assert str(ours.value) == str(ref.value)
    out = plugrad.fft.hfft2(plugrad.tensor(Z3.astype(numpy.complex64)))
    assert out.dtype == plugrad.float32
    assert str(torch.fft.hfft2(torch.tensor(Z3.astype(numpy.complex64))).dtype) == str(out.dtype)


@pytest.mark.parametrize("beta", [12.0, 8.0, 0.5])
def test_kaiser_window_equals_torch(device, beta):
    for length in (0, 1, 2, 5, 16, 17):
        for periodic in (True, False):
            for dt in ("float32", "float64"):
                if dt == "float64" and not plugrad.plugins.supports(device, "add", "float64"):
                    continue
                ours = plugrad.kaiser_window(length, periodic, beta, dtype=getattr(plugrad, dt),
                                             device=device)
                ref = torch.kaiser_window(length, periodic, beta, dtype=getattr(torch, dt))
                assert tuple(ours.shape) == tuple(ref.shape) and str(ours.dtype) == str(ref.dtype)
                numpy.testing.assert_allclose(ours.cpu().numpy(), ref.numpy(),
                                              atol=1e-6 if dt == "float32" else 1e-14)
    with pytest.raises(RuntimeError, match="kaiser_window expects floating point dtypes"):
        plugrad.kaiser_window(4, dtype=plugrad.int64)
