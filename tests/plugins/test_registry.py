"""The registry: entry-point loading, validation, conflicts, env lists, device strings, tables.

Every plugin here is a throwaway distribution written to a temporary directory (a
``.dist-info`` with ``entry_points.txt``, as pip leaves it) and loaded by a fresh
``Registry()``, so the process-wide registry the frontend uses is never touched.
"""
from __future__ import annotations

import importlib.metadata as metadata
import itertools

import numpy as np
import pytest
import torch  # noqa: F401  (the oracle must be installed; plugin tests use it below)

from plugin_dists import make_dist, numpy_backend_source
from plugrad.plugins import (BackendSpec, KernelSpec, PluginError, PluginWarning, Registry,
                             hookimpl)
from plugrad.plugins.device import parse_device
from plugrad.plugins.info import info_table

_ids = itertools.count()


def uid(prefix):
    """A module/backend name no other test uses (sys.modules caches modules by name)."""
    return f"{prefix}{next(_ids)}"


@pytest.fixture
def dists(tmp_path, monkeypatch):
    """make(dist name, version, {ep: module}, {module: source}) -> a fresh Registry."""
    monkeypatch.delenv("PLUGRAD_STRICT_PLUGINS", raising=False)

    def make(name, version, entry_points, modules):
        root = make_dist(tmp_path / uid("d"), name, version, entry_points, modules)
        monkeypatch.syspath_prepend(str(root))
        return Registry()
    return make


def backend_dist(dists, dist="plugrad-fakedev", version="1.2.0", api_version=1):
    name, module = uid("fakedev"), uid("plugrad_fakedev_")
    reg = dists(dist, version, {name: module},
                {module: numpy_backend_source(name, api_version)})
    return reg, name


# ------------------------------------------------------------------------ entry points
def test_builtin_backends_register_through_the_entry_point_group():
    eps = {ep.name: ep for ep in metadata.entry_points(group="plugrad.backends")}
    assert {"numpy", "cupy", "opencl"} <= set(eps)
    assert all(eps[n].dist.metadata["Name"] == "plugrad" for n in ("numpy", "cupy", "opencl"))
    reg = Registry()
    cpu = reg.backend("cpu")
    assert cpu.provider.distribution == "plugrad" and cpu.provider.plugin_name == "numpy"
    assert reg.backend("numpy") is cpu                        # alias


def test_third_party_backend_found_by_entry_point(dists):
    reg, name = backend_dist(dists)
    entry = reg.backend(name)
    assert entry.provider.provider == "plugrad-fakedev 1.2.0"
    table = reg.table(name)
    got = table.to_host(table.add(table.from_host(np.arange(3.0)), 1.5))
    np.testing.assert_array_equal(got, [1.5, 2.5, 3.5])
    assert reg.canonical(f"{name}:0") == (name, 0)
    text = info_table(reg)
    assert name in text and "plugrad-fakedev 1.2.0" in text and "72/72" in text


def test_plugin_whose_import_fails_warns_and_others_load(dists):
    module = uid("broken_")
    with pytest.warns(PluginWarning) as record:
        reg = dists("plugrad-broken", "0.3", {"brokendev": module},
                    {module: "import not_a_module_anywhere\n"})
        reg.ensure_ready()
    text = str(record[0].message)
    for part in ("'brokendev'", "plugrad-broken 0.3", "failed to import",
                 "ModuleNotFoundError", "not_a_module_anywhere",
                 "PLUGRAD_DISABLE_PLUGINS=brokendev"):
        assert part in text, part
    assert reg.table("cpu").add(1.0, 2.0) == 3.0             # the rest still works
    assert reg.problems == [text]
    # issue 17.6: asking for the device names the plugin that failed and its error
    for ask in (lambda: reg.canonical("brokendev"), lambda: reg.table("brokendev")):
        with pytest.raises(RuntimeError, match=r"unknown device 'brokendev'\..*Plugins that "
                           r"failed to import: 'brokendev' \(distribution plugrad-broken 0\.3: "
                           r"ModuleNotFoundError: No module named 'not_a_module_anywhere'\)"):
            ask()


