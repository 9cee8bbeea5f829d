"""A compiled callable: guards, a cache of captured programs, warm-up, capture, replay.

Per distinct guard key (the tensors' shapes, dtypes, devices and requires_grad, the other
arguments' values, grad mode, every module's training flag, which parameters have a
``.grad``), the first call runs eagerly (optimizers create their state there), the second
captures, later ones replay -- tinygrad's TinyJit rhythm. A capture also snapshots state the
program bakes in (optimizer hyperparameters other than the ones passed on as
:class:`~plugrad.compile.program.Dynamic`, the identity of tensors the function closes
over); a call where that changed captures again. Past ``cache_size_limit`` programs the
function runs eagerly with a warning, as torch does.
"""
from __future__ import annotations

import os
import time
import warnings

from .. import _tensor
from ..autograd import grad_mode
from . import capture as _capture
from .program import run
from .constants import hoist_constants
from .writeback import redirect_writebacks

_Tensor = _tensor.Tensor


class config:
    """``torch._dynamo.config``: the knobs plugrad honours."""
    cache_size_limit = 8
    recompile_limit = 8


_all_compiled: list = []       # weakrefs, for torch._dynamo.reset()


class Entry:
    """One guard key's state: warm (seen once), a program, or eager (with the reason)."""
    __slots__ = ("state", "program", "env0", "binds", "outputs", "tree", "grad_sets",
                 "check", "reason", "breaks", "compile_time", "backward")

    def __init__(self):
        self.state = "warm"
        self.program = None
        self.reason = ""
        self.breaks = []
        self.compile_time = 0.0
        self.backward = None


