"""Differentiable collectives (torch.distributed.nn.functional): results stay in the graph.

``all_reduce`` (SUM) returns the sum over ranks; its backward sums every rank's gradient, since
each rank's input reaches every rank's output. ``all_gather`` returns every rank's tensor; its
backward gives each rank the sum over ranks of the gradient of its own slot (a reduce-scatter).
``broadcast`` returns ``src``'s tensor; its backward sums the gradients onto ``src``. Every rank
must run the same backward, as with any collective.
"""
from __future__ import annotations

from ...autograd.function import Function
from ...ops.creation import zeros
from ...ops.movement import stack
from .. import collectives as C
from .._world import resolve
from ..backend import RedOpType

__all__ = ["all_gather", "all_reduce", "broadcast"]


class _AllReduce(Function):
    @staticmethod
    def forward(ctx, x, op, group):
        if op != RedOpType.SUM:
            raise RuntimeError(f"differentiable all_reduce supports ReduceOp.SUM only, got {op}")
        ctx.group = group
        y = x.clone()
        C.all_reduce(y, group=group)
        return y

    @staticmethod
    def backward(ctx, grad):
        g = grad.clone()
        C.all_reduce(g, group=ctx.group)
        return g, None, None


class _AllGather(Function):
    @staticmethod
    def forward(ctx, x, group):
        ctx.group = group
        out = [zeros(x.shape, dtype=x.dtype, device=x.device)
               for _ in range(resolve(group).size())]
        C.all_gather(out, x.contiguous(), group=group)
        return tuple(out)

    @staticmethod
    def backward(ctx, *grads):
        pg = resolve(ctx.group)
        mine = grads[pg.rank()].clone()
        C.reduce_scatter_tensor(mine, stack([g.contiguous() for g in grads]), group=ctx.group)
        return mine, None


class _Broadcast(Function):
    @staticmethod
    def forward(ctx, x, src, group):
        ctx.src, ctx.group = src, group
        y = x.clone()
        C.broadcast(y, src=src, group=group)
        return y

    @staticmethod
    def backward(ctx, grad):
        g = grad.clone()
        C.reduce(g, dst=ctx.src, group=ctx.group)
        pg = resolve(ctx.group)
        if pg.ranks.index(ctx.src) != pg.rank():
            g = g * 0                          # only src's input reached the outputs
        return g, None, None


def all_reduce(tensor, op=RedOpType.SUM, group=None):
    """The sum of ``tensor`` over ranks, differentiable."""
    return _AllReduce.apply(tensor, op, group)


def all_gather(tensor, group=None):
    """Every rank's ``tensor`` (a tuple in rank order), differentiable."""
    return _AllGather.apply(tensor, group)


def broadcast(tensor, src, group=None):
    """Rank ``src``'s ``tensor`` on every rank, differentiable."""
    return _Broadcast.apply(tensor, src, group)
