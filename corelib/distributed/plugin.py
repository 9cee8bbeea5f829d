"""The built-in communication backends, registered through the ``plugrad.distributed``
entry-point group exactly as a third party's would be."""
from __future__ import annotations

from ..plugins.comm import CommBackendSpec
from ..plugins.hookspec import hookimpl


def _load_mpi():
    from .mpi import MPIProcessGroup
    return MPIProcessGroup


def _mpi_available():
    from .mpi import available
    return available()


def _load_nccl():
    from .nccl import NCCLProcessGroup
    return NCCLProcessGroup


def _nccl_available():
    from .nccl import available
    return available()


@hookimpl
def plugrad_comm_backends():
    # "gloo": torch's cpu backend name, so scripts written for it run unchanged over MPI
    yield CommBackendSpec(name="mpi", load=_load_mpi, devices=("cpu",), host_staging=True,
                          is_available=_mpi_available, priority=10, aliases=("gloo",),
                          description="MPI through mpi4py (host memory; other devices staged "
                                      "through the host)")
    yield CommBackendSpec(name="nccl", load=_load_nccl, devices=("cuda",),
                          is_available=_nccl_available, priority=5,
                          description="NCCL through cupy.cuda.nccl (cuda tensors)")
