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

IN_PLACE = ("assign", "index_put", "sgd_step", "adam_step", "mt19937_generate")


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


class FrozenNumpy(ArrayModuleBackend):
    """numpy arrays, every one read-only; pure functions only."""
    mutable_buffers = False

    def __init__(self, name):
        super().__init__(numpy, name)
        self.writes_refused = 0
        for op in OPS:
            fn = getattr(self, op, None)
            if fn is not None and op not in IN_PLACE and op != "to_host":
                setattr(self, op, _pure(fn))
        for op in ("sgd_step", "adam_step", "mt19937_generate"):
            setattr(self, op, None)          # they update their arguments in place

    def assign(self, dst, src):
        raise AssertionError("assign called on a backend with immutable buffers")

    def index_put(self, x, indices, values, accumulate):
        """The functional form the capability asks for: an updated copy; x is untouched."""
        updated = x.copy()
        super().index_put(updated, indices, values, accumulate)
        return _frozen(updated)

    def to_host(self, x):
        return numpy.array(x, copy=True)
