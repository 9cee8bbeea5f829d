"""Host storage: tensors of a dtype their backend refuses to store live in host memory.

A backend may refuse a dtype of :data:`~plugrad.plugins.contract.HOST_STORABLE` (complex64 and
complex128: opencl has no complex arithmetic) by answering False from ``supports('empty',
dtype)``. Tensors of that dtype on its devices still work: their buffer is a
:class:`HostBuffer` holding a cpu-backend array, and the dispatch table routes every call that
touches one -- or asks for such a dtype (``cast``, ``empty``, ``from_host`` ...) -- to the cpu
backend, per call, with the one-time :class:`~plugrad.plugins.dispatch.FallbackWarning`
(``PLUGRAD_STRICT_BACKEND=1``: an error). The tensor's device stays the backend's, so device
checks, ``x.device`` and ``.to()`` behave as they do for any other dtype, and a backend gets
this without writing anything. Results of a routed call are HostBuffers when their dtype is
refused or when they are views of a HostBuffer (``z.real`` shares ``z``'s memory); other
results are copied back to the device (``z.abs()`` is an ordinary device tensor).

Only backends refusing such a dtype pay for the check (a few type tests per call); the cpu
backend and complete backends keep their plain tables.
"""
from __future__ import annotations

import numbers

from .contract import HOST_STORABLE, OPS, capability


class HostBuffer:
    """A cpu-backend array standing in for a buffer of a dtype the device backend refuses.

    ``shape`` and ``dtype`` mirror the array's (the frontend reads them as it reads any
    buffer's); ``__array_interface__`` gives ``Tensor.data_ptr()`` its host address; ``data``
    is the memory it views.
    """
    __slots__ = ("array",)

    def __init__(self, array):
        self.array = array

    @property
    def shape(self):
        return self.array.shape

    @property
    def dtype(self):
        return self.array.dtype

    @property
    def __array_interface__(self):
        return self.array.__array_interface__

    @property
    def data(self):
        """The memory it views: the root array (as a CLArray's ``data`` is its cl.Buffer),
        what a compiled program's planner keys aliasing on."""
        root = self.array
        while isinstance(getattr(root, "base", None), type(root)):
            root = root.base
        return root

    def __repr__(self):
        return f"HostBuffer({self.array!r})"


def refused_dtypes(impl) -> frozenset:
    """The dtypes of HOST_STORABLE that ``impl`` cannot store (its ``supports('empty', d)``
    is False); empty for a backend without ``supports``."""
    check = capability(impl, "supports")
    if check is None:
        return frozenset()
    return frozenset(d for d in HOST_STORABLE if not check("empty", d))


# results that share memory with their first argument: they stay in host memory when it is
ALIASING = frozenset(n for n, s in OPS.items() if s.group == "view") | {
    "view_as_real", "view_as_complex"}
# kernels every call of which involves a complex buffer: routed even where the backend lacks
# them (else the frontend would find no view_as_real on a device holding complex tensors)
COMPLEX_ONLY = frozenset(n for n, s in OPS.items() if s.group == "complex")


def host_mover(impl, index, cpu_table, refused):
    """(to_cpu, back) for the cpu fallback of a backend refusing ``refused``: ``to_cpu(kind,
    value)`` gives the cpu backend's argument, ``back(value, keep)`` the device's result (a
    HostBuffer when its dtype is refused or ``keep`` is True)."""
    from .dispatch import BUFFER_KINDS

    def to_cpu(kind, value):
        if type(value) is HostBuffer:
            return value.array
        if value is None or isinstance(value, numbers.Number):
            return value
        if kind in ("bufs", "opt_bufs"):
            return [to_cpu("opt_buf", v) for v in value]
        if kind not in BUFFER_KINDS:
            return value
        return cpu_table.from_host(impl.to_host(value))

    def back(value, keep=False):
        if keep or (refused and value.dtype.name in refused):
            return HostBuffer(value)
        return impl.from_host(cpu_table.to_host(value), index)

    return to_cpu, back


def reason_finder(op, refused):
    """A function ``(args, kwargs) -> the refused dtype that sends this call of ``op`` to the
    cpu backend, or None`` (a native call). It looks only at the argument positions that can
    carry one: buffers, buffer lists, ``dtype`` and host arrays (``from_host``), and ``out=``."""
    checks = tuple((i, k) for i, k in enumerate(OPS[op].args)
                   if k in ("buf", "buf|scalar", "opt_buf", "bufs", "opt_bufs", "dtype", "host"))

    def reason(args, kwargs):
        n = len(args)
        for i, kind in checks:
            if i >= n:
                break
            value = args[i]
            if type(value) is HostBuffer:
                return value.dtype.name
            if kind == "dtype":
                if value in refused:
                    return value
            elif kind == "host":
                if value.dtype.name in refused:
                    return value.dtype.name
            elif value is not None and kind in ("bufs", "opt_bufs"):
                for v in value:
                    if type(v) is HostBuffer:
                        return v.dtype.name
        if kwargs:
            out = kwargs.get("out")
            if type(out) is HostBuffer:
                return out.dtype.name
        return None

    return reason


def routed(op, native, fallback, refused):
    """``native`` for calls on device buffers, ``fallback`` for calls involving a refused
    dtype (see :func:`reason_finder`). Ops whose only such arguments are buffers in the first
    two places and maybe a ``dtype`` (most of the contract, ``cast`` included) get a check of
    those alone: about 0.2 us a call."""
    kinds = OPS[op].args
    single = ("buf", "buf|scalar", "opt_buf")
    bufs = [i for i, k in enumerate(kinds) if k in single]
    dtype_at = [i for i, k in enumerate(kinds) if k == "dtype"]
    others = [k for k in kinds if k in ("bufs", "opt_bufs", "host")]
    HB = HostBuffer
    if not others and bufs and bufs == list(range(len(bufs))) and len(bufs) <= 2 \
            and len(dtype_at) <= 1:
        two = len(bufs) == 2
        at = dtype_at[0] if dtype_at else None

        def call(*args, **kwargs):
            if type(args[0]) is HB:
                return fallback(*args, refused_dtype=args[0].dtype.name, **kwargs)
            if two and type(args[1]) is HB:
                return fallback(*args, refused_dtype=args[1].dtype.name, **kwargs)
            if at is not None and args[at] in refused:
                return fallback(*args, refused_dtype=args[at], **kwargs)
            if kwargs and type(kwargs.get("out")) is HB:
                return fallback(*args, refused_dtype=kwargs["out"].dtype.name, **kwargs)
            return native(*args, **kwargs)
    else:
        reason_of = reason_finder(op, refused)

        def call(*args, **kwargs):
            reason = reason_of(args, kwargs)
            if reason is None:
                return native(*args, **kwargs)
            return fallback(*args, refused_dtype=reason, **kwargs)

    call.__name__ = call.__qualname__ = f"host_routed_{op}"
    call.__wrapped__ = native
    return call
