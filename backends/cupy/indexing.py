"""Index checks on the GPU (the contract's ``checks_indices``): no host read per indexing op.

Without the capability the frontend checks every index tensor on the host first, a
device-to-host read (and so a full synchronization) per ``x[idx]``, embedding, scatter and
cross-entropy: one stall per training step at least. Here each op checks its indices in a
kernel instead: an index outside its axis reads 0 (``index``), skips its write
(``index_put``) or is read as a picked logit of 0 (cross-entropy), and sets the device's error
flag with ``atomicOr``; ``to_host``/``synchronize`` read the flag -- only when such an op
ran on that device since the last read -- and raise RuntimeError, like torch's CUDA
device-side asserts (and like the opencl backend, whose design this follows). An integer
division or remainder by a zero held in a divisor tensor is deferred the same way (torch's
CPU raises 'ZeroDivisionError' at the op; reading the divisor back per op would sync). The
errors belong to the thread whose op caused them: each thread has its own flags.

Kernel sources: :data:`ELEMENTWISE` here, compiled and run on the host by the tests.
"""
from __future__ import annotations

import math
import threading

# (in_params, out_params, body, name): CuPy ElementwiseKernels. ``flag`` is the device's
# int32 error flag; ``row`` is the linear index over the indexed leading axes. Arrays written
# through a pointer are raw *outputs*: CuPy declares every input const.
ELEMENTWISE = {
    # one index tensor folded into (row, bad): row = row * n + i where i is in range
    "index_check": (
        "int64 idx, int64 n", "int64 row, bool bad, raw int32 flag",
        "const bool out_of_range = idx < 0 || idx >= n; "
        "if (out_of_range) atomicOr(&flag[0], 1); "
        "bad = bad || out_of_range; row = row * n + (out_of_range ? 0 : idx)",
        "pg_index_check"),
    # x2[row, k] for each output element, 0 where an index was out of range
    "index_gather": (
        "raw T x, raw int64 row, raw bool bad, int64 rest", "T out",
        "const long long r = i / rest; "
        "out = bad[r] ? (T)0 : x[row[r] * rest + (i - r * rest)]",
        "pg_index_gather"),
    # x2[row, k] = v, skipped where an index was out of range
    "index_scatter": (
        "T v, raw int64 row, raw bool bad, int64 rest", "raw T x",
        "const long long r = i / rest; "
        "if (!bad[r]) x[row[r] * rest + (i - r * rest)] = v",
        "pg_index_scatter"),
    # bit 2 of the flag where an integer divisor is 0 (CuPy's ufunc then writes 0 there)
    "zero_divisor": ("T b", "raw int32 flag", "if (b == (T)0) atomicOr(&flag[0], 2)",
                     "pg_zero_divisor"),
    # x2[row, k] += v, duplicates summed by atomicAdd, skipped where out of range
    "index_scatter_add": (
        "T v, raw int64 row, raw bool bad, int64 rest", "raw T x",
        "const long long r = i / rest; "
        "if (!bad[r]) atomicAdd(&x[row[r] * rest + (i - r * rest)], v)",
        "pg_index_scatter_add"),
}

# atomicAdd exists for these (cupy/atomics.cuh); int64 adds as uint64 (two's complement),
# narrower integers and bool in an int32 copy
ATOMIC_DTYPES = ("int32", "float16", "float32", "float64")

INDEX_BIT, ZERO_DIVISION_BIT = 1, 2
MESSAGE = ("cuda:{index}: an index was out of bounds in an earlier op of this thread on this "
           "device (indexing, gather/scatter, embedding or a cross-entropy target). It was "
           "checked in the kernel, which read 0 for it or skipped the write, and is reported at "
           "this synchronization, like CUDA's 'device-side assert triggered'; the results of "
           "that op are wrong.")
ZERO_MESSAGE = ("ZeroDivisionError: an integer division or remainder (//, %, fmod, "
                "div(rounding_mode=...)) by zero in an earlier op of this thread on cuda:{index}. "
                "It was checked in the kernel, which wrote 0 there, and is reported at this "
                "synchronization (torch raises at the op on the CPU); the results of that op "
                "are wrong.")


