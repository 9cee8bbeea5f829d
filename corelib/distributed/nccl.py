"""The ``nccl`` communication backend: NCCL through ``cupy.cuda.nccl`` on cuda tensors.

Bootstrap (NCCL needs one unique id shared by all ranks, made by rank 0): through ``store=``, a
``tcp://host:port`` init_method, or ``env://`` (``MASTER_ADDR``/``MASTER_PORT``, as torchrun),
all via :class:`~plugrad.distributed.store.TCPStore`; or over MPI when the ranks were started by
``mpiexec``. Collectives run on the current CUDA stream, so they follow the kernels that made
their inputs; ``wait`` polls a CUDA event against the timeout and aborts the communicator when
it passes (NCCL's own ``ncclCommAbort``), so a lost rank gives an error, not a hang.
"""
from __future__ import annotations

import os
import struct
import time

from .backend import DistBackendError, ProcessGroup, RedOpType, Work

# ncclDataType_t and ncclRedOp_t values from nccl.h (stable since NCCL 2.0; ncclAvg 2.10)
NCCL_DTYPES = {"int8": 0, "uint8": 1, "int32": 2, "int64": 4, "float16": 6, "float32": 7,
               "float64": 8, "bool": 1}
NCCL_OPS = {RedOpType.SUM: 0, RedOpType.PRODUCT: 1, RedOpType.MAX: 2, RedOpType.MIN: 3,
            RedOpType.AVG: 4}
BOOL_OPS = {RedOpType.SUM: 2, RedOpType.MAX: 2, RedOpType.BOR: 2, RedOpType.PRODUCT: 3,
            RedOpType.MIN: 3, RedOpType.BAND: 3}
_UID_BYTES = 128


def nccl_dtype(name: str) -> int:
    try:
        return NCCL_DTYPES[name]
    except KeyError:
        raise TypeError(f"nccl: tensors of dtype {name} are not supported (supported: "
                        f"{', '.join(sorted(NCCL_DTYPES))})") from None


def nccl_op(op, dtype_name: str) -> int:
    table = BOOL_OPS if dtype_name == "bool" else NCCL_OPS
    try:
        return table[RedOpType(op)]
    except KeyError:
        raise ValueError(f"nccl: reduction {RedOpType(op).name} is not supported for "
                         f"{dtype_name}") from None


def launcher_rank(env=None):
    """(rank, world_size) set by a launcher -- torchrun/plugrad.distributed.run (RANK), MPICH
    (PMI_RANK), Open MPI (OMPI_COMM_WORLD_RANK) or Slurm (SLURM_PROCID) -- or (None, None)."""
    env = os.environ if env is None else env
    for rank_key, size_key in (("RANK", "WORLD_SIZE"), ("PMI_RANK", "PMI_SIZE"),
                               ("OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE"),
                               ("SLURM_PROCID", "SLURM_NTASKS")):
        if env.get(rank_key) not in (None, "") and env.get(size_key) not in (None, ""):
            return int(env[rank_key]), int(env[size_key])
    return None, None


def encode_uid(uid) -> bytes:
    """cupy's unique id (a tuple of signed chars) as bytes for the store."""
    return struct.pack(f"{_UID_BYTES}b", *uid)


def decode_uid(data: bytes) -> tuple:
    return struct.unpack(f"{_UID_BYTES}b", data)


def rendezvous_store(rank, size, options, timeout_s, env=None):
    """The TCPStore an NCCL group bootstraps through, or None to use MPI (or nothing at size 1).

    ValueError, with torch's wording, when ``env://`` lacks MASTER_ADDR or MASTER_PORT."""
    from .store import TCPStore
    env = os.environ if env is None else env
    if options.get("store") is not None:
        return options["store"]
    method = options.get("init_method") or "env://"
    if method.startswith("tcp://"):
        host, _, port = method[len("tcp://"):].rstrip("/").rpartition(":")
        return TCPStore(host, int(port), size, rank == 0, timeout_s)
    if not method.startswith("env://"):
        raise ValueError(f"nccl: unsupported init_method {method!r} (use env://, tcp://HOST:PORT "
                         "or store=)")
    if size == 1 or ("MASTER_ADDR" not in env and "PMI_RANK" in env):
        return None
    for key in ("MASTER_ADDR", "MASTER_PORT"):
        if not env.get(key):
            raise ValueError(f"Error initializing torch.distributed using env:// rendezvous: "
                             f"environment variable {key} expected, but not set")
    return TCPStore(env["MASTER_ADDR"], int(env["MASTER_PORT"]), size, rank == 0, timeout_s)


