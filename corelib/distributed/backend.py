"""The contract a communication backend implements, and the types every backend shares.

A backend (``mpi``, ``nccl``, or a third party's, registered through the ``plugrad.distributed``
entry-point group) provides a :class:`ProcessGroup` subclass. It works on *arrays* -- numpy
arrays for a host-staging backend, the device library's arrays (cupy) for a device one -- never
on tensors: the frontend (:mod:`plugrad.distributed.collectives`) checks arguments, makes
buffers contiguous, stages them through host memory when needed and copies results back.

Every operation starts at once and returns a :class:`Work`; ``Work.wait()`` must raise
:class:`DistBackendError` once the group's ``timeout`` has passed without completion (a rank
died or hangs), never block forever.
"""
from __future__ import annotations

import enum
from datetime import timedelta


class DistError(RuntimeError):
    """torch.distributed.DistError: base of the distributed errors."""


class DistBackendError(DistError):
    """A collective failed or timed out in the backend (torch.distributed.DistBackendError)."""


class DistNetworkError(DistError):
    """A network error while talking to another rank or the store."""


class DistStoreError(DistError):
    """The rendezvous store failed or timed out."""


class RedOpType(enum.IntEnum):
    """The reduction of a collective (torch's ``ReduceOp.RedOpType``)."""
    SUM = 0
    AVG = 1
    PRODUCT = 2
    MIN = 3
    MAX = 4
    BAND = 5
    BOR = 6
    BXOR = 7


class ReduceOp:
    """``dist.ReduceOp.SUM`` etc., as in torch."""
    RedOpType = RedOpType
    SUM = RedOpType.SUM
    AVG = RedOpType.AVG
    PRODUCT = RedOpType.PRODUCT
    MIN = RedOpType.MIN
    MAX = RedOpType.MAX
    BAND = RedOpType.BAND
    BOR = RedOpType.BOR
    BXOR = RedOpType.BXOR


DEFAULT_TIMEOUT = timedelta(minutes=30)   # torch's default_pg_timeout


class Work:
    """A started operation: ``wait()`` completes it (raising on failure or timeout)."""

    def wait(self, timeout: float | None = None) -> bool:
        raise NotImplementedError

    def is_completed(self) -> bool:
        raise NotImplementedError

    def wait_with(self, other: "Work", timeout: float | None = None) -> bool:
        """Complete this work and ``other`` (the collective this argument check runs beside),
        this one first so that a mismatch is the error reported. A backend whose two waits can
        be merged may override it."""
        self.wait(timeout)
        return other.wait(timeout)


class DoneWork(Work):
    """A work that completed when it was created (world size 1, empty tensors)."""

    def wait(self, timeout=None):
        return True

    def is_completed(self):
        return True


class ProcessGroup:
    """What a communication backend implements. All arrays are C-contiguous, of the dtypes the
    frontend checked; ``op`` is a :class:`RedOpType`; ranks are ranks *in this group*.

    Construction: ``cls(rank, size, timeout_s, options)`` for the default group, where
    ``options`` holds ``init_method`` and the environment the frontend resolved; subgroups
    come from :meth:`split`.
    """
    name = "?"
    rank = 0
    size = 1

    # collectives (in place where torch's are)
    def allreduce(self, arrays: list, op) -> Work: raise NotImplementedError
    def broadcast(self, array, root: int) -> Work: raise NotImplementedError
    def allgather(self, out, inp) -> Work:
        """``out`` holds ``size`` blocks the size of ``inp``, in rank order."""
        raise NotImplementedError
    def reduce_scatter(self, out, inp, op) -> Work:
        """``inp`` holds ``size`` blocks the size of ``out``; rank r gets reduced block r."""
        raise NotImplementedError
    def gather(self, out, inp, root: int) -> Work:
        """``out`` (root only, else None) holds ``size`` blocks the size of ``inp``."""
        raise NotImplementedError
    def scatter(self, out, inp, root: int) -> Work:
        """``inp`` (root only, else None) holds ``size`` blocks the size of ``out``."""
        raise NotImplementedError
    def alltoall(self, out, out_counts, inp, in_counts) -> Work:
        """Block r of ``inp`` (``in_counts[r]`` elements) goes to rank r; block s of ``out``
        (``out_counts[s]`` elements) comes from rank s."""
        raise NotImplementedError
    def send(self, array, dst: int, tag: int) -> Work: raise NotImplementedError
    def recv(self, array, src: int | None, tag: int) -> Work:
        """``src=None`` receives from any rank; the work's ``source`` says which."""
        raise NotImplementedError
    def barrier(self) -> Work: raise NotImplementedError

    def allreduce_checked(self, array, op, signature: tuple, what: str) -> Work | None:
        """Optional: one all-reduce of ``array`` that also checks, as :meth:`check_same` does,
        that every rank passed ``signature`` -- for backends that can carry the check inside
        the message or overlap it with the data better than the default. None: not for this
        call; the frontend then runs :meth:`check_same` beside :meth:`allreduce`."""
        return None

    # bookkeeping
    def check_same(self, signature: tuple, what: str) -> Work:
        """Start checking that every rank passed the same integer ``signature`` (collective,
        sizes, dtype, op) for ``what``; the work's ``wait`` raises :class:`DistBackendError`
        naming ``what`` on a mismatch. It is issued just before the collective and runs beside
        it, so it costs no extra round trip; a mismatched collective then never completes, so
        the group is unusable afterwards."""
        raise NotImplementedError
    def exchange_ints(self, values: list) -> list:
        """Every rank's list of ints (same length everywhere), in rank order."""
        raise NotImplementedError
    def split(self, ranks: list):
        """A group of the given ranks of this group (called by every rank; members get the
        new group, others None)."""
        raise NotImplementedError
    def fail(self, message: str):
        """Mark the group unusable (a collective was left unmatched) and raise
        :class:`DistBackendError` with ``message``; the process must not then wait for the
        lost rank at exit."""
        raise DistBackendError(message)

    def shutdown(self) -> None:
        pass
