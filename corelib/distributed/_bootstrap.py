"""Per-rank start-up for ``python -m plugrad.distributed.run``: torchrun's environment from
the MPI launcher's, then the user's script (or ``-m module``) as ``__main__``.

Scripts written for torchrun read RANK, LOCAL_RANK, WORLD_SIZE, LOCAL_WORLD_SIZE, GROUP_RANK,
MASTER_ADDR and MASTER_PORT; MPICH, Open MPI and Slurm each name these differently.
"""
from __future__ import annotations

import os
import runpy
import sys

_SOURCES = {  # torchrun name: launcher names, first found wins
    "RANK": ("PMI_RANK", "OMPI_COMM_WORLD_RANK", "SLURM_PROCID"),
    "WORLD_SIZE": ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "SLURM_NTASKS"),
    "LOCAL_RANK": ("MPI_LOCALRANKID", "OMPI_COMM_WORLD_LOCAL_RANK", "SLURM_LOCALID"),
    "LOCAL_WORLD_SIZE": ("MPI_LOCALNRANKS", "OMPI_COMM_WORLD_LOCAL_SIZE"),
}


def torchrun_environment(env) -> dict:
    """The torchrun variables derivable from ``env`` (a launcher's environment)."""
    out = {}
    for name, sources in _SOURCES.items():
        for source in sources:
            if env.get(source):
                out[name] = env[source]
                break
    if "RANK" in out and "LOCAL_WORLD_SIZE" in out:
        out["GROUP_RANK"] = str(int(out["RANK"]) // int(out["LOCAL_WORLD_SIZE"]))
    out.setdefault("LOCAL_RANK", out.get("RANK", "0"))
    out.setdefault("LOCAL_WORLD_SIZE", out.get("WORLD_SIZE", "1"))
    return out


def main(argv):
    os.environ.update(torchrun_environment(os.environ))
    if argv[:1] == ["-m"]:
        sys.argv = argv[1:]
        runpy.run_module(argv[1], run_name="__main__", alter_sys=True)
    else:
        sys.argv = list(argv)
        sys.path.insert(0, os.path.dirname(os.path.abspath(argv[0])))
        runpy.run_path(argv[0], run_name="__main__")


if __name__ == "__main__":
    main(sys.argv[1:])