class NCCLWork(Work):
    """A CUDA event after the operation, polled against the group's deadline."""
    __slots__ = ("event", "group", "what", "after", "done")

    def __init__(self, event, group, what, after=None):
        self.event, self.group, self.what, self.after, self.done = event, group, what, after, False

    def is_completed(self):
        if not self.done and self.event.done:
            self._finish()
        return self.done

    def wait(self, timeout=None):
        if self.done:
            return True
        limit = self.group.timeout if timeout is None else float(timeout)
        deadline = time.monotonic() + limit
        while not self.event.done:
            if time.monotonic() > deadline:
                self.group.fail(f"{self.what} timed out after {limit:g} s (a rank died or "
                                "hangs); the NCCL communicator was aborted")
            time.sleep(0)
        self._finish()
        return True

    def _finish(self):
        self.done = True
        if self.after is not None:
            self.after()


class NCCLProcessGroup(ProcessGroup):
    """A process group on an NCCL communicator (one GPU per rank)."""
    name = "nccl"

    def __init__(self, rank=None, size=None, timeout_s=1800.0, options=None, _comm=None):
        import cupy
        from cupy.cuda import nccl
        self.cp, self.nccl = cupy, nccl
        self.timeout, self.broken = float(timeout_s), None
        if _comm is not None:            # a subgroup made by split()
            self.comm, self.rank, self.size = _comm
            return
        options = options or {}
        env_rank, env_size = launcher_rank()
        rank = env_rank if rank is None else rank
        size = env_size if size is None else size
        if rank is None or size is None:
            rank, size = 0, 1
        local = int(os.environ.get("LOCAL_RANK", os.environ.get("MPI_LOCALRANKID", rank)))
        device = options.get("device_id")
        index = getattr(device, "index", device)
        cupy.cuda.Device(local % cupy.cuda.runtime.getDeviceCount() if index is None
                         else index).use()
        store = rendezvous_store(rank, size, options, self.timeout)
        uid = self._share_uid(store, rank, size, "nccl_uid_0")
        self.comm = nccl.NcclCommunicator(size, uid, rank)
        self.rank, self.size = rank, size
        self._subgroups = 0

    def _share_uid(self, store, rank, size, key):
        uid = self.nccl.get_unique_id() if rank == 0 else None
        if size == 1:
            return uid
        if store is not None:
            if rank == 0:
                store.set(key, encode_uid(uid))
            return decode_uid(store.get(key))
        from .mpi import mpi_module
        return mpi_module().COMM_WORLD.bcast(uid, root=0)

    # --------------------------------------------------------------- helpers
    def fail(self, message):
        self.broken = f"[rank {self.rank}] nccl: {message}"
        try:
            self.comm.abort()
        except Exception:
            pass
        raise DistBackendError(self.broken)

    def _launch(self, what, fn, after=None):
        if self.broken:
            raise DistBackendError(f"the process group is unusable after an earlier error: "
                                   f"{self.broken}")
        stream = self.cp.cuda.get_current_stream()
        fn(stream.ptr)
        event = self.cp.cuda.Event(block=False, disable_timing=True)
        event.record(stream)
        return NCCLWork(event, self, what, after)

    def _raw(self, a):
        return a.reshape(-1).view(self.cp.uint8)

    # --------------------------------------------------------------- collectives
    def allreduce(self, arrays, op):
        def run(s):
            self.nccl.groupStart()
            for a in arrays:
                name = a.dtype.name
                self.comm.allReduce(a.data.ptr, a.data.ptr, a.size, nccl_dtype(name),
                                    nccl_op(op, name), s)
            self.nccl.groupEnd()
        return self._launch("all_reduce", run)

    def broadcast(self, array, root):
        raw = self._raw(array)
        return self._launch("broadcast", lambda s: self.comm.broadcast(
            raw.data.ptr, raw.data.ptr, raw.size, NCCL_DTYPES["uint8"], root, s))

    def allgather(self, out, inp):
        i, o = self._raw(inp), self._raw(out)
        return self._launch("all_gather", lambda s: self.comm.allGather(
            i.data.ptr, o.data.ptr, i.size, NCCL_DTYPES["uint8"], s))

    def reduce_scatter(self, out, inp, op):
        name = out.dtype.name
        return self._launch("reduce_scatter", lambda s: self.comm.reduceScatter(
            inp.data.ptr, out.data.ptr, out.size, nccl_dtype(name), nccl_op(op, name), s))

    def _pairs(self, what, sends, recvs):
        """Grouped point-to-point transfers: sends/recvs are [(raw array, peer)]."""
        u8 = NCCL_DTYPES["uint8"]

        def run(s):
            self.nccl.groupStart()
            for a, peer in sends:
                self.comm.send(a.data.ptr, a.size, u8, peer, s)
            for a, peer in recvs:
                self.comm.recv(a.data.ptr, a.size, u8, peer, s)
            self.nccl.groupEnd()
        return self._launch(what, run)

    def gather(self, out, inp, root):
        i = self._raw(inp)
        recvs = []
        if self.rank == root:
            o = self._raw(out).reshape(self.size, -1)
            recvs = [(o[r], r) for r in range(self.size)]
        return self._pairs("gather", [(i, root)], recvs)

    def scatter(self, out, inp, root):
        o = self._raw(out)
        sends = []
        if self.rank == root:
            i = self._raw(inp).reshape(self.size, -1)
            sends = [(i[r], r) for r in range(self.size)]
        return self._pairs("scatter", sends, [(o, root)])

    def alltoall(self, out, out_counts, inp, in_counts):
        item = inp.dtype.itemsize
        i, o = self._raw(inp), self._raw(out)
        sends, recvs, a, b = [], [], 0, 0
        for r in range(self.size):
            sends.append((i[a:a + in_counts[r] * item], r))
            recvs.append((o[b:b + out_counts[r] * item], r))
            a += in_counts[r] * item
            b += out_counts[r] * item
        return self._pairs("all_to_all", sends, recvs)

    def send(self, array, dst, tag):
        return self._pairs("send", [(self._raw(array), dst)], [])

    def recv(self, array, src, tag):
        if src is None:
            raise ValueError("nccl: recv needs a source rank (NCCL has no any-source receive)")
        return self._pairs("recv", [], [(self._raw(array), src)])

    def barrier(self):
        one = self.cp.ones(1, self.cp.float32)
        return self.allreduce([one], RedOpType.SUM)

    # --------------------------------------------------------------- bookkeeping
    def exchange_ints(self, values):
        mine = self.cp.asarray(values, dtype=self.cp.int64)
        out = self.cp.empty(self.size * mine.size, self.cp.int64)
        self.allgather(out, mine).wait()
        return out.reshape(self.size, -1).get().tolist()

    def check_same(self, signature, what):
        sig = list(signature)
        both = self.cp.asarray(sig + [-v for v in sig], dtype=self.cp.int64)

        def verify():
            got = both.get().tolist()
            high, low = got[:len(sig)], [-v for v in got[len(sig):]]
            if high != low:
                self.fail(f"{what}: ranks passed different tensor sizes, dtypes or arguments "
                          f"(this rank: {tuple(sig)}; smallest over ranks: {tuple(low)}, "
                          f"largest: {tuple(high)})")
        work = self.allreduce([both], RedOpType.MAX)
        work.after = verify
        return work

    def split(self, ranks):
        # the first member makes the new id and shares it over this (parent) communicator
        self._subgroups += 1
        first = ranks[0]
        uid = self.cp.zeros(_UID_BYTES, self.cp.int8)
        if self.rank == first:
            uid[...] = self.cp.asarray(self.nccl.get_unique_id(), self.cp.int8)
        self.broadcast(uid, first).wait()
        if self.rank not in ranks:
            return None
        comm = self.nccl.NcclCommunicator(len(ranks), tuple(uid.get().tolist()),
                                          ranks.index(self.rank))
        return NCCLProcessGroup(timeout_s=self.timeout,
                                _comm=(comm, ranks.index(self.rank), len(ranks)))

    def shutdown(self):
        if getattr(self, "comm", None) is not None and not self.broken:
            self.comm.destroy()
        self.comm = None


def available():
    """True, or why NCCL cannot be used here (cupy or NCCL missing, or no GPU)."""
    import importlib.util
    if importlib.util.find_spec("cupy") is None:
        return "cupy is not installed (pip install 'plugrad[cuda]')"
    try:
        import cupy
        from cupy.cuda import nccl  # noqa: F401
        if cupy.cuda.runtime.getDeviceCount() < 1:
            return "no CUDA devices"
    except Exception as exc:
        return f"cupy.cuda.nccl cannot be used: {type(exc).__name__}: {exc}"
    return True
