"""Tier 1 of the contract: the runtime functions every backend must define.

A backend missing one is rejected when its device is first used (``load()`` is lazy), with a
PluginError naming the missing functions, the plugin and its distribution: nothing can be
done without them. ``device`` is the integer index into the backend's own devices; the
dispatch table binds it by keyword, so the parameter must be called ``device``.
"""
from __future__ import annotations

from ._spec import Buf, DType, HostArray, Scalar, Shape, runtime

# The stubs' names are the contract's (``copy``, ``empty`` ...); their bodies are empty.
# ruff: noqa: A001


# ---------------------------------------------------------------------- runtime

@runtime
def device_count() -> int:
    """Number of devices this backend drives (>= 1 when available)."""


@runtime
def empty(shape: Shape, dtype: DType, device: int) -> Buf:
    """Uninitialised contiguous buffer."""


@runtime
def full(shape: Shape, value: Scalar, dtype: DType, device: int) -> Buf:
    """Contiguous buffer filled with a scalar."""


@runtime
def arange(start: float, step: float, n: int, dtype: DType, device: int) -> Buf:
    """1-D: element i = start + i*step, computed in float64 (int64 for integer
    dtypes) and then cast to dtype."""


@runtime
def from_host(array: HostArray, device: int) -> Buf:
    """Copy a numpy array (any layout) onto the device."""


@runtime
def to_host(buf: Buf) -> HostArray:
    """A numpy array with buf's shape and values. Host-memory backends may return an array
    sharing memory with buf."""


@runtime
def copy(x: Buf) -> Buf:
    """A new C-contiguous buffer with x's values."""


@runtime
def cast(x: Buf, dtype: DType) -> Buf:
    """A new buffer converted like numpy's astype (float -> int truncates toward
    zero).

    A float that is nan, +-inf or outside the integer dtype's range after truncation gives an
    unspecified value in that element -- torch leaves it undefined (numpy on x86 gives
    INT_MIN, XLA clamps) -- but the call succeeds and every other element is exact.
    float -> bool is ``x != 0`` (nan is True)."""


@runtime
def assign(dst: Buf, src: Buf | Scalar) -> None:
    """Write src (same dtype, broadcastable) into dst in place; dst may be a strided view."""


@runtime
def strides(x: Buf) -> tuple[int, ...]:
    """Strides in elements (0 for broadcast axes)."""


@runtime
def synchronize(device: int) -> None:
    """Block until all queued work on the device is done."""
