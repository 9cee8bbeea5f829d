"""The loading half of :mod:`plugrad.serialization`: the allow-list, the guarded rebuild
functions, storages and their views, map_location.

Unpickling goes through :class:`~plugrad._serialization_unpickler.RestrictedUnpickler`: a file
can name no callable outside :func:`_allowed_globals` (plus what the user allow-lists), every
allow-listed callable checks its arguments and charges what it makes against a budget
proportional to the file's size, and the rebuild functions check every size, offset and stride
against the bytes actually present before allocating. Tensors that shared a storage when saved
share it after loading (they are views of one tensor per storage).
"""
from __future__ import annotations

import io
import os
import pickle
import struct
import warnings
import zipfile
import zlib
from collections import Counter, OrderedDict

import numpy

from . import _dtype as D
from ._serialization_unpickler import (_ENTRY, _SET_ENTRY, _SLOT, Guarded, Pending,
                                       RestrictedUnpickler, brief)
from ._serialization_storage import LoadedStorage, place, tensor_over, widens_bfloat16
from ._tensor import Size, Tensor

_STORAGE_DTYPES = {"FloatStorage": "float32", "DoubleStorage": "float64",
                   "HalfStorage": "float16", "BFloat16Storage": "bfloat16",
                   "LongStorage": "int64", "IntStorage": "int32", "ShortStorage": "int16",
                   "CharStorage": "int8", "ByteStorage": "uint8", "BoolStorage": "bool",
                   "ComplexFloatStorage": "complex64", "ComplexDoubleStorage": "complex128"}
_MAGIC = 0x1950a86a20f9469cfc6c
# a compressed member may inflate at most this much (torch writes every member uncompressed)
_INFLATE_RATIO, _INFLATE_FREE = 32, 1 << 20
_AMPLIFY_RATIO, _AMPLIFY_FREE = 16, 64 << 20
# a view with more elements than its storage (zero or overlapping strides) beyond this is
# refused (a 200-byte file asked for 1e12 elements)
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
    """What a checkpoint may name: what ``torch.save`` writes for tensors, parameters, state
    dicts, optimizer state and plain containers, plus plugrad's own plain-pickle names.

    Not here (torch refuses them too): ``frozenset``, ``slice``, ``range``, numpy scalars and
    numpy arrays outside a plugrad tensor's pickle. Protocol 2 writes ``bytes`` as
    ``_codecs.encode(str, 'latin1')``, so that is the only encoding accepted.
    """
    allowed = dict(_GUARDS)
    for d in D.ALL:
        allowed[f"torch.{d.name}"] = d
    for name, dt in _STORAGE_DTYPES.items():
        allowed[f"torch.{name}"] = _StorageType(dt, name)
    return allowed


def _fail(message):
    raise pickle.UnpicklingError(f"corrupt checkpoint: {message}")


def _exact(value, types, what):
    if type(value) not in types:
        _fail(f"{what} must be {' or '.join(t.__name__ for t in types)}, got "
              f"{type(value).__name__}")
    return value


def _ordered_dict(u, *args):
    # torch (any Python 3 pickle) writes OrderedDict() and fills it with SETITEMS
    if args:
        _fail("OrderedDict is rebuilt empty and filled item by item")
    return OrderedDict()


def _counter(u, mapping=None):
    if mapping is None:
        return Counter()
    _exact(mapping, (dict, OrderedDict, Counter), "Counter's argument")
    u.budget.spend(_ENTRY * len(mapping), "a Counter")
    u.charge_keys(list(mapping), "Counter keys")
    return Counter(mapping)


def _set(u, items=()):
    _exact(items, (list, tuple), "set's items")
    u.budget.spend(_SET_ENTRY * len(items), "a set")
    u.charge_keys(items, "set items")
    return set(items)


def _complex(u, real=0.0, imag=0.0):
    _exact(real, (int, float), "complex's real part")
    _exact(imag, (int, float), "complex's imaginary part")
    return complex(real, imag)


def _bytearray(u, data=b""):
    _exact(data, (bytes, bytearray), "bytearray's data")   # bytearray(n) would allocate n
    u.budget.spend(len(data), "a bytearray")
    return bytearray(data)


def _bytes(u, *args):
    if args:   # bytes(10**10) would allocate ten gigabytes for a 40-byte file
        _fail("bytes may only be rebuilt from bytes (protocol 2 writes them as "
              "_codecs.encode(str, 'latin1'), and b'' as bytes())")
    return b""


