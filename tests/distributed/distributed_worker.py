"""One rank of the multi-process tests in test_distributed.py (started by mpiexec).

    python tests/distributed/distributed_worker.py SCENARIO[,SCENARIO...] [DEVICE ...]

Every rank asserts its own results against a numpy reference computed from what all ranks
are known to send (rank r's input is a function of r), and exits non-zero on any failure. The
collective checks are the package's own conformance kit (plugrad.distributed.conformance).
"""
from __future__ import annotations

import os
import sys
import time
from datetime import timedelta

import numpy as np

import plugrad as torch
import plugrad.distributed as dist
from plugrad.distributed.conformance import check, collectives  # noqa: F401  (scenarios)


def mismatch(device):
    """Ranks passing different sizes: an error on every rank, not corrupt data or a hang."""
    r = dist.get_rank()
    try:
        dist.all_reduce(torch.ones(3 + r, device=device))
    except dist.DistBackendError as exc:
        assert "different tensor sizes" in str(exc), exc
        print(f"rank {r} mismatch reported", flush=True)
        raise
    raise AssertionError("mismatched all_reduce sizes were not reported")


def mismatch_dtype(device):
    """Same byte size, different dtypes (float32 on one rank, int32 on the other): only the
    argument check can tell; it must, on every rank."""
    r = dist.get_rank()
    dtype = torch.float32 if r == 0 else torch.int32
    try:
        dist.all_reduce(torch.ones(5, dtype=dtype, device=device), op=dist.ReduceOp.MAX)
    except dist.DistBackendError as exc:
        assert "different tensor sizes, dtypes" in str(exc), exc
        print(f"rank {r} dtype mismatch reported", flush=True)
        raise
    raise AssertionError("mismatched all_reduce dtypes were not reported")


def ddp(device):
    """20 SGD steps of DDP with SyncBatchNorm on each rank's quarter of the batch == one process
    on the whole batch with BatchNorm (same seed)."""
    r, w = dist.get_rank(), dist.get_world_size()

    def model(sync):
        torch.manual_seed(0)
        norm = torch.nn.SyncBatchNorm(16) if sync else torch.nn.BatchNorm1d(16)
        return torch.nn.Sequential(torch.nn.Linear(8, 16), norm, torch.nn.ReLU(),
                                   torch.nn.Linear(16, 3)).to(device)

    gen = np.random.default_rng(1)
    xs = gen.standard_normal((20, 4 * w, 8)).astype(np.float32)
    ys = gen.integers(0, 3, (20, 4 * w))
    wrapped = model(True)
    launched = []       # per gradient, before DDP's own hook sees it: buckets already started
    for p in wrapped.parameters():
        p.register_post_accumulate_grad_hook(
            lambda p: launched.append(sum(b.work is not None for b in net._buckets)))
    net = torch.nn.parallel.DistributedDataParallel(wrapped, bucket_cap_mb=0.0005)
    assert len(net._buckets) > 1, "the test wants several buckets"
    opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
    for step in range(20):
        x = torch.tensor(xs[step, 4 * r:4 * r + 4], device=device)
        y = torch.tensor(ys[step, 4 * r:4 * r + 4], device=device)
        opt.zero_grad()
        del launched[:]
        torch.nn.functional.cross_entropy(net(x), y).backward()
        opt.step()
        # overlap: when the last gradient arrives, every other bucket is already reducing
        assert step == 0 or launched[-1] == len(net._buckets) - 1, (step, launched)
    assert list(net.state_dict())[0] == "module.0.weight"
    ref = model(False)
    opt = torch.optim.SGD(ref.parameters(), lr=0.1, momentum=0.9)
    for step in range(20):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(ref(torch.tensor(xs[step], device=device)),
                                          torch.tensor(ys[step], device=device)).backward()
        opt.step()
    for (name, a), b in zip(net.module.state_dict().items(), ref.state_dict().values()):
        if a.dtype.is_floating_point:
            check(a, b.cpu().numpy(), f"DDP {device} after 20 steps: {name}")
        else:
            assert a.tolist() == b.tolist(), name


