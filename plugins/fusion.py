"""Finding fusible elementwise chains in a captured program: the backend-neutral half of the
``optimize_program`` capability (:mod:`plugrad.plugins.contract.capabilities`).

A backend that generates kernels (opencl, cuda) or plans buffers (cpu) needs the same
analysis: which elementwise calls of a program can run as one kernel without changing any
value a later call, an output or the user can see. :func:`plan` answers it over
:class:`Step` records (one per contract call, in program order) and gives back
:class:`Group` records, each with a :class:`Chain` -- the shape-free description of one
fused kernel, hashable, so a backend compiles each distinct chain once -- and the slots its
kernel reads and writes. The backend turns each chain into a kernel; the program adapter
(:func:`fuse`) puts one call of that kernel where the group's last member was.

Rules (each keeps results equal to eager's, bitwise where the kernel evaluates the same
dtype's operations in the same order):

* members are elementwise contract ops (:data:`ELEMENTWISE`) of one result shape; an operand
  may broadcast to it; float16/bfloat16 never fuse (eager rounds every intermediate to 16
  bits, a kernel computing in float would not);
* an intermediate is stored only when something outside the group reads it later (a later
  call, the program's outputs) or it was written in place into an existing buffer;
* order is kept: a call outside a group that reads what the group writes, or writes what
  it reads or writes, seals the group (its kernel runs before that call); an in-place write
  joins a group only through the very slot the group read, so each element is read and
  written by the same work-item.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Callable, Hashable

from .contract import OPS

ELEMENTWISE = {n: len(s.args) for n, s in OPS.items()
               if s.group in ("unary", "binary", "ternary")}
ELEMENTWISE["cast"] = 1
"""Contract ops a chain may contain, with their operand count (``cast``'s target dtype is
the node's ``dtype``)."""

UNFUSED_DTYPES = frozenset({"float16", "bfloat16"})
"""Dtypes that never fuse: eager stores every intermediate in 16 bits."""


@dataclass(frozen=True)
class Ref:
    """An operand that is a buffer slot of the program (any hashable id)."""
    slot: Hashable


@dataclass(frozen=True)
class Node:
    """One elementwise op of a chain.

    ``args``: per operand, ``k >= 0`` for the chain's input ``k`` or ``-j - 1`` for node
    ``j``'s value. ``dtype``: the node's result dtype (a ``cast``'s target); ``operand_dtype``:
    the dtype its buffer operands have (the contract calls the op with one dtype)."""
    op: str
    args: tuple
    dtype: str
    operand_dtype: str


@dataclass(frozen=True)
class Chain:
    """A fused kernel's description, independent of shapes (shapes are call arguments).

    ``inputs``: per input, ``(dtype, is_scalar)``; a scalar input is a Python number of that
    dtype passed at every call. ``nodes`` in evaluation order; ``outputs``: the node index
    of each stored result, in the order of the group's ``outputs``. Hashable: the cache key
    of the generated kernel."""
    inputs: tuple
    nodes: tuple
    outputs: tuple

    def describe(self) -> str:
        """A one-line readable form, for notes, errors and tests."""
        def ref(k):
            return f"in{k}" if k >= 0 else f"t{-k - 1}"
        body = "; ".join(f"t{j}={n.op}({', '.join(ref(a) for a in n.args)}):{n.dtype}"
                         for j, n in enumerate(self.nodes))
        return f"{body} -> {', '.join(f't{o}' for o in self.outputs)}"


@dataclass
class Step:
    """One contract call of the program, as :func:`plan` sees it.

    ``operands``: per operand a :class:`Ref` or a Python scalar; ``result``: the slot the
    call writes; ``in_place``: that slot existed before (``out=`` an existing buffer) rather
    than being created by the call; ``reads``/``writes``: every slot the call reads or
    writes, for non-elementwise calls (elementwise ones are derived)."""
    op: str
    operands: tuple = ()
    result: Hashable = None
    shape: tuple = ()
    dtype: str = ""
    operand_dtype: str = ""
    in_place: bool = False
    reads: tuple = ()
    writes: tuple = ()

    def read_slots(self):
        if self.op in ELEMENTWISE:
            return tuple(o.slot for o in self.operands if isinstance(o, Ref))
        return self.reads

    def written_slots(self):
        return (self.result,) if self.op in ELEMENTWISE else self.writes


@dataclass
class Group:
    """Steps fused into one kernel: ``members`` (indices into the steps), the ``chain``, and
    the call's ``operands`` (Refs and scalars, one per chain input) and ``outputs`` (slots,
    one per chain output; ``in_place[i]`` when output i is an existing buffer)."""
    members: list = field(default_factory=list)
    shape: tuple = ()
    chain: Chain | None = None
    operands: tuple = ()
    outputs: tuple = ()
    in_place: tuple = ()

    @property
    def position(self) -> int:
        """Where the fused call goes: the index of the last member."""
        return self.members[-1]


def fusible(step: Step) -> bool:
    """Whether a step may join a chain at all (op, dtypes, operand count)."""
    if step.op not in ELEMENTWISE or step.dtype in UNFUSED_DTYPES or \
            step.operand_dtype in UNFUSED_DTYPES:
        return False
    return len(step.operands) == ELEMENTWISE[step.op] and any(
        isinstance(o, Ref) for o in step.operands)


def plan(steps: list, storage: Callable[[Hashable], Hashable], live_out: set,
         accept: Callable[[Step], bool] | None = None) -> list:
    """The groups of two or more steps worth one kernel each, in program order.

    ``storage(slot)``: what identifies the memory under a slot (two views of one buffer
    share it); ``live_out``: slots read after the program (its outputs, the user's tensors);
    ``accept(step)``: the backend's own veto (an op it cannot generate)."""
    later_reads = _last_reads(steps)
    open_groups, done = [], []
    for i, step in enumerate(steps):
        joined = None
        if fusible(step) and (accept is None or accept(step)):
            joined = _choose(open_groups, step, storage)
        reads = {storage(s) for s in step.read_slots()}
        writes = {storage(s) for s in step.written_slots()}
        for g in list(open_groups):
            if g is joined:
                continue
            if reads & g.written or writes & (g.read | g.written):
                open_groups.remove(g)
                done.append(g)
        if joined is None and fusible(step) and (accept is None or accept(step)):
            joined = _State(step.shape)
            open_groups.append(joined)
        if joined is not None:
            joined.add(i, step, storage)
    done.extend(open_groups)
    groups = [_finish(g, steps, later_reads, live_out, storage) for g in done
              if len(g.members) >= 2]
    return sorted(groups, key=lambda g: g.position)


class _State:
    """A group being built: its members and what it reads/writes (as storages)."""

    def __init__(self, shape):
        self.shape = shape
        self.members = []
        self.read, self.written = set(), set()
        self.read_slots = {}                 # storage -> the slot it was read through

    def add(self, i, step, storage):
        self.members.append(i)
        for o in step.operands:
            if isinstance(o, Ref):
                st = storage(o.slot)
                self.read.add(st)
                self.read_slots.setdefault(st, o.slot)
        self.written.add(storage(step.result))

    def merge(self, other):
        self.members = sorted(self.members + other.members)
        self.read |= other.read
        self.written |= other.written
        for st, slot in other.read_slots.items():
            self.read_slots.setdefault(st, slot)


def _choose(open_groups, step, storage):
    """The open group ``step`` joins, or None: every open group of its shape producing one of
    its operands, merged into one (open groups are independent of each other: a dependency
    between them would have sealed one)."""
    st_out = storage(step.result)
    found = []
    for g in open_groups:
        if g.shape != step.shape or not any(
                isinstance(o, Ref) and storage(o.slot) in g.written for o in step.operands):
            continue
        # an in-place write joins only through the slot the group read it by
        if st_out in g.read and g.read_slots.get(st_out) != step.result:
            return None
        found.append(g)
    if not found:
        return None
    into = found[-1]
    for g in found[:-1]:
        into.merge(g)
        open_groups.remove(g)
    return into


def _last_reads(steps):
    """slot -> index of the last step reading it."""
    last = {}
    for i, step in enumerate(steps):
        for s in step.read_slots():
            last[s] = i
    return last


def _finish(g, steps, later_reads, live_out, storage):
    """The Chain, operands and outputs of a sealed group."""
    inputs, operands, index = [], [], {}
    current = {}                 # slot -> node ref holding its value inside the kernel
    nodes, written_by = [], {}
    members = set(g.members)
    for i in g.members:
        step = steps[i]
        args = []
        for pos, o in enumerate(step.operands):
            if isinstance(o, Ref) and o.slot in current:
                args.append(current[o.slot])
                continue
            key = ("slot", o.slot) if isinstance(o, Ref) else ("const", len(operands))
            if key not in index:
                index[key] = len(inputs)
                dtype = "bool" if step.op == "where" and pos == 0 else step.operand_dtype
                inputs.append((dtype, not isinstance(o, Ref)))
                operands.append(o)
            args.append(index[key])
        nodes.append(Node(step.op, tuple(args), step.dtype, step.operand_dtype))
        current[step.result] = -len(nodes)
        written_by[step.result] = (len(nodes) - 1, i, step.in_place)
    last = g.members[-1]
    outputs, out_nodes, in_place = [], [], []
    for slot, (node, i, inplace) in written_by.items():
        read_outside = later_reads.get(slot, -1) > last or any(
            slot in steps[k].read_slots() for k in range(g.members[0], last + 1)
            if k not in members)
        if inplace or read_outside or slot in live_out or _aliased_out(slot, storage, live_out):
            outputs.append(slot)
            out_nodes.append(node)
            in_place.append(inplace)
    if not outputs:              # nothing escapes: keep the last value (never empty kernels)
        node, i, inplace = written_by[steps[last].result]
        outputs, out_nodes, in_place = [steps[last].result], [node], [inplace]
    return Group(list(g.members), g.shape, Chain(tuple(inputs), tuple(nodes), tuple(out_nodes)),
                 tuple(operands), tuple(outputs), tuple(in_place))


def _aliased_out(slot, storage, live_out):
    st = storage(slot)
    return any(storage(s) == st for s in live_out)


# ------------------------------------------------------------------ program adapter

VIEWS = frozenset({"reshape", "permute", "expand", "slice", "as_strided"})
"""Ops whose result shares memory with their first argument."""


def root_memory(buf) -> int:
    """Default ``memory_key``: the id of the array a numpy/cupy view is ultimately based on."""
    while getattr(buf, "base", None) is not None:
        buf = buf.base
    return id(buf)


def fuse(program, make_kernel: Callable, *, backend: str | None = None,
         accept: Callable | None = None, memory_key: Callable = root_memory):
    """``program`` with each fusible group of its calls replaced by one call of a kernel.

    ``make_kernel(chain)`` returns ``kernel(operands, outs, shape) -> output buffers``
    (``outs``: per output, the existing buffer to write in place or None for a new one);
    ``backend``: fuse only calls running on this backend (by name); ``accept(step)`` vetoes
    ops the backend cannot generate; ``memory_key(buf)`` says which external buffers share
    memory. Repeated calls are merged first (:func:`merge_repeated_calls`). The fused call
    is a host step of kind ``"fused"`` (the replay calls it like any step), labelled with the
    chain. ``program`` is not changed; a program with nothing to change comes back as is.
    """
    program = merge_repeated_calls(program, memory_key, backend)
    steps, storage = steps_of(program, memory_key, backend)
    groups = plan(steps, storage, set(program.live_out()), accept)
    if not groups:
        return program
    kernels = {}
    replaced = {}
    for g in groups:
        kernel = kernels.get(g.chain)
        if kernel is None:
            kernel = kernels[g.chain] = make_kernel(g.chain)
        for m in g.members:
            replaced[m] = None
        replaced[g.position] = _fused_step(kernel, g)
    new_steps = [replaced[i] if i in replaced else s for i, s in enumerate(program.steps)]
    new_steps = [s for s in new_steps if s is not None]
    return dataclasses.replace(program, steps=new_steps, last_use=())


def replace_calls(program, op: str, fn: Callable, backend: str, label: str = ""):
    """``program`` with every call of ``op`` on ``backend`` run by ``fn`` instead (same
    arguments, same results): a backend's better implementation of one op for compiled
    programs only (opencl's multi-tensor Adam), as a host step of kind ``"fused"``."""
    from ..compile.program import Call, HostStep
    steps = [HostStep("fused", fn, s.args, s.results, label or op)
             if type(s) is Call and s.op == op and s.out is None and
             s.table.backend_name == backend else s for s in program.steps]
    if all(a is b for a, b in zip(steps, program.steps)):
        return program
    return dataclasses.replace(program, steps=steps, last_use=())


def _fused_step(kernel, group):
    from ..compile.program import HostStep, Ref as IRRef
    n = len(group.operands)
    shape = group.shape
    single = len(group.outputs) == 1

    def run(*values):
        outs = kernel(values[:n], values[n:], shape)
        return outs[0] if single else tuple(outs)
    args = tuple(IRRef(o.slot) if isinstance(o, Ref) else o for o in group.operands) + tuple(
        IRRef(s) if inplace else None for s, inplace in zip(group.outputs, group.in_place))
    run.chain = group.chain
    return HostStep("fused", run, args, tuple(group.outputs), group.chain.describe())


def steps_of(program, memory_key=root_memory, backend=None):
    """(:class:`Step` per program step, ``storage(slot)``): the planner's view of a
    captured program (``plugrad.compile.program.Program``)."""
    from ..compile.program import Call, Dynamic
    from ..compile.program import Ref as IRRef
    slots = program.slots
    root = {}
    by_memory = {}
    for s, buf in program.constants.items():
        root[s] = by_memory.setdefault(("mem", memory_key(buf)), ("ext", s))
    for s in program.inputs:
        root[s] = ("inputs",)            # bound per call: any two may alias
    steps = []
    for step in program.steps:
        reads = tuple(step.reads())
        writes = tuple(step.results)
        spec = OPS.get(step.op) if type(step) is Call else None
        if type(step) is Call and (not step.results or spec is None or spec.returns == "none"):
            writes = reads               # assign, index_put, optimizer steps write in place
        if type(step) is not Call:
            steps.append(Step("<host>", reads=reads, writes=writes))
            continue
        if step.op in VIEWS and step.args and type(step.args[0]) is IRRef:
            base = _root(root, step.args[0].slot)
            for r in step.results:
                root[r] = base
        operands = _scalar_operands(step, IRRef, Dynamic)
        if operands is None or (backend is not None and step.table.backend_name != backend):
            steps.append(Step(step.op, reads=reads, writes=writes))
            continue
        result = step.out if step.out is not None else step.results[0]
        first = next(o for o in operands if isinstance(o, Ref))
        if step.op == "where":
            first = next((o for o in operands[1:] if isinstance(o, Ref)), None)
        operand_dtype = slots[first.slot].dtype if first is not None else slots[result].dtype
        steps.append(Step(step.op, operands, result, tuple(slots[result].shape),
                          slots[result].dtype, operand_dtype, step.out is not None,
                          reads, writes))
    return steps, (lambda slot: _root(root, slot))


def _root(root, slot):
    return root.get(slot, ("slot", slot))


def _scalar_operands(call, IRRef, Dynamic):
    """The call's operands as Refs and scalars when it is an elementwise call, else None."""
    if call.op not in ELEMENTWISE or len(call.results) != 1:
        return None
    args = call.args[:1] if call.op == "cast" else call.args
    if len(args) != ELEMENTWISE[call.op]:
        return None
    operands = []
    for a in args:
        if type(a) is IRRef:
            operands.append(Ref(a.slot))
        elif type(a) is Dynamic or isinstance(a, (bool, int, float)):
            operands.append(a)
        else:
            return None
    return tuple(operands) if any(isinstance(o, Ref) for o in operands) else None


# ------------------------------------------------------------- repeated calls

def merge_repeated_calls(program, memory_key: Callable = root_memory,
                         backend: str | None = None):
    """``program`` without calls that repeat an earlier call exactly: the same pure op (one
    returning new buffers) with the same arguments, none of whose memory was written in
    between, and whose result is never written afterwards; later readers take the earlier
    result. Captures repeat work eager code does twice (layer_norm's mean and var each sum
    the input): the same deterministic kernel on the same data, so results are unchanged.
    """
    from ..compile.program import Call, HostStep
    steps, storage = steps_of(program, memory_key, backend)
    written_later = {}
    for i, st in enumerate(steps):
        for slot in st.written_slots():
            written_later.setdefault(storage(slot), []).append(i)
    seen, by_storage, rename = {}, {}, {}
    for i, (call, st) in enumerate(zip(program.steps, steps)):
        if type(call) is not Call:
            for slot in st.written_slots():
                for key in by_storage.pop(storage(slot), ()):
                    seen.pop(key, None)
            continue
        key = _call_key(call, rename) if _pure(call, backend) else None
        if key is not None and not any(w > i for slot in call.results
                                       for w in written_later.get(storage(slot), ())):
            first = seen.get(key)
            if first is not None:
                for a, b in zip(call.results, first.results):
                    rename[a] = rename.get(b, b)
                continue
            seen[key] = call
            for slot in st.read_slots():
                by_storage.setdefault(storage(rename.get(slot, slot)), []).append(key)
        # a write invalidates every remembered call that read the memory written
        for slot in st.written_slots():
            if key is not None and slot in call.results:
                continue
            for k in by_storage.pop(storage(slot), ()):
                seen.pop(k, None)
    if not rename:
        return program

    def ren(a):
        t = type(a)
        if t is tuple or t is list:
            return t(ren(x) for x in a)
        if t is dict:
            return {k: ren(v) for k, v in a.items()}
        if hasattr(a, "slot") and a.slot in rename:
            return type(a)(rename[a.slot])
        return a
    new_steps = []
    for i, step in enumerate(program.steps):
        if type(step) is Call and any(r in rename for r in step.results):
            continue
        if type(step) is Call:
            new_steps.append(dataclasses.replace(step, args=ren(step.args)))
        elif type(step) is HostStep:
            new_steps.append(dataclasses.replace(step, args=ren(step.args)))
        else:
            new_steps.append(step)
    return dataclasses.replace(
        program, steps=new_steps, last_use=(),
        outputs=tuple(rename.get(s, s) for s in program.outputs),
        writeback=tuple((rename.get(s, s), b) for s, b in program.writeback))


_IMPURE = frozenset({"empty", "from_host", "to_host", "synchronize", "mt19937_generate"})


def _pure(call, backend):
    spec = OPS.get(call.op)
    return (spec is not None and call.op not in _IMPURE and call.out is None and
            spec.returns in ("buf", "bufs") and call.results and
            (backend is None or call.table.backend_name == backend))


def _call_key(call, rename):
    """A hashable identity of the call's op and arguments (None when an argument has none:
    a Dynamic, a host array, a dict); scalars keep their type and sign (0.0 is not -0.0)."""
    from ..compile.program import Ref as IRRef

    def key(a):
        t = type(a)
        if t is IRRef:
            return ("ref", rename.get(a.slot, a.slot))
        if t is tuple or t is list:
            parts = tuple(key(x) for x in a)
            return None if None in parts else ("seq",) + parts
        if t in (bool, int, float, str) or a is None:
            return (t.__name__, repr(a))
        return None
    parts = tuple(key(a) for a in call.args)
    if None in parts:
        return None
    return (call.op, id(call.table)) + parts


# ------------------------------------------------------------- batched calls

def batch_calls(program, make_batch: Callable, *, backend: str, accept: Callable | None = None,
                memory_key: Callable = root_memory, limit: int = 16):
    """``program`` with each run of consecutive, independent elementwise calls that apply the
    same op to different buffers (``clip_grad_norm_``'s ``mul(g, coef, out=g)`` per
    gradient) replaced by one host step of kind ``"fused"``: a backend launches one kernel
    for the run instead of one per call.

    Calls batch when they run on ``backend``, have the same op, dtypes and scalar operands,
    read any 0-d buffer operand from the same slot (shared by every call), all other buffer
    operands have the call's result shape, and no call reads or writes memory an earlier call
    of the run writes. ``make_batch(chain, shared)`` (``shared[k]``: chain input ``k`` is the
    run's common 0-d buffer) returns ``fn(segments, shapes) -> output buffers``, one per call,
    where ``segments`` holds each call's ``(operands, out buffer or None)``; ``accept(step)``
    vetoes ops as for :func:`fuse`. At most ``limit`` calls per run."""
    from ..compile.program import Call, HostStep
    from ..compile.program import Ref as IRRef
    steps, storage = steps_of(program, memory_key, backend)
    slots = program.slots
    new_steps, run, keys = [], [], []

    def key_of(call, st):
        if type(call) is not Call or not st.operands or st.op not in ELEMENTWISE or \
                st.dtype in UNFUSED_DTYPES or (accept is not None and not accept(st)):
            return None
        parts = []
        for o in st.operands:
            if isinstance(o, Ref):
                shape = tuple(slots[o.slot].shape)
                if shape == ():
                    parts.append(("shared", o.slot))
                elif shape == st.shape:
                    parts.append(("buf",))
                else:
                    return None
            elif type(o) in (bool, int, float):
                parts.append(("scalar", type(o).__name__, repr(o)))
            else:
                return None          # a Dynamic: its value is per call
        if not any(p[0] == "buf" for p in parts) or st.shape == ():
            return None
        return (st.op, st.dtype, st.operand_dtype, st.in_place, tuple(parts))

    def flush():
        if len(run) < 2:
            new_steps.extend(program.steps[i] for i in run)
        else:
            new_steps.append(_batched_step(program, run, steps, keys[0], make_batch, IRRef,
                                           HostStep))
        run.clear()
        keys.clear()

    written, read = set(), set()
    for i, (call, st) in enumerate(zip(program.steps, steps)):
        key = key_of(call, st)
        if run and (key != keys[0] or len(run) >= limit or
                    any(storage(s) in written for s in st.read_slots()) or
                    any(storage(s) in written or storage(s) in read
                        for s in st.written_slots())):
            flush()
        if key is None:
            new_steps.append(call)
            continue
        if not run:
            written, read = set(), set()
        run.append(i)
        keys.append(key)
        written.update(storage(s) for s in st.written_slots())
        read.update(storage(s) for s in st.read_slots())
    flush()
    if len(new_steps) == len(program.steps):
        return program
    return dataclasses.replace(program, steps=new_steps, last_use=())


def _batched_step(program, run, steps, key, make_batch, IRRef, HostStep):
    first = steps[run[0]]
    inputs = tuple((program.slots[o.slot].dtype if isinstance(o, Ref) else first.operand_dtype,
                    not isinstance(o, Ref)) for o in first.operands)
    chain = Chain(inputs, (Node(first.op, tuple(range(len(inputs))), first.dtype,
                                first.operand_dtype),), (0,))
    shared = tuple(p[0] == "shared" for p in key[4])
    fn = make_batch(chain, shared)
    width = len(first.operands) + 1
    shapes = tuple(steps[i].shape for i in run)
    args, results = [], []
    for i in run:
        st = steps[i]
        args += [IRRef(o.slot) if isinstance(o, Ref) else o for o in st.operands]
        args.append(IRRef(st.result) if st.in_place else None)
        results.append(st.result)

    def batch(*values):
        segments = [(values[j:j + width - 1], values[j + width - 1])
                    for j in range(0, len(values), width)]
        return tuple(fn(segments, shapes))
    batch.chain = chain
    return HostStep("fused", batch, tuple(args), tuple(results),
                    f"{first.op} x{len(run)}, batched")