def _codecs_encode(u, text, encoding="utf-8", errors="strict"):
    # what protocol 2 writes for bytes; any other codec is refused: utf-32 quadruples a
    # memo-referenced string on every call, punycode takes quadratic time
    _exact(text, (str,), "_codecs.encode's text")
    if encoding not in ("latin1", "latin-1") or errors != "strict":
        _fail(f"_codecs.encode is only allowed with 'latin1' (how protocol 2 stores bytes), "
              f"got {brief(encoding)}")
    u.budget.spend(len(text), "_codecs.encode")
    return text.encode("latin-1")


def _size(u, dims=()):
    _exact(dims, (tuple, list), "torch.Size's dims")
    if not set(map(type, dims)) <= {int}:
        _fail(f"torch.Size dims must be ints, got {brief(dims)}")
    u.budget.spend(2 * _SLOT * len(dims), "a torch.Size")   # (a tuple, then the Size)
    return Size(dims)


def _device_call(u, spec, index=None):
    from ._device import device
    _exact(spec, (str,), "a device type")
    if index is not None:
        _exact(index, (int,), "a device index")
    if len(spec) > 64:
        _fail(f"device string of {len(spec)} characters")
    return device(spec) if index is None else device(spec, index)


def _dtype_by_name(u, name):
    _exact(name, (str,), "a dtype name")
    try:
        return D.from_name(name)
    except KeyError:
        _fail(f"unknown dtype {brief(name)}")


class _Marker:
    """A class named by a checkpoint only as a tag (calling it would allocate at will)."""
    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return self.name


_TENSOR_TYPE = _Marker("torch.Tensor")
_NDARRAY = _Marker("numpy.ndarray")
_PARAMETER_TYPE = _Marker("torch.nn.parameter.Parameter")


class _StorageType:
    __slots__ = ("dtype", "name")

    def __init__(self, dtype, name):
        self.dtype, self.name = dtype, name

    def __repr__(self):
        return f"torch.{self.name}"


# ============================================================================ numpy
# numpy arrays appear in a plain pickle of a plugrad tensor (Tensor.__reduce_ex__); they are
# rebuilt only as arguments of plugrad's _rebuild_tensor, never returned (torch refuses numpy
# globals by default too), from numeric dtypes whose bytes are all in the file
_NUMPY_CODES = frozenset(d.np.str[1:] for d in D.ALL if d.np is not None)


class _NumpyDtype(Pending):
    """``numpy.dtype(code, False, True)`` then BUILD ``(3, byteorder, None, ..., 0)``."""
    __slots__ = ("dtype",)

    def __init__(self, code):
        self.dtype = numpy.dtype(code)

    def build(self, u, state):
        if type(state) is not tuple or len(state) != 8 or state[0] != 3 or \
                state[1] not in ("<", ">", "|", "=") or state[2:] != (None, None, None, -1, -1, 0):
            _fail(f"numpy dtype state {brief(state)} (only plain numeric dtypes are loaded)")
        if state[1] in "<>":
            self.dtype = self.dtype.newbyteorder(state[1])


class _NumpyArray(Pending):
    """``_reconstruct(ndarray, (0,), b'b')`` then BUILD ``(1, shape, dtype, fortran, raw)``."""
    __slots__ = ("array",)

    def __init__(self):
        self.array = None

    def build(self, u, state):
        if self.array is not None or type(state) is not tuple or len(state) != 5 or \
                state[0] != 1 or type(state[3]) is not bool:
            _fail(f"numpy array state {brief(state)}")
        self.array = _host_array(u, state[4], state[2], state[1], "F" if state[3] else "C")


def _host_array(u, raw, dtype, shape, order):
    if not isinstance(dtype, _NumpyDtype):
        _fail(f"numpy array of dtype {brief(dtype)}")
    u.pending.pop(id(dtype), None)
    dtype = dtype.dtype
    _exact(raw, (bytes, bytearray), "numpy array data")   # (10**12 'S0' items in 0 bytes)
    _exact(shape, (tuple,), "numpy array shape")
    numel = 1
    for n in shape:
        if type(n) is not int or n < 0:
            _fail(f"numpy array shape {brief(shape)}")
        numel *= n
    if numel * dtype.itemsize != len(raw) or order not in ("C", "F"):
        _fail(f"numpy array of shape {brief(shape)} and dtype {dtype} needs "
              f"{numel * dtype.itemsize} bytes, the file holds {len(raw)}")
    u.budget.spend(len(raw), "a numpy array")
    return numpy.frombuffer(raw, dtype=dtype).reshape(shape, order=order)


