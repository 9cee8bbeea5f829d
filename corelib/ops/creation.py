"""Tensor creation: from data, filled, ranges, identity, random; plus ``*_like``/``new_*``.

Host data (Python lists, numpy arrays, random draws) is staged as a numpy array and uploaded
with the backend's ``from_host``; on the cpu backend (numpy buffers) an array plugrad just
built is used directly instead of being copied again.
"""
from __future__ import annotations

import math
import numbers
from typing import Sequence, Union

import numpy

from .. import _dtype as D
from .. import _generator
from .._device import device as Device
from .._device import tensor_device
from .._host_array import _upload, from_host_array  # noqa: F401  (re-exported)
from .._tensor import Size, Tensor, _from_buffer

_INT64_MAX = 2 ** 63 - 1

DeviceLike = Union[str, int, Device, None]
"""A device argument: ``'cpu'``, ``'cuda:1'``, an index, or a device object."""


def _size_args(args, size) -> tuple:
    """The shape of ``zeros(2, 3)``, ``zeros((2, 3))`` or ``zeros(size=(2, 3))`` (torch takes
    the keyword too: pytorch/examples gat calls ``torch.empty(size=(...))``)."""
    if size is None:
        return _shape_arg(args)
    if args:
        raise TypeError("empty() received an invalid combination of arguments: the size was "
                        "given both positionally and as size=")
    return _shape_arg((size,))


def _shape_arg(size) -> tuple:
    """zeros(2, 3), zeros((2, 3)), zeros([2, 3]), zeros(torch.Size(...)) -> (2, 3)."""
    if len(size) == 1 and isinstance(size[0], (list, tuple)):
        size = tuple(size[0])
    shape = []
    for s in size:
        if isinstance(s, Tensor):
            s = int(s)
        if not isinstance(s, numbers.Integral) or isinstance(s, bool):
            raise TypeError(f"empty(): argument 'size' must be tuple of ints, but found element "
                            f"of type {type(s).__name__}")
        if s < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: "
                               f"{list(size)}")
        shape.append(int(s))
    return tuple(shape)


# -------------------------------------------------------------------------- from data

def _infer_from_python(data):
    """numpy array for nested Python data, with torch's dtype inference."""
    try:
        arr = numpy.array(data)
    except ValueError as exc:
        raise ValueError(_ragged_message(data)) from exc
    except OverflowError:
        raise RuntimeError("Overflow when unpacking long") from None
    if arr.dtype == object:
        if _has_tensors(data):
            return _from_tensor_list(data)
        raise ValueError(_ragged_message(data))
    kind = arr.dtype.kind
    if kind in "US":
        raise TypeError(f"new(): invalid data type '{arr.dtype.name[:3]}'")
    if kind == "b":
        return arr, D.bool_
    if kind in "iu":
        if arr.dtype == numpy.uint64:
            raise RuntimeError("Overflow when unpacking long")
        return arr.astype(numpy.int64, copy=False), D.int64
    if kind == "f":
        if not isinstance(data, numpy.ndarray) and not _has_numpy_floats(data):
            return arr, D.get_default_dtype()
        return arr, D.from_numpy(arr.dtype)
    if kind == "c":
        if not isinstance(data, numpy.ndarray) and not _has_numpy_floats(data):
            dt = D.get_default_dtype().to_complex()     # Python complex: the default's
            return arr.astype(dt.np, copy=False), dt
        return arr, D.from_numpy(arr.dtype)
    raise TypeError(f"new(): invalid data type '{arr.dtype}'")


def _has_numpy_floats(data):
    return isinstance(data, numpy.generic)


def _has_tensors(data):
    if isinstance(data, Tensor):
        return True
    if isinstance(data, (list, tuple)):
        return any(_has_tensors(d) for d in data)
    return False


def _from_tensor_list(data):
    def convert(d):
        if isinstance(d, Tensor):
            if d.numel() != 1 or d.ndim:
                if d.ndim == 0:
                    return d.item()
                raise ValueError("only one element tensors can be converted to Python scalars")
            return d.item()
        if isinstance(d, (list, tuple)):
            return [convert(x) for x in d]
        return d
    return _infer_from_python(convert(data))


