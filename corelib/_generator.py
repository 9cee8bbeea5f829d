"""``plugrad.Generator`` and the default generator: PyTorch's CPU random stream on every device.

Numbers are drawn on the host by :mod:`plugrad.random` (bit-identical to torch's CPU
generator) and uploaded, so the same seed gives the same values on cpu, cuda and opencl.
"""
from __future__ import annotations

import threading

from .random import HostGenerator


class Generator:
    """A random stream: ``Generator().manual_seed(0)``; pass as ``generator=`` to random ops."""

    def __init__(self, device="cpu"):
        from ._device import device as _device
        self.device = _device(device) if not hasattr(device, "type") else device
        self._host = HostGenerator()
        self._lock = threading.Lock()

    def manual_seed(self, seed):
        seed = _as_int_seed(seed)
        with self._lock:
            self._host.manual_seed(seed)
        return self

    def seed(self) -> int:
        with self._lock:
            return self._host.seed()

    def initial_seed(self) -> int:
        return self._host.initial_seed()

    def get_state(self):
        from .ops.creation import from_host_array
        return from_host_array(self._host.get_state().copy())

    def set_state(self, new_state):
        from ._tensor import Tensor
        if not isinstance(new_state, Tensor):
            raise TypeError(f"expected a torch.ByteTensor, but got {type(new_state).__name__}")
        with self._lock:
            self._host.set_state(new_state.detach().cpu()._host())
        return self

    def draw(self, method, *args):
        """Run one HostGenerator method under the lock (generators are shared across threads)."""
        with self._lock:
            return getattr(self._host, method)(*args)

    def __repr__(self):
        return f"<plugrad.Generator object at {hex(id(self))}>"


def _as_int_seed(seed):
    try:
        return int(seed)
    except (TypeError, ValueError):
        raise RuntimeError(f"manual_seed expected a long, but got {type(seed).__name__}") from None


default_generator = Generator()
default_generator.seed()   # torch seeds its default generator from the OS at start-up


def manual_seed(seed):
    """Seed the default generator (all devices share it); returns it, as torch does."""
    return default_generator.manual_seed(seed)


def seed() -> int:
    return default_generator.seed()


def initial_seed() -> int:
    return default_generator.initial_seed()


def get_rng_state():
    return default_generator.get_state()


def set_rng_state(new_state):
    default_generator.set_state(new_state)


def resolve(generator) -> Generator:
    return default_generator if generator is None else generator
