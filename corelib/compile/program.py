"""The captured program: what ``plugrad.compile`` records and replays, and what a backend's
fusion hook receives.

A capture runs the user's function once with every device's dispatch table swapped for a
recording view (:mod:`plugrad.compile.capture`). Each backend call becomes a :class:`Call`:
the contract op's name, its positional arguments with every buffer replaced by a
:class:`Ref` to a *slot*, the slot given as ``out=`` (if any) and the slots receiving its
result(s). Work that must run as Python on replay (drawing random numbers from a generator,
checking indices) becomes a :class:`HostStep`. A slot is one buffer's place in the
environment ``env`` (a list indexed by slot number) that replay fills:

* ``input`` slots are bound per call from the tensors passed in (``Slot.source`` says where);
* ``external`` slots hold buffers that existed before the capture and outlive it (parameters,
  optimizer state, tensors the function closes over): ``Program.constants[slot]``;
* ``internal`` slots are produced by a step of the program.

Replay (:func:`run`) executes ``steps`` in order over ``env``: each call gets its buffers from
the slots its arguments name and stores its result(s) in its result slots. A call that wrote
through ``out=`` at capture writes through the same slot on replay, so in-place updates of
parameters and optimizer state land in the very buffers the tensors hold. Afterwards every
``writeback`` pair ``(slot, buf)`` copies the slot's final buffer into ``buf``, a buffer that
a tensor created during the capture still holds (``p.grad`` made by ``backward()``), so that
tensor sees the new values without Python running. ``outputs`` are the slots returned.

Nothing here knows about autograd or Tensors: a program is backend calls only, which is why
any backend gets capture and replay without writing anything. A backend that wants to do
better (fuse elementwise chains, plan buffers) may replace :func:`run` for a program whose
calls all run on it (see ``notes/compile-ir.md`` and the backend guide).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable


class Ref:
    """An argument that is the buffer in slot ``slot`` (immutable, hashable)."""
    __slots__ = ("slot",)

    def __init__(self, slot: int):
        self.slot = slot

    def __repr__(self):
        return f"%{self.slot}"

    def __eq__(self, other):
        return type(other) is Ref and other.slot == self.slot

    def __hash__(self):
        return hash(("Ref", self.slot))


class Dynamic:
    """A constant argument recomputed on every replay by ``fn()`` (a learning rate read from
    ``param_groups``, an optimizer's step count); ``value`` is what it was at capture."""
    __slots__ = ("fn", "value")

    def __init__(self, fn: Callable[[], Any], value: Any):
        self.fn, self.value = fn, value

    def __repr__(self):
        return f"Dynamic({self.value!r})"


@dataclass
class Call:
    """One backend call: ``table.<op>(*args, out=env[out])`` stored into ``results``.

    Attributes:
        op: the contract op name (:data:`plugrad.plugins.contract.OPS`).
        table: the device's :class:`~plugrad.plugins.dispatch.DispatchTable` (refilled in
            place when plugins change, so holding it stays valid).
        args: positional arguments: a :class:`Ref`, a :class:`Dynamic`, a constant (shape,
            axes, Python scalar, dtype name, hyperparameter dict), or a tuple/list of those
            for the contract's ``Sequence[Buf]`` arguments.
        out: the slot passed as ``out=``, or None.
        results: slots receiving the result: one for ops returning a buffer (the ``out``
            slot again when ``out`` was given), one per buffer for ``tuple[Buf, ...]``,
            none for ops returning None (``assign``, ``index_put``, optimizer steps).
    """
    op: str
    table: Any
    args: tuple
    out: int | None
    results: tuple

    @property
    def device(self) -> tuple:
        """(backend name, device index) the call runs on."""
        return (self.table.backend_name, self.table.device_index)

    def reads(self) -> list:
        """The slots this call reads (``out`` included: a write through ``out=`` may be
        partial, a strided view of a larger buffer)."""
        found = []
        for a in self.args:
            if type(a) is Ref:
                found.append(a.slot)
            elif isinstance(a, (tuple, list)):
                found.extend(x.slot for x in a if type(x) is Ref)
        if self.out is not None:
            found.append(self.out)
        return found


@dataclass
class HostStep:
    """Python run at this point of every replay: ``env[results...] = fn(*args)``.

    ``kind`` says why: ``"random"`` (draws the next numbers from a generator, so compiled
    code consumes the stream exactly as eager code does), ``"check"`` (validates indices
    and raises as eager would; returns None). ``args`` use :class:`Ref` like a call's.
    A fusion pass must keep host steps in place and materialise the slots they read.
    """
    kind: str
    fn: Callable[..., Any]
    args: tuple
    results: tuple
    label: str = ""

    def reads(self) -> list:
        return [a.slot for a in self.args if type(a) is Ref]


@dataclass
class Slot:
    """One buffer's place in the environment.

    Attributes:
        index: position in ``env``.
        kind: ``"input"``, ``"external"`` or ``"internal"`` (see the module docstring).
        shape: the buffer's shape (a tuple of ints) as captured.
        dtype: the contract dtype name (``"float32"``).
        device: the :class:`plugrad.device` it lives on.
        source: for an input, where it comes from (``"args[0]"``, ``"kwargs['x']"``);
            for an external, a description (``"parameter"``, ``"closure"``); else "".
    """
    index: int
    kind: str
    shape: tuple
    dtype: str
    device: Any
    source: str = ""


@dataclass
class Program:
    """A captured function: ordered steps over slots, with buffer lifetimes.

    Attributes:
        steps: :class:`Call` and :class:`HostStep` in execution order.
        slots: one :class:`Slot` per buffer, ``slots[i].index == i``.
        inputs: slots bound from the call's tensors on replay, in ``Slot.source`` order.
        constants: ``{slot: buffer}`` for external slots (bound by identity: a parameter's
            buffer is the same object for its whole life, in-place updates included).
        outputs: slots whose buffers the compiled function returns (flattened).
        writeback: ``(slot, buffer)`` pairs: after the steps, copy ``env[slot]`` into
            ``buffer`` (a tensor made during the capture still holds it).
        last_use: per slot, the index of the last step reading it (-1: read by no step);
            outputs and writeback slots live to the end regardless.
    """
    steps: list
    slots: list
    inputs: tuple
    constants: dict
    outputs: tuple
    writeback: tuple
    last_use: tuple = field(default=())

    def __post_init__(self):
        if not self.last_use:
            self.last_use = lifetimes(self.steps, len(self.slots))

    def live_out(self) -> frozenset:
        """Slots whose final buffers must exist after the steps (outputs, writeback
        sources, and external slots written through ``out=``): a fusion pass may drop
        any other internal slot it computes in registers."""
        keep = set(self.outputs)
        keep.update(s for s, _ in self.writeback)
        keep.update(c.out for c in self.steps
                    if type(c) is Call and c.out is not None and self.slots[c.out].kind != "internal")
        return frozenset(keep)

    def calls(self) -> list:
        """The backend calls only (no host steps)."""
        return [s for s in self.steps if type(s) is Call]

    def __repr__(self):
        lines = [f"Program({len(self.steps)} steps, {len(self.slots)} slots, "
                 f"inputs={list(self.inputs)}, outputs={list(self.outputs)})"]
        for i, s in enumerate(self.steps):
            if type(s) is Call:
                out = f", out=%{s.out}" if s.out is not None else ""
                res = ", ".join(f"%{r}" for r in s.results) or "_"
                lines.append(f"  {i:4d} {res} = {s.op}({', '.join(map(_show, s.args))}{out})")
            else:
                res = ", ".join(f"%{r}" for r in s.results) or "_"
                lines.append(f"  {i:4d} {res} = host[{s.kind}] {s.label}"
                             f"({', '.join(map(_show, s.args))})")
        return "\n".join(lines)


def _show(a) -> str:
    if isinstance(a, (tuple, list)) and any(type(x) is Ref for x in a):
        return "[" + ", ".join(map(_show, a)) + "]"
    if isinstance(a, dict):
        return "{" + ", ".join(f"{k}={_show(v)}" for k, v in a.items()) + "}"
    text = repr(a)
    return text if len(text) < 40 else text[:37] + "..."


def lifetimes(steps, n_slots) -> tuple:
    """Per slot, the index of the last step that reads it (-1 if none)."""
    last = [-1] * n_slots
    for i, s in enumerate(steps):
        for slot in s.reads():
            last[slot] = i
    return tuple(last)


def resolve(a, env):
    """The value an argument stands for in ``env``."""
    t = type(a)
    if t is Ref:
        return env[a.slot]
    if t is Dynamic:
        return a.fn()
    if t is tuple or t is list:
        return t(resolve(x, env) for x in a)
    if t is dict:
        return {k: resolve(v, env) for k, v in a.items()}
    return a


def _plan(args) -> tuple:
    """(template, [(position, slot)], [(position, argument to resolve)]) for a step's args:
    constants stay in the template, so a replay fills in only what changes."""
    template, refs, rest = list(args), [], []
    for i, a in enumerate(args):
        t = type(a)
        if t is Ref:
            refs.append((i, a.slot))
        elif t is Dynamic or (t in (tuple, list, dict) and _varies(a)):
            rest.append((i, a))
    return template, tuple(refs), tuple(rest)


def _varies(a) -> bool:
    items = a.values() if type(a) is dict else a
    return any(type(x) in (Ref, Dynamic) or (type(x) in (tuple, list, dict) and _varies(x))
               for x in items)


def run(program: Program, env: list) -> None:
    """Execute ``program``'s steps over ``env`` (inputs and constants already bound), then
    its writebacks. The reference interpreter every backend gets."""
    plans = program.__dict__.get("_plans")
    if plans is None:
        plans = program.__dict__["_plans"] = [_plan(s.args) for s in program.steps]
    for step, (template, refs, rest) in zip(program.steps, plans):
        args = template.copy()
        for i, slot in refs:
            args[i] = env[slot]
        for i, a in rest:
            args[i] = resolve(a, env)
        if type(step) is Call:
            fn = getattr(step.table, step.op)
            if step.out is not None:
                fn(*args, out=env[step.out])
                continue
            result = fn(*args)
        else:
            result = step.fn(*args)
        res = step.results
        if len(res) == 1:
            env[res[0]] = result
        elif res:
            for slot, buf in zip(res, result):
                env[slot] = buf
    for slot, buf in program.writeback:
        src = env[slot]
        if src is not buf:
            program.slots[slot].device.ops.assign(buf, src)
