"""``plugrad.testing``: torch.testing's ``assert_close``, and cross-backend agreement checks.

:func:`compare_backends` runs one function -- a model's forward and backward, say -- on
several devices and reports, per output and per gradient, how far each device is from the
first; with ``trace=True`` it also names the first primitive whose result diverged beyond
tolerance, and where the frontend called it. Tracing wraps the compared devices' dispatch
tables only for the duration of the call; the normal per-op path is never wrapped.
"""
from __future__ import annotations

import copy
import difflib
import os
import sys
from dataclasses import dataclass, field

import numpy

from ._assert_close import assert_close

__all__ = ["assert_close", "compare_backends", "CompareReport"]

# (rtol, atol) per dtype: room for sums reassociated differently across backends
TOLERANCES = {"float16": (1e-2, 1e-3), "bfloat16": (5e-2, 1e-2), "float32": (1e-4, 1e-5),
              "float64": (1e-9, 1e-12)}
_UNTRACED = {"to_host", "strides", "device_count", "synchronize"}
_PKG_DIRS = None


@dataclass
class Difference:
    """How far one value on one device is from the reference device's."""
    device: str
    max_abs: float
    max_rel: float
    ok: bool
    problem: str = ""


@dataclass
class Divergence:
    """The first traced primitive whose result differs beyond tolerance."""
    device: str
    op: str
    call: int                 # position in the device's sequence of primitive calls
    ref_call: int
    max_abs: float
    max_rel: float
    problem: str
    where: str                # frontend function and user code line that issued the call

    def __str__(self):
        return (f"{self.device}: primitive #{self.call} '{self.op}' (reference #{self.ref_call}) "
                f"{self.problem or f'max abs {self.max_abs:.3g}, max rel {self.max_rel:.3g}'}"
                f"\n    called from {self.where}")


@dataclass
class CompareReport:
    """Per-value differences of each device from ``reference``; ``str()`` is a table."""
    reference: str
    devices: list
    rows: dict = field(default_factory=dict)        # name -> [Difference per device]
    divergences: list = field(default_factory=list)
    notes: list = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(d.ok for diffs in self.rows.values() for d in diffs)

    def max_abs(self, name: str, device: str | None = None) -> float:
        return max(d.max_abs for d in self.rows[name] if device in (None, d.device))

    def assert_close(self):
        """Raise AssertionError with the whole report when any value is out of tolerance."""
        if not self.ok:
            raise AssertionError(str(self))

    def __str__(self):
        width = max([len(n) for n in self.rows] + [10])
        head = "value".ljust(width) + "".join(f"  {d + ' max abs / max rel':>36}"
                                              for d in self.devices)
        lines = [f"compare_backends: reference device {self.reference}", head,
                 "-" * len(head)]
        for name, diffs in self.rows.items():
            cells = []
            for d in diffs:
                text = d.problem or f"{d.max_abs:.2e} / {d.max_rel:.2e}"
                cells.append(f"  {text + ('' if d.ok else '  FAIL'):>36}")
            lines.append(name.ljust(width) + "".join(cells))
        if self.divergences:
            lines.append("")
            lines += ["first divergent primitive " + str(d) for d in self.divergences]
        lines += [f"note: {n}" for n in self.notes]
        lines.append("")
        lines.append("all values agree within tolerance" if self.ok else
                     "some values differ beyond tolerance (FAIL)")
        return "\n".join(lines)


def _tol(dtype_name, rtol, atol):
    default = TOLERANCES.get(dtype_name, (0.0, 0.0))
    return (default[0] if rtol is None else rtol), (default[1] if atol is None else atol)


def _difference(device, got, want, rtol, atol) -> Difference:
    if got.shape != want.shape or got.dtype != want.dtype:
        return Difference(device, numpy.inf, numpy.inf, False,
                          f"{got.dtype}{list(got.shape)} vs {want.dtype}{list(want.shape)}")
    rtol, atol = _tol(want.dtype.name, rtol, atol)
    g, w = got.astype(numpy.float64), want.astype(numpy.float64)
    if g.size == 0:
        return Difference(device, 0.0, 0.0, True)
    same_nan = numpy.array_equal(numpy.isnan(g), numpy.isnan(w))
    finite = numpy.isfinite(g) & numpy.isfinite(w)
    diff = numpy.abs(g - w)[finite]
    rel = diff / numpy.maximum(numpy.abs(w[finite]), numpy.finfo(numpy.float64).tiny)
    max_abs = float(diff.max(initial=0.0))
    max_rel = float(rel.max(initial=0.0))
    with numpy.errstate(invalid="ignore"):
        close = (numpy.abs(g - w) <= atol + rtol * numpy.abs(w)) | (g == w) | \
            (numpy.isnan(g) & numpy.isnan(w))
    return Difference(device, max_abs, max_rel, bool(same_nan and close.all()),
                      "" if same_nan else "nan in different places")


