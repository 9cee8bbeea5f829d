"""Dispatch tables: the per-op path from the frontend to a backend is one attribute lookup here.

A :class:`DispatchTable` exists per (backend, device index). Its attributes are the contract's
op names bound to plain callables. The registry fills a table once and refills the *same
object* whenever plugins change, so tensors that hold a table always see the current kernels.
No pluggy call ever happens on this path, and nothing wraps a backend's own op unless a debug
mode (``PLUGRAD_DEBUG_KERNELS=1``) or :func:`plugrad.testing.compare_backends` tracing asks for
it; a kernel supplied by a plugin is wrapped in a cheap result check (not None, shape, dtype:
:func:`plugrad.plugins.checks.checked`).
"""
from __future__ import annotations

import functools
import os
import sys
import threading
import warnings
from collections import Counter

from .contract import (INDEX_OPS, OPS, RUNTIME, capability, signature_problem,
                       signature_problems)
from .contract.derived import derive
from .host_storage import ALIASING, COMPLEX_ONLY, HostBuffer, host_mover, refused_dtypes, routed
from .writeback import wrap_if_immutable
from .types import PluginError


class FallbackWarning(RuntimeWarning):
    """An op ran on the cpu backend because the tensor's backend does not implement it.

    plugrad's own category, so it can be filtered (or turned into an error) on its own:
    ``warnings.simplefilter("error", plugrad.plugins.FallbackWarning)``.
    """

# View primitives cannot fall back: a copy made on the cpu backend shares no memory with the
# device buffer, so ``x[1] = 5`` through it would be lost. A backend must implement them.
# (The optional view kernel ``as_strided`` is not needed: without it the frontend copies.)
REQUIRED_VIEWS = tuple(n for n, s in OPS.items() if s.group == "view" and s.tier == "primitive")
# runtime functions taking the device index: the table binds it (by keyword) once
_DEVICE_BOUND = frozenset(n for n in RUNTIME if "device" in OPS[n].signature.parameters)
BUFFER_KINDS = ("buf", "buf|scalar", "opt_buf")


class DispatchTable:
    """Ops of one device. ``table.add(a, b)``; a missing optional kernel is ``None``."""

    def __init__(self, backend_name: str, index: int):
        self.backend_name = backend_name
        self.device_index = index
        self.native = frozenset()      # ops the backend or a kernel plugin implements itself
        self.derived = frozenset()     # ops composed from native ones (contract/derived.py)
        self.overridden = {}           # op -> plugin name, for kernels supplied by plugins
        self.impl = None               # the backend object (for introspection and kits)
        self._impl_supports = None
        # the backend checks indices on the device (contract: checks_indices), so the
        # frontend need not read them back to check them
        self.checks_indices = False
        # dtypes the backend refuses to store, kept in host memory (host_storage.py)
        self.host_dtypes = frozenset()

    def supports(self, op: str, dtype: str | None = None) -> bool:
        """True when ``op`` runs natively here (no cpu fallback) for dtype name ``dtype``.

        Asks the backend's own ``supports(op, dtype)`` when it has one (float64 on a device
        without fp64, bfloat16 on numpy); tests and benchmarks use it to skip cleanly.
        """
        check = self._impl_supports
        if op not in self.native:
            # a composition of primitives runs for the dtypes the backend can hold
            return op in self.derived and (check is None or dtype is None or
                                           bool(check("empty", dtype)))
        return True if check is None or dtype is None else bool(check(op, dtype))

    def __repr__(self):
        return (f"<DispatchTable {self.backend_name}:{self.device_index} "
                f"({len(self.native)} native ops)>")


class FallbackCounter:
    """Counts ops that ran on the cpu backend for lack of a native implementation."""

    def __init__(self):
        self.counts = Counter()
        self.warned = set()
        self.lock = threading.Lock()

    def hit(self, backend: str, op: str, dtype: str | None = None):
        """Count one call; warn on the first per (backend, op), or per (backend, dtype) for
        calls routed because the backend refuses ``dtype`` (plugrad.plugins.host_storage)."""
        key = (backend, op if dtype is None else f"{op}[{dtype}]")
        warn_key = (backend, op) if dtype is None else (backend, dtype)
        with self.lock:
            self.counts[key] += 1
            first = warn_key not in self.warned
            self.warned.add(warn_key)
        if first:
            what = (f"does not implement '{op}'; it runs" if dtype is None else
                    f"does not support {dtype}; {dtype} tensors on it are kept in host memory "
                    "and their ops run")
            warnings.warn(
                f"plugrad: backend '{backend}' {what} on the cpu "
                "backend with copies in and out (set PLUGRAD_STRICT_BACKEND=1 to make this an "
                "error)", FallbackWarning, stacklevel=_user_stacklevel())

    def report(self) -> dict:
        """{'backend.op': number of calls that fell back}, sorted."""
        with self.lock:
            return {f"{b}.{op}": n for (b, op), n in sorted(self.counts.items())}

    def reset(self):
        with self.lock:
            self.counts.clear()
            self.warned.clear()