def test_strict_mode_raises_on_a_broken_plugin(dists, monkeypatch):
    module = uid("broken_")
    reg = dists("plugrad-broken", "0.3", {"brokendev": module},
                {module: "raise RuntimeError('boom at import')\n"})
    monkeypatch.setenv("PLUGRAD_STRICT_PLUGINS", "1")
    with pytest.raises(PluginError, match=r"plugrad-broken 0\.3.*boom at import"):
        reg.ensure_ready()


def test_hook_that_raises_loses_only_that_plugin(dists):
    module = uid("raising_")
    source = """
        from plugrad.plugins import hookimpl
        @hookimpl
        def plugrad_backends():
            raise ValueError("cannot enumerate devices")
    """
    with pytest.warns(PluginWarning, match=r"(?s)plugrad-raising 2\.0.*plugrad_backends\(\) "
                                           r"raised ValueError: cannot enumerate devices"):
        reg = dists("plugrad-raising", "2.0", {"raisingdev": module}, {module: source})
        reg.ensure_ready()
    assert reg.backend("cpu").availability() is True


def test_wrong_api_version_is_rejected_with_the_fix(dists):
    with pytest.warns(PluginWarning) as record:
        reg, name = backend_dist(dists, api_version=7)
        reg.ensure_ready()
    text = str(record[0].message)
    assert f"backend '{name}' declares api_version 7" in text
    assert "implements api_version 1" in text and "Upgrade plugrad" in text
    assert "plugrad-fakedev 1.2.0" in text
    with pytest.raises(KeyError):
        reg.backend(name)


def test_missing_runtime_function_names_it_and_the_plugin(dists):
    module = uid("noruntime_")
    source = numpy_backend_source("norun").replace(
        "return ArrayModuleBackend(numpy, \"norun\")",
        "b = ArrayModuleBackend(numpy, 'norun')\n"
        "    class Partial:\n"
        "        def __getattr__(self, n):\n"
        "            if n in ('to_host', 'assign'): raise AttributeError(n)\n"
        "            return getattr(b, n)\n"
        "    return Partial()")
    reg = dists("plugrad-norun", "0.9", {"norun": module}, {module: source})
    with pytest.raises(PluginError) as info:
        reg.table("norun")
    text = str(info.value)
    for part in ("lacks required runtime functions: to_host, assign", "plugrad-norun 0.9",
                 "plugin 'norun'"):
        assert part in text, part
    assert "lacks required runtime" in reg.backend("norun").availability()
    assert reg.table("cpu").native                             # others unaffected
    assert "norun" in info_table(reg)


def test_kernel_op_typo_suggests_the_name(dists):
    module = uid("typo_")
    source = """
        from plugrad.plugins import KernelSpec, hookimpl
        @hookimpl
        def plugrad_kernels():
            yield KernelSpec(backend="cpu", op="matmull", fn=lambda a, b: a)
    """
    with pytest.warns(PluginWarning) as record:
        reg = dists("plugrad-typo", "0.1", {"typo": module}, {module: source})
        reg.ensure_ready()
    text = str(record[0].message)
    assert "Unknown kernel op 'matmull'" in text and "Did you mean 'matmul'?" in text
    assert "plugrad-typo 0.1" in text
    assert reg.table("cpu").overridden == {}


def test_two_plugins_claiming_one_name(dists, tmp_path, monkeypatch):
    name = uid("dupdev")
    for dist, version in (("plugrad-dup-a", "1.0"), ("plugrad-dup-b", "2.5")):
        module = uid("dup_")
        root = make_dist(tmp_path / uid("d"), dist, version, {uid("ep"): module},
                         {module: numpy_backend_source(name)})
        monkeypatch.syspath_prepend(str(root))
    with pytest.warns(PluginWarning) as record:
        reg = Registry()
        reg.ensure_ready()
    text = str(record[0].message)
    assert f"Conflicting plugrad backends for the name '{name}'" in text
    assert "plugrad-dup-a 1.0" in text and "plugrad-dup-b 2.5" in text
    assert "Uninstall one of them" in text and "PLUGRAD_DISABLE_PLUGINS" in text
    with pytest.raises(RuntimeError, match="claimed by several plugins"):
        reg.table(name)
    assert reg.table("cpu").native                             # the others keep working


