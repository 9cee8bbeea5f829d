"""The CUDA runtime of the contract: devices, allocation on the current device, peer copies,
DLPack, device queries and torch's memory statistics (through CuPy's memory pool)."""
from __future__ import annotations

# float -> these integer types wraps on the host (torch, numpy) but saturates in CUDA's
# conversions (CuPy: -1.0 -> uint8 is 0, torch 255); torch itself goes through int64
WRAPPED_CASTS = ("uint8", "int8", "int16")


class Runtime:
    """Mixed in before the array-module runtime; needs ``self.cupy``, ``_count``, ``_multi``."""

    def device_count(self):
        return self._count

    def to_host(self, x):
        """Also raises the index errors that earlier ops of this thread flagged (:mod:`.indexing`)."""
        host = self.cupy.asnumpy(x)
        self._check_index_errors(x.device.id)
        return host

    def synchronize(self, device=0):
        self.cupy.cuda.Device(device).synchronize()
        self._check_index_errors(device)

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

    def cast(self, x, dtype):
        if x.dtype.kind == "f" and dtype in WRAPPED_CASTS:
            x = x.astype(self.cupy.int64)
        return x.astype(self.dtypes[dtype])
