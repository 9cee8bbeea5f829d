"""The ``mpi`` communication backend: MPI through mpi4py, on numpy arrays (host memory).

Every operation is MPI's non-blocking form (``Iallreduce``, ``Ibcast``, ...), and
:meth:`MPIWork.wait` polls it against a deadline: a dead or hung rank makes the survivors raise
:class:`DistBackendError` after ``timeout`` instead of blocking forever inside MPI (MPI has no
timeout of its own). After such an error the group is broken; the process leaves with
``os._exit`` at interpreter exit, because ``MPI_Finalize`` would wait for the lost rank, and
``mpiexec`` then stops the remaining ranks.

Reductions of float16 run in float32 (MPI has no half type); reduction-free operations move
raw bytes, so every dtype works. Ranks come from the MPI launcher (``mpiexec``, ``srun``).
"""
from __future__ import annotations

import atexit
import functools
import os
import sys
import time

import numpy as np

from . import check_slots
from .backend import DistBackendError, ProcessGroup, RedOpType, Work

_SPIN = 200          # Test() calls before the deadline is checked and the CPU yielded
_FOLD_MAX_BYTES = 64 << 10   # up to here the argument check rides in the all-reduce's message
_FOLD_KINDS = {RedOpType.SUM: "sum", RedOpType.AVG: "sum", RedOpType.MAX: "max",
               RedOpType.MIN: "min"}
_broken = []          # set when a group timed out: leave without MPI_Finalize


def _leave_if_broken():
    if _broken:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(1)


@functools.lru_cache(maxsize=256)
def _signature_buffer(signature):
    """``(sig, -sig)`` as int64, built once per distinct signature (a training loop repeats a
    handful): what every rank holds after the MAX all-reduce when all passed the same."""
    sig = np.asarray(signature, dtype=np.int64)
    both = np.concatenate([sig, -sig])
    both.flags.writeable = False
    return both


def _poll(group, test, limit, what):
    """Call ``test`` (a request's C ``Test``) until it is true; past ``limit`` seconds the group
    fails with a timeout (checked every _SPIN calls, when the CPU is also yielded)."""
    deadline = None
    spins = 0
    while not test():
        spins += 1
        if spins >= _SPIN:
            spins = 0
            now = time.monotonic()
            if deadline is None:
                deadline = now + limit
            elif now > deadline:
                group.fail(f"{what} timed out after {limit:g} s waiting for the other ranks (a "
                           "rank died, hangs, or did not call the same collective)")
            os.sched_yield()


def mpi_module():
    """mpi4py's MPI module (importing it initialises MPI)."""
    from mpi4py import MPI
    return MPI


class MPIWork(Work):
    """One or more MPI requests, completed by polling against the group's deadline."""
    __slots__ = ("requests", "group", "what", "after", "done", "status", "explain")

    def __init__(self, requests, group, what, after=None, status=None, explain=None):
        self.requests, self.group, self.what = requests, group, what
        # after: run on completion; for a recv, the number of bytes expected
        self.after, self.done, self.status = after, False, status
        self.explain = explain      # on an MPI error: find which argument differed, if any

    @property
    def source(self):
        """The rank a ``recv`` from any source got its message from."""
        return self.status.Get_source() if self.status is not None else None

    def is_completed(self):
        if not self.done and self._test():
            self._finish()
        return self.done

    def _test(self):
        try:
            if self.status is not None:
                return self.requests[0].Test(self.status)
            if len(self.requests) == 1:         # Testall costs more and progresses less
                return self.requests[0].Test()
            return self.group.MPI.Request.Testall(self.requests)
        except self.group.MPI.Exception as exc:
            self._failed(exc)

    def _failed(self, exc):
        message = f"{self.what} failed in MPI: {exc.Get_error_string()}"
        if self.explain is not None:
            self.explain(message)
        self.group.fail(message)

    def wait(self, timeout=None):
        if self.done:
            return True
        group = self.group
        if self.status is None and len(self.requests) == 1:
            # the C method itself: MPI moves a large message on only inside Test, chunk by
            # chunk, so time spent between two Tests in Python stalls the transfer
            test = self.requests[0].Test
        else:
            test = self._test
        try:
            _poll(group, test, group.timeout if timeout is None else float(timeout), self.what)
        except group.MPI.Exception as exc:
            self._failed(exc)
        self._finish()
        return True

    def _finish(self):
        self.done = True
        if self.status is not None:     # a recv: the message must fill the buffer exactly
            got = self.status.Get_count(self.group.MPI.BYTE)
            if got != self.after:
                raise DistBackendError(
                    f"[rank {self.group.rank}] recv: the message from rank "
                    f"{self.status.Get_source()} has {got} bytes, the receiving tensor "
                    f"{self.after} (sizes or dtypes differ between send and recv)")
        elif self.after is not None:
            self.after()


