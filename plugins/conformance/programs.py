"""The kit's compiled-program phase: a backend's ``optimize_program`` hook (the contract's
fusion capability) must return a program whose replay gives the unoptimized program's
results -- every output and every buffer it updates in place.

Programs are built here the way ``plugrad.compile`` captures them: each backend call runs
eagerly while it is recorded (:class:`ProgramBuilder`), so every slot has the shape and dtype
the device really produced. Both programs then replay from identical copies of the inputs and
parameters through the reference interpreter (``plugrad.compile.program.run``), which runs
whatever steps the hook put in. A backend without the hook is reported as skipped: capture and
replay need nothing from it.
"""
from __future__ import annotations

import numpy as np

from .frontend import FrontendResult

RTOL, ATOL = 1e-5, 1e-6
"""A fused program may differ from the unoptimized one by a few ulps (float32)."""


class Scalar:
    """An int scalar operand (plain ints are slots in :meth:`ProgramBuilder.call`)."""

    def __init__(self, value):
        self.value = value


class ProgramBuilder:
    """``b = ProgramBuilder(table)``; ``x = b.input(array)``; ``w = b.external(array)``;
    ``y = b.call('mul', x, 2.0)`` (an int argument is a slot, ``Scalar(3)`` an int scalar,
    ``Dynamic`` a per-replay value); ``b.program(outputs)``."""

    def __init__(self, table):
        self.table = table
        self.be = table.impl
        self.slots, self.steps, self.constants, self.inputs = [], [], {}, []
        self.env = []                 # each slot's value at capture (what eager computed)
        self.host_inputs = {}

    def _slot(self, kind, buf):
        import plugrad
        from plugrad.compile.program import Slot
        t = self.table
        device = plugrad.device(t.backend_name if t.backend_name == "cpu" else
                                f"{t.backend_name}:{t.device_index}")
        self.slots.append(Slot(len(self.slots), kind, tuple(buf.shape),
                               np.dtype(buf.dtype).name, device))
        self.env.append(buf)
        return len(self.slots) - 1

    def input(self, array):
        s = self._slot("input", self.table.from_host(np.asarray(array)))
        self.inputs.append(s)
        self.host_inputs[s] = np.asarray(array)
        return s

    def external(self, array):
        s = self._slot("external", self.table.from_host(np.asarray(array)))
        self.constants[s] = self.env[s]
        return s

    def call(self, op, *args, out=None):
        """Run and record ``op(*args, out=)``; returns the result's slot."""
        from plugrad.compile.program import Call, Dynamic, Ref
        ir = tuple(Ref(a) if type(a) is int else (a.value if type(a) is Scalar else a)
                   for a in args)
        values = [self.env[a.slot] if type(a) is Ref else
                  (a.fn() if type(a) is Dynamic else a) for a in ir]
        fn = getattr(self.table, op)
        if out is not None:
            fn(*values, out=self.env[out])
            self.steps.append(Call(op, self.table, ir, out, (out,)))
            return out
        result = fn(*values)
        if result is None:
            self.steps.append(Call(op, self.table, ir, None, ()))
            return None
        s = self._slot("internal", result)
        self.steps.append(Call(op, self.table, ir, None, (s,)))
        return s

    def host(self, fn, *slots):
        """A host step reading ``slots`` (a check: returns nothing)."""
        from plugrad.compile.program import HostStep, Ref
        self.steps.append(HostStep("check", fn, tuple(Ref(s) for s in slots), ()))

    def program(self, outputs):
        from plugrad.compile.program import Program
        return Program(list(self.steps), list(self.slots), tuple(self.inputs),
                       dict(self.constants), tuple(outputs), ())


def replay(builder, program):
    """Run ``program`` on fresh copies of the builder's inputs and externals: (host outputs,
    {external slot: host value after the run}, env)."""
    from plugrad.compile.program import Program, run
    t = builder.table
    env = [None] * len(program.slots)
    for s, a in builder.host_inputs.items():
        env[s] = t.from_host(a)
    consts = {s: t.from_host(t.to_host(buf)) for s, buf in program.constants.items()}
    for s, buf in consts.items():
        env[s] = buf
    run(Program(program.steps, program.slots, program.inputs, consts, program.outputs,
                 program.writeback), env)
    return ([t.to_host(env[o]) for o in program.outputs],
            {s: t.to_host(b) for s, b in consts.items()}, env)


# ------------------------------------------------------------------------ programs
def _rng(seed):
    return np.random.default_rng(seed)


