"""``torch.autograd.profiler``: the legacy profiler API over :mod:`plugrad.profiler`."""
from __future__ import annotations

from ..profiler import EventList, profile as _profile, record_function  # noqa: F401

__all__ = ["profile", "record_function", "EventList"]


class profile(_profile):
    """``with torch.autograd.profiler.profile() as prof`` (``enabled=False`` records nothing)."""

    def __init__(self, enabled=True, *, use_cuda=False, use_device=None, record_shapes=False,
                 with_flops=False, profile_memory=False, with_stack=False, with_modules=False,
                 use_kineto=False, use_cpu=True, experimental_config=None, acc_events=False,
                 custom_trace_id_callback=None):
        super().__init__(record_shapes=record_shapes)
        self.enabled = enabled

    def __enter__(self):
        return super().__enter__() if self.enabled else self

    def __exit__(self, *exc):
        if self.enabled:
            super().__exit__(*exc)
        return False

    def table(self, **kwargs):
        return self.key_averages().table(**kwargs)

    def total_average(self):
        return self.key_averages().total_average()
