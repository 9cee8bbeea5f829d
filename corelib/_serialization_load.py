"""The loading half of :mod:`plugrad.serialization`: a restricted unpickler, validated storage
reads, and map_location.

Nothing in the file can name a callable outside :func:`_allowed_globals` (plus what the user
allow-lists), so unpickling cannot run code; the rebuild functions check every size, offset and
stride against the bytes actually present before allocating.
"""
from __future__ import annotations

import io
import os
import pickle
import struct
import zipfile
import zlib
from collections import Counter, OrderedDict

import numpy

from . import _dtype as D
from ._tensor import Size, Tensor

_STORAGE_DTYPES = {"FloatStorage": "float32", "DoubleStorage": "float64",
                   "HalfStorage": "float16", "BFloat16Storage": "bfloat16",
                   "LongStorage": "int64", "IntStorage": "int32", "ShortStorage": "int16",
                   "CharStorage": "int8", "ByteStorage": "uint8", "BoolStorage": "bool"}
_MAGIC = 0x1950a86a20f9469cfc6c
# a compressed storage may inflate at most this much (torch writes storages uncompressed)
_INFLATE_RATIO, _INFLATE_FREE = 32, 1 << 20
_AMPLIFY_RATIO, _AMPLIFY_FREE = 16, 64 << 20
# a view with more elements than its storage (zero or overlapping strides) is materialized;
# beyond this it is refused rather than allocated (a 200-byte file asked for 1e12 elements)
_OVERLAP_FREE, _OVERLAP_RATIO = 64 << 20, 16
_safe_globals: set = set()


# ============================================================================ allow-list
def add_safe_globals(safe_globals):
    """Allow-list classes/functions (or ``(obj, "module.name")`` pairs) for ``load``."""
    global _safe_globals
    _safe_globals = _safe_globals | set(safe_globals)


def get_safe_globals():
    return list(_safe_globals)


def clear_safe_globals():
    global _safe_globals
    _safe_globals = set()


class safe_globals:
    """Context manager: the given globals are allow-listed inside the block."""

    def __init__(self, safe_globals):
        self.safe_globals = safe_globals

    def __enter__(self):
        self._before = set(_safe_globals)
        add_safe_globals(self.safe_globals)

    def __exit__(self, *exc):
        global _safe_globals
        _safe_globals = self._before


def _user_globals():
    out = {}
    for g in _safe_globals:
        if isinstance(g, tuple):
            out[g[1]] = g[0]
        else:
            out[f"{g.__module__}.{g.__qualname__}"] = g
    return out


def _allowed_globals():
    from ._device import device
    allowed = {
        "collections.OrderedDict": OrderedDict, "collections.Counter": Counter,
        "builtins.set": set, "builtins.frozenset": frozenset,
        "builtins.complex": complex, "builtins.bytearray": _bytearray,
        "builtins.bytes": _bytes,                   # protocol 2 writes b"" as bytes()
        # (no builtins.range: set(range(10**9)) is a 60-byte file that allocates ~60 GB)
        "builtins.slice": slice,
        "_codecs.encode": _codecs_encode,           # how protocol 2 stores bytes
        # classes only as markers for _rebuild_from_type_v2: calling Tensor(10**12) from a
        # file would allocate whatever the file asks for
        "torch.Size": Size, "torch.device": device, "torch.Tensor": _TENSOR_TYPE,
        "torch.nn.parameter.Parameter": _PARAMETER_TYPE,
        "torch._utils._rebuild_tensor_v2": _rebuild_tensor_v2,
        "torch._utils._rebuild_tensor": _rebuild_tensor_v1,
        "torch._utils._rebuild_parameter": _rebuild_parameter_torch,
        "torch._utils._rebuild_parameter_with_state": _rebuild_parameter_with_state,
        "torch._tensor._rebuild_from_type_v2": _rebuild_from_type_v2,
        # plain pickle.dumps of a plugrad tensor (Tensor.__reduce_ex__)
        "plugrad.serialization._rebuild_tensor": _rebuild_tensor,
        "plugrad.serialization._rebuild_parameter": _rebuild_parameter,
        "plugrad._serialization_load._rebuild_tensor": _rebuild_tensor,
        "plugrad._serialization_load._rebuild_parameter": _rebuild_parameter,
        "plugrad._dtype._by_name": D.from_name,
        "numpy.core.multiarray._reconstruct": _np_reconstruct,
        "numpy._core.multiarray._reconstruct": _np_reconstruct,
        "numpy._core.numeric._frombuffer": _np_frombuffer,
        "numpy.core.numeric._frombuffer": _np_frombuffer,
        # a marker, not the class: numpy.ndarray((3 * 10**9,), dtype) called from a file
        # would allocate whatever it declares
        "numpy.ndarray": _NDARRAY, "numpy.dtype": numpy.dtype,
    }
    for d in D.ALL:
        allowed[f"torch.{d.name}"] = d
    for name, dt in _STORAGE_DTYPES.items():
        allowed[f"torch.{name}"] = _StorageType(dt, name)
    return allowed


