"""torch.distributed's collectives on plugrad tensors, over any communication backend.

Each call checks its arguments as torch does, checks that every rank passed the same sizes and
dtypes (:meth:`~plugrad.distributed.backend.ProcessGroup.check_same`: one small all-reduce in
flight beside the collective, or for small all-reduces a few slots inside their own message,
so a mismatch is an error instead of corrupt data or a hang;
``PLUGRAD_DISTRIBUTED_CHECKS=0`` skips it),
then hands the backend contiguous buffers it can read: the tensor's own storage when the backend
takes that device, else a copy (on the host for host-staging backends such as ``mpi``). Results
are copied back into the caller's tensors when the work completes (``wait()``).
"""
from __future__ import annotations

import os

from .. import _dtype as D
from .._tensor import Tensor
from ..autograd.grad_mode import no_grad
from ..ops.creation import empty, zeros
from ._world import ProcessGroup, resolve
from .backend import DistBackendError, DoneWork, RedOpType

_CHECKS = os.environ.get("PLUGRAD_DISTRIBUTED_CHECKS", "1") not in ("0", "")
_DTYPE_CODE = {dt: i for i, dt in enumerate(D.ALL)}
_REDUCTIONS = {**{op: op for op in RedOpType}, **{int(op): op for op in RedOpType}}
_NEEDS_FLOAT = frozenset({RedOpType.AVG})
_NEEDS_INTEGER = frozenset({RedOpType.BAND, RedOpType.BOR, RedOpType.BXOR})


class Work:
    """What ``async_op=True`` returns (torch's Work): ``wait()`` finishes the operation."""

    def __init__(self, inner, finish=None, result=(), check=None):
        self._inner, self._finish, self._result, self._done = inner, finish, result, False
        self._check = check          # the cross-rank argument check, in flight beside inner

    def wait(self, timeout=None) -> bool:
        if not self._done:
            limit = None if timeout is None else _seconds(timeout)
            if self._check is not None:
                self._check.wait_with(self._inner, limit)   # a differing rank is the error
            else:
                self._inner.wait(limit)
            self._done = True
            if self._finish is not None:
                self._finish()
        return True

    def is_completed(self) -> bool:
        if not self._done and (self._check is None or self._check.is_completed()) and \
                self._inner.is_completed():
            self.wait()
        return self._done

    def is_success(self) -> bool:
        return self.is_completed()

    def result(self) -> list:
        self.wait()
        return list(self._result)

    def get_future(self):
        return _Future(self)

    @property
    def source(self):
        return getattr(self._inner, "source", None)


class _Future:
    """A minimal torch.futures.Future over a Work: ``wait()``/``value()``/``done()``, and
    ``then(fn)`` for DDP communication hooks (``fn`` runs once, when the result is wanted)."""

    def __init__(self, work=None, parent=None, fn=None):
        self._work, self._parent, self._fn = work, parent, fn
        self._done, self._value = False, None

    def wait(self):
        if not self._done:
            self._value = self._work.result() if self._work is not None else \
                self._fn(self._parent._resolved())
            self._done = True
        return self._value

    value = wait

    def _resolved(self):
        self.wait()
        return self

    def done(self):
        if self._work is not None:
            return self._done or self._work.is_completed()
        return self._done or self._parent.done()

    def then(self, callback):
        return _Future(parent=self, fn=callback)


def _seconds(timeout):
    return timeout.total_seconds() if hasattr(timeout, "total_seconds") else float(timeout)


def _finish(work, async_op):
    if async_op:
        return work
    work.wait()
    return None


# ----------------------------------------------------------------------- argument checks
def _check_tensor(t, name="tensor"):
    if not isinstance(t, Tensor):
        raise TypeError(f"Invalid function argument. Expected parameter `{name}` of type "
                        f"torch.Tensor\n             but got {type(t)} instead.")


def _check_list(ts, name):
    if not isinstance(ts, (list, tuple)) or not all(isinstance(t, Tensor) for t in ts):
        got = type(ts) if not isinstance(ts, (list, tuple)) else "a list with non-tensors"
        raise TypeError(f"Invalid function argument. Expected parameter `{name}` of type "
                        f"List[torch.Tensor]\n             but got {got} instead.")


