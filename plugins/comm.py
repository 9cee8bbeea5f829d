"""The communication-backend registry behind :mod:`plugrad.distributed` (``mpi``, ``nccl``, ...).

The same shape as the device registry, on its own entry-point group ``plugrad.distributed``:
each plugin's :func:`~plugrad.plugins.hookspec.plugrad_comm_backends` yields
:class:`CommBackendSpec` records; one broken plugin gives a warning naming its distribution
and the error while the others still load (``PLUGRAD_STRICT_PLUGINS=1`` raises instead), and
two plugins claiming one name are both refused. Pluggy is called only when the registry is
built -- never per collective.
"""
from __future__ import annotations

import importlib.metadata as metadata
import threading
from dataclasses import dataclass
from typing import Any, Callable

import pluggy

from . import hookspec
from .registry import PluginWarning, _env_list, _strict
from .types import PluginError, PluginInfo, _always_available, _check_name

ENTRY_POINT_GROUP = "plugrad.distributed"


@dataclass(frozen=True)
class CommBackendSpec:
    """A communication backend, as yielded by ``plugrad_comm_backends``.

    Args:
        name: what users pass as ``init_process_group(backend=name)``; lower-cased.
        load: zero-argument callable returning the process-group class (imports happen here).
        devices: device types whose buffers the backend reads directly; tensors on other
            devices are staged through host memory (numpy) when ``host_staging`` is True.
        host_staging: the backend takes numpy arrays, so any device works through a host copy.
        is_available: True or a reason string (cheap, must not raise).
        aliases: extra names (``init_process_group(backend=alias)``).
        priority: the default backend for a device is the lowest priority that takes it.
        description: one line for ``python -m plugrad info``.
    """
    name: str
    load: Callable[[], Any]
    devices: tuple = ("cpu",)
    host_staging: bool = False
    is_available: Callable[[], Any] = _always_available
    aliases: tuple = ()
    priority: int = 100
    description: str = ""

    def __post_init__(self):
        object.__setattr__(self, "name", _check_name(self.name, "backend name", self))
        object.__setattr__(self, "aliases", tuple(_check_name(a, "alias", self)
                                                  for a in self.aliases))
        object.__setattr__(self, "devices", tuple(self.devices))
        if not callable(self.load):
            raise PluginError(f"Invalid load for {self!r}: expected a callable")


@dataclass
class CommEntry:
    """A registered communication backend and who provides it."""
    spec: CommBackendSpec
    provider: PluginInfo
    loaded: Any = None

    def availability(self):
        try:
            ok = self.spec.is_available()
        except Exception as exc:
            return f"is_available() raised {type(exc).__name__}: {exc}"
        return True if ok is True else str(ok or "unavailable")


