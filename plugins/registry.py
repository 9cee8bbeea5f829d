"""The registry: the only place in plugrad that talks to pluggy.

It loads plugins from the ``plugrad.backends`` entry-point group one at a time (a broken one
gives a warning naming its distribution and error, the rest still load), validates what they
yield, and builds the dispatch tables the frontend uses per op.

Environment:
    PLUGRAD_STRICT_PLUGINS=1   raise PluginError instead of warning about a broken plugin.
    PLUGRAD_DISABLE_PLUGINS    comma-separated entry-point or distribution names to skip.
    PLUGRAD_PLUGINS            comma-separated allow-list: load only these (plus ``numpy``,
                               the cpu backend, which plugrad cannot run without).
    PLUGRAD_DEBUG_KERNELS=1    check the shape and dtype of every op's result (slow).
    PLUGRAD_STRICT_BACKEND=1   an op a backend lacks raises instead of running on the cpu.
"""
from __future__ import annotations

import importlib.metadata as metadata
import os
import threading
import warnings
from dataclasses import dataclass, field

import pluggy

from . import hookspec, validate
from .contract import OPS
from .device import parse_device
from .dispatch import DispatchTable, FallbackCounter, debug_kernels, fill_table
from .types import BackendSpec, PluginError, PluginInfo

ENTRY_POINT_GROUP = "plugrad.backends"
CPU = "cpu"


class PluginWarning(UserWarning):
    """A plugin could not be loaded or was rejected; the other plugins still work."""


def _env_list(name: str) -> set:
    return {p.strip().lower() for p in os.environ.get(name, "").split(",") if p.strip()}


def _strict() -> bool:
    return os.environ.get("PLUGRAD_STRICT_PLUGINS", "") not in ("", "0")


@dataclass
class BackendEntry:
    """A registered backend: its spec, who provides it, and (once used) its tables."""
    spec: BackendSpec
    provider: PluginInfo
    impl: object = None
    load_error: str | None = None
    conflict: str | None = None
    tables: dict = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.spec.name

    def availability(self):
        """True, or a string saying why this backend cannot be used."""
        if self.conflict:
            return self.conflict
        if self.load_error:
            return self.load_error
        try:
            ok = self.spec.is_available()
        except Exception as exc:  # a broken is_available must not take plugrad down
            return f"is_available() raised {type(exc).__name__}: {exc}"
        return True if ok is True else str(ok or "unavailable")

    def device_count(self) -> int:
        if self.availability() is not True:
            return 0
        try:
            return int(self.spec.device_count())
        except Exception as exc:
            self.load_error = f"device_count() raised {type(exc).__name__}: {exc}"
            return 0


