"""Temporary elision: ``a*b + c`` writes the sum into ``a*b``'s buffer, as numpy does.

A large elementwise result that nobody else can see -- no Python name, no view, no autograd
history, no storage shared with numpy -- is reused as the output of the next elementwise op
instead of allocating (and page-faulting) a fresh buffer. This is what lets large chains run at
numpy's own speed. Only numpy-buffer backends (``host_memory``) take part: for them a buffer's
reference count tells whether a view of it exists. Whether a tensor is a temporary is read from
reference counts, so the expected counts are measured once on this interpreter (``_calibrate``)
rather than assumed; if the measurement is ambiguous, elision stays off.
"""
from __future__ import annotations

import sys

from .._tensor import Tensor

MIN_ELEMENTS = 1 << 15      # below ~128 KB a fresh buffer is cheap (numpy uses 256 KB)
# the size from which operands are considered: MIN_ELEMENTS, or 0 while calibrating (its probe
# operands are tiny)
min_elements = MIN_ELEMENTS

reused = 0                  # how many buffers were reused (tests and curiosity read it)
_limits = None              # (tensor refcount, buffer refcount) of a temporary, or False
_probe = None               # a list while calibrating: samples of (tensor refs, buffer refs)


def reusable(ta, tb, shape, dtype):
    """An operand's buffer to write ``ta op tb``'s result into, if one is an invisible
    temporary of at least ``min_elements`` numbers on a host-memory device; else None.

    Only the operator entry points (``a + b``: ``add(..., _elide=True)``) ask, and only for a
    host-memory device and operands of at least ``min_elements``: ``_graph.arithmetic`` tests
    that before calling (small ops are the common case, and a call costs ~40 ns of them).
    """
    buf = scratch(ta, shape, dtype)
    return buf if buf is not None else scratch(tb, shape, dtype)


def scratch(t, shape, dtype):
    """``t``'s buffer when ``t`` is an invisible temporary of this shape and dtype, else None.

    Reached only from the arithmetic operators (``Tensor.__add__`` -> ``add(..., _elide=True)``
    -> ``_graph.arithmetic`` -> ``reusable`` -> here), the one call path the counts were
    measured on; they must match exactly (a named tensor has one more reference, its name).
    """
    if t is None or not t._device.host_memory:
        return None
    data = t._data
    if data.size < min_elements:
        return None
    if (type(t) is not Tensor or t._shape != shape or t._dtype is not dtype
            or t._requires_grad or t._grad_fn is not None or t._base is not None
            or t._vc is not None):
        return None
    refs = (sys.getrefcount(t), sys.getrefcount(data))
    if _probe is not None:
        _probe.append((id(t), refs))
        return None
    limits = _limits if _limits is not None else _calibrate()
    if not limits or refs != limits:
        return None
    flags = data.flags
    if not (flags.writeable and flags.c_contiguous and flags.owndata):
        return None
    global reused
    reused += 1
    return data


def _calibrate():
    """Measure the reference counts ``scratch`` sees for a temporary and for a named tensor."""
    global _limits, _probe, min_elements
    from .creation import ones
    a, b = ones(4), ones(4)
    _probe = samples = []
    min_elements = 0
    try:
        (a + b) + b                # the inner result is a temporary when the outer + runs
        temporary = next(r for i, r in samples if i not in (id(a), id(b)))
        named = a + b
        samples.clear()
        named + b
        named_refs = next(r for i, r in samples if i == id(named))
    except Exception:
        _limits = False
        return False
    finally:
        _probe = None
        min_elements = MIN_ELEMENTS
    _limits = temporary if (temporary[0] < named_refs[0]
                            and temporary[1] <= named_refs[1]) else False
    return _limits
