"""A conformance check for communication backends: every collective against numpy.

Run it on every rank of a job, for any backend (built-in or a third party's)::

    mpiexec -n 4 python -m plugrad.distributed.conformance mpi cpu opencl
    python -m plugrad.distributed.run --nproc-per-node 2 -m plugrad.distributed.conformance mpi

Rank r's input is a known function of r, so each rank computes the expected result of every
collective with numpy and checks its own: all_reduce with each ReduceOp and int64, float16 and
strided tensors, broadcast, all_gather(_into_tensor), reduce_scatter(_tensor), reduce, gather,
scatter, all_to_all with uneven sizes (and a size mismatch that must be reported),
all_to_all_single, isend/irecv, batch_isend_irecv, recv from any source, send/recv_object_list,
async work, objects, a subgroup, and the gradients of the differentiable collectives
(plugrad.distributed.nn.functional). A failure raises AssertionError naming the rank, the
collective, what came and what was expected.
"""
from __future__ import annotations

import sys

import numpy as np

import plugrad as torch
import plugrad.distributed as dist


def rank_input(r, n=5, dtype=np.float32):
    return (np.arange(n) * (r + 1) + r).astype(dtype)


def check(got, want, what):
    got = got.detach().cpu().numpy() if hasattr(got, "cpu") else np.asarray(got)
    if not np.allclose(got, want, rtol=1e-6, atol=1e-6):
        raise AssertionError(f"rank {dist.get_rank()} {what}: got {got}, expected {want}")


def collectives(device):
    """Check every collective on tensors of ``device``; run it on every rank of the job."""
    r, w = dist.get_rank(), dist.get_world_size()
    inputs = [rank_input(i) for i in range(w)]
    t = lambda a: torch.tensor(a, device=device)  # noqa: E731
    refs = {dist.ReduceOp.SUM: np.sum(inputs, 0), dist.ReduceOp.AVG: np.mean(inputs, 0),
            dist.ReduceOp.MAX: np.max(inputs, 0), dist.ReduceOp.MIN: np.min(inputs, 0),
            dist.ReduceOp.PRODUCT: np.prod(inputs, 0)}
    for op, want in refs.items():
        x = t(inputs[r])
        dist.all_reduce(x, op=op)
        check(x, want, f"all_reduce {op.name}")
    ints = torch.tensor(rank_input(r, dtype=np.int64), device=device)
    dist.all_reduce(ints)
    check(ints, np.sum([rank_input(i, dtype=np.int64) for i in range(w)], 0), "all_reduce int")
    half = torch.tensor(inputs[r], device=device).half()
    dist.all_reduce(half)
    check(half.float(), np.sum(inputs, 0).astype(np.float16), "all_reduce float16")
    # a large message: the synchronous path that checks first, then blocks (every op)
    big = [np.random.default_rng(i).standard_normal(300_000).astype(np.float32)
           for i in range(w)]
    for op, reduce in ((dist.ReduceOp.SUM, np.sum), (dist.ReduceOp.AVG, np.mean),
                       (dist.ReduceOp.MAX, np.max)):
        x = t(big[r])
        dist.all_reduce(x, op=op)
        check(x, reduce(big, 0), f"all_reduce {op.name} of 1.2 MB")
    strided = torch.tensor(np.stack(inputs), device=device).t()   # non-contiguous
    col = strided[:, r]
    dist.all_reduce(col)
    check(strided[:, r], np.sum(inputs, 0), "all_reduce of a strided view")
    x = t(inputs[r])
    dist.broadcast(x, src=w - 1)
    check(x, inputs[w - 1], "broadcast")
    out = [torch.zeros(5, device=device) for _ in range(w)]
    dist.all_gather(out, t(inputs[r]))
    for i in range(w):
        check(out[i], inputs[i], f"all_gather[{i}]")
    big = torch.zeros(w, 5, device=device)
    dist.all_gather_into_tensor(big, t(inputs[r]))
    check(big, np.stack(inputs), "all_gather_into_tensor")
    blocks = [rank_input(r * w + i) for i in range(w)]          # rank r's block i
    o = torch.zeros(5, device=device)
    dist.reduce_scatter(o, [t(b) for b in blocks])
    check(o, np.sum([rank_input(s * w + r) for s in range(w)], 0), "reduce_scatter")
    o = torch.zeros(5, device=device)
    dist.reduce_scatter_tensor(o, t(np.concatenate(blocks)), op=dist.ReduceOp.MAX)
    check(o, np.max([rank_input(s * w + r) for s in range(w)], 0), "reduce_scatter_tensor")
    x = t(inputs[r])
    dist.reduce(x, dst=0)
    check(x, np.sum(inputs, 0) if r == 0 else inputs[r], "reduce")
    last = w - 1
    gl = [torch.zeros(5, device=device) for _ in range(w)] if r == last else None
    dist.gather(t(inputs[r]), gl, dst=last)
    if r == last:
        for i in range(w):
            check(gl[i], inputs[i], f"gather[{i}]")
    o = torch.zeros(5, device=device)
    dist.scatter(o, [t(rank_input(10 + i)) for i in range(w)] if r == 0 else None, src=0)
    check(o, rank_input(10 + r), "scatter")
    # all_to_all with uneven sizes: rank s sends i+1 elements (value 100*s + i) to rank i
    ins = [torch.full((i + 1,), float(100 * r + i), device=device) for i in range(w)]
    outs = [torch.zeros(r + 1, device=device) for _ in range(w)]
    dist.all_to_all(outs, ins)
    for s in range(w):
        check(outs[s], np.full(r + 1, 100 * s + r, np.float32), f"all_to_all from {s}")
    if w > 1:
        _all_to_all_mismatch(device, r, w, ins)
    single = torch.zeros(w * 2, device=device)
    dist.all_to_all_single(single, torch.arange(w * 2, dtype=torch.float32, device=device)
                           + 10 * r)
    check(single, np.concatenate([[10 * s + 2 * r, 10 * s + 2 * r + 1] for s in range(w)]),
          "all_to_all_single")
    if w > 1:
        _point_to_point(t, inputs, device, r, w)
    x = t(inputs[r])
    work = dist.all_reduce(x, async_op=True)
    assert work.wait() and work.is_completed()
    check(x, np.sum(inputs, 0), "async all_reduce")
    objs = [{"rank": r}, "x"] if r == 0 else [None, None]
    dist.broadcast_object_list(objs, src=0)
    assert objs == [{"rank": 0}, "x"], objs
    everyone = [None] * w
    dist.all_gather_object(everyone, ("rank", r, list(range(r))))
    assert everyone == [("rank", i, list(range(i))) for i in range(w)], everyone
    # a subgroup of the even ranks
    evens = list(range(0, w, 2))
    sub = dist.new_group(evens)
    if r in evens:
        x = t(inputs[r])
        dist.all_reduce(x, group=sub)
        check(x, np.sum([inputs[i] for i in evens], 0), "all_reduce on a subgroup")
        assert dist.get_rank(sub) == evens.index(r)
    else:
        assert sub is dist.GroupMember.NON_GROUP_MEMBER and dist.get_rank(sub) == -1
    _differentiable(t, inputs, device, r, w)
    dist.barrier()