class CompiledFunction:
    """What ``plugrad.compile(fn)`` returns for a function (``OptimizedModule`` wraps one)."""

    def __init__(self, fn, fullgraph=False, owner=None):
        self.fn = fn
        self.fullgraph = fullgraph
        self.owner = owner            # the module compiled, if any
        self.entries = {}             # key -> [Entry]
        self.count = 0
        self.roots = None
        import weakref
        _all_compiled.append(weakref.ref(self))

    def reset(self):
        self.entries.clear()
        self.count = 0
        self.roots = None

    # ------------------------------------------------------------------ roots and guards
    def _discover(self, args, kwargs):
        from ..nn.modules.module import Module
        from ..optim.optimizer import Optimizer
        modules, optims, scheds = [], [], []
        objs = list(_leaves((args, kwargs)))
        fn = self.fn
        if self.owner is not None:
            objs.append(self.owner)
        objs.extend(_referenced(fn, 3))
        for o in objs:
            inner = getattr(o, "optimizer", None)     # an lr scheduler
            if isinstance(inner, Optimizer):
                scheds.append(o)
                if all(inner is not m for m in optims):
                    optims.append(inner)
            if isinstance(o, Module) and all(o is not m for m in modules):
                modules.append(o)
            elif isinstance(o, Optimizer) and all(o is not m for m in optims):
                optims.append(o)
        mods = []
        for m in modules:
            mods.extend(x for x in m.modules() if all(x is not y for y in mods))
        params = []
        seen = set()
        for m in modules:
            for p in m.parameters():
                if id(p) not in seen:
                    seen.add(id(p))
                    params.append(p)
        leaves = [o for o in objs if isinstance(o, _Tensor) and o._requires_grad
                  and o._grad_fn is None]
        for o in [*optims, leaves]:
            for g in (o.param_groups if not isinstance(o, list) else [{"params": o}]):
                for p in g["params"]:
                    if id(p) not in seen:
                        seen.add(id(p))
                        params.append(p)
        self.roots = (mods, params, optims, scheds)

    def _key(self, leaves):
        mods, params = self.roots[0], self.roots[1]
        parts = [grad_mode._state.enabled]
        for x in leaves:
            if isinstance(x, _Tensor):
                parts.append((x._shape, x._dtype, x._device, x._requires_grad))
            else:
                try:
                    hash(x)
                    parts.append((type(x), x))
                except TypeError:
                    parts.append((type(x), id(x)))
        parts.append(tuple(m.training for m in mods))
        parts.append(tuple(p._grad is None for p in params))
        return tuple(parts)

    def _state_check(self, dynamic_keys):
        """A function telling whether the baked-in state still holds (optimizer
        hyperparameters, optimizer state size, closed-over tensors' identity)."""
        optims = self.roots[2]
        snap = _opt_snapshot(optims, dynamic_keys)
        closed = _closed_tensors(self.fn)

        def check():
            return _opt_snapshot(optims, dynamic_keys) == snap and \
                _closed_tensors(self.fn) == closed
        return check

    # ------------------------------------------------------------------ calling
    def __call__(self, *args, **kwargs):
        if _capture.active() is not None or _disabled[0] or \
                getattr(self.fn, "_plugrad_compile_disabled", False):
            return self.fn(*args, **kwargs)      # nested: inlined into the outer capture
        if self.roots is None:
            self._discover(args, kwargs)
        leaves = list(_leaves((args, kwargs)))
        key = self._key(leaves)
        entries = self.entries.get(key)
        if entries is None:
            if self.count >= config.cache_size_limit:
                return self._over_limit(args, kwargs)
            self.entries[key] = [Entry()]
            self.count += 1
            return self.fn(*args, **kwargs)
        for e in entries:
            if e.state == "warm":
                return self._capture(e, key, leaves, args, kwargs)
            if e.check():
                if e.state == "eager":
                    return self.fn(*args, **kwargs)
                out = self._replay(e, leaves)
                if out is not _MISS:
                    return out
                return self.fn(*args, **kwargs)
        if self.count >= config.cache_size_limit:
            return self._over_limit(args, kwargs)
        e = Entry()
        entries.append(e)
        self.count += 1
        return self._capture(e, key, leaves, args, kwargs)

    def _over_limit(self, args, kwargs):
        if not getattr(self, "_warned", False):
            self._warned = True
            name = getattr(self.fn, "__qualname__", repr(self.fn))
            warnings.warn(f"torch._dynamo hit config.recompile_limit ({config.cache_size_limit})"
                          f"\n   function: {name!r}\n   last reason: a guard failed (new input "
                          "shapes, dtypes, grad mode, training mode or optimizer settings); "
                          "it runs eagerly from now on", RuntimeWarning, stacklevel=3)
        return self.fn(*args, **kwargs)

    def _capture(self, e, key, leaves, args, kwargs):
        from .. import autograd
        grads_before = [(p, p._grad) for p in self.roots[1]]
        rec = _capture.Recorder(self.fullgraph)
        inputs = {}
        for i, x in enumerate(leaves):
            if isinstance(x, _Tensor) and id(x._data) not in inputs:
                inputs[id(x._data)] = i
                rec._slot(x._data, "input", f"leaf[{i}]")
                rec.slots[-1].device = x._device
        ran = []
        real_backward = autograd.run_backward

        def backward(*a, **k):
            ran.append(True)
            return real_backward(*a, **k)
        settings = _opt_snapshot(self.roots[2], ()), _sched_snapshot(self.roots[3])
        start = time.perf_counter()
        rec.start()
        autograd.run_backward = backward
        try:
            result = self.fn(*args, **kwargs)
        except _capture.GraphBreak as exc:
            from .._dynamo.exc import Unsupported
            raise Unsupported(str(exc)) from None
        finally:
            autograd.run_backward = real_backward
            rec.stop()
        e.breaks = list(rec.breaks)
        e.check = self._state_check(getattr(rec, "dynamic_keys", set()))
        out_leaves = list(_leaves(result))
        differentiable = [t for t in out_leaves if isinstance(t, _Tensor) and t._requires_grad]
        joint = None
        if differentiable and not ran and rec.unsafe is None:
            # a compiled forward under autograd: capture its backward too (AOTAutograd's idea)
            joint = self._capture_backward(e, rec, leaves, differentiable)
            if joint is None:
                return result
        if rec.unsafe is not None:
            e.state, e.reason = "eager", rec.unsafe
            return result
        if (_opt_snapshot(self.roots[2], ()), _sched_snapshot(self.roots[3])) != settings:
            e.state, e.reason = "eager", ("the function changes optimizer settings (an "
                                          "lr_scheduler.step() inside?): Python side effects "
                                          "do not replay, so it runs eagerly")
            return result
        self._finish(e, rec, leaves, result, out_leaves, grads_before, joint)
        e.compile_time = time.perf_counter() - start
        return result

    def _capture_backward(self, e, rec, leaves, differentiable):
        """Record ``autograd.grad`` of the forward's one differentiable output with respect to
        every leaf it depends on (parameters, inputs), with the incoming gradient as a slot:
        (forward step count, grad slot, [(edge, grad slot or None, meta)], output tensor,
        creation mark). None, with ``e`` made eager, when that cannot be replayed."""
        from .. import autograd
        if len(differentiable) != 1:
            e.state, e.reason = "eager", ("more than one output requires grad: a compiled "
                                          "forward with several differentiable outputs runs "
                                          "eagerly while autograd records")
            return None
        out = differentiable[0]
        wrt = [p for p in self.roots[1] if p._requires_grad]
        wrt += [t for t in leaves if isinstance(t, _Tensor) and t._requires_grad
                and all(t is not w for w in wrt)]
        n_fwd, mark = len(rec.steps), len(rec.created)
        rec.start()
        try:
            with _capture._Quiet(rec):
                seed = _tensor._from_buffer(out._device.ops.full(out._shape, 1.0, out._dtype.name),
                                     out._shape, out._dtype, out._device)
            gslot = rec._slot(seed._data, "input", "grad")
            rec.slots[gslot].device = out._device
            grads = autograd.grad([out], wrt, [seed], retain_graph=True, allow_unused=True)
        except Exception as exc:       # noqa: BLE001  (any failure: run eagerly, say why)
            e.state, e.reason = "eager", f"backward of the compiled forward not captured: {exc}"
            return None
        finally:
            rec.stop()
        if rec.unsafe is not None or any(type(st) is _capture.HostStep and st.kind == "random"
                                         for st in rec.steps[n_fwd:]):
            e.state, e.reason = "eager", ("the backward of the compiled forward reads values "
                                          "on the host: it runs eagerly")
            return None
        from ..autograd import _edge as _edge_of
        edges = []
        for t, g in zip(wrt, grads):
            slot = None if g is None else rec.slot_of.get(id(g._data))
            edges.append((_edge_of(t), slot, None if g is None else
                          (g._shape, g._dtype, g._device)))
        return n_fwd, gslot, edges, out, mark

    def _finish(self, e, rec, leaves, result, out_leaves, grads_before, joint=None):
        from .program import Program
        out_slots, outputs = [], []
        for t in out_leaves:
            s = rec.slot_of.get(id(t._data)) if isinstance(t, _Tensor) else None
            if s is not None and rec.slots[s].kind == "internal":
                out_slots.append(s)
                outputs.append(("new", s, t._shape, t._dtype, t._device))
            else:
                outputs.append(("same", t))
        # a returned tensor is returned anew on each replay, not written back (the caller may
        # keep the old one) -- unless it is also a parameter's .grad
        grads = {id(p._grad) for p in self.roots[1] if p._grad is not None}
        out_ids = {id(t) for t in out_leaves} - grads
        writeback = []
        seen = set()
        for r in (rec.created if joint is None else rec.created[:joint[4]]):
            t = r()
            if t is None or id(t) in out_ids:
                continue
            s = rec.slot_of.get(id(t._data))
            if s is None or rec.slots[s].kind != "internal" or id(t._data) in seen:
                continue
            seen.add(id(t._data))
            writeback.append((s, t._data))
        inputs = tuple(s.index for s in rec.slots if s.kind == "input" and s.source != "grad")
        constants = {s.index: rec.bufs[s.index] for s in rec.slots if s.kind == "external"}
        steps, backward = rec.steps, None
        if joint is not None:
            n_fwd, gslot, edges, out, _ = joint
            steps, back_steps = rec.steps[:n_fwd], rec.steps[n_fwd:]
            back_out = tuple(sl for _, sl, _ in edges if sl is not None)
            backward = Program(back_steps, rec.slots, (gslot,), constants, back_out, ())
            # the forward keeps every value its backward reads (fusion must not drop them)
            produced = {r for st in steps for r in getattr(st, "results", ())}
            saved = sorted({sl for st in back_steps for sl in st.reads() if sl in produced}
                           - set(out_slots))
            out_slots = out_slots + saved
            e.backward = (_optimized(backward), gslot, edges)
            for i, o in enumerate(outputs):
                if o[0] == "new" and out_leaves[i] is out:
                    outputs[i] = ("grad",) + o[1:]
        program = Program(steps, rec.slots, inputs, constants, tuple(out_slots),
                          tuple(writeback))
        if joint is None and os.environ.get("PLUGRAD_COMPILE_FUSION", "1") != "0":
            # constant buffers made once; the last elementwise write of a p.grad goes into
            # its buffer: no copy after the replay
            captured = program.outputs
            program = hoist_constants(program, rec.bufs)
            program = redirect_writebacks(program, _covering_views(rec, writeback))
            moved = dict(zip(captured, program.outputs))
            outputs = [(o[0], moved[o[1]]) + o[2:] if o[0] == "new" else o for o in outputs]
        e.program = program if joint is None else None
        env0 = [None] * len(program.slots)
        for s, b in program.constants.items():
            env0[s] = b
        e.env0 = env0
        e.binds = tuple((s, int(rec.slots[s].source[5:-1])) for s in inputs)
        e.outputs = outputs
        e.tree = _structure(result)
        e.grad_sets = tuple((p, p._grad) for p, g in grads_before if p._grad is not g)
        # a forward whose backward reads its buffers replays as captured: fusion may rename
        # or drop the slots the backward program reads
        e.program = _optimized(program) if e.program is not None else program
        e.state = "program"

    def _replay(self, e, leaves):
        env = list(e.env0)
        for s, i in e.binds:
            env[s] = leaves[i]._data
        try:
            run(e.program, env)
        except _capture.GuardMiss:
            return _MISS
        for p, g in e.grad_sets:
            p._grad = g
        made = []
        for o in e.outputs:
            if o[0] == "new":
                _, s, shape, dtype, dev = o
                made.append(_tensor._from_buffer(env[s], shape, dtype, dev))
            elif o[0] == "grad":
                _, s, shape, dtype, dev = o
                t = _tensor._from_buffer(env[s], shape, dtype, dev)
                program, gslot, edges = e.backward
                node = CompiledFunctionBackward(tuple(edge for edge, _, _ in edges))
                node.env, node.program, node.gslot, node.edges = env, program, gslot, edges
                t._grad_fn, t._requires_grad = node, True
                made.append(t)
            else:
                made.append(o[1])
        return _rebuild(e.tree, iter(made))


