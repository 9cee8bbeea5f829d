"""``torch.backends.mkl``: whether MKL is the cpu backend's BLAS (numpy's build decides)."""
from __future__ import annotations


def is_available() -> bool:
    try:
        import numpy
        return "mkl" in str(numpy.show_config(mode="dicts")).lower()
    except Exception:  # noqa: BLE001  (old numpy without mode=; no MKL then either way)
        return False
