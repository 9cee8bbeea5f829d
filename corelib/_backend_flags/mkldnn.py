"""``torch.backends.mkldnn``: plugrad's cpu backend uses numpy's BLAS, not oneDNN."""
from __future__ import annotations

from . import install, set_flags

enabled = True
deterministic = False


def is_available() -> bool:
    return False


def flags(enabled=False, deterministic=False):
    import sys
    return set_flags(sys.modules[__name__], enabled=enabled, deterministic=deterministic)


install(__name__, {"enabled": "set_enabled_mkldnn", "deterministic": "set_deterministic_mkldnn"})
