"""Capture: run a function once through recording views of the dispatch tables.

While a :class:`Recorder` is active, every op of every device's table is swapped (in place,
as the profiler does) for a wrapper that calls the real op and appends a
:class:`~plugrad.compile.program.Call` to the program. Buffers are named by identity: a
buffer the program has not produced is an *external* slot (a parameter, optimizer state, a
tensor passed in or closed over), a buffer an op returned is an *internal* one. Every buffer
seen is kept alive until the capture ends, so no id is reused while ids name slots.

Besides backend calls a capture notices three things the program alone cannot express:

* host reads (``to_host``: ``.item()``, ``.tolist()``, ``bool(t)``, printing) -- graph
  breaks. A read is kept as a value guard when nothing outside the program has been written
  yet (replay compares the value and runs eagerly if it changed); later ones make the
  function run eagerly. Frontend validators that read indices only to raise
  (``record_check``) and reads the frontend declares replayable (``allow_read``) are not
  breaks;
* random numbers: ``Generator.generate`` becomes a host step that draws again on replay, so
  the stream advances exactly as eager's;
* tensors created during the capture that are still alive at its end (``p.grad`` made by
  ``backward()``): their buffers are written back after each replay.
"""
from __future__ import annotations

import sys
import weakref

from .. import _tensor
from .._generator import Generator
from ..plugins.contract import OPS
from .program import Call, Dynamic, HostStep, Ref, Slot

_BUF_KINDS = ("buf", "buf|scalar", "opt_buf")
_SEQ_KINDS = ("bufs", "opt_bufs")
# runtime entries that neither compute nor read values: passed through, never recorded
_UNRECORDED = frozenset({"strides", "synchronize", "device_count"})
_VIEWS = frozenset(n for n, s in OPS.items() if s.group == "view")
from ._state import capturing as _active  # the recorder now capturing (at most one)


class GraphBreak(Exception):
    """Raised inside a capture for ``fullgraph=True`` (torch._dynamo.exc.Unsupported)."""


def active():
    """The recorder capturing now, or None (cheap: the frontend's hooks ask per call)."""
    return _active[0] if _active else None


def is_compiling() -> bool:
    """``torch.compiler.is_compiling()``: True while a capture runs the function."""
    return bool(_active)


class _Quiet:
    """Context: backend calls made inside are not recorded (a host step's own calls)."""
    __slots__ = ("rec",)

    def __init__(self, rec):
        self.rec = rec

    def __enter__(self):
        self.rec.depth += 1

    def __exit__(self, *exc):
        self.rec.depth -= 1
        return False


def allow_read():
    """Context for frontend code whose host read is replayed another way (an optimizer's
    step counter passed on as a :class:`Dynamic`): the read is not a graph break."""
    rec = active()
    return _Quiet(rec) if rec is not None else _NULL


class _Null:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


_NULL = _Null()


def dynamic(fn, value, key=None):
    """``value`` now; while capturing, a :class:`Dynamic` recomputed by ``fn()`` on replay.
    ``key`` ((id(param_group), name)) tells the guards not to bake that setting in."""
    if not _active:
        return value
    if key is not None:
        _active[0].dynamic_keys.add(key)
    return Dynamic(fn, value)


def record_check(check, *args):
    """Run ``check(*args)`` (a validator that reads tensor values on the host and raises as
    torch does); while capturing, also record it as a host step that checks again on every
    replay, so reading indices to validate them is no graph break."""
    rec = active()
    if rec is None:
        return check(*args)
    with _Quiet(rec):
        check(*args)
    metas = []
    refs = []
    for a in args:
        if isinstance(a, _tensor.Tensor):
            metas.append((a._shape, a._dtype, a._device))
            refs.append(rec.ref(a._data))
        else:
            metas.append(None)
            refs.append(a)

    def again(*values):
        rebuilt = [v if m is None else _tensor._from_buffer(v, *m) for v, m in zip(values, metas)]
        with _replaying_check():
            check(*rebuilt)
    rec.steps.append(HostStep("check", again, tuple(refs), (), getattr(check, "__name__", "")))
    return None


