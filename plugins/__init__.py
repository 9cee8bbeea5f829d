"""plugrad's plugin system: the backend contract, hookspecs, registry and device parsing.

Backend authors need only ``hookimpl``, ``BackendSpec`` and ``KernelSpec`` from here, plus the
contract in :mod:`plugrad.plugins.contract`. See the README section "Writing a backend".
"""
from .contract import API_VERSION, OPS
from .hookspec import hookimpl
from .registry import PluginWarning, Registry, get_registry
from .types import BackendSpec, KernelSpec, PluginError


def fallback_report() -> dict:
    """How often each op ran on the cpu backend for lack of a native one: {'backend.op': n}."""
    return get_registry().fallbacks.report()


def register(plugin, name=None):
    """Register a plugin object (a module or class with hookimpls) with the shared registry."""
    return get_registry().register(plugin, name=name)


def unregister(name):
    """Remove a plugin registered with :func:`register` (or by entry point) by name."""
    get_registry().unregister(name)


__all__ = ["API_VERSION", "OPS", "BackendSpec", "KernelSpec", "PluginError", "PluginWarning",
           "Registry", "fallback_report", "get_registry", "hookimpl", "register", "unregister"]