def test_builtin_name_is_kept_by_the_builtin(dists):
    module = uid("takeover_")
    with pytest.warns(PluginWarning, match="The built-in backend keeps it"):
        reg = dists("plugrad-takeover", "0.1", {"takeover": module},
                    {module: numpy_backend_source("cpu")})
        reg.ensure_ready()
    assert reg.backend("cpu").provider.distribution == "plugrad"
    assert reg.backend("cpu").availability() is True


@pytest.mark.parametrize("variable,value,loaded", [
    ("PLUGRAD_DISABLE_PLUGINS", "{ep}", False),
    ("PLUGRAD_DISABLE_PLUGINS", "plugrad-listed", False),       # by distribution name
    ("PLUGRAD_DISABLE_PLUGINS", "someone-else", True),
    ("PLUGRAD_PLUGINS", "{ep}", True),
    ("PLUGRAD_PLUGINS", "opencl", False),
])
def test_disable_and_allow_lists(dists, monkeypatch, variable, value, loaded):
    name, module = uid("listed"), uid("listed_")
    monkeypatch.setenv(variable, value.format(ep=name))
    reg = dists("plugrad-listed", "1.0", {name: module}, {module: numpy_backend_source(name)})
    assert (name in {e.name for e in reg.entries()}) is loaded
    assert reg.backend("cpu").availability() is True           # numpy is always loaded


# ------------------------------------------------------------------------ device strings
@pytest.mark.parametrize("text,parsed", [("cpu", ("cpu", None)), ("cuda:1", ("cuda", 1)),
                                         ("opencl:0", ("opencl", 0)), (" gpu ", ("gpu", None))])
def test_parse_device(text, parsed):
    assert parse_device(text) == parsed


@pytest.mark.parametrize("text", ["cuda:", "cuda:-1", "CU DA", "cuda:1:2", ""])
def test_parse_device_rejects_bad_syntax(text):
    with pytest.raises(RuntimeError, match="Invalid device string"):
        parse_device(text)


def test_unknown_device_lists_available_and_why_others_are_not():
    reg = Registry()
    assert reg.canonical("gpu:1") == ("cuda", 1) and reg.canonical("cl") == ("opencl", None)
    with pytest.raises(RuntimeError) as info:
        reg.canonical("cdua")
    text = str(info.value)
    assert "unknown device 'cdua'" in text and "Did you mean 'cuda'?" in text
    assert "Available: " in text and "cpu" in text
    cuda = reg.backend("cuda").availability()
    if cuda is not True:
        assert f"cuda ({cuda})" in text


# ------------------------------------------------------------------------ dispatch tables
def _kernel_plugin(fn, op="erf", priority=0):
    class Plugin:
        @hookimpl
        def plugrad_kernels():
            yield KernelSpec(backend="cpu", op=op, fn=fn, priority=priority)
    return Plugin


def test_tables_are_refilled_in_place_and_hold_plain_callables():
    reg = Registry()
    table = reg.table("cpu")
    native_erf = table.erf

    def fast_erf(x, out=None):
        return np.full_like(x, 0.25)
    name = reg.register(_kernel_plugin(fast_erf), name="fast")
    # no pluggy: the plugin's own function behind the cheap result check (checks.checked)
    assert reg.table("cpu") is table and table.erf.__wrapped__ is fast_erf
    assert table.overridden == {"erf": "fast"}
    reg.unregister(name)
    assert getattr(table.erf, "__wrapped__", None) is not fast_erf and table.overridden == {}
    np.testing.assert_allclose(table.erf(np.array([0.5])), native_erf(np.array([0.5])))


