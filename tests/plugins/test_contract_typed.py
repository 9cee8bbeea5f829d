"""The typed contract: each entry is a documented stub, checked against a backend when it
loads, and ``help(plugrad.plugins.contract)`` shows every one with its signature."""
from __future__ import annotations

import inspect
import itertools
import pydoc

import numpy as np
import pytest

import plugrad
from plugrad.backends.xp import ArrayModuleBackend
from plugrad.plugins import BackendSpec, PluginError, contract, get_registry, hookimpl

_ids = itertools.count()


def _register(backend_class):
    name = f"typed{next(_ids)}"

    class Plugin:
        @hookimpl
        def plugrad_backends():
            yield BackendSpec(name=name, load=lambda: backend_class(np, name))
    get_registry().register(Plugin, name=name)
    return name


@pytest.fixture
def registered():
    names = []
    yield lambda cls: names.append(_register(cls)) or names[-1]
    for name in names:
        get_registry().unregister(name)


def test_help_shows_every_entry_with_its_signature():
    text = pydoc.render_doc(contract, renderer=pydoc.plaintext)
    for name, spec in {**contract.OPS, **contract.CAPABILITIES}.items():
        first_param = next(iter(spec.signature.parameters), None)
        assert f"{name}(" in text, name
        if first_param is not None:
            assert f"{name}({first_param}" in text, name
    assert "add(a: 'Buf | Scalar', b: 'Buf | Scalar', out: 'Buf | None' = None) -> 'Buf'" \
        in text


def test_every_entry_is_typed_and_documented():
    for name, spec in {**contract.OPS, **contract.CAPABILITIES}.items():
        assert spec.doc, name
        assert spec.signature.return_annotation is not inspect.Signature.empty, name
        for param in spec.signature.parameters.values():
            assert param.annotation is not inspect.Parameter.empty, (name, param.name)
    assert contract.OPS["add"].args == ("buf|scalar", "buf|scalar")
    assert contract.OPS["eq"].result == "bool" and contract.OPS["add"].result is None


def test_built_in_backends_fit_their_stubs():
    for device in ("cpu", "opencl"):
        assert contract.signature_problems(get_registry().table(device).impl) == []


def test_add_without_out_is_rejected_when_the_backend_loads(registered):
    def add(a, b):                          # the contract calls add(a, b, out=buf)
        return np.add(a, b)

    class NoOut(ArrayModuleBackend):
        def __init__(self, xp, name):
            super().__init__(xp, name)
            self.add = add                  # (the base binds its ufuncs per instance)

    name = registered(NoOut)
    with pytest.raises(PluginError) as info:
        plugrad.ones(2, device=name)
    message = str(info.value)
    assert f"backend '{name}'" in message and "add(a, b)" in message
    assert "does not accept the keyword 'out='" in message
    assert "plugrad.plugins.contract" in message


def test_wrong_arity_and_capability_signatures_are_rejected(registered):
    class Wrong(ArrayModuleBackend):
        def sum(self, x, axes):             # keepdims missing
            return np.sum(x, axes)

        def transfer_to(self, x):           # the index is missing
            return x

    name = registered(Wrong)
    with pytest.raises(PluginError) as info:
        plugrad.ones(2, device=name)
    message = str(info.value)
    assert "sum(x, axes) does not take the contract's 3 positional argument(s)" in message
    assert "transfer_to(x)" in message


def test_capabilities_are_declared_before_they_are_asked_for():
    impl = get_registry().table("cpu").impl
    assert contract.capability(impl, "checks_indices") is False
    assert contract.capability(impl, "device_guard") is None
    assert callable(contract.capability(impl, "supports"))
    with pytest.raises(KeyError, match="not a capability"):
        contract.capability(impl, "fast_mode")
