"""``plugrad.cuda``: torch.cuda's device API (count, current device, memory, sync, seeding).

Everything asks the registry about the ``cuda`` backend; without CuPy or a GPU,
``is_available()`` is False, ``device_count()`` is 0, and the other calls raise a RuntimeError
saying why (torch raises there too).
"""
from __future__ import annotations

from dataclasses import dataclass

from ._device import current_index, set_current_index
from .plugins.registry import get_registry

_NAME = "cuda"

__all__ = ["is_available", "unavailable_reason", "device_count", "current_device", "set_device",
           "device", "synchronize", "manual_seed", "manual_seed_all", "seed", "seed_all",
           "initial_seed", "memory_allocated", "max_memory_allocated", "memory_reserved",
           "max_memory_reserved", "reset_peak_memory_stats", "empty_cache", "mem_get_info",
           "get_device_name", "get_device_capability", "get_device_properties", "is_initialized",
           "init"]


def _entry():
    return get_registry().backend(_NAME)


def is_available() -> bool:
    try:
        entry = _entry()
    except KeyError:
        return False
    return entry.availability() is True and entry.device_count() > 0


def unavailable_reason() -> str | None:
    """Why CUDA cannot be used here (None when it can)."""
    try:
        reason = _entry().availability()
    except KeyError:
        return "no plugin provides the 'cuda' backend"
    return None if reason is True else reason


def _require():
    reason = unavailable_reason()
    if reason is not None:
        raise RuntimeError(f"CUDA is not available: {reason}")
    return _entry()


def is_initialized() -> bool:
    """True once the cuda backend has been loaded (a tensor or call needed it)."""
    try:
        return _entry().impl is not None
    except KeyError:
        return False


def init() -> None:
    _impl()


def device_count() -> int:
    return _entry().device_count() if is_available() else 0


def _index(device, optional=True) -> int:
    """The ordinal meant by an int, 'cuda:N' string, plugrad.device or None (current)."""
    if device is None and optional:
        return current_index(_NAME)
    if isinstance(device, int) and not isinstance(device, bool):
        return device
    if isinstance(device, str):
        from ._device import device as device_cls
        device = device_cls(device)
    index = getattr(device, "index", None)
    if getattr(device, "type", _NAME) != _NAME:
        raise ValueError(f"Expected a cuda device, but got: {device}")
    return current_index(_NAME) if index is None else index


def current_device() -> int:
    _require()
    return current_index(_NAME)


def set_device(device) -> None:
    """Make ``device`` what 'cuda' means; a negative ordinal is a no-op, as in torch."""
    _require()
    index = _index(device, optional=False)
    if index < 0:
        return
    if index >= device_count():
        raise RuntimeError(f"CUDA error: invalid device ordinal {index}")
    set_current_index(_NAME, index)


class device:
    """Context manager that changes the current CUDA device (torch.cuda.device)."""

    def __init__(self, device):
        self.idx = _index(device, optional=False) if device is not None else -1
        self.prev_idx = -1

    def __enter__(self):
        if self.idx >= 0:
            self.prev_idx = current_device()
            set_device(self.idx)

    def __exit__(self, *exc):
        if self.prev_idx >= 0:
            set_device(self.prev_idx)
        return False


def _impl(index=None):
    _require()
    from ._device import tensor_device
    index = current_index(_NAME) if index is None else index
    return tensor_device(f"{_NAME}:{index}").ops.impl


def synchronize(device=None) -> None:
    """Wait for all queued work on the device (timings only count after this)."""
    index = _index(device)
    _impl(index).synchronize(index)


# One host generator feeds every device (so a seed gives torch's CPU stream on cpu, cuda and
# opencl alike); seeding "cuda" therefore seeds that generator, which torch.manual_seed also does.
def manual_seed(seed) -> None:
    from ._generator import manual_seed as _seed
    _seed(seed)


manual_seed_all = manual_seed


def seed() -> None:
    from . import _generator
    _generator.seed()


seed_all = seed


def initial_seed() -> int:
    from . import _generator
    return _generator.initial_seed()


# ------------------------------------------------------------------------------ memory
def memory_allocated(device=None) -> int:
    """Bytes held by live tensors on the device (CuPy pool blocks, 512-byte rounded)."""
    index = _index(device)
    return _impl(index).memory_allocated(index)


def max_memory_allocated(device=None) -> int:
    index = _index(device)
    return _impl(index).max_memory_allocated(index)


def memory_reserved(device=None) -> int:
    """Bytes the caching allocator holds, cached free blocks included."""
    index = _index(device)
    return _impl(index).memory_reserved(index)


def max_memory_reserved(device=None) -> int:
    return memory_reserved(device)


def reset_peak_memory_stats(device=None) -> None:
    index = _index(device)
    _impl(index).reset_peak_memory_stats(index)


def empty_cache() -> None:
    """Return cached blocks to the driver; a no-op when CUDA is unavailable, as in torch."""
    if is_available():
        _impl().empty_cache()


def mem_get_info(device=None) -> tuple:
    """(free, total) bytes of device memory."""
    index = _index(device)
    return tuple(_impl(index).mem_get_info(index))


# ---------------------------------------------------------------------------- properties
@dataclass(frozen=True)
class _CudaDeviceProperties:
    name: str
    major: int
    minor: int
    total_memory: int
    multi_processor_count: int

    def __repr__(self):
        return (f"_CudaDeviceProperties(name='{self.name}', major={self.major}, "
                f"minor={self.minor}, total_memory={self.total_memory // 2 ** 20}MB, "
                f"multi_processor_count={self.multi_processor_count})")


def get_device_properties(device=None) -> _CudaDeviceProperties:
    index = _index(device)
    return _CudaDeviceProperties(**_impl(index).device_properties(index))


def get_device_name(device=None) -> str:
    return get_device_properties(device).name


def get_device_capability(device=None) -> tuple:
    props = get_device_properties(device)
    return props.major, props.minor