def _np_dtype(u, code, align=False, copy=True):
    if type(code) is not str or code not in _NUMPY_CODES:
        _fail(f"numpy dtype {brief(code)} (only {sorted(_NUMPY_CODES)} are loaded)")
    d = _NumpyDtype(code)
    u.pending[id(d)] = d
    return d


def _np_reconstruct(u, cls, shape, code):
    if cls is not _NDARRAY or shape != (0,) or type(code) is not bytes:
        _fail("only an empty numpy.ndarray may be reconstructed (its state fills it)")
    a = _NumpyArray()
    u.pending[id(a)] = a
    return a


def _np_frombuffer(u, buf, dtype, shape, order):
    a = _NumpyArray()
    a.array = _host_array(u, buf, dtype, shape, order)
    u.pending[id(a)] = a
    return a


def _take_array(u, a):
    if u._trusted and isinstance(a, numpy.ndarray):    # weights_only=False: numpy's own
        return a
    if not isinstance(a, _NumpyArray) or a.array is None:
        raise pickle.UnpicklingError("a pickled tensor must carry a numeric numpy array")
    u.pending.pop(id(a), None)
    return a.array


# ============================================================================ rebuilding
def _rebuild_tensor_v2(u, storage, storage_offset, size, stride, requires_grad=False,
                       backward_hooks=None, metadata=None):
    """torch._utils._rebuild_tensor_v2: a view of ``storage``, validated, then placed."""
    if not isinstance(storage, LoadedStorage):
        raise pickle.UnpicklingError("_rebuild_tensor_v2 expects a storage from the archive, "
                                     f"got {type(storage).__name__}")
    size, stride = _ints(size, "size"), _ints(stride, "stride")
    if type(storage_offset) is not int:   # (a tensor here has an __index__ that raises)
        raise pickle.UnpicklingError(f"corrupt checkpoint: tensor storage offset must be an "
                                     f"int, got {type(storage_offset).__name__}")
    _exact(requires_grad, (bool,), "requires_grad")
    u.budget.spend(_ENTRY * (1 + len(size)), "a tensor")
    t = _view(storage, storage_offset, size, stride)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _view(storage, offset, size, stride):
    """Check ``(offset, size, stride)`` against ``storage``, then the tensor over it."""
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
    return tensor_over(storage, offset, size, stride, storage.loader.spend)



def _rebuild_tensor_v1(u, storage, storage_offset, size, stride):
    return _rebuild_tensor_v2(u, storage, storage_offset, size, stride)


def _rebuild_parameter_torch(u, data, requires_grad, backward_hooks=None):
    from .nn.parameter import Parameter
    _exact(requires_grad, (bool,), "requires_grad")
    return Parameter(_check_tensor(data), requires_grad)


def _rebuild_parameter_with_state(u, data, requires_grad, backward_hooks, state):
    if state:
        raise pickle.UnpicklingError("parameters with extra Python state are not supported")
    return _rebuild_parameter_torch(u, data, requires_grad)


def _rebuild_from_type_v2(u, func, new_type, args, state):
    """torch's wrapper for tensors with Python attributes and subclasses (only Tensor and
    Parameter): the attributes are set in the instance dict, never over a Tensor member."""
    from .nn.parameter import Parameter
    if func not in (_REBUILD_V2, _REBUILD_V1, _REBUILD_PARAMETER) or \
            new_type not in (_TENSOR_TYPE, _PARAMETER_TYPE):
        raise pickle.UnpicklingError("unsupported tensor subclass in checkpoint")
    if state is not None and (type(state) is not dict or not all(
            type(k) is str and not k.startswith("_") for k in state)):
        _fail(f"tensor attributes {brief(state)} (only a dict of public names is loaded)")
    t = u.call(func, args)
    if new_type is _PARAMETER_TYPE and not isinstance(t, Parameter):
        t = Parameter(t, t.requires_grad)
    for name, value in (state or {}).items():   # t.note = ... set before torch.save
        if hasattr(type(t), name):
            _fail(f"tensor attribute {brief(name)} would replace a Tensor member")
        u.budget.spend(_ENTRY, "a tensor attribute")
        t.__dict__[name] = value
    return t


