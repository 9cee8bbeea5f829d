"""Process-wide settings torch exposes as functions: threads, determinism, matmul precision.

Threads are applied to the cpu backend's BLAS/OpenMP pools through ``threadpoolctl`` when it is
installed (numpy's pools are the cpu backend's only threads); without it the value is recorded.
plugrad's kernels are deterministic on cpu and opencl, so the determinism switch only records the
mode for ``are_deterministic_algorithms_enabled`` (torch's cpu kernels behave the same way).
"""
from __future__ import annotations

import os

_state = {"threads": None, "interop": None, "deterministic": False, "warn_only": False,
          "precision": "highest"}
_limiter = []


def _default_threads() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def get_num_threads() -> int:
    """``torch.get_num_threads``: threads used for intra-op parallelism on cpu."""
    return _state["threads"] or _default_threads()


def set_num_threads(int) -> None:  # noqa: A002  (torch's parameter name)
    """``torch.set_num_threads``: limit the cpu backend's BLAS/OpenMP threads."""
    n = int
    if not isinstance(n, type(1)) or isinstance(n, bool) or n <= 0:
        raise RuntimeError("set_num_threads expects a positive integer")
    _state["threads"] = n
    try:
        import threadpoolctl
    except ImportError:
        return
    _limiter.clear()
    _limiter.append(threadpoolctl.threadpool_limits(limits=n))


def get_num_interop_threads() -> int:
    """The number of inter-op threads (the set value, else the default thread count)."""
    return _state["interop"] or _default_threads()


def set_num_interop_threads(int) -> None:  # noqa: A002
    """Set the inter-op thread count once, before any parallel work (RuntimeError after)."""
    n = int
    if not isinstance(n, type(1)) or isinstance(n, bool) or n <= 0:
        raise RuntimeError("set_num_interop_threads expects a positive integer")
    if _state["interop"] is not None:
        raise RuntimeError("Error: cannot set number of interop threads after parallel work "
                           "has started or set_num_interop_threads called")
    _state["interop"] = n


def use_deterministic_algorithms(mode, *, warn_only=False) -> None:
    """``torch.use_deterministic_algorithms``."""
    if not isinstance(mode, bool):
        raise TypeError(f"_set_deterministic_algorithms(): argument 'mode' (position 1) must be "
                        f"bool, not {type(mode).__name__}")
    _state["deterministic"], _state["warn_only"] = mode, bool(warn_only)


def are_deterministic_algorithms_enabled() -> bool:
    """True if ``use_deterministic_algorithms(True)`` is in effect."""
    return _state["deterministic"]


def is_deterministic_algorithms_warn_only_enabled() -> bool:
    """True if deterministic mode was set with ``warn_only=True``."""
    return _state["warn_only"]


def set_deterministic_debug_mode(debug_mode) -> None:
    """0/'default', 1/'warn', 2/'error' as torch's."""
    names = {"default": 0, "warn": 1, "error": 2}
    if isinstance(debug_mode, str):
        if debug_mode not in names:
            raise RuntimeError(f"invalid value of debug_mode, expected one of `default`, `warn`, "
                               f"`error`, but got {debug_mode}")
        debug_mode = names[debug_mode]
    if debug_mode not in (0, 1, 2):
        raise RuntimeError(f"invalid value of debug_mode, expected 0, 1, or 2, but got "
                           f"{debug_mode}")
    use_deterministic_algorithms(debug_mode > 0, warn_only=debug_mode == 1)


def get_deterministic_debug_mode() -> int:
    """0 (default), 1 (warn) or 2 (error): the deterministic mode as a debug level."""
    if not _state["deterministic"]:
        return 0
    return 1 if _state["warn_only"] else 2


def set_float32_matmul_precision(precision: str) -> None:
    """'highest', 'high' or 'medium'; ``torch.backends.cuda.matmul.allow_tf32`` reads this.

    plugrad's matmuls compute in full float32 on every backend whatever the setting (a TF32
    kernel would be the cuda backend's to add); the value is kept so programs read back theirs.
    """
    import warnings
    if precision not in ("highest", "high", "medium"):
        warnings.warn(f"{precision} is not one of 'highest', 'high', or 'medium'; the current"
                      f"setFloat32MatmulPrecision call has no effect.")
        return
    _state["precision"] = precision


def get_float32_matmul_precision() -> str:
    """The value last given to :func:`set_float32_matmul_precision` ('highest' by default)."""
    return _state["precision"]
