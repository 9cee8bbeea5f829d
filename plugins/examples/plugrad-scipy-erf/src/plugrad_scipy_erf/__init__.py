"""A kernel plugin: ``erf`` on the cpu backend computed by ``scipy.special.erf``.

Precedence: a plugin kernel replaces the backend's own op; ``priority`` breaks ties between
plugins that replace the same op. SciPy is imported on the first call, not at registration.
"""
import numpy

from plugrad.plugins import KernelSpec, hookimpl

__version__ = "0.1.0"
_erf = None


def erf(x, out=None):
    """The contract's ``erf(x, out=None)`` on numpy buffers (float16, bfloat16, float32/64)."""
    global _erf
    if _erf is None:
        from scipy.special import erf as _erf_impl
        _erf = _erf_impl
    if x.dtype.itemsize == 2:             # SciPy has no half loops: compute in float32
        result = _erf(x.astype(numpy.float32), out=...).astype(x.dtype)
    else:
        result = _erf(x, out=...)          # out=... keeps 0-d results arrays
    if out is None:
        return result
    out[...] = result
    return out


@hookimpl
def plugrad_kernels():
    yield KernelSpec(backend="cpu", op="erf", fn=erf, priority=10)
