"""The plugin contract: the hooks a plugrad plugin implements.

A plugin is any importable object (usually a module) named by an entry point in the
``plugrad.backends`` group, with functions marked by :data:`hookimpl`. The built-in backends
register through the very same entry points.

Hooks run when the registry is built or rebuilt (first device use, ``register``,
``unregister``); never per operation, so their cost does not matter for speed.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Iterable

import pluggy

if TYPE_CHECKING:
    from .types import BackendSpec, KernelSpec

PROJECT = "plugrad"

hookspec = pluggy.HookspecMarker(PROJECT)
"""Marker for hook specifications (used only in this module)."""

hookimpl = pluggy.HookimplMarker(PROJECT)
"""Marker for hook implementations: decorate your plugin's ``plugrad_backends`` and
``plugrad_kernels`` functions with ``@plugrad.plugins.hookimpl``."""


# -------------------------------------------------------------------------------------------
# Registration hooks: called when the registry is built or rebuilt
# -------------------------------------------------------------------------------------------

@hookspec
def plugrad_backends() -> Iterable["BackendSpec"]:
    """Register backends in plugrad. Called when the registry is built or rebuilt; never per op.

    Yield one :class:`~plugrad.plugins.BackendSpec` per device type the plugin provides.
    Yielding nothing is fine (a plugin that only adds kernels). ``BackendSpec.load`` is not
    called here: heavy imports belong in it, so an unused backend costs nothing.

    **Example:**

    .. code-block:: python

        from plugrad.plugins import hookimpl, BackendSpec

        @hookimpl
        def plugrad_backends():
            def load():
                from my_package.backend import MyBackend
                return MyBackend()
            yield BackendSpec(name="mydev", load=load, api_version=1)

    :returns: an iterable of BackendSpec.

    .. versionadded:: 0.1
    """
    yield from ()


@hookspec
def plugrad_kernels() -> Iterable["KernelSpec"]:
    """Register kernels that add to or override ops of an existing backend.

    Called when the registry is built or rebuilt; never per op. Yield one
    :class:`~plugrad.plugins.KernelSpec` per (backend, op). A kernel for an op the backend
    already has replaces it; among several plugin kernels for one (backend, op) the highest
    ``priority`` wins, ties going to the plugin registered last. Unknown op names are errors.

    **Example:**

    .. code-block:: python

        from plugrad.plugins import hookimpl, KernelSpec

        def my_matmul(a, b):  # same signature as the contract's matmul
            ...

        @hookimpl
        def plugrad_kernels():
            yield KernelSpec(backend="cpu", op="matmul", fn=my_matmul, priority=10)

    :returns: an iterable of KernelSpec.

    .. versionadded:: 0.1
    """
    yield from ()