_MISS = object()


def _node_class():
    from ..autograd.node import Node

    class CompiledFunctionBackward(Node):
        """The backward of a compiled forward: replays the captured backward program over the
        forward's buffers (torch's name for AOTAutograd's node)."""
        __slots__ = ()

        def backward(self, grad):
            env = list(self.env)
            env[self.gslot] = grad.contiguous()._data if grad._shape else grad._data
            run(self.program, env)
            return tuple(None if slot is None else _tensor._from_buffer(env[slot], *meta)
                         for _, slot, meta in self.edges)

        def _drop(self):
            self.env = None
    return CompiledFunctionBackward


class _Lazy:
    def __call__(self, *args):
        global CompiledFunctionBackward
        CompiledFunctionBackward = _node_class()
        return CompiledFunctionBackward(*args)


CompiledFunctionBackward = _Lazy()
_disabled = [False]


def _optimized(program):
    """``program`` as its backends' ``optimize_program`` capabilities rewrite it (fused
    elementwise chains), each backend its own calls; unchanged where none offers it.
    ``PLUGRAD_COMPILE_FUSION=0`` replays every program as captured (to tell a fusion problem
    from a capture problem)."""
    from ..plugins.contract import capability
    if os.environ.get("PLUGRAD_COMPILE_FUSION", "1") == "0":
        return program
    # each backend rewrites only its own calls (plugins.fusion's ``backend=``): a step on
    # opencl also touches the cpu (optimizer step counters live there)
    tables = {}
    for c in program.calls():
        tables.setdefault(c.table.backend_name, c.table)
    dtypes = {slot.dtype for slot in program.slots}
    for table in tables.values():
        if table.host_dtypes & dtypes:
            continue    # its calls on host-stored (complex) data run on the cpu backend
        hook = capability(table.impl, "optimize_program") if table.impl is not None else None
        if hook is not None:
            better = hook(program)
            program = program if better is None else better
    return program


