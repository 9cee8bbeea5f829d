"""Registration dataclasses a plugin yields from its hooks, and the plugin error type.

Both are cheap, frozen records (conda's ``CondaSolver`` idea): nothing heavy is built at
registration. ``__post_init__`` normalises names and rejects what would break later, with a
:class:`PluginError` that repeats the offending spec and the rule it broke.
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from typing import Any, Callable

from .contract import API_VERSION, OPS

_NAME_RULE = re.compile(r"^[a-z][a-z0-9_]*$")


class PluginError(RuntimeError):
    """A plugin is broken or conflicts with another; the message names it and the remedy."""


def _check_name(value: str, what: str, owner: object) -> str:
    if not isinstance(value, str):
        raise PluginError(f"Invalid {what} for {owner!r}: expected a string, got {value!r}")
    name = value.strip().lower()
    if not _NAME_RULE.match(name):
        raise PluginError(
            f"Invalid {what} {value!r} for {owner!r}: expected lowercase letters, digits and "
            "underscores, starting with a letter (it becomes a device string such as 'name:0')")
    return name


def _always_available() -> bool:
    return True


def _one_device() -> int:
    return 1


@dataclass(frozen=True)
class BackendSpec:
    """A backend, as yielded by :func:`plugrad.plugins.hookspec.plugrad_backends`.

    Nothing heavy happens at registration: ``is_available`` and ``device_count`` must be cheap
    and must not raise; the array library is imported by ``load`` on first use.

    Args:
        name: the device type users write; validated and lower-cased.
        load: zero-argument callable returning the backend object.
        api_version: contract version the backend implements (default: the current one).
        priority: ordering for listings and "best accelerator" (lower first).
        aliases: extra device strings for this backend.
        is_available: True or a reason string.
        device_count: number of devices when available.
        description: one line for ``python -m plugrad info``.
        host_memory: buffers are numpy arrays sharing memory with ``.numpy()``.

    The backend object ``load`` returns has one attribute per contract op it implements
    (see :mod:`plugrad.plugins.contract`): every ``runtime`` function (a backend missing one
    is rejected when first used, naming what is missing), ideally every ``primitive`` (a
    missing one runs on the cpu backend, with a warning) and any ``kernel`` it can do faster
    than the frontend's composition. Optionally it has ``supports(op, dtype) -> bool``
    (dtypes or ops a device cannot do, e.g. float64 without ``cl_khr_fp64``),
    ``device_guard(index)`` (a context-manager factory that makes device ``index`` current
    around every call, for multi-device runtimes) and ``transfer_to(buf, index)`` (a direct
    copy between two devices of this backend).
    """

    name: str
    """Device type users write (``'cpu'``, ``'cuda'``, ``'mydev'``); also used in error messages."""
    load: Callable[[], Any]
    """Returns the backend object whose attributes implement the contract (called once)."""
    api_version: int = API_VERSION
    """The :data:`plugrad.plugins.contract.API_VERSION` this backend was written against; the
    registry rejects any other value with a message telling which side to upgrade."""
    priority: int = 100
    """Lower sorts first in listings and wins the choice of 'best available device'."""
    aliases: tuple = ()
    """Other device strings that mean this backend (``'gpu'`` for ``'cuda'``, say)."""
    is_available: Callable[[], Any] = _always_available
    """Returns True, or a string saying why the backend cannot run here (never raises)."""
    device_count: Callable[[], int] = _one_device
    """Number of devices; called only when ``is_available()`` is True."""
    description: str = ""
    """One line for ``python -m plugrad info``."""
    host_memory: bool = False
    """True when buffers *are* ``numpy.ndarray`` objects (the cpu backend): ``from_numpy`` and
    ``.numpy()`` then share memory with the tensor, as torch does on the CPU."""

    def __post_init__(self):
        object.__setattr__(self, "name", _check_name(self.name, "backend name", self))
        if isinstance(self.aliases, str):
            raise PluginError(f"Invalid aliases for backend {self.name!r}: expected a tuple of "
                              f"strings, got the string {self.aliases!r}")
        aliases = tuple(_check_name(a, "alias", self) for a in self.aliases)
        if self.name in aliases:
            raise PluginError(f"Invalid aliases for {self!r}: an alias repeats the name")
        object.__setattr__(self, "aliases", aliases)
        if not isinstance(self.api_version, int) or isinstance(self.api_version, bool):
            raise PluginError(f"Invalid api_version {self.api_version!r} for backend "
                              f"{self.name!r}: expected an int")
        for attr in ("load", "is_available", "device_count"):
            if not callable(getattr(self, attr)):
                raise PluginError(f"Invalid {attr} for backend {self.name!r}: expected a callable")


@dataclass(frozen=True)
class KernelSpec:
    """A kernel added to, or overriding one of, an existing backend.

    Yielded by :func:`plugrad.plugins.hookspec.plugrad_kernels`.

    Precedence, for one (backend, op): a plugin kernel always beats the backend's own
    implementation; among plugin kernels the highest ``priority`` wins, and on equal priority
    the plugin loaded last (entry points load in order of their names; ``register`` calls come
    after all entry points). ``python -m plugrad info`` shows which plugin won.

    Args:
        backend: backend name (not an alias) the kernel runs on.
        op: contract op name, a primitive or kernel (runtime functions cannot be replaced).
        fn: callable with the contract signature of ``op``.
        priority: tie-breaker among plugin kernels (higher wins).
    """

    backend: str
    """Name of the backend the kernel runs on."""
    op: str
    """Contract op name (see :data:`plugrad.plugins.contract.OPS`)."""
    fn: Callable[..., Any]
    """The implementation, with the contract signature of ``op``. It receives and returns the
    backend's own buffers; it is called directly on the per-op path, with no wrapper."""
    priority: int = 0
    """Higher wins among kernels for the same (backend, op)."""

    def __post_init__(self):
        object.__setattr__(self, "backend", _check_name(self.backend, "backend name", self))
        if self.op not in OPS:
            close = difflib.get_close_matches(str(self.op), OPS, n=3, cutoff=0.75)
            hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
            raise PluginError(f"Unknown kernel op {self.op!r} for backend {self.backend!r}."
                              f"{hint} Valid ops are listed in plugrad.plugins.contract.OPS.")
        if OPS[self.op].tier == "runtime":
            raise PluginError(f"Kernel op {self.op!r} is a runtime function of backend "
                              f"{self.backend!r}; only primitives and kernels can be overridden")
        if not callable(self.fn):
            raise PluginError(f"Kernel {self.backend}.{self.op}: fn must be callable, "
                              f"got {self.fn!r}")


@dataclass
class PluginInfo:
    """What the registry knows about one loaded plugin object (for info and error messages)."""
    plugin_name: str
    distribution: str = "<unknown>"
    version: str = ""
    backends: list = field(default_factory=list)
    kernels: list = field(default_factory=list)

    @property
    def provider(self) -> str:
        """'distribution version', as error messages and ``info`` print it."""
        return f"{self.distribution} {self.version}".strip()

    def describe(self) -> str:
        """"plugin 'x' (distribution d 1.0)": the phrase every plugin error starts with."""
        return f"plugrad plugin '{self.plugin_name}' (distribution {self.provider})"