def _get_layout(u, name):
    """torch.serialization._get_layout('torch.sparse_coo'): a layout by its printed name."""
    from ._layout import _ALL
    _exact(name, (str,), "a layout name")
    lay = _ALL.get(name.removeprefix("torch."))
    if lay is None:
        _fail(f"unknown layout {brief(name)}")
    return lay


def _sparse_coo_layout():
    from ._layout import sparse_coo
    return sparse_coo


def _rebuild_sparse_tensor(u, layout, data):
    """torch._utils._rebuild_sparse_tensor: a COO tensor from (indices, values, size,
    is_coalesced), its indices checked against the size as when one is made."""
    from ._layout import sparse_coo
    from .sparse.coo import make, sparse_coo_tensor
    if layout is not sparse_coo:
        _fail(f"sparse layout {brief(layout)} (plugrad loads only torch.sparse_coo)")
    if type(data) is not tuple or len(data) not in (3, 4):
        _fail("a sparse tensor's (indices, values, size[, is_coalesced])")
    indices, values = _check_tensor(data[0]), _check_tensor(data[1])
    size = _ints(data[2], "size")
    coalesced = data[3] if len(data) == 4 else None
    _exact(coalesced, (bool, type(None)), "is_coalesced")
    checked = sparse_coo_tensor(indices, values, size)          # validates the indices
    return make(checked._sp_indices, checked._sp_values, size, bool(coalesced))


def _rebuild_tensor(array, dtype, device, requires_grad):
    """Inverse of ``Tensor.__reduce_ex__`` (what ``pickle.loads`` of a plugrad tensor calls)."""
    if not isinstance(array, numpy.ndarray) or array.dtype.hasobject:
        raise pickle.UnpicklingError("a pickled tensor must carry a numeric numpy array")
    dt = D.from_name(dtype)
    t = place(array.astype(dt.np or numpy.uint16), dtype, _device(device))   # bfloat16: bits
    if requires_grad:
        t.requires_grad_(True)
    return t


def _rebuild_parameter(array, dtype, device, requires_grad):
    from .nn.parameter import Parameter
    return Parameter(_rebuild_tensor(array, dtype, device, False), requires_grad)


def _load_pickled_tensor(u, array, dtype, device, requires_grad, parameter=False):
    """``_rebuild_tensor``/``_rebuild_parameter`` named by a file ``plugrad.load`` reads."""
    array = _take_array(u, array)
    _exact(dtype, (str,), "a dtype name")
    _exact(device, (str,), "a device")
    _exact(requires_grad, (bool,), "requires_grad")
    _dtype_by_name(u, dtype)
    u.budget.spend(array.nbytes, "a tensor")
    if getattr(u, "mapper", None) is not None:   # map_location, as for an archive's storages
        device = u.mapper._target(array, dtype, _location(_device(device)))
    rebuild = _rebuild_parameter if parameter else _rebuild_tensor
    return rebuild(array, dtype, device, requires_grad)


def _load_pickled_parameter(u, array, dtype, device, requires_grad):
    return _load_pickled_tensor(u, array, dtype, device, requires_grad, parameter=True)


def _ints(seq, what):
    if type(seq) not in (tuple, list, Size) or len(seq) > 64 or \
            not all(type(v) is int for v in seq):
        raise pickle.UnpicklingError(f"corrupt checkpoint: tensor {what} must be a tuple of "
                                     f"ints, got {brief(seq)}")
    return tuple(seq)


def _check_tensor(x):
    if not isinstance(x, Tensor):
        raise pickle.UnpicklingError(f"expected a tensor, got {type(x).__name__}")
    return x


def _device(spec):
    from ._device import device
    return spec if isinstance(spec, device) else device(spec)


