"""Device strings, parsed in exactly one place: 'cuda' -> ('cuda', None), 'opencl:1' -> ('opencl', 1).

Aliases ('gpu' for 'cuda', say) are declared by backends and resolved by the registry, which
is also where unknown names get their error listing what is available.
"""
from __future__ import annotations

import functools
import re

_DEVICE = re.compile(r"^([a-z][a-z0-9_]*)(?::(\d+))?$")


@functools.lru_cache(maxsize=256)
def parse_device(device: str) -> tuple[str, int | None]:
    """Split a device string into (type, index or None). RuntimeError on bad syntax."""
    if not isinstance(device, str):
        raise TypeError(f"device must be a string, got {type(device).__name__}")
    match = _DEVICE.match(device.strip())
    if match is None:
        raise RuntimeError(
            f"Invalid device string: '{device}'. Expected '<type>' or '<type>:<index>', "
            "e.g. 'cpu', 'cuda', 'cuda:1', 'opencl:0'")
    kind, index = match.groups()
    return kind, (int(index) if index is not None else None)
