"""DistributedDataParallel: one model replica per rank, gradients averaged during backward.

As torch's reducer does: at wrap time the parameters and buffers of rank 0 are broadcast and
the model is checked to be the same on every rank; parameters are grouped into buckets (in
reverse order, about the order backward produces their gradients; ``bucket_cap_mb``, a small
first bucket; after the first backward, rebuilt in the order the gradients really came). A
post-accumulate-grad hook on every parameter marks it ready; a bucket whose
parameters are all ready is flattened and its all-reduce *started* at once, while backward
keeps running on the earlier layers (overlap). Buckets start in bucket order on every rank, so
collectives match across ranks. When the last bucket has started, backward waits for them all
and writes the averaged gradients back into ``.grad``.
"""
from __future__ import annotations

from contextlib import contextmanager

from ... import _dtype as D
from ..._tensor import Tensor
from ...autograd.grad_mode import is_grad_enabled, no_grad
from ...autograd.node import Node
from ...ops.creation import zeros
from ...ops.movement import cat
from ..modules.module import Module

__all__ = ["DistributedDataParallel", "GradBucket"]

_FIRST_BUCKET_BYTES = 1024 * 1024    # torch's dist._DEFAULT_FIRST_BUCKET_BYTES

_UNFINISHED = (
    "Expected to have finished reduction in the prior iteration before starting a new one. "
    "This error indicates that your module has parameters that were not used in producing "
    "loss. You can enable unused parameter detection by passing the keyword argument "
    "`find_unused_parameters=True` to `torch.nn.parallel.DistributedDataParallel`, and by \n"
    "making sure all `forward` function outputs participate in calculating loss. "
    "Parameters which did not receive grad for rank {rank}: {names}")


class GradBucket:
    """What a communication hook gets (torch's GradBucket): the flattened gradients of one
    bucket, and the parameters they belong to."""

    def __init__(self, index, flat, params, last):
        self._index, self._flat, self._params, self._last = index, flat, params, last

    def index(self) -> int:
        return self._index

    def buffer(self):
        return self._flat

    def set_buffer(self, tensor):
        self._flat.copy_(tensor)

    def parameters(self) -> list:
        return list(self._params)

    def gradients(self) -> list:
        out, at = [], 0
        for p in self._params:
            out.append(self._flat[at:at + p.numel()].view(p.shape))
            at += p.numel()
        return out

    def is_last(self) -> bool:
        return self._last


class _HookWork:
    """A hook's future, waited like a Work; its result becomes the bucket's reduced values."""

    def __init__(self, future, flat):
        self.future, self.flat = future, flat

    def is_completed(self):
        return self.future.done()

    def wait(self):
        result = self.future.wait()
        if isinstance(result, (list, tuple)):
            result = result[0]
        if result is not self.flat:
            with no_grad():
                self.flat.copy_(result.reshape(-1))
        return True


class _Bucket:
    """Parameters whose gradients travel in one flat all-reduce."""
    __slots__ = ("params", "pending", "flat", "work")

    def __init__(self, params):
        self.params = params
        self.pending = len(params)
        self.flat = self.work = None


def _tensors_in(value):
    if isinstance(value, Tensor):
        yield value
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _tensors_in(v)
    elif isinstance(value, dict):
        for v in value.values():
            yield from _tensors_in(v)


def _reachable_leaves(outputs) -> set:
    """ids of the leaf tensors the autograd graph of ``outputs`` reaches."""
    seen, leaves = set(), set()
    stack = [t.grad_fn for t in _tensors_in(outputs) if t.grad_fn is not None]
    leaves.update(id(t) for t in _tensors_in(outputs) if t.grad_fn is None and t.requires_grad)
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        for edge in node.next:
            if isinstance(edge, Node):
                stack.append(edge)
            elif edge is not None:
                leaves.add(id(edge))
    return leaves


