"""``plugrad.save`` / ``plugrad.load``: checkpoints in PyTorch's own zip format, loaded safely.

The file is what ``torch.save`` writes (format version 3): a zip archive with ``data.pkl``, a
protocol-2 pickle whose tensors are ``torch._utils._rebuild_tensor_v2`` calls over persistent
storages ``('storage', torch.FloatStorage, key, location, numel)``, and one stored (uncompressed,
64-byte aligned) member ``data/<key>`` of raw little-endian bytes per storage. So torch loads
plugrad's files and plugrad loads torch's (plain tensors, state dicts, optimizer state).

Loading never runs code from the file. ``data.pkl`` goes through an unpickler whose only
reachable globals are an allow-list (containers, dtypes, devices, sizes, the tensor rebuild
functions, and what :func:`add_safe_globals` adds); any other global -- ``os.system``, a user
class -- raises ``pickle.UnpicklingError`` naming it. That unpickler is pure Python and charges
everything the file makes (objects, copies, key hashing) against a budget proportional to the
file's size, so a load ends in time and memory proportional to the file. Every storage's
declared size is checked against its archive member (and every tensor's view against its
storage) before anything is allocated, so a truncated or corrupt file raises a RuntimeError
that names the problem; tensors that shared a storage when saved share it after loading.
``weights_only=False`` is torch's explicit opt-in to full pickle for files you trust.
"""
from __future__ import annotations

import contextlib
import io
import os
import pickle
import struct
import zipfile
from collections import OrderedDict

import numpy

from . import _dtype as D
from ._layout import layout as _layout_cls
from ._tensor import Size, Tensor

__all__ = ["save", "load", "add_safe_globals", "get_safe_globals", "clear_safe_globals",
           "safe_globals"]

# dtype <-> torch's legacy storage class names (the tags torch files carry)
_STORAGE_NAMES = {"float32": "FloatStorage", "float64": "DoubleStorage",
                  "float16": "HalfStorage", "bfloat16": "BFloat16Storage",
                  "int64": "LongStorage", "int32": "IntStorage", "int16": "ShortStorage",
                  "int8": "CharStorage", "uint8": "ByteStorage", "bool": "BoolStorage",
                  "complex64": "ComplexFloatStorage", "complex128": "ComplexDoubleStorage"}
_ALIGN = 64


# ============================================================================ saving
class _Global:
    """A name written into the pickle as ``GLOBAL module name`` (torch's, not ours)."""
    __slots__ = ("module", "name")

    def __init__(self, module, name):
        self.module, self.name = module, name

    def __call__(self, *args):   # pickle insists that a reduce function be callable
        raise TypeError(f"{self.module}.{self.name} is a name written into checkpoints")


_REBUILD_TENSOR = _Global("torch._utils", "_rebuild_tensor_v2")
_REBUILD_PARAMETER = _Global("torch._utils", "_rebuild_parameter")
_ORDERED_DICT = _Global("collections", "OrderedDict")
_TORCH_SIZE = _Global("torch", "Size")
_TORCH_DEVICE = _Global("torch", "device")
_REBUILD_SPARSE = _Global("torch._utils", "_rebuild_sparse_tensor")
_GET_LAYOUT = _Global("torch.serialization", "_get_layout")


class _Storage:
    """One tensor's bytes, written as archive member ``data/<key>``."""
    __slots__ = ("key", "dtype", "location", "numel", "payload")


