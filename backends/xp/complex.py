"""Complex-tensor kernels: real views of complex buffers and back, conj, abs, angle."""
from __future__ import annotations


class ComplexKernels:
    """Needs ``self.xp`` (numpy and cupy both have complex dtypes and strided views)."""

    def view_as_real(self, x):
        r = x.real          # a strided view of the real parts
        return self.xp.lib.stride_tricks.as_strided(r, x.shape + (2,),
                                                    r.strides + (r.itemsize,))

    def view_as_complex(self, x):
        cdt = self.xp.complex64 if x.dtype == self.xp.float32 else self.xp.complex128
        # reinterpreting the contiguous last axis (re, im) keeps the other strides
        return x.view(cdt)[..., 0]

    def complex_conj(self, x):
        return self.xp.conj(x)

    def complex_abs(self, x):
        return self.xp.abs(x)

    def complex_angle(self, x):
        return self.xp.angle(x)
