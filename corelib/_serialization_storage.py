"""Tensors over a loaded storage: each checkpoint storage becomes one tensor on its target
device, and every tensor saved over it becomes a view of that one (so views that shared memory
when saved share it after loading, as with ``torch.load``).

A view is rebuilt from the storage's flat tensor with the frontend's own view ops (narrow,
reshape, stepped slices, select, permute, expand), so it is a real plugrad view on every
backend: writes reach the other tensors and version counters are shared. Layouts those ops
cannot express (strides that interleave or overlap) use the backend's optional ``as_strided``
kernel, or, without it, are copied (charged against the load's budget).
"""
from __future__ import annotations

import numpy

from . import _dtype as D


class LoadedStorage:
    """A storage read from the archive: its host values as a 1-D numpy array (uint16 bit
    patterns for bfloat16), its dtype name, target device, and ``root``: the tensor every
    view of it is made from (made by the first tensor that uses it)."""
    __slots__ = ("array", "dtype", "location", "device", "loader", "root", "flat")

    def __init__(self, array, dtype, location, device, loader):
        self.array, self.dtype, self.location = array, dtype, location
        self.device, self.loader = device, loader
        self.root = self.flat = None


def _contiguous(size, stride):
    expected = 1
    for n, s in zip(reversed(size), reversed(stride)):
        if n != 1 and s != expected:
            return False
        expected *= n
    return True


def tensor_over(storage, offset, size, stride, spend):
    """The tensor ``(offset, size, stride)`` over ``storage`` (already validated against it):
    a view of the storage's root tensor when the layout allows, else a copy (``spend``-ed)."""
    from .autograd.grad_mode import no_grad
    numel = storage.array.size
    count = 1
    for n in size:
        count *= n
    with no_grad():
        if storage.root is None and offset == 0 and count == numel and _contiguous(size, stride):
            # the usual case (one tensor per storage): a plain tensor, no view bookkeeping
            storage.root = place(storage.array.reshape(size), storage.dtype, storage.device)
            return storage.root
        if count:
            if storage.flat is None:
                if storage.root is None:
                    storage.root = place(storage.array, storage.dtype, storage.device)
                storage.flat = storage.root.reshape(-1)
            view = strided_view(storage.flat, offset, size, stride)
            if view is None and storage.flat.device.ops.as_strided is not None:
                # interleaved/overlapping strides: the backend's own strided view
                view = storage.flat.as_strided(size, stride, offset)
            if view is not None:
                return view
        item = storage.array.itemsize
        spend(count * item, size)
        host = numpy.lib.stride_tricks.as_strided(
            storage.array[offset:] if numel else storage.array, shape=size,
            strides=tuple(s * item for s in stride))
        return place(numpy.array(host), storage.dtype, storage.device)


def strided_view(flat, offset, size, stride):
    """``flat`` (1-D, contiguous) seen with ``offset``/``size``/``stride`` through narrow,
    reshape, select, permute and expand; None when they cannot express it.

    Dims are placed outermost (largest stride) first: the tensor so far ends in a contiguous
    run of ``run`` elements, of which the part this dim needs (``n * s``, rows of ``s``) is cut
    out and split into ``(n, s)``; ``col`` is where the element at index 0 sits in the run.
    The innermost dim is a stepped slice of the last run.
    """
    dims = [d for d, (n, s) in enumerate(zip(size, stride)) if n != 1 and s != 0]
    order = sorted(dims, key=lambda d: -stride[d])
    v, col, run = flat, offset, flat.shape[0]
    for i, d in enumerate(order[:-1]):
        n, s = size[d], stride[d]
        inner = 1 + sum((size[e] - 1) * stride[e] for e in order[i + 1:])
        start = max(0, col + inner - s)        # the rest must fit in one row of s
        if inner > s or start > min(col, run - n * s):
            return None                         # interleaved or overlapping strides
        v = v.narrow(-1, start, n * s)
        v = v.reshape(*v.shape[:-1], n, s)
        col, run = col - start, s
    lead = (slice(None),) * (v.dim() - 1)
    if order:     # the innermost dim: a stepped slice of the run (a diagonal needs no rows)
        n, s = size[order[-1]], stride[order[-1]]
        v = v[lead + (slice(col, col + (n - 1) * s + 1, s),)]
    else:
        v = v[lead + (col,)]
    if len(order) > 1:
        v = v.permute(*[order.index(d) for d in dims])
    v = v.reshape(*[size[d] if d in dims else 1 for d in range(len(size))])
    if any(s == 0 and n != 1 for n, s in zip(size, stride)):
        v = v.expand(*size)
    return v


def place(host, dtype_name, dev):
    """A tensor with ``host``'s values on device ``dev``.

    bfloat16 arrives as uint16 bit patterns; a device without bfloat16 (numpy and OpenCL
    have none) gets the same values exactly as float32 (``load`` warns).
    """
    from .ops.creation import from_numpy
    if not host.flags.c_contiguous:   # (ascontiguousarray would make a 0-d array 1-d)
        host = numpy.array(host, order="C")
    try:
        if dtype_name == "bfloat16":
            as_f32 = (host.astype(numpy.uint32) << 16).view(numpy.float32)
            if _ops(dev).supports("cast", "bfloat16"):
                return from_numpy(as_f32).to(device=dev, dtype=D.bfloat16)
            return from_numpy(as_f32).to(dev)
        return from_numpy(host).to(dev)
    except TypeError as err:     # the device lacks the dtype: the user's problem, not the file's
        err._placement = True
        raise


def widens_bfloat16(dtype_name, dev):
    """Whether :func:`place` gives ``dev`` float32 for this dtype (it has no bfloat16)."""
    return dtype_name == "bfloat16" and not _ops(dev).supports("cast", "bfloat16")


def _ops(dev):
    """``dev``'s dispatch table (a device not used yet has none until resolved)."""
    from ._device import tensor_device
    return tensor_device(dev).ops
