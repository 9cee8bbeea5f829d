"""``torch.nn.utils.skip_init``: build a module without running its initialisation."""
from __future__ import annotations

import inspect

__all__ = ["skip_init"]


def skip_init(module_cls, *args, **kwargs):
    """``module_cls(*args, **kwargs)`` with its parameters left uninitialized: no values are
    promised, and (as in torch, where the module is first built on the meta device) the
    random stream is left where it was."""
    from ...random import get_rng_state, set_rng_state
    if "device" not in inspect.signature(module_cls).parameters:
        raise RuntimeError("Module must support a 'device' arg to skip initialization")
    state = get_rng_state()
    try:
        return module_cls(*args, **kwargs)
    finally:
        set_rng_state(state)