def _codecs_encode(text, encoding="utf-8"):
    import codecs
    if not isinstance(text, str):
        raise pickle.UnpicklingError("_codecs.encode expects a str")
    return codecs.encode(text, encoding)


def _bytes(data=b"", *args):
    if not isinstance(data, (bytes, str)):   # bytes(n) would allocate n bytes
        raise pickle.UnpicklingError("bytes may only be rebuilt from bytes or str")
    return bytes(data, *args)


def _bytearray(data=b"", *args):
    if not isinstance(data, (bytes, str)):   # bytearray(n) would allocate n bytes
        raise pickle.UnpicklingError("bytearray may only be rebuilt from bytes")
    return bytearray(data, *args)


class _Marker:
    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name

    def __call__(self, *args, **kwargs):
        raise pickle.UnpicklingError(f"{self.name} may not be called from a checkpoint (it "
                                     "would allocate whatever the file declares)")

    def __repr__(self):
        return self.name


_TENSOR_TYPE = _Marker("torch.Tensor")
_NDARRAY = _Marker("numpy.ndarray")
_PARAMETER_TYPE = _Marker("torch.nn.parameter.Parameter")


class _StorageType:
    __slots__ = ("dtype", "name")

    def __init__(self, dtype, name):
        self.dtype, self.name = dtype, name


class _Unpickler(pickle.Unpickler):
    """``find_class`` answers only allow-listed names; ``persistent_load`` reads storages."""

    def __init__(self, file, loader=None, extra=None):
        super().__init__(file)
        self._loader = loader
        self._allowed = dict(_allowed_globals(), **(extra or {}), **_user_globals())

    def find_class(self, module, name):
        if module == "__builtin__":   # protocol 2 spells Python 3's builtins this way
            module = "builtins"
        full = f"{module}.{name}"
        obj = self._allowed.get(full)
        if obj is None:
            raise pickle.UnpicklingError(
                f"Weights only load failed: unsupported global: GLOBAL {full} was not an "
                "allowed global. plugrad.load never runs code from a file; if you trust its "
                f"source, allow-list it with plugrad.serialization.add_safe_globals([{full}]) "
                "or load with weights_only=False.")
        return obj

    def persistent_load(self, pid):
        if self._loader is None:
            raise pickle.UnpicklingError("a persistent storage reference outside a checkpoint "
                                         "archive")
        return self._loader.storage(pid)


