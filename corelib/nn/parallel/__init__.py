"""``plugrad.nn.parallel``: DistributedDataParallel (torch.nn.parallel's API)."""
from .distributed import DistributedDataParallel  # noqa: F401

__all__ = ["DistributedDataParallel"]
