"""``torch.backends.cpu``."""
from __future__ import annotations


def get_cpu_capability() -> str:
    """torch reports the SIMD level its kernels use; plugrad's cpu kernels are numpy's."""
    return "DEFAULT"
