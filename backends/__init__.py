"""The built-in backend plugins: numpy (``cpu``), cupy (``cuda``) and pyopencl (``opencl``).

Each registers through the ``plugrad.backends`` entry-point group, exactly as a third-party
backend would. ``xp/`` is the array-module implementation that numpy and cupy share.
"""

# torch.backends' flag modules (cudnn, cuda.matmul, mps, mkldnn, opt_einsum, ...) live in
# plugrad._backend_flags; bound here under torch's names so `torch.backends.cudnn.benchmark`
# and `import plugrad.backends.cudnn` work beside the plugin modules (no name is shared).
import importlib as _importlib  # noqa: E402
import sys as _sys  # noqa: E402

from plugrad._backend_flags import TORCH_NAMES as _TORCH_NAMES  # noqa: E402

for _name in _TORCH_NAMES:
    _mod = _importlib.import_module(f"plugrad._backend_flags.{_name}")
    _sys.modules[f"{__name__}.{_name}"] = _mod
    globals()[_name] = _mod
del _name, _mod