# ============================================================================ rebuilding
class _LoadedStorage:
    """A storage read from the archive: its host bytes as a 1-D numpy array, where it goes."""
    __slots__ = ("array", "dtype", "location", "device", "loader")


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad=False,
                       backward_hooks=None, metadata=None):
    """torch._utils._rebuild_tensor_v2: a view of ``storage``, validated, then placed."""
    if not isinstance(storage, _LoadedStorage):
        raise pickle.UnpicklingError("_rebuild_tensor_v2 expects a storage from the archive, "
                                     f"got {type(storage).__name__}")
    size, stride = _ints(size, "size"), _ints(stride, "stride")
    if not isinstance(storage_offset, int):   # (a tensor here has an __index__ that raises)
        raise pickle.UnpicklingError(f"corrupt checkpoint: tensor storage offset must be an "
                                     f"int, got {type(storage_offset).__name__}")
    offset = int(storage_offset)
    if len(size) != len(stride) or offset < 0 or any(s < 0 for s in size + stride):
        raise RuntimeError(f"corrupt checkpoint: invalid tensor view (offset {offset}, size "
                           f"{list(size)}, stride {list(stride)})")
    numel = storage.array.size
    if all(size):
        last = offset + sum((n - 1) * s for n, s in zip(size, stride))
        if last >= numel:
            raise RuntimeError(f"corrupt checkpoint: a tensor of size {list(size)} at offset "
                               f"{offset} reads past the end of its storage of {numel} "
                               "elements")
    item = storage.array.itemsize
    count = 1
    for n in size:
        count *= n
    if count > numel and count * item > max(_OVERLAP_FREE, _OVERLAP_RATIO * numel * item):
        raise RuntimeError(f"corrupt checkpoint: a tensor view of size {list(size)} (stride "
                           f"{list(stride)}) repeats its storage of {numel} elements; "
                           f"materializing it would allocate {count * item} bytes")
    if storage.loader is not None:
        storage.loader.spend(count * item, size)
    view = numpy.lib.stride_tricks.as_strided(storage.array[offset:] if numel else storage.array,
                                              shape=size,
                                              strides=tuple(s * item for s in stride))
    t = _place(numpy.array(view), storage.dtype, storage.device)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _rebuild_tensor_v1(storage, storage_offset, size, stride):
    return _rebuild_tensor_v2(storage, storage_offset, size, stride)


def _rebuild_parameter_torch(data, requires_grad, backward_hooks=None):
    from .nn.parameter import Parameter
    return Parameter(_check_tensor(data), requires_grad)


def _rebuild_parameter_with_state(data, requires_grad, backward_hooks, state):
    param = _rebuild_parameter_torch(data, requires_grad)
    if state:
        raise pickle.UnpicklingError("parameters with extra Python state are not supported")
    return param


def _rebuild_from_type_v2(func, new_type, args, state):
    """torch's wrapper for tensor subclasses: only Tensor and Parameter without state."""
    from .nn.parameter import Parameter
    if func not in (_rebuild_tensor_v2, _rebuild_parameter_torch, _rebuild_tensor_v1) or \
            new_type not in (_TENSOR_TYPE, _PARAMETER_TYPE):
        raise pickle.UnpicklingError("unsupported tensor subclass in checkpoint")
    t = func(*args)
    if new_type is _PARAMETER_TYPE and not isinstance(t, Parameter):
        t = Parameter(t, t.requires_grad)
    if state:
        raise pickle.UnpicklingError("tensors with extra Python attributes are not supported")
    return t


def _rebuild_tensor(array, dtype, device, requires_grad):
    """Inverse of ``Tensor.__reduce_ex__`` (a plain pickle of a tensor)."""
    if not isinstance(array, numpy.ndarray) or array.dtype.hasobject:
        raise pickle.UnpicklingError("a pickled tensor must carry a numeric numpy array")
    dt = D.from_name(dtype)
    t = _place(array.astype(dt.np or numpy.float32, copy=False), dtype, _device(device))
    if requires_grad:
        t.requires_grad_(True)
    return t


def _rebuild_parameter(array, dtype, device, requires_grad):
    from .nn.parameter import Parameter
    return Parameter(_rebuild_tensor(array, dtype, device, False), requires_grad)


def _np_reconstruct(cls, shape, dtype):
    # numpy pickles an empty array here and fills it by __setstate__, which checks sizes
    if cls is not _NDARRAY or int(numpy.prod(shape)) != 0:
        raise pickle.UnpicklingError("only an empty numpy.ndarray may be reconstructed")
    return numpy.ndarray.__new__(numpy.ndarray, shape, dtype)


def _np_frombuffer(buf, dtype, shape, order):
    if not isinstance(buf, (bytes, bytearray, pickle.PickleBuffer)):
        # bytes(10**10) would allocate ten gigabytes of zeros for a 40-byte file
        raise pickle.UnpicklingError(f"numpy array data must be bytes, got "
                                     f"{type(buf).__name__}")
    dtype = numpy.dtype(dtype)
    if dtype.hasobject:
        raise pickle.UnpicklingError("object arrays are not allowed")
    return numpy.frombuffer(bytes(buf), dtype=dtype).reshape(shape, order=order).copy()


