"""The registry: the only place in plugrad that talks to pluggy.

It loads plugins from the ``plugrad.backends`` entry-point group one at a time (a broken one
gives a warning naming its distribution and error, the rest still load), validates what they
yield, and builds the dispatch tables the frontend uses per op.

Environment:
    PLUGRAD_STRICT_PLUGINS=1   raise instead of warning about a broken plugin.
    PLUGRAD_DISABLE_PLUGINS    comma-separated entry-point or distribution names to skip.
    PLUGRAD_PLUGINS            comma-separated allow-list: load only these (plus ``numpy``,
                               the cpu backend, which plugrad cannot run without).
"""
from __future__ import annotations

import importlib.metadata as metadata
import os
import threading
import warnings
from dataclasses import dataclass, field

import pluggy

from . import hookspec
from .contract import API_VERSION, OPS
from .device import parse_device
from .dispatch import DispatchTable, FallbackCounter, fill_table
from .types import BackendSpec, KernelSpec, PluginError, PluginInfo

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
    """Plugins, backends and dispatch tables. Use :func:`get_registry` for the shared one."""

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
        self.problems: list[str] = []
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
        disabled = _env_list("PLUGRAD_DISABLE_PLUGINS")
        allowed = _env_list("PLUGRAD_PLUGINS")
        for ep in sorted(metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
            dist = getattr(ep, "dist", None)
            dist_name = dist.metadata["Name"] if dist is not None else "<unknown>"
            version = dist.version if dist is not None else ""
            names = {ep.name.lower(), dist_name.lower()}
            if names & disabled:
                continue
            if allowed and not names & allowed and ep.name != "numpy":
                continue
            if ep.name in self._infos:
                continue
            try:
                plugin = ep.load()
            except Exception as exc:
                self._problem(f"plugrad plugin '{ep.name}' from distribution {dist_name} "
                              f"{version} failed to import: {type(exc).__name__}: {exc}. "
                              f"Fix or uninstall it, or set PLUGRAD_DISABLE_PLUGINS={ep.name}.",
                              exc)
                continue
            self._add_plugin(plugin, ep.name, dist_name, version)

    def register(self, plugin, name: str | None = None, distribution: str = "<registered>",
                 version: str = ""):
        """Register a plugin object at run time (tests, notebooks) and rebuild the tables."""
        with self._lock:
            self.ensure_ready()
            name = name or getattr(plugin, "__name__", None) or repr(plugin)
            if name in self._infos:
                raise PluginError(f"a plugin named {name!r} is already registered")
            self._add_plugin(plugin, name, distribution, version)
            self._rebuild()
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
            self._problem(f"plugrad plugin '{name}' from distribution {dist_name} {version} "
                          f"could not be registered: {type(exc).__name__}: {exc}", exc)
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

        This and :meth:`_rebuild` are the only callers of pluggy hooks, and they run only when
        plugins change -- never per op.
        """
        for impl in getattr(self._pm.hook, hook_name).get_hookimpls():
            info = self._infos.get(impl.plugin_name) or PluginInfo(impl.plugin_name)
            try:
                results = list(impl.function() or ())
            except Exception as exc:
                self._problem(f"plugrad plugin '{info.plugin_name}' from distribution "
                              f"{info.provider}: hook {hook_name}() raised "
                              f"{type(exc).__name__}: {exc}", exc)
                continue
            yield info, results

    def _rebuild(self):
        """Re-collect specs from all plugins and refill existing tables in place."""
        old = self._backends
        backends: dict[str, BackendEntry] = {}
        claims: dict[str, list] = {}
        for info in self._infos.values():
            info.backends, info.kernels = [], []
        for info, specs in self._call_each("plugrad_backends"):
            for spec in specs:
                if not isinstance(spec, BackendSpec):
                    self._problem(f"plugrad plugin '{info.plugin_name}' from distribution "
                                  f"{info.provider}: plugrad_backends() yielded {spec!r}, "
                                  "expected BackendSpec")
                    continue
                if spec.api_version != API_VERSION:
                    self._problem(
                        f"plugrad plugin '{info.plugin_name}' from distribution {info.provider}: "
                        f"backend '{spec.name}' declares api_version {spec.api_version}, but "
                        f"this plugrad implements api_version {API_VERSION}. Upgrade the "
                        "plugin (or plugrad) so both agree.")
                    continue
                for claimed in (spec.name, *spec.aliases):
                    claims.setdefault(claimed, []).append((spec, info))
                info.backends.append(spec.name)
                previous = old.get(spec.name)
                entry = BackendEntry(spec, info)
                if previous is not None and previous.spec is spec:
                    entry.impl, entry.load_error = previous.impl, previous.load_error
                    entry.tables = previous.tables
                backends.setdefault(spec.name, entry)
        aliases = {}
        for claimed, owners in claims.items():
            if len(owners) > 1:
                lines = "\n".join(f"  {claimed!r} provided by: plugin '{i.plugin_name}' "
                                  f"(distribution {i.provider})" for _, i in owners)
                msg = (f"Conflicting plugrad backends for the name {claimed!r}:\n{lines}\n\n"
                       "Uninstall one of them, or disable one with "
                       "PLUGRAD_DISABLE_PLUGINS=<plugin name>.")
                self._problem(msg)
                for spec, _ in owners:
                    backends[spec.name].conflict = msg
            elif claimed != owners[0][0].name:
                aliases[claimed] = owners[0][0].name
        kernels: dict[str, dict] = {}
        for info, specs in self._call_each("plugrad_kernels"):
            for spec in specs:
                if not isinstance(spec, KernelSpec):
                    self._problem(f"plugrad plugin '{info.plugin_name}' from distribution "
                                  f"{info.provider}: plugrad_kernels() yielded {spec!r}, "
                                  "expected KernelSpec")
                    continue
                info.kernels.append(f"{spec.backend}.{spec.op}")
                current = kernels.setdefault(spec.backend, {}).get(spec.op)
                if current is None or spec.priority >= current[2]:
                    kernels[spec.backend][spec.op] = (spec.fn, info.plugin_name, spec.priority)
        self._backends, self._aliases = backends, aliases
        self._kernels = {b: {op: (fn, p) for op, (fn, p, _) in ops.items()}
                         for b, ops in kernels.items()}
        for name, entry in backends.items():
            for table in entry.tables.values():
                self._fill(entry, table)
        for name, entry in old.items():  # tables of a backend that went away stop working
            if name not in backends:
                for table in entry.tables.values():
                    _poison(table, f"backend '{name}' was unregistered")

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
            raise RuntimeError(f"unknown device {device!r}. {self.describe_devices()}")
        return kind, index

    def table(self, kind: str, index: int | None = None) -> DispatchTable:
        """The dispatch table of a device, loading the backend on first use."""
        self.ensure_ready()
        entry = self._backends.get(self._aliases.get(kind, kind))
        if entry is None:
            raise RuntimeError(f"unknown device {kind!r}. {self.describe_devices()}")
        index = 0 if index is None else index
        table = entry.tables.get(index)
        if table is not None:
            return table
        with self._lock:
            reason = entry.availability()
            if reason is not True:
                raise RuntimeError(f"device '{entry.name}' is not available: {reason}. "
                                   f"{self.describe_devices()}")
            count = entry.device_count()
            if not 0 <= index < count:
                raise RuntimeError(f"device '{entry.name}:{index}' is out of range: backend "
                                   f"'{entry.name}' has {count} device(s)")
            if entry.impl is None:
                try:
                    entry.impl = entry.spec.load()
                except Exception as exc:
                    entry.load_error = (f"loading backend '{entry.name}' from plugin "
                                        f"'{entry.provider.plugin_name}' (distribution "
                                        f"{entry.provider.provider}) failed: "
                                        f"{type(exc).__name__}: {exc}")
                    raise RuntimeError(entry.load_error) from exc
            table = DispatchTable(entry.name, index)
            try:
                self._fill(entry, table)
            except PluginError as exc:
                entry.load_error = (f"{exc} -- plugin '{entry.provider.plugin_name}', "
                                    f"distribution {entry.provider.provider}")
                raise PluginError(entry.load_error) from None
            entry.tables[index] = table
            return table

    def _fill(self, entry: BackendEntry, table: DispatchTable):
        cpu_table = None if entry.name == CPU else self.table(CPU)
        fill_table(table, entry.impl, self._kernels.get(entry.name, {}), cpu_table,
                   self.fallbacks)

    def describe_devices(self) -> str:
        """'Available: cpu, opencl:0. Unavailable: cuda (cupy not importable: ...)'."""
        available, unavailable = [], []
        for entry in self.entries():
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


def _poison(table: DispatchTable, reason: str):
    def gone(*args, **kwargs):
        raise RuntimeError(reason)
    for name in OPS:
        setattr(table, name, gone)
    table.native = frozenset()


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
