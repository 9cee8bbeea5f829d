"""plugrad.distributed: collectives, DDP, SyncBatchNorm, DistributedSampler, launcher, plugins.

The multi-process tests start 2 and 4 ranks on this machine with mpiexec (the mpich wheel of the
``test`` extra), each bounded by a wall-clock limit, with the whole process group killed when it
passes; every rank checks its own results (tests/distributed/distributed_worker.py) and exits non-zero on a
failure. MPI and torch are required here: their absence fails, it does not skip.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
import torch

import plugrad
import plugrad.distributed as dist
from plugrad.distributed import nccl as nccl_backend
from plugrad.distributed._bootstrap import torchrun_environment
from plugrad.distributed.run import command, find_mpiexec, parser
from plugrad.plugins.comm import CommBackendSpec, CommRegistry
from plugrad.plugins.hookspec import hookimpl
from plugrad.plugins.types import PluginError

from conftest import availability

WORKER = str(Path(__file__).with_name("distributed_worker.py"))


def _devices():
    required = "opencl" in os.environ.get("PLUGRAD_TEST_REQUIRE", "")
    return ["cpu", "opencl"] if required or availability("opencl") is True else ["cpu"]


def launch(cmd, limit, env=None):
    """Run ``cmd`` in its own session; kill the whole group after ``limit`` seconds."""
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", **(env or {}))
    start = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=env, start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=limit)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
        pytest.fail(f"{cmd} still running after {limit} s:\n{out[-3000:]}")
    return proc.returncode, out, time.monotonic() - start


def ranks(n, *args, limit=90, env=None):
    return launch([find_mpiexec(), "-n", str(n), sys.executable, WORKER, *args], limit, env)


# ------------------------------------------------------------------ several processes
def test_two_ranks_collectives_ddp_syncbn_on_every_device():
    code, out, _ = ranks(2, "collectives,ddp,ddp_features", *_devices())
    assert code == 0, out[-4000:]
    assert out.count(" ok") == 2, out[-2000:]


def test_four_ranks_collectives_through_the_launcher():
    # the worker also checks that RANK (set by the launcher) equals the MPI rank
    cmd = [sys.executable, "-m", "plugrad.distributed.run", "--nproc_per_node", "4", WORKER,
           "collectives", "cpu"]
    code, out, _ = launch(cmd, 90)
    assert code == 0, out[-4000:]
    assert out.count(" ok") == 4, out[-2000:]


def test_mismatched_sizes_are_reported_on_every_rank():
    code, out, _ = ranks(2, "mismatch", limit=60)
    assert code != 0
    assert out.count("mismatch reported") == 2, out[-3000:]
    assert "smallest over ranks: (0, 3, 8, 0" in out, out[-3000:]


def test_mismatched_dtypes_of_equal_size_are_reported_on_every_rank():
    code, out, _ = ranks(2, "mismatch_dtype", limit=60)
    assert code != 0
    assert out.count("dtype mismatch reported") == 2, out[-3000:]


def test_hung_rank_makes_the_others_raise_within_the_timeout():
    code, out, elapsed = ranks(3, "hang", env={"WORKER_TIMEOUT": "2"}, limit=60)
    assert code != 0
    assert "Rank 1 failed to pass monitoredBarrier in 1000 ms" in out, out[-3000:]
    assert "rank 2 raised" in out and "timed out after 2 s" in out, out[-3000:]
    assert elapsed < 60, elapsed   # start-up included; the survivors waited 2 s (message)


def test_killed_rank_ends_the_job_through_the_launcher():
    cmd = [sys.executable, "-m", "plugrad.distributed.run", "--nproc-per-node", "2", WORKER,
           "killed"]
    code, out, elapsed = launch(cmd, 60, {"WORKER_TIMEOUT": "5"})
    assert code != 0
    assert "the job failed" in out, out[-3000:]
    assert elapsed < 60, elapsed   # start-up included


# ------------------------------------------------------------------ one process (MPI singleton)
@pytest.fixture
def world1():
    dist.init_process_group("mpi", timeout=timedelta(seconds=20))
    yield
    dist.destroy_process_group()


def test_world_of_one(world1):
    assert dist.is_initialized() and dist.get_rank() == 0 and dist.get_world_size() == 1
    assert dist.get_backend() == "mpi"
    x = plugrad.arange(4.0)
    dist.all_reduce(x, op=dist.ReduceOp.MAX)
    assert x.tolist() == [0.0, 1.0, 2.0, 3.0]
    out = [plugrad.zeros(4)]
    dist.all_gather(out, x)
    assert out[0].tolist() == x.tolist()
    objs = [None]
    dist.all_gather_object(objs, {"a": 1})
    assert objs == [{"a": 1}]
    with pytest.raises(ValueError, match="twice"):
        dist.init_process_group("mpi")


def test_gloo_means_mpi():
    dist.init_process_group("gloo")
    try:
        assert dist.get_backend() == "mpi" and dist.is_gloo_available()
    finally:
        dist.destroy_process_group()


def test_conformance_kit_at_world_size_one(world1):
    from plugrad.distributed.conformance import collectives
    collectives("cpu")


def test_syncbatchnorm_is_batchnorm_on_one_process(world1):
    plugrad.manual_seed(0)
    sync = plugrad.nn.SyncBatchNorm(3)
    ref = torch.nn.BatchNorm2d(3)
    x = np.random.default_rng(0).standard_normal((4, 3, 2, 2)).astype(np.float32)
    a, b = plugrad.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    sync(a).square().sum().backward()
    ref(b).square().sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(sync.running_var.numpy(), ref.running_var.numpy(), rtol=1e-6)


def test_convert_sync_batchnorm_keeps_parameters():
    model = plugrad.nn.Sequential(plugrad.nn.Conv2d(1, 2, 1), plugrad.nn.BatchNorm2d(2))
    converted = plugrad.nn.SyncBatchNorm.convert_sync_batchnorm(model)
    assert isinstance(converted[1], plugrad.nn.SyncBatchNorm)
    assert converted[1].weight is model[1].weight
    assert list(converted.state_dict()) == list(model.state_dict())


def test_ddp_state_dict_keys_as_torch(world1):
    plugrad.manual_seed(0)
    model = plugrad.nn.Sequential(plugrad.nn.Linear(2, 2), plugrad.nn.BatchNorm1d(2))
    ddp = plugrad.nn.parallel.DistributedDataParallel(model)
    reference = torch.nn.parallel.DistributedDataParallel.__mro__  # noqa: F841 (exists)
    assert list(ddp.state_dict()) == ["module." + k for k in model.state_dict()]
    assert ddp.module is model
    with pytest.raises(RuntimeError, match="doesn't have any parameter"):
        plugrad.nn.parallel.DistributedDataParallel(plugrad.nn.ReLU())


# ------------------------------------------------------------------ errors as torch
def test_before_init_errors_match_torch():
    for fn in (lambda d: d.get_rank(), lambda d: d.all_reduce(None if d is dist else None)):
        with pytest.raises(Exception) as ours:
            fn(dist)
        with pytest.raises(Exception) as theirs:
            fn(torch.distributed)
        assert type(ours.value) is type(theirs.value)
    with pytest.raises(ValueError, match="Default process group has not been initialized"):
        dist.get_world_size()


def test_bad_arguments(world1):
    with pytest.raises(TypeError, match="Expected parameter `tensor` of type torch.Tensor"):
        dist.all_reduce([1.0])
    with pytest.raises(TypeError, match="reduce op"):
        dist.all_reduce(plugrad.ones(2), op="sum")
    with pytest.raises(ValueError, match="AVG"):
        dist.all_reduce(plugrad.ones(2, dtype=plugrad.int64), op=dist.ReduceOp.AVG)
    with pytest.raises(RuntimeError, match="invalid root rank: 3"):      # torch's gloo: same
        dist.broadcast(plugrad.ones(2), src=3)
    with pytest.raises(RuntimeError, match="invalid output tensor list"):
        dist.all_gather([plugrad.ones(2), plugrad.ones(2)], plugrad.ones(2))
    with pytest.raises(RuntimeError, match="world_size times input"):
        dist.all_gather_into_tensor(plugrad.ones(3), plugrad.ones(2))
    with pytest.raises(TypeError, match="timedelta"):
        dist.new_group([0], timeout=5)
    with pytest.raises(ValueError, match="within the world_size"):
        dist.new_group([0, 1])


BAD_CALLS = {   # name: call(distributed module, library) -- run on torch (gloo) and plugrad (mpi)
    "not a tensor": lambda d, L: d.all_reduce([1.0]),
    "op not a ReduceOp": lambda d, L: d.all_reduce(L.ones(2), op="sum"),
    "src outside the world": lambda d, L: d.broadcast(L.ones(2), src=3),
    "all_gather list length": lambda d, L: d.all_gather([L.ones(2), L.ones(2)], L.ones(2)),
    "all_gather dtype": lambda d, L: d.all_gather([L.ones(2, dtype=L.int64)], L.ones(2)),
    "all_gather_into_tensor size": lambda d, L: d.all_gather_into_tensor(L.ones(3), L.ones(2)),
    "all_gather_into_tensor dtype": lambda d, L: d.all_gather_into_tensor(
        L.ones(2, dtype=L.int64), L.ones(2)),
    "gather without list": lambda d, L: d.gather(L.ones(2), None, dst=0),
    "scatter without list": lambda d, L: d.scatter(L.ones(2), None, src=0),
    "all_to_all list length": lambda d, L: d.all_to_all([L.ones(1)], [L.ones(1), L.ones(1)]),
    "send to self": lambda d, L: d.send(L.ones(2), dst=0),
    "new_group rank": lambda d, L: d.new_group([5]),
    "new_group timeout": lambda d, L: d.new_group([0], timeout=5),
    "object src outside the world": lambda d, L: d.broadcast_object_list([1], src=4),
    "init twice": lambda d, L: d.init_process_group("gloo"),
}


@pytest.mark.parametrize("name", BAD_CALLS)
def test_bad_calls_raise_torchs_exception_types(world1, tmp_path, name):
    torch.distributed.init_process_group("gloo", init_method=f"file://{tmp_path}/store",
                                         rank=0, world_size=1)
    try:
        with pytest.raises(Exception) as theirs:
            BAD_CALLS[name](torch.distributed, torch)
    finally:
        torch.distributed.destroy_process_group()
    with pytest.raises(type(theirs.value)):
        BAD_CALLS[name](dist, plugrad)


def test_unknown_backend_lists_the_registered_ones():
    with pytest.raises(ValueError, match="Invalid backend: 'mpii'.*gloo, mpi, nccl"):
        dist.init_process_group("mpii")
    assert not dist.is_initialized()


def test_nccl_without_cupy_says_why():
    if nccl_backend.available() is True:
        pytest.skip("NCCL is usable here; see benchmarks/gpu/nccl_check.py")
    with pytest.raises(RuntimeError, match="'nccl' is not available: cupy"):
        dist.init_process_group("nccl", rank=0, world_size=1)
    assert not dist.is_initialized()


# ------------------------------------------------------------------ DistributedSampler
@pytest.mark.parametrize("n", [1, 7, 10, 33])
@pytest.mark.parametrize("replicas", [1, 2, 3, 4])
@pytest.mark.parametrize("shuffle,drop_last", [(True, False), (True, True), (False, False),
                                               (False, True)])
def test_distributed_sampler_shards_equal_torchs(n, replicas, shuffle, drop_last):
    from torch.utils.data.distributed import DistributedSampler as TorchSampler
    from plugrad.utils.data.distributed import DistributedSampler
    for rank in range(replicas):
        for epoch in (0, 5):
            ours = DistributedSampler(range(n), replicas, rank, shuffle, 42, drop_last)
            theirs = TorchSampler(range(n), replicas, rank, shuffle, 42, drop_last)
            ours.set_epoch(epoch)
            theirs.set_epoch(epoch)
            assert list(ours) == list(theirs) and len(ours) == len(theirs)
    with pytest.raises(ValueError, match="Invalid rank 2"):
        DistributedSampler(range(4), num_replicas=2, rank=2)


# ------------------------------------------------------------------ plugins and nccl (no GPU)
def test_a_third_party_backend_registers_by_hook():
    registry = CommRegistry(load_entry_points=False)

    class Plugin:
        @staticmethod
        @hookimpl
        def plugrad_comm_backends():
            yield CommBackendSpec(name="Vendor", load=lambda: "the class", aliases=("ven",),
                                  devices=("xpu",))
    registry.register(Plugin, "vendor_plugin", "plugrad-vendor", "1.0")
    assert registry.get("ven").spec.name == "vendor" and registry.load("vendor") == "the class"
    assert registry.default_for("xpu") == "vendor"
    assert "plugrad-vendor 1.0" in "\n".join(registry.describe())

    class Clash:
        @staticmethod
        @hookimpl
        def plugrad_comm_backends():
            yield CommBackendSpec(name="vendor", load=lambda: None)
    registry.register(Clash, "clash")
    with pytest.warns(UserWarning, match="Conflicting communication backends for 'vendor'"):
        with pytest.raises(ValueError, match="Invalid backend"):
            registry.get("vendor")
    with pytest.raises(PluginError, match="Invalid backend name"):
        CommBackendSpec(name="bad name", load=lambda: None)


def test_info_lists_communication_backends():
    text = plugrad.plugins.info_table()
    assert "Communication backends" in text and "nccl" in text
    assert "mpi (aliases: gloo): available" in text


def test_nccl_tables_and_rendezvous_rules():
    assert nccl_backend.nccl_dtype("float32") == 7 and nccl_backend.nccl_dtype("bool") == 1
    with pytest.raises(TypeError, match="bfloat16"):
        nccl_backend.nccl_dtype("bfloat16")
    assert nccl_backend.nccl_op(dist.ReduceOp.AVG, "float32") == 4
    assert nccl_backend.nccl_op(dist.ReduceOp.SUM, "bool") == 2     # logical or, as torch
    with pytest.raises(ValueError, match="BXOR"):
        nccl_backend.nccl_op(dist.ReduceOp.BXOR, "int32")
    uid = tuple((i * 37) % 256 - 128 for i in range(128))
    assert nccl_backend.decode_uid(nccl_backend.encode_uid(uid)) == uid
    assert nccl_backend.launcher_rank({"PMI_RANK": "3", "PMI_SIZE": "4"}) == (3, 4)
    assert nccl_backend.launcher_rank({"RANK": "1", "WORLD_SIZE": "2", "PMI_RANK": "0",
                                       "PMI_SIZE": "9"}) == (1, 2)
    with pytest.raises(ValueError, match="environment variable MASTER_ADDR expected"):
        nccl_backend.rendezvous_store(0, 2, {"init_method": "env://"}, 1.0, env={})


def test_tcp_store_rendezvous_between_threads():
    master = dist.TCPStore("127.0.0.1", 0, world_size=None, is_master=True,
                           timeout=timedelta(seconds=5))
    client = dist.TCPStore("127.0.0.1", master.port, timeout=timedelta(seconds=5))
    got = []
    reader = threading.Thread(target=lambda: got.append(client.get("uid")))
    reader.start()
    time.sleep(0.05)
    master.set("uid", b"\x01\x02")
    reader.join(5)
    assert got == [b"\x01\x02"]
    assert master.add("n", 2) == 2 and client.add("n", 3) == 5
    assert client.check(["uid", "n"]) and not client.check(["nope"])
    short = dist.TCPStore("127.0.0.1", master.port, timeout=timedelta(seconds=0.2))
    with pytest.raises(TimeoutError, match="'missing' was not set"):
        short.get("missing")
    for s in (short, client, master):
        s.close()


# ------------------------------------------------------------------ launcher
def test_launcher_command_and_environment():
    args = parser().parse_args(["--nproc_per_node", "3", "-m", "pkg.train", "--lr", "1"])
    cmd = command(args)
    assert cmd[1:3] == ["-n", "3"] and cmd[-4:] == ["-m", "pkg.train", "--lr", "1"]
    assert "plugrad.distributed._bootstrap" in cmd
    env = torchrun_environment({"PMI_RANK": "5", "PMI_SIZE": "8", "MPI_LOCALRANKID": "1",
                                "MPI_LOCALNRANKS": "4"})
    assert env == {"RANK": "5", "WORLD_SIZE": "8", "LOCAL_RANK": "1", "LOCAL_WORLD_SIZE": "4",
                   "GROUP_RANK": "1"}
    with pytest.raises(SystemExit, match="--hostfile"):
        command(parser().parse_args(["--nnodes", "2", "x.py"]))
