"""Max pooling as one op: window maxima and their positions from K strided slices.

A composition (stack the K = kh*kw window slices, then ``max(dim)``) needs a copy of every
window and an arg-reduction over a short, strided axis -- the slowest reduction an array
library has. Here the K slices are views; the maximum is K-1 elementwise ``maximum`` calls and
the position K ``where`` calls (the first maximum in row-major window order wins, as in torch's
CPU kernel). Backward adds each slice's share of the gradient into a zero buffer, one backend
call per slice; under create_graph it is written with differentiable ops instead.
"""
from __future__ import annotations

from .. import _dtype as D
from .._tensor import _from_buffer
from ..autograd.grad_mode import is_grad_enabled
from ..autograd.node import Node
from ._graph import attach, edge, needs_grad


def window_slices(shape, kernel, stride, dilation, out_hw):
    """One (start, stop, step) tuple per axis for each kernel offset, row-major."""
    n, c = shape[:2]
    (kh, kw), (sh, sw), (dh, dw), (oh, ow) = kernel, stride, dilation, out_hw
    result = []
    for i in range(kh):
        for j in range(kw):
            r0, c0 = i * dh, j * dw
            result.append(((0, n, 1), (0, c, 1), (r0, r0 + sh * (oh - 1) + 1, sh),
                           (c0, c0 + sw * (ow - 1) + 1, sw)))
    return result


def windows_overlap(kernel, stride, dilation):
    """Whether two windows share an input element: a window spans d * (k - 1) + 1 along an
    axis, so a stride at least that long keeps them apart (the usual 2x2, stride 2 pool)."""
    return any(s < d * (k - 1) + 1 for k, s, d in zip(kernel, stride, dilation))


class MaxPool2DWithIndicesBackward0(Node):
    """Each output's gradient goes to the input element its window took the maximum from."""
    __slots__ = ("index", "slices", "shape", "overlap")

    def _drop(self):
        self.index = None

    def backward(self, g):
        index, slices, shape = self.index, self.slices, self.shape
        if is_grad_enabled():
            from .ternary import where
            from .views import slice_backward
            total = None
            for k, sl in enumerate(slices):
                part = slice_backward(where(index == k, g, 0.0), shape, sl)
                total = part if total is None else total + part
            return (total,)
        ops = g._device.ops
        data = ops.full(shape, 0, g._dtype.name)
        for k, sl in enumerate(slices):
            region = ops.slice(data, sl)
            share = ops.where(ops.eq(index._data, k), g._data, 0.0)
            # apart, the windows write disjoint elements: no sum with what is there
            ops.assign(region, ops.add(region, share) if self.overlap else share)
        return (_from_buffer(data, shape, g._dtype, g._device),)


def max_pool2d(x, kernel, stride, dilation, out_hw):
    """(values, window index) of the max over each window of x (N, C, H, W), which is
    already padded; the index k is the row-major kernel offset (0 <= k < kh*kw)."""
    ops = x._device.ops
    slices = window_slices(x._shape, kernel, stride, dilation, out_hw)
    parts = [ops.slice(x._data, sl) for sl in slices]
    values = parts[0] if len(parts) > 1 else ops.copy(parts[0])
    for part in parts[1:]:
        values = ops.maximum(values, part)
    shape = tuple(x._shape[:2]) + tuple(out_hw)
    index = ops.full(shape, len(parts) - 1, "int64")
    for k in range(len(parts) - 2, -1, -1):
        index = ops.where(ops.eq(parts[k], values), k, index)
    out = _from_buffer(values, shape, x._dtype, x._device)
    index = _from_buffer(index, shape, D.int64, x._device)
    if needs_grad(x):
        node = MaxPool2DWithIndicesBackward0((edge(x),))
        node.index, node.slices, node.shape = index, slices, x._shape
        node.overlap = windows_overlap(kernel, stride, dilation)
        attach(out, node)
    return out, index
