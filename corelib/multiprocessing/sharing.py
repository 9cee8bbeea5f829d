"""Tensor data in memory other processes map: ``Tensor.share_memory_`` and the reductions that
send shared tensors through ``multiprocessing`` queues and process arguments.

A shared tensor's data lives in a file under ``/dev/shm`` (a POSIX shared-memory object),
mapped into this process. Pickling it for another process (``ForkingPickler``, which
``multiprocessing`` uses for Process arguments with the spawn/forkserver start methods and for
queues) sends the object's name instead of the data; the receiver maps the same memory, so
writes on either side are seen by both (torch's Hogwild pattern). The creating process removes
the name when its tensor is collected or it exits; mappings already made stay valid. Where
there is no ``/dev/shm`` an anonymous shared mapping is used, which forked children inherit.
"""
from __future__ import annotations

import mmap
import os
import uuid
import weakref

import numpy

_SHM_DIR = "/dev/shm"


class _Mapping:
    """One shared-memory mapping; ``name`` is None for an anonymous (fork-only) one."""
    __slots__ = ("name", "map", "__weakref__")

    def __init__(self, name, mapped):
        self.name, self.map = name, mapped


def _create(nbytes: int) -> _Mapping:
    size = max(nbytes, 1)
    if not os.path.isdir(_SHM_DIR):
        return _Mapping(None, mmap.mmap(-1, size))
    name = f"plugrad_{os.getpid()}_{uuid.uuid4().hex}"
    path = os.path.join(_SHM_DIR, name)
    fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o600)
    try:
        os.ftruncate(fd, size)
        mapped = mmap.mmap(fd, size)
    finally:
        os.close(fd)
    mapping = _Mapping(name, mapped)
    weakref.finalize(mapping, _unlink, path)
    return mapping


def _unlink(path):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def _attach(name: str, nbytes: int) -> _Mapping:
    fd = os.open(os.path.join(_SHM_DIR, name), os.O_RDWR)
    try:
        return _Mapping(name, mmap.mmap(fd, max(nbytes, 1)))
    finally:
        os.close(fd)


def share_memory_(tensor):
    """Move ``tensor``'s data into shared memory; no-op when already shared.

    Only host-memory backends (cpu) have data another process can map; for device backends it
    is a no-op, as torch's is for CUDA tensors. Views made *before* the call keep the old data
    (plugrad views share the base's buffer object, which this replaces), so share first.
    """
    dev = tensor._device
    if not dev.host_memory or tensor.__dict__.get("_shared_mapping") is not None:
        return tensor
    host = dev.ops.to_host(tensor._data)
    mapping = _create(host.nbytes)
    shared = numpy.frombuffer(mapping.map, dtype=host.dtype, count=host.size).reshape(host.shape)
    shared[...] = host
    tensor._data = shared
    tensor._shared_mapping = mapping
    return tensor


def is_shared(tensor) -> bool:
    return tensor.__dict__.get("_shared_mapping") is not None


def _rebuild_shared(name, shape, dtype_name, requires_grad, is_parameter):
    from .. import _dtype as D
    from ..ops.creation import from_host_array
    dt = D.from_name(dtype_name)
    count = 1
    for s in shape:
        count *= s
    mapping = _attach(name, count * dt.itemsize)
    array = numpy.frombuffer(mapping.map, dtype=dt.np, count=count).reshape(shape)
    t = from_host_array(array, dt, "cpu", owned=True)
    t._shared_mapping = mapping
    if is_parameter:
        from ..nn.parameter import Parameter
        t = Parameter(t, requires_grad)
        t._shared_mapping = mapping
    elif requires_grad:
        t.requires_grad_(True)
    return t


def reduce_tensor(tensor):
    """ForkingPickler's reduction: shared tensors travel by name, others by value."""
    mapping = tensor.__dict__.get("_shared_mapping")
    if mapping is None or mapping.name is None:
        return tensor.__reduce_ex__(2)
    from ..nn.parameter import Parameter
    return (_rebuild_shared, (mapping.name, tuple(tensor.shape), tensor.dtype.name,
                              tensor.requires_grad, isinstance(tensor, Parameter)))


def register_reductions():
    """Teach multiprocessing's pickler to send shared tensors by name (torch does the same)."""
    from multiprocessing.reduction import ForkingPickler
    from .._tensor import Tensor
    from ..nn.parameter import Parameter
    for cls in (Tensor, Parameter):
        ForkingPickler.register(cls, reduce_tensor)
