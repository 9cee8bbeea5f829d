"""``torch.backends.cuda``: ``matmul`` precision flags and the scaled-dot-product-attention
kernel switches. plugrad's attention has one (math) implementation on every backend; the
switches are kept so programs can set and read them."""
from __future__ import annotations

import contextlib

from .. import _runtime_settings


class cuBLASModule:
    """``torch.backends.cuda.matmul``: ``allow_tf32`` mirrors ``torch.get_float32_matmul_precision``."""

    _BOOL = ("allow_fp16_reduced_precision_reduction", "allow_bf16_reduced_precision_reduction",
             "allow_fp16_accumulation")

    def __init__(self):
        object.__setattr__(self, "_values", {n: n != "allow_fp16_accumulation"
                                             for n in self._BOOL})

    def __getattr__(self, name):
        if name == "allow_tf32":
            return _runtime_settings.get_float32_matmul_precision() != "highest"
        if name in self._BOOL:
            return self._values[name]
        raise AttributeError(f"Unknown attribute {name}")

    def __setattr__(self, name, value):
        if name not in self._BOOL and name != "allow_tf32":
            raise AttributeError(f"Unknown attribute {name}")
        if not isinstance(value, bool):
            raise RuntimeError(f"set_{name}_cublas expects a bool, but got "
                               f"{type(value).__name__}")
        if name == "allow_tf32":
            _runtime_settings.set_float32_matmul_precision("high" if value else "highest")
        else:
            self._values[name] = value


matmul = cuBLASModule()
_sdp = {"flash": True, "mem_efficient": True, "math": True, "cudnn": True}


def is_built() -> bool:
    """Whether torch was built with CUDA: for plugrad, whether the cuda backend can load."""
    from .. import cuda
    return cuda.is_available()


def flash_sdp_enabled() -> bool:
    return _sdp["flash"]


def mem_efficient_sdp_enabled() -> bool:
    return _sdp["mem_efficient"]


def math_sdp_enabled() -> bool:
    return _sdp["math"]


def cudnn_sdp_enabled() -> bool:
    return _sdp["cudnn"]


def enable_flash_sdp(enabled: bool) -> None:
    _sdp["flash"] = bool(enabled)


def enable_mem_efficient_sdp(enabled: bool) -> None:
    _sdp["mem_efficient"] = bool(enabled)


def enable_math_sdp(enabled: bool) -> None:
    _sdp["math"] = bool(enabled)


def enable_cudnn_sdp(enabled: bool) -> None:
    _sdp["cudnn"] = bool(enabled)


@contextlib.contextmanager
def sdp_kernel(enable_flash=True, enable_math=True, enable_mem_efficient=True,
               enable_cudnn=True):
    """Set the attention kernel switches for a with-block (deprecated in torch, still used)."""
    old = dict(_sdp)
    _sdp.update(flash=enable_flash, math=enable_math, mem_efficient=enable_mem_efficient,
                cudnn=enable_cudnn)
    try:
        yield
    finally:
        _sdp.update(old)


def preferred_linalg_library(backend=None):
    return "default"