def ddp_features(device):
    """no_sync accumulates; find_unused_parameters lets a branch go unused."""
    r, w = dist.get_rank(), dist.get_world_size()
    torch.manual_seed(r)                                  # different init: DDP broadcasts 0's
    lin = torch.nn.Linear(4, 2).to(device)
    net = torch.nn.parallel.DistributedDataParallel(lin)
    torch.manual_seed(0)
    check(lin.weight, torch.nn.Linear(4, 2).weight.detach().numpy(), "parameters from rank 0")
    xs = [torch.full((1, 4), float(i + 1), device=device) for i in range(w)]
    with net.no_sync():
        net(xs[r]).sum().backward()
    local = lin.weight.grad.cpu().numpy().copy()
    check(local, np.full((2, 4), r + 1.0), "no_sync keeps the local gradient")
    net(xs[r]).sum().backward()                           # synced: average of accumulated
    check(lin.weight.grad, np.full((2, 4), np.mean([2 * (i + 1.0) for i in range(w)])),
          "first backward after no_sync")

    class Branchy(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b = torch.nn.Linear(4, 2), torch.nn.Linear(4, 2)

        def forward(self, x, use_b):
            return self.b(x) if use_b else self.a(x)
    m = Branchy().to(device)
    net = torch.nn.parallel.DistributedDataParallel(m, find_unused_parameters=True)
    net(xs[r], use_b=True)                                # forward without backward: fine
    net(xs[r], use_b=False).sum().backward()
    assert m.b.weight.grad is None                        # unused on every rank
    check(m.a.weight.grad, np.full((2, 4), np.mean([i + 1.0 for i in range(w)])), "used branch")
    m.zero_grad()
    net(xs[r], use_b=(r == 0)).sum().backward()           # b used on rank 0 only
    check(m.b.weight.grad, np.full((2, 4), 1.0 / w), "branch used on one rank")
    # communication hooks: torch's default ones give the plain average (fp16: to half precision)
    from plugrad.distributed.algorithms.ddp_comm_hooks import default_hooks
    for hook, tol in ((default_hooks.allreduce_hook, 1e-6), (default_hooks.fp16_compress_hook,
                                                             1e-3)):
        torch.manual_seed(0)
        hooked = torch.nn.parallel.DistributedDataParallel(torch.nn.Linear(4, 2).to(device),
                                                           bucket_cap_mb=0.00001)
        calls = []

        def counted(state, bucket, hook=hook):
            calls.append((bucket.index(), bucket.is_last(), len(bucket.parameters())))
            return hook(state, bucket)
        hooked.register_comm_hook(None, counted)
        hooked(xs[r] / 3).sum().backward()
        assert sorted(calls) == [(0, False, 1), (1, True, 1)], calls
        want = np.full((2, 4), np.mean([(i + 1.0) / 3 for i in range(w)]))
        got = hooked.module.weight.grad.cpu().numpy()
        assert np.allclose(got, want, rtol=tol, atol=tol), (hook.__name__, got, want)
        try:
            hooked.register_comm_hook(None, counted)
        except RuntimeError as exc:
            assert "can only be called once" in str(exc)
        else:
            raise AssertionError("a second register_comm_hook was accepted")
    strict = torch.nn.parallel.DistributedDataParallel(Branchy().to(device))
    strict(xs[r], use_b=True)                             # forward without backward: fine
    strict(xs[r], use_b=False).sum().backward()
    try:
        strict(xs[r], use_b=False)
    except RuntimeError as exc:
        assert "find_unused_parameters=True" in str(exc) and "b.weight" in str(exc), exc
    else:
        raise AssertionError("an unused parameter without find_unused_parameters was silent")


def hang():
    """Rank 1 stops answering: rank 0's monitored_barrier names it, and rank 2, waiting for rank
    0's release, raises when the group's timeout passes."""
    dist.all_reduce(torch.ones(3))
    dist.monitored_barrier(timeout=timedelta(seconds=20))      # everyone arrives
    if dist.get_rank() == 1:
        time.sleep(120)
    start = time.monotonic()
    try:
        dist.monitored_barrier(timeout=timedelta(seconds=1), wait_all_ranks=True)
    except dist.DistBackendError as exc:
        print(f"rank {dist.get_rank()} raised after {time.monotonic() - start:.1f} s: {exc}",
              flush=True)
        if dist.get_rank() == 0:
            time.sleep(5)       # rank 0 leaving would end the job before rank 2's timeout
        raise


def killed():
    """Rank 1 dies (SIGKILL) during training; the job must end, not hang."""
    import signal
    dist.all_reduce(torch.ones(3))
    if dist.get_rank() == 1:
        os.kill(os.getpid(), signal.SIGKILL)
    for _ in range(100):
        dist.all_reduce(torch.ones(3))


def main():
    scenario, devices = sys.argv[1], sys.argv[2:] or ["cpu"]
    timeout = timedelta(seconds=float(os.environ.get("WORKER_TIMEOUT", "60")))
    dist.init_process_group("mpi", timeout=timeout)
    assert int(os.environ.get("RANK", dist.get_rank())) == dist.get_rank()
    for name in scenario.split(","):
        if name in ("hang", "killed"):
            globals()[name]()
            continue
        for device in devices:
            globals()[name](device)
    dist.destroy_process_group()
    print(f"rank {os.environ.get('PMI_RANK')} ok", flush=True)


if __name__ == "__main__":
    main()
