"""CupyBackend: the shared array-module implementation bound to CuPy, plus the CUDA runtime.

Imported only by :func:`plugrad.backends.cupy.load`, so it may import CuPy at module level
through its caller; it never touches the host except in ``from_host``/``to_host``.
"""
from __future__ import annotations

from .xp import ArrayModuleBackend


class CupyBackend(ArrayModuleBackend):
    """CuPy arrays as buffers; device indices are CUDA device ordinals."""

    def __init__(self, cupy):
        super().__init__(cupy, "cuda")
        self.cupy = cupy
        self._multi = cupy.cuda.runtime.getDeviceCount() > 1

    # ------------------------------------------------------------------------ runtime
    def device_count(self):
        return self.cupy.cuda.runtime.getDeviceCount()

    def device_guard(self, index):
        """On multi-GPU machines, run every op of device ``index`` with it current."""
        if not self._multi:
            return None
        return lambda: self.cupy.cuda.Device(index)

    def empty(self, shape, dtype, device=0):
        with self.cupy.cuda.Device(device):
            return self.cupy.empty(shape, self.dtypes[dtype])

    def full(self, shape, value, dtype, device=0):
        with self.cupy.cuda.Device(device):
            return self.cupy.full(shape, value, self.dtypes[dtype])

    def arange(self, start, step, n, dtype, device=0):
        with self.cupy.cuda.Device(device):
            return super().arange(start, step, n, dtype, device)

    def from_host(self, array, device=0):
        with self.cupy.cuda.Device(device):
            return self.cupy.array(array, copy=True)

    def to_host(self, x):
        return self.cupy.asnumpy(x)

    def synchronize(self, device=0):
        with self.cupy.cuda.Device(device):
            self.cupy.cuda.get_current_stream().synchronize()

    def transfer_to(self, x, device):
        """cuda:i -> cuda:j without a host round trip (peer copy)."""
        with self.cupy.cuda.Device(device):
            return self.cupy.array(x, copy=True)

    # ---------------------------------------------------------------------- elementwise
    def _erf(self, x):
        from cupyx.scipy.special import erf
        return erf(x)
