"""DLPack: a raw capsule made importable, and the export rules torch applies.

``torch.from_dlpack`` takes a bare ``PyCapsule`` as well as objects with ``__dlpack__``;
numpy and CuPy take only the latter. :class:`CapsuleSource` wraps a capsule as such an object,
reading the capsule's device from its ``DLTensor`` header (ctypes, no copy), so the capsule is
handed on unchanged and consumed exactly once by whoever imports it.
"""
from __future__ import annotations

import ctypes

K_DL_CPU, K_DL_CUDA, K_DL_OPENCL = 1, 2, 4


class _DLDevice(ctypes.Structure):
    _fields_ = [("device_type", ctypes.c_int32), ("device_id", ctypes.c_int32)]


class _DLTensorHead(ctypes.Structure):
    # DLTensor starts with the data pointer and the device; the rest is not needed here
    _fields_ = [("data", ctypes.c_void_p), ("device", _DLDevice)]


class _DLManagedTensorVersionedHead(ctypes.Structure):
    # DLPack 1.x: version {major, minor}, manager_ctx, deleter, flags, then the DLTensor
    _fields_ = [("major", ctypes.c_uint32), ("minor", ctypes.c_uint32),
                ("manager_ctx", ctypes.c_void_p), ("deleter", ctypes.c_void_p),
                ("flags", ctypes.c_uint64), ("dl_tensor", _DLTensorHead)]


_get_pointer = ctypes.pythonapi.PyCapsule_GetPointer
_get_pointer.restype = ctypes.c_void_p
_get_pointer.argtypes = [ctypes.py_object, ctypes.c_char_p]
_is_valid = ctypes.pythonapi.PyCapsule_IsValid
_is_valid.restype = ctypes.c_int
_is_valid.argtypes = [ctypes.py_object, ctypes.c_char_p]


def is_capsule(obj) -> bool:
    return type(obj).__name__ == "PyCapsule"


def capsule_device(capsule) -> tuple:
    """(device_type, device_id) of an unconsumed DLPack capsule; RuntimeError (torch's)
    otherwise."""
    if _is_valid(capsule, b"dltensor"):         # DLManagedTensor: the DLTensor comes first
        head = _DLTensorHead.from_address(_get_pointer(capsule, b"dltensor"))
    elif _is_valid(capsule, b"dltensor_versioned"):
        head = _DLManagedTensorVersionedHead.from_address(
            _get_pointer(capsule, b"dltensor_versioned")).dl_tensor
    else:
        raise RuntimeError("from_dlpack received an invalid capsule: not an unconsumed DLPack "
                           "capsule; a capsule can be imported only once")
    return head.device.device_type, head.device.device_id


class CapsuleSource:
    """An object with ``__dlpack__``/``__dlpack_device__`` that hands on one capsule."""

    def __init__(self, capsule):
        self._device = capsule_device(capsule)
        self._capsule = capsule
        self.legacy = bool(_is_valid(capsule, b"dltensor"))

    def __dlpack_device__(self):
        return self._device

    def __dlpack__(self, **kwargs):
        capsule, self._capsule = self._capsule, None
        if capsule is None:
            raise RuntimeError("from_dlpack received an invalid capsule: it was already "
                               "imported")
        return capsule


class _Writable:
    """Exposes a read-only array's memory as writable, keeping that array alive."""

    def __init__(self, array):
        self.keep = array
        face = dict(array.__array_interface__)
        face["data"] = (face["data"][0], False)
        self.__array_interface__ = face


def writable_legacy_import(array, source):
    """numpy marks arrays from a legacy ('dltensor') capsule read-only, since that capsule
    cannot say whether writes are allowed; torch imports it writable, sharing memory. So do
    we, for capsules only (a producer that says read-only through DLPack 1.x stays so)."""
    if array.flags.writeable or not isinstance(source, CapsuleSource) or not source.legacy:
        return array
    import numpy
    return numpy.asarray(_Writable(array))


def export_check(tensor):
    """torch's rule: a tensor that requires grad is not exported (BufferError)."""
    if tensor._requires_grad:
        raise BufferError("Can't export tensors that require gradient, use tensor.detach()")


def no_dlpack(tensor, what):
    """The BufferError for a backend whose buffers have no DLPack support (opencl's, or a
    third party's without ``__dlpack__``): nothing is exported and no copy is made silently."""
    return BufferError(
        f"{what}: tensors on device '{tensor._device}' cannot be exported through DLPack (the "
        f"'{tensor._device.type}' backend's buffers do not support it); copy to the cpu first: "
        "tensor.cpu()")
