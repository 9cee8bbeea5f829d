"""Placing a gradient back into the region a view selected (the backward of slicing).

``slice_backward`` is itself differentiable (its backward slices again), so gradients of
sliced tensors support create_graph.
"""
from __future__ import annotations

from .._tensor import _from_buffer
from ..autograd.node import Node
from ._graph import attach, edge, needs_grad


class SliceBackwardBackward0(Node):
    __slots__ = ("slices",)

    def backward(self, g):
        from .views import slice_view
        return (slice_view(g, self.slices),)


def slice_backward(grad, shape, slices):
    """zeros(shape) with ``grad`` written at ``slices`` ((start, stop, step) per axis)."""
    ops = grad._device.ops
    data = ops.full(shape, 0, grad._dtype.name)
    ops.assign(ops.slice(data, slices), grad._data)
    out = _from_buffer(data, shape, grad._dtype, grad._device)
    if needs_grad(grad):
        node = SliceBackwardBackward0((edge(grad),))
        node.slices = slices
        attach(out, node)
    return out
