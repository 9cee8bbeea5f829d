"""``plugrad.Generator`` and the default generator: PyTorch's CPU random stream on every device.

Numbers are torch's CPU stream (:mod:`plugrad.random`, bit-identical to torch's generator),
so the same seed gives the same values on cpu, cuda and opencl. Where the device's backend
has the ``mt19937_generate`` kernel they are generated on the device from a device copy of
the state (:mod:`plugrad.random.device` says when the state moves); otherwise they are drawn
on the host and uploaded. ``randperm``, ``normal`` of fewer than 16 or float64 values and
``bernoulli`` with a tensor p always draw on the host.
"""
from __future__ import annotations

import math
import threading
from typing import TYPE_CHECKING

from ._host_array import from_host_array
from ._tensor import _from_buffer
from .random import HostGenerator
from .random.device import DEVICE_METHODS, OP, Placement, plan

if TYPE_CHECKING:
    from ._tensor import Tensor

# HostGenerator call for each method, with the (shape, dtype name, *args) order of `generate`
_HOST_CALLS = {
    "uniform": lambda h, shape, dt, low, high: h.uniform(shape, dt, low, high),
    "normal": lambda h, shape, dt, mean, std: h.normal(shape, dt, mean, std),
    "randint": lambda h, shape, dt, low, high: h.randint(low, high, shape, dt),
    "random_": lambda h, shape, dt, low, high: h.random_(shape, dt, low, high),
    "bernoulli": lambda h, shape, dt, p: h.bernoulli(p, shape, dt),
}




class Generator:
    """A random stream: ``Generator().manual_seed(0)``; pass as ``generator=`` to random ops."""

    def __init__(self, device="cpu"):
        from ._device import device as _device
        self.device = _device(device) if not hasattr(device, "type") else device
        self._host = HostGenerator()
        self._place = Placement(self._host)
        self._lock = threading.Lock()

    def manual_seed(self, seed):
        seed = _as_int_seed(seed)
        with self._lock:
            self._host.manual_seed(seed)
            self._place.overwritten()
        return self

    def seed(self) -> int:
        with self._lock:
            seed = self._host.seed()
            self._place.overwritten()
            return seed

    def initial_seed(self) -> int:
        return self._host.initial_seed()

    def get_state(self):
        with self._lock:
            self._place.sync_host()
            state = self._host.get_state()
        return from_host_array(state)

    def set_state(self, new_state):
        from ._tensor import Tensor
        if not isinstance(new_state, Tensor):
            raise TypeError(f"expected a torch.ByteTensor, but got {type(new_state).__name__}")
        state = new_state.detach().cpu()._host()
        with self._lock:
            self._host.set_state(state)
            self._place.overwritten()
        return self

    def draw(self, method, *args):
        """Run one HostGenerator method under the lock (generators are shared across threads)."""
        with self._lock:
            self._place.to_host()
            return getattr(self._host, method)(*args)

    def generate(self, dev, method, shape, dtype, *args):
        """A new tensor of ``shape`` and ``dtype`` on ``dev`` with the next values of ``method``
        (a HostGenerator method; ``args`` follow its shape and dtype, e.g. low, high).

        On the device when its backend has the kernel (and the dtype), else drawn here and
        uploaded; the cpu backend is the host, so it always draws here.
        """
        table = dev.ops
        if not dev.host_memory and method in DEVICE_METHODS and table.supports(OP, dtype.name):
            todo = plan(method, dtype.name, args, math.prod(shape))
            if todo is not None:
                with self._lock:
                    buf = self._place.generate(table, shape, dtype.name, *todo)
                return _from_buffer(buf, shape, dtype, dev)
        with self._lock:
            self._place.to_host()
            array = _HOST_CALLS[method](self._host, shape, dtype.name, *args)
        return from_host_array(array, dtype, dev)

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
    """Seed the default generator from a non-deterministic source; returns that seed."""
    return default_generator.seed()


def initial_seed() -> int:
    """The seed the default generator was last seeded with."""
    return default_generator.initial_seed()


def get_rng_state() -> Tensor:
    """The default generator's state, as a uint8 tensor (pass it to :func:`set_rng_state`)."""
    return default_generator.get_state()


def set_rng_state(new_state: Tensor) -> None:
    """Restore the default generator's state from :func:`get_rng_state`'s tensor."""
    default_generator.set_state(new_state)


def resolve(generator) -> Generator:
    return default_generator if generator is None else generator
