"""``plugrad.distributed.nn``: collectives that autograd differentiates (torch's layout)."""
from . import functional  # noqa: F401