# --------------------------------------------------------------------------- running fn
def _move(value, device):
    from ._tensor import Tensor
    if isinstance(value, Tensor):
        moved = value.detach().to(device)
        if moved is value.detach() or moved._data is value._data:
            moved = moved.clone()
        return moved.requires_grad_(value.requires_grad)
    if isinstance(value, (list, tuple)):
        return type(value)(_move(v, device) for v in value)
    return value


def _tensors(value, prefix):
    """(name, tensor) pairs found in a (nested) result: tensors, tuples, lists, dicts."""
    from ._tensor import Tensor
    if isinstance(value, Tensor):
        return [(prefix, value)]
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, (list, tuple)):
        items = enumerate(value)
    else:
        return []
    return [pair for k, v in items for pair in _tensors(v, f"{prefix}[{k}]")]


def _host(t):
    return numpy.array(t.detach().to("cpu").numpy(), copy=True)


def _run(fn, inputs, device, backward, seed, tracing):
    """Host copies of fn's outputs and gradients on ``device``; ``tracing(True/False)``
    brackets the calls worth tracing (fn and backward, not moving data around)."""
    import plugrad
    from .nn import Module
    plugrad.manual_seed(seed)           # random ops draw the same numbers on every device
    moved = [_move(x, device) for x in inputs]
    module = copy.deepcopy(fn).to(device) if isinstance(fn, Module) else None
    tracing(True)
    result = (module or fn)(*moved)
    tracing(False)
    outputs = _tensors(result, "output")
    values = {name: _host(t) for name, t in outputs}
    roots = [t for _, t in outputs if t.requires_grad]
    if backward and roots:
        rng = numpy.random.default_rng(seed)
        grads = [plugrad.tensor(rng.uniform(-1, 1, tuple(t.shape)), dtype=t.dtype,
                                device=t.device) for t in roots]
        tracing(True)
        plugrad.autograd.backward(roots, grads)
        tracing(False)
        for name, t in _tensors(moved, "input"):
            if t.grad is not None:
                values[f"grad {name}"] = _host(t.grad)
        if module is not None:
            for name, p in module.named_parameters():
                if p.grad is not None:
                    values[f"grad {name}"] = _host(p.grad)
    return values


# ------------------------------------------------------------------------------ tracing
def _package_dirs():
    global _PKG_DIRS
    if _PKG_DIRS is None:
        import plugrad
        import plugrad.backends
        import plugrad.plugins
        _PKG_DIRS = tuple(os.path.dirname(m.__file__) + os.sep
                          for m in (plugrad, plugrad.plugins, plugrad.backends))
    return _PKG_DIRS


def _plumbing(filename: str) -> bool:
    """Frames a user would not recognise: dispatch, backends, ops, autograd, this module."""
    corelib, plugins, backends = _package_dirs()
    if filename.startswith((plugins, backends)):
        return True
    if not filename.startswith(corelib):
        return False
    rest = filename[len(corelib):]
    return rest.startswith(("ops" + os.sep, "autograd" + os.sep)) or \
        os.path.basename(rest).startswith("_") or rest == "testing.py"


def _call_site() -> str:
    """'<frontend op> (file:line), from <first non-plumbing frame>' for the current call."""
    ops_dir = os.path.join(_package_dirs()[0], "ops") + os.sep
    frame = sys._getframe(2)
    frontend = None
    while frame is not None:
        filename = frame.f_code.co_filename
        if frontend is None and filename.startswith(ops_dir):
            frontend = f"plugrad/ops/{os.path.basename(filename)}:{frame.f_lineno}"
        if not _plumbing(filename):
            return (f"{frontend or 'the frontend'}, from {filename}:{frame.f_lineno} in "
                    f"{frame.f_code.co_name}")
        frame = frame.f_back
    return frontend or "?"