_REBUILD_V2 = Guarded("torch._utils._rebuild_tensor_v2", _rebuild_tensor_v2)
_REBUILD_V1 = Guarded("torch._utils._rebuild_tensor", _rebuild_tensor_v1)
_REBUILD_PARAMETER = Guarded("torch._utils._rebuild_parameter", _rebuild_parameter_torch)
_GUARDS = {g.name: g for g in (
    _REBUILD_V2, _REBUILD_V1, _REBUILD_PARAMETER,
    Guarded("torch._utils._rebuild_parameter_with_state", _rebuild_parameter_with_state),
    Guarded("torch._tensor._rebuild_from_type_v2", _rebuild_from_type_v2),
    Guarded("torch._utils._rebuild_sparse_tensor", _rebuild_sparse_tensor),
    Guarded("torch.serialization._get_layout", _get_layout),
    Guarded("collections.OrderedDict", _ordered_dict),
    Guarded("collections.Counter", _counter),
    Guarded("builtins.set", _set),
    Guarded("builtins.complex", _complex),
    Guarded("builtins.bytearray", _bytearray),
    Guarded("builtins.bytes", _bytes),
    Guarded("_codecs.encode", _codecs_encode),
    Guarded("torch.Size", _size),
    Guarded("torch.device", _device_call),
    Guarded("plugrad._device.device", _device_call),
    Guarded("plugrad._dtype._by_name", _dtype_by_name),
    # plain pickle.dumps of a plugrad tensor (Tensor.__reduce_ex__) and the numpy array in it
    Guarded("plugrad.serialization._rebuild_tensor", _load_pickled_tensor),
    Guarded("plugrad.serialization._rebuild_parameter", _load_pickled_parameter),
    Guarded("numpy.core.multiarray._reconstruct", _np_reconstruct),
    Guarded("numpy._core.multiarray._reconstruct", _np_reconstruct),
    Guarded("numpy.core.numeric._frombuffer", _np_frombuffer),
    Guarded("numpy._core.numeric._frombuffer", _np_frombuffer),
    Guarded("numpy.dtype", _np_dtype))}
for _name in ("plugrad._serialization_load._rebuild_tensor",
              "plugrad._serialization_load._rebuild_parameter"):
    _GUARDS[_name] = _GUARDS[_name.replace("_serialization_load", "serialization")]
# classes a checkpoint names only as tags
_GUARDS.update({"torch.sparse_coo": _sparse_coo_layout(),
                "torch.Tensor": _TENSOR_TYPE, "torch.nn.parameter.Parameter": _PARAMETER_TYPE,
                "numpy.ndarray": _NDARRAY})


# ============================================================================ archives
class _ArchiveLoader:
    """Reads ``data/<key>`` members on demand, checking sizes before allocating."""

    def __init__(self, zf, prefix, byteorder, map_location, total_size):
        self.zf, self.prefix, self.byteorder = zf, prefix, byteorder
        self.map_location = map_location
        self.total_size = total_size
        self.cache = {}
        self.widened = set()     # device types that got bfloat16 storages as float32
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
            raise pickle.UnpicklingError(f"unsupported persistent id {brief(pid)}")
        _, stype, key, location, numel = pid
        if not isinstance(stype, _StorageType):
            raise pickle.UnpicklingError(f"unsupported storage type {brief(stype)}")
        _exact(key, (str,), "a storage key")
        _exact(location, (str,), "a storage location")
        if key in self.cache:
            return self.cache[key]
        if not isinstance(numel, int) or numel < 0:
            raise RuntimeError(f"corrupt checkpoint: storage {key} declares {brief(numel)} "
                               "elements")
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
        st = LoadedStorage(array, dtype, location, self._target(array, dtype, location), self)
        if widens_bfloat16(dtype, st.device):
            self.widened.add(st.device.type)
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
            probe = place(array, dtype, _device("cpu")) if dtype != "bfloat16" else None
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
            full pickle machinery, as torch does, for files you trust. As torch's, the
            environment variables ``TORCH_FORCE_WEIGHTS_ONLY_LOAD`` (forces True) and
            ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD`` (False where the call does not say) override it.
    """
    weights_only = _weights_only_from_env(weights_only)
    data = _read_all(f)
    if weights_only is False:
        return _load_full(data, map_location)
    if _is_archive(data):
        return _load_archive(data, map_location)
    return _load_plain(data, map_location)


_TRUE_VALUES = ("1", "y", "yes", "true")


def _weights_only_from_env(weights_only):
    """torch's environment overrides of ``weights_only`` (programs that load their own pickles
    run under ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1``, which torch 2.6+ documents for them)."""
    force = os.getenv("TORCH_FORCE_WEIGHTS_ONLY_LOAD", "0").lower() in _TRUE_VALUES
    force_no = os.getenv("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "0").lower() in _TRUE_VALUES
    if force and force_no:
        raise RuntimeError("Only one of `TORCH_FORCE_WEIGHTS_ONLY_LOAD` or "
                           "`TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD` should be set, but both were set.")
    if force:
        return True
    if force_no and weights_only is None:
        warnings.warn("Environment variable TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD detected, since the"
                      "`weights_only` argument was not explicitly passed to `torch.load`, forcing "
                      "weights_only=False.", UserWarning, stacklevel=3)
        return False
    return weights_only


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
            raise RuntimeError(f"corrupt checkpoint: unknown byteorder {brief(byteorder)}")
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
        obj = _unpickle(_read_pickle(zf, prefix), len(data), loader)
    for kind in sorted(loader.widened):
        warnings.warn(f"plugrad.load: backend '{kind}' has no bfloat16; the checkpoint's "
                      "bfloat16 tensors are loaded as float32 holding exactly the same values",
                      UserWarning, stacklevel=3)
    return obj


def _read_pickle(zf, prefix):
    """``data.pkl``'s bytes; a compressed one may not inflate past the zip-bomb ratio (a 4.5
    KB file whose bzip2'd data.pkl declared a 6 GB string reached 5.7 GB)."""
    info = zf.getinfo(f"{prefix}data.pkl")
    limit = max(_INFLATE_FREE, _INFLATE_RATIO * info.compress_size)
    if info.compress_type != zipfile.ZIP_STORED and info.file_size > limit:
        raise RuntimeError(f"corrupt checkpoint: data.pkl is compressed and would inflate "
                           f"{info.compress_size} bytes to {info.file_size} (more than "
                           f"{_INFLATE_RATIO}x); torch.save stores it uncompressed")
    return _read_member(zf, info, info.file_size)