class CommRegistry:
    """Communication backends by name; :func:`get_comm_registry` is the shared one."""

    def __init__(self, load_entry_points: bool = True):
        self._pm = pluggy.PluginManager(hookspec.PROJECT)
        self._pm.add_hookspecs(hookspec)
        self._lock = threading.RLock()
        self._load_entry_points = load_entry_points
        self._infos: dict[str, PluginInfo] = {}
        self._entries: dict[str, CommEntry] | None = None
        self._aliases: dict[str, str] = {}
        self.problems: list[str] = []

    def _problem(self, message, exc=None):
        import warnings
        self.problems.append(message)
        if _strict():
            raise PluginError(message) from exc
        warnings.warn(message, PluginWarning, stacklevel=4)

    def register(self, plugin, name: str, distribution: str = "<registered>", version=""):
        """Add a plugin object (tests, notebooks) and rebuild the backend list."""
        with self._lock:
            self._ensure()
            if name in self._infos:
                raise PluginError(f"a communication plugin named {name!r} is already registered")
            self._pm.register(plugin, name=name)
            self._infos[name] = PluginInfo(name, distribution, version)
            self._entries = None

    def unregister(self, name: str):
        with self._lock:
            self._ensure()
            self._pm.unregister(name=name)
            del self._infos[name]
            self._entries = None

    def _ensure(self) -> dict[str, CommEntry]:
        entries = self._entries
        if entries is not None:
            return entries
        with self._lock:
            if self._entries is None:
                if self._load_entry_points and not self._infos:
                    self._load_from_entry_points()
                self._entries = self._collect()
            return self._entries

    def _load_from_entry_points(self):
        disabled = _env_list("PLUGRAD_DISABLE_PLUGINS")
        for ep in sorted(metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
            dist = getattr(ep, "dist", None)
            dist_name = dist.metadata["Name"] if dist is not None else "<unknown>"
            version = dist.version if dist is not None else ""
            if {ep.name.lower(), str(dist_name).lower()} & disabled or ep.name in self._infos:
                continue
            try:
                self._pm.register(ep.load(), name=ep.name)
            except Exception as exc:
                self._problem(f"plugrad communication plugin '{ep.name}' (distribution "
                              f"{dist_name} {version}) failed to load: {type(exc).__name__}: "
                              f"{exc}\nSkip it with PLUGRAD_DISABLE_PLUGINS={ep.name}.", exc)
                continue
            self._infos[ep.name] = PluginInfo(ep.name, dist_name, version)

    def _collect(self) -> dict[str, CommEntry]:
        """Call every plugin's hook (the only pluggy call) and refuse conflicting names."""
        claims: dict[str, list] = {}
        for impl in self._pm.hook.plugrad_comm_backends.get_hookimpls():
            info = self._infos.get(impl.plugin_name) or PluginInfo(impl.plugin_name)
            try:
                specs = list(impl.function() or ())
            except Exception as exc:
                self._problem(f"{info.describe()}: hook plugrad_comm_backends() raised "
                              f"{type(exc).__name__}: {exc}", exc)
                continue
            for spec in specs:
                if not isinstance(spec, CommBackendSpec):
                    self._problem(f"{info.describe()}: plugrad_comm_backends() yielded "
                                  f"{spec!r}, expected a CommBackendSpec")
                    continue
                for key in (spec.name, *spec.aliases):
                    claims.setdefault(key, []).append((spec, info))
        entries, aliases = {}, {}
        for key, owners in sorted(claims.items()):
            if len(owners) > 1:
                self._problem(f"Conflicting communication backends for {key!r}:\n" + "\n".join(
                    f"  provided by: {info.describe()}" for _, info in owners) +
                    f"\n\nUninstall one, or disable it with PLUGRAD_DISABLE_PLUGINS=<name>.")
                continue
            spec, info = owners[0]
            if key == spec.name:
                entries[key] = CommEntry(spec, info)
            else:
                aliases[key] = spec.name
        self._aliases = {a: n for a, n in aliases.items() if n in entries}
        return entries

    def entries(self) -> list[CommEntry]:
        """Registered backends, sorted by (priority, name)."""
        return sorted(self._ensure().values(), key=lambda e: (e.spec.priority, e.spec.name))

    def get(self, name: str) -> CommEntry:
        """The entry for a backend name or alias; ValueError listing the known ones if none."""
        entries = self._ensure()
        key = str(name).strip().lower()
        entry = entries.get(self._aliases.get(key, key))
        if entry is None:
            known = ", ".join(sorted([*entries, *self._aliases])) or "none"
            raise ValueError(f"Invalid backend: '{name}'. Registered communication backends: "
                             f"{known}")
        return entry

    def load(self, name: str):
        """The process-group class of a backend, loading it once; RuntimeError with the reason
        when it is unavailable."""
        entry = self.get(name)
        if entry.loaded is None:
            reason = entry.availability()
            if reason is not True:
                raise RuntimeError(f"Distributed backend '{entry.spec.name}' is not available: "
                                   f"{reason}")
            entry.loaded = entry.spec.load()
        return entry.loaded

    def default_for(self, device_type: str) -> str | None:
        """The available backend of lowest priority that takes ``device_type`` tensors."""
        for entry in self.entries():
            if device_type in entry.spec.devices and entry.availability() is True:
                return entry.spec.name
        for entry in self.entries():
            if entry.spec.host_staging and entry.availability() is True:
                return entry.spec.name
        return None

    def describe(self) -> list[str]:
        """Lines for ``python -m plugrad info``: name, aliases, status, devices, provider."""
        lines = []
        for e in self.entries():
            reason = e.availability()
            status = "available" if reason is True else f"unavailable ({reason})"
            devices = ",".join(e.spec.devices) + (", others via host" if e.spec.host_staging
                                                   else "")
            alias = f" (aliases: {', '.join(e.spec.aliases)})" if e.spec.aliases else ""
            lines.append(f"  {e.spec.name}{alias}: {status}; devices {devices}; "
                         f"{e.provider.describe()}; {e.spec.description}")
        return lines


_COMM: CommRegistry | None = None
_COMM_LOCK = threading.Lock()


def get_comm_registry() -> CommRegistry:
    """The process-wide communication registry (built on first use)."""
    global _COMM
    if _COMM is None:
        with _COMM_LOCK:
            if _COMM is None:
                _COMM = CommRegistry()
    return _COMM
