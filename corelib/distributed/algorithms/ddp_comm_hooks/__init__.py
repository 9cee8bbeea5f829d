"""DDP communication hooks: ``ddp.register_comm_hook(state, hook)`` (torch's layout)."""
from . import default_hooks  # noqa: F401
