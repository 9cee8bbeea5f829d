"""CupyBackend: the shared array-module implementation bound to CuPy, plus the CUDA runtime.

Imported only by :func:`plugrad.backends.cupy.load`. The shared ``xp`` code serves wherever
CuPy is numpy-compatible; this module overrides the places where it is not (ufuncs take no
``out=...``, ufuncs have no ``.reduce`` besides add/multiply, ``argsort`` has no ``kind``,
``add.at`` covers few dtypes) and adds devices, memory statistics and peer copies. The fused
kernels live in :mod:`.nn`, the random-number kernel in :mod:`.random`, the index-checking
ops (``checks_indices``: indexing, scatter, and the host-side flag check in
``to_host``/``synchronize``) in :mod:`.indexing`, batched matmul without operand copies in
:mod:`.gemm`. Only ``from_host``/``to_host`` touch the host.
"""
from __future__ import annotations

from ..xp import ArrayModuleBackend
from ..xp.elementwise import UFUNCS
from .gemm import BatchedMatmul
from .indexing import IndexChecks
from .nn import FusedKernels
from .random import CudaRandom

# float16 goes through CuPy's own ufuncs; our kernels are instantiated for these
FUSED_DTYPES = ("float32", "float64")
# float floor division and remainder by numpy's divmod algorithm, not CuPy's floor(a / b)
NUMPY_DIVMOD = ("floordiv", "remainder")
# float -> these integer types wraps on the host (torch, numpy) but saturates in CUDA's
# conversions (CuPy: -1.0 -> uint8 is 0, torch 255); torch itself goes through int64
WRAPPED_CASTS = ("uint8", "int8", "int16")


