"""``torch.profiler``: time a program's backend primitives and ``record_function`` ranges.

``with profile() as prof: ...`` then ``prof.key_averages().table(sort_by="cpu_time_total")``
prints torch's table. Events are plugrad's backend primitives (``cpu::matmul``), not aten ops:
see :mod:`._recorder` for how they are collected and what device timings mean.
"""
from __future__ import annotations

import enum
import functools
import json
import os
import socket
import time

from ._recorder import Recorder, current
from ._table import EventList, FunctionEventAvg, format_time, key_averages  # noqa: F401

__all__ = ["profile", "record_function", "ProfilerActivity", "ProfilerAction", "schedule",
           "tensorboard_trace_handler", "supported_activities"]


class ProfilerActivity(enum.Enum):
    CPU = 0
    CUDA = 2
    XPU = 3
    MTIA = 4
    PrivateUse1 = 5


def supported_activities():
    return {ProfilerActivity.CPU}


class ProfilerAction(enum.Enum):
    NONE = 0
    WARMUP = 1
    RECORD = 2
    RECORD_AND_SAVE = 3


def schedule(*, wait: int, warmup: int, active: int, repeat: int = 0, skip_first: int = 0,
             skip_first_wait: int = 0):
    """torch's step schedule: skip_first, then cycles of wait, warmup, active (repeat times)."""
    if wait < 0 or warmup < 0 or active <= 0 or repeat < 0 or skip_first < 0:
        raise AssertionError("Invalid profiler schedule arguments")

    def action(step: int) -> ProfilerAction:
        if step < skip_first:
            return ProfilerAction.NONE
        step -= skip_first
        cycle = wait + warmup + active
        if repeat > 0 and step // cycle >= repeat:
            return ProfilerAction.NONE
        pos = step % cycle
        if pos < wait:
            return ProfilerAction.NONE
        if pos < wait + warmup:
            return ProfilerAction.WARMUP
        return ProfilerAction.RECORD if pos < cycle - 1 else ProfilerAction.RECORD_AND_SAVE
    return action


def _always(step):
    return ProfilerAction.RECORD


class record_function:
    """Label a region: a context manager or decorator that adds a range event when profiling."""

    def __init__(self, name: str, args=None):
        self.name, self.args, self._event, self._rec = name, args, None, None

    def __enter__(self):
        self._rec = current()
        if self._rec is not None:
            self._event = self._rec.open(self.name)
        return self

    def __exit__(self, *exc):
        if self._event is not None:
            self._rec.close(self._event)
            self._event = None
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapped(*args, **kwargs):
            with record_function(self.name):
                return fn(*args, **kwargs)
        return wrapped


class profile:
    """torch.profiler.profile: records while active steps run (all of them without schedule)."""

    def __init__(self, *, activities=None, schedule=None, on_trace_ready=None, record_shapes=False,
                 profile_memory=False, with_stack=False, with_flops=False, with_modules=False,
                 experimental_config=None, execution_trace_observer=None, acc_events=False,
                 use_cuda=None, custom_trace_id_callback=None, post_processing_timeout_s=None):
        self.activities = set(activities) if activities is not None else supported_activities()
        self.schedule = schedule or _always
        self.on_trace_ready, self.record_shapes = on_trace_ready, record_shapes
        self.step_num, self._rec, self._events = 0, None, []

    # ------------------------------------------------------------------ lifecycle
    def start(self):
        self._begin_step()
        return self

    def stop(self):
        self._end_recording(save=self.schedule is _always or
                            self.schedule(self.step_num) == ProfilerAction.RECORD_AND_SAVE)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False

    def step(self):
        """Mark a training step's end (schedule-driven profiling)."""
        action = self.schedule(self.step_num)
        if self.schedule is not _always and action != ProfilerAction.RECORD:
            self._end_recording(save=action == ProfilerAction.RECORD_AND_SAVE)
        self.step_num += 1
        self._begin_step()

    def _begin_step(self):
        action = self.schedule(self.step_num)
        if action in (ProfilerAction.RECORD, ProfilerAction.RECORD_AND_SAVE) and self._rec is None:
            self._events = [] if self.schedule is not _always or not self._events else self._events
            self._rec = Recorder(self.record_shapes)
            self._rec.start()

    def _end_recording(self, save):
        if self._rec is None:
            return
        self._rec.stop()
        self._events = self._events + self._rec.events
        self._rec = None
        if save and self.on_trace_ready is not None:
            self.on_trace_ready(self)

    # ------------------------------------------------------------------ results
    def events(self):
        return EventList(self._events)

    def key_averages(self, group_by_input_shape=False, group_by_stack_n=0,
                     group_by_overload_name=False):
        return key_averages(self._events, group_by_input_shape)

    def export_chrome_trace(self, path):
        """Chrome's trace-event JSON (open in chrome://tracing or Perfetto)."""
        t0 = min((e.start for e in self._events), default=0.0)
        trace = {"traceEvents": [
            {"name": e.name, "ph": "X", "cat": "cpu_op", "pid": os.getpid(), "tid": e.thread,
             "ts": (e.start - t0) * 1e6, "dur": e.cpu_time_total}
            for e in self._events]}
        with open(path, "w") as f:
            json.dump(trace, f)


def tensorboard_trace_handler(dir_name, worker_name=None, use_gzip=False):
    """An ``on_trace_ready`` that writes a chrome trace into ``dir_name`` per saved cycle."""
    def handler(prof):
        os.makedirs(dir_name, exist_ok=True)
        name = worker_name or f"{socket.gethostname()}_{os.getpid()}"
        prof.export_chrome_trace(os.path.join(
            dir_name, f"{name}.{time.time_ns() // 1000000}.pt.trace.json"))
    return handler