def test_kernel_precedence_priority_then_last_registered():
    reg = Registry()
    def k(value):
        return lambda x, out=None: np.full_like(x, value)
    reg.register(_kernel_plugin(k(1.0), priority=5), name="high")
    reg.register(_kernel_plugin(k(2.0), priority=0), name="low")
    assert reg.table("cpu").erf(np.zeros(1))[0] == 1.0          # priority wins
    reg.register(_kernel_plugin(k(3.0), priority=5), name="tie")
    assert reg.table("cpu").erf(np.zeros(1))[0] == 3.0          # tie: the later plugin
    text = info_table(reg)
    assert "cpu.erf (primitive) from plugin 'tie' (distribution <registered>): active" in text
    assert "from plugin 'high' (distribution <registered>): shadowed by plugin 'tie'" in text


def test_kernel_for_a_backend_nobody_provides_warns():
    reg = Registry()
    reg.ensure_ready()

    class Other:
        @hookimpl
        def plugrad_kernels():
            yield KernelSpec(backend="nosuchdev", op="erf", fn=lambda x, out=None: x)
    with pytest.warns(PluginWarning, match="backend 'nosuchdev', which no plugin provides"):
        reg.register(Other, name="other")
    assert reg.table("cpu").overridden == {}


def test_debug_mode_catches_a_kernel_of_the_wrong_shape(dists, monkeypatch):
    module = uid("badmm_")
    source = """
        import numpy as np
        from plugrad.plugins import KernelSpec, hookimpl

        def bad_matmul(a, b):
            return np.matmul(a, b).T                      # wrong shape

        @hookimpl
        def plugrad_kernels():
            yield KernelSpec(backend="cpu", op="matmul", fn=bad_matmul)
    """
    reg = dists("plugrad-badmm", "0.2", {"badmm": module}, {module: source})
    a, b = np.ones((2, 4), np.float32), np.ones((4, 3), np.float32)
    bad = reg.table("cpu").matmul
    assert bad.__wrapped__.__module__ == module
    with pytest.raises(PluginError, match="plugrad kernel check: 'matmul'"):
        bad(a, b)                   # normal mode: a plugin kernel's shape is checked cheaply
    monkeypatch.setenv("PLUGRAD_DEBUG_KERNELS", "1")
    reg = Registry()
    with pytest.raises(PluginError) as info:
        reg.table("cpu").matmul(a, b)
    text = str(info.value)
    for part in ("'matmul' on backend 'cpu' returned shape (3, 2)", "expected shape (2, 3)",
                 "kernel from plugrad plugin 'badmm' (distribution plugrad-badmm 0.2)",
                 "arg 0: shape (2, 4) float32", "python -m plugrad conformance cpu",
                 "PLUGRAD_DISABLE_PLUGINS"):
        assert part in text, part
    np.testing.assert_array_equal(reg.table("cpu").add(a, 1.0), a + 1)   # others pass


def test_debug_mode_catches_a_wrong_dtype(monkeypatch):
    monkeypatch.setenv("PLUGRAD_DEBUG_KERNELS", "1")
    reg = Registry()
    reg.register(_kernel_plugin(lambda x, out=None: np.tanh(x).astype(np.float64),
                                op="tanh"), name="f64tanh")
    with pytest.raises(PluginError, match=r"dtype float64, expected shape \(3,\) and dtype "
                                          r"float32"):
        reg.table("cpu").tanh(np.ones(3, np.float32))


def test_supports():
    reg = Registry()
    assert reg.supports("cpu", "add", "float32") and not reg.supports("cpu", "add", "float8_e5m2")
    assert not reg.supports("cpu", "no_such_op") and not reg.supports("nosuchdev", "add")
    assert reg.table("cpu").supports("matmul")


def test_backend_spec_validation():
    with pytest.raises(PluginError, match=r"Invalid backend name 'My Dev'"):
        BackendSpec(name="My Dev", load=lambda: None)
    with pytest.raises(PluginError, match="Invalid api_version '1'"):
        BackendSpec(name="mydev", load=lambda: None, api_version="1")
    with pytest.raises(PluginError, match="expected a tuple of strings"):
        BackendSpec(name="mydev", load=lambda: None, aliases="md")
    with pytest.raises(PluginError, match="runtime function"):
        KernelSpec(backend="cpu", op="to_host", fn=lambda x: x)
    assert BackendSpec(name=" MyDev ", load=lambda: None).name == "mydev"
