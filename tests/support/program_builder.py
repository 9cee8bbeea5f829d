"""Captured programs built by hand (``plugrad.compile.program``), for the fusion tests and the
conformance kit's tests: each call runs eagerly while it is recorded, so the builder knows
every slot's shape and dtype exactly as a capture would."""
from __future__ import annotations

import numpy as np

import plugrad
from plugrad.compile.program import Call, Dynamic, HostStep, Program, Ref, Slot, run
from plugrad.plugins import get_registry


class ProgramBuilder:
    """``b = ProgramBuilder('opencl')``; ``x = b.input(array)``; ``w = b.external(array)``;
    ``y = b.call('mul', x, 2.0)`` (slot numbers stand for Refs); ``b.program(outputs)``."""

    def __init__(self, device):
        self.device = device
        self.table = get_registry().table(device)
        self.be = self.table.impl
        self.slots, self.steps, self.constants, self.inputs = [], [], {}, []
        self.env = []                 # the values at capture time (what eager computed)
        self.host_inputs = {}

    def _slot(self, kind, buf):
        self.slots.append(Slot(len(self.slots), kind, tuple(buf.shape), np.dtype(buf.dtype).name,
                               plugrad.device(self.device)))
        self.env.append(buf)
        return len(self.slots) - 1

    def input(self, array):
        s = self._slot("input", self.be.from_host(np.asarray(array)))
        self.inputs.append(s)
        self.host_inputs[s] = np.asarray(array)
        return s

    def external(self, array):
        s = self._slot("external", self.be.from_host(np.asarray(array)))
        self.constants[s] = self.env[s]
        return s

    def call(self, op, *args, out=None):
        """Record ``op(*args, out=)``; int arguments are slots, floats/bools scalars
        (use ``scalar(3)`` for an int scalar)."""
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
        self.steps.append(HostStep("check", fn, tuple(Ref(s) for s in slots), ()))

    def program(self, outputs):
        return Program(list(self.steps), list(self.slots), tuple(self.inputs),
                       dict(self.constants), tuple(outputs), ())


class Scalar:
    """An int scalar operand (plain ints mean slots in :meth:`ProgramBuilder.call`)."""

    def __init__(self, value):
        self.value = value


def replay(builder, program, externals=None):
    """Run ``program`` on fresh copies of the builder's inputs and externals; returns
    (host outputs, host externals after the run, env)."""
    be = builder.be
    env = [None] * len(program.slots)
    for s, a in builder.host_inputs.items():
        env[s] = be.from_host(a)
    consts = {}
    for s, buf in program.constants.items():
        consts[s] = be.from_host(be.to_host(buf)) if externals is None else externals[s]
    for s, buf in consts.items():
        env[s] = buf
    rebound = Program(program.steps, program.slots, program.inputs, consts, program.outputs,
                      program.writeback)
    run(rebound, env)
    return ([be.to_host(env[o]) for o in program.outputs],
            {s: be.to_host(b) for s, b in consts.items()}, env)
