"""plugrad backend ``torchcpu``: registered through the ``plugrad.backends`` entry point.

Importing this module is cheap; torch is imported by ``load()`` on first use of the device.
"""
import importlib.util

from plugrad.plugins import BackendSpec, hookimpl

__version__ = "0.1.0"


def _available():
    """True, or why not (never raises): the registry shows the reason in errors and info."""
    if importlib.util.find_spec("torch") is None:
        return "torch is not installed (pip install torch)"
    return True


def _load():
    from .backend import TorchCPUBackend
    return TorchCPUBackend()


@hookimpl
def plugrad_backends():
    yield BackendSpec(name="torchcpu", load=_load, api_version=1, is_available=_available,
                      description="PyTorch CPU tensors (example out-of-tree backend)")
