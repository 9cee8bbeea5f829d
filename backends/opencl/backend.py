"""OpenCLBackend: the contract's families mixed over a list of OpenCL devices."""
from __future__ import annotations

from .elementwise import Elementwise
from .gemm import Gemm
from .indexing import Indexing
from .movement import Movement
from .nn import NNKernels
from .reduce import Reductions
from .runtime import Device, Runtime, new_counter


class OpenCLBackend(Runtime, Elementwise, Reductions, Movement, Indexing, Gemm,
                    NNKernels):
    """Implements every contract op with generated OpenCL kernels; buffers are CLArrays."""

    name = "opencl"

    def __init__(self, cl_devices):
        self.devices = [Device(d, i) for i, d in enumerate(cl_devices)]
        self.transfers = new_counter()
        """Host transfers so far: {'from_host': n, 'to_host': n, 'nonzero_count': n}."""
