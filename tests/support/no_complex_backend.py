"""A backend without complex dtypes: numpy that refuses to store or compute complex buffers.

It declares the refusal the contract's way (``supports(op, 'complex64')`` False) and writes
nothing else about complex tensors: the registry keeps them in host memory and routes their
ops to the cpu backend (plugrad.plugins.host_storage). Every op it runs checks that no complex
array reaches it or comes out of it, so a test passing through it proves the routing.
"""
from __future__ import annotations

import numpy

from plugrad.backends.xp import ArrayModuleBackend
from plugrad.plugins.contract import OPS

COMPLEX = ("complex64", "complex128")


def _is_complex(value):
    if isinstance(value, (list, tuple)):
        return any(_is_complex(v) for v in value)
    if isinstance(value, numpy.ndarray):
        return value.dtype.kind == "c"
    return isinstance(value, complex) or (isinstance(value, str) and value in COMPLEX)


def _refusing(name, fn):
    def op(*args, **kwargs):
        if _is_complex(args) or _is_complex(list(kwargs.values())):
            raise RuntimeError(f"no-complex backend: complex argument reached '{name}'")
        result = fn(*args, **kwargs)
        if _is_complex(result):
            raise RuntimeError(f"no-complex backend: '{name}' made a complex buffer")
        return result
    return op


class NoComplexNumpy(ArrayModuleBackend):
    """numpy without complex64/complex128, and so without the kernels that make them."""
    view_as_real = view_as_complex = complex_conj = complex_abs = complex_angle = None
    fft_c2c = fft_r2c = fft_c2r = linalg_eig = None

    def __init__(self, xp, name):
        super().__init__(xp, name)
        for dt in COMPLEX:
            self.dtypes.pop(dt, None)
        for op in OPS:
            fn = getattr(self, op, None)
            if callable(fn) and OPS[op].tier != "capability":
                setattr(self, op, _refusing(op, fn))
