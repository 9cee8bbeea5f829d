"""Constants computed once: a ``full`` or ``arange`` whose arguments are all constants makes
the same values on every replay, so the buffer the capture made is kept and the call dropped.

GPT's forward builds its position indices (``arange``) and causal mask (``full``) on every
call, and backward seeds ``full((), 1.0)``: on a device each is a kernel launch per replay.
Kept only where nothing can change the buffer afterwards: no step writes its memory (through
``out=``, an in-place op or a view of it), and no tensor the user can reach holds it (not an
output, no writeback target shares it).
"""
from __future__ import annotations

import dataclasses

from .program import Call, Dynamic, Ref, Slot
from .writeback import _written

CONSTANT_OPS = frozenset({"full", "arange"})


def hoist_constants(program, captured):
    """``program`` without the calls of :data:`CONSTANT_OPS` with constant arguments whose
    results are never written nor visible to the user; their slots become external slots
    bound to the buffers the capture made (``captured[slot]``)."""
    steps = program.steps
    root = {}
    for st in steps:
        if type(st) is Call and st.op in ("reshape", "permute", "expand", "slice",
                                          "as_strided") and st.args and type(st.args[0]) is Ref:
            base = st.args[0].slot
            for r in st.results:
                root[r] = root.get(base, base)
    written = set()
    for st in steps:
        if type(st) is Call:
            if st.out is not None:
                written.add(root.get(st.out, st.out))
            elif not st.results:
                written.update(root.get(s, s) for s in _written(st))
    visible = {root.get(s, s) for s in program.outputs}
    visible.update(root.get(s, s) for s, _ in program.writeback)
    drop = set()
    for i, st in enumerate(steps):
        if type(st) is not Call or st.op not in CONSTANT_OPS or st.out is not None or \
                len(st.results) != 1 or not _constant(st.args):
            continue
        s = st.results[0]
        if s in written or s in visible or program.slots[s].kind != "internal":
            continue
        drop.add(i)
    if not drop:
        return program
    slots, constants = list(program.slots), dict(program.constants)
    for i in drop:
        s = steps[i].results[0]
        old = slots[s]
        slots[s] = Slot(s, "external", old.shape, old.dtype, old.device, "constant")
        constants[s] = captured[s]
    return dataclasses.replace(program, steps=[st for i, st in enumerate(steps) if i not in drop],
                               slots=slots, constants=constants, last_use=())


def _constant(args):
    for a in args:
        if type(a) in (Ref, Dynamic):
            return False
        if isinstance(a, (tuple, list, dict)):
            items = a.values() if isinstance(a, dict) else a
            if not _constant(tuple(items)):
                return False
    return True