def _ints(seq, what):
    if not isinstance(seq, (tuple, list, Size)) or not all(isinstance(v, int) for v in seq):
        raise pickle.UnpicklingError(f"corrupt checkpoint: tensor {what} must be a tuple of "
                                     f"ints, got {seq!r}")
    return tuple(int(v) for v in seq)


def _check_tensor(x):
    if not isinstance(x, Tensor):
        raise pickle.UnpicklingError(f"expected a tensor, got {type(x).__name__}")
    return x


def _device(spec):
    from ._device import device
    return spec if isinstance(spec, device) else device(spec)


def _place(host, dtype_name, dev):
    """A tensor with ``host``'s values (uint16 bit patterns for bfloat16) on device ``dev``."""
    from .ops.creation import from_numpy
    if not host.flags.c_contiguous:   # (ascontiguousarray would make a 0-d array 1-d)
        host = numpy.array(host, order="C")
    try:
        if dtype_name == "bfloat16":
            as_f32 = (host.astype(numpy.uint32) << 16).view(numpy.float32)
            return from_numpy(as_f32).to(device=dev, dtype=D.bfloat16)
        return from_numpy(host).to(dev)
    except TypeError as err:     # the device lacks the dtype: the user's problem, not the file's
        err._placement = True
        raise


# ============================================================================ archives
class _ArchiveLoader:
    """Reads ``data/<key>`` members on demand, checking sizes before allocating."""

    def __init__(self, zf, prefix, byteorder, map_location, total_size):
        self.zf, self.prefix, self.byteorder = zf, prefix, byteorder
        self.map_location = map_location
        self.total_size = total_size
        self.cache = {}
        # every tensor is materialized from its storage: what a file may make is bounded by
        # its size (300 tensors over one 8 MB storage made 2.4 GB from an 8 MB file)
        self.budget = max(_AMPLIFY_FREE, _AMPLIFY_RATIO * total_size)

    def spend(self, nbytes, size):
        self.budget -= nbytes
        if self.budget < 0:
            raise RuntimeError(f"corrupt checkpoint: its tensors (the last of size {list(size)}) "
                               f"would take more than {_AMPLIFY_RATIO}x the file's "
                               f"{self.total_size} bytes; a checkpoint holds each storage's "
                               "bytes, so this one repeats them")

    def storage(self, pid):
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage"):
            raise pickle.UnpicklingError(f"unsupported persistent id {pid!r:.80}")
        _, stype, key, location, numel = pid
        if not isinstance(stype, _StorageType):
            raise pickle.UnpicklingError(f"unsupported storage type {stype!r:.80}")
        key, location = str(key), str(location)
        if key in self.cache:
            return self.cache[key]
        if not isinstance(numel, int) or numel < 0:
            raise RuntimeError(f"corrupt checkpoint: storage {key} declares {numel!r} elements")
        name = f"{self.prefix}data/{key}"
        try:
            info = self.zf.getinfo(name)
        except KeyError:
            raise RuntimeError(f"PytorchStreamReader failed locating file data/{key}: file not "
                               "found (truncated or corrupt checkpoint)") from None
        dtype = _STORAGE_DTYPES[stype.name]
        item = 2 if dtype == "bfloat16" else D.from_name(dtype).itemsize
        nbytes = numel * item
        if nbytes > info.file_size or info.header_offset + info.compress_size > \
                self.total_size:
            raise RuntimeError(f"corrupt checkpoint: storage data/{key} declares {numel} "
                               f"{dtype} elements ({nbytes} bytes) but the archive holds "
                               f"{info.file_size} bytes for it")
        if info.compress_type != zipfile.ZIP_STORED and \
                nbytes > max(_INFLATE_FREE, _INFLATE_RATIO * info.compress_size):
            # torch writes storages uncompressed; a deflated one that inflates a 1.5 MB file
            # to 1.6 GB of zeros is a zip bomb, refused before inflating it
            raise RuntimeError(f"corrupt checkpoint: storage data/{key} is compressed and "
                               f"would inflate {info.compress_size} bytes to {nbytes} (more "
                               f"than {_INFLATE_RATIO}x); torch.save stores storages "
                               "uncompressed")
        raw = _read_member(self.zf, info, nbytes)
        if len(raw) != nbytes:
            raise RuntimeError(f"corrupt checkpoint: storage data/{key} is truncated ({len(raw)} "
                               f"of {nbytes} bytes)")
        np_dtype = numpy.dtype("uint16" if dtype == "bfloat16" else dtype)
        np_dtype = np_dtype.newbyteorder("<" if self.byteorder == "little" else ">")
        array = numpy.frombuffer(raw, dtype=np_dtype).astype(np_dtype.newbyteorder("="))
        st = _LoadedStorage()
        st.array, st.dtype, st.location = array, dtype, location
        st.device = self._target(array, dtype, location)
        st.loader = self
        self.cache[key] = st
        return st

    def _target(self, array, dtype, location):
        """Where a storage saved at ``location`` goes, per ``map_location`` (torch's rules)."""
        from ._device import device
        ml = self.map_location
        if ml is None:
            target = location
        elif isinstance(ml, dict):
            target = ml.get(location, location)
        elif isinstance(ml, (str, device)):
            target = ml
        elif callable(ml):
            probe = _place(array, dtype, _device("cpu")) if dtype != "bfloat16" else None
            result = ml(probe, location)
            target = "cpu" if result is None else (result.device if isinstance(result, Tensor)
                                                   else result)
        else:
            raise TypeError(f"map_location should be a str, a device, a dict or a callable, "
                            f"got {type(ml).__name__}")
        try:
            return _device(target)
        except RuntimeError as err:
            raise RuntimeError(f"Attempting to deserialize object on device '{target}', which "
                               f"is not available here ({err}). Use plugrad.load with "
                               "map_location='cpu' (or another available device) to map the "
                               "storages.") from None


