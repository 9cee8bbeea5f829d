"""Timing every backend primitive while a profiler is active.

Every op reaches its backend through a device's dispatch table, so the recorder wraps the
tables' functions (as ``testing.compare_backends`` tracing does) for the profiler's lifetime
and restores them after: the normal per-op path is never wrapped. Events are primitive calls,
named ``<backend>::<op>`` (``cpu::matmul``), and ``record_function`` ranges; a range's self
time excludes the primitives and ranges inside it. Device backends may queue work: their
events time the call (launch), not the kernel, unless the program synchronizes.
"""
from __future__ import annotations

import threading
import time

from ..plugins.contract import OPS

_UNTIMED = {"device_count", "synchronize"}
_active = []              # the recording Recorder, at most one (torch: one profiler at a time)


class Event:
    """One timed interval: a primitive call or a ``record_function`` range."""
    __slots__ = ("name", "start", "end", "children_time", "shapes", "thread", "depth")

    def __init__(self, name, start, shapes=None, depth=0):
        self.name, self.start, self.end = name, start, None
        self.children_time, self.shapes = 0.0, shapes
        self.thread, self.depth = threading.get_ident(), depth

    @property
    def cpu_time_total(self) -> float:
        """Microseconds, as torch reports."""
        return (self.end - self.start) * 1e6

    @property
    def self_cpu_time_total(self) -> float:
        return self.cpu_time_total - self.children_time * 1e6


class Recorder:
    """Collects events from wrapped dispatch tables and open ranges."""

    def __init__(self, record_shapes=False):
        self.events, self.record_shapes = [], record_shapes
        self._stack = threading.local()
        self._saved = []

    def stack(self):
        s = getattr(self._stack, "s", None)
        if s is None:
            s = self._stack.s = []
        return s

    def open(self, name, shapes=None):
        stack = self.stack()
        ev = Event(name, time.perf_counter(), shapes, len(stack))
        stack.append(ev)
        return ev

    def close(self, ev):
        ev.end = time.perf_counter()
        stack = self.stack()
        if stack and stack[-1] is ev:
            stack.pop()
        if stack:
            stack[-1].children_time += ev.end - ev.start
        self.events.append(ev)

    # ------------------------------------------------------------------ table wrapping
    def start(self):
        from .._device import _CACHE, table_hooks
        for d in list(_CACHE.values()):
            if d.ops is not None:
                self._wrap(d.ops)
        table_hooks.append(self._wrap)
        _active.append(self)

    def _wrap(self, table):
        if any(t is table for t, _, _ in self._saved):
            return
        for name in OPS:
            fn = getattr(table, name, None)
            if fn is None or name in _UNTIMED:
                continue
            self._saved.append((table, name, fn))
            setattr(table, name, self._timed(f"{table.backend_name}::{name}", fn))

    def stop(self):
        from .._device import table_hooks
        if self._wrap in table_hooks:
            table_hooks.remove(self._wrap)
        for table, name, fn in self._saved:
            setattr(table, name, fn)
        self._saved.clear()
        if self in _active:
            _active.remove(self)

    def _timed(self, label, fn):
        shapes = self.record_shapes

        def timed(*args, **kwargs):
            ev = self.open(label, [list(getattr(a, "shape", ())) for a in args
                                   if hasattr(a, "shape")] if shapes else None)
            try:
                return fn(*args, **kwargs)
            finally:
                self.close(ev)
        return timed


def current():
    return _active[-1] if _active else None
