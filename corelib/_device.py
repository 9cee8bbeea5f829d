"""``plugrad.device``: PyTorch's device object, backed by the registry's dispatch tables.

Devices are interned: one object per (type, index), so the per-op device check is ``is``.
A tensor's device always carries ``ops``, its dispatch table (resolved on first use).
"""
from __future__ import annotations

from .plugins.registry import get_registry

_CACHE: dict = {}


class device:
    """A device: ``device('cuda:1')``, ``device('cuda', 1)``, ``device('cpu')``."""
    __slots__ = ("type", "index", "ops", "host_memory", "__weakref__")

    def __new__(cls, type_or_str, index=None):
        if isinstance(type_or_str, device):
            if index is not None:
                raise ValueError("device(): index given twice")
            return type_or_str
        if isinstance(type_or_str, int) and not isinstance(type_or_str, bool):
            # torch.device(0) means the first accelerator: plugrad picks the best available
            type_or_str, index = best_accelerator(), type_or_str
        key = (type_or_str, index)
        hit = _CACHE.get(key)
        if hit is not None:
            return hit
        kind, parsed = get_registry().canonical(type_or_str)
        if index is not None and parsed is not None:
            raise RuntimeError(f"type (string) must not include an index because index was "
                               f"passed explicitly: {type_or_str}")
        if index is not None and (not isinstance(index, int) or index < 0):
            raise RuntimeError(f"Device index must not be negative, got {index}")
        idx = parsed if parsed is not None else index
        canon = (kind, idx)
        obj = _CACHE.get(canon)
        if obj is None:
            obj = object.__new__(cls)
            obj.type, obj.index, obj.ops, obj.host_memory = kind, idx, None, False
            _CACHE[canon] = obj
        _CACHE[key] = obj
        return obj

    def __repr__(self):
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other):
        return isinstance(other, device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self):
        return hash((self.type, self.index))

    def __reduce__(self):
        return (device, (str(self),))

    def __enter__(self):
        # torch: `with torch.device('opencl'):` makes it the default device for factories
        _default_stack.append(_default[0])
        set_default_device(self)
        return self

    def __exit__(self, *exc):
        _default[0] = _default_stack.pop()
        return False


# the device factory functions use when given none (torch.set_default_device); None = cpu
_default: list = [None]
_default_stack: list = []


def set_default_device(spec) -> None:
    """``torch.set_default_device``: where factories put tensors when no device is given."""
    _default[0] = None if spec is None else tensor_device(spec)


def get_default_device() -> device:
    """``torch.get_default_device``."""
    return _default[0] if _default[0] is not None else device("cpu")


def tensor_device(spec) -> device:
    """The canonical device a tensor lives on (index filled in), with its ops resolved.

    Raises RuntimeError when the backend is unknown or unavailable (with the reason).
    """
    if spec is None:
        return _default[0] or CPU()
    dev = spec if isinstance(spec, device) else device(spec)
    if dev.ops is not None:
        return dev
    if dev.type == "cpu":
        if dev.index not in (None, 0):
            raise RuntimeError(f"device 'cpu:{dev.index}' does not exist: cpu has one device")
        if dev.index is not None:
            return CPU()
    elif dev.index is None:
        return tensor_device(device(dev.type, current_index(dev.type)))
    registry = get_registry()
    dev.ops = registry.table(dev.type, dev.index)
    dev.host_memory = registry.backend(dev.type).spec.host_memory
    for hook in table_hooks:
        hook(dev.ops)
    return dev


# called with each device's dispatch table when the device is first resolved (the profiler
# wraps tables of devices first used while it records)
table_hooks: list = []


_cpu = None
_current: dict = {}


def current_index(kind: str) -> int:
    """The index 'cuda' (no index) means: 0 unless changed by ``set_device``."""
    return _current.get(kind, 0)


def set_current_index(kind: str, index: int) -> None:
    _current[kind] = index


def CPU() -> device:
    global _cpu
    if _cpu is None:
        _cpu = tensor_device(device("cpu"))
    return _cpu


def best_accelerator() -> str:
    """The highest-priority available backend other than cpu, else 'cpu'."""
    for entry in get_registry().entries():
        if entry.name != "cpu" and entry.availability() is True and entry.device_count() > 0:
            return entry.name
    return "cpu"