def _check_op(op):
    try:
        return _REDUCTIONS[op]
    except (KeyError, TypeError):
        raise TypeError(f"Invalid reduce op {op!r}: expected a torch.distributed.ReduceOp") \
            from None


def _check_reducible(t, op):
    if op in _NEEDS_FLOAT and not t.dtype.is_floating_point:
        raise ValueError(f"ReduceOp.AVG needs a floating point tensor, got {t.dtype}")
    if op in _NEEDS_INTEGER and t.dtype.is_floating_point:
        raise ValueError(f"{op.name} needs an integer or bool tensor, got {t.dtype}")


def _group(group) -> ProcessGroup | None:
    return resolve(group)


def _group_rank(pg, global_rank, group_rank, what):
    """The rank in ``pg`` of a src/dst argument (torch: global rank, or ``group_*`` rank)."""
    if global_rank is not None and group_rank is not None:
        raise ValueError(f"Can not specify both {what} and group_{what}")
    if group_rank is not None:
        if not 0 <= group_rank < pg.size():
            raise ValueError(f"group_{what} {group_rank} is out of range for a group of size "
                             f"{pg.size()}")
        return group_rank
    global_rank = 0 if global_rank is None else global_rank
    if global_rank not in pg.ranks:
        if pg is resolve(None):       # torch passes a world rank to the backend unchecked
            raise RuntimeError(f"ProcessGroup{pg.backend.upper()}: invalid root rank: "
                               f"{global_rank}")
        raise ValueError(f"Global rank {global_rank} is not part of group {pg}")
    return pg.ranks.index(global_rank)


_COLLECTIVES = {name: i for i, name in enumerate((
    "all_reduce", "reduce", "broadcast", "all_gather", "all_gather_into_tensor",
    "reduce_scatter", "reduce_scatter_tensor", "gather", "scatter"))}


def _fields(pg, what, *fields):
    """What every rank must agree on to call ``what`` with ``fields`` (None: no check)."""
    if not _CHECKS or pg.size() == 1:
        return None
    return (_COLLECTIVES[what], *fields) + (0,) * (5 - len(fields))


def _signature(pg, what, *fields):
    """Start the check that every rank called ``what`` with the same ``fields``; it runs
    beside the collective (no extra round trip) and ``Work.wait`` reports a mismatch first."""
    signature = _fields(pg, what, *fields)
    return None if signature is None else pg.impl.check_same(signature, what)


def _meta(t):
    return (t.numel(), _DTYPE_CODE[t.dtype])


# ----------------------------------------------------------------------- staging
def _takes(pg, t):
    """True when the backend reads ``t``'s storage directly."""
    return t._device.type in pg.devices and (t.dtype.np is not None or not t._device.host_memory)


def _array(t):
    """The backend buffer of a contiguous tensor (numpy for host-memory devices)."""
    dev = t._device
    return dev.ops.to_host(t._data) if dev.host_memory else t._data


def _direct(t, write):
    """``t``'s own buffer if the backend may use it (and, for ``write``, write it in place),
    else None; the array's own flags answer for numpy/cupy buffers, which hold exactly the
    tensor's elements."""
    arr = _array(t)
    flags = getattr(arr, "flags", None)
    if flags is None:
        return arr if t.is_contiguous() else None
    usable = flags.c_contiguous and (not write or getattr(flags, "writeable", True))
    return arr if usable else None


def _staging_device(pg, t):
    if _takes(pg, t):
        return t._device
    if pg.host_staging:
        return "cpu"
    return pg.devices[0]


def _staged(pg, t, write):
    """(tensor the backend uses, its buffer): ``t`` itself when possible, else a copy;
    ``write``: the backend writes the result into it."""
    if _takes(pg, t):
        arr = _direct(t, write)
        if arr is not None:
            return t, arr
    with no_grad():
        copy = t.detach().to(_staging_device(pg, t))
        if copy.dtype == D.bfloat16 and copy._device.host_memory:
            copy = copy.float()              # numpy has no bfloat16: reduce in float32
        if copy is t or copy._data is t._data or not copy.is_contiguous():
            copy = copy.clone() if copy.is_contiguous() else copy.contiguous()
    return copy, _array(copy)


