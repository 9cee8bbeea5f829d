"""The backend contract: every entry a backend may implement, as documented, typed stubs.

``help(plugrad.plugins.contract)`` lists every entry with its signature. The stubs live in
one module per tier, in the order a backend author needs them:

* :mod:`.runtime` -- required. A backend missing one is rejected when its device is first
  used, with a PluginError naming the missing functions, the plugin and its distribution.
* :mod:`.primitives` -- expected. A missing one runs on the ``cpu`` backend with copies in
  and out and a one-time warning (``PLUGRAD_STRICT_BACKEND=1`` makes that an error).
* :mod:`.kernels` -- optional, fused. The frontend uses one when present and composes the
  same result from primitives otherwise, silently.
* :mod:`.capabilities` -- optional features the frontend asks for (dtype support, device
  guards, peer copies, deferred index checks, memory statistics, immutable buffers).

"Kernel" is used in two senses only, and each name below says which: a *contract kernel* is
an entry of :mod:`.kernels` (the optional fused tier: ``KERNELS``, ``@kernel``, the
conformance kit's ``kernel_cases``); a *device kernel* is compiled device code (OpenCL C,
CUDA C: a backend's ``templates.py``, CuPy's ``KernelCache``). A plugin that supplies an
implementation of one contract entry for an existing backend -- primitive or kernel -- is a
kernel plugin (``plugrad_kernels``, ``KernelSpec``), torch's sense of "a kernel registered
for an op". Backend code is named after the contract group it implements (``nn.py``,
``optim.py``, ``linalg.py``, ...), never "kernels".

Each stub's signature is the contract: when a backend loads, the registry checks every
function it defines against its stub (:func:`signature_problem`) and rejects it with a
PluginError naming each mismatch -- a primitive without ``out=`` is caught there, not at the
first call. The registry, the cpu fallback (argument kinds), the debug checks
(:mod:`plugrad.plugins.checks`, result dtypes), the conformance kit and ``python -m plugrad
info`` all read :data:`OPS`, which is built from the stubs.

Conventions every entry follows (the frontend has validated arguments before calling):

* ``Buf`` is the backend's own array type; it must expose ``.shape`` (a tuple). ``DType`` is
  a dtype *name*, one of :data:`DTYPES`. Shapes and axes are tuples of non-negative ints.
* Backends never see autograd, Tensors or devices other than their own integer index.
* dtypes: every op is called only with the dtypes its doc allows (float ops get float
  dtypes; integer division by zero is unspecified, the frontend raises as torch does). A
  backend that cannot do some (op, dtype) says so with the ``supports`` capability.
* random numbers: torch's CPU stream everywhere. Without the optional ``mt19937_generate``
  kernel a random op draws on the host (a torch-identical MT19937) and arrives through
  ``from_host``; with it the generator's state moves to the device once and the same
  numbers are generated there.
* synchronization: ops may be asynchronous (queued on a stream), but ``to_host`` returns
  only once the buffer's data is final, and ``synchronize(device)`` blocks until everything
  queued on the device is done (benchmarks time up to it).
* fallback: a missing primitive runs on the cpu backend with ``to_host``/``from_host``
  copies and ``assign`` to write in-place results back, and is counted in
  ``plugrad.plugins.fallback_report()``.

DLPack is optional and outside the contract: a buffer with ``__dlpack__`` and
``__dlpack_device__`` lets tensors on the device export without a copy
(``torch.from_dlpack(t)``, ``numpy.from_dlpack(t)``); without them (opencl's buffers), export
raises BufferError naming the device, and users copy with ``.cpu()`` first. The conformance
kit does not check it.

Versioning: :data:`API_VERSION` names these signatures and semantics. A backend declares
the version it implements; a different one is rejected with a message saying which side to
upgrade. Adding an optional kernel or capability does not change it; changing a signature
or the meaning of an op does.
"""
from __future__ import annotations

# imported in tier order: the order of OPS (and of help()) is the order of declaration
from . import runtime as _runtime  # noqa: I001
from . import primitives as _primitives
from . import kernels as _kernels
from . import capabilities as _capabilities
from ._spec import DECLARED as _DECLARED
from .derived import DERIVED as _DERIVED
from ._spec import DTYPES, HOST_STORABLE, OpSpec, buffer_dtype, signature_problem
from ._spec import capability_of as _capability_of
from ._spec import signature_problems as _signature_problems

API_VERSION = 1
"""Version of this contract. A backend declares the version it was written against in
``BackendSpec.api_version``; the registry rejects any other value with a clear error.
Adding optional kernels does not bump it; changing a signature or semantics does."""


OPS: dict = {s.name: s for s in _DECLARED if s.tier != "capability"}
"""Every runtime function, primitive and kernel by name (:class:`OpSpec`, built from the
stubs)."""
CAPABILITIES: dict = {s.name: s for s in _DECLARED if s.tier == "capability"}
"""The optional capability methods by name (:mod:`.capabilities`)."""
ATTRIBUTES: dict = dict(_capabilities.ATTRIBUTES)
"""The optional capability attributes and their defaults."""
DERIVABLE = tuple(_DERIVED)
"""Primitives a backend may leave out without a fallback: the registry composes them exactly
from the backend's other ops (:mod:`.derived`)."""
for _name, (_needs, _make) in _DERIVED.items():
    OPS[_name].stub.__doc__ += (f"\n\n    Optional: when absent, composed exactly from "
                                f"{', '.join(_needs)} (see ``contract.derived``).")
RUNTIME = tuple(n for n, s in OPS.items() if s.tier == "runtime")
PRIMITIVES = tuple(n for n, s in OPS.items() if s.tier == "primitive")
KERNELS = tuple(n for n, s in OPS.items() if s.tier == "kernel")
INDEX_OPS = ("index", "index_put", "cross_entropy", "cross_entropy_backward")
"""The ops that take caller-given indices or class targets: the ones a backend declaring
``checks_indices`` guards on the device (see :mod:`.capabilities`)."""


def capability(impl, name: str):
    """The backend object's capability ``name`` (a method, or an attribute's value), else
    its default; raises KeyError for a name the contract does not declare."""
    return _capability_of(impl, name, CAPABILITIES, ATTRIBUTES)


def signature_problems(impl) -> list:
    """One line per contract entry (op or capability method) that ``impl`` defines with a
    signature the frontend cannot call; empty when every one fits its stub."""
    return _signature_problems(impl, [*OPS.values(), *CAPABILITIES.values()])


_STUBS = {s.name: s.stub for s in _DECLARED}
globals().update(_STUBS)        # contract.add etc.: the stubs, for help() and IDEs
__all__ = ["API_VERSION", "DTYPES", "HOST_STORABLE", "buffer_dtype", "OPS", "CAPABILITIES", "ATTRIBUTES", "DERIVABLE",
           "RUNTIME",
           "PRIMITIVES", "KERNELS", "INDEX_OPS", "OpSpec", "capability", "signature_problem",
           "signature_problems", *_STUBS]
del _runtime, _primitives, _kernels, _name, _needs, _make