def _ragged_message(data):
    def walk(d, depth):
        if not isinstance(d, (list, tuple)):
            return None
        lengths = [len(x) if isinstance(x, (list, tuple)) else None for x in d]
        first = lengths[0] if lengths else None
        for x, n in zip(d, lengths):
            if n != first:
                return f"expected sequence of length {first} at dim {depth + 1} (got {n})"
        for x in d:
            msg = walk(x, depth + 1)
            if msg:
                return msg
        return None
    return walk(data, 0) or "could not convert data to a tensor"


def tensor(data, *, dtype=None, device=None, requires_grad=False, pin_memory=False):
    """A new tensor copying ``data`` (nested lists, numbers, numpy arrays, tensors)."""
    if isinstance(data, Tensor):
        import warnings
        warnings.warn("To copy construct from a tensor, it is recommended to use "
                      "sourceTensor.detach().clone() or sourceTensor.detach().clone()."
                      "requires_grad_(True), rather than torch.tensor(sourceTensor).",
                      UserWarning, stacklevel=2)
        out = data.detach().clone().to(device=device if device is not None else data._device,
                                       dtype=dtype or data._dtype)
        if requires_grad:
            out.requires_grad_(True)
        return out
    if isinstance(data, (numpy.ndarray, numpy.generic)):
        arr, inferred = numpy.array(data, copy=True), D.from_numpy(data.dtype)
    else:
        arr, inferred = _infer_from_python(data)
    dt = dtype if dtype is not None else inferred
    dt = _check_dtype(dt)
    if dt.np is None:
        t = from_host_array(arr.astype(numpy.float32), D.float32, device)
        t = t.to(dt)
    else:
        t = from_host_array(arr.astype(dt.np, copy=False), dt, device, owned=True)
    if requires_grad:
        t.requires_grad_(True)
    return t


_PYTHON_TYPES = {float: D.float64, int: D.int64, bool: D.bool_}


def _check_dtype(dt):
    """A factory's ``dtype`` argument: None or a plugrad dtype. torch takes no strings or
    numpy dtypes there (``zeros(2, dtype="float32")`` is a TypeError), so neither do we."""
    if dt is None or isinstance(dt, D.dtype):
        return dt
    python_type = _PYTHON_TYPES.get(dt) if isinstance(dt, type) else None
    if python_type is not None:                 # torch takes float, int and bool
        return python_type
    raise TypeError(f"argument 'dtype' must be torch.dtype, not {type(dt).__name__}")


def as_tensor(data, dtype=None, device=None):
    """Like ``tensor`` but shares memory with ``data`` when no conversion is needed."""
    if isinstance(data, Tensor):
        return data.to(device=device if device is not None else data._device,
                       dtype=dtype or data._dtype)
    dtype = _check_dtype(dtype)
    if isinstance(data, numpy.ndarray) and (device is None or str(device) == "cpu"):
        dt = D.from_numpy(data.dtype)
        if dtype is None or dtype is dt:
            return from_numpy(data)
    return tensor(data, dtype=dtype, device=device)


asarray = as_tensor


def from_numpy(ndarray):
    """A cpu tensor sharing memory with ``ndarray``."""
    if not isinstance(ndarray, numpy.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(ndarray).__name__})")
    dt = D.from_numpy(ndarray.dtype)
    dev = tensor_device("cpu")
    return _from_buffer(_upload(ndarray, dev, owned=True), tuple(ndarray.shape), dt, dev)


def from_dlpack(ext_tensor):
    """Import a DLPack-capable array (numpy, cupy, torch, ...) or a DLPack capsule without
    copying where possible."""
    if isinstance(ext_tensor, Tensor):
        return ext_tensor
    from .._dlpack import CapsuleSource, is_capsule, writable_legacy_import
    if is_capsule(ext_tensor):
        ext_tensor = CapsuleSource(ext_tensor)
    if not hasattr(ext_tensor, "__dlpack_device__"):
        raise RuntimeError(f"from_dlpack: expected an object with __dlpack__ or a DLPack "
                           f"capsule, got {type(ext_tensor).__name__}")
    device_type, device_id = ext_tensor.__dlpack_device__()
    if device_type == 1:  # kDLCPU
        return from_numpy(writable_legacy_import(numpy.from_dlpack(ext_tensor), ext_tensor))
    if device_type == 2:  # kDLCUDA: the cuda backend imports it (the frontend never sees cupy)
        dev = tensor_device(f"cuda:{device_id}")
        arr = dev.ops.impl.from_dlpack(ext_tensor)
        return _from_buffer(arr, tuple(arr.shape), D.from_numpy(arr.dtype), dev)
    raise RuntimeError(f"from_dlpack: unsupported DLPack device type {device_type}")