class Registry:
    """Plugins, backends and dispatch tables. Use :func:`get_registry` for the shared one.

    A fresh ``Registry()`` re-reads the entry points: tests build one to try plugins without
    touching the process-wide registry the frontend uses.
    """

    def __init__(self, load_entry_points: bool = True):
        self._pm = pluggy.PluginManager(hookspec.PROJECT)
        self._pm.add_hookspecs(hookspec)
        self._lock = threading.RLock()
        self._load_entry_points = load_entry_points
        self._ready = False
        self._infos: dict[str, PluginInfo] = {}
        self._backends: dict[str, BackendEntry] = {}
        self._aliases: dict[str, str] = {}
        self._kernels: dict[str, dict] = {}
        self._orphans: dict[str, dict] = {}   # tables of unregistered backends, by name
        self.problems: list[str] = []
        # entry points that failed to import: name -> "distribution version: error", named
        # again in "unknown device" errors (the device is most likely theirs)
        self.failed_imports: dict[str, str] = {}
        self.fallbacks = FallbackCounter()

    # ------------------------------------------------------------------- plugin lifecycle
    def ensure_ready(self):
        """Load entry points and build backends once; safe to call from many threads."""
        if self._ready:
            return
        with self._lock:
            if self._ready:
                return
            if self._load_entry_points:
                self._load_from_entry_points()
            self._rebuild()
            self._ready = True

    def _load_from_entry_points(self):
        """Import each entry point on its own, so one broken plugin cannot stop the others."""
        disabled = _env_list("PLUGRAD_DISABLE_PLUGINS")
        allowed = _env_list("PLUGRAD_PLUGINS")
        for ep in sorted(metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
            dist = getattr(ep, "dist", None)
            dist_name = dist.metadata["Name"] if dist is not None else "<unknown>"
            version = dist.version if dist is not None else ""
            names = {ep.name.lower(), str(dist_name).lower()}
            if names & disabled:
                continue
            if allowed and not names & allowed and ep.name != "numpy":
                continue
            name = ep.name
            if name in self._infos:  # two distributions used one entry-point name
                name = f"{dist_name}:{ep.name}"
                if name in self._infos:
                    continue
            try:
                plugin = ep.load()
            except Exception as exc:
                self.failed_imports[ep.name] = (f"distribution {dist_name} {version}: "
                                                f"{type(exc).__name__}: {exc}")
                self._problem(f"plugrad plugin '{ep.name}' (distribution {dist_name} "
                              f"{version}) failed to import: {type(exc).__name__}: {exc}\n"
                              f"  entry point: {ep.name} = {ep.value}\n"
                              "Fix or upgrade the plugin, uninstall it, or skip it with "
                              f"PLUGRAD_DISABLE_PLUGINS={ep.name}. Other backends still work.",
                              exc)
                continue
            self._add_plugin(plugin, name, dist_name, version)

    def register(self, plugin, name: str | None = None, distribution: str = "<registered>",
                 version: str = ""):
        """Register a plugin object at run time (tests, notebooks) and rebuild the tables.

        Under ``PLUGRAD_STRICT_PLUGINS=1`` a plugin that fails validation is unregistered
        again before the PluginError propagates, so nothing is left half-registered.
        """
        with self._lock:
            self.ensure_ready()
            name = name or getattr(plugin, "__name__", None) or repr(plugin)
            if name in self._infos:
                raise PluginError(f"a plugin named {name!r} is already registered")
            self._add_plugin(plugin, name, distribution, version)
            try:
                self._rebuild()
            except BaseException:
                if name in self._infos:
                    self._pm.unregister(name=name)
                    del self._infos[name]
                    self._rebuild()
                raise
        return name

    def unregister(self, name: str):
        """Remove a plugin by name and rebuild the tables."""
        with self._lock:
            self.ensure_ready()
            if name not in self._infos:
                raise KeyError(f"no plugin named {name!r}; registered: {', '.join(self._infos)}")
            self._pm.unregister(name=name)
            del self._infos[name]
            self._rebuild()

    def _add_plugin(self, plugin, name, dist_name, version):
        try:
            self._pm.register(plugin, name=name)
        except Exception as exc:
            self._problem(f"plugrad plugin '{name}' (distribution {dist_name} {version}) "
                          f"could not be registered: {type(exc).__name__}: {exc}. Check its "
                          "hook functions against plugrad.plugins.hookspec.", exc)
            return
        self._infos[name] = PluginInfo(name, dist_name, version)

    def _problem(self, message: str, exc: BaseException | None = None):
        self.problems.append(message)
        if _strict():
            raise PluginError(message) from exc
        warnings.warn(message, PluginWarning, stacklevel=4)

    # ------------------------------------------------------------------------ rebuild
    def _call_each(self, hook_name):
        """Call a hook per plugin, so one raising hook only loses that plugin's results.

        This is the only caller of pluggy hooks; it runs when plugins change (from
        :meth:`_rebuild`) -- never per op.
        """
        for impl in getattr(self._pm.hook, hook_name).get_hookimpls():
            info = self._infos.get(impl.plugin_name) or PluginInfo(impl.plugin_name)
            try:
                results = list(impl.function() or ())
            except Exception as exc:
                self._problem(f"{info.describe()}: hook {hook_name}() raised "
                              f"{type(exc).__name__}: {exc}\nThe plugin's backends and "
                              "kernels are ignored; fix or upgrade it, or skip it with "
                              f"PLUGRAD_DISABLE_PLUGINS={info.plugin_name}.", exc)
                continue
            yield info, results

    def _rebuild(self):
        """Re-collect specs from all plugins and refill existing tables in place."""
        old = self._backends
        for info in self._infos.values():
            info.backends, info.kernels = [], []
        claims = validate.collect_backends(self._call_each("plugrad_backends"), self._problem)
        chosen, conflicts, aliases = validate.resolve_claims(claims, self._problem)
        backends: dict[str, BackendEntry] = {}
        for name, (spec, info) in chosen.items():
            entry = BackendEntry(spec, info, conflict=conflicts.get(name))
            previous = old.get(name)
            if previous is not None and previous.provider.plugin_name == info.plugin_name:
                entry.impl, entry.load_error = previous.impl, previous.load_error
                entry.tables = previous.tables
            elif name in self._orphans:
                entry.tables = self._orphans.pop(name)
            backends[name] = entry
        kernels = validate.collect_kernels(self._call_each("plugrad_kernels"), backends,
                                           self._problem)
        self._backends, self._aliases, self._kernels = backends, aliases, kernels
        for name, entry in old.items():  # tables of a backend that went away stop working
            if name not in backends or backends[name].tables is not entry.tables:
                for table in entry.tables.values():
                    _poison(table, f"backend '{name}' was unregistered")
                if entry.tables and (name not in backends or not backends[name].tables):
                    if name in backends:
                        backends[name].tables = entry.tables
                    else:
                        self._orphans[name] = entry.tables
        for entry in backends.values():
            if entry.tables:
                self._refill(entry)

    def _refill(self, entry: BackendEntry):
        """Refill a backend's existing tables (the objects devices hold) after a change."""
        try:
            if entry.availability() is not True:
                raise RuntimeError(entry.availability())
            if entry.impl is None:
                entry.impl = entry.spec.load()
            for table in entry.tables.values():
                self._fill(entry, table)
        except Exception as exc:
            for table in entry.tables.values():
                _poison(table, f"backend '{entry.name}' could not be reloaded: "
                               f"{type(exc).__name__}: {exc}")

    # ------------------------------------------------------------------------ lookup
    def backend(self, name: str) -> BackendEntry:
        """The entry for a backend name or alias; KeyError if no plugin provides it."""
        self.ensure_ready()
        name = self._aliases.get(name, name)
        return self._backends[name]

    def entries(self) -> list[BackendEntry]:
        """All registered backends, sorted by (priority, name)."""
        self.ensure_ready()
        return sorted(self._backends.values(), key=lambda e: (e.spec.priority, e.name))

    def canonical(self, device: str) -> tuple[str, int | None]:
        """Parse a device string and resolve aliases: 'gpu:1' -> ('cuda', 1)."""
        self.ensure_ready()
        kind, index = parse_device(device)
        kind = self._aliases.get(kind, kind)
        if kind not in self._backends:
            raise RuntimeError(self._unknown_device(device, kind))
        return kind, index

    def _unknown_device(self, device: str, kind: str) -> str:
        """The "unknown device" message: close names, the devices there are, and the plugins
        that failed to import (one of them most likely provides the device)."""
        message = (f"unknown device {device!r}.{self._did_you_mean(kind)} "
                   f"{self.describe_devices()}")
        if self.failed_imports:
            # the entry point named like the device first
            names = sorted(self.failed_imports, key=lambda n: (n.lower() != kind.lower(), n))
            failed = "; ".join(f"'{n}' ({self.failed_imports[n]})" for n in names)
            message += (f" Plugins that failed to import: {failed}. Fix or reinstall the "
                        "plugin (python -m plugrad info shows the full error).")
        return message

    def _did_you_mean(self, kind: str) -> str:
        import difflib
        close = difflib.get_close_matches(kind, [*self._backends, *self._aliases], n=2,
                                          cutoff=0.6)
        return f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""

    def table(self, kind: str, index: int | None = None) -> DispatchTable:
        """The dispatch table of a device, loading the backend on first use."""
        self.ensure_ready()
        entry = self._backends.get(self._aliases.get(kind, kind))
        if entry is None:
            raise RuntimeError(self._unknown_device(kind, kind))
        index = 0 if index is None else index
        table = entry.tables.get(index)
        if table is not None and table.impl is not None:
            return table
        with self._lock:
            # another thread may have built it while this one waited for the lock: one table
            # per device, or a later plugin change would refill only one of them
            table = entry.tables.get(index)
            if table is not None and table.impl is not None:
                return table
            reason = entry.availability()
            if reason is not True:
                raise RuntimeError(f"device '{entry.name}' is not available: {reason}. "
                                   f"{self.describe_devices(skip=entry.name)}")
            count = entry.device_count()
            if not 0 <= index < count:
                raise RuntimeError(f"device '{entry.name}:{index}' is out of range: backend "
                                   f"'{entry.name}' has {count} device(s)")
            if entry.impl is None:
                try:
                    entry.impl = entry.spec.load()
                except Exception as exc:
                    entry.load_error = (f"loading backend '{entry.name}' failed in "
                                        f"{entry.provider.describe()}: "
                                        f"{type(exc).__name__}: {exc}")
                    raise RuntimeError(entry.load_error) from exc
            table = table or DispatchTable(entry.name, index)
            try:
                self._fill(entry, table)
            except PluginError as exc:
                entry.load_error = f"{exc} -- in {entry.provider.describe()}"
                raise PluginError(entry.load_error) from None
            entry.tables[index] = table
            return table

    def _fill(self, entry: BackendEntry, table: DispatchTable):
        cpu_table = None if entry.name == CPU else self.table(CPU)
        kernels = self._kernels.get(entry.name, {})

        def who(op):
            plugin = kernels.get(op, (None, None))[1]
            if plugin is not None:
                return f"kernel from {self._infos[plugin].describe()}"
            return f"backend '{entry.name}' from {entry.provider.describe()}"
        fill_table(table, entry.impl, kernels, cpu_table, self.fallbacks,
                   who if debug_kernels() else None, who)

    def supports(self, device: str, op: str, dtype: str | None = None) -> bool:
        """True when ``op`` runs natively on ``device`` for dtype name ``dtype``.

        False for an unknown op, an unavailable device, or an op that would fall back to the
        cpu backend -- so tests and benchmarks can skip cleanly.
        """
        if op not in OPS:
            return False
        try:
            kind, index = self.canonical(device)
            return self.table(kind, index).supports(op, dtype)
        except RuntimeError:
            return False

    def describe_devices(self, skip: str | None = None) -> str:
        """'Available: cpu, opencl:0. Unavailable: cuda (cupy not importable: ...)'.

        ``skip``: a backend whose reason the message already gave (not said twice)."""
        available, unavailable = [], []
        for entry in self.entries():
            if entry.name == skip:
                continue
            reason = entry.availability()
            if reason is True:
                count = entry.device_count()
                if entry.name == CPU:
                    available.append(CPU)
                elif count:
                    available.extend(f"{entry.name}:{i}" for i in range(count))
                else:
                    unavailable.append(f"{entry.name} (no devices)")
            else:
                unavailable.append(f"{entry.name} ({reason})")
        text = f"Available: {', '.join(available) or 'none'}."
        if unavailable:
            text += f" Unavailable: {'; '.join(unavailable)}."
        return text

    def plugins(self) -> list[PluginInfo]:
        self.ensure_ready()
        return list(self._infos.values())

    def plugin_info(self, name: str) -> PluginInfo:
        self.ensure_ready()
        return self._infos[name]


def _poison(table: DispatchTable, reason: str):
    def gone(*args, **kwargs):
        raise RuntimeError(reason)
    for name in OPS:
        setattr(table, name, gone)
    table.native = frozenset()
    table.impl = None


_REGISTRY: Registry | None = None
_REGISTRY_LOCK = threading.Lock()


def get_registry() -> Registry:
    """The process-wide registry (created on first use, thread-safe)."""
    global _REGISTRY
    if _REGISTRY is None:
        with _REGISTRY_LOCK:
            if _REGISTRY is None:
                _REGISTRY = Registry()
    return _REGISTRY