def _scratch(pg, like, numel):
    """A fresh contiguous buffer for ``numel`` elements of ``like``'s dtype, where the backend
    reads it."""
    dtype = like.dtype
    if dtype == D.bfloat16 and pg.host_staging and not _takes(pg, like):
        dtype = D.float32
    t = empty(numel, dtype=dtype, device=_staging_device(pg, like))
    return t, _array(t)


def _copy_back(dst, src):
    """Write ``src`` (a staged result) into the caller's tensor, casting and moving as needed."""
    if src is dst:
        dst._bump_version()
        return
    with no_grad():
        dst.copy_(src.reshape(dst.shape))


def _empty_work(async_op):
    return _finish(Work(DoneWork()), async_op)


# ----------------------------------------------------------------------- collectives
def all_reduce(tensor, op=RedOpType.SUM, group=None, async_op=False):
    """Reduce ``tensor`` over all ranks in place (torch.distributed.all_reduce)."""
    _check_tensor(tensor)
    op = _check_op(op)
    _check_reducible(tensor, op)
    pg = _group(group)
    if pg is None:
        return None
    signature = _fields(pg, "all_reduce", *_meta(tensor), int(op))
    if signature is None:
        return _finish(launch_all_reduce(pg, tensor, op), async_op)
    staged, arr = _staged(pg, tensor, True)
    work = pg.impl.allreduce_checked(arr, op, signature, "all_reduce")
    if work is not None and not async_op:
        work.wait()
        _copy_back(tensor, staged)
        return None
    if work is None:
        check = pg.impl.check_same(signature, "all_reduce")
        return _finish(_all_reduce_work(pg, tensor, staged, arr, op, check), async_op)
    return _finish(_landed(work, tensor, staged), async_op)


def launch_all_reduce(pg, tensor, op, check=None) -> Work:
    """Start an all-reduce (without the cross-rank check for DDP's buckets, whose sizes were
    checked once when the model was wrapped)."""
    staged, arr = _staged(pg, tensor, True)
    return _all_reduce_work(pg, tensor, staged, arr, op, check)


def _all_reduce_work(pg, tensor, staged, arr, op, check):
    return _landed(pg.impl.allreduce([arr], op), tensor, staged, check)


def _landed(work, tensor, staged, check=None) -> Work:
    """The frontend's Work for a backend work writing ``staged``: the result lands in
    ``tensor`` when it completes."""
    if staged is tensor:            # reduced in place: only the version changes (as torch)
        tensor._bump_version()
        return Work(work, None, (tensor,), check)
    return Work(work, lambda: _copy_back(tensor, staged), (tensor,), check)


def reduce(tensor, dst=None, op=RedOpType.SUM, group=None, async_op=False, group_dst=None):
    """Reduce onto rank ``dst`` (other ranks' tensors are left as they are, as with NCCL)."""
    _check_tensor(tensor)
    op = _check_op(op)
    _check_reducible(tensor, op)
    pg = _group(group)
    if pg is None:
        return None
    root = _group_rank(pg, dst, group_dst, "dst")
    check = _signature(pg, "reduce", *_meta(tensor), int(op), root)
    staged, arr = _staged(pg, tensor, True)
    if staged is tensor:       # all-reduce into a copy so non-root tensors stay unchanged
        staged, arr = _scratch(pg, tensor, tensor.numel())
        with no_grad():
            staged.copy_(tensor.reshape(-1))
    work = pg.impl.allreduce([arr], op)
    done = (lambda: _copy_back(tensor, staged)) if pg.rank() == root else None
    return _finish(Work(work, done, [tensor], check), async_op)


