"""Moving a tensor's data into memory that forked processes share (``Tensor.share_memory_``)."""
from __future__ import annotations

import mmap

import numpy


def share_memory_(tensor):
    """Move ``tensor``'s data into an anonymous shared mapping; no-op when already shared.

    Only host-memory backends (cpu) have data a forked process can map; for device backends it
    is a no-op, as torch's is for CUDA tensors. Views made *before* the call keep the old data
    (plugrad views share the base's buffer object, which this replaces), so share first.
    """
    dev = tensor._device
    if not dev.host_memory or tensor.__dict__.get("_shared_mapping") is not None:
        return tensor
    host = dev.ops.to_host(tensor._data)
    mapping = mmap.mmap(-1, max(host.nbytes, 1))    # MAP_SHARED | MAP_ANONYMOUS
    shared = numpy.frombuffer(mapping, dtype=host.dtype, count=host.size).reshape(host.shape)
    shared[...] = host
    tensor._data = shared
    tensor._shared_mapping = mapping
    return tensor


def is_shared(tensor) -> bool:
    return tensor.__dict__.get("_shared_mapping") is not None
