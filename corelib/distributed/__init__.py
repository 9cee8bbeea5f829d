"""``plugrad.distributed``: torch.distributed's API over pluggable communication backends.

``mpi`` (mpi4py; any device through host memory) and ``nccl`` (CuPy; cuda tensors) are built
in; third parties add backends through the ``plugrad.distributed`` entry-point group
(:mod:`plugrad.plugins.comm`). Start ranks with ``mpiexec -n N python script.py`` or
``python -m plugrad.distributed.run --nproc-per-node N script.py``. Importing this package is
cheap: MPI is initialised by ``init_process_group``, not here.
"""
from ._world import (GroupMember, ProcessGroup, destroy_process_group, get_backend,  # noqa
                     get_global_rank, get_group_rank, get_process_group_ranks, get_rank,
                     get_world_size, group, init_process_group, is_available,
                     is_gloo_available, is_initialized, is_mpi_available, is_nccl_available,
                     is_torchelastic_launched, new_group, is_backend_available,
                     get_default_backend_for_device, get_node_local_rank)
from .backend import (DistBackendError, DistError, DistNetworkError,  # noqa: F401
                      DistStoreError, ReduceOp)
from .collectives import (P2POp, Work, all_gather, all_gather_into_tensor,  # noqa: F401
                          all_gather_single, all_reduce, batch_isend_irecv,
                          reduce_scatter_single,
                          all_to_all, all_to_all_single, barrier, broadcast, gather, irecv,
                          isend, monitored_barrier, recv, reduce, reduce_scatter,
                          reduce_scatter_tensor, scatter, send)
from .objects import (all_gather_object, broadcast_object_list, gather_object,  # noqa: F401
                      recv_object_list, scatter_object_list, send_object_list)


def __getattr__(name):
    if name == "TCPStore":            # socketserver is imported only by those who rendezvous
        from .store import TCPStore
        return TCPStore
    raise AttributeError(f"module 'plugrad.distributed' has no attribute {name!r}")


class Backend(str):
    """torch.distributed.Backend: ``Backend("MPI") == "mpi"`` and the names as constants."""
    MPI = "mpi"
    NCCL = "nccl"
    GLOO = "gloo"
    UNDEFINED = "undefined"

    def __new__(cls, name: str):
        return str.__new__(cls, str(name).lower())


def get_local_rank() -> int:
    """LOCAL_RANK from the launcher's environment (0 when it is not set)."""
    import os
    return int(os.environ.get("LOCAL_RANK", "0"))