def broadcast(tensor, src=None, group=None, async_op=False, group_src=None):
    """Copy rank ``src``'s tensor to every rank."""
    _check_tensor(tensor)
    pg = _group(group)
    if pg is None:
        return None
    root = _group_rank(pg, src, group_src, "src")
    check = _signature(pg, "broadcast", *_meta(tensor), root)
    staged, arr = _staged(pg, tensor, True)
    work = pg.impl.broadcast(arr, root)
    return _finish(Work(work, lambda: _copy_back(tensor, staged), [tensor], check),
                   async_op)


def _check_same_as(tensors, tensor, name):
    for i, t in enumerate(tensors):
        if t.numel() != tensor.numel() or t.dtype != tensor.dtype:
            raise ValueError(f"{name}[{i}] has {t.numel()} elements of {t.dtype}; expected "
                             f"{tensor.numel()} of {tensor.dtype} like the input tensor")


def _scatter_blocks(staged, tensors, n):
    def done():
        for i, t in enumerate(tensors):
            _copy_back(t, staged[i * n:(i + 1) * n])
    return done


def all_gather(tensor_list, tensor, group=None, async_op=False):
    """Every rank's ``tensor`` into ``tensor_list`` (one entry per rank)."""
    _check_list(tensor_list, "tensor_list")
    _check_tensor(tensor)
    pg = _group(group)
    if pg is None:
        return None
    if len(tensor_list) != pg.size():
        raise RuntimeError(f"all_gather: invalid output tensor list (expected length "
                           f"{pg.size()}, the group size, got {len(tensor_list)})")
    _check_same_as(tensor_list, tensor, "tensor_list")
    check = _signature(pg, "all_gather", *_meta(tensor))
    n = tensor.numel()
    _, inp = _staged(pg, tensor, False)
    out, out_arr = _scratch(pg, tensor, n * pg.size())
    work = pg.impl.allgather(out_arr, inp)
    return _finish(Work(work, _scatter_blocks(out, tensor_list, n), tensor_list, check),
                   async_op)


def all_gather_into_tensor(output_tensor, input_tensor, group=None, async_op=False):
    """Every rank's ``input_tensor`` concatenated (or stacked) into ``output_tensor``."""
    _check_tensor(output_tensor, "output_tensor")
    _check_tensor(input_tensor, "input_tensor")
    pg = _group(group)
    if pg is None:
        return None
    if output_tensor.numel() != input_tensor.numel() * pg.size():
        raise RuntimeError("output tensor size must be equal to world_size times input tensor "
                           f"size: {output_tensor.numel()} != {pg.size()} * "
                           f"{input_tensor.numel()}")
    if output_tensor.dtype != input_tensor.dtype:
        raise RuntimeError(f"output tensor must have the same type as input tensor: "
                           f"{output_tensor.dtype} vs {input_tensor.dtype}")
    check = _signature(pg, "all_gather_into_tensor", *_meta(input_tensor))
    _, inp = _staged(pg, input_tensor, False)
    out, out_arr = _staged(pg, output_tensor, True)
    work = pg.impl.allgather(out_arr, inp)
    return _finish(Work(work, lambda: _copy_back(output_tensor, out), [output_tensor], check),
                   async_op)


def reduce_scatter(output, input_list, op=RedOpType.SUM, group=None, async_op=False):
    """Reduce ``input_list[r]`` over ranks into rank r's ``output``."""
    _check_tensor(output, "output")
    _check_list(input_list, "input_list")
    op = _check_op(op)
    _check_reducible(output, op)
    pg = _group(group)
    if pg is None:
        return None
    if len(input_list) != pg.size():
        raise ValueError(f"reduce_scatter: input_list has {len(input_list)} tensors; the group "
                         f"has {pg.size()} ranks")
    _check_same_as(input_list, output, "input_list")
    check = _signature(pg, "reduce_scatter", *_meta(output), int(op))
    n = output.numel()
    inp, inp_arr = _scratch(pg, output, n * pg.size())
    with no_grad():
        for i, t in enumerate(input_list):
            inp[i * n:(i + 1) * n].copy_(t.reshape(-1))
    out, out_arr = _staged(pg, output, True)
    work = pg.impl.reduce_scatter(out_arr, inp_arr, op)
    return _finish(Work(work, lambda: _copy_back(output, out), [output], check), async_op)


