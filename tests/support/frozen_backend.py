"""A backend whose arrays cannot be written: numpy with every buffer read-only.

It declares ``mutable_buffers = False`` and implements the contract as pure functions (numpy
computes everything; ``index_put`` returns an updated copy). Any write into an array it made
-- an ``out=``, an ``assign``, an in-place ``index_put``, a write through a view -- raises
numpy's "assignment destination is read-only", so a test passing through it proves the
frontend's writes all went through the write-back layer (plugrad.plugins.writeback).
"""
from __future__ import annotations

import numpy

from plugrad.backends.xp import ArrayModuleBackend
from plugrad.plugins.contract import OPS
from plugrad.plugins.writeback import IN_PLACE_KERNELS

IN_PLACE = ("assign", "index_put") + IN_PLACE_KERNELS


def _frozen(result):
    if isinstance(result, numpy.ndarray):
        result.flags.writeable = False
    elif isinstance(result, tuple):
        for r in result:
            _frozen(r)
    return result


def _pure(fn):
    def op(*args, **kwargs):
        if kwargs.get("out") is not None:
            raise AssertionError("out= passed to a backend with immutable buffers")
        return _frozen(fn(*args, **kwargs))
    return op


class FrozenNumpy:
    """numpy arrays, every one read-only; pure functions only.

    The cpu backend's code computes (an inner ArrayModuleBackend); only what it hands out is
    frozen, so it may still build its own fresh intermediates in place, but any write into an
    array it received -- every one read-only -- raises.
    """
    mutable_buffers = False

    def __init__(self, name):
        self.name = name
        self._inner = inner = ArrayModuleBackend(numpy, name)
        self.supports = inner.supports
        for op in OPS:
            fn = getattr(inner, op, None)
            if fn is not None and op not in IN_PLACE and op != "to_host":
                setattr(self, op, _pure(fn))

    def index_put(self, x, indices, values, accumulate):
        """The functional form the capability asks for: an updated copy; x is untouched."""
        updated = x.copy()
        self._inner.index_put(updated, indices, values, accumulate)
        return _frozen(updated)

    def to_host(self, x):
        return numpy.array(x, copy=True)
