"""CLArray (the buffer), per-device state (context, queue, memory pool, kernel cache) and the
runtime functions of the contract: allocation, host transfer, copies, casts, views.

Host transfers happen only in ``from_host``/``to_host`` (and the one count ``nonzero`` reads
back); each increments ``backend.transfers`` so tests can assert a training step does none.

Deferred checks (the contract's ``checks_indices``): kernels given caller indices
(gather/scatter, cross-entropy) set an error flag on the device for an index out of range, and
integer ``floordiv``/``remainder`` kernels with a tensor divisor set a second one for a zero
divisor (torch raises "ZeroDivisionError" there on the CPU); ``to_host`` and ``synchronize``
read them -- only when such a kernel ran since the last read (``Device.index_dirty``), counted
as ``transfers['error_check']`` -- and raise RuntimeError. The flags belong to the thread that
launched the kernel (each thread has its own pair on each device), so an error is raised in
the thread whose op caused it, never in another thread's ``.item()``.
"""
from __future__ import annotations

import math
import threading
from collections import Counter

import numpy
import pyopencl as cl
import pyopencl.tools

from . import templates as T

try:        # the host side of bfloat16 (numpy has none): ml_dtypes' dtype, as the cpu backend's
    import ml_dtypes
except ImportError:                     # pragma: no cover - optional dependency
    ml_dtypes = None

# the dtypes buffers can have: bfloat16 only where ml_dtypes gives it a host (numpy) dtype
DTYPES = tuple(n for n in T.CTYPE if n != "bfloat16" or ml_dtypes is not None)


class CLArray:
    """A strided view over a ``cl.Buffer``: shape, strides and offset counted in elements.

    Views (reshape, permute, expand, slice) are new CLArrays over the same ``data``, so a
    write through a view reaches the base. ``dtype`` is a numpy dtype, as for the cpu backend.
    """
    __slots__ = ("data", "shape", "strides", "offset", "dtype", "dname", "device", "size",
                 "_contig", "__weakref__")

    def __init__(self, data, shape, strides, offset, dtype, device):
        self.data, self.shape, self.strides, self.offset = data, shape, strides, offset
        self.dtype, self.dname, self.device = dtype, _NAMES[dtype], device
        self.size = math.prod(shape)
        self._contig = None

    @property
    def ndim(self):
        return len(self.shape)

    @property
    def itemsize(self):
        return self.dtype.itemsize

    @property
    def ptr(self):
        """The ``cl_mem`` handle plus the byte offset: an identity for ``Tensor.data_ptr()``
        (equal for aliasing views, differences in bytes), not a host address."""
        return self.data.int_ptr + self.offset * self.dtype.itemsize

    def is_contiguous(self):
        """C-contiguous from ``offset`` on (strides of size-1 axes do not matter)."""
        if self._contig is None:
            self._contig = self.size <= 1 or all(
                s == c for s, c, n in zip(self.strides, contiguous_strides(self.shape),
                                          self.shape) if n != 1)
        return self._contig

    def __repr__(self):
        return (f"CLArray(shape={self.shape}, dtype={self.dtype.name}, strides={self.strides}, "
                f"offset={self.offset}, device={self.device})")


_NAMES = {numpy.dtype(n): n for n in DTYPES}  # dtype.name is slow (~3 us) on the op path


def contiguous_strides(shape):
    strides, step = [], 1
    for n in reversed(shape):
        strides.append(step)
        step *= max(n, 1)
    return tuple(reversed(strides))


class _ThreadKernels(threading.local):
    """This thread's kernel objects and error flags. A pyopencl Kernel holds its arguments
    between setting them and enqueueing it, so two threads launching one Kernel can swap
    arguments (seen as wrong gradients with 8 threads training); programs are shared, kernels
    are not. The flags ([index out of range, integer division by zero], int32, zeroed) are
    per thread so that a deferred error reaches the thread that caused it."""

    def __init__(self, context):
        self.kernels = {}
        self.maps = {}          # elementwise fast path: (op, dtypes, scalars) -> kernel, ...
        self.error = cl.Buffer(context, cl.mem_flags.READ_WRITE | cl.mem_flags.COPY_HOST_PTR,
                               hostbuf=numpy.zeros(2, "int32"))
        self.dirty = False      # a flag-setting kernel ran since the flags were last read