class CheckedWork(Work):
    """A large all-reduce with its argument check in flight beside it, both posted at once: the
    check's round trip overlaps the data's transfer. ``wait`` polls the check first (a
    mismatch is the error, without waiting on a data transfer that may never complete), then
    the data, each with its request's C ``Test``."""
    __slots__ = ("group", "what", "check", "data", "got", "signature", "done")

    def __init__(self, group, what, check, data, got, signature):
        self.group, self.what, self.check, self.data = group, what, check, data
        self.got, self.signature, self.done = got, signature, False

    def wait(self, timeout=None):
        if self.done:
            return True
        group = self.group
        limit = group.timeout if timeout is None else float(timeout)
        try:
            _poll(group, self.check.Test, limit, self.what)
            group.verify_same(self.got, self.signature, self.what)
            _poll(group, self.data.Test, limit, self.what)
        except group.MPI.Exception as exc:
            group.fail(f"{self.what} failed in MPI: {exc.Get_error_string()}")
        self.done = True
        return True

    def is_completed(self):
        if not self.done and self.check.Test() and self.data.Test():
            self.wait()
        return self.done


class MPIProcessGroup(ProcessGroup):
    """A process group on an MPI communicator (``COMM_WORLD`` duplicated, or a split of it)."""
    name = "mpi"

    def __init__(self, rank=None, size=None, timeout_s=1800.0, options=None, comm=None):
        MPI = mpi_module()
        self.MPI = MPI
        self.timeout = float(timeout_s)
        self.broken = None
        self.rank = MPI.COMM_WORLD.Get_rank()
        atexit.register(_leave_if_broken)   # runs before mpi4py's MPI_Finalize
        pending = None
        if comm is None:        # a non-blocking dup: a rank that never arrives is a timeout
            comm, request = MPI.COMM_WORLD.Idup()
            pending = MPIWork([request], self, "init_process_group (duplicating COMM_WORLD)")
        self.comm = comm
        if pending is not None:
            pending.wait()
        self.comm.Set_errhandler(MPI.ERRORS_RETURN)   # errors raise here, not abort the job
        self.rank, self.size = self.comm.Get_rank(), self.comm.Get_size()
        if rank is not None and rank != self.rank or size is not None and size != self.size:
            world = self.size
            self.comm.Free()
            raise ValueError(
                f"init_process_group(backend='mpi'): rank={rank}, world_size={size} were given "
                f"but MPI started this process as rank {self.rank} of {world}. Start every rank "
                "with mpiexec -n N (or python -m plugrad.distributed.run --nproc-per-node N); "
                "MPI, not RANK/WORLD_SIZE, decides the ranks.")
        self._ops = {RedOpType.SUM: MPI.SUM, RedOpType.AVG: MPI.SUM,
                     RedOpType.PRODUCT: MPI.PROD, RedOpType.MIN: MPI.MIN,
                     RedOpType.MAX: MPI.MAX, RedOpType.BAND: MPI.BAND,
                     RedOpType.BOR: MPI.BOR, RedOpType.BXOR: MPI.BXOR}
        self._bool_ops = {RedOpType.SUM: MPI.LOR, RedOpType.MAX: MPI.LOR,
                          RedOpType.MIN: MPI.LAND, RedOpType.PRODUCT: MPI.LAND,
                          RedOpType.BAND: MPI.LAND, RedOpType.BOR: MPI.LOR,
                          RedOpType.BXOR: MPI.LXOR}

    # --------------------------------------------------------------- helpers
    def fail(self, message):
        self.broken = f"[rank {self.rank}] mpi: {message}"
        _broken.append(self.broken)
        raise DistBackendError(self.broken)

    def _check(self):
        if self.broken is not None:
            raise DistBackendError(f"the process group is unusable after an earlier error: "
                                   f"{self.broken}")

    def _work(self, requests, what, after=None, status=None):
        return MPIWork(requests if isinstance(requests, list) else [requests], self, what,
                       after, status)

    def _mpi_op(self, op, array):
        table = self._bool_ops if array.dtype.kind == "b" else self._ops
        try:
            return table[op]
        except KeyError:
            raise ValueError(f"mpi: reduction {op.name} is not supported for {array.dtype}") \
                from None

    @staticmethod
    def _raw(array):
        return array.reshape(-1).view(np.uint8)

    # --------------------------------------------------------------- collectives
    @staticmethod
    def _native(arrays, op):
        """One array MPI reduces as it is (no float16 widening, no AVG division)."""
        return len(arrays) == 1 and op != RedOpType.AVG and arrays[0].dtype != np.float16

    def allreduce(self, arrays, op):
        self._check()
        if self._native(arrays, op):
            a = arrays[0]                    # the common case, kept short (per-call overhead)
            req = self.comm.Iallreduce(self.MPI.IN_PLACE, a, self._mpi_op(op, a))
            return MPIWork([req], self, "all_reduce")
        requests, afters = [], []
        for a in arrays:
            buf, back = a, None
            if a.dtype == np.float16:          # MPI has no half: reduce in float32
                buf = a.astype(np.float32)
                back = (a, buf)
            requests.append(self.comm.Iallreduce(self.MPI.IN_PLACE, buf, self._mpi_op(op, a)))
            afters.append((a, buf, back))
        size = self.size

        def after():
            for a, buf, back in afters:
                if op == RedOpType.AVG:
                    buf /= size
                if back is not None:
                    a[...] = buf
        needs_after = op == RedOpType.AVG or any(b is not None for _, _, b in afters)
        return self._work(requests, "all_reduce", after if needs_after else None)

    def allreduce_checked(self, array, op, signature, what):
        """Small all-reduces carry the argument check in their own message (check_slots):
        one round trip instead of two; large ones post it beside the data (CheckedWork)."""
        if array.nbytes > _FOLD_MAX_BYTES:
            if not self._native([array], op):
                return None
            self._check()           # large: the check beside the data, both in flight
            got = _signature_buffer(tuple(signature)).copy()
            check = self.comm.Iallreduce(self.MPI.IN_PLACE, got, self.MPI.MAX)
            data = self.comm.Iallreduce(self.MPI.IN_PLACE, array, self._ops[op])
            return CheckedWork(self, what, check, data, got, signature)
        kind = _FOLD_KINDS.get(op)
        if kind is None:
            return None
        wide = np.dtype(np.float32) if array.dtype == np.float16 else array.dtype
        carried = check_slots.slots(signature, kind, wide, self.size)
        if carried is None:
            return None
        self._check()
        sent, wanted = carried
        n = array.size
        buf = np.empty(n + sent.size, wide)
        flat = array.reshape(-1)
        buf[:n] = flat
        buf[n:] = sent
        req = self.comm.Iallreduce(self.MPI.IN_PLACE, buf, self._ops[op])
        size = self.size

        def after():
            if buf[n:].tobytes() != wanted.tobytes():
                explain(f"{what}: ranks passed different tensor sizes, dtypes or arguments "
                        f"(this rank: {signature})")
            data = buf[:n]
            if op == RedOpType.AVG:
                data /= size
            flat[...] = data

        def explain(message):
            # every rank's folded call failed, so the full check is the next collective of
            # each: it names the argument that differed
            self.check_same(signature, what).wait(min(self.timeout, 30.0))
            self.fail(message)
        return MPIWork([req], self, what, after, explain=explain)

    def broadcast(self, array, root):
        self._check()
        return self._work(self.comm.Ibcast(self._raw(array), root=root), "broadcast")

    def allgather(self, out, inp):
        self._check()
        return self._work(self.comm.Iallgather(self._raw(inp), self._raw(out)), "all_gather")

    def reduce_scatter(self, out, inp, op):
        self._check()
        if inp.dtype == np.float16:
            wide_in, wide_out = inp.astype(np.float32), np.empty(out.shape, np.float32)
        else:
            wide_in, wide_out = inp, out
        req = self.comm.Ireduce_scatter_block(wide_in, wide_out, self._mpi_op(op, inp))
        size = self.size

        def after():
            if op == RedOpType.AVG:
                np.divide(wide_out, size, out=wide_out)
            if wide_out is not out:
                out[...] = wide_out
        return self._work(req, "reduce_scatter", after)

    def gather(self, out, inp, root):
        self._check()
        recv = self._raw(out) if out is not None else None
        return self._work(self.comm.Igather(self._raw(inp), recv, root=root), "gather")

    def scatter(self, out, inp, root):
        self._check()
        send = self._raw(inp) if inp is not None else None
        return self._work(self.comm.Iscatter(send, self._raw(out), root=root), "scatter")

    def alltoall(self, out, out_counts, inp, in_counts):
        self._check()
        item = inp.dtype.itemsize
        sc = [c * item for c in in_counts]
        rc = [c * item for c in out_counts]
        sd = np.concatenate([[0], np.cumsum(sc)[:-1]]).astype(int).tolist()
        rd = np.concatenate([[0], np.cumsum(rc)[:-1]]).astype(int).tolist()
        req = self.comm.Ialltoallv([self._raw(inp), (sc, sd)], [self._raw(out), (rc, rd)])
        return self._work(req, "all_to_all")

    def send(self, array, dst, tag):
        self._check()
        return self._work(self.comm.Isend(self._raw(array), dest=dst, tag=tag), "send")

    def recv(self, array, src, tag):
        self._check()
        MPI = self.MPI
        source = MPI.ANY_SOURCE if src is None else src
        status = MPI.Status()
        req = self.comm.Irecv(self._raw(array), source=source, tag=tag)
        return self._work(req, "recv", array.nbytes, status=status)

    def barrier(self):
        self._check()
        return self._work(self.comm.Ibarrier(), "barrier")

    # --------------------------------------------------------------- bookkeeping
    def exchange_ints(self, values):
        self._check()
        mine = np.asarray(values, dtype=np.int64)
        out = np.empty((self.size, mine.size), np.int64)
        self._work(self.comm.Iallgather(mine, out), "exchange").wait()
        return out.tolist()

    def check_same(self, signature, what):
        self._check()
        both = _signature_buffer(tuple(signature)).copy()   # (sig, -sig): one MAX gives
        req = self.comm.Iallreduce(self.MPI.IN_PLACE, both, self.MPI.MAX)   # max and min
        return MPIWork([req], self, what, lambda: self.verify_same(both, signature, what))

    def verify_same(self, got, signature, what):
        """Fail unless ``got`` (the MAX of every rank's ``(sig, -sig)``) is this rank's own."""
        expected = _signature_buffer(tuple(signature))
        if got.tobytes() != expected.tobytes():
            n = got.size // 2
            high, low = got[:n], -got[n:]
            self.fail(f"{what}: ranks passed different tensor sizes, dtypes or arguments "
                      f"(this rank: {tuple(signature)}; smallest over ranks: "
                      f"{tuple(low.tolist())}, largest: {tuple(high.tolist())}); the "
                      "group cannot be used after this")

    def split(self, ranks):
        self._check()
        MPI = self.MPI
        member = self.rank in ranks
        color = 0 if member else MPI.UNDEFINED
        key = ranks.index(self.rank) if member else 0
        sub = self.comm.Split(color, key)
        if not member:
            return None
        group = MPIProcessGroup.__new__(MPIProcessGroup)
        group.__dict__.update(self.__dict__)
        group.comm, group.rank, group.size = sub, sub.Get_rank(), sub.Get_size()
        return group

    def shutdown(self):
        if self.comm is not None and not self.broken:
            try:
                self.comm.Free()
            except Exception:
                pass
        self.comm = None


def available():
    """True, or why mpi4py cannot be used (checked without initialising MPI)."""
    import importlib.util
    if importlib.util.find_spec("mpi4py") is None:
        return "mpi4py is not installed (pip install 'plugrad[distributed]': mpi4py and mpich)"
    return True

