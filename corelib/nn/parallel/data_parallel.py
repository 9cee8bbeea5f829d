"""``nn.DataParallel`` on one device: the wrapper torch programs expect, without replicas.

torch splits each batch over ``device_ids`` and runs a replica per device. plugrad runs the
wrapped module once on the first device: the results and gradients equal torch's single-device
run, and the wrapper's surface (``.module``, ``module.``-prefixed ``state_dict`` keys) is torch's.
"""
from __future__ import annotations

import warnings

from ..modules.module import Module


def _default_ids():
    from ... import accelerator
    return list(range(accelerator.device_count())) if accelerator.is_available() else []


class DataParallel(Module):
    """Wraps ``module``; ``forward`` runs it on the first of ``device_ids`` (see module doc)."""

    def __init__(self, module, device_ids=None, output_device=None, dim=0):
        super().__init__()
        self.module = module
        self.device_ids = _default_ids() if device_ids is None else [
            getattr(d, "index", d) for d in device_ids]
        self.output_device = output_device if output_device is not None else (
            self.device_ids[0] if self.device_ids else None)
        self.dim = dim
        if device_ids is not None and len(self.device_ids) > 1:
            warnings.warn(f"DataParallel: plugrad runs the module on one device "
                          f"({self.device_ids[0]}), not split over {len(self.device_ids)}",
                          stacklevel=2)

    def forward(self, *inputs, **kwargs):
        return self.module(*inputs, **kwargs)


def data_parallel(module, inputs, device_ids=None, output_device=None, dim=0,
                  module_kwargs=None):
    """The functional form: ``module(*inputs, **module_kwargs)`` on one device."""
    if not isinstance(inputs, tuple):
        inputs = (inputs,) if inputs is not None else ()
    return module(*inputs, **(module_kwargs or {}))
