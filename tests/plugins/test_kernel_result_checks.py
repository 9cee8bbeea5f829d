"""A kernel plugin's results are checked: cheaply always (None, shape, dtype attribute), fully
under PLUGRAD_DEBUG_KERNELS=1; the error names the plugin and the kernel."""
import numpy as np
import pytest

import plugrad
from plugrad.plugins import KernelSpec, PluginError, get_registry, hookimpl


def _plugin(op, fn):
    class Plugin:
        @hookimpl
        def plugrad_kernels():
            yield KernelSpec(backend="cpu", op=op, fn=fn)
    return Plugin


@pytest.fixture
def register():
    reg = get_registry()
    names = []

    def add(op, fn):
        names.append(reg.register(_plugin(op, fn), name=f"bad-{op}"))
    yield add
    for name in names:
        reg.unregister(name)


@pytest.mark.parametrize("op, fn, call, problem", [
    ("add", lambda a, b, out=None: None,
     lambda: (plugrad.ones(2) + plugrad.ones(2)).tolist(), "returned None"),
    ("softmax", lambda x, axis: x[..., :1],
     lambda: plugrad.ones(2, 3).softmax(1), r"returned shape \(2, 1\)"),
    ("softmax", lambda x, axis: x.astype(np.float64),
     lambda: plugrad.ones(2, 3).softmax(1), "dtype float64, expected shape"),
    ("cross_entropy", lambda x, t, ignore: x[:, 0],
     lambda: plugrad.nn.functional.cross_entropy(plugrad.ones(2, 3), plugrad.tensor([0, 1])),
     "instead of a buffer|returned"),
    ("matmul", lambda a, b: a,
     lambda: plugrad.ones(2, 3) @ plugrad.ones(3, 4), r"expected shape \(2, 4\)"),
])
def test_bad_kernel_result_names_plugin_and_kernel(register, op, fn, call, problem):
    register(op, fn)
    with pytest.raises(PluginError, match=problem) as info:
        call()
    assert f"'{op}' on backend 'cpu'" in str(info.value)
    assert f"implementation: kernel from plugrad plugin 'bad-{op}'" in str(info.value)


def test_good_kernel_runs_through_the_check(register):
    register("softmax", lambda x, axis: np.full_like(x, 0.5))
    assert plugrad.ones(2, 2).softmax(1).tolist() == [[0.5, 0.5], [0.5, 0.5]]


def test_debug_mode_checks_fully(monkeypatch):
    """Under PLUGRAD_DEBUG_KERNELS=1 every native op is wrapped, and a dtype is checked even
    for buffers that do not carry one (read back through the backend)."""
    from plugrad.plugins.registry import Registry
    monkeypatch.setenv("PLUGRAD_DEBUG_KERNELS", "1")
    reg = Registry()
    assert hasattr(reg.table("cpu").add, "__wrapped__")
    reg.register(_plugin("softmax", lambda x, axis: x[:1]), name="bad-softmax")
    with pytest.raises(PluginError, match=r"PLUGRAD_DEBUG_KERNELS=1.*returned shape \(1, 3\)"):
        reg.table("cpu").softmax(np.ones((2, 3), np.float32), 1)
