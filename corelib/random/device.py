"""Where a generator's MT19937 state lives, and torch's transforms as device-kernel parameters.

A backend with the optional contract kernel ``mt19937_generate`` continues torch's CPU
stream on its device, so random tensors are made there instead of being uploaded. The 624
state words live where they were last used:

* on the host by default; the first draw for a device uploads them (2.5 KB) and generates
  there, and later draws for that device use the device copy (no transfer at all);
* a host draw, a draw for another device, or ``get_state`` first reads them back (one
  2.5 KB download); ``manual_seed``, ``seed`` and ``set_state`` overwrite the host copy and
  forget the device one.  ``get_state`` leaves both copies valid, so the next draw for the
  same device still moves nothing.

Only the words move.  The index of the next word is computed on the host after every draw
(it follows from the number of words drawn), and the initial seed and the Box-Muller caches
of ``normal`` never leave the host.  Callers hold the generator's lock.
"""
from __future__ import annotations

import math

import numpy as np

from . import distributions, dtypes, integers

__all__ = ["Placement", "plan", "DEVICE_METHODS"]

_N = 624
OP = "mt19937_generate"
DEVICE_METHODS = frozenset(("uniform", "randint", "random_", "bernoulli", "normal"))
"""HostGenerator methods a device can run. ``normal`` only for 16+ float32/float16 values
(torch's AVX2 Box-Muller, a float32 polynomial the device repeats exactly); fewer values and
float64 use libm's log/sin/cos in double, so they stay on the host, as do ``randperm`` and
``bernoulli`` with a tensor p."""
_HALF_FLOATS = frozenset(("float16", "float32"))


def plan(method: str, dtype: str, args: tuple, n: int) -> tuple[str, tuple, int] | None:
    """(transform, params, words drawn) of ``mt19937_generate`` for n values of a
    HostGenerator method and its arguments after the shape and dtype; raises and warns as
    the host would. None: the host must draw these."""
    dt = dtypes.resolve(dtype)
    if method == "uniform":
        low, high = distributions.check_uniform(dt, *args)
        return "uniform", (low, high), n * (2 if dt == np.float64 else 1)
    if method == "bernoulli":
        # u < p with u = k * 2**-53 (k < 2**53 an integer) is k < ceil(p * 2**53): exact,
        # and no float64 needed on the device
        return "bernoulli", (math.ceil(distributions.check_p(*args) * 2.0 ** 53),), 2 * n
    if method == "normal":
        mean, std = (float(a) for a in args)
        if dtype not in _HALF_FLOATS or n < 16 or not std >= 0.0:   # the host raises for std
            return None
        # normal_fill's tail: float32 draws 16 fresh uniforms, float16 tops the rest up to 16
        extra = 0 if n % 16 == 0 else 16 if dtype == "float32" else 16 - n % 16
        return "normal", (mean, std), n + extra
    bits, span, base = integers.plan(dt, *args)   # randint(low, high) is random_(low, high)
    return "integer", (bits, span, base), n * bits // 32


def _advance(pos: int, words: int) -> int:
    """Index of the next word after ``words`` draws from ``pos`` (624: twist first)."""
    twists = (pos + words - 1) // _N
    return pos + words - _N * twists


class Placement:
    """The state of one generator's engine: on the host, on one device, or on both in sync.

    ``table`` is the dispatch table of the device holding a copy (``None``: host only),
    ``impl`` the backend object that made ``buf`` (a plugin change may replace it),
    ``host_stale`` whether that copy is ahead of the host engine. ``uploads`` and
    ``downloads`` count state moves (tests, and the README's transfer story).
    """

    __slots__ = ("engine", "table", "impl", "buf", "pos", "host_stale", "uploads", "downloads")

    def __init__(self, engine):
        self.engine = engine
        self.table = self.impl = self.buf = None
        self.pos = 0
        self.host_stale = False
        self.uploads = self.downloads = 0

    def sync_host(self) -> None:
        """Make the host engine current (download when a device is ahead); keep the copy."""
        if self.host_stale:
            key = np.asarray(self.impl.to_host(self.buf)).view(np.uint32)
            self.engine.load_words(key.copy(), self.pos)
            self.host_stale = False
            self.downloads += 1

    def to_host(self) -> None:
        """Before a host draw: the host engine current, the device copy forgotten."""
        if self.table is not None:
            self.sync_host()
            self.table = self.impl = self.buf = None

    def overwritten(self) -> None:
        """The host engine was re-seeded or loaded: any device copy is obsolete."""
        self.table = self.impl = self.buf = None
        self.host_stale = False

    def generate(self, table, shape: tuple, dtype: str, transform: str, params: tuple,
                 words: int):
        """The next ``prod(shape)`` values, ``words`` words, as a buffer on ``table``'s device."""
        if self.table is not table or self.impl is not table.impl:
            self.sync_host()
            key, pos = self.engine.words()
            self.buf = table.from_host(key.view(np.int32))
            self.table, self.impl, self.pos = table, table.impl, pos
            self.uploads += 1
        out = getattr(table, OP)(self.buf, self.pos, shape, dtype, transform, params)
        if words:
            self.pos = _advance(self.pos, words)
            self.host_stale = True
        return out
