"""Host (numpy) arrays as Tensors on any device: the one way plugrad-internal code turns a
numpy array into a Tensor. Its own module so that :mod:`plugrad._generator` (random draws made on
the host) and :mod:`plugrad.ops.creation` can both use it without importing each other."""
from __future__ import annotations

from . import _dtype as D
from ._device import tensor_device
from ._tensor import _from_buffer


def _upload(array, dev, owned):
    """Put a host array on ``dev``; ``owned`` arrays are adopted by numpy-buffer backends."""
    if dev.host_memory and owned:
        return array
    return dev.ops.from_host(array)


def from_host_array(array, dtype=None, device=None, owned=True, requires_grad=False):
    """Wrap a numpy array (plugrad-internal: no validation beyond dtype mapping)."""
    dt = dtype or D.from_numpy(array.dtype)
    dev = tensor_device(device)
    if dt.np is not None and array.dtype != dt.np:
        array, owned = array.astype(dt.np), True
    t = _from_buffer(_upload(array, dev, owned), tuple(array.shape), dt, dev)
    if requires_grad:
        t.requires_grad_(True)
    return t