# -------------------------------------------------------------------------- filled


def _factory_dtype(dtype):
    return _check_dtype(dtype) or D.get_default_dtype()


def allocate(make, shape, dtype):
    """``make()`` a buffer of ``shape``; torch's RuntimeErrors for a size that overflows or
    memory that cannot be had (numpy's MemoryError / 'array is too big' leaked before)."""
    nbytes = dtype.itemsize
    for n in shape:
        nbytes *= n
    if nbytes > _INT64_MAX:
        raise RuntimeError(f"Storage size calculation overflowed with sizes={list(shape)}")
    try:
        return make()
    except MemoryError:
        raise RuntimeError(f"DefaultCPUAllocator: can't allocate memory: you tried to allocate "
                           f"{nbytes} bytes. Error code 12 (Cannot allocate memory)") from None


def _filled(shape, value, dtype, device, requires_grad):
    dev = tensor_device(device)
    if dtype.np is None and not dev.ops.supports("full", dtype.name):
        raise TypeError(f"backend '{dev.type}' does not support dtype {dtype}")
    data = allocate(lambda: dev.ops.full(shape, value, dtype.name), shape, dtype)
    t = _from_buffer(data, shape, dtype, dev)
    if requires_grad:
        t.requires_grad_(True)
    return t


def zeros(*args: int | Sequence[int], size: Sequence[int] | None = None,
          out: Tensor | None = None, dtype: D.dtype | None = None,
          layout=None, device: DeviceLike = None, requires_grad: bool = False,
          pin_memory: bool = False) -> Tensor:
    """A tensor of the given shape filled with 0.

    ``size`` is ints or one sequence of ints (``zeros(2, 3)`` or ``zeros((2, 3))``). ``dtype``
    defaults to ``get_default_dtype()`` (float32); ``device`` to cpu; ``requires_grad=True``
    makes the result a leaf that autograd records. ``out=`` writes into an existing tensor.
    ``layout`` and ``pin_memory`` are accepted for torch compatibility.

    >>> torch.zeros(2, 3, dtype=torch.int64)
    tensor([[0, 0, 0],
            [0, 0, 0]])
    """
    dt = _factory_dtype(dtype)
    return _result(_filled(_size_args(args, size), _fill(0, dt), dt, device, requires_grad),
                   out)


def ones(*args: int | Sequence[int], size: Sequence[int] | None = None,
         out: Tensor | None = None, dtype: D.dtype | None = None,
         layout=None, device: DeviceLike = None, requires_grad: bool = False,
         pin_memory: bool = False) -> Tensor:
    """A tensor of the given shape filled with 1.

    ``size`` is ints or one sequence of ints (``zeros(2, 3)`` or ``zeros((2, 3))``). ``dtype``
    defaults to ``get_default_dtype()`` (float32); ``device`` to cpu; ``requires_grad=True``
    makes the result a leaf that autograd records. ``out=`` writes into an existing tensor.
    ``layout`` and ``pin_memory`` are accepted for torch compatibility.
    """
    dt = _factory_dtype(dtype)
    return _result(_filled(_size_args(args, size), _fill(1, dt), dt, device, requires_grad),
                   out)


def empty(*args: int | Sequence[int], size: Sequence[int] | None = None,
          out: Tensor | None = None, dtype: D.dtype | None = None,
          layout=None, device: DeviceLike = None, requires_grad: bool = False,
          pin_memory: bool = False, memory_format=None) -> Tensor:
    """A tensor of the given shape whose values are whatever the memory held (uninitialised).

    ``size`` is ints or one sequence of ints (``zeros(2, 3)`` or ``zeros((2, 3))``). ``dtype``
    defaults to ``get_default_dtype()`` (float32); ``device`` to cpu; ``requires_grad=True``
    makes the result a leaf that autograd records. ``out=`` writes into an existing tensor.
    ``layout`` and ``pin_memory`` are accepted for torch compatibility.
    """
    dt = _factory_dtype(dtype)
    dev = tensor_device(device)
    shape = _size_args(args, size)
    t = _from_buffer(allocate(lambda: dev.ops.empty(shape, dt.name), shape, dt), shape, dt, dev)
    if requires_grad:
        t.requires_grad_(True)
    return _result(t, out)


