"""``plugrad.cuda``: the CUDA device API (device count, current device, memory, sync).

Everything asks the registry about the ``cuda`` backend; without CuPy or a GPU,
``is_available()`` is False and the other calls raise a RuntimeError saying why.
"""
from __future__ import annotations

from ._device import current_index, set_current_index
from .plugins.registry import get_registry

_NAME = "cuda"


def _entry():
    return get_registry().backend(_NAME)


def is_available() -> bool:
    try:
        return _entry().availability() is True and _entry().device_count() > 0
    except KeyError:
        return False


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


def device_count() -> int:
    return _entry().device_count() if is_available() else 0


def current_device() -> int:
    _require()
    return current_index(_NAME)


def set_device(device) -> None:
    _require()
    index = device if isinstance(device, int) else (getattr(device, "index", None) or 0)
    if not 0 <= index < device_count():
        raise RuntimeError(f"CUDA error: invalid device ordinal {index}")
    set_current_index(_NAME, index)


def _impl():
    from ._device import tensor_device
    return tensor_device(f"{_NAME}:{current_index(_NAME)}").ops


def synchronize(device=None) -> None:
    _require()
    index = current_index(_NAME) if device is None else (
        device if isinstance(device, int) else device.index or 0)
    from ._device import tensor_device
    tensor_device(f"{_NAME}:{index}").ops.synchronize()


def manual_seed(seed) -> None:
    """All devices draw from plugrad's one generator (torch's CPU stream), so this seeds it."""
    from ._generator import manual_seed as _seed
    _seed(seed)


manual_seed_all = manual_seed


def _memory(name, device=None):
    _require()
    impl = _impl().impl
    return getattr(impl, name)(device if isinstance(device, int) else current_index(_NAME))


def memory_allocated(device=None) -> int:
    return _memory("memory_allocated", device)


def max_memory_allocated(device=None) -> int:
    return _memory("max_memory_allocated", device)


def memory_reserved(device=None) -> int:
    return _memory("memory_reserved", device)


def reset_peak_memory_stats(device=None) -> None:
    _memory("reset_peak_memory_stats", device)


def empty_cache() -> None:
    if is_available():
        _impl().impl.empty_cache()


def get_device_name(device=None) -> str:
    _require()
    return _impl().impl.device_name(device if isinstance(device, int) else current_index(_NAME))
