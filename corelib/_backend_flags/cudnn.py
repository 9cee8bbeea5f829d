"""``torch.backends.cudnn``: plugrad does not use cuDNN, so it is never available; the flags
keep torch's defaults and accept the values programs set (``cudnn.benchmark = True``)."""
from __future__ import annotations

from . import install, set_flags

enabled = True
benchmark = False
benchmark_limit = 10
deterministic = False
allow_tf32 = True


def is_available() -> bool:
    return False


def version():
    return None


def is_acceptable(tensor) -> bool:
    return False


def flags(enabled=False, benchmark=False, benchmark_limit=10, deterministic=False,
          allow_tf32=True, fp32_precision="none", depthwise_kernel="auto"):
    """Set the cuDNN flags for a with-block (torch's signature and defaults)."""
    import sys
    return set_flags(sys.modules[__name__], enabled=enabled, benchmark=benchmark,
                     benchmark_limit=benchmark_limit, deterministic=deterministic,
                     allow_tf32=allow_tf32)


install(__name__, {"enabled": "set_enabled_cudnn", "benchmark": "set_benchmark_cudnn",
                   "deterministic": "set_deterministic_cudnn",
                   "allow_tf32": "set_allow_tf32_cudnn"})