def load(f, map_location=None, pickle_module=None, *, weights_only=None, mmap=None,
         **pickle_load_args):
    """Load an object saved with :func:`plugrad.save` or ``torch.save``.

    Args:
        f: a path or a readable binary file.
        map_location: where tensors go -- a device string or object, a dict mapping saved
            locations (``'cuda:0'``) to new ones, or ``fn(storage, location)`` returning a
            tensor on the target device. Default: the device each tensor was saved from.
        weights_only: True (default) never runs code from the file; False unpickles with the
            full pickle machinery, as torch does, for files you trust.
    """
    data = _read_all(f)
    if weights_only is False:
        return _load_full(data, map_location)
    if _is_archive(data):
        return _load_archive(data, map_location)
    return _load_plain(data, map_location)


def _is_archive(data):
    """A zip archive -- or what starts as one (a truncated archive has no directory)."""
    return data[:4] == b"PK\x03\x04" or zipfile.is_zipfile(io.BytesIO(data))


def _read_all(f):
    if isinstance(f, (str, os.PathLike)):
        with open(f, "rb") as fh:
            return fh.read()
    if isinstance(f, (bytes, bytearray)):
        raise TypeError("plugrad.load expects a path or a file object, not bytes (wrap them "
                        "in io.BytesIO)")
    return f.read()


def _open_archive(data):
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except _ZIP_ERRORS as err:
        raise RuntimeError("PytorchStreamReader failed reading zip archive: failed finding "
                           f"central directory ({err})") from None
    names = zf.namelist()
    pkl = [n for n in names if n.endswith("data.pkl") and n.count("/") <= 1]
    if not pkl:
        raise RuntimeError("PytorchStreamReader failed locating file data.pkl: file not found "
                           "(not a checkpoint archive)")
    prefix = pkl[0][:-len("data.pkl")]
    byteorder = "little"
    if f"{prefix}byteorder" in names:
        byteorder = _read_member(zf, zf.getinfo(f"{prefix}byteorder"), 16)
        byteorder = byteorder.decode("ascii", "replace").strip()
        if byteorder not in ("little", "big"):
            raise RuntimeError(f"corrupt checkpoint: unknown byteorder {byteorder!r}")
    return zf, prefix, byteorder


# what zipfile raises for a damaged member (bad CRC, bad header, flag bits it cannot handle,
# a broken deflate stream, offsets past the end): all mean a corrupt checkpoint
_ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, NotImplementedError, ValueError, EOFError,
               OSError, struct.error)


