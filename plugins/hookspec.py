"""The plugin contract: the hooks a plugrad plugin implements.

A plugin is any importable object (usually a module) named by an entry point in the
``plugrad.backends`` group, with functions marked by :data:`hookimpl`:

.. code-block:: toml

    # the plugin distribution's pyproject.toml
    [project.entry-points."plugrad.backends"]
    mydev = "plugrad_mydev"          # a module with @hookimpl functions

The built-in backends (numpy ``cpu``, cupy ``cuda``, pyopencl ``opencl``) register through
the very same entry points. Hooks run when the registry is built or rebuilt (first device use,
``plugrad.plugins.register``/``unregister``); never per operation, so their cost does not
matter for speed. What they yield is validated (:class:`~plugrad.plugins.PluginError`
messages name the plugin, its distribution and version, and the remedy) and turned into
dispatch tables: the per-op path is a plain attribute lookup.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Iterable

import pluggy

if TYPE_CHECKING:
    from .comm import CommBackendSpec
    from .types import BackendSpec, KernelSpec

PROJECT = "plugrad"

hookspec = pluggy.HookspecMarker(PROJECT)
"""Marker for hook specifications (used only in this module)."""

hookimpl = pluggy.HookimplMarker(PROJECT)
"""Marker for hook implementations: decorate your plugin's ``plugrad_backends`` and
``plugrad_kernels`` functions with ``@plugrad.plugins.hookimpl``."""


# -------------------------------------------------------------------------------------------
# Registration hooks: called when the registry is built or rebuilt, in this order
# -------------------------------------------------------------------------------------------

@hookspec
def plugrad_backends() -> Iterable["BackendSpec"]:
    """Register backends in plugrad. Called when the registry is built or rebuilt; never per op.

    Yield one :class:`~plugrad.plugins.BackendSpec` per device type the plugin provides.
    Yielding nothing is fine (a plugin that only adds kernels). ``BackendSpec.load`` is not
    called here: heavy imports belong in it, so an unused backend costs nothing.

    What the registry does with each spec:

    * ``api_version`` must equal :data:`plugrad.plugins.contract.API_VERSION`; otherwise the
      spec is rejected with a warning (an error under ``PLUGRAD_STRICT_PLUGINS=1``).
    * ``name`` and ``aliases`` must be unique across plugins. Two plugins claiming one name
      are both rejected with a message listing each one's distribution and version -- except a
      built-in name (``cpu``, ``cuda``, ``opencl``), which the built-in keeps.
    * On first use of the device, ``load()`` runs and the object must have every runtime
      function of the contract (a missing one gives a PluginError naming them).

    If the hook raises, that plugin contributes nothing and a warning names it; every other
    plugin still loads.

    **Example:**

    .. code-block:: python

        from plugrad.plugins import hookimpl, BackendSpec

        @hookimpl
        def plugrad_backends():
            def load():
                from my_package.backend import MyBackend   # the heavy import happens here
                return MyBackend()
            yield BackendSpec(name="mydev", load=load, api_version=1,
                              description="my array library")

    :returns: an iterable of BackendSpec (a generator is typical).

    Use in plugins registered through the ``plugrad.backends`` entry-point group, or with
    :func:`plugrad.plugins.register`.

    .. versionadded:: 0.1
    """
    yield from ()


@hookspec
def plugrad_kernels() -> Iterable["KernelSpec"]:
    """Register kernels that add to or override ops of an existing backend.

    Called when the registry is built or rebuilt, after :func:`plugrad_backends`; never per op.
    Yield one :class:`~plugrad.plugins.KernelSpec` per (backend, op). Yielding nothing is fine.

    Precedence: a plugin kernel always replaces the backend's own implementation of that op;
    among several plugin kernels for one (backend, op) the highest ``KernelSpec.priority``
    wins, and on a tie the plugin loaded last (entry points load sorted by name; plugins
    passed to :func:`plugrad.plugins.register` come after them). The winner is shown in
    ``python -m plugrad info``. The kernel is called directly, with the contract signature of
    ``op``, on the backend's own buffers; ``PLUGRAD_DEBUG_KERNELS=1`` wraps it with shape and
    dtype checks while you develop it.

    Errors: an unknown ``op`` raises PluginError when the KernelSpec is built, with a
    "Did you mean" hint, so the hook fails and the plugin is skipped with a warning; a kernel
    for a backend that no plugin provides is ignored with a warning.

    **Example:**

    .. code-block:: python

        from plugrad.plugins import hookimpl, KernelSpec

        def fast_erf(x, out=None):            # same signature as the contract's erf
            ...

        @hookimpl
        def plugrad_kernels():
            yield KernelSpec(backend="cpu", op="erf", fn=fast_erf, priority=10)

    :returns: an iterable of KernelSpec.

    Use in plugins registered through the ``plugrad.backends`` entry-point group, or with
    :func:`plugrad.plugins.register`.

    .. versionadded:: 0.1
    """
    yield from ()


# -------------------------------------------------------------------------------------------
# Communication backends (plugrad.distributed): entry-point group ``plugrad.distributed``
# -------------------------------------------------------------------------------------------

@hookspec
def plugrad_comm_backends() -> Iterable["CommBackendSpec"]:
    """Register communication backends for :mod:`plugrad.distributed`. Called when the
    communication registry is first used (``init_process_group``, ``python -m plugrad info``).

    Yield one :class:`~plugrad.plugins.CommBackendSpec` per backend name users pass to
    ``init_process_group(backend=...)``. Its ``load()`` returns a callable building a process
    group (see :mod:`plugrad.distributed.backend` for the contract); heavy imports (mpi4py,
    cupy) belong in ``load``. Names must be unique; a broken plugin is skipped with a warning.

    **Example:**

    .. code-block:: python

        @hookimpl
        def plugrad_comm_backends():
            def load():
                from my_package.comm import MyProcessGroup
                return MyProcessGroup          # MyProcessGroup(rank, world_size, options)
            yield CommBackendSpec(name="mycoll", load=load, devices=("cuda",),
                                  description="vendor collectives")

    Use in plugins registered through the ``plugrad.distributed`` entry-point group.

    .. versionadded:: 0.1
    """
    yield from ()
