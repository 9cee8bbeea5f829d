"""HostGenerator: the engine plus torch's distributions, returning numpy arrays."""
from __future__ import annotations

import operator

import numpy as np

from . import distributions, dtypes, integers
from .engine import Engine

__all__ = ["HostGenerator"]


def _shape(shape) -> tuple[int, ...]:
    if isinstance(shape, (int, np.integer)):
        shape = (shape,)
    shape = tuple(operator.index(s) for s in shape)
    for s in shape:
        if s < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: {list(shape)}")
    return shape


def _numel(shape: tuple[int, ...]) -> int:
    n = 1
    for s in shape:
        n *= s
    return n


class HostGenerator(Engine):
    """MT19937 state + torch's CPU distribution transforms; produces numpy arrays.

    Seeded alike, every method returns the bits ``torch`` 2.13's CPU generator returns and
    leaves the stream where torch leaves it.  Arrays are new, C-contiguous, of ``shape``.
    """

    __slots__ = ()

    def random_bits(self, n: int, bits: int = 32) -> np.ndarray:
        """``n`` raw draws: ``random()`` as uint32 (bits=32) or ``random64()`` as uint64 (bits=64)."""
        if bits == 32:
            return self.random32(n)
        if bits == 64:
            return self.random64(n)
        raise ValueError(f"random_bits: expected bits 32 or 64, got {bits}")

    def uniform(self, shape, dtype: str = "float32", low: float = 0.0, high: float = 1.0) -> np.ndarray:
        """``torch.rand`` / ``Tensor.uniform_(low, high)``: values in [low, high)."""
        shape, dt = _shape(shape), dtypes.resolve(dtype)
        return distributions.uniform(self, _numel(shape), dt, low, high).reshape(shape)

    def normal(self, shape, dtype: str = "float32", mean: float = 0.0, std: float = 1.0) -> np.ndarray:
        """``torch.randn`` / ``Tensor.normal_(mean, std)`` with scalar mean and std."""
        shape, dt = _shape(shape), dtypes.resolve(dtype)
        return distributions.normal(self, _numel(shape), dt, mean, std).reshape(shape)

    def randint(self, low: int, high: int, shape, dtype: str = "int64") -> np.ndarray:
        """``torch.randint(low, high, shape)``: integers in [low, high)."""
        shape, dt = _shape(shape), dtypes.resolve(dtype)
        return integers.random_(self, _numel(shape), dt, low, high).reshape(shape)

    def randperm(self, n: int, dtype: str = "int64") -> np.ndarray:
        """``torch.randperm(n)``."""
        return integers.randperm(self, n, dtypes.resolve(dtype))

    def bernoulli(self, p, shape=None, dtype: str | None = None) -> np.ndarray:
        """``Tensor.bernoulli_(p)`` for a float p, ``torch.bernoulli(p)`` for an array p.

        ``shape`` defaults to ``p.shape`` and ``dtype`` to ``p.dtype`` for an array (``torch.bernoulli``);
        an array p smaller than ``shape`` is broadcast as ``bernoulli_`` expands it.
        """
        if isinstance(p, np.ndarray):
            shape = p.shape if shape is None else shape
            dtype = p.dtype if dtype is None else dtype
        elif shape is None or dtype is None:
            raise TypeError("bernoulli: a scalar p needs shape and dtype")
        shape, dt = _shape(shape), dtypes.resolve(dtype)
        return distributions.bernoulli(self, p, shape, dt)

    def random_(self, shape, dtype: str = "int64", low: int | None = None, high: int | None = None) -> np.ndarray:
        """``Tensor.random_()``, ``random_(high)`` (pass ``high`` only) or ``random_(low, high)``."""
        shape, dt = _shape(shape), dtypes.resolve(dtype)
        return integers.random_(self, _numel(shape), dt, low, high).reshape(shape)

    def clone(self) -> "HostGenerator":
        """An independent generator in the same state (``torch.Generator.clone_state``)."""
        other = HostGenerator()
        other.set_state(self.get_state())
        return other
