"""Counting kernel launches, for benchmarks and tests (``plugrad.compile``'s opencl target
is stated in launches per step).

Off by default and free when off: :func:`count_launches` wraps pyopencl's ``Kernel.__call__``
only inside its ``with`` block, so every launch site of the backend is counted without a
counter on the op path.
"""
from __future__ import annotations

import contextlib
import threading
from collections import Counter

import pyopencl as cl

_lock = threading.Lock()
_active = []


@contextlib.contextmanager
def count_launches():
    """``with count_launches() as c:`` -- c is a Counter of kernel launches by kernel name,
    from every thread, while the block runs (nested blocks each count their own)."""
    counter = Counter()
    with _lock:
        if not _active:
            original = cl.Kernel.__call__

            def counted(kernel, *args, **kwargs):
                name = kernel.function_name
                for c in _active:
                    c[name] += 1
                return original(kernel, *args, **kwargs)
            counted.original = original
            cl.Kernel.__call__ = counted
        _active.append(counter)
    try:
        yield counter
    finally:
        with _lock:
            _active.remove(counter)
            if not _active:
                cl.Kernel.__call__ = cl.Kernel.__call__.original
