"""Process groups: ``init_process_group``, ``new_group``, ranks, and the environment torchrun sets.

A :class:`ProcessGroup` pairs a backend's group (:mod:`plugrad.distributed.backend`) with the
global ranks it contains and the facts the frontend needs to hand it buffers (which device types
it reads directly, whether it takes host copies). The backend comes from the communication
registry (:mod:`plugrad.plugins.comm`), so ``init_process_group(backend="x")`` works for any
installed plugin.
"""
from __future__ import annotations

import os
from datetime import timedelta

from ..plugins.comm import get_comm_registry
from .backend import DEFAULT_TIMEOUT

_NOT_INIT = ("Default process group has not been initialized, please make sure to call "
             "init_process_group.")


class ProcessGroup:
    """torch's ProcessGroup handle: ``rank()``, ``size()``, the backend name, and its ranks."""

    def __init__(self, impl, backend: str, spec, ranks: list, timeout: float):
        self.impl = impl
        self.backend = backend
        self.devices = spec.devices
        self.host_staging = spec.host_staging
        self.ranks = list(ranks)            # global ranks, in group-rank order
        self.timeout = timeout

    def rank(self) -> int:
        return self.impl.rank

    def size(self) -> int:
        return self.impl.size

    def name(self) -> str:
        return self.backend

    def __repr__(self):
        return f"ProcessGroup(backend={self.backend!r}, ranks={self.ranks})"


class GroupMember:
    """torch's sentinels: ``GroupMember.WORLD`` (the default group) and ``NON_GROUP_MEMBER``."""
    WORLD = None
    NON_GROUP_MEMBER = object()


class group:  # noqa: N801  (torch.distributed.group.WORLD)
    WORLD = None


_group_namespace = group


class _State:
    default: ProcessGroup | None = None
    groups: list = []


def _resolve_timeout(timeout) -> float:
    if timeout is None:
        return DEFAULT_TIMEOUT.total_seconds()
    if not isinstance(timeout, timedelta):
        raise TypeError(f"Expected timeout argument to be of type datetime.timedelta, got "
                        f"{type(timeout).__name__}")
    return timeout.total_seconds()


def _env_int(name):
    value = os.environ.get(name)
    if value is None or value == "":
        return None
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"Error initializing torch.distributed using env:// rendezvous: "
                         f"environment variable {name} is not an integer: {value!r}") from None


def _pick_backend(backend, device_id) -> str:
    registry = get_comm_registry()
    if backend is None or backend == "":
        kind = getattr(device_id, "type", None) or "cpu"
        name = registry.default_for(kind)
        if name is None:
            raise RuntimeError(f"no available communication backend for {kind} tensors: "
                               + "; ".join(registry.describe()))
        return name
    if not isinstance(backend, str):
        raise TypeError(f"backend must be a string, got {type(backend).__name__}")
    if ":" in backend:    # torch's "cpu:gloo,cuda:nccl": the first entry picks the backend
        backend = backend.split(",")[0].split(":")[-1]
    return registry.get(backend).spec.name


def init_process_group(backend=None, init_method=None, timeout=None, world_size=-1, rank=-1,
                       store=None, group_name="", pg_options=None, device_id=None):
    """Create the default process group (torch's signature).

    ``backend`` names a communication plugin (``"mpi"``, ``"nccl"``; ``None`` picks the best
    available one for cpu tensors). For ``mpi`` the ranks come from the MPI launcher; for other
    backends from ``rank``/``world_size`` or the ``RANK``/``WORLD_SIZE`` environment torchrun and
    ``python -m plugrad.distributed.run`` set (``init_method="env://"``, the default).
    """
    if _State.default is not None:
        raise ValueError("trying to initialize the default process group twice!")
    if store is not None and init_method is not None:
        raise ValueError("Cannot specify both init_method and store.")
    timeout_s = _resolve_timeout(timeout)
    name = _pick_backend(backend, device_id)
    registry = get_comm_registry()
    entry = registry.get(name)
    cls = registry.load(name)
    if rank is None or rank < 0:
        rank = _env_int("RANK")
    if world_size is None or world_size < 0:
        world_size = _env_int("WORLD_SIZE")
    if rank is not None and world_size is not None and not 0 <= rank < world_size:
        raise ValueError(f"Invalid rank {rank} for world size {world_size}: expected "
                         f"0 <= rank < world_size")
    options = {"init_method": init_method or "env://", "store": store,
               "group_name": group_name, "pg_options": pg_options, "device_id": device_id}
    impl = cls(rank, world_size, timeout_s, options)
    pg = ProcessGroup(impl, name, entry.spec, range(impl.size), timeout_s)
    _State.default = pg
    _State.groups = [pg]
    GroupMember.WORLD = _group_namespace.WORLD = pg


def is_initialized() -> bool:
    return _State.default is not None


def is_available() -> bool:
    return True


def _available(name) -> bool:
    try:
        return get_comm_registry().get(name).availability() is True
    except ValueError:
        return False


