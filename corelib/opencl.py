"""``plugrad.opencl``: the OpenCL device API (availability, devices, synchronize).

Choose the platform with ``PLUGRAD_OPENCL_PLATFORM`` (an index or part of its name) before the
first OpenCL tensor is created.
"""
from __future__ import annotations

from .plugins.registry import get_registry

_NAME = "opencl"


def _entry():
    return get_registry().backend(_NAME)


def is_available() -> bool:
    try:
        return _entry().availability() is True and _entry().device_count() > 0
    except KeyError:
        return False


def unavailable_reason() -> str | None:
    try:
        reason = _entry().availability()
    except KeyError:
        return "no plugin provides the 'opencl' backend"
    return None if reason is True else reason


def device_count() -> int:
    return _entry().device_count() if is_available() else 0


def synchronize(device=None) -> None:
    if not is_available():
        raise RuntimeError(f"OpenCL is not available: {unavailable_reason()}")
    from ._device import tensor_device
    index = 0 if device is None else (device if isinstance(device, int) else device.index or 0)
    tensor_device(f"{_NAME}:{index}").ops.synchronize()


def devices() -> list:
    """One dict per OpenCL device plugrad can use: index, name, platform, fp64 support."""
    if not is_available():
        return []
    from importlib import import_module
    return import_module("plugrad.backends.opencl").list_devices()