def reduce_scatter_tensor(output, input, op=RedOpType.SUM, group=None, async_op=False):
    """Reduce ``input`` (``size`` blocks of ``output``'s size) and keep this rank's block."""
    _check_tensor(output, "output")
    _check_tensor(input, "input")
    op = _check_op(op)
    _check_reducible(output, op)
    pg = _group(group)
    if pg is None:
        return None
    if input.numel() != output.numel() * pg.size():
        raise RuntimeError("input tensor must be the same size as output size times world "
                           f"size: {input.numel()} != {output.numel()} * {pg.size()}")
    if output.dtype != input.dtype:
        raise RuntimeError(f"input tensor must be the same type as the output tensor: "
                           f"{input.dtype} vs {output.dtype}")
    check = _signature(pg, "reduce_scatter_tensor", *_meta(output), int(op))
    _, inp_arr = _staged(pg, input, False)
    out, out_arr = _staged(pg, output, True)
    work = pg.impl.reduce_scatter(out_arr, inp_arr, op)
    return _finish(Work(work, lambda: _copy_back(output, out), [output], check), async_op)


def gather(tensor, gather_list=None, dst=None, group=None, async_op=False, group_dst=None):
    """Every rank's ``tensor`` into ``gather_list`` on rank ``dst``."""
    _check_tensor(tensor)
    pg = _group(group)
    if pg is None:
        return None
    root = _group_rank(pg, dst, group_dst, "dst")
    n = tensor.numel()
    if pg.rank() == root:
        if gather_list is None:
            raise ValueError("Argument ``gather_list`` must be specified on destination rank.")
        _check_list(gather_list, "gather_list")
        if len(gather_list) != pg.size():
            raise ValueError(f"gather: gather_list has {len(gather_list)} tensors; the group "
                             f"has {pg.size()} ranks")
        _check_same_as(gather_list, tensor, "gather_list")
    elif gather_list:
        raise ValueError("Argument ``gather_list`` must NOT be specified on non-destination "
                         "ranks.")
    check = _signature(pg, "gather", *_meta(tensor), root)
    _, inp = _staged(pg, tensor, False)
    out, out_arr = _scratch(pg, tensor, n * pg.size()) if pg.rank() == root else (None, None)
    work = pg.impl.gather(out_arr, inp, root)
    done = _scatter_blocks(out, gather_list, n) if out is not None else None
    return _finish(Work(work, done, gather_list or [], check), async_op)


def scatter(tensor, scatter_list=None, src=None, group=None, async_op=False, group_src=None):
    """Rank ``src``'s ``scatter_list[r]`` into rank r's ``tensor``."""
    _check_tensor(tensor)
    pg = _group(group)
    if pg is None:
        return None
    root = _group_rank(pg, src, group_src, "src")
    n = tensor.numel()
    inp_arr = None
    if pg.rank() == root:
        if scatter_list is None:
            raise ValueError("Argument ``scatter_list`` must be specified on source rank.")
        _check_list(scatter_list, "scatter_list")
        if len(scatter_list) != pg.size():
            raise ValueError(f"scatter: scatter_list has {len(scatter_list)} tensors; the "
                             f"group has {pg.size()} ranks")
        _check_same_as(scatter_list, tensor, "scatter_list")
        inp, inp_arr = _scratch(pg, tensor, n * pg.size())
        with no_grad():
            for i, t in enumerate(scatter_list):
                inp[i * n:(i + 1) * n].copy_(t.reshape(-1))
    elif scatter_list:
        raise ValueError("Argument ``scatter_list`` must NOT be specified on non-source ranks.")
    check = _signature(pg, "scatter", *_meta(tensor), root)
    out, out_arr = _staged(pg, tensor, True)
    work = pg.impl.scatter(out_arr, inp_arr, root)
    return _finish(Work(work, lambda: _copy_back(tensor, out), [tensor], check), async_op)


