"""binary_cross_entropy as one op, because torch's gradient is not the composition's.

torch clamps each log at -100 in forward but differentiates the unclamped formula,
``(x - t) / max(x * (1 - x), 1e-12)``; a composition (``clamp(log(x), -100)``) would give a zero
gradient wherever a sigmoid saturated to exactly 0 or 1, and training would part ways with
torch's. The backward is written in frontend ops, so it can be differentiated again.
"""
from __future__ import annotations

from .._tensor import _from_buffer
from ..autograd.grad_mode import no_grad
from ..autograd.node import Node
from ._graph import attach, edge, needs_grad

_EPSILON = 1e-12


def _bce_values(x, t):
    # torch: (t - 1) * max(log1p(-x), -100) - t * max(log(x), -100)
    return (t - 1) * (-x).log1p().clamp(min=-100) - t * x.log().clamp(min=-100)


class BinaryCrossEntropyBackward0(Node):
    __slots__ = ("x", "t", "w")

    def _drop(self):
        self.x = self.t = self.w = None

    def backward(self, g):
        x, t, w = self.x, self.t, self.w
        ex, et = self.next
        gx = gt = None
        if ex is not None:
            gx = g * (x - t) / (x * (1 - x)).clamp(min=_EPSILON)
            if w is not None:
                gx = gx * w
        if et is not None:
            gt = g * ((-x).log1p() - x.log())   # torch leaves these logs unclamped
            if w is not None:
                gt = gt * w
        return gx, gt


def binary_cross_entropy(x, t, w):
    """Elementwise -w * (t log x + (1 - t) log(1 - x)) with torch's clamps (no reduction);
    x, t (and w, when given) already have one shape."""
    with no_grad():
        values = _bce_values(x, t)
        if w is not None:
            values = values * w
    out = _from_buffer(values._data, values._shape, values._dtype, values._device)
    if needs_grad(x, t):
        node = BinaryCrossEntropyBackward0((edge(x), edge(t)), (x, t))
        node.x, node.t, node.w = x, t, w
        attach(out, node)
    return out
