"""``torch.cpu``: the cpu device module (``torch.cpu.amp`` is bound by plugrad.amp)."""
from __future__ import annotations


def is_available() -> bool:
    return True


def device_count() -> int:
    return 1


def current_device() -> str:
    return "cpu"


def synchronize(device=None) -> None:
    """cpu ops finish before they return: nothing is queued."""