def _covering_views(rec, writeback):
    """``{view slot: base slot}`` among the writeback targets: tensors made during the
    capture that view all of another one's buffer (``p.grad`` = the transpose of the
    ``matmul`` result that backward made), for :func:`redirect_writebacks`."""
    targets = {id(b): s for s, b in writeback}
    covers = {}
    for r in rec.created:
        t = r()
        base = getattr(t, "_base", None)
        if t is None or base is None or id(t._data) not in targets or \
                id(base._data) not in targets or t.numel() != base.numel() or \
                0 in t.stride():
            continue
        covers[targets[id(t._data)]] = targets[id(base._data)]
    return covers


def _referenced(fn, depth):
    """Objects ``fn`` reaches by name: its ``self``, closure cells and the globals its code
    names, and (``depth`` levels down) those of functions among them."""
    found = []
    target = getattr(fn, "__func__", fn)
    if hasattr(fn, "__self__"):
        found.append(fn.__self__)
    code = getattr(target, "__code__", None)
    if code is None:
        return found
    for cell in getattr(target, "__closure__", None) or ():
        try:
            found.append(cell.cell_contents)
        except ValueError:
            pass
    g = getattr(target, "__globals__", {})
    found.extend(g[n] for n in code.co_names if n in g)
    if depth > 1:
        for o in list(found):
            if callable(o) and hasattr(getattr(o, "__func__", o), "__code__") \
                    and getattr(o, "__module__", "") and \
                    not str(getattr(o, "__module__", "")).startswith("plugrad"):
                found.extend(_referenced(o, depth - 1))
    return found