def _load_plain(data, map_location):
    """A bare pickle (not an archive): allowed only if it is plain data, never code."""
    mapper = None if map_location is None else \
        _ArchiveLoader(None, "", "little", map_location, 0)
    obj = _unpickle(data, len(data), None, mapper=mapper)
    if type(obj) is int and obj == _MAGIC:
        raise RuntimeError("this is a legacy torch checkpoint (saved with "
                           "_use_new_zipfile_serialization=False), which plugrad cannot read")
    return obj


def _unpickle(payload, file_size, loader, trusted=False, mapper=None):
    """Unpickle ``payload`` (from a file of ``file_size`` bytes) with the restricted,
    budgeted unpickler; every error a damaged file can cause is an UnpicklingError.
    ``mapper`` (an _ArchiveLoader) applies map_location to a bare pickle's tensors."""
    allowed = _allowed_globals()
    if trusted:    # weights_only=False: numpy's own globals, not the guarded ones
        allowed = {k: v for k, v in allowed.items() if not k.startswith("numpy.")}
    unpickler = RestrictedUnpickler(io.BytesIO(payload), file_size, allowed, _user_globals(),
                                    trusted)
    unpickler.persistent_load = loader.storage if loader is not None else _no_archive
    unpickler.mapper = mapper
    try:
        obj = unpickler.load()
    except pickle.UnpicklingError:
        raise
    except TypeError as err:
        if getattr(err, "_placement", False):   # a dtype the target device lacks: as is
            raise
        # REDUCE of a non-callable, a non-tuple argument list, a str where a number goes
        raise pickle.UnpicklingError(f"corrupt checkpoint: TypeError: {err}") from None
    except (EOFError, ValueError, struct.error, IndexError, KeyError, AttributeError,
            OverflowError, RecursionError) as err:
        raise pickle.UnpicklingError(f"corrupt or truncated checkpoint: {type(err).__name__}: "
                                     f"{err or 'unexpected end of data'}") from None
    if unpickler.pending:
        raise pickle.UnpicklingError(
            "Weights only load failed: the file holds numpy arrays or dtypes outside a "
            "tensor; plugrad.load (like torch.load) does not load numpy objects. If you "
            "trust its source, load with weights_only=False.")
    return obj


def _no_archive(pid):
    raise pickle.UnpicklingError("a persistent storage reference outside a checkpoint archive")


def _location(dev):
    return "cpu" if dev.type == "cpu" else f"{dev.type}:{dev.index or 0}"


def _load_full(data, map_location):
    """weights_only=False: torch's opt-in to unrestricted unpickling (runs file code); the
    same unpickler, resolving any global by import as plain pickle does."""
    if _is_archive(data):
        zf, prefix, byteorder = _open_archive(data)
        with zf:
            loader = _ArchiveLoader(zf, prefix, byteorder, map_location, len(data))
            return _unpickle(_read_pickle(zf, prefix), len(data), loader, trusted=True)
    return _unpickle(data, len(data), None, trusted=True)
