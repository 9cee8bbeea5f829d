"""``torch.fft``: discrete Fourier transforms under torch's names (see plugrad.ops.spectral).

The transforms are backend kernels (``fft_c2c``, ``fft_r2c``, ``fft_c2r``: numpy on cpu, cuFFT
through CuPy on cuda). Their results are complex, so they run where complex tensors do (not on
opencl, which has no complex dtypes).
"""
from __future__ import annotations

from .ops.spectral import (fft, fft2, fftfreq, fftn, fftshift, hfft, hfft2, hfftn, ifft, ifft2,
                           ifftn, ifftshift, ihfft, ihfft2, ihfftn, irfft, irfft2, irfftn, rfft,
                           rfft2, rfftfreq, rfftn)

__all__ = ["fft", "fft2", "fftfreq", "fftn", "fftshift", "hfft", "hfft2", "hfftn", "ifft",
           "ifft2", "ifftn", "ifftshift", "ihfft", "ihfft2", "ihfftn", "irfft", "irfft2", "irfftn", "rfft", "rfft2", "rfftfreq",
           "rfftn"]