class Device:
    """One OpenCL device: its context, in-order queue, memory pool and compiled kernels."""

    def __init__(self, cl_device, index):
        self.cl = cl_device
        self.index = index
        self.name = f"{cl_device.name.strip()} ({cl_device.platform.name.strip()})"
        self.context = cl.Context([cl_device])
        self.queue = cl.CommandQueue(self.context)
        # buffers are recycled through the pool; the queue is in-order, so a recycled buffer
        # is only written by kernels enqueued after every kernel that read its previous life
        self.pool = cl.tools.MemoryPool(cl.tools.ImmediateAllocator(self.queue))
        ext = cl_device.extensions.split()
        self.fp64 = "cl_khr_fp64" in ext
        self.atomics64 = "cl_khr_int64_base_atomics" in ext
        self.is_cpu = bool(cl_device.type & cl.device_type.CPU)
        self.units = cl_device.max_compute_units
        self.max_wg = cl_device.max_work_group_size
        self.local_mem = cl_device.local_mem_size
        self.max_alloc = cl_device.max_mem_alloc_size
        # CPU (PoCL): one work-item walks a long contiguous chunk, which LLVM vectorizes;
        # GPU: one element per work-item in groups of 256, so neighbours coalesce
        self.group = 1 if self.is_cpu else min(256, self.max_wg)
        self.programs = {}      # key -> (program, kernel name, scalar arg dtypes), all threads
        self.building = threading.Lock()
        self.local = _ThreadKernels(self.context)

    @property
    def index_error(self):
        """This thread's error flags on the device (the ``err`` argument of checking kernels:
        ``err[0]`` an index out of range, ``err[1]`` an integer division by zero)."""
        return self.local.error

    @property
    def index_dirty(self):
        return self.local.dirty

    @index_dirty.setter
    def index_dirty(self, value):
        self.local.dirty = value

    def check_dtype(self, dtype):
        if dtype == "float64" and not self.fp64:
            raise RuntimeError(f"OpenCL device '{self.name}' does not support float64 (it lacks "
                               "cl_khr_fp64); use float32 on this device")
        if dtype not in DTYPES:
            why = " (bfloat16 needs the ml_dtypes package)" if dtype == "bfloat16" else ""
            raise RuntimeError(f"OpenCL backend: dtype {dtype} is not supported{why}")

    def program(self, key, render):
        """(program, name, scalar arg dtypes) for ``key``, compiled once for all threads;
        ``render()`` -> (source, name, scalar arg dtypes)."""
        hit = self.programs.get(key)
        if hit is None:
            with self.building:
                hit = self.programs.get(key)
                if hit is None:
                    source, name, argtypes = render()
                    hit = self.programs[key] = (self.build(source, name), name, argtypes)
        return hit

    def kernel(self, key, render):
        """This thread's kernel for ``key`` (see :meth:`program`)."""
        kernels = self.local.kernels
        k = kernels.get(key)
        if k is None:
            program, name, argtypes = self.program(key, render)
            k = cl.Kernel(program, name)
            k.set_scalar_arg_dtypes(argtypes)
            kernels[key] = k
        return k

    def kernels_of(self, key, render, names):
        """This thread's kernels of one program (``render()`` as for :meth:`program`), cached
        as a tuple in ``names`` order; their scalars are passed as numpy scalars. (Fetching a
        kernel from a program by attribute builds a new one each time.)"""
        kernels = self.local.kernels
        ks = kernels.get(key)
        if ks is None:
            program = self.program(key, render)[0]
            ks = kernels[key] = tuple(cl.Kernel(program, n) for n in names)
        return ks

    def build(self, source, name="kernel"):
        """Compile a program; a failure raises RuntimeError with the compiler log and source."""
        source = T.preamble(self) + source
        try:
            return cl.Program(self.context, source).build(options=["-cl-std=CL1.2"])
        except cl.RuntimeError as exc:
            numbered = "\n".join(f"{i + 1:4d} {line}" for i, line in enumerate(source.splitlines()))
            raise RuntimeError(f"OpenCL kernel '{name}' failed to build on device '{self.name}':"
                               f"\n{exc}\n--- source ---\n{numbered}") from None

    def alloc(self, nbytes):
        # >= 8 bytes and a multiple of 8: no zero-size buffers, and the 32-bit words that the
        # narrow-dtype atomics in index_put read-modify-write stay inside the allocation
        size = max(8, (nbytes + 7) // 8 * 8)
        if size > self.max_alloc:
            raise RuntimeError(self._out_of_memory(size, "the device's largest buffer is "
                                                   f"{_gib(self.max_alloc)} "
                                                   "(CL_DEVICE_MAX_MEM_ALLOC_SIZE)"))
        try:
            return self.pool.allocate(size)
        except cl.Error as exc:   # MEM_OBJECT_ALLOCATION_FAILURE, OUT_OF_RESOURCES, ...
            raise RuntimeError(self._out_of_memory(size, f"{type(exc).__name__}: {exc}")) \
                from None

    def _out_of_memory(self, size, why):
        """torch's allocation failure is a RuntimeError saying how much was asked for."""
        return (f"opencl:{self.index} ({self.name}) out of memory: tried to allocate "
                f"{_gib(size)}; {why}")

    def launch_1d(self, n):
        """(global size, local size, per) covering n elements, ``per`` per work-item."""
        if self.is_cpu:
            per = max(4096, -(-n // (self.units * 32)))
            return (max(1, -(-n // per)),), (1,), per
        g = self.group
        return (max(g, -(-n // g) * g),), (g,), 1


class Runtime:
    """Allocation, transfers, copies and views; needs ``self.devices``."""

    def device_count(self):
        return len(self.devices)

    def _new(self, shape, dtype, device):
        dev = self.devices[device]
        dt = numpy.dtype(dtype)
        shape = tuple(shape)
        out = CLArray(dev.alloc(math.prod(shape) * dt.itemsize), shape,
                      contiguous_strides(shape), 0, dt, device)
        out._contig = True
        return out

    def empty(self, shape, dtype, device=0):
        self.devices[device].check_dtype(dtype)
        return self._new(shape, dtype, device)

    def full(self, shape, value, dtype, device=0):
        out = self.empty(shape, dtype, device)
        self.assign(out, value)
        return out

    def arange(self, start, step, n, dtype, device=0):
        dev = self.devices[device]
        dev.check_dtype(dtype)
        out = self._new((n,), dtype, device)
        if n:
            self._arange(out, start, step)
        return out

    def from_host(self, array, device=0):
        array = numpy.asarray(array)
        if not array.flags.c_contiguous:  # (ascontiguousarray would turn 0-d into 1-d)
            array = array.copy(order="C")
        self.devices[device].check_dtype(array.dtype.name)
        out = self._new(array.shape, array.dtype, device)
        self.transfers["from_host"] += 1
        if array.size:
            cl.enqueue_copy(self.devices[device].queue, out.data, array, is_blocking=True)
        return out

    def to_host(self, x):
        if not x.is_contiguous():
            x = self.copy(x)
        dev = self.devices[x.device]
        host = numpy.empty(x.shape, x.dtype)
        # the flag's read is queued before the data's, so one wait covers both
        flag = self._read_index_error(dev, blocking=not x.size) if dev.index_dirty else None
        self.transfers["to_host"] += 1
        if x.size:
            cl.enqueue_copy(dev.queue, host, x.data, src_offset=x.offset * x.itemsize,
                            is_blocking=True)
        if flag is not None:
            self._raise_index_error(dev, flag)
        return host

    def copy(self, x):
        out = self._new(x.shape, x.dtype, x.device)
        self.assign(out, x)
        return out

    def cast(self, x, dtype):
        self.devices[x.device].check_dtype(dtype)
        return self._map("cast", "{0}", (x,), (x.dname,), dtype, None, x.dname)

    def assign(self, dst, src):
        if isinstance(src, CLArray) and src.data is dst.data and _overlap(src, dst):
            src = self.copy(src)  # reading and writing one region in parallel would race
        self._map("copy", "{0}", (src,), (dst.dname,), dst.dname, out=dst)

    def strides(self, x):
        return x.strides

    def synchronize(self, device=0):
        dev = self.devices[device]
        dev.queue.finish()
        if dev.index_dirty:
            self._raise_index_error(dev, self._read_index_error(dev, blocking=True))

    def _read_index_error(self, dev, blocking):
        """Queue a read of this thread's error flags on ``dev``; the host array is final once
        the queue has passed it (a blocking read, or any blocking read queued after it)."""
        flag = numpy.zeros(2, "int32")
        self.transfers["error_check"] += 1
        cl.enqueue_copy(dev.queue, flag, dev.index_error, is_blocking=blocking)
        dev.index_dirty = False
        return flag

    def _raise_index_error(self, dev, flag):
        if not (flag[0] or flag[1]):
            return
        cl.enqueue_copy(dev.queue, dev.index_error, numpy.zeros(2, "int32"),
                        is_blocking=True)   # reset, so the program may go on
        where = f"opencl:{dev.index} ({dev.name})"
        index = (f"{where}: an index was out of bounds in an earlier op of this thread on "
                 "this device (indexing, gather/scatter, embedding or a cross-entropy target). "
                 "It was checked in the kernel, which read 0 for it or skipped the write, and "
                 "is reported at this synchronization, like CUDA's 'device-side assert "
                 "triggered'; the results of that op are wrong.")
        if not flag[1]:
            raise RuntimeError(index)
        zero = (f"ZeroDivisionError: an integer division or remainder (//, %, fmod, "
                f"div(rounding_mode=...)) by zero in an earlier op of this thread on {where}. "
                "It was checked in the kernel, which wrote 0 there, and is reported at this "
                "synchronization (torch raises at the op on the CPU); the results of that op "
                "are wrong.")
        raise RuntimeError(zero + (" Also: " + index if flag[0] else ""))

    # ------------------------------------------------------------------------- views
    def reshape(self, x, shape):
        shape = tuple(shape)
        strides = _reshape_strides(x.shape, x.strides, shape)
        if strides is None:
            x = self.copy(x)
            strides = contiguous_strides(shape)
        return CLArray(x.data, shape, strides, x.offset, x.dtype, x.device)

    def permute(self, x, axes):
        return CLArray(x.data, tuple(x.shape[a] for a in axes),
                       tuple(x.strides[a] for a in axes), x.offset, x.dtype, x.device)

    def expand(self, x, shape):
        strides = tuple(s if n == m else 0 for s, n, m in zip(x.strides, x.shape, shape))
        return CLArray(x.data, tuple(shape), strides, x.offset, x.dtype, x.device)

    def slice(self, x, slices):
        offset, shape, strides = x.offset, [], []
        for (start, stop, step), stride in zip(slices, x.strides):
            offset += start * stride
            shape.append(max(0, -(-(stop - start) // step)))
            strides.append(stride * step)
        return CLArray(x.data, tuple(shape), tuple(strides), offset, x.dtype, x.device)

    def as_strided(self, x, shape, strides, offset):
        return CLArray(x.data, tuple(shape), tuple(strides), x.offset + offset, x.dtype,
                       x.device)

    def supports(self, op, dtype):
        """Every op for every dtype, but float64 only when every device reports cl_khr_fp64
        and bfloat16 only with ml_dtypes (its host dtype); bfloat16 computes in float."""
        if dtype == "float64":
            return all(d.fp64 for d in self.devices)
        return dtype in DTYPES


def _overlap(a, b):
    """Conservative: True unless a and b are the very same view or disjoint address ranges."""
    if a.offset == b.offset and a.shape == b.shape and a.strides == b.strides:
        return False
    def span(x):
        lo = x.offset + sum(s * (n - 1) for s, n in zip(x.strides, x.shape) if s < 0)
        hi = x.offset + sum(s * (n - 1) for s, n in zip(x.strides, x.shape) if s > 0)
        return lo, hi
    (alo, ahi), (blo, bhi) = span(a), span(b)
    return not (ahi < blo or bhi < alo)


def _reshape_strides(shape, strides, new):
    """Strides viewing (shape, strides) as ``new`` without a copy, or None (numpy's rule:
    each group of old axes that multiplies to a group of new axes must be contiguous)."""
    if math.prod(shape) <= 1 or math.prod(new) == 0:
        return contiguous_strides(new)
    old = [(n, s) for n, s in zip(shape, strides) if n != 1]
    result = [1] * len(new)
    oi = ni = 0
    while ni < len(new) and oi < len(old):
        if new[ni] == 1:
            ni += 1
            continue
        first_new, first_old = ni, oi
        np_, op_ = new[ni], old[oi][0]
        while np_ != op_:
            if np_ < op_:
                ni += 1
                np_ *= new[ni]
            else:
                oi += 1
                op_ *= old[oi][0]
        for k in range(first_old, oi):
            if old[k][1] != old[k + 1][1] * old[k + 1][0]:
                return None
        stride = old[oi][1]
        for k in range(ni, first_new - 1, -1):
            result[k] = stride
            stride *= new[k]
        ni += 1
        oi += 1
    return tuple(result)


def _gib(nbytes):
    return f"{nbytes / 2**30:.2f} GiB"


def new_counter():
    return Counter()
