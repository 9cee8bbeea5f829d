"""Dispatch tables: the per-op path from the frontend to a backend is one attribute lookup here.

A :class:`DispatchTable` exists per (backend, device index). Its attributes are the contract's
op names bound to plain callables. The registry fills a table once and refills the *same
object* whenever plugins change, so tensors that hold a table always see the current kernels.
No pluggy call ever happens on this path.
"""
from __future__ import annotations

import functools
import os
import threading
import warnings
from collections import Counter

from .contract import OPS
from .types import PluginError

_DEVICE_BOUND = {"empty", "full", "arange", "from_host", "synchronize"}


class DispatchTable:
    """Ops of one device. ``table.add(a, b)``; a missing optional kernel is ``None``."""

    def __init__(self, backend_name: str, index: int):
        self.backend_name = backend_name
        self.device_index = index
        self.native = frozenset()      # ops the backend or a kernel plugin implements itself
        self.overridden = {}           # op -> plugin name, for kernels supplied by plugins
        self.impl = None               # the backend object (for introspection and kits)

    def __repr__(self):
        return f"<DispatchTable {self.backend_name}:{self.device_index} ({len(self.native)} native ops)>"


class FallbackCounter:
    """Counts ops that ran on the cpu backend for lack of a native implementation."""

    def __init__(self):
        self.counts = Counter()
        self.warned = set()
        self.lock = threading.Lock()

    def hit(self, backend: str, op: str):
        with self.lock:
            self.counts[(backend, op)] += 1
            first = (backend, op) not in self.warned
            self.warned.add((backend, op))
        if first:
            warnings.warn(
                f"plugrad: backend '{backend}' does not implement '{op}'; it runs on the cpu "
                "backend with copies in and out (set PLUGRAD_STRICT_BACKEND=1 to make this an "
                "error)", RuntimeWarning, stacklevel=4)

    def report(self) -> dict:
        with self.lock:
            return {f"{b}.{op}": n for (b, op), n in sorted(self.counts.items())}


def strict_backend() -> bool:
    return os.environ.get("PLUGRAD_STRICT_BACKEND", "") not in ("", "0")


def make_fallback(op: str, backend_name: str, impl, index: int, cpu_table, counter):
    """Wrap the cpu backend's ``op`` so it runs on buffers of another backend.

    Buffers are copied to the host, the op runs on the cpu backend, results are copied back;
    for in-place ops (``returns == 'none'``) every buffer argument is written back.
    """
    spec = OPS[op]
    cpu_fn = getattr(cpu_table, op)

    def to_cpu(kind, value):
        if value is None or kind not in ("buf", "buf|scalar", "bufs", "opt_bufs", "opt_buf"):
            return value
        if kind in ("bufs", "opt_bufs"):
            return [to_cpu("opt_buf", v) for v in value]
        if isinstance(value, (bool, int, float)):
            return value
        return cpu_table.from_host(impl.to_host(value))

    def back(value):
        return impl.from_host(cpu_table.to_host(value), index)

    def fallback(*args, out=None):
        if strict_backend():
            raise RuntimeError(
                f"backend '{backend_name}' does not implement '{op}' and "
                "PLUGRAD_STRICT_BACKEND=1 forbids running it on the cpu backend")
        counter.hit(backend_name, op)
        kinds = spec.args + ("any",) * (len(args) - len(spec.args))
        moved = [to_cpu(k, a) for k, a in zip(kinds, args)]
        result = cpu_fn(*moved)
        if spec.returns == "none":
            for kind, orig, new in zip(kinds, args, moved):
                if kind in ("buf",) and orig is not None and not isinstance(orig, (int, float)):
                    impl.assign(orig, back(new))
                elif kind in ("bufs", "opt_bufs"):
                    for o, n in zip(orig, new):
                        if o is not None:
                            impl.assign(o, back(n))
            return None
        if spec.returns == "bufs":
            return tuple(back(r) for r in result)
        result = back(result)
        if out is not None:
            impl.assign(out, result)
            return out
        return result

    fallback.__name__ = f"cpu_fallback_{op}"
    fallback.__qualname__ = fallback.__name__
    return fallback


def fill_table(table: DispatchTable, impl, kernels: dict, cpu_table, counter):
    """(Re)fill ``table`` in place from a backend object and the plugin kernels for it.

    ``kernels`` maps op name to (fn, plugin_name). ``cpu_table`` is None when filling the cpu
    backend's own table (it falls back to nothing).
    """
    index = table.device_index
    guard = getattr(impl, "device_guard", None)
    guard = guard(index) if guard is not None else None
    native = set()
    overridden = {}
    missing_runtime = []
    for name, spec in OPS.items():
        fn = getattr(impl, name, None)
        if name in kernels:
            fn, plugin = kernels[name]
            overridden[name] = plugin
        if fn is None:
            if spec.tier == "runtime":
                missing_runtime.append(name)
                continue
            if spec.tier == "primitive" and cpu_table is not None:
                fn = make_fallback(name, table.backend_name, impl, index, cpu_table, counter)
            setattr(table, name, fn)
            continue
        native.add(name)
        if name in _DEVICE_BOUND:
            fn = functools.partial(fn, device=index)
        if guard is not None:
            fn = _guarded(fn, guard)
        setattr(table, name, fn)
    if missing_runtime:
        raise PluginError(
            f"backend '{table.backend_name}' lacks required runtime functions: "
            f"{', '.join(missing_runtime)} (see plugrad.plugins.contract.RUNTIME)")
    table.native = frozenset(native)
    table.overridden = overridden
    table.impl = impl
    supports = getattr(impl, "supports", None)
    table.supports = supports if supports is not None else (lambda op, dtype: op in table.native)


def _guarded(fn, guard_factory):
    """Run ``fn`` inside the backend's device context (multi-device backends, index > 0)."""
    @functools.wraps(fn)
    def run(*args, **kwargs):
        with guard_factory():
            return fn(*args, **kwargs)
    return run
