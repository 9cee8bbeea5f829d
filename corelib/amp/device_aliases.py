"""The deprecated per-device spellings: ``torch.cuda.amp`` and ``torch.cpu.amp``.

Each module carries ``autocast`` and ``GradScaler`` fixed to its device type (with torch's
FutureWarning), and is registered so ``import torch.cuda.amp`` works.
"""
from __future__ import annotations

import sys
import types
import warnings

from .autocast_mode import autocast as _autocast
from .grad_scaler import GradScaler as _GradScaler


def _module(device: str, parent: str) -> types.ModuleType:
    mod = types.ModuleType(f"{parent}.amp", f"torch.{device}.amp (deprecated spelling)")

    class autocast(_autocast):
        def __init__(self, enabled=True, dtype=None, cache_enabled=True):
            warnings.warn(f"`torch.{device}.amp.autocast(args...)` is deprecated. Please use "
                          f"`torch.amp.autocast('{device}', args...)` instead.", FutureWarning,
                          stacklevel=2)
            kw = {} if dtype is None else {"dtype": dtype}
            super().__init__(device, enabled=enabled, cache_enabled=cache_enabled, **kw)

    class GradScaler(_GradScaler):
        def __init__(self, init_scale=2.0 ** 16, growth_factor=2.0, backoff_factor=0.5,
                     growth_interval=2000, enabled=True):
            warnings.warn(f"`torch.{device}.amp.GradScaler(args...)` is deprecated. Please use "
                          f"`torch.amp.GradScaler('{device}', args...)` instead.", FutureWarning,
                          stacklevel=2)
            super().__init__(device, init_scale, growth_factor, backoff_factor, growth_interval,
                             enabled)

    mod.autocast, mod.GradScaler = autocast, GradScaler
    sys.modules[mod.__name__] = mod
    return mod


def install(cuda_module, cpu_module) -> None:
    """Bind ``amp`` on plugrad.cuda and plugrad.cpu (and register the module names)."""
    cuda_module.amp = _module("cuda", cuda_module.__name__)
    cpu_module.amp = _module("cpu", cpu_module.__name__)