def full(size: Sequence[int], fill_value: bool | int | float | Tensor, *,
         out: Tensor | None = None, dtype: D.dtype | None = None, layout=None,
         device: DeviceLike = None, requires_grad: bool = False) -> Tensor:
    """A tensor of shape ``size`` filled with ``fill_value``.

    Without ``dtype`` the dtype follows the value as torch infers it: bool, int64, or the
    default float dtype.
    """
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    _check_number(fill_value, "full")
    if dtype is None:
        dt = D.scalar_dtype(fill_value)
        if dt.is_floating_point:
            dt = D.get_default_dtype()
        elif dt.is_complex:
            dt = D.get_default_dtype().to_complex()
    else:
        dt = _check_dtype(dtype)
    shape = _shape_arg((size,) if not isinstance(size, (list, tuple)) else (tuple(size),))
    return _result(_filled(shape, _fill(fill_value, dt), dt, device, requires_grad), out)


def _check_number(value, fn):
    """torch's TypeError for a fill value that is no number (numpy scalars are numbers)."""
    if isinstance(value, (str, bytes, list, tuple, dict, type(None))):
        raise TypeError(f"{fn}(): argument 'fill_value' (position 2) must be Number, not "
                        f"{type(value).__name__}")


def _fill(value, dt, fn="full"):
    if isinstance(value, Tensor):
        value = value.item()
    _check_number(value, fn)
    if dt.is_floating_point:
        return float(value)
    if dt.is_complex:
        return complex(value)
    if dt is D.bool_:
        return bool(value)
    return int(value)


def _result(t, out):
    """Write a factory's result into ``out=``, resized (silently, as torch's factories do)
    and converted to out's dtype."""
    if out is None:
        return t
    if not isinstance(out, Tensor):
        raise TypeError(f"argument 'out' must be Tensor, not {type(out).__name__}")
    if out._shape != t._shape:
        out.resize_(t._shape)
    return out.copy_(t)


def _like(input, dtype, device):
    return (_check_dtype(dtype) or input._dtype,
            device if device is not None else input._device)


def zeros_like(input: Tensor, *, dtype: D.dtype | None = None, layout=None,
               device: DeviceLike = None, requires_grad: bool = False,
               memory_format=None) -> Tensor:
    """Zeros with ``input``'s shape.

    ``dtype`` and ``device`` default to ``input``'s; ``requires_grad=True`` makes the
    result a leaf that autograd records.
    """
    dt, dev = _like(input, dtype, device)
    return _filled(input._shape, _fill(0, dt), dt, dev, requires_grad)


def ones_like(input: Tensor, *, dtype: D.dtype | None = None, layout=None,
              device: DeviceLike = None, requires_grad: bool = False,
              memory_format=None) -> Tensor:
    """Ones with ``input``'s shape.

    ``dtype`` and ``device`` default to ``input``'s; ``requires_grad=True`` makes the
    result a leaf that autograd records.
    """
    dt, dev = _like(input, dtype, device)
    return _filled(input._shape, _fill(1, dt), dt, dev, requires_grad)


def full_like(input: Tensor, fill_value: bool | int | float, *, dtype: D.dtype | None = None,
              layout=None, device: DeviceLike = None, requires_grad: bool = False,
              memory_format=None) -> Tensor:
    """``fill_value`` everywhere, with ``input``'s shape.

    ``dtype`` and ``device`` default to ``input``'s; ``requires_grad=True`` makes the
    result a leaf that autograd records.
    """
    dt, dev = _like(input, dtype, device)
    return _filled(input._shape, _fill(fill_value, dt, "full_like"), dt, dev, requires_grad)


def empty_like(input: Tensor, *, dtype: D.dtype | None = None, layout=None,
               device: DeviceLike = None, requires_grad: bool = False,
               memory_format=None) -> Tensor:
    """An uninitialised tensor with ``input``'s shape.

    ``dtype`` and ``device`` default to ``input``'s; ``requires_grad=True`` makes the
    result a leaf that autograd records.
    """
    dt, dev = _like(input, dtype, device)
    return empty(input._shape, dtype=dt, device=dev, requires_grad=requires_grad)


def _new_kwargs(self, dtype, device):
    return (_check_dtype(dtype) or self._dtype, device if device is not None else self._device)


def new_zeros(self, *size, dtype=None, device=None, requires_grad=False, layout=None,
              pin_memory=False):
    """A tensor of zeros of the given size, with self's dtype and device unless given."""
    dt, dev = _new_kwargs(self, dtype, device)
    return _filled(_shape_arg(size), _fill(0, dt), dt, dev, requires_grad)


