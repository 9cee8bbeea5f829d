"""plugrad: a PyTorch-compatible deep-learning library whose every primitive runs on a pluggable
backend (numpy ``cpu``, cupy ``cuda``, pyopencl ``opencl``, or a third party's).

``import plugrad as torch`` and PyTorch code for tensors, autograd, ``nn`` and ``optim`` runs.
"""
from __future__ import annotations

__version__ = "0.1.0"

from . import _dtype
from ._dtype import (bfloat16, complex64, complex128, dtype, float16, float32, float64,
                     get_default_dtype, int8, int16, int32, int64, promote_types,
                     set_default_dtype, uint8)
from ._dtype import bool_ as bool  # noqa: A001  (torch.bool)
from ._device import device
from ._tensor import Size, Tensor
from . import _methods  # noqa: F401  (binds Tensor methods)
from ._generator import (Generator, default_generator, get_rng_state, initial_seed,
                         manual_seed, seed, set_rng_state)
from ._formatting import get_printoptions, set_printoptions
from . import autograd
from .autograd import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from ._functions import *  # noqa: F401,F403  (torch.add, torch.zeros, ...)
from ._functions import __all__ as _function_names
from ._functions import _addmm_activation  # noqa: F401  (torch._addmm_activation)

half, float, double = float16, float32, float64  # noqa: A001
short, int, long = int16, int32, int64  # noqa: A001
uint8 = uint8
cfloat, cdouble = complex64, complex128

from . import cuda, opencl  # noqa: E402
from . import nn, optim  # noqa: E402
from . import testing  # noqa: E402,F401  (plugrad.testing.compare_backends)
from . import utils  # noqa: E402  (plugrad.utils.data)
from . import distributed  # noqa: E402  (torch.distributed; MPI starts at init_process_group)
from .serialization import load, save  # noqa: E402

# --- torch's wider API surface that real programs touch (issue 11): legacy types, limits,
# settings, accelerator, backends flags, mixed precision, compile/jit, utility modules
import math as _math  # noqa: E402
from ._type_info import finfo, iinfo  # noqa: E402
from ._legacy_types import LEGACY_TYPES as _LEGACY_TYPES  # noqa: E402
from ._memory_format import (channels_last, channels_last_3d, contiguous_format,  # noqa: E402
                             memory_format, preserve_format)
from ._device import get_default_device, set_default_device  # noqa: E402
from ._runtime_settings import (are_deterministic_algorithms_enabled,  # noqa: E402
                                get_deterministic_debug_mode, get_float32_matmul_precision,
                                get_num_interop_threads, get_num_threads,
                                is_deterministic_algorithms_warn_only_enabled,
                                set_deterministic_debug_mode, set_float32_matmul_precision,
                                set_num_interop_threads, set_num_threads,
                                use_deterministic_algorithms)
from . import accelerator, backends  # noqa: E402
globals().update(_LEGACY_TYPES)
from ._foreach import build as _build_foreach  # noqa: E402
globals().update(_build_foreach())   # torch._foreach_add & co (issue 11 item 3)
pi, e, inf, nan = _math.pi, _math.e, _math.inf, _math.nan
from . import cpu, amp, jit, multiprocessing, onnx, profiler, hub  # noqa: E402
from . import special  # noqa: E402  (torch.special)
from . import linalg  # noqa: E402  (torch.linalg)
from . import fft  # noqa: E402  (torch.fft)
from .amp import autocast  # noqa: E402
from .amp.autocast_mode import (clear_autocast_cache, get_autocast_cpu_dtype,  # noqa: E402
                                get_autocast_dtype, get_autocast_gpu_dtype,
                                is_autocast_cpu_enabled, is_autocast_enabled,
                                set_autocast_dtype, set_autocast_enabled)
from .amp.device_aliases import install as _install_amp_aliases  # noqa: E402
from . import compile  # noqa: E402,A001  (callable package: torch.compile)
from . import compiler, _dynamo  # noqa: E402  (torch.compiler, torch._dynamo)
from ._storage import TypedStorage, UntypedStorage  # noqa: E402
from .utils import checkpoint as _checkpoint  # noqa: E402,F401  (torch.utils.checkpoint)
from . import sparse  # noqa: E402  (torch.sparse; binds the sparse COO tensor's methods)
from .sparse import sparse_coo_tensor, spmm  # noqa: E402,F401
from ._layout import (layout, strided, sparse_coo, sparse_csr, sparse_csc,  # noqa: E402,F401
                      sparse_bsr, sparse_bsc)
_install_amp_aliases(cuda, cpu)

__all__ = ["Tensor", "Size", "device", "dtype", "Generator", "autograd", "no_grad",
           "enable_grad", "set_grad_enabled", "inference_mode", "is_grad_enabled",
           "manual_seed", "seed", "initial_seed", "get_rng_state", "set_rng_state",
           "default_generator", "get_default_dtype", "set_default_dtype", "promote_types",
           "set_printoptions", "get_printoptions", "cuda", "opencl",
           *_function_names]


def __getattr__(name):
    """``plugrad.distributions`` loads on first use: it is written against the public API
    (``import plugrad as torch``, as torch.distributions is), so importing it while plugrad
    itself is still loading would make an import circle."""
    if name == "distributions":
        import importlib
        return importlib.import_module(".distributions", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