class CupyBackend(CudaRandom, IndexChecks, BatchedMatmul, FusedKernels, ArrayModuleBackend):
    """CuPy arrays as buffers; device indices are CUDA device ordinals."""

    def __init__(self, cupy):
        super().__init__(cupy, "cuda")
        self.cupy = cupy
        runtime = cupy.cuda.runtime
        self._count = runtime.getDeviceCount()
        self._multi = self._count > 1
        # cupy ufuncs reject numpy's ``out=...`` and always return arrays (0-d included),
        # so the per-op path binds them bare: one Cython call per elementwise primitive.
        for name, ufunc in UFUNCS.items():
            if name in NUMPY_DIVMOD:    # the methods below, not the xp closures (out=...)
                self.__dict__.pop(name, None)
            else:
                setattr(self, name, getattr(cupy, ufunc))
        # numpy's isinf method takes ``out=...``, which CuPy rejects (TypeError)
        self.isinf = cupy.isinf
        self._pool = cupy.get_default_memory_pool()
        self._peak = [0] * self._count
        self._install_peak_tracker()

    # ------------------------------------------------------------------------ runtime
    def device_count(self):
        return self._count

    def device_guard(self, index):
        """On multi-GPU machines, run every op of device ``index`` with it current."""
        if not self._multi:
            return None
        device = self.cupy.cuda.Device
        return lambda: device(index)

    # With one GPU, device 0 is always current: no Device context (~1 us) per allocation.
    def empty(self, shape, dtype, device=0):
        if not self._multi:
            return self.cupy.empty(shape, self.dtypes[dtype])
        with self.cupy.cuda.Device(device):
            return self.cupy.empty(shape, self.dtypes[dtype])

    def full(self, shape, value, dtype, device=0):
        if not self._multi:
            return self.cupy.full(shape, value, self.dtypes[dtype])
        with self.cupy.cuda.Device(device):
            return self.cupy.full(shape, value, self.dtypes[dtype])

    def arange(self, start, step, n, dtype, device=0):
        if not self._multi:
            return super().arange(start, step, n, dtype, device)
        with self.cupy.cuda.Device(device):
            return super().arange(start, step, n, dtype, device)

    def from_host(self, array, device=0):
        if not self._multi:
            return self.cupy.array(array, copy=True)
        with self.cupy.cuda.Device(device):
            return self.cupy.array(array, copy=True)

    def transfer_to(self, x, device):
        """cuda:i -> cuda:j without a host round trip (CuPy copies peer to peer)."""
        with self.cupy.cuda.Device(device):
            return self.cupy.array(x, copy=True)

    def from_dlpack(self, obj):
        """Zero-copy import of a DLPack (or __cuda_array_interface__) CUDA array."""
        if hasattr(obj, "__dlpack__"):
            return self.cupy.from_dlpack(obj)
        return self.cupy.asarray(obj)

    # ------------------------------------------------------------------ device queries
    def device_name(self, index):
        name = self.cupy.cuda.runtime.getDeviceProperties(index)["name"]
        return name.decode() if isinstance(name, bytes) else str(name)

    def device_properties(self, index):
        """The fields torch.cuda.get_device_properties reports, from cudaGetDeviceProperties."""
        props = self.cupy.cuda.runtime.getDeviceProperties(index)
        return {"name": self.device_name(index), "major": props["major"],
                "minor": props["minor"], "total_memory": props["totalGlobalMem"],
                "multi_processor_count": props["multiProcessorCount"]}

    def mem_get_info(self, index):
        """(free, total) bytes on the device, as cudaMemGetInfo reports them."""
        with self.cupy.cuda.Device(index):
            return self.cupy.cuda.runtime.memGetInfo()

    # ------------------------------------------------------------------ memory statistics
    def _install_peak_tracker(self):
        """Route CuPy's allocations through the pool plus a peak counter per device.

        torch reports ``max_memory_allocated``; CuPy's pool only knows the current use, so
        each allocation compares it with the peak (one Python call, ~0.3 us, per allocation).
        """
        pool, peak = self._pool, self._peak
        pool_malloc, used_bytes = pool.malloc, pool.used_bytes
        get_device = self.cupy.cuda.runtime.getDevice

        def malloc(size):
            memory = pool_malloc(size)
            used = used_bytes()
            index = get_device()
            if used > peak[index]:
                peak[index] = used
            return memory

        self.cupy.cuda.set_allocator(malloc)

    def _on(self, index, fn):
        with self.cupy.cuda.Device(index):
            return fn()

    def memory_allocated(self, index):
        """Bytes held by live arrays (CuPy rounds each block up to 512 bytes, as torch does)."""
        return self._on(index, self._pool.used_bytes)

    def max_memory_allocated(self, index):
        return max(self._peak[index], self.memory_allocated(index))

    def memory_reserved(self, index):
        """Bytes the pool holds from the driver, cached blocks included."""
        return self._on(index, self._pool.total_bytes)

    def reset_peak_memory_stats(self, index):
        self._peak[index] = self.memory_allocated(index)

    def empty_cache(self):
        """Give cached blocks back to the driver (torch.cuda.empty_cache)."""
        self._pool.free_all_blocks()
        self.cupy.get_default_pinned_memory_pool().free_all_blocks()

    # --------------------------------------------------- where CuPy differs from numpy
    def sigmoid(self, x, out=None):
        if x.dtype.name in FUSED_DTYPES:
            return self._kernels.sigmoid(x) if out is None else self._kernels.sigmoid(x, out)
        cp = self.cupy
        result = cp.reciprocal(cp.exp(cp.negative(x)) + 1)
        if out is None:
            return result
        out[...] = result
        return out

    def floordiv(self, a, b, out=None):
        return self._divmod("floordiv", a, b, out)

    def remainder(self, a, b, out=None):
        return self._divmod("remainder", a, b, out)

    def _divmod(self, key, a, b, out):
        """Floats through :data:`.templates.DIVMOD` (half computed in float32, as numpy
        does); integers through CuPy's ufuncs, which already follow Python's rules."""
        cp = self.cupy
        dtype = cp.result_type(a, b)
        if dtype.kind != "f":
            if dtype.kind in "iu":
                self._check_divisor(b)     # deferred ZeroDivisionError, as opencl's
            ufunc = cp.floor_divide if key == "floordiv" else cp.remainder
            return ufunc(a, b, out=out)
        wide = cp.dtype(cp.float32) if dtype == cp.float16 else dtype
        a, b = (v.astype(wide, copy=False) if isinstance(v, cp.ndarray) else v for v in (a, b))
        kernel = self._kernels.elementwise(key)
        if out is not None and out.dtype == wide:
            return kernel(a, b, out)
        result = kernel(a, b)
        if out is None:
            return result.astype(dtype, copy=False)
        out[...] = result
        return out

    def cast(self, x, dtype):
        if x.dtype.kind == "f" and dtype in WRAPPED_CASTS:
            x = x.astype(self.cupy.int64)
        return x.astype(self.dtypes[dtype])

    def _erf(self, x):
        from cupyx.scipy.special import erf
        if x.dtype == self.cupy.float16:  # computed in float32, as torch does for half
            return erf(x.astype(self.cupy.float32)).astype(x.dtype)
        return erf(x)

    def sum(self, x, axes, keepdims):
        cp = self.cupy
        if x.dtype == cp.float16:  # accumulate half in float32, as torch does
            return cp.sum(x, axis=axes, dtype=cp.float32, keepdims=keepdims).astype(x.dtype)
        return cp.sum(x, axis=axes, dtype=x.dtype, keepdims=keepdims)

    def prod(self, x, axes, keepdims):
        cp = self.cupy
        if x.dtype == cp.float16:
            return cp.prod(x, axis=axes, dtype=cp.float32, keepdims=keepdims).astype(x.dtype)
        return cp.prod(x, axis=axes, dtype=x.dtype, keepdims=keepdims)

    def max(self, x, axes, keepdims):
        return self.cupy.amax(x, axis=axes, keepdims=keepdims)

    def min(self, x, axes, keepdims):
        return self.cupy.amin(x, axis=axes, keepdims=keepdims)

    def any(self, x, axes, keepdims):
        return self.cupy.any(x, axis=axes, keepdims=keepdims)

    def all(self, x, axes, keepdims):
        return self.cupy.all(x, axis=axes, keepdims=keepdims)

    def sort(self, x, axis, descending):
        cp = self.cupy
        keys = x.astype(cp.uint8) if x.dtype == cp.bool_ else x
        # cupy's argsort is always stable (thrust/CUB radix sort) and has no ``kind``
        if not descending:
            indices = cp.argsort(keys, axis=axis)
        else:
            n = x.shape[axis]
            indices = (n - 1) - cp.flip(cp.argsort(cp.flip(keys, axis), axis=axis), axis)
        indices = indices.astype(cp.int64, copy=False)
        return cp.take_along_axis(x, indices, axis=axis), indices
