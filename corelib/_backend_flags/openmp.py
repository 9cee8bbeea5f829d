"""``torch.backends.openmp``: plugrad itself runs no OpenMP regions."""
from __future__ import annotations


def is_available() -> bool:
    return False
