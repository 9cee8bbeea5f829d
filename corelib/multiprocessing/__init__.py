"""``torch.multiprocessing``: Python's multiprocessing plus torch's tensor sharing.

Everything of the standard module is re-exported (``Process``, ``Queue``, ``set_start_method``,
...). ``Tensor.share_memory_()`` moves a cpu tensor's data into shared memory, and shared
tensors sent to other processes (Process arguments under any start method, queues) map the
same memory, so every process writes into one copy (torch's Hogwild pattern; see
:mod:`.sharing`). ``spawn`` starts ``nprocs`` processes running ``fn(i, *args)`` as torch's does.
"""
from __future__ import annotations

import multiprocessing
from multiprocessing import *  # noqa: F401,F403

from .sharing import is_shared, register_reductions, share_memory_  # noqa: F401
from .spawn import ProcessContext, ProcessExitedException, ProcessRaisedException, spawn, start_processes  # noqa: F401,E501

__all__ = [*multiprocessing.__all__, "spawn", "start_processes", "ProcessContext",
           "ProcessRaisedException", "ProcessExitedException", "get_sharing_strategy",
           "set_sharing_strategy", "get_all_sharing_strategies"]

register_reductions()

_STRATEGIES = {"file_descriptor", "file_system"}
_strategy = ["file_descriptor"]


def get_all_sharing_strategies() -> set:
    return set(_STRATEGIES)


def get_sharing_strategy() -> str:
    return _strategy[0]


def set_sharing_strategy(new_strategy: str) -> None:
    """Recorded for programs that set it; plugrad shares by anonymous mappings either way."""
    if new_strategy not in _STRATEGIES:
        raise AssertionError(f"invalid sharing strategy {new_strategy!r}")
    _strategy[0] = new_strategy
