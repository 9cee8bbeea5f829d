"""``torch.accelerator``: the device-agnostic view of "the" accelerator.

plugrad's accelerator is the highest-priority available backend other than cpu (the registry's
order: cuda, then opencl, then third parties), so ``device = torch.accelerator.current_accelerator()``
picks ``opencl`` on a machine with an OpenCL device and no GPU.
"""
from __future__ import annotations

import contextlib

from ._device import best_accelerator, current_index, device, set_current_index, tensor_device


def is_available() -> bool:
    """Whether some accelerator backend is available."""
    return best_accelerator() != "cpu"


def current_accelerator(check_available: bool = False):
    """The accelerator's device type as a ``device`` (no index), or None when there is none."""
    kind = best_accelerator()
    return None if kind == "cpu" else device(kind)


def device_count() -> int:
    """Devices of the current accelerator (0 when there is none)."""
    kind = best_accelerator()
    if kind == "cpu":
        return 0
    from .plugins.registry import get_registry
    return get_registry().backend(kind).device_count()


def _kind() -> str:
    kind = best_accelerator()
    if kind == "cpu":
        raise RuntimeError("No available accelerator found")
    return kind


def current_device_index() -> int:
    return current_index(_kind())


current_device_idx = current_device_index


def set_device_index(device) -> None:  # noqa: A002 (torch's parameter name)
    kind = _kind()
    index = device.index if hasattr(device, "index") else int(device)
    if not 0 <= index < device_count():
        raise RuntimeError(f"device index {index} out of range: {kind} has {device_count()}")
    set_current_index(kind, index)


set_device_idx = set_device_index


def synchronize(device=None) -> None:  # noqa: A002
    """Wait for the accelerator's queued work (``device``: index or device, default current)."""
    kind = _kind()
    index = current_index(kind) if device is None else getattr(device, "index", device) or 0
    tensor_device(f"{kind}:{index}").ops.synchronize()


@contextlib.contextmanager
def device_index(device):  # noqa: A002
    """Make ``device`` (an index; None does nothing) current for a with-block."""
    if device is None:
        yield
        return
    kind = _kind()
    old = current_index(kind)
    set_device_index(device)
    try:
        yield
    finally:
        set_current_index(kind, old)
