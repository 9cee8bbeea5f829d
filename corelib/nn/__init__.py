"""``plugrad.nn``: modules, parameters, functional ops and initialisation (torch.nn's API)."""
from . import functional, init  # noqa: F401
from .modules import *  # noqa: F401,F403
from .modules import Module  # noqa: F401
from .parameter import Buffer, Parameter  # noqa: F401
from .modules.lazy import UninitializedBuffer, UninitializedParameter  # noqa: F401
from . import utils  # noqa: F401,E402  (clip_grad_norm_, parameters_to_vector, ...)
from . import parallel  # noqa: F401,E402  (DataParallel, DistributedDataParallel)
from .parallel import DataParallel  # noqa: F401,E402