def _replaying_check():
    return _NULL


class Recorder:
    """One capture: patches the tables, records calls, collects breaks and new tensors."""

    def __init__(self, fullgraph=False):
        self.fullgraph = fullgraph
        self.steps = []
        self.slots = []
        self.bufs = []            # slot -> buffer, alive for the whole capture
        self.slot_of = {}         # id(buffer) -> latest slot holding it
        self.external_written = False
        self.breaks = []          # (reason, where) of host reads that break the graph
        self.unsafe = None        # why the program cannot be replayed at all, if so
        self.depth = 0
        self.created = []         # weakrefs of tensors made during the capture
        self._saved = []
        self._new = None
        self._generate = None
        self.dynamic_keys = set()  # (id(param_group), key) passed on as Dynamic
        self.root = {}            # slot -> the slot whose memory it views (itself if none)

    # ------------------------------------------------------------------ slots
    def ref(self, buf, kind="external", source=""):
        s = self.slot_of.get(id(buf))
        if s is None:
            s = self._slot(buf, kind, source)
        return Ref(s)

    def _slot(self, buf, kind, source=""):
        s = len(self.slots)
        shape = tuple(getattr(buf, "shape", ()))
        dtype = str(getattr(buf, "dtype", ""))
        self.slots.append(Slot(s, kind, shape, dtype, None, source))
        self.bufs.append(buf)
        self.slot_of[id(buf)] = s
        return s

    def _arg(self, kind, value):
        if value is None or isinstance(value, (bool, int, float, complex)):
            return value
        if kind in _BUF_KINDS:
            return self.ref(value)
        if kind in _SEQ_KINDS:
            return tuple(None if v is None else self.ref(v) for v in value)
        return value

    def _root_external(self, slot):
        return self.slots[self.root.get(slot, slot)].kind != "internal"

    # ------------------------------------------------------------------ patching
    def start(self):
        from .._device import _CACHE, table_hooks
        seen = set()
        for d in list(_CACHE.values()):
            if d.ops is not None and id(d.ops) not in seen:
                seen.add(id(d.ops))
                self._wrap(d.ops, d)
        table_hooks.append(self._wrap_late)
        # every Tensor is made by ``object.__new__`` bound as ``_new`` in the few modules
        # that construct them (_tensor._from_buffer, _graph's tuned tails): wrap each to note them
        created = self.created
        ref = weakref.ref
        tensor = _tensor.Tensor

        def making(cls, _new=object.__new__):
            t = _new(cls)
            if cls is tensor or isinstance(t, tensor):
                created.append(ref(t))
            return t
        self._new = []
        for name, mod in list(sys.modules.items()):
            if name.startswith("plugrad") and getattr(mod, "_new", None) is object.__new__:
                self._new.append(mod)
                mod._new = making
        self._generate = Generator.generate
        Generator.generate = _recording_generate(self, self._generate)
        _active.append(self)

    def stop(self):
        from .._device import table_hooks
        if self in _active:
            _active.remove(self)
        if self._wrap_late in table_hooks:
            table_hooks.remove(self._wrap_late)
        for table, name, fn in self._saved:
            setattr(table, name, fn)
        self._saved.clear()
        for mod in self._new or ():
            mod._new = object.__new__
        if self._generate is not None:
            Generator.generate = self._generate

    def _wrap_late(self, table):
        from .._device import _CACHE
        dev = next((d for d in _CACHE.values() if d.ops is table), None)
        self._wrap(table, dev)

    def _wrap(self, table, dev):
        if any(t is table for t, _, _ in self._saved):
            return
        for name, spec in OPS.items():
            fn = getattr(table, name, None)
            if fn is None or name in _UNRECORDED:
                continue
            self._saved.append((table, name, fn))
            setattr(table, name, self._recording(table, dev, name, spec, fn))

    def _recording(self, table, dev, name, spec, fn):
        rec = self
        kinds = spec.args
        has_out = "out" in spec.signature.parameters
        returns = spec.returns
        is_view = name in _VIEWS
        if name == "to_host":
            def read(buf):
                if rec.depth:
                    return fn(buf)
                return rec._read(table, dev, fn, buf)
            return read

        def recording(*args, out=None):
            if rec.depth:
                return fn(*args) if out is None else fn(*args, out=out)
            rec.depth += 1
            try:
                real = [_value(a) for a in args]
                result = fn(*real) if out is None else fn(*real, out=out)
            finally:
                rec.depth -= 1
            k = kinds + ("any",) * (len(args) - len(kinds))
            rargs = tuple(rec._arg(kind, a) for kind, a in zip(k, args))
            out_slot = None
            if out is not None and has_out:
                out_slot = rec.ref(out).slot
                if rec._root_external(out_slot):
                    rec.external_written = True
                results = (out_slot,)
            elif returns == "none":
                results = ()
                # assign/index_put/optimizer steps write their buffer arguments in place
                for a in rargs:
                    for r in (a if isinstance(a, tuple) else (a,)):
                        if type(r) is Ref and rec._root_external(r.slot):
                            rec.external_written = True
            elif returns == "bufs":
                results = tuple(rec._slot(r, "internal") for r in result)
            else:
                s = rec._slot(result, "internal")
                if is_view and rargs and type(rargs[0]) is Ref:
                    base = rargs[0].slot
                    rec.root[s] = rec.root.get(base, base)
                results = (s,)
            for s in results:
                rec.slots[s].device = dev
            for a in rargs:
                for r in (a if isinstance(a, tuple) else (a,)):
                    if type(r) is Ref and rec.slots[r.slot].device is None:
                        rec.slots[r.slot].device = dev
            rec.steps.append(Call(name, table, rargs, out_slot, results))
            return result
        return recording

    def _read(self, table, dev, fn, buf):
        value = fn(buf)
        where = _user_frame()
        reason = "Tensor value read on the host (.item(), .tolist(), bool(), print, .numpy())"
        if self.fullgraph:
            raise GraphBreak(f"{reason} at {where}")
        self.breaks.append((reason, where))
        if self.external_written:
            if self.unsafe is None:
                self.unsafe = (f"{reason} at {where}, after the function wrote state that "
                               f"outlives it: the rest cannot be guarded, it runs eagerly")
            return value
        slot = self.ref(buf).slot
        expected = value.copy() if hasattr(value, "copy") else value
        self.steps.append(HostStep("guard", _value_guard(fn, expected), (Ref(slot),), (),
                                   where))
        return value


