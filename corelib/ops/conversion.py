"""Moving tensors between devices and dtypes: ``to``, ``cpu``, ``cuda``, ``float`` ...

A transfer between backends goes through the host (``to_host`` / ``from_host``); between
devices of one backend it uses the backend's ``transfer_to`` when it has one (a peer copy).
"""
from __future__ import annotations

from .. import _dtype as D
from .._device import device as _device_cls
from .._device import tensor_device
from .._tensor import Tensor, _from_buffer
from ..plugins.contract import capability
from ..autograd.node import Node
from ._graph import attach, edge, needs_grad


class ToCopyBackward0(Node):
    __slots__ = ("device", "dtype")

    def backward(self, g):
        if g._dtype.is_complex and not self.dtype.is_complex:
            g = g.real          # real -> complex cast: the real input gets the real part
        return (g.to(device=self.device, dtype=self.dtype),)


def _parse_to_args(self, args, kwargs):
    """torch's overloads: to(device), to(dtype), to(device, dtype), to(tensor), kwargs."""
    device = kwargs.pop("device", None)
    dtype = kwargs.pop("dtype", None)
    copy = kwargs.pop("copy", False)
    kwargs.pop("non_blocking", None)
    kwargs.pop("memory_format", None)
    if kwargs:
        raise TypeError(f"to() got an unexpected keyword argument '{next(iter(kwargs))}'")
    for a in args:
        if isinstance(a, D.dtype):
            dtype = a
        elif isinstance(a, Tensor):
            device, dtype = a._device, a._dtype
        elif isinstance(a, (str, _device_cls, int)) and not isinstance(a, bool):
            device = a
        elif isinstance(a, bool):
            continue
        elif a is None:
            continue
        else:
            raise TypeError(f"to() received an invalid combination of arguments - got "
                            f"({type(a).__name__})")
    return device, dtype, copy


def to(self, *args, **kwargs):
    """Return a tensor on the requested device/dtype; ``self`` when nothing changes."""
    fmt = kwargs.get("memory_format")
    if fmt is not None:
        from .._memory_format import to_format
        kwargs = {k: v for k, v in kwargs.items() if k != "memory_format"}
        return to_format(to(self, *args, **kwargs), fmt)
    device, dtype, copy = _parse_to_args(self, list(args), dict(kwargs))
    if isinstance(dtype, str):
        dtype = D.ALIASES.get(dtype) or D.from_name(dtype)
    target = tensor_device(device) if device is not None else self._device
    dt = dtype or self._dtype
    if target is self._device and dt is self._dtype and not copy:
        return self
    if self.is_sparse:
        from ..sparse.arith import to as sparse_to
        return sparse_to(self, target, dt, copy)
    data = self._data
    src = self._device
    if target is not src:
        data = _transfer(data, src, target)
    if dt is not self._dtype:
        ops = target.ops
        if dt.np is None and not ops.supports("cast", dt.name):
            raise TypeError(f"backend '{target.type}' does not support dtype {dt}")
        data = ops.cast(data, dt.name)
    elif target is src:
        data = src.ops.copy(data)
    out = _from_buffer(data, self._shape, dt, target)
    if needs_grad(self) and (dt.is_floating_point or dt.is_complex):
        node = ToCopyBackward0((edge(self),))
        node.device, node.dtype = src, self._dtype
        attach(out, node)
    return out


def _transfer(data, src, target):
    """Copy a buffer between devices (the only place data crosses backends)."""
    if src.type == target.type:
        direct = capability(src.ops.impl, "transfer_to")
        if direct is not None:
            return direct(data, target.index or 0)
    host = src.ops.to_host(data)
    return target.ops.from_host(host)


def cpu(self, memory_format=None):
    """This tensor on the cpu device (self itself when already there)."""
    return to(self, "cpu")


def cuda(self, device=None, non_blocking=False, memory_format=None):
    """This tensor on a cuda device (``device``: an index or a device; the current one when
    None)."""
    if device is None:
        return to(self, "cuda")
    if isinstance(device, int):
        return to(self, f"cuda:{device}")
    return to(self, device)


def _caster(dt):
    def cast(self, memory_format=None):
        return to(self, dt)
    cast.__name__ = dt.name
    cast.__doc__ = f"``self.to({dt!r})``"
    return cast


float_ = _caster(D.float32)
double = _caster(D.float64)
half = _caster(D.float16)
bfloat16 = _caster(D.bfloat16)
long = _caster(D.int64)
int_ = _caster(D.int32)
short = _caster(D.int16)
char = _caster(D.int8)
byte = _caster(D.uint8)
bool_ = _caster(D.bool_)


def type_as(self, other):
    """This tensor converted to other's dtype."""
    return to(self, other._dtype)