def _alltoall(pg, out_counts, in_counts, dtype, what):
    """Check every rank's split sizes and dtype against each other (one small exchange), so
    no rank waits for data that is never sent."""
    table = pg.impl.exchange_ints([_DTYPE_CODE[dtype], *in_counts, *out_counts])
    size = pg.size()
    if len({row[0] for row in table}) != 1:
        raise DistBackendError(f"{what}: ranks passed tensors of different dtypes")
    for s in range(size):
        for r in range(size):
            sent, expected = table[s][1 + r], table[r][1 + size + s]
            if sent != expected:
                raise DistBackendError(f"{what}: rank {pg.ranks[s]} sends {sent} elements to "
                                       f"rank {pg.ranks[r]}, which expects {expected}")


def all_to_all(output_tensor_list, input_tensor_list, group=None, async_op=False):
    """``input_tensor_list[r]`` goes to rank r; ``output_tensor_list[s]`` comes from rank s."""
    _check_list(output_tensor_list, "output_tensor_list")
    _check_list(input_tensor_list, "input_tensor_list")
    pg = _group(group)
    if pg is None:
        return None
    size = pg.size()
    if len(output_tensor_list) != size or len(input_tensor_list) != size:
        raise RuntimeError(f"all_to_all: input tensor list size {len(input_tensor_list)} and "
                           f"output tensor list size {len(output_tensor_list)} must match the "
                           f"world size {size}")
    dtypes = {t.dtype for t in [*output_tensor_list, *input_tensor_list]}
    if len(dtypes) != 1:
        raise RuntimeError(f"all_to_all: tensors must share one dtype, got "
                           f"{sorted(map(str, dtypes))}")
    like = input_tensor_list[0]
    in_counts = [t.numel() for t in input_tensor_list]
    out_counts = [t.numel() for t in output_tensor_list]
    _alltoall(pg, out_counts, in_counts, like.dtype, "all_to_all")
    inp, inp_arr = _scratch(pg, like, sum(in_counts))
    with no_grad():
        at = 0
        for t, c in zip(input_tensor_list, in_counts):
            inp[at:at + c].copy_(t.reshape(-1))
            at += c
    out, out_arr = _scratch(pg, like, sum(out_counts))

    def done():
        at = 0
        for t, c in zip(output_tensor_list, out_counts):
            _copy_back(t, out[at:at + c])
            at += c
    work = pg.impl.alltoall(out_arr, out_counts, inp_arr, in_counts)
    return _finish(Work(work, done, output_tensor_list), async_op)