def _read_member(zf, info, nbytes):
    """At most ``nbytes`` of a member; a damaged archive is torch's RuntimeError naming it."""
    try:
        with zf.open(info) as fh:
            return fh.read(nbytes)
    except _ZIP_ERRORS as err:
        detail = str(err) or "unexpected end of data"
        raise RuntimeError(f"PytorchStreamReader failed reading file {info.filename}: "
                           f"{type(err).__name__}: {detail} (corrupt checkpoint)") from None


def _load_archive(data, map_location):
    zf, prefix, byteorder = _open_archive(data)
    with zf:
        loader = _ArchiveLoader(zf, prefix, byteorder, map_location, len(data))
        info = zf.getinfo(f"{prefix}data.pkl")
        return _unpickle(_read_member(zf, info, info.file_size), loader)


def _load_plain(data, map_location):
    """A bare pickle (not an archive): allowed only if it is plain data, never code."""
    obj = _unpickle(data, None)
    if isinstance(obj, int) and obj == _MAGIC:
        raise RuntimeError("this is a legacy torch checkpoint (saved with "
                           "_use_new_zipfile_serialization=False), which plugrad cannot read")
    if map_location is not None:
        return _apply_map_location(obj, map_location)
    return obj


def _check_lengths(payload):
    """Walk the opcodes once (pickletools reads at most what is there): an opcode declaring
    more bytes than the payload holds, or a memo index beyond it, is refused before the C
    unpickler allocates for it (BYTEARRAY8 of 2**34 bytes in a 1 kB file asked for 16 GB)."""
    import pickletools
    try:
        for op, arg, pos in pickletools.genops(payload):
            # memo slots are numbered from 0, one per memoized object: an index beyond the
            # payload's length is corrupt, and the C unpickler would size its memo to it
            # (LONG_BINPUT 1362194883 allocated 21 GB)
            if op.name in _MEMO_OPS and isinstance(arg, int) and not 0 <= arg <= len(payload):
                raise ValueError(f"memo index {arg} at position {pos} is out of range")
    except (ValueError, EOFError, struct.error, OverflowError) as err:
        raise pickle.UnpicklingError(f"corrupt or truncated checkpoint: {err}") from None


_MEMO_OPS = frozenset({"PUT", "BINPUT", "LONG_BINPUT", "GET", "BINGET", "LONG_BINGET"})


def _unpickle(payload, loader):
    _check_lengths(payload)
    try:
        return _Unpickler(io.BytesIO(payload), loader).load()
    except pickle.UnpicklingError:
        raise
    except TypeError as err:
        if getattr(err, "_placement", False):   # a dtype the target device lacks: as is
            raise
        # REDUCE of a non-callable, a non-tuple argument list, a str where a number goes
        raise pickle.UnpicklingError(f"corrupt checkpoint: TypeError: {err}") from None
    except (EOFError, ValueError, struct.error, IndexError, KeyError, AttributeError,
            OverflowError) as err:
        raise pickle.UnpicklingError(f"corrupt or truncated checkpoint: {type(err).__name__}: "
                                     f"{err or 'unexpected end of data'}") from None


def _apply_map_location(obj, map_location):
    loader = _ArchiveLoader(None, "", "little", map_location, 0)
    if isinstance(obj, Tensor):
        return obj.to(loader._target(obj.detach().cpu()._host(), obj.dtype.name,
                                     _location(obj.device)))
    if isinstance(obj, dict):
        return type(obj)((k, _apply_map_location(v, map_location)) for k, v in obj.items())
    if isinstance(obj, (list, tuple)) and not hasattr(obj, "_fields"):
        return type(obj)(_apply_map_location(v, map_location) for v in obj)
    return obj


def _location(dev):
    return "cpu" if dev.type == "cpu" else f"{dev.type}:{dev.index or 0}"


def _load_full(data, map_location):
    """weights_only=False: torch's opt-in to unrestricted unpickling (runs file code)."""
    class _Full(_Unpickler):
        def find_class(self, module, name):
            try:
                return super().find_class(module, name)
            except pickle.UnpicklingError:
                return pickle.Unpickler.find_class(self, module, name)

    if _is_archive(data):
        zf, prefix, byteorder = _open_archive(data)
        with zf:
            loader = _ArchiveLoader(zf, prefix, byteorder, map_location, len(data))
            return _Full(io.BytesIO(zf.read(f"{prefix}data.pkl")), loader).load()
    return _Full(io.BytesIO(data), None).load()
