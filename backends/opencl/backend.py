"""OpenCLBackend: the contract's families mixed over a list of OpenCL devices.

Buffers are :class:`~.runtime.CLArray` views over ``cl.Buffer``s; kernels are generated from
the templates in each family module, compiled on first use per (op, dtypes, layout class) and
cached on the :class:`~.runtime.Device` (PoCL and pyopencl also cache binaries on disk).

Environment: ``PLUGRAD_OPENCL_PLATFORM`` (see the package docstring) and
``PLUGRAD_OPENCL_GEMM=vec|tiled|naive`` to force one GEMM kernel (tests, tuning).
"""
from __future__ import annotations

from .elementwise import Elementwise
from .conv import Conv
from .fused import FusedKernel, accepts
from .multi_tensor import MultiTensorAdam
from .batched import BatchedConcat, BatchedMap
from .indexing import Indexing
from .linalg import Linalg
from .movement import Movement
from .nn import NN, BatchNorm, LSTMCell, Norm
from .optim import Optim
from .random import Random
from .reduce import Reductions
from .runtime import Device, Runtime, new_counter
from .scan import AxisOps
from .sort import Sorting


class OpenCLBackend(Runtime, Elementwise, Reductions, AxisOps, Movement, Indexing, Sorting,
                    Linalg, Conv, NN, Norm, BatchNorm, LSTMCell, Optim, Random):
    """Implements every contract op with generated OpenCL kernels; buffers are CLArrays."""

    name = "opencl"
    # indices and cross-entropy targets are checked in the kernels and raised at the next
    # to_host/synchronize (plugrad.plugins.contract: checks_indices)
    checks_indices = True

    def __init__(self, cl_devices):
        self.devices = [Device(d, i) for i, d in enumerate(cl_devices)]
        # host transfers so far: {'from_host': n, 'to_host': n, 'nonzero_count': n,
        # 'error_check': n}; tests assert a training step adds none
        self.transfers = new_counter()

    def optimize_program(self, program):
        """``program`` (``plugrad.compile``) with its elementwise chains as one generated
        kernel each (:mod:`.fused`), runs of one op over many buffers and concats of
        contiguous pieces batched (:mod:`.batched`) and Adam's per-parameter launches
        grouped (:mod:`.multi_tensor`): bitwise the eager kernels' results."""
        from ...plugins.fusion import batch_calls, fuse, replace_calls
        memory = lambda buf: id(buf.data)                     # noqa: E731
        program = fuse(program, lambda chain: FusedKernel(self, chain), backend=self.name,
                       accept=accepts, memory_key=memory)
        program = batch_calls(program, lambda chain, shared: BatchedMap(self, chain, shared),
                              backend=self.name, accept=accepts, memory_key=memory)
        program = replace_calls(program, "concat", BatchedConcat(self), self.name,
                                "concat, batched")
        return replace_calls(program, "adam_step", MultiTensorAdam(self), self.name,
                             "adam_step, multi-tensor")