def new_ones(self, *size, dtype=None, device=None, requires_grad=False, layout=None,
             pin_memory=False):
    """A tensor of ones of the given size, with self's dtype and device unless given."""
    dt, dev = _new_kwargs(self, dtype, device)
    return _filled(_shape_arg(size), _fill(1, dt), dt, dev, requires_grad)


def new_full(self, size, fill_value, *, dtype=None, device=None, requires_grad=False,
             layout=None, pin_memory=False):
    """A tensor of the given size filled with fill_value, with self's dtype and device unless
    given."""
    dt, dev = _new_kwargs(self, dtype, device)
    return _filled(_shape_arg((size,) if not isinstance(size, (list, tuple)) else (size,)),
                   _fill(fill_value, dt), dt, dev, requires_grad)


def new_empty(self, *size, dtype=None, device=None, requires_grad=False, layout=None,
              pin_memory=False):
    """An uninitialised tensor of the given size, with self's dtype and device unless given."""
    dt, dev = _new_kwargs(self, dtype, device)
    return empty(_shape_arg(size), dtype=dt, device=dev, requires_grad=requires_grad)


def new_tensor(self, data, *, dtype=None, device=None, requires_grad=False, layout=None,
               pin_memory=False):
    """A new tensor copied from data, with self's dtype and device unless given."""
    dt, dev = _new_kwargs(self, dtype, device)
    if isinstance(data, Tensor):
        return data.detach().clone().to(device=dev, dtype=dt).requires_grad_(requires_grad)
    return tensor(data, dtype=dt, device=dev, requires_grad=requires_grad)


def legacy_tensor(*args, device=None):
    """torch.Tensor(...): sizes give an uninitialised tensor, data gives a float copy."""
    dt = D.get_default_dtype()
    if not args:
        return empty(0, dtype=dt, device=device)
    if len(args) == 1 and not isinstance(args[0], (int, Size)) and not (
            isinstance(args[0], tuple) and all(isinstance(a, int) for a in args[0])):
        if isinstance(args[0], Tensor):
            return args[0]
        return tensor(args[0], dtype=dt, device=device)
    return empty(*args, dtype=dt, device=device)

# --------------------------------------------------------------------------- ranges