def _differentiable(t, inputs, device, r, w):
    """plugrad.distributed.nn.functional: the gradients each rank gets back."""
    from .nn import functional as DF
    total = sum(range(1, w + 1))
    x = t(inputs[r]).requires_grad_()
    (DF.all_reduce(x) * (r + 1)).sum().backward()
    check(x.grad, np.full(5, total, np.float32), "grad of nn.functional.all_reduce")
    x = t(inputs[r]).requires_grad_()
    outs = DF.all_gather(x)
    check(outs[w - 1], inputs[w - 1], "nn.functional.all_gather")
    sum(((r + 1) * (s + 2)) * o.sum() for s, o in enumerate(outs)).backward()
    check(x.grad, np.full(5, (r + 2) * total, np.float32), "grad of nn.functional.all_gather")
    x = t(inputs[r]).requires_grad_()
    y = DF.broadcast(x, src=0)
    check(y, inputs[0], "nn.functional.broadcast")
    (y * (r + 1)).sum().backward()
    check(x.grad, np.full(5, total if r == 0 else 0, np.float32),
          "grad of nn.functional.broadcast")


def _point_to_point(t, inputs, device, r, w):
    nxt, prv = (r + 1) % w, (r - 1) % w              # around a ring, with async handles
    box = torch.zeros(5, device=device)
    works = [dist.isend(t(inputs[r]), nxt), dist.irecv(box, prv)]
    for work in works:
        work.wait()
    check(box, inputs[prv], "isend/irecv ring")
    if r == 0:
        dist.send(t(inputs[0]), dst=1)
    elif r == 1:
        box = torch.zeros(5, device=device)
        assert dist.recv(box) == 0
        check(box, inputs[0], "recv from any source")
    box = torch.zeros(5, device=device)                 # the ring again, as one batch
    ops = [dist.P2POp(dist.isend, t(inputs[r]), nxt), dist.P2POp(dist.irecv, box, prv)]
    for work in dist.batch_isend_irecv(ops):
        work.wait()
    check(box, inputs[prv], "batch_isend_irecv ring")
    if r == 0:
        dist.send_object_list([{"from": 0}, [1, 2]], dst=1)
    elif r == 1:
        got = [None, None]
        assert dist.recv_object_list(got, src=0) == 0 and got == [{"from": 0}, [1, 2]], got


def _all_to_all_mismatch(device, r, w, ins):
    try:                                   # rank 0 expects one element too many from rank 1
        dist.all_to_all([torch.zeros(r + 1 + (r == 0 and s == 1), device=device)
                         for s in range(w)], ins)
    except dist.DistBackendError as exc:
        assert "rank 1 sends 1 elements to rank 0, which expects 2" in str(exc), exc
    else:
        raise AssertionError("mismatched all_to_all sizes were not reported")


def main(argv=None) -> int:
    """``python -m plugrad.distributed.conformance BACKEND [DEVICE ...]``, on every rank."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv:
        print(__doc__)
        return 2
    devices = argv[1:] or ["cpu"]
    dist.init_process_group(argv[0])
    for device in devices:
        collectives(device)
    print(f"rank {dist.get_rank()} of {dist.get_world_size()}: backend {argv[0]!r} passed the "
          f"collective checks on {', '.join(devices)}", flush=True)
    dist.destroy_process_group()
    return 0


if __name__ == "__main__":
    sys.exit(main())