def _user_stacklevel() -> int:
    """The stacklevel of the first caller outside plugrad, for ``warnings.warn`` here.

    A fallback is often reached inside plugrad (a backward pass, ``nn.functional``,
    indexing); attributed to that frame, the warning would point into plugrad, and a
    filter on plugrad's modules would hide it. The user's line is what needs changing.
    """
    frame, level = sys._getframe(1), 1
    while frame is not None and frame.f_globals.get("__name__", "").startswith("plugrad"):
        frame, level = frame.f_back, level + 1
    return level if frame is not None else 1


def strict_backend() -> bool:
    return os.environ.get("PLUGRAD_STRICT_BACKEND", "") not in ("", "0")


def make_fallback(op: str, backend_name: str, impl, index: int, cpu_table, counter,
                  refused=frozenset()):
    """Wrap the cpu backend's ``op`` so it runs on buffers of another backend.

    Buffers are copied to the host, the op runs on the cpu backend, results are copied back.
    An in-place primitive (``returns == 'none'``, e.g. ``index_put``) mutates its first
    argument, which is written back with the backend's ``assign`` (so views stay views).
    ``refused``: dtypes the backend cannot store; buffers of those are HostBuffers, used and
    returned without copies (plugrad.plugins.host_storage), as are views of HostBuffers.
    """
    spec = OPS[op]
    cpu_fn = getattr(cpu_table, op)
    to_cpu, back = host_mover(impl, index, cpu_table, refused)
    aliasing = op in ALIASING

    def fallback(*args, out=None, refused_dtype=None):
        if strict_backend():
            what = (f"does not implement '{op}'" if refused_dtype is None else
                    f"does not support {refused_dtype} (in '{op}')")
            raise RuntimeError(f"backend '{backend_name}' {what} and "
                               "PLUGRAD_STRICT_BACKEND=1 forbids running it on the cpu backend")
        counter.hit(backend_name, op, refused_dtype)
        kinds = spec.args + ("any",) * (len(args) - len(spec.args))
        moved = [to_cpu(k, a) for k, a in zip(kinds, args)]
        result = cpu_fn(*moved)
        if spec.returns == "none":
            if type(args[0]) is not HostBuffer:     # a HostBuffer was mutated in place
                impl.assign(args[0], back(moved[0]))
            return None
        keep = aliasing and type(args[0]) is HostBuffer
        if spec.returns == "bufs":
            return tuple(back(r, keep) for r in result)
        if spec.returns != "buf":
            return result
        if type(out) is HostBuffer:
            cpu_table.assign(out.array, result)
            return out
        result = back(result, keep)
        if out is not None:
            impl.assign(out, result)
            return out
        return result

    fallback.__name__ = f"cpu_fallback_{op}"
    fallback.__qualname__ = fallback.__name__
    return fallback