def gelu_chain(b):
    """tanh-GELU: nine elementwise calls, one intermediate (tanh) read after a matmul."""
    x, w = b.input(_rng(1).standard_normal((24, 40)).astype("float32")), \
        b.external(_rng(2).standard_normal((40, 8)).astype("float32"))
    a = b.call("mul", x, x)
    a = b.call("mul", b.call("mul", a, x), 0.044715)
    a = b.call("mul", b.call("add", x, a), 0.7978846)
    t = b.call("tanh", a)
    y = b.call("mul", b.call("mul", x, b.call("add", t, 1.0)), 0.5)
    h = b.call("matmul", y, w)
    r = b.call("where", b.call("gt", h, 0.0), h, 0.0)
    return b.program((r, b.call("mul", t, 2.0)))


def layernorm_affine(b):
    """(x - mean) * rstd * w + b with broadcast rows and columns, a transposed operand, a
    bool mask and casts."""
    x = b.input(_rng(3).standard_normal((16, 12)).astype("float32"))
    xt = b.call("permute", b.input(_rng(4).standard_normal((12, 16)).astype("float32")),
                (1, 0))
    mean = b.call("sum", x, (1,), True)
    mean = b.call("div", mean, 12.0)
    w, bias = (b.external(_rng(s).standard_normal(12).astype("float32")) for s in (5, 6))
    y = b.call("add", b.call("mul", b.call("sub", x, mean), w), bias)
    y = b.call("mul", y, xt)
    k = b.call("cast", b.call("where", b.call("gt", y, 0.0), y, -1.0), "int32")
    return b.program((b.call("maximum", b.call("mul", k, k), Scalar(3)), y))


def adam_like(b):
    """In-place updates of parameters and state, a per-replay learning rate, a host step
    reading an intermediate."""
    from plugrad.compile.program import Dynamic
    p, m, v, g = (b.external(_rng(s).standard_normal((30, 20)).astype("float32"))
                  for s in (7, 8, 9, 10))
    b.call("mul", m, 0.9, out=m)
    b.call("add", m, b.call("mul", g, 0.1), out=m)
    b.call("mul", v, 0.999, out=v)
    g2 = b.call("mul", g, g)
    b.host(lambda buf: None, g2)
    b.call("add", v, b.call("mul", g2, 0.001), out=v)
    step = b.call("div", m, b.call("add", b.call("sqrt", b.call("abs", v)), 1e-8))
    b.call("sub", p, b.call("mul", step, Dynamic(lambda: 0.01, 0.01)), out=p)
    return b.program(())


PROGRAMS = {"gelu chain": gelu_chain, "layernorm affine": layernorm_affine,
            "adam-like update": adam_like}


def program_checks(table, names=None) -> list:
    """One result per program of :data:`PROGRAMS`: the hook's program replays to the same
    outputs and in-place updates as the captured one (pass), or how it differs."""
    from ..contract import capability
    hook = capability(table.impl, "optimize_program")
    out = []
    for name, build in PROGRAMS.items():
        if names is not None and name not in names:
            continue
        label = f"program {name}"
        if hook is None:
            out.append(FrontendResult(label, "skip", "no optimize_program: replayed as "
                                                     "captured"))
            continue
        try:
            b = ProgramBuilder(table)
            program = build(b)
            before = list(program.steps)
            optimized = hook(program)
            if program.steps != before:
                out.append(FrontendResult(label, "fail", "optimize_program changed the "
                                                         "program it was given"))
                continue
            want = replay(b, program)
            got = replay(b, optimized)
        except Exception as exc:
            out.append(FrontendResult(label, "error", f"{type(exc).__name__}: {exc}"))
            continue
        out.append(_compare(label, want, got, len(program.steps), len(optimized.steps)))
    return out


def _compare(label, want, got, n_before, n_after):
    pairs = list(zip(want[0], got[0])) + [(want[1][s], got[1][s]) for s in want[1]]
    worst, exact = 0.0, True
    for w, g in pairs:
        if w.shape != g.shape or w.dtype != g.dtype:
            return FrontendResult(label, "fail", f"shape/dtype {g.shape} {g.dtype}, expected "
                                                 f"{w.shape} {w.dtype}", float("inf"))
        if not np.array_equal(w, g, equal_nan=True):
            exact = False
            if not np.allclose(g, w, rtol=RTOL, atol=ATOL, equal_nan=True):
                err = float(np.abs(g.astype("float64") - w.astype("float64")).max())
                return FrontendResult(label, "fail", f"max abs error {err:.3g}", err)
            worst = max(worst, float(np.abs(g.astype("float64") - w.astype("float64")).max()))
    how = "bitwise" if exact else f"within rtol {RTOL} (max abs {worst:.2g})"
    return FrontendResult(label, "pass", f"{n_before} steps -> {n_after}, {how}", worst)