class _ThreadFlags(threading.local):
    """This thread's error flags (device -> int32 array) and the devices to read."""

    def __init__(self):
        self.flags = {}
        self.dirty = set()


class Indexing:
    """Mixed in before the array-module backend; needs ``self.cupy`` and ``self._kernels``."""

    checks_indices = True

    # ------------------------------------------------------------- the error flags
    @property
    def _thread_flags(self):
        state = self.__dict__.get("_deferred")
        if state is None:
            state = self.__dict__.setdefault("_deferred", _ThreadFlags())
        return state

    def _index_flag(self, device):
        """This thread's int32 error flag on ``device`` (made on first use), marked to read."""
        state = self._thread_flags
        flag = state.flags.get(device)
        if flag is None:
            with self.cupy.cuda.Device(device):
                flag = state.flags[device] = self.cupy.zeros(1, self.cupy.int32)
        state.dirty.add(device)
        return flag

    def _check_index_errors(self, device):
        """Raise if an op of this thread on ``device`` found an index out of range or an
        integer divisor of 0 since the last check; the flag is reset first."""
        state = self._thread_flags
        if device not in state.dirty:
            return
        state.dirty.discard(device)
        flag = state.flags[device]
        bits = int(flag.get()[0])
        if not bits:
            return
        flag.fill(0)             # reset, so the program may go on
        index = MESSAGE.format(index=device)
        if not bits & ZERO_DIVISION_BIT:
            raise RuntimeError(index)
        raise RuntimeError(ZERO_MESSAGE.format(index=device)
                           + (" Also: " + index if bits & INDEX_BIT else ""))

    def _check_divisor(self, b):
        """Flag (bit 2) a zero in an integer divisor tensor, on the device, without a read."""
        if isinstance(b, self.cupy.ndarray) and b.size:
            self._kernels.elementwise_from(ELEMENTWISE, "zero_divisor")(
                b, self._index_flag(b.device.id))

    # ------------------------------------------------------------------ indexing
    def _rows(self, x, indices):
        """(row, bad): the linear index over x's indexed leading axes and its out-of-range
        mask, both of the indices' broadcast shape, checked in one kernel per index."""
        cp = self.cupy
        kernel = self._kernels.elementwise_from(ELEMENTWISE, "index_check")
        flag = self._index_flag(x.device.id)
        shape = cp.broadcast_shapes(*(i.shape for i in indices))
        row, bad = cp.zeros(shape, cp.int64), cp.zeros(shape, cp.bool_)
        for idx, n in zip(indices, x.shape):
            kernel(idx, n, row, bad, flag)
        return row, bad

    def index(self, x, indices):
        cp = self.cupy
        k = len(indices)
        row, bad = self._rows(x, indices)
        out = cp.empty(row.shape + x.shape[k:], x.dtype)
        if out.size == 0:
            return out
        rest = math.prod(x.shape[k:])
        self._kernels.elementwise_from(ELEMENTWISE, "index_gather")(
            cp.ascontiguousarray(x), row, bad, rest, out)
        return out

    def index_put(self, x, indices, values, accumulate):
        cp = self.cupy
        k = len(indices)
        row, bad = self._rows(x, indices)
        shape = row.shape + x.shape[k:]
        size = math.prod(shape)
        if size == 0 or x.size == 0:
            return
        rest = math.prod(x.shape[k:])
        target = x if x.flags.c_contiguous else cp.ascontiguousarray(x)
        work = target
        if accumulate and x.dtype == cp.int64:     # two's-complement sums are the same
            work = target.view(cp.uint64)
        elif accumulate and x.dtype.name not in ATOMIC_DTYPES:
            work = target.astype(cp.int32)
        if isinstance(values, cp.ndarray):
            values = cp.broadcast_to(values.astype(work.dtype, copy=False), shape)
            extra = {}
        else:
            values = work.dtype.type(values) if work is target else \
                cp.dtype(x.dtype).type(values).astype(work.dtype)
            extra = {"size": size}
        key = "index_scatter_add" if accumulate else "index_scatter"
        self._kernels.elementwise_from(ELEMENTWISE, key)(values, row, bad, rest, work, **extra)
        if work is not target and work.dtype == cp.int32:
            target[...] = work.astype(target.dtype)
        if target is not x:
            x[...] = target

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
