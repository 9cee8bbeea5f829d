"""Writebacks without copies: the last elementwise write of a value that a tensor made during
the capture holds (``p.grad``) goes straight into that tensor's buffer.

A captured program ends by copying each such slot's final buffer into the buffer the tensor
still holds (:attr:`Program.writeback`): one copy, one kernel launch on a device, per
gradient and step (84 of a GPT step's launches on ``opencl``). When the slot's last writer is
an elementwise call -- ``clip_grad_norm_``'s in-place ``mul(g, coef, out=g)``, an accumulating
``add`` -- that call can write the tensor's buffer itself through ``out=``, as long as nothing
after it reads the old buffer's memory through another name (a view): the program then
replays with the writer's result in the tensor's buffer and the copy is gone. Values are the
very ops' results, so replay stays bitwise equal to eager.
"""
from __future__ import annotations

import dataclasses

from .program import Call, HostStep, Ref, Slot


def _out_ops():
    from ..plugins.contract import OPS
    return frozenset(n for n, s in OPS.items()
                     if "out" in s.signature.parameters and s.group != "view")


def _views():
    from ..plugins.contract import OPS
    return frozenset(n for n, s in OPS.items() if s.group == "view")


def redirect_writebacks(program, covers=None):
    """``program`` with every writeback whose last writer is an elementwise call turned into
    that call writing the target buffer (a new external slot) through ``out=``; later reads of
    the slot read the target. ``program`` itself is not changed.

    ``covers``: ``{view slot: base slot}`` for a target that is a view of another target's
    buffer covering all of it (``p.grad`` a reshape or transpose of the tensor ``sum`` or
    ``matmul`` made): when the view's writer is redirected, the view's write is the base's
    final value too, so the base's writeback (which would copy the stale, unwritten slot over
    it) is dropped. A base whose view is not redirected keeps its copy, and then the view's
    own copy is dropped (the base's copy fills it)."""
    covers = covers or {}
    if not program.writeback:
        return program
    out_ops, views = _out_ops(), _views()
    steps = list(program.steps)
    root = {}
    for st in steps:
        if type(st) is Call and st.op in views and st.args and type(st.args[0]) is Ref:
            base = st.args[0].slot
            for r in st.results:
                root[r] = root.get(base, base)
    targets = [s for s, _ in program.writeback]
    slots, constants = list(program.slots), dict(program.constants)
    rename, keep = {}, []
    for slot, buf in program.writeback:
        w = _last_writer(steps, slot)
        if (w is None or targets.count(slot) != 1 or program.slots[slot].kind != "internal"
                or not _redirectable(steps, w, slot, root, out_ops,
                                                      program.outputs)):
            keep.append((slot, buf))
            continue
        old = program.slots[slot]
        new = len(slots)
        slots.append(Slot(new, "external", old.shape, old.dtype, old.device, "writeback"))
        constants[new] = buf
        c = steps[w]
        steps[w] = Call(c.op, c.table, c.args, new, (new,))
        for i in range(w + 1, len(steps)):
            steps[i] = _renamed(steps[i], slot, new)
        rename[slot] = new
    dropped = {covers[v] for v in rename if v in covers}
    # a view kept as a copy whose base is copied too: the base's copy already fills it
    bases_copied = {s for s, _ in keep}
    dropped.update(v for v, base in covers.items() if v not in rename and base not in rename
                   and base in bases_copied and root.get(v, v) == base and
                   root.get(base, base) == base)
    if not rename and not dropped:
        return program
    keep = [(s, b) for s, b in keep if s not in dropped]
    outputs = tuple(rename.get(s, s) for s in program.outputs)
    return dataclasses.replace(program, steps=steps, slots=slots, constants=constants,
                               outputs=outputs, writeback=tuple(keep), last_use=())


def _last_writer(steps, slot):
    for i in range(len(steps) - 1, -1, -1):
        st = steps[i]
        if slot in st.results:
            return i
        if type(st) is Call and not st.results and slot in _written(st):
            return None           # written in place by assign/index_put/an optimizer step
    return None


READ_ONLY = {"assign": (1,), "index_put": (1, 2), "sgd_step": (1,), "adam_step": (1,)}
"""Argument positions of in-place ops (they return None) that are only read: the source of
``assign``, the indices and values of ``index_put``, an optimizer step's gradients."""


def _written(call):
    """Slots an in-place call may write (all it reads, but for :data:`READ_ONLY` args)."""
    skip = READ_ONLY.get(call.op, ())
    found = []
    for i, a in enumerate(call.args):
        if i in skip:
            continue
        if type(a) is Ref:
            found.append(a.slot)
        elif isinstance(a, (tuple, list)):
            found.extend(x.slot for x in a if type(x) is Ref)
    return found


def _redirectable(steps, w, slot, root, out_ops, outputs):
    c = steps[w]
    if type(c) is not Call or c.op not in out_ops or c.results != (slot,):
        return False
    if c.out is None and slot in c.reads():
        return False
    mem = root.get(slot, slot)
    if any(s != slot and root.get(s, s) == mem for s in outputs):
        return False
    for st in steps[w + 1:]:
        for s in st.reads():
            if s != slot and root.get(s, s) == mem:
                return False      # a view of the old memory read later would miss the write
        for s in st.results:
            if s != slot and root.get(s, s) == mem:
                return False
    # a view taken of the slot's memory before the write and read after it is covered above;
    # writes through the slot after ``w`` are impossible (``w`` is the last writer)
    return True


def _renamed(step, old, new):
    def ren(a):
        t = type(a)
        if t is Ref:
            return Ref(new) if a.slot == old else a
        if t is tuple or t is list:
            return t(ren(x) for x in a)
        return a
    if old not in step.reads():
        return step
    if type(step) is HostStep:
        return dataclasses.replace(step, args=ren(step.args))
    out = new if step.out == old else step.out
    results = tuple(new if r == old else r for r in step.results)
    return Call(step.op, step.table, ren(step.args), out, results)
