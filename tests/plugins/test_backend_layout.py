"""The built-in backends keep one module per contract group, under the same names.

A reader who knows where ``conv2d`` lives in one backend finds it under the same module name
in the others (``conv.py``), and the optimizer steps in ``optim.py`` everywhere. The rule is
read from the contract's groups, so a new group needs a module name here first.
"""
import importlib.metadata

import pytest

from plugrad.backends.cupy.backend import CupyBackend
from plugrad.backends.opencl.backend import OpenCLBackend
from plugrad.backends.jit.backend import NumbaBackend
from plugrad.backends.xp import ArrayModuleBackend
from plugrad.plugins.contract import OPS

# contract group -> the module(s) of a backend package that may define its ops. opencl's
# reduce and indexing groups are big enough to split by algorithm (scan.py: the axis walks of
# argmax/cumsum; sort.py), and its views only make CLArrays, so they sit with them in runtime.
MODULES = {
    "runtime": {"runtime"}, "unary": {"elementwise"}, "binary": {"elementwise"},
    "ternary": {"elementwise"}, "reduce": {"reduce", "scan"}, "view": {"movement", "runtime"},
    "movement": {"movement"}, "indexing": {"indexing", "sort"}, "linalg": {"linalg"},
    "conv": {"conv"}, "activation": {"nn"}, "loss": {"nn"}, "norm": {"nn"}, "optim": {"optim"},
    "random": {"random"}, "decomp": {"decomp"}, "complex": {"complex"},
    "fft": {"fft"},
}
BACKENDS = [ArrayModuleBackend, NumbaBackend, OpenCLBackend, CupyBackend]


def test_every_contract_group_has_a_module_name():
    assert {spec.group for spec in OPS.values()} == set(MODULES)


@pytest.mark.parametrize("backend", BACKENDS, ids=lambda c: c.__name__)
def test_each_op_lives_in_its_groups_module(backend):
    package = backend.__module__.rsplit(".", 1)[0]
    misplaced, found = [], 0
    for name, spec in OPS.items():
        owner = next((k for k in backend.__mro__ if name in k.__dict__), None)
        if owner is None or not owner.__module__.startswith(package + "."):
            continue        # bound per instance (numpy ufuncs) or inherited from xp
        found += 1
        module = owner.__module__.rsplit(".", 1)[1]
        if module not in MODULES[spec.group]:
            misplaced.append(f"{name} ({spec.group}) in {module}.py")
    assert found >= (2 if backend is NumbaBackend else 10)   # numba overrides a few
    assert not misplaced, misplaced


def test_builtin_entry_points_name_their_modules():
    """``backends/<entry-point name>``: numpy.py, cupy/, opencl/ (``plugrad.backends.cuda``
    stays torch.backends.cuda's flag module, so the CuPy backend is named after its library)."""
    points = {ep.name: ep.value for ep in importlib.metadata.entry_points(group="plugrad.backends")
              if ep.value.startswith("plugrad.backends.")}
    assert points == {"numpy": "plugrad.backends.numpy", "cupy": "plugrad.backends.cupy",
                      "opencl": "plugrad.backends.opencl"}
    import plugrad.backends.cuda as flags
    assert hasattr(flags, "matmul") and not hasattr(flags, "load")
