"""``python -m plugrad.distributed.run``: torchrun's command line, with mpiexec starting ranks.

    python -m plugrad.distributed.run --nproc-per-node 4 train.py --lr 0.1
    python -m plugrad.distributed.run --nproc-per-node 2 -m mypackage.train

Each rank gets torchrun's environment (RANK, LOCAL_RANK, WORLD_SIZE, LOCAL_WORLD_SIZE,
GROUP_RANK, MASTER_ADDR, MASTER_PORT), so torchrun scripts run unchanged with
``init_process_group("mpi")`` or ``"nccl"``. Several machines: ``--hostfile`` (MPICH's
``-f`` format) with ``--nnodes``, or skip this launcher and use ``mpiexec``/``srun`` directly.
When a rank dies, mpiexec stops the others and this command exits with its non-zero status,
naming what happened.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys


def find_mpiexec() -> str:
    """$PLUGRAD_MPIEXEC, else the mpiexec pip installed with this Python's packages (the mpich
    wheel puts it in the scripts folder: next to python in a venv, ~/.local/bin for --user),
    so it is found even when that folder is not on PATH; else the first on PATH."""
    explicit = os.environ.get("PLUGRAD_MPIEXEC")
    if explicit:
        return explicit
    import sysconfig
    folders = [os.path.dirname(sys.executable), sysconfig.get_path("scripts")]
    try:
        folders.append(sysconfig.get_path("scripts", f"{os.name}_user"))
    except KeyError:
        pass
    for folder in folders:
        candidate = os.path.join(folder or "", "mpiexec")
        if folder and os.path.exists(candidate):
            return candidate
    found = shutil.which("mpiexec")
    if found is None:
        raise SystemExit("plugrad.distributed.run: mpiexec not found. Install an MPI: "
                         "pip install 'plugrad[distributed]' (mpi4py and mpich), or set "
                         "PLUGRAD_MPIEXEC to your MPI's mpiexec.")
    return found


def _nproc(value: str) -> int:
    if value in ("cpu", "auto"):
        return os.cpu_count() or 1
    if value == "gpu":
        from ..cuda import device_count
        return max(device_count(), 1)
    n = int(value)
    if n < 1:
        raise argparse.ArgumentTypeError(f"--nproc-per-node must be positive, got {n}")
    return n


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m plugrad.distributed.run",
                                description="Start N ranks of a training script (torchrun's "
                                            "flags; ranks are started by mpiexec).")
    add = p.add_argument
    add("--nproc-per-node", "--nproc_per_node", type=str, default="1",
        help="ranks per machine: a number, or cpu/auto/gpu")
    add("--nnodes", type=str, default="1", help="machines (needs --hostfile when > 1)")
    add("--node-rank", "--node_rank", type=int, default=0, help="ignored: MPI places ranks")
    add("--master-addr", "--master_addr", default="127.0.0.1")
    add("--master-port", "--master_port", type=int, default=29500)
    add("--standalone", action="store_true", help="single machine (the default here)")
    add("--max-restarts", "--max_restarts", type=int, default=0)
    add("--rdzv-backend", "--rdzv_backend", default="static")
    add("--rdzv-endpoint", "--rdzv_endpoint", default="")
    add("--rdzv-id", "--rdzv_id", default="none")
    add("--hostfile", default=None, help="MPI host file for several machines")
    add("--mpiexec-args", default="", help="extra arguments for mpiexec, one string")
    add("-m", "--module", action="store_true", help="run the target as a module (python -m)")
    add("--no-python", "--no_python", action="store_true", help="run the target as a program")
    add("training_script")
    add("training_script_args", nargs=argparse.REMAINDER)
    return p


def command(args) -> list:
    """The mpiexec command line for parsed ``args``."""
    if args.max_restarts:
        raise SystemExit("plugrad.distributed.run: --max-restarts is not supported (MPI jobs "
                         "stop when a rank fails); use 0")
    per_node = _nproc(args.nproc_per_node)
    nnodes = int(str(args.nnodes).split(":")[-1])
    if nnodes > 1 and not args.hostfile:
        raise SystemExit("plugrad.distributed.run: --nnodes > 1 needs --hostfile (MPI starts "
                         "the ranks on every machine from one command)")
    cmd = [find_mpiexec(), "-n", str(per_node * nnodes)]
    if args.hostfile:
        cmd += ["-f", args.hostfile, "-ppn", str(per_node)]
    cmd += args.mpiexec_args.split()
    if args.no_python:
        return cmd + [args.training_script, *args.training_script_args]
    target = ["-m", args.training_script] if args.module else [args.training_script]
    return cmd + [sys.executable, "-u", "-m", "plugrad.distributed._bootstrap", *target,
                  *args.training_script_args]


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    if args.rdzv_endpoint and ":" in args.rdzv_endpoint:
        args.master_addr, port = args.rdzv_endpoint.rsplit(":", 1)
        args.master_port = int(port)
    env = dict(os.environ, MASTER_ADDR=args.master_addr, MASTER_PORT=str(args.master_port),
               TORCHELASTIC_RUN_ID=args.rdzv_id)
    proc = subprocess.Popen(command(args), env=env)
    try:
        code = proc.wait()
    except KeyboardInterrupt:
        proc.terminate()
        code = proc.wait()
    if code:
        print(f"plugrad.distributed.run: the job failed (mpiexec exit status {code}; a rank "
              "raised, or was killed and mpiexec stopped the others -- see the messages above)",
              file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
