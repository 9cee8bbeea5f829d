"""Python objects over the collectives: ``broadcast_object_list``, ``all_gather_object``, ...

As in torch, objects are pickled into uint8 tensors; their lengths travel first, so ranks with
objects of different sizes agree on buffer sizes. Unpickling runs what the sender pickled: only
use these with ranks you trust (torch's warning applies).
"""
from __future__ import annotations

import io
import pickle

import numpy

from .. import _dtype as D
from ..ops.creation import empty, from_numpy
from . import collectives as C
from ._world import resolve


def _to_tensor(obj):
    buf = io.BytesIO()
    pickle.Pickler(buf).dump(obj)
    # bytes <-> uint8 tensor is a conversion at the boundary, not computation
    return from_numpy(numpy.frombuffer(buf.getvalue(), dtype=numpy.uint8).copy())


def _from_tensor(t, n):
    return pickle.loads(t[:n].numpy().tobytes()) if n else None


def _lengths(values):
    out = empty(len(values), dtype=D.int64)
    for i, v in enumerate(values):
        out[i] = v
    return out


def broadcast_object_list(object_list, src=None, group=None, device=None, group_src=None):
    """Replace ``object_list``'s items on every rank with rank ``src``'s."""
    pg = resolve(group)
    if pg is None:
        return
    root = C._group_rank(pg, src, group_src, "src")
    mine = pg.rank() == root
    payloads = [_to_tensor(o) for o in object_list] if mine else []
    sizes = _lengths([p.numel() for p in payloads] if mine else [0] * len(object_list))
    C.broadcast(sizes, group=group, group_src=root)
    counts = sizes.tolist()
    data = empty(sum(counts), dtype=D.uint8)
    if mine and counts:
        at = 0
        for p in payloads:
            data[at:at + p.numel()] = p
            at += p.numel()
    C.broadcast(data, group=group, group_src=root)
    if not mine:
        at = 0
        for i, n in enumerate(counts):
            object_list[i] = _from_tensor(data[at:at + n], n)
            at += n


def all_gather_object(object_list, obj, group=None):
    """``object_list[r]`` becomes rank r's ``obj`` on every rank (the list should have one
    entry per rank; as in torch, only the first ``world_size`` entries are written)."""
    pg = resolve(group)
    if pg is None:
        return
    payload = _to_tensor(obj)
    sizes = [_lengths([0]) for _ in range(pg.size())]
    C.all_gather(sizes, _lengths([payload.numel()]), group=group)
    counts = [int(s.item()) for s in sizes]
    longest = max(counts)
    padded = empty(longest, dtype=D.uint8)
    padded[:payload.numel()] = payload
    gathered = [empty(longest, dtype=D.uint8) for _ in counts]
    C.all_gather(gathered, padded, group=group)
    for i, (t, n) in enumerate(zip(gathered, counts)):
        object_list[i] = _from_tensor(t, n)


def gather_object(obj, object_gather_list=None, dst=None, group=None, group_dst=None):
    """Rank ``dst``'s ``object_gather_list[r]`` becomes rank r's ``obj``."""
    pg = resolve(group)
    if pg is None:
        return
    gathered = [None] * pg.size()
    all_gather_object(gathered, obj, group)     # small objects: one path, no second protocol
    if pg.rank() == C._group_rank(pg, dst, group_dst, "dst"):
        if object_gather_list is None:
            raise ValueError("Argument ``object_gather_list`` must be specified on "
                             "destination rank.")
        object_gather_list[:] = gathered


def scatter_object_list(scatter_object_output_list, scatter_object_input_list=None, src=None,
                        group=None, group_src=None):
    """Rank r's ``scatter_object_output_list[0]`` becomes rank ``src``'s input item r."""
    pg = resolve(group)
    if pg is None:
        return
    root = C._group_rank(pg, src, group_src, "src")
    items = list(scatter_object_input_list or []) if pg.rank() == root else [None] * pg.size()
    if pg.rank() == root and len(items) != pg.size():
        raise ValueError(f"scatter_object_list: expected {pg.size()} input objects, got "
                         f"{len(items)}")
    broadcast_object_list(items, group=group, group_src=root)
    scatter_object_output_list[0] = items[pg.rank()]


def send_object_list(object_list, dst=None, group=None, device=None, group_dst=None):
    """Send picklable objects to rank ``dst`` (received by :func:`recv_object_list`)."""
    payloads = [_to_tensor(o) for o in object_list]
    C.send(_lengths([p.numel() for p in payloads]), dst, group, group_dst=group_dst)
    if payloads:
        C.send(_concat(payloads), dst, group,
               group_dst=group_dst)


def recv_object_list(object_list, src=None, group=None, device=None, group_src=None):
    """Fill ``object_list`` with the objects a rank sent; returns the sender's rank."""
    sizes = _lengths([0] * len(object_list))
    sender = C.recv(sizes, src, group, group_src=group_src)
    counts = sizes.tolist()
    if object_list:
        data = empty(sum(counts), dtype=D.uint8)
        C.recv(data, sender, group)
        at = 0
        for i, n in enumerate(counts):
            object_list[i] = _from_tensor(data[at:at + n], n)
            at += n
    return sender


def _concat(payloads):
    out = empty(sum(p.numel() for p in payloads), dtype=D.uint8)
    at = 0
    for p in payloads:
        out[at:at + p.numel()] = p
        at += p.numel()
    return out