class DistributedDataParallel(Module):
    r"""Data parallelism over a process group: ``ddp = DDP(model)``; ``ddp(x).sum().backward()``
    leaves every rank with the gradient averaged over ranks.

    Args:
        module: the model (already on its device).
        device_ids, output_device: as torch; must name the module's own device (or be None).
        broadcast_buffers=True: copy rank 0's buffers (BatchNorm statistics) before each
            forward.
        process_group=None: the group to average over (default: all ranks).
        bucket_cap_mb=None: bucket size in MiB (torch's 25 when None).
        find_unused_parameters=False: walk the graph after forward, so parameters that get no
            gradient this iteration do not stall the reduction.

    Attributes:
        module: the wrapped model; ``state_dict()`` keys start with ``module.`` as in torch.
    """

    def __init__(self, module, device_ids=None, output_device=None, dim=0,
                 broadcast_buffers=True, init_sync=True, process_group=None,
                 bucket_cap_mb=None, find_unused_parameters=False, check_reduction=False,
                 gradient_as_bucket_view=False, static_graph=False,
                 delay_all_reduce_named_params=None, param_to_hook_all_reduce=None,
                 mixed_precision=None, device_mesh=None, skip_all_reduce_unused_params=False):
        from ...distributed import _world
        super().__init__()
        named = [(n, p) for n, p in module.named_parameters() if p.requires_grad]
        if not named:
            raise RuntimeError("DistributedDataParallel is not needed when a module doesn't "
                               "have any parameter that requires a gradient.")
        devices = {p.device for _, p in module.named_parameters()}
        if device_ids is not None or output_device is not None:
            wanted = [d if not isinstance(d, int) else None for d in (device_ids or [])]
            ok = len(devices) == 1 and next(iter(devices)).type != "cpu" and all(
                w is None or w == next(iter(devices)) for w in wanted) and len(device_ids) == 1
            if not ok:
                raise ValueError(
                    "DistributedDataParallel device_ids and output_device arguments only work "
                    "with single-device/multiple-device GPU modules or CPU modules, but got "
                    f"device_ids {device_ids}, output_device {output_device}, and module "
                    f"parameters {devices}.")
        self.module = module
        self.process_group = _world.resolve(process_group)
        if self.process_group is None:
            raise ValueError("DistributedDataParallel: this rank is not in process_group")
        self.dim = dim
        self.device_ids = device_ids
        self.broadcast_buffers = broadcast_buffers
        self.find_unused_parameters = find_unused_parameters
        self.gradient_as_bucket_view = gradient_as_bucket_view
        self.static_graph = static_graph
        self.require_backward_grad_sync = True
        self.require_forward_param_sync = True
        object.__setattr__(self, "_names", [n for n, _ in named])
        object.__setattr__(self, "_params", [p for _, p in named])
        self._verify_same_model()
        if init_sync:
            self._broadcast_coalesced([p for _, p in module.named_parameters()] +
                                      [b for _, b in module.named_buffers() if b is not None])
        self.bucket_bytes_cap = int((25 if bucket_cap_mb is None else bucket_cap_mb) * 1024 ** 2)
        self._set_buckets(list(reversed(self._params)))
        object.__setattr__(self, "_state", {"armed": False, "next": 0, "ready": set(),
                                            "used": set(), "order": [], "rebuilt": False,
                                            "unused": []})
        object.__setattr__(self, "_handles", [p.register_post_accumulate_grad_hook(self._hook)
                                              for p in self._params])
        object.__setattr__(self, "_comm_hook", None)

    # ------------------------------------------------------------------ wrap time
    def _verify_same_model(self):
        from ...distributed.collectives import _DTYPE_CODE
        impl = self.process_group.impl
        counts = impl.exchange_ints([len(self._params)])
        for r, (n,) in enumerate(counts):
            if n != len(self._params):
                raise RuntimeError(f"DDP expects same model across all ranks, but Rank "
                                   f"{self.process_group.rank()} has {len(self._params)} "
                                   f"params, while rank {r} has inconsistent {n} params.")
        mine = [v for p in self._params for v in (p.numel(), _DTYPE_CODE[p.dtype])]
        for r, theirs in enumerate(impl.exchange_ints(mine)):
            for i in range(len(self._params)):
                if theirs[2 * i:2 * i + 2] != mine[2 * i:2 * i + 2]:
                    raise RuntimeError(
                        f"DDP expects same model across all ranks: parameter "
                        f"{self._names[i]} has {mine[2 * i]} elements of "
                        f"{self._params[i].dtype} on rank {self.process_group.rank()} but "
                        f"{theirs[2 * i]} elements (dtype code {theirs[2 * i + 1]}) on rank {r}")

    def _broadcast_coalesced(self, tensors):
        """Rank 0's values into ``tensors``, one broadcast per (device, dtype)."""
        from ...distributed import collectives as C
        groups = {}
        for t in tensors:
            if t.numel():
                groups.setdefault((t.device, t.dtype), []).append(t)
        with no_grad():
            for ts in groups.values():
                flat = cat([t.detach().reshape(-1) for t in ts])
                C.broadcast(flat, group=self.process_group, group_src=0)
                at = 0
                for t in ts:
                    t.copy_(flat[at:at + t.numel()].reshape(t.shape))
                    at += t.numel()

    def _set_buckets(self, order):
        """Bucket the parameters in ``order`` (the order their gradients are expected)."""
        cap = self.bucket_bytes_cap
        buckets, current, size, limit = [], [], 0, min(cap, _FIRST_BUCKET_BYTES)
        key = None
        for p in order:
            nbytes = p.numel() * p.element_size()
            if current and (size + nbytes > limit or (p.device, p.dtype) != key):
                buckets.append(_Bucket(current))
                current, size, limit = [], 0, cap
            current.append(p)
            size += nbytes
            key = (p.device, p.dtype)
        if current:
            buckets.append(_Bucket(current))
        object.__setattr__(self, "_buckets", buckets)
        object.__setattr__(self, "_bucket_of", {id(p): b for b in buckets for p in b.params})

    def _rebuild_buckets(self):
        """After the first backward, re-bucket by the order gradients really arrived (torch's
        rebuild_buckets; a Linear's weight and bias, say, come in either order), using rank 0's
        order on every rank so the collectives still match."""
        from ...distributed import collectives as C
        from ...ops.creation import tensor
        index = {id(p): i for i, p in enumerate(self._params)}
        seen = [index[k] for k in self._state["order"]]
        rest = [i for i in reversed(range(len(self._params))) if i not in set(seen)]
        order = tensor(seen + rest, dtype=D.int64)
        C.broadcast(order, group=self.process_group, group_src=0)
        self._set_buckets([self._params[i] for i in order.tolist()])

    # ------------------------------------------------------------------ forward
    def forward(self, *inputs, **kwargs):
        state = self._state
        # a forward whose output never went through backward (evaluation without no_grad) is
        # fine; a backward that left some gradients unreduced is torch's error
        if state["armed"] and state["ready"] and is_grad_enabled():
            missing = [n for n, p in zip(self._names, self._params) if id(p) not in state["ready"]]
            raise RuntimeError(_UNFINISHED.format(rank=self.process_group.rank(),
                                                  names=", ".join(missing)))
        if self.broadcast_buffers and self.require_forward_param_sync and \
                self.process_group.size() > 1:
            buffers = [b for _, b in self.module.named_buffers() if b is not None]
            if buffers:
                self._broadcast_coalesced(buffers)
        out = self.module(*inputs, **kwargs)
        if is_grad_enabled() and self.require_backward_grad_sync:
            self._prepare_for_backward(out)
        return out

    def _prepare_for_backward(self, out):
        state = self._state
        state.update(armed=True, next=0, ready=set(), used=set())
        state["order"].clear()
        for b in self._buckets:
            b.pending, b.flat, b.work = len(b.params), None, None
        state["unused"] = []
        if self.find_unused_parameters:
            reached = _reachable_leaves(out)
            state["unused"] = [p for p in self._params if id(p) not in reached]

    # ------------------------------------------------------------------ backward
    def _hook(self, param):
        state = self._state
        if state["armed"]:
            if state["unused"]:       # marked once backward starts: a forward that never
                unused, state["unused"] = state["unused"], []   # sees backward starts nothing
                for p in unused:
                    self._mark_ready(p, used=False)
            self._mark_ready(param, used=True)

    def _mark_ready(self, param, used):
        state = self._state
        if id(param) in state["ready"]:
            raise RuntimeError(
                "Expected to mark a variable ready only once. This error is caused by one of "
                "the following reasons: 1) Use of a module parameter outside the `forward` "
                "function. 2) Reused parameters in multiple reentrant backward passes. "
                f"Parameter: {self._names[self._params.index(param)]}")
        state["ready"].add(id(param))
        if not state["rebuilt"]:
            state["order"].append(id(param))
        if used:
            state["used"].add(id(param))
        self._bucket_of[id(param)].pending -= 1
        buckets = self._buckets
        while state["next"] < len(buckets) and buckets[state["next"]].pending == 0:
            self._launch(buckets[state["next"]])
            state["next"] += 1
        if state["next"] == len(buckets):
            self._finalize()
        else:
            for b in buckets[:state["next"]]:   # let MPI progress the ones in flight
                if b.work is not None and not b.work.is_completed():
                    break

    def _launch(self, bucket):
        from ...distributed.backend import RedOpType
        from ...distributed.collectives import launch_all_reduce
        with no_grad():
            parts = [(p.grad.detach() if p.grad is not None else
                      zeros(p.shape, dtype=p.dtype, device=p.device)).reshape(-1)
                     for p in bucket.params]
            bucket.flat = cat(parts) if len(parts) > 1 else parts[0].clone()
        if self._comm_hook is not None:
            state, hook = self._comm_hook
            index = self._buckets.index(bucket)
            grad_bucket = GradBucket(index, bucket.flat, bucket.params,
                                     index == len(self._buckets) - 1)
            bucket.work = _HookWork(hook(state, grad_bucket), bucket.flat)
            return
        bucket.work = launch_all_reduce(self.process_group, bucket.flat, RedOpType.AVG)

    def _finalize(self):
        from ...distributed import collectives as C
        state = self._state
        state["armed"] = False
        globally_used = None
        if self.find_unused_parameters:
            used = zeros(len(self._params), dtype=D.int32)
            for i, p in enumerate(self._params):
                if id(p) in state["used"]:
                    used[i] = 1
            C.all_reduce(used, C.RedOpType.MAX, group=self.process_group)
            globally_used = used.tolist()
        index = {id(p): i for i, p in enumerate(self._params)}
        with no_grad():
            for bucket in self._buckets:
                bucket.work.wait()
                at = 0
                for p in bucket.params:
                    n = p.numel()
                    value = bucket.flat[at:at + n].reshape(p.shape)
                    at += n
                    if globally_used is not None and not globally_used[index[id(p)]]:
                        continue
                    if p.grad is None:
                        p.grad = value.clone()
                    else:
                        p.grad.copy_(value)
                bucket.flat = bucket.work = None
        if not state["rebuilt"]:
            state["rebuilt"] = True
            self._rebuild_buckets()

    # ------------------------------------------------------------------ user API
    @contextmanager
    def no_sync(self):
        """Gradients accumulate locally inside; the first backward after it averages them."""
        previous = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = previous

    def register_comm_hook(self, state, hook):
        """Reduce each bucket with ``hook(state, bucket) -> Future`` instead of the averaging
        all-reduce (torch's API; e.g. ``default_hooks.fp16_compress_hook`` with
        ``state=process_group``). The future's value is the bucket's averaged gradients."""
        if self._comm_hook is not None:
            raise RuntimeError("register_comm_hook or register_builtin_comm_hook can only be "
                               "called once.")
        if not callable(hook):
            raise TypeError(f"hook must be callable, got {type(hook).__name__}")
        object.__setattr__(self, "_comm_hook", (state, hook))

    def extra_repr(self):
        return ""