class _Tracer:
    """Wraps the ops of some dispatch tables; logs (op, host copies of results, call site)
    for the table that is currently being traced."""

    def __init__(self, tables):
        from .plugins.contract import OPS
        self.tables, self.active, self.log = tables, None, []
        self.saved = []
        for table in tables:
            for name, spec in OPS.items():
                fn = getattr(table, name, None)
                if fn is None or name in _UNTRACED:
                    continue
                self.saved.append((table, name, fn))
                setattr(table, name, self._wrap(table, name, spec, fn))

    def _wrap(self, table, name, spec, fn):
        to_host = table.to_host

        def snap(value):
            if isinstance(value, (list, tuple)):
                return tuple(x for v in value for x in snap(v))
            if value is None or isinstance(value, (bool, int, float)):
                return ()
            return (numpy.array(to_host(value), copy=True),)

        def traced(*args, **kwargs):
            result = fn(*args, **kwargs)
            if self.active is table:
                produced = result if spec.returns in ("buf", "bufs") else args[0]
                self.log.append((name, snap(produced), _call_site()))
            return result
        return traced

    def restore(self):
        for table, name, fn in self.saved:
            setattr(table, name, fn)


def _first_divergence(device, ref_log, log, rtol, atol):
    matcher = difflib.SequenceMatcher(None, [e[0] for e in ref_log], [e[0] for e in log],
                                      autojunk=False)
    for block in matcher.get_matching_blocks():
        for k in range(block.size):
            i, j = block.a + k, block.b + k
            (op, want, _), (_, got, where) = ref_log[i], log[j]
            for g, w in zip(got, want):
                d = _difference(device, g, w, rtol, atol)
                if not d.ok:
                    return Divergence(device, op, j, i, d.max_abs, d.max_rel, d.problem, where)
    return None


def compare_backends(fn, *inputs, devices=None, trace=False, rtol=None, atol=None,
                     backward=True, seed=0) -> CompareReport:
    """Run ``fn(*inputs)`` on each device and compare outputs and gradients with the first.

    Args:
        fn: a function of tensors, or an ``nn.Module`` (deep-copied onto each device; its
            parameter gradients are compared too).
        inputs: tensors (moved to each device, ``requires_grad`` kept) or other values.
        devices: device strings; the first is the reference. Default: cpu, then index 0 of
            every other available backend.
        trace: also record every primitive call and report, per device, the first one whose
            result differs from the reference's beyond tolerance.
        rtol, atol: override the per-dtype tolerances (:data:`TOLERANCES`).
        backward: backpropagate seeded random cotangents from every output that requires
            grad, and compare the gradients of inputs (and module parameters).
        seed: seeds plugrad's generator before each run and the cotangents.

    Returns:
        a :class:`CompareReport`; ``print`` it, test ``.ok`` or call ``.assert_close()``.
    """
    from ._device import tensor_device
    from .plugins import get_registry
    if devices is None:
        devices = ["cpu"] + [e.name for e in get_registry().entries()
                             if e.name != "cpu" and e.availability() is True
                             and e.device_count() > 0]
    resolved = [tensor_device(d) for d in devices]
    names = [str(d) for d in resolved]
    report = CompareReport(names[0], names[1:])
    tracer = _Tracer(list({id(d.ops): d.ops for d in resolved}.values())) if trace else None
    runs, logs = [], []
    try:
        for dev in resolved:
            def tracing(on, table=dev.ops):
                if tracer is not None:
                    tracer.active = table if on else None
            if tracer is not None:
                tracer.log = []
            runs.append(_run(fn, inputs, str(dev), backward, seed, tracing))
            logs.append(tracer.log if tracer is not None else None)
    finally:
        if tracer is not None:
            tracer.restore()
    reference = runs[0]
    for name, want in reference.items():
        report.rows[name] = [
            _difference(dev, run[name], want, rtol, atol) if name in run else
            Difference(dev, numpy.inf, numpy.inf, False, "missing on this device")
            for dev, run in zip(names[1:], runs[1:])]
    if trace:
        for dev, log in zip(names[1:], logs[1:]):
            found = _first_divergence(dev, logs[0], log, rtol, atol)
            if found is not None:
                report.divergences.append(found)
            elif len(log) != len(logs[0]) or any(a[0] != b[0] for a, b in zip(log, logs[0])):
                report.notes.append(f"{dev} issued a different sequence of primitives "
                                    f"({len(log)} vs {len(logs[0])} calls: other kernels); "
                                    "the matching calls agree")
    return report