def all_to_all_single(output, input, output_split_sizes=None, input_split_sizes=None,
                      group=None, async_op=False):
    """all_to_all on one tensor split along dim 0 (equal splits when sizes are None)."""
    _check_tensor(output, "output")
    _check_tensor(input, "input")
    pg = _group(group)
    if pg is None:
        return None
    size = pg.size()

    def splits(t, sizes, name):
        if not sizes:
            if t.shape[0] % size:
                raise ValueError(f"all_to_all_single: {name} dim 0 ({t.shape[0]}) is not "
                                 f"divisible by the group size {size}")
            sizes = [t.shape[0] // size] * size
        if len(sizes) != size or sum(sizes) != t.shape[0]:
            raise ValueError(f"all_to_all_single: {name} split sizes {list(sizes)} must have "
                             f"{size} entries summing to {t.shape[0]}")
        return list(sizes)
    outs = list(output.split(splits(output, output_split_sizes, "output")))
    ins = list(input.split(splits(input, input_split_sizes, "input")))
    return all_to_all(outs, ins, group, async_op)     # outs are views: results land in output


def barrier(group=None, async_op=False, device_ids=None, timeout=None):
    """Wait until every rank of the group arrives."""
    pg = _group(group)
    if pg is None:
        return None
    work = Work(pg.impl.barrier())
    if async_op:
        return work
    work.wait(timeout)
    return None


_MONITOR_TAG = 0x6D62     # "mb": keeps monitored_barrier's messages apart from the user's


def monitored_barrier(group=None, timeout=None, wait_all_ranks=False):
    """A barrier that names the ranks that did not arrive (torch's, for finding a hung rank):
    every rank reports to rank 0, which raises ``DistBackendError`` listing the missing ranks
    after ``timeout`` (the group's by default), then releases the others."""
    pg = _group(group)
    if pg is None or pg.size() == 1:
        return None
    limit = pg.timeout if timeout is None else _seconds(timeout)
    if pg.rank() != 0:
        send(zeros(1), group=group, tag=_MONITOR_TAG, group_dst=0)
        recv(zeros(1), group=group, tag=_MONITOR_TAG, group_src=0)
        return None
    import time
    pending = {r: irecv(zeros(1), group=group, tag=_MONITOR_TAG, group_src=r)
               for r in range(1, pg.size())}
    deadline = time.monotonic() + limit
    while pending and time.monotonic() < deadline:
        for r in [r for r, w in pending.items() if w.is_completed()]:
            del pending[r]
        time.sleep(0.0005)
    if pending:
        missing = sorted(pg.ranks[r] for r in pending)
        shown = missing if wait_all_ranks else missing[:1]
        who = (f"Ranks {', '.join(map(str, shown))}" if len(shown) > 1 else f"Rank {shown[0]}")
        pg.impl.fail(f"{who} failed to pass monitoredBarrier in {limit * 1000:g} ms")
    for r in range(1, pg.size()):
        send(zeros(1), group=group, tag=_MONITOR_TAG, group_dst=r)
    return None


# ----------------------------------------------------------------------- point to point
def isend(tensor, dst=None, group=None, tag=0, group_dst=None):
    _check_tensor(tensor)
    pg = _group(group)
    if pg is None:
        return None
    peer = _group_rank(pg, dst, group_dst, "dst")
    if peer == pg.rank():
        raise ValueError("Invalid destination rank: should not be the same as the rank of "
                         "the current process.")
    staged, arr = _staged(pg, tensor, False)
    return Work(pg.impl.send(arr, peer, tag), None, [staged])


def irecv(tensor, src=None, group=None, tag=0, group_src=None):
    _check_tensor(tensor)
    pg = _group(group)
    if pg is None:
        return None
    peer = None if src is None and group_src is None else _group_rank(pg, src, group_src, "src")
    if peer is not None and peer == pg.rank():
        raise ValueError("Invalid source rank: should not be the same as the rank of the "
                         "current process.")
    staged, arr = _staged(pg, tensor, True)
    return Work(pg.impl.recv(arr, peer, tag), lambda: _copy_back(tensor, staged), [tensor])


class P2POp:
    """One isend/irecv for :func:`batch_isend_irecv` (torch.distributed.P2POp)."""

    def __init__(self, op, tensor, peer=None, group=None, tag=0, group_peer=None):
        if op not in (isend, irecv):
            raise ValueError("Invalid ``op``. Expected ``op`` to be of type "
                             "``torch.distributed.isend`` or ``torch.distributed.irecv``.")
        _check_tensor(tensor)
        self.op, self.tensor, self.peer, self.group = op, tensor, peer, group
        self.tag, self.group_peer = tag, group_peer


def batch_isend_irecv(p2p_op_list):
    """Start every P2POp; returns their work handles in order."""
    if not isinstance(p2p_op_list, (list, tuple)) or \
            not all(isinstance(p, P2POp) for p in p2p_op_list):
        raise ValueError("Invalid ``p2p_op_list``. Each op is expected to to be of type "
                         "``torch.distributed.P2POp``.")
    return [p.op(p.tensor, p.peer, p.group, p.tag, p.group_peer) for p in p2p_op_list]


def send(tensor, dst=None, group=None, tag=0, group_dst=None):
    work = isend(tensor, dst, group, tag, group_dst)
    if work is not None:
        work.wait()


def recv(tensor, src=None, group=None, tag=0, group_src=None):
    """Receive into ``tensor``; returns the sender's global rank (any rank when src is None)."""
    work = irecv(tensor, src, group, tag, group_src)
    if work is None:
        return -1
    work.wait()
    pg = _group(group)
    source = work.source
    if source is None:
        source = _group_rank(pg, src, group_src, "src")
    return pg.ranks[source]


all_gather_single = all_gather_into_tensor       # torch 2.13's new names for the same calls
reduce_scatter_single = reduce_scatter_tensor
