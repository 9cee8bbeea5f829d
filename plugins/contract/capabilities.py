"""Tier 4 of the contract: optional capabilities a backend may declare.

Nothing here is required and nothing falls back: the frontend asks for a capability only
through :func:`plugrad.plugins.contract.capability`, which knows each name declared here and
its default (None for a method, the stated default for an attribute), and the registry
checks a backend's methods against these signatures when it loads, like every other entry.

Attributes (plain class or instance attributes of the backend object):

``checks_indices: bool = False``
    Deferred index checks, like CUDA's device-side asserts. Index buffers come straight from
    users, and checking them on the host costs a device-to-host read per call, so a device
    backend may check them in its kernels instead. Declaring it promises, for every op of
    :data:`plugrad.plugins.contract.INDEX_OPS`:

    * memory safety: an index or target outside its axis (``i < 0`` or ``i >= size``; the
      frontend has already wrapped the negative indices torch allows) never makes the kernel
      read or write outside its buffers. A read through it yields 0 (``index`` returns 0
      there; ``cross_entropy`` reads the picked logit as 0, so that row's loss is its lse,
      and ``cross_entropy_backward`` leaves out the one-hot term); a write through it
      (``index_put``, both modes) is skipped; everything else the call does is done as
      usual. A target equal to ``ignore_index`` is never out of range.
    * a per-device error flag: such a call sets the flag of its device, on the device,
      without waiting for the host -- one flag per device and calling thread, so that the
      error is raised in the thread whose op caused it (the opencl backend does this; it
      also reports an integer ``floordiv``/``remainder`` by a zero tensor divisor through a
      second flag, raised as RuntimeError('ZeroDivisionError ...'), where torch's cpu raises).
    * raising at the next explicit host synchronization: ``to_host`` (which ``.item()``,
      ``.cpu()``, ``.numpy()`` and printing go through) and ``synchronize`` of that device
      raise RuntimeError naming the device and saying that an index was out of bounds in an
      earlier op (torch's "device-side assert triggered"), and reset the flag, so the
      program may go on; ``to_host`` then returns no data. Reading the flag costs at most
      one small read per check, and only when an op of INDEX_OPS ran on that device since
      the last check (a host dirty bit), so steady state adds nothing to other ops.

    The frontend then skips its own bounds checks on that backend's devices; without the
    capability, or where a kernel plugin overrides one of INDEX_OPS, it keeps checking every
    index on the host before the call, raising torch's IndexError/RuntimeError at once.

``mutable_buffers: bool = True``
    False declares arrays that cannot be written in place or viewed (JAX-like): the backend
    implements every op as a pure function. ``out=`` is never passed to it, ``assign`` is
    neither called nor required, ``index_put`` returns the updated copy instead of writing
    ``x``, views may be copies, and the in-place kernels (``sgd_step``, ``adam_step``,
    ``mt19937_generate``) are not used. The registry then puts
    :class:`plugrad.plugins.writeback.WriteBack` between the frontend and the backend: the
    frontend's buffers are mutable handles, every write becomes a pure call plus a rebinding,
    and a write through a view is scattered into its base by replaying the view ops
    (``tests/plugins/test_immutable_backend.py``).
"""
from __future__ import annotations

from typing import Any

from ._spec import Buf, ContextFactory, DType, capability

ATTRIBUTES = {"checks_indices": False, "mutable_buffers": True}
"""Attribute capabilities and their defaults (documented in this module's docstring)."""


# --------------------------------------------------------------------------- dtypes

@capability
def supports(op: str, dtype: DType) -> bool:
    """Whether ``op`` runs for dtype ``dtype`` here (float64 on a device without fp64,
    bfloat16 on numpy). The frontend consults it before dtypes numpy lacks, the conformance
    kit reports such cells as missing, tests and benchmarks skip them; an op called anyway
    raises a RuntimeError naming the dtype -- except for a dtype of ``HOST_STORABLE``
    (complex) refused by ``supports('empty', dtype)``: tensors of it are then kept in host
    memory and computed by the cpu backend (plugrad.plugins.host_storage). Absent: every
    (op, dtype) is supported."""


# -------------------------------------------------------------------------- devices

@capability
def device_guard(index: int) -> ContextFactory:
    """A factory of context managers making device ``index`` current; the dispatch table
    of that device runs every call inside one (multi-device runtimes such as CUDA)."""


@capability
def transfer_to(x: Buf, index: int) -> Buf:
    """A copy of ``x`` on this backend's device ``index``, directly (a peer copy). Absent:
    copies between devices of the backend go through the host."""


# ------------------------------------------------ memory statistics (plugrad.cuda)

@capability
def memory_allocated(index: int) -> int:
    """Bytes currently held by live buffers on device ``index``."""


@capability
def max_memory_allocated(index: int) -> int:
    """The peak of :func:`memory_allocated` since the last reset."""


@capability
def memory_reserved(index: int) -> int:
    """Bytes the backend's allocator holds on device ``index`` (live plus cached)."""


@capability
def reset_peak_memory_stats(index: int) -> None:
    """Start a new peak for :func:`max_memory_allocated`."""


@capability
def empty_cache() -> None:
    """Give cached, unused device memory back to the driver."""


@capability
def mem_get_info(index: int) -> tuple:
    """``(free, total)`` bytes of device ``index``, as the driver reports them."""


# ------------------------------------------- compiled programs (plugrad.compile)

@capability
def optimize_program(program: Any) -> Any:
    """A faster equivalent of ``program``, a captured step (``plugrad.compile``): the same
    calls' results from fewer or cheaper ones. Typically the backend hands the program to
    :func:`plugrad.plugins.fusion.fuse` with a factory turning each fused elementwise chain
    (:class:`plugrad.plugins.fusion.Chain`) into one generated kernel, and returns what it
    gives back; it may also rewrite calls itself, as long as every buffer the program's
    later calls, outputs or users read holds the value the unoptimized program gives it
    (bitwise where the backend evaluates the same operations in the same order, within a
    few ulps otherwise). The conformance kit replays both programs and compares.

    Called once per compiled program, never per replay; it must not mutate ``program``.
    Absent: the program is replayed as captured, call by call (capture and replay need
    nothing from a backend)."""
