"""The markers that declare contract entries, and the :class:`OpSpec` read from each stub.

A stub's signature *is* the entry: the registry checks a backend's function against it when
the backend loads (:func:`signature_problem`), the cpu fallback reads the argument kinds from
its annotations, and ``help()`` shows it.
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any, Callable, Sequence, Union

import numpy

DTYPES = ("bool", "uint8", "int8", "int16", "int32", "int64",
          "float16", "bfloat16", "float32", "float64", "complex64", "complex128")
"""Dtype names used across the contract (numpy's spelling, plus ``bfloat16``)."""

HOST_STORABLE = ("complex64", "complex128")
"""Dtypes a backend may refuse to store (``supports('empty', dtype)`` False, as opencl does):
tensors of them on its devices are then kept in host memory and computed by the cpu backend
(plugrad.plugins.host_storage), without the backend writing anything."""

Buf = Any
"""The backend's own array type. It exposes ``.shape`` (a tuple of ints), which the frontend
reads only for data-dependent results (``nonzero``), and usually ``.dtype`` (see
:func:`buffer_dtype`)."""
Scalar = Union[bool, int, float]
"""A Python number standing for a value of the other operand's dtype."""
Shape = tuple
"""A tuple of non-negative Python ints."""
Axes = tuple
"""A non-empty tuple of distinct, normalised (non-negative) axes."""
DType = str
"""A dtype *name*: one of :data:`plugrad.plugins.contract.DTYPES`."""
Pair = tuple
"""Two ints, one per spatial axis (height, width)."""
Slice = tuple
"""``(start, stop, step)`` with ``0 <= start <= stop <= size`` and ``step >= 1``."""
HostArray = numpy.ndarray
ContextFactory = Callable[[], Any]
__all__ = ["Buf", "Scalar", "Shape", "Axes", "DType", "Pair", "Slice", "HostArray", "Sequence"]

_KINDS = {"Buf": "buf", "Buf | Scalar": "buf|scalar", "Sequence[Buf]": "bufs",
          "Sequence[Buf | None]": "opt_bufs", "Buf | None": "opt_buf", "HostArray": "host"}
_RETURNS = {"Buf": "buf", "tuple[Buf, Buf]": "bufs", "tuple[Buf, Buf, Buf]": "bufs",
            "None": "none", "HostArray": "host"}


@dataclass(frozen=True)
class OpSpec:
    """One entry of the contract, read from its stub.

    Attributes:
        name: the attribute name a backend object exposes.
        tier: ``runtime``, ``primitive``, ``kernel`` or ``capability``.
        group: family for documentation and reports (``unary``, ``binary``, ``reduce``, ...).
        args: kind of each positional argument, used by the cpu fallback to move data:
            ``buf`` a buffer; ``buf|scalar``; ``bufs`` a sequence of buffers; ``opt_bufs``
            buffers or None; ``opt_buf`` a buffer or None; ``host`` a numpy array; anything
            else (the parameter's name) is passed unchanged.
        returns: ``buf``, ``bufs`` (tuple of buffers), ``none``, ``host`` or ``value``.
        doc: the stub's docstring.
        signature: the stub's ``inspect.Signature`` (what the registry checks at load).
        result: the result's dtype when it is fixed (``"bool"`` for comparisons), else None.
        stub: the documented stub function itself.
        host_fallback: a kernel a backend lacking it runs on the cpu backend (with copies,
            like a missing primitive) instead of having the frontend compose it -- for
            kernels with no composition from primitives (the linear-algebra factorizations).
    """
    name: str
    tier: str
    group: str
    args: tuple
    returns: str
    doc: str
    signature: inspect.Signature
    result: str | None
    stub: Callable
    host_fallback: bool = False


DECLARED: list = []
"""Every :class:`OpSpec`, in declaration order (the contract modules' import order)."""


def buffer_dtype(buf):
    """The dtype name a buffer's ``.dtype`` attribute states (numpy, CuPy, pyopencl, torch and
    JAX arrays all have one: ``float32``, ``torch.float32``), else None. Read without touching
    the device, by the debug checks and by the derived ``neg``/``sign``/``pad``."""
    name = str(getattr(buf, "dtype", "")).rsplit(".", 1)[-1]
    return name if name in DTYPES else None


def _declare(fn, tier, group, result=None, host_fallback=False):
    sig = inspect.signature(fn)
    args = tuple(_KINDS.get(p.annotation, p.name) for p in sig.parameters.values()
                 if p.default is inspect.Parameter.empty)
    returns = _RETURNS.get(sig.return_annotation, "value")
    DECLARED.append(OpSpec(fn.__name__, tier, group, args, returns,
                           inspect.cleandoc(fn.__doc__ or ""), sig, result, fn, host_fallback))
    return fn


def runtime(fn):
    """Mark a required runtime function: a backend lacking it is rejected when it loads."""
    return _declare(fn, "runtime", "runtime")


def primitive(group, *, result=None):
    """Mark an expected primitive: a backend lacking it runs it on the cpu backend."""
    return lambda fn: _declare(fn, "primitive", group, result)


def kernel(group, *, result=None, host_fallback=False):
    """Mark an optional kernel: composed from primitives when a backend lacks it, or, with
    ``host_fallback``, run on the cpu backend with copies in and out."""
    return lambda fn: _declare(fn, "kernel", group, result, host_fallback)


def capability(fn):
    """Mark an optional capability method: the frontend asks for it, never requires it."""
    return _declare(fn, "capability", "capability")


def signature_problem(spec: OpSpec, fn) -> str | None:
    """Why ``fn`` cannot be called as the contract calls ``spec`` (None when it can).

    The frontend calls every entry with its positional parameters positionally, ``out``
    (where the stub has it) by keyword, and binds ``device`` by keyword once per table;
    ``fn`` must accept exactly that. Callables without an
    introspectable signature (C functions) are trusted.
    """
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return None
    params = list(sig.parameters.values())
    if any(p.kind is p.VAR_POSITIONAL for p in params):
        positional_ok = True
    else:
        positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY,
                                                      p.POSITIONAL_OR_KEYWORD)]
        required = [p for p in positional if p.default is p.empty]
        positional_ok = len(required) <= len(spec.args) <= len(positional)
    wanted = f"{spec.name}{spec.signature}"
    if not positional_ok:
        return (f"{spec.name}{sig} does not take the contract's {len(spec.args)} positional "
                f"argument(s): {wanted}")
    for name, param in spec.signature.parameters.items():
        # keywords: out=, and device=, which the dispatch table binds by name
        if param.default is param.empty and (name != "device" or spec.tier != "runtime"):
            continue
        accepts = any(p.kind is p.VAR_KEYWORD for p in params) or any(
            p.name == name and p.kind is not p.POSITIONAL_ONLY for p in params)
        if not accepts:
            return f"{spec.name}{sig} does not accept the keyword '{name}=': {wanted}"
    return None


def capability_of(impl, name: str, capabilities: dict, attributes: dict):
    """The backend's capability ``name``: its method, attribute value, or the default.

    Only declared names are asked for, so every capability the frontend uses is written
    down (and checked) in ``contract/capabilities.py``.
    """
    if name in attributes:
        return getattr(impl, name, attributes[name])
    if name not in capabilities:
        raise KeyError(f"{name!r} is not a capability of plugrad.plugins.contract "
                       f"(declared: {', '.join(sorted({**capabilities, **attributes}))})")
    return getattr(impl, name, None)


def signature_problems(impl, specs) -> list:
    """One line per entry of ``specs`` (OpSpecs) that ``impl`` defines with a signature the
    contract cannot call; entries ``impl`` lacks are not this function's business."""
    problems = []
    for spec in specs:
        fn = getattr(impl, spec.name, None)
        if fn is None or not callable(fn):
            continue
        problem = signature_problem(spec, fn)
        if problem is not None:
            problems.append(problem)
    return problems