def arange(start, end=None, step=1, *, out=None, dtype=None, layout=None, device=None,
           requires_grad=False):
    """Values start, start+step, ... < end; int64 unless any bound is a float (as torch)."""
    if end is None:
        start, end = 0, start
    values = [v.item() if isinstance(v, Tensor) else v for v in (start, end, step)]
    start, end, step = values
    if dtype is None:
        dt = D.get_default_dtype() if any(isinstance(v, float) for v in values) else D.int64
    else:
        dt = _check_dtype(dtype)
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if not all(math.isfinite(float(v)) for v in values):
        raise RuntimeError(f"unsupported range: {start} -> {end}")
    if (end - start) * step < 0 and end != start:
        raise RuntimeError("upper bound and larger bound inconsistent with step sign")
    n = max(0, math.ceil((float(end) - float(start)) / float(step))) if dt.is_floating_point \
        or any(isinstance(v, float) for v in values) else max(0, -((start - end) // step))
    dev = tensor_device(device)
    data = dev.ops.arange(start, step, n, dt.name)
    t = _from_buffer(data, (n,), dt, dev)
    if requires_grad:
        t.requires_grad_(True)
    return _result(t, out)


def range_(start, end, step=1, *, dtype=None, device=None, requires_grad=False):
    """torch.range (deprecated): includes ``end``."""
    dt = _check_dtype(dtype) or D.get_default_dtype()
    n = int(math.floor((end - start) / step)) + 1
    dev = tensor_device(device)
    return _from_buffer(dev.ops.arange(start, step, max(n, 0), dt.name), (max(n, 0),), dt, dev)


def linspace(start, end, steps, *, out=None, dtype=None, layout=None, device=None,
             requires_grad=False):
    """``steps`` evenly spaced values, bit-identical to torch's CPU kernel for float32.

    torch computes ``start + step * i`` for the first half and ``end - step * (steps - i - 1)``
    for the second, with a fused multiply-add and ``step`` rounded to the dtype; the product
    and sum are exact in float64 here, and rounding them once to float32 gives the same
    values. float64 results can differ from torch's fused rounding by one ulp.
    """
    dt = _check_dtype(dtype) or D.get_default_dtype()
    if not isinstance(steps, numbers.Integral) or isinstance(steps, bool):
        raise TypeError(f"linspace(): argument 'steps' must be int, not {type(steps).__name__}")
    if steps < 0:
        raise RuntimeError("linspace(): number of steps must be non-negative")
    start = start.item() if isinstance(start, Tensor) else start
    end = end.item() if isinstance(end, Tensor) else end
    dev = tensor_device(device)
    ops = dev.ops
    if steps <= 1:
        t = _filled((steps,), _fill(start, dt), dt, dev, False)
    else:
        s64, e64, step = _linspace_step(start, end, steps, dt)
        j = ops.arange(0, 1, steps, "float64")
        low = ops.add(ops.mul(j, step), s64)
        high = ops.add(ops.mul(ops.sub(float(steps - 1), j), -step), e64)
        values = ops.where(ops.lt(j, float(steps // 2)), low, high)
        if not dt.is_floating_point:
            values = ops.trunc(values)      # C's conversion truncates toward zero
        t = _from_buffer(ops.cast(values, dt.name), (steps,), dt, dev)
    if requires_grad:
        t.requires_grad_(True)
    return _result(t, out)


def _linspace_step(start, end, steps, dt):
    """(start, end, step) as torch's kernel holds them: start/end in the dtype, step in the
    dtype for floats (double for integers)."""
    if dt.is_floating_point:
        cast = numpy.dtype(dt.name if dt.np is not None else "float32").type
        s, e = cast(start), cast(end)
        step = cast((e - s) / cast(steps - 1))
        return float(s), float(e), float(step)
    s, e = float(int(start)), float(int(end))
    return s, e, (e - s) / (steps - 1)


def logspace(start: float, end: float, steps: int, base: float = 10.0, *,
             dtype: D.dtype | None = None, device: DeviceLike = None,
             requires_grad: bool = False) -> Tensor:
    """``steps`` values ``base ** x`` for x evenly spaced from ``start`` to ``end``."""
    dt = _check_dtype(dtype) or D.get_default_dtype()
    from .binary import pow
    return pow(float(base), linspace(start, end, steps, dtype=D.float64, device=device)).to(dt)


def eye(n: int, m: int | None = None, *, out: Tensor | None = None,
        dtype: D.dtype | None = None, layout=None, device: DeviceLike = None,
        requires_grad: bool = False) -> Tensor:
    """The ``n`` x ``m`` (default ``n`` x ``n``) matrix with ones on the diagonal."""
    dt = _check_dtype(dtype) or D.get_default_dtype()
    m = n if m is None else m
    for pos, (name, v) in enumerate((("n", n), ("m", m))):
        if not isinstance(v, numbers.Integral) or isinstance(v, bool):
            raise TypeError(f"eye(): argument '{name}' (position {pos + 1}) must be int, not "
                            f"{type(v).__name__}")
        if v < 0:
            raise RuntimeError(f"{name} must be greater or equal to 0, got {v}")
    rows = arange(n, device=device).unsqueeze(1)
    cols = arange(m, device=device).unsqueeze(0)
    t = (rows == cols).to(dt)
    if requires_grad:
        t.requires_grad_(True)
    return _result(t, out)

def tril_indices(row, col, offset=0, *, dtype=None, device=None, layout=None):
    """The (2, n) coordinates of the lower triangle of a row x col matrix, row-major."""
    return _tri_indices(row, col, offset, dtype, device, lower=True)


def triu_indices(row: int, col: int, offset: int = 0, *, dtype: D.dtype | None = None,
                 device: DeviceLike = None, layout=None) -> Tensor:
    """The (2, N) row and column indices of the upper triangle of a ``row`` x ``col`` matrix,
    from diagonal ``offset`` on (int64 unless ``dtype`` says otherwise)."""
    return _tri_indices(row, col, offset, dtype, device, lower=False)


def _tri_indices(row, col, offset, dtype, device, lower):
    r = arange(row, device=device).unsqueeze(1)
    c = arange(col, device=device).unsqueeze(0)
    mask = (c - r <= offset) if lower else (c - r >= offset)
    coords = mask.nonzero().t().contiguous()
    dt = _check_dtype(dtype) or D.int64
    return coords if dt is D.int64 else coords.to(dt)

# --------------------------------------------------------------------------- random


def _random(method, shape, dt, device, requires_grad, generator, *args):
    # made on the device when its backend has mt19937_generate, else drawn and uploaded
    t = _generator.resolve(generator).generate(tensor_device(device), method, shape, dt, *args)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _complex_random(method, shape, dt, device, requires_grad, generator, *args):
    """A complex tensor whose (real, imag) pairs are draws of its real dtype, in torch's
    order (torch fills ``view_as_real`` of the result), so the stream matches torch's."""
    from .complex_ops import view_as_complex
    pairs = _random(method, tuple(shape) + (2,), dt.to_real(), device, False, generator, *args)
    t = view_as_complex(pairs)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _float_dtype(dtype, name, complex_ok=False):
    dt = _check_dtype(dtype) or D.get_default_dtype()
    if complex_ok and dt.is_complex:
        return dt
    if not dt.is_floating_point:
        raise NotImplementedError(f"\"{name}\" not implemented for '{D.legacy_name(dt)}'")
    return dt


def rand(*size, generator=None, out=None, dtype=None, layout=None, device=None,
         requires_grad=False, pin_memory=False):
    """Uniform [0, 1): the same numbers as torch.rand on the CPU for the same seed."""
    dt = _float_dtype(dtype, "check_uniform_bounds", complex_ok=True)
    shape = _shape_arg(size)
    if dt.is_complex:       # torch: U[0, 1) real and imaginary parts, drawn as pairs
        return _result(_complex_random("uniform", shape, dt, device, requires_grad, generator,
                                       0.0, 1.0), out)
    return _result(_random("uniform", shape, dt, device, requires_grad, generator, 0.0, 1.0),
                   out)


def randn(*size, generator=None, out=None, dtype=None, layout=None, device=None,
          requires_grad=False, pin_memory=False):
    """Standard normal: the same numbers as torch.randn on the CPU for the same seed."""
    dt = _float_dtype(dtype, "normal_kernel_cpu", complex_ok=True)
    shape = _shape_arg(size)
    if dt.is_complex:       # torch: real and imaginary parts N(0, 1/2), drawn as pairs
        return _result(_complex_random("normal", shape, dt, device, requires_grad, generator,
                                       0.0, 1 / math.sqrt(2)), out)
    return _result(_random("normal", shape, dt, device, requires_grad, generator, 0.0, 1.0), out)


def randint(low: int = 0, high: int | None = None, size: Sequence[int] | None = None, *,
            generator=None, out: Tensor | None = None, dtype: D.dtype | None = None,
            layout=None, device: DeviceLike = None, requires_grad: bool = False) -> Tensor:
    """Integers drawn uniformly from [``low``, ``high``) (``randint(high, size)`` also works),
    int64 by default: the same numbers as torch.randint on the CPU for the same seed."""
    if size is None:
        if isinstance(high, (tuple, list)):
            low, high, size = 0, low, high
        else:
            raise TypeError("randint() missing required argument 'size'")
    if high is None:
        low, high = 0, low
    if not isinstance(size, (tuple, list, Size)):
        raise TypeError(f"randint(): argument 'size' (position {2 if low == 0 else 3}) must be "
                        f"tuple of ints, not {type(size).__name__}")
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= "
                           f"to={high}")
    dt = _check_dtype(dtype) or D.int64
    gen = _generator.resolve(generator)
    shape = _shape_arg((size,))
    t = gen.generate(tensor_device(device), "randint", shape, dt, int(low), int(high))
    if requires_grad:
        t.requires_grad_(True)
    return _result(t, out)


def randperm(n: int, *, generator=None, out: Tensor | None = None,
             dtype: D.dtype | None = None, layout=None, device: DeviceLike = None,
             requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    """A random permutation of 0 .. n-1 (int64): torch's CPU permutation for the same seed."""
    if n < 0:
        raise RuntimeError(f"n must be non-negative, got{n}")
    dt = _check_dtype(dtype) or D.int64
    gen = _generator.resolve(generator)
    array = gen.draw("randperm", int(n), dt.name)
    return _result(from_host_array(array, dt, device), out)


def rand_like(input: Tensor, *, dtype: D.dtype | None = None, layout=None,
              device: DeviceLike = None, requires_grad: bool = False,
              memory_format=None) -> Tensor:
    """Uniform [0, 1) values with ``input``'s shape (see :func:`rand`).

    ``dtype`` and ``device`` default to ``input``'s; ``requires_grad=True`` makes the
    result a leaf that autograd records.
    """
    dt, dev = _like(input, dtype, device)
    return rand(input._shape, dtype=dt, device=dev, requires_grad=requires_grad)


def randn_like(input: Tensor, *, dtype: D.dtype | None = None, layout=None,
               device: DeviceLike = None, requires_grad: bool = False,
               memory_format=None) -> Tensor:
    """Standard normal values with ``input``'s shape (see :func:`randn`).

    ``dtype`` and ``device`` default to ``input``'s; ``requires_grad=True`` makes the
    result a leaf that autograd records.
    """
    dt, dev = _like(input, dtype, device)
    return randn(input._shape, dtype=dt, device=dev, requires_grad=requires_grad)


def randint_like(input: Tensor, low: int = 0, high: int | None = None, *,
                 dtype: D.dtype | None = None, layout=None, device: DeviceLike = None,
                 requires_grad: bool = False, memory_format=None) -> Tensor:
    """Integers from [``low``, ``high``) with ``input``'s shape (see :func:`randint`)."""
    dt, dev = _like(input, dtype, device)
    return randint(low, high, input._shape, dtype=dt, device=dev)


def bernoulli(input, p=None, *, generator=None, out=None):
    """Draw 0/1 with probabilities ``input`` (or a scalar ``p``), torch's CPU stream."""
    gen = _generator.resolve(generator)
    if p is not None:
        return _result(gen.generate(input._device, "bernoulli", input._shape, input._dtype,
                                    float(p)), out)
    probs = input.detach().cpu()._host()   # tensor p: drawn on the host
    array = gen.draw("bernoulli", probs, input._shape, input._dtype.name)
    return _result(from_host_array(array, input._dtype, input._device), out)


def normal(mean: float | Tensor, std: float | Tensor = 1.0, size: Sequence[int] | None = None,
           *, generator=None, out: Tensor | None = None, dtype: D.dtype | None = None,
           device: DeviceLike = None, requires_grad: bool = False) -> Tensor:
    """Normal samples with the given ``mean`` and ``std`` (numbers with ``size``, or tensors
    broadcast together): torch's CPU stream for the same seed."""
    if isinstance(mean, Tensor) or isinstance(std, Tensor):
        m = mean if isinstance(mean, Tensor) else None
        s = std if isinstance(std, Tensor) else None
        like = m if m is not None else s
        if s is not None and s.numel() and not bool((s >= 0).all()):
            raise RuntimeError("normal expects all elements of std >= 0.0")
        noise = randn(like._shape, generator=generator, dtype=like._dtype, device=like._device)
        return _result(noise * std + mean, out)
    # two numbers: torch's normal(double, double, size) is empty(size).normal_(mean, std),
    # whose fma rounds once (randn * std + mean rounded twice, in half for float16)
    dt = _float_dtype(dtype, "normal_kernel_cpu")
    return _result(_random("normal", _shape_arg((size,)), dt, device, requires_grad, generator,
                           float(mean), float(std)), out)


def multinomial(input, num_samples, replacement=False, *, generator=None):
    """Sample category indices; without replacement torch's own stream (see below)."""
    if input.numel() and not bool((input >= 0).logical_and(input.isfinite()).all()):
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    if not replacement and num_samples > input._shape[-1]:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without "
                           "replacement")
    if not replacement or num_samples == 1:
        # torch's CPU kernel: an exponential race, top-k of p / q with q ~ Exp(1) drawn in
        # input's dtype -- the same draws, so the same indices as torch for the same seed
        # (torch races for one sample with replacement too)
        if bool((input.sum(-1) == 0).any()):
            raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
        if not replacement and bool(((input > 0).sum(-1) < num_samples).any()):
            raise RuntimeError("invalid multinomial distribution (with replacement=False, not "
                               "enough non-negative category to sample)")
        q = input / empty_like(input).exponential_(1, generator=generator)
        if num_samples == 1:
            return q.argmax(-1, keepdim=True)
        return q.topk(num_samples).indices
    # with replacement: one float64 uniform per draw, row after row (torch's order), each
    # placed in the row's cumulative sum
    probs = input if input.ndim == 2 else input.unsqueeze(0)
    cdf = probs.double().cumsum(-1)
    total = cdf[:, -1:]
    if bool((total <= 0).any()):
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    u = rand(probs._shape[0], num_samples, generator=generator, dtype=D.float64,
             device=input._device) * total
    k = (cdf.unsqueeze(1) <= u.unsqueeze(-1)).sum(-1).clamp(max=probs._shape[-1] - 1)
    return k if input.ndim == 2 else k[0]
