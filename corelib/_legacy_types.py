"""Legacy tensor types: ``torch.LongTensor([1, 2])``, ``isinstance(t, torch.FloatTensor)``,
``t.type(torch.DoubleTensor)``.

Each is a class whose metaclass builds a tensor of its dtype on cpu, as torch's
``torch.tensortype`` does; ``isinstance`` is true for cpu tensors of that dtype.
"""
from __future__ import annotations

from . import _dtype as D
from ._tensor import Size, Tensor

_NAMES = {"Bool": D.bool_, "Byte": D.uint8, "Char": D.int8, "Short": D.int16, "Int": D.int32,
          "Long": D.int64, "Half": D.float16, "BFloat16": D.bfloat16, "Float": D.float32,
          "Double": D.float64}


def _is_size(args) -> bool:
    return all(isinstance(a, int) and not isinstance(a, bool) for a in args)


class tensortype(type):
    """The metaclass of the legacy types: calling one constructs a tensor of its dtype."""

    def __instancecheck__(cls, obj):
        return isinstance(obj, Tensor) and obj.dtype is cls.dtype and obj.device.type == "cpu"

    def __call__(cls, *args, device=None):
        from .ops import creation
        if device is not None and str(device) != "cpu":
            raise RuntimeError(f"legacy constructor expects device type: cpu but device type: "
                               f"{device} was passed")
        if not args:
            return creation.empty(0, dtype=cls.dtype)
        if len(args) == 1 and isinstance(args[0], Size):
            return creation.empty(*args[0], dtype=cls.dtype)
        if _is_size(args):
            return creation.empty(*args, dtype=cls.dtype)
        if len(args) == 1:
            data = args[0]
            if isinstance(data, Tensor):
                if data.dtype is not cls.dtype:
                    raise TypeError(f"expected {cls.__name__[:-6].lower()} tensor "
                                    f"(got {data.dtype})")
                return data
            if isinstance(data, str):
                raise TypeError("new(): invalid data type 'str'")
            return creation.tensor(data, dtype=cls.dtype)
        raise TypeError(f"new() received an invalid combination of arguments - got "
                        f"({', '.join(type(a).__name__ for a in args)})")


def _make_type(prefix: str, dt) -> tensortype:
    cls = tensortype(f"{prefix}Tensor", (), {"dtype": dt, "is_cuda": False,
                                            "__module__": "torch"})
    return cls


LEGACY_TYPES = {f"{p}Tensor": _make_type(p, dt) for p, dt in _NAMES.items()}
_BY_QUALNAME = {f"torch.{name}": cls for name, cls in LEGACY_TYPES.items()}


def resolve_type(spec):
    """The dtype that ``Tensor.type(spec)`` means: a dtype, a legacy class or its name."""
    if isinstance(spec, D.dtype):
        return spec
    if isinstance(spec, tensortype):
        return spec.dtype
    if isinstance(spec, str):
        cls = _BY_QUALNAME.get(spec)
        if cls is not None:
            return cls.dtype
        raise ValueError(f"invalid type: '{spec}'")
    raise TypeError(f"type() argument must be a dtype, a tensor type or its name, got "
                    f"{type(spec).__name__}")