class _Pickler(pickle._Pickler):
    """Writes tensors, parameters, dtypes, devices and sizes the way torch.save does.

    The pure-Python pickler is used because it lets ``save_global`` write torch's names
    (``torch._utils _rebuild_tensor_v2``) without importing torch; only metadata goes
    through it, tensor bytes go to their own archive members.
    """

    def __init__(self, file):
        super().__init__(file, protocol=2)
        self.storages = []      # in key order
        self._by_id = {}        # id(tensor) -> _Storage
        self._keep = []         # keeps ids unique while pickling

    def save_global(self, obj, name=None):
        if isinstance(obj, _Global):
            module, name = obj.module, obj.name
        elif isinstance(obj, D.dtype):
            module, name = "torch", obj.name
        else:
            return super().save_global(obj, name)
        self.write(pickle.GLOBAL + f"{module}\n{name}\n".encode("utf-8"))
        self.memoize(obj)

    def persistent_id(self, obj):
        if isinstance(obj, _Storage):
            return ("storage", _Global("torch", _STORAGE_NAMES[obj.dtype]), obj.key,
                    obj.location, obj.numel)
        return None

    def reducer_override(self, obj):
        from ._device import device as device_cls
        from .nn.parameter import Parameter
        if isinstance(obj, (_Global, D.dtype)):
            return obj.name          # a plain GLOBAL, written by save_global
        if isinstance(obj, _layout_cls):
            return (_GET_LAYOUT, (repr(obj),))
        if isinstance(obj, Tensor) and obj.is_sparse:
            # torch's (layout, (indices, values, size, is_coalesced))
            return (_REBUILD_SPARSE, (obj.layout, (obj._sp_indices, obj._sp_values,
                                                   Size(obj.shape), obj.is_coalesced())))
        if isinstance(obj, Parameter):
            return (_REBUILD_PARAMETER, (_Bare(obj), obj.requires_grad, _EmptyHooks()))
        if isinstance(obj, Tensor):
            return self._tensor(obj, obj.requires_grad)
        if isinstance(obj, _Bare):
            return self._tensor(obj.tensor, False)
        if isinstance(obj, _EmptyHooks):
            return (_ORDERED_DICT, ())
        if isinstance(obj, device_cls):
            args = (obj.type,) if obj.index is None else (obj.type, obj.index)
            return (_TORCH_DEVICE, args)
        if isinstance(obj, Size):
            return (_TORCH_SIZE, (tuple(obj),))
        if type(obj) is OrderedDict:
            return (_ORDERED_DICT, (), None, None, iter(obj.items()))
        return NotImplemented

    def _tensor(self, t, requires_grad):
        """(_rebuild_tensor_v2, (storage, offset, size, stride, requires_grad, {})).

        A view of a C-contiguous tensor is written over its base's storage with its own
        offset and strides, as torch does, so views that shared memory when saved share it
        after loading; anything else is written as its own contiguous storage."""
        root, offset, stride = t._base, 0, None
        if root is not None and root.is_contiguous() and t.numel():
            try:
                offset, stride = t.storage_offset(), tuple(t.stride())
            except (RuntimeError, NotImplementedError, AttributeError):
                root = None
        else:
            root = None
        st = self._storage(t if root is None else root, t.dtype)
        if stride is None:
            acc, stride = 1, []
            for s in reversed(t.shape):
                stride.append(acc)
                acc *= s
            stride = tuple(reversed(stride))
        return (_REBUILD_TENSOR, (st, offset, tuple(t.shape), stride, requires_grad,
                                  _EmptyHooks()))

    def _storage(self, t, dtype):
        """The storage holding ``t``'s values in C order, written once per tensor, typed as
        ``dtype`` (a real view of a complex tensor types its base's bytes as real pairs)."""
        st = self._by_id.get(id(t))
        if st is not None and st.dtype != dtype.name:
            raise RuntimeError("Cannot save multiple tensors or storages that view the same "
                               "data as different types")
        if st is None:
            st = _Storage()
            st.key = str(len(self.storages))
            st.dtype = dtype.name
            st.location = _location(t.device)
            st.numel = t.numel() * t.dtype.itemsize // dtype.itemsize
            st.payload = _tensor_bytes(t)
            self._by_id[id(t)] = st
            self._keep.append(t)
            self.storages.append(st)
        return st


class _Bare:
    """A parameter's data pickled as a plain tensor (inside ``_rebuild_parameter``)."""
    __slots__ = ("tensor",)

    def __init__(self, tensor):
        self.tensor = tensor