def fill_table(table: DispatchTable, impl, kernels: dict, cpu_table, counter, debug=None,
               who=None):
    """(Re)fill ``table`` in place from a backend object and the plugin kernels for it.

    ``kernels`` maps op name to (fn, plugin_name). ``cpu_table`` is None when filling the cpu
    backend's own table (it falls back to nothing). ``debug``, when given, is a function
    ``op -> 'who implements it'`` and every native op is wrapped with shape/dtype checks
    (:mod:`plugrad.plugins.checks`) that name that implementation when they fail. ``who``
    (the same signature) names a plugin's kernel in the cheap check every such kernel gets.
    """
    index = table.device_index
    wrong = signature_problems(impl)
    if wrong:
        raise PluginError(
            f"backend '{table.backend_name}' defines contract entries with signatures the "
            "frontend cannot call:\n  " + "\n  ".join(wrong) + "\nFix them to match "
            "plugrad.plugins.contract (help(plugrad.plugins.contract.<name>) shows each).")
    impl = wrap_if_immutable(impl)      # mutable_buffers = False: writes become rebindings
    guard = capability(impl, "device_guard")
    guard = guard(index) if guard is not None else None
    native = set()
    overridden = {}
    missing_runtime = []
    missing_views = []
    missing = []
    for name, spec in OPS.items():
        fn = getattr(impl, name, None)
        if name in kernels:
            fn, plugin = kernels[name]
            overridden[name] = plugin
            problem = signature_problem(spec, fn)
            if problem is not None:
                raise PluginError(f"kernel '{name}' for backend '{table.backend_name}' from "
                                  f"plugin '{plugin}': {problem}")
        if fn is None:
            if spec.tier == "runtime":
                missing_runtime.append(name)
                continue
            if name in REQUIRED_VIEWS:
                missing_views.append(name)
                continue
            missing.append(name)
            continue
        native.add(name)
        if name in _DEVICE_BOUND:
            fn = functools.partial(fn, device=index)
        if guard is not None:
            fn = _guarded(fn, guard)
        if debug is not None:
            from .checks import checked
            fn = checked(fn, name, table.backend_name, impl, debug(name))
        elif name in overridden:        # a plugin's kernel: its results are checked cheaply
            from .checks import checked
            fn = checked(fn, name, table.backend_name, impl,
                         who(name) if who is not None else f"plugin '{overridden[name]}'",
                         cheap=True)
        setattr(table, name, fn)
    # a missing primitive: its exact composition from the backend's own ops where the contract
    # has one (contract/derived.py), else the cpu fallback; a missing kernel stays None
    # unless the contract marks it host_fallback (factorizations: no composition exists)
    # a backend refusing complex dtypes: their tensors live in host memory and every call
    # touching one runs on the cpu backend (host_storage.py)
    refused = refused_dtypes(impl) if cpu_table is not None else frozenset()
    if refused:
        for name in native:
            setattr(table, name, routed(name, getattr(table, name), make_fallback(
                name, table.backend_name, impl, index, cpu_table, counter, refused), refused))
    derived = derive(table, native)
    for name in missing:
        fn = derived.get(name)
        if fn is None and cpu_table is not None and (
                OPS[name].tier == "primitive" or OPS[name].host_fallback
                or (refused and name in COMPLEX_ONLY)):
            fn = make_fallback(name, table.backend_name, impl, index, cpu_table, counter,
                               refused)
            if refused:     # counted and warned as the refused dtype when a HostBuffer is in
                fn = routed(name, fn, fn, refused)
        setattr(table, name, fn)
    if missing_runtime:
        raise PluginError(
            f"backend '{table.backend_name}' lacks required runtime functions: "
            f"{', '.join(missing_runtime)}. Every backend object must define all of "
            f"plugrad.plugins.contract.RUNTIME ({', '.join(RUNTIME)}); add the missing ones "
            "or upgrade the plugin")
    if missing_views:
        raise PluginError(
            f"backend '{table.backend_name}' lacks view primitives: {', '.join(missing_views)}. "
            f"Views ({', '.join(REQUIRED_VIEWS)}) cannot run on the cpu backend: a copy there "
            "shares no memory with your buffer, so writes through the view (x[1] = 5, "
            "x[:, 2].fill_(7)) would be lost. Implement them returning buffers that share "
            "memory with their input")
    table.native = frozenset(native)
    table.derived = frozenset(n for n in missing if n in derived)
    table.overridden = overridden
    table.impl = impl
    table._impl_supports = capability(impl, "supports")
    table.host_dtypes = refused
    table.checks_indices = deferred_index_checks(impl, native, overridden)


def deferred_index_checks(impl, native, overridden) -> bool:
    """True when ``impl`` declares ``checks_indices`` and runs every op of INDEX_OPS itself:
    a kernel plugin's override, or a primitive falling back to the cpu backend, made no such
    promise, so the frontend keeps checking indices before the call."""
    if not capability(impl, "checks_indices"):
        return False
    return all(name not in overridden and (name in native or OPS[name].tier == "kernel")
               for name in INDEX_OPS)


def debug_kernels() -> bool:
    """``PLUGRAD_DEBUG_KERNELS=1``: check every op's result shape and dtype (slow)."""
    return os.environ.get("PLUGRAD_DEBUG_KERNELS", "") not in ("", "0")


def _guarded(fn, guard_factory):
    """Run ``fn`` inside the backend's device context (multi-device backends, index > 0)."""
    @functools.wraps(fn)
    def run(*args, **kwargs):
        with guard_factory():
            return fn(*args, **kwargs)
    return run
