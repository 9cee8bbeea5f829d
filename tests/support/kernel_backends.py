"""Test backends for the optional-kernel tests: each case runs on cpu and on numpy backends
registered for the test that lack a kernel pair, so the frontend's compositions are checked
against torch too."""
from __future__ import annotations

import contextlib
import itertools

import numpy as np

from plugrad.backends.xp import ArrayModuleBackend
from plugrad.plugins import BackendSpec, get_registry, hookimpl

_ids = itertools.count()


@contextlib.contextmanager
def registered(load, prefix="testbackend"):
    """Register the backend ``load(name)`` builds under a fresh name for the with-block."""
    name = f"{prefix}{next(_ids)}"

    class Plugin:
        @hookimpl
        def plugrad_backends():
            yield BackendSpec(name=name, load=lambda: load(name))
    get_registry().register(Plugin, name=name)
    try:
        yield name
    finally:
        get_registry().unregister(name)


def without(*ops):
    """The numpy backend class with ``ops`` absent."""
    return type("Without_" + "_".join(ops), (ArrayModuleBackend,), dict.fromkeys(ops))


def kernel_device(param, forward, backward):
    """Fixture body (``yield from``): ``"cpu"``, or a numpy backend that is plain
    (``"numpy"``), lacks both kernels (``"without-both"``) or only the backward
    (``"without-backward"``)."""
    if param == "cpu":
        yield "cpu"
        return
    cls = {"numpy": ArrayModuleBackend, "without-both": without(forward, backward),
           "without-backward": without(backward)}[param]
    with registered(lambda name: cls(np, name), forward.replace("_", "")) as name:
        yield name