class _EmptyHooks:
    """torch's empty ``OrderedDict()`` of backward hooks."""
    __slots__ = ()


def _location(dev):
    return "cpu" if dev.type == "cpu" else f"{dev.type}:{dev.index or 0}"


def _bfloat16_bits(t):
    """A bfloat16 tensor's values as uint16 bit patterns on the host (exact: bfloat16 is the
    top half of a float32)."""
    ops = t.device.ops
    bits = numpy.ascontiguousarray(ops.to_host(ops.cast(t.detach()._data, "float32")))
    return (bits.view(numpy.uint32) >> 16).astype(numpy.uint16)


def _pickled_values(t):
    """What ``pickle`` stores of a tensor: a host copy (bfloat16 as its bit patterns)."""
    if t.dtype is D.bfloat16:
        return _bfloat16_bits(t)
    return t.detach().cpu()._host().copy()


def _tensor_bytes(t):
    """The tensor's values as contiguous little-endian bytes (read from its device)."""
    ops = t.device.ops
    data = t.detach()._data
    if t.dtype is D.bfloat16:
        return _bfloat16_bits(t).astype("<u2").tobytes()
    host = numpy.ascontiguousarray(ops.to_host(data))
    return host.astype(host.dtype.newbyteorder("<"), copy=False).tobytes()


def save(obj, f, pickle_module=None, pickle_protocol=2, _use_new_zipfile_serialization=True,
         _disable_byteorder_record=False):
    """Save ``obj`` (tensors, state dicts, optimizer state, nested containers) to ``f``, a
    path or a writable binary file, in torch's zip checkpoint format."""
    if not _use_new_zipfile_serialization:
        raise RuntimeError("plugrad.save writes only the zip checkpoint format "
                           "(_use_new_zipfile_serialization=False is not supported)")
    buf = io.BytesIO()
    pickler = _Pickler(buf)
    pickler.dump(obj)
    with _open(f, "wb") as out:
        name = _archive_name(f)
        with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as zf:
            _write(zf, f"{name}/data.pkl", buf.getvalue())
            _write(zf, f"{name}/.format_version", b"1")
            _write(zf, f"{name}/.storage_alignment", str(_ALIGN).encode())
            if not _disable_byteorder_record:
                _write(zf, f"{name}/byteorder", b"little")
            for st in pickler.storages:
                _write(zf, f"{name}/data/{st.key}", st.payload, align=True)
            _write(zf, f"{name}/version", b"3\n")


def _write(zf, name, payload, align=False):
    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_STORED
    if align:   # pad the local header so the data starts on a 64-byte boundary (as torch)
        with contextlib.suppress(OSError, AttributeError, ValueError):
            start = zf.fp.tell() + 30 + len(name.encode("utf-8")) + 4
            pad = (-start) % _ALIGN
            info.extra = b"FB" + struct.pack("<H", pad) + b"Z" * pad
    zf.writestr(info, payload)


def _archive_name(f):
    if isinstance(f, (str, os.PathLike)):
        stem = os.path.splitext(os.path.basename(os.fspath(f)))[0]
        return stem or "archive"
    return "archive"


@contextlib.contextmanager
def _open(f, mode):
    if isinstance(f, (str, os.PathLike)):
        # torch's RuntimeErrors ("Parent directory x does not exist.", "... open file failed
        # with strerror: Is a directory"), not OSError
        parent = os.path.dirname(os.path.abspath(f))
        if not os.path.isdir(parent):
            raise RuntimeError(f"Parent directory {os.path.dirname(str(f))} does not exist.")
        try:
            fh = open(f, mode)
        except OSError as err:
            raise RuntimeError(f"open file failed with strerror: {err.strerror} ({f})") from err
        with fh:
            yield fh
    else:
        yield f


# loading lives in its own module; Tensor.__reduce_ex__ names the two rebuild functions here
from ._serialization_load import (_rebuild_parameter, _rebuild_tensor,  # noqa: E402,F401
                                  add_safe_globals, clear_safe_globals, get_safe_globals, load,
                                  safe_globals)
