"""NCCL check for a GPU machine (issue 14): plugrad.distributed's ``nccl`` backend on cuda.

    python benchmarks/gpu/nccl_check.py            # world size 1, then 2 ranks on one GPU

1. World size 1 in this process: the conformance kit (plugrad.distributed.conformance) and
   every collective on cuda tensors against a numpy reference,
   a mismatch-free async all_reduce, and 5 DDP steps equal to plain training.
2. Two ranks sharing GPU 0 (two processes rendezvousing through env:// -- MASTER_ADDR/PORT and
   the TCPStore): all_reduce, broadcast, all_gather against numpy. NCCL refuses two ranks on
   one GPU in many versions ("Duplicate GPU detected"); that is reported as NCCL's refusal,
   not as a plugrad failure.
Prints one PASS/FAIL/REFUSED line per part; exit status 1 on a FAIL. Needs only cupy with NCCL
(the cupy wheel loads the nvidia-nccl library), numpy and plugrad; no MPI.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import traceback

import numpy as np


def collectives_world1():
    import plugrad as torch
    import plugrad.distributed as dist
    dist.init_process_group("nccl", rank=0, world_size=1)
    try:
        from plugrad.distributed.conformance import collectives
        collectives("cuda")                          # the kit every backend passes
        x = torch.arange(6, dtype=torch.float32, device="cuda")
        for op in (dist.ReduceOp.SUM, dist.ReduceOp.AVG, dist.ReduceOp.MAX, dist.ReduceOp.MIN,
                   dist.ReduceOp.PRODUCT):
            y = x.clone()
            dist.all_reduce(y, op=op)
            assert np.allclose(y.cpu().numpy(), np.arange(6)), op
        out = [torch.zeros(6, device="cuda")]
        dist.all_gather(out, x)
        assert np.allclose(out[0].cpu().numpy(), np.arange(6))
        big = torch.zeros(6, device="cuda")
        dist.all_gather_into_tensor(big, x)
        dist.broadcast(big, src=0)
        o = torch.zeros(6, device="cuda")
        dist.reduce_scatter_tensor(o, x)
        assert np.allclose(o.cpu().numpy(), np.arange(6))
        work = dist.all_reduce(x.clone(), async_op=True)
        assert work.wait()
        objs = [None]
        dist.all_gather_object(objs, {"ok": 1})
        assert objs == [{"ok": 1}]
        torch.manual_seed(0)
        a = torch.nn.Linear(8, 4).cuda()
        torch.manual_seed(0)
        b = torch.nn.Linear(8, 4).cuda()
        ddp = torch.nn.parallel.DistributedDataParallel(a)
        oa, ob = torch.optim.SGD(a.parameters(), lr=0.1), torch.optim.SGD(b.parameters(), lr=0.1)
        data = torch.randn(16, 8, device="cuda")
        for _ in range(5):
            for model, opt in ((ddp, oa), (b, ob)):
                opt.zero_grad()
                model(data).square().mean().backward()
                opt.step()
        assert np.allclose(a.weight.detach().cpu().numpy(), b.weight.detach().cpu().numpy(),
                           atol=1e-6)
    finally:
        dist.destroy_process_group()


def rank_main(rank, world):
    import plugrad as torch
    import plugrad.distributed as dist
    dist.init_process_group("nccl", rank=rank, world_size=world)
    x = torch.full((4,), float(rank + 1), device="cuda:0")
    dist.all_reduce(x)
    assert np.allclose(x.cpu().numpy(), sum(range(1, world + 1))), x
    y = torch.full((4,), float(rank), device="cuda:0")
    dist.broadcast(y, src=1)
    assert np.allclose(y.cpu().numpy(), 1.0)
    out = [torch.zeros(4, device="cuda:0") for _ in range(world)]
    dist.all_gather(out, torch.full((4,), float(rank), device="cuda:0"))
    assert [o.cpu().numpy()[0] for o in out] == list(range(world))
    dist.destroy_process_group()
    print(f"rank {rank} ok", flush=True)


def two_ranks_one_gpu():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = dict(os.environ, MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), WORLD_SIZE="2")
    procs = [subprocess.Popen([sys.executable, __file__, "--rank", str(r)],
                              env=dict(env, RANK=str(r), LOCAL_RANK="0"),
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
             for r in range(2)]
    outs = []
    for p in procs:
        try:
            outs.append(p.communicate(timeout=120)[0])
        except subprocess.TimeoutExpired:
            p.kill()
            outs.append(p.communicate()[0] + "\n[killed after 120 s]")
    text = "\n".join(outs)
    if all(p.returncode == 0 for p in procs):
        return "PASS", ""
    if "Duplicate GPU" in text or "invalid usage" in text.lower():
        return "REFUSED", "NCCL does not allow two ranks on one GPU here"
    return "FAIL", text[-3000:]


def main():
    if "--rank" in sys.argv:
        rank_main(int(sys.argv[sys.argv.index("--rank") + 1]), 2)
        return 0
    failed = False
    try:
        collectives_world1()
        print("nccl world size 1 (collectives, async, objects, DDP): PASS", flush=True)
    except Exception:
        failed = True
        print("nccl world size 1: FAIL\n" + traceback.format_exc(), flush=True)
    status, detail = two_ranks_one_gpu()
    failed |= status == "FAIL"
    print(f"nccl 2 ranks on one GPU (env:// TCPStore rendezvous): {status} {detail}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