def _value(a):
    """The value of a recorded argument now (a Dynamic's current value)."""
    t = type(a)
    if t is Dynamic:
        return a.value
    if t is dict:
        return {k: (v.value if type(v) is Dynamic else v) for k, v in a.items()}
    return a


class GuardMiss(Exception):
    """A value read on replay differs from the captured one: run the function eagerly."""


def _value_guard(read, expected):
    import numpy

    def guard(buf):
        if not numpy.array_equal(read(buf), expected):
            raise GuardMiss()
    return guard


def _recording_generate(rec, generate):
    def generating(gen, dev, method, shape, dtype, *args):
        if rec.depth:
            return generate(gen, dev, method, shape, dtype, *args)
        with _Quiet(rec):
            t = generate(gen, dev, method, shape, dtype, *args)
        rec.external_written = True       # the generator's state moved on
        s = rec._slot(t._data, "internal")
        rec.slots[s].device = dev

        def draw():
            return generate(gen, dev, method, shape, dtype, *args)._data
        rec.steps.append(HostStep("random", draw, (), (s,), f"{method}{tuple(shape)}"))
        return t
    return generating


def _user_frame() -> str:
    """'file:line' of the innermost frame outside plugrad (where the user's code read)."""
    frame = sys._getframe(2)
    while frame is not None and frame.f_globals.get("__name__", "").startswith("plugrad"):
        frame = frame.f_back
    if frame is None:
        return "<unknown>"
    return f"{frame.f_code.co_filename}:{frame.f_lineno} in {frame.f_code.co_name}"
