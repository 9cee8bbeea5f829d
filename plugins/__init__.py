"""plugrad's plugin system: the backend contract, hookspecs, registry and device parsing.

Backend authors need only ``hookimpl``, ``BackendSpec`` and ``KernelSpec`` from here, plus the
contract in :mod:`plugrad.plugins.contract`, and prove their backend with
``python -m plugrad conformance NAME`` (:mod:`plugrad.plugins.conformance`). See the README
section "Writing a backend".
"""
from .contract import API_VERSION, OPS
from .dispatch import FallbackWarning
from .comm import CommBackendSpec  # noqa: F401  (communication backends: plugrad.distributed)
from .hookspec import hookimpl
from .registry import PluginWarning, Registry, get_registry
from .types import BackendSpec, KernelSpec, PluginError


def fallback_report() -> dict:
    """How often each op ran on the cpu backend for lack of a native one: {'backend.op': n}.

    The first fallback of each (backend, op) also warns; ``PLUGRAD_STRICT_BACKEND=1`` turns
    fallbacks into RuntimeErrors instead.
    """
    return get_registry().fallbacks.report()


def supports(device: str, op: str, dtype=None) -> bool:
    """True when ``op`` runs natively on ``device`` (no cpu fallback) for ``dtype``.

    ``dtype`` is a plugrad dtype or a contract dtype name (``'float64'``); ``None`` asks about
    the op alone. Unknown ops and unavailable devices give False, so callers can skip cleanly::

        if not plugrad.plugins.supports("opencl", "matmul", plugrad.float64):
            pytest.skip("no float64 matmul on this device")
    """
    name = getattr(dtype, "name", dtype)
    return get_registry().supports(str(device), op, name)


def info_table() -> str:
    """The text ``python -m plugrad info`` prints."""
    from .info import info_table as build
    return build()


def register(plugin, name=None):
    """Register a plugin object (a module or class with hookimpls) with the shared registry."""
    return get_registry().register(plugin, name=name)


def unregister(name):
    """Remove a plugin registered with :func:`register` (or by entry point) by name."""
    get_registry().unregister(name)


__all__ = ["API_VERSION", "OPS", "BackendSpec", "FallbackWarning", "KernelSpec", "PluginError",
           "PluginWarning", "Registry", "fallback_report", "get_registry", "hookimpl",
           "info_table", "register", "supports", "unregister"]
