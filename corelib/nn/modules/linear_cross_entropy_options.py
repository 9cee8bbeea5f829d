"""``nn.LinearCrossEntropyOptions`` (torch 2.13): the chunking settings of
:func:`~plugrad.nn.functional.linear_cross_entropy`. torch's chunked path only lowers peak
memory; plugrad keeps the settings (same fields, defaults and repr) and computes the
reference path, whose values the chunked path equals."""
from __future__ import annotations

import dataclasses

__all__ = ["LinearCrossEntropyOptions"]


@dataclasses.dataclass(slots=True, frozen=True)
class LinearCrossEntropyOptions:
    """Chunking settings for linear_cross_entropy (accepted; the reference path runs)."""
    allow_retain_graph: bool = False
    batch_chunk_size: int | None = None
    chunking_method: str | None = "auto"
    acc_policy: str = "auto"
    acc_dtype: object = None