def is_mpi_available() -> bool:
    return _available("mpi")


def is_nccl_available() -> bool:
    return _available("nccl")


def is_gloo_available() -> bool:
    """True where backend="gloo" works: plugrad runs it on the mpi backend."""
    return _available("gloo")


def is_backend_available(backend: str) -> bool:
    return _available(backend)


def get_default_backend_for_device(device) -> str:
    """The communication backend ``init_process_group()`` picks for tensors on ``device``."""
    kind = getattr(device, "type", None) or str(device).split(":")[0]
    name = get_comm_registry().default_for(kind)
    if name is None:
        raise ValueError(f"Default backend not registered for device : {kind}")
    return name


def get_node_local_rank(fallback_rank=None) -> int:
    """LOCAL_RANK from the launcher, else ``fallback_rank`` (torch's)."""
    if "LOCAL_RANK" in os.environ:
        return int(os.environ["LOCAL_RANK"])
    if fallback_rank is not None:
        return int(fallback_rank)
    raise RuntimeError("LOCAL_RANK is not in the environment. Consider passing fallback_rank "
                       "to allow `get_node_local_rank` to work, assuming you are not running "
                       "in a multi-device context and want the code to run locally instead.")


def is_torchelastic_launched() -> bool:
    return os.environ.get("TORCHELASTIC_RUN_ID") is not None


def resolve(grp) -> ProcessGroup | None:
    """The ProcessGroup a ``group=`` argument means (None: the default one); None when this
    rank is not a member; ValueError before ``init_process_group``."""
    if _State.default is None:
        raise ValueError(_NOT_INIT)
    if grp is None or grp is GroupMember.WORLD:
        return _State.default
    if grp is GroupMember.NON_GROUP_MEMBER:
        return None
    if not isinstance(grp, ProcessGroup):
        raise TypeError(f"group must be a ProcessGroup, got {type(grp).__name__}")
    if grp.impl is None:
        raise ValueError("the process group has been destroyed")
    return grp


def get_rank(group=None) -> int:
    pg = resolve(group)
    return -1 if pg is None else pg.rank()


def get_world_size(group=None) -> int:
    pg = resolve(group)
    return -1 if pg is None else pg.size()


def get_backend(group=None) -> str:
    pg = resolve(group)
    if pg is None:
        raise ValueError("Invalid process group specified")
    return pg.backend


def get_process_group_ranks(group) -> list:
    pg = resolve(group)
    return list(pg.ranks) if pg is not None else []


def get_global_rank(group, group_rank: int) -> int:
    pg = resolve(group)
    if pg is None or not 0 <= group_rank < len(pg.ranks):
        raise ValueError(f"Group rank {group_rank} is not part of group {group}")
    return pg.ranks[group_rank]


def get_group_rank(group, global_rank: int) -> int:
    pg = resolve(group)
    if pg is None or global_rank not in pg.ranks:
        raise ValueError(f"Global rank {global_rank} is not part of group {group}")
    return pg.ranks.index(global_rank)


def new_group(ranks=None, timeout=None, backend=None, pg_options=None,
              use_local_synchronization=False, group_desc=None, device_id=None,
              sort_ranks=True):
    """A group of some ranks of the default group. Every rank must call it (torch's rule);
    non-members get ``GroupMember.NON_GROUP_MEMBER``."""
    world = resolve(None)
    size = world.size()
    chosen = list(range(size)) if ranks is None else [int(r) for r in ranks]
    if sort_ranks:
        chosen = sorted(chosen)
    if len(set(chosen)) != len(chosen):
        raise ValueError(f"new_group: ranks contain duplicates: {list(ranks)}")
    for r in chosen:
        if not 0 <= r < size:
            raise ValueError(f"The new group's rank should be within the world_size set by "
                             f"init_process_group, got rank {r} for world size {size}")
    if backend is not None and _pick_backend(backend, None) != world.backend:
        raise ValueError(f"new_group: backend {backend!r} differs from the default group's "
                         f"{world.backend!r}; plugrad builds subgroups on the default backend")
    timeout_s = world.timeout if timeout is None else _resolve_timeout(timeout)
    impl = world.impl.split(chosen)
    if impl is None:
        return GroupMember.NON_GROUP_MEMBER
    impl.timeout = timeout_s
    pg = ProcessGroup(impl, world.backend, get_comm_registry().get(world.backend).spec, chosen,
                      timeout_s)
    _State.groups.append(pg)
    return pg


def destroy_process_group(group=None):
    """Free a group (None: every group, and ``is_initialized()`` becomes False)."""
    if group is None or group is GroupMember.WORLD:
        if _State.default is None:
            raise ValueError(_NOT_INIT)
        for pg in reversed(_State.groups):
            if pg.impl is not None:
                pg.impl.shutdown()
                pg.impl = None
        _State.default, _State.groups = None, []
        GroupMember.WORLD = _group_namespace.WORLD = None
        return
    pg = resolve(group)
    if pg is not None and pg.impl is not None:
        pg.impl.shutdown()
        pg.impl = None