def _sched_snapshot(scheds):
    return [(getattr(s, "last_epoch", None), getattr(s, "_step_count", None)) for s in scheds]


def _opt_snapshot(optims, dynamic_keys):
    snap = []
    for o in optims:
        snap.append(len(o.state))
        for g in o.param_groups:
            for k, v in g.items():
                if k == "params" or (id(g), k) in dynamic_keys:
                    continue
                snap.append((k, v.item() if isinstance(v, _Tensor) else v))
    return snap


def _closed_tensors(fn):
    target = getattr(fn, "__func__", fn)
    cells = getattr(target, "__closure__", None) or ()
    found = []
    for c in cells:
        try:
            v = c.cell_contents
        except ValueError:
            continue
        if isinstance(v, _Tensor):
            found.append(id(v))
    return found


def _leaves(obj):
    """Tensors and other values of nested tuples/lists/dicts, in a fixed order."""
    if isinstance(obj, (tuple, list)):
        for x in obj:
            yield from _leaves(x)
    elif isinstance(obj, dict):
        for k in obj:
            yield from _leaves(obj[k])
    else:
        yield obj


def _structure(obj):
    if isinstance(obj, tuple) and not hasattr(obj, "_fields"):
        return ("tuple", [_structure(x) for x in obj])
    if isinstance(obj, tuple):
        return ("named", type(obj), [_structure(x) for x in obj])
    if isinstance(obj, list):
        return ("list", [_structure(x) for x in obj])
    if isinstance(obj, dict):
        return ("dict", type(obj), [(k, _structure(v)) for k, v in obj.items()])
    return ("leaf",)


def _rebuild(tree, it):
    kind = tree[0]
    if kind == "leaf":
        return next(it)
    if kind == "tuple":
        return tuple(_rebuild(x, it) for x in tree[1])
    if kind == "named":
        return tree[1](*[_rebuild(x, it) for x in tree[2]])
    if kind == "list":
        return [_rebuild(x, it) for x in tree[1]]
    return tree[1]((k, _rebuild(v, it)) for k, v in tree[2])
