"""torch.fft kernels over ``xp.fft`` (numpy's pocketfft on cpu, cuFFT through CuPy)."""
from __future__ import annotations


class FFTKernels:
    """Needs ``self.xp``; results keep the input's precision (numpy 2 does, CuPy too)."""

    def _complex_of(self, x):
        xp = self.xp
        return xp.complex64 if x.dtype in (xp.float32, xp.complex64) else xp.complex128

    def fft_c2c(self, x, axes, forward, norm):
        fn = self.xp.fft.fftn if forward else self.xp.fft.ifftn
        out = fn(x, axes=axes, norm=norm) if x.size else x.copy()
        return out.astype(self._complex_of(x), copy=False)

    def fft_r2c(self, x, axes, norm):
        xp = self.xp
        if not x.size:
            shape = list(x.shape)
            shape[axes[-1]] = shape[axes[-1]] // 2 + 1
            return xp.zeros(tuple(shape), self._complex_of(x))
        return xp.fft.rfftn(x, axes=axes, norm=norm).astype(self._complex_of(x), copy=False)

    def fft_c2r(self, x, axes, last_size, norm):
        xp = self.xp
        real = xp.float32 if x.dtype == xp.complex64 else xp.float64
        sizes = [x.shape[a] for a in axes[:-1]] + [last_size]
        return xp.fft.irfftn(x, s=sizes, axes=axes, norm=norm).astype(real, copy=False)
