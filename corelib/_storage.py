"""``Tensor.untyped_storage()`` / ``Tensor.storage()``: the memory a tensor and its views share.

plugrad's backends own the buffers; a storage here describes the buffer of the tensor at the
root of a view chain (the one that allocated it): its size, device and address, so programs
can account memory (``nbytes()``) and test sharing (``a.untyped_storage().data_ptr() ==
b.untyped_storage().data_ptr()``) as with torch.
"""
from __future__ import annotations

import warnings


def _root(tensor):
    while tensor._base is not None:
        tensor = tensor._base
    return tensor


class UntypedStorage:
    """The bytes of a tensor's buffer."""

    def __init__(self, tensor):
        self._root = _root(tensor)

    @property
    def device(self):
        return self._root.device

    def nbytes(self) -> int:
        return self._root.numel() * self._root.element_size()

    size = nbytes
    __len__ = nbytes

    def element_size(self) -> int:
        return 1

    def data_ptr(self) -> int:
        r = self._root
        return r.data_ptr() - r.storage_offset() * r.element_size()

    def is_shared(self) -> bool:
        return self._root.is_shared()

    @property
    def is_cuda(self) -> bool:
        return self._root.device.type == "cuda"

    def tolist(self) -> list:
        return self._root.detach().contiguous().cpu().numpy().reshape(-1).view("uint8").tolist()

    def __repr__(self):
        body = "\n".join(f" {b}" for b in self.tolist())
        return f"{body}\n[torch.storage.UntypedStorage(device={self.device}) of size {self.nbytes()}]"


class TypedStorage:
    """The elements of a tensor's buffer, typed (torch's deprecated ``Tensor.storage()``)."""

    def __init__(self, tensor):
        self._root = _root(tensor)
        self._untyped_storage = UntypedStorage(tensor)

    @property
    def dtype(self):
        return self._root.dtype

    @property
    def device(self):
        return self._root.device

    def size(self) -> int:
        return self._root.numel()

    __len__ = size

    def element_size(self) -> int:
        return self._root.element_size()

    def nbytes(self) -> int:
        return self._untyped_storage.nbytes()

    def data_ptr(self) -> int:
        return self._untyped_storage.data_ptr()

    def untyped(self) -> UntypedStorage:
        return self._untyped_storage

    def is_shared(self) -> bool:
        return self._untyped_storage.is_shared()

    def tolist(self) -> list:
        return self._root.detach().reshape(-1).tolist()

    def __getitem__(self, i):
        return self.tolist()[i]

    def __repr__(self):
        body = "\n".join(f" {v}" for v in self.tolist())
        return (f"{body}\n[torch.storage.TypedStorage(dtype={self.dtype}, device={self.device}) "
                f"of size {self.size()}]")


def untyped_storage(tensor) -> UntypedStorage:
    return UntypedStorage(tensor)


def typed_storage(tensor) -> TypedStorage:
    warnings.warn("TypedStorage is deprecated. It will be removed in the future and "
                  "UntypedStorage will be the only storage class. This should only matter to "
                  "you if you are using storages directly.  To access UntypedStorage directly, "
                  "use tensor.untyped_storage() instead of tensor.storage()", UserWarning,
                  stacklevel=3)
    return TypedStorage(tensor)
