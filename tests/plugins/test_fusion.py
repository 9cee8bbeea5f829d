"""The fusion pass (plugrad.plugins.fusion) and each backend's ``optimize_program`` on
programs built by hand: what is fused, what is kept, and that replaying the optimized program
gives bitwise the unoptimized program's results (every built-in backend evaluates each node
with its eager op)."""
from __future__ import annotations

import numpy as np
import pytest
from program_builder import ProgramBuilder, Scalar, replay

from plugrad.compile.program import Call, Dynamic, HostStep
from plugrad.plugins import contract
from plugrad.plugins.fusion import Chain, Node, fuse, plan, steps_of

RNG = np.random.default_rng(7)


@pytest.fixture(autouse=True)
def _plan_small_chains_on_cpu(monkeypatch):
    """cpu plans chains from 65536 elements on (smaller ones replay faster op by op); these
    programs are small, so every chain is planned here."""
    from plugrad.backends.xp import fused
    monkeypatch.setattr(fused, "MIN_ELEMENTS", 0)


def _f32(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


def _optimize(b, program):
    hook = contract.capability(b.be, "optimize_program")
    assert hook is not None
    return hook(program)


def _fused(program):
    return [s for s in program.steps if type(s) is HostStep and s.kind == "fused"]


def _same(b, program, optimized):
    out1, ext1, _ = replay(b, program)
    out2, ext2, env = replay(b, optimized)
    for u, v in zip(out1 + list(ext1.values()), out2 + list(ext2.values())):
        assert u.dtype == v.dtype and u.shape == v.shape
        np.testing.assert_array_equal(u, v)
    return env


def _gelu(b, x):
    a = b.call("mul", x, x)
    a = b.call("mul", a, x)
    a = b.call("mul", a, 0.044715)
    a = b.call("add", x, a)
    a = b.call("mul", a, 0.7978846)
    t = b.call("tanh", a)
    a = b.call("add", t, 1.0)
    a = b.call("mul", x, a)
    return t, b.call("mul", a, 0.5)


def test_chain_becomes_one_step_and_drops_dead_intermediates(device):
    b = ProgramBuilder(device)
    x = b.input(_f32(33, 70))
    t, y = _gelu(b, x)
    p = b.program((y,))
    opt = _optimize(b, p)
    assert len(opt.steps) == 1 and len(_fused(opt)) == 1
    assert _fused(opt)[0].results == (y,)            # tanh's value is not stored
    env = _same(b, p, opt)
    assert env[t] is None
    assert len(p.steps) == 9                          # the argument is not mutated


def test_intermediate_read_later_is_stored(device):
    b = ProgramBuilder(device)
    x, w = b.input(_f32(16, 64)), b.external(_f32(64, 8))
    t, y = _gelu(b, x)
    h = b.call("matmul", y, w)
    r = b.call("where", b.call("gt", h, 0.0), h, 0.0)
    z = b.call("mul", t, 2.0)                          # t read after the matmul
    p = b.program((r, z))
    opt = _optimize(b, p)
    fused = _fused(opt)
    assert [f.results for f in fused] == [(t, y), (r,)]
    _same(b, p, opt)


def test_a_reader_outside_the_group_seals_it(device):
    b = ProgramBuilder(device)
    x = b.input(_f32(8, 8))
    a = b.call("exp", x)
    c = b.call("mul", a, 3.0)
    s = b.call("sum", c, (1,), True)                  # reads c: the chain ends before it
    d = b.call("add", c, s)
    e = b.call("sqrt", b.call("abs", d))
    p = b.program((e,))
    opt = _optimize(b, p)
    assert [type(s).__name__ for s in opt.steps] == ["HostStep", "Call", "HostStep"]
    _same(b, p, opt)


def test_in_place_updates_of_externals(device):
    b = ProgramBuilder(device)
    w, m, g = b.external(_f32(40, 30)), b.external(_f32(40, 30)), b.external(_f32(40, 30))
    lr = Dynamic(lambda: 0.01, 0.01)
    b.call("mul", m, 0.9, out=m)
    q = b.call("mul", g, 0.1)
    b.call("add", m, q, out=m)
    s = b.call("mul", m, lr)
    b.call("sub", w, s, out=w)
    p = b.program(())
    opt = _optimize(b, p)
    assert len(opt.steps) == 1 and set(opt.steps[0].results) == {m, w}
    _same(b, p, opt)


def test_write_through_another_view_is_not_fused(device):
    b = ProgramBuilder(device)
    w = b.external(_f32(6, 6))
    a = b.call("mul", w, 2.0)
    wt = b.call("permute", w, (1, 0))
    b.call("add", a, 1.0, out=wt)    # writes w transposed while the chain read w: a barrier
    p = b.program((a,))
    opt = _optimize(b, p)
    assert not _fused(opt)
    _same(b, p, opt)


def test_host_step_reads_are_materialised(device):
    b = ProgramBuilder(device)
    x = b.input(_f32(5, 7))
    a = b.call("exp", x)
    seen = []
    b.host(lambda buf: seen.append(buf.shape), a)
    c = b.call("mul", a, 2.0)
    d = b.call("neg", c)
    p = b.program((d,))
    opt = _optimize(b, p)
    assert [type(s).__name__ for s in opt.steps] == ["Call", "HostStep", "HostStep"]
    _same(b, p, opt)
    assert seen[-1] == (5, 7)


def test_broadcast_strided_bool_cast_and_ints(device):
    b = ProgramBuilder(device)
    x = b.input(_f32(12, 20))
    mean, rstd = b.input(_f32(12, 1)), b.input(np.abs(_f32(12, 1)))
    w, bias = b.external(_f32(20)), b.external(_f32(20))
    xt = b.call("permute", b.input(_f32(20, 12)), (1, 0))
    y = b.call("add", b.call("mul", b.call("mul", b.call("sub", x, mean), rstd), w), bias)
    y = b.call("mul", y, xt)
    mask = b.call("logical_and", b.call("gt", y, 0.0), b.call("lt", x, 0.5))
    k = b.call("cast", b.call("where", mask, y, -1.0), "int32")
    k2 = b.call("maximum", b.call("mul", k, k), Scalar(3))
    p = b.program((k2, mask))
    opt = _optimize(b, p)
    assert len(_fused(opt)) == 1
    _same(b, p, opt)


def test_half_precision_never_fuses(device):
    b = ProgramBuilder(device)
    if not b.be.supports("add", "float16"):
        pytest.skip("no float16 here")
    x = b.input(_f32(4, 4).astype(np.float16))
    y = b.call("mul", b.call("add", x, 1.0), 3.0)
    p = b.program((y,))
    assert _optimize(b, p) is p


def test_independent_chains_met_by_one_op_merge(device):
    b = ProgramBuilder(device)
    x, y = b.input(_f32(9, 3)), b.input(_f32(9, 3))
    a = b.call("exp", x)
    c = b.call("sin", y)
    d = b.call("add", a, c)
    p = b.program((d,))
    opt = _optimize(b, p)
    assert len(opt.steps) == 1
    _same(b, p, opt)


def test_plan_is_backend_neutral():
    """The planner sees Steps only: the same chain whatever the backend's buffers are."""
    b = ProgramBuilder("cpu")
    x = b.input(_f32(3, 3))
    _, y = _gelu(b, x)
    p = b.program((y,))
    steps, storage = steps_of(p)
    (group,) = plan(steps, storage, set(p.live_out()))
    assert group.members == list(range(9)) and group.outputs == (y,)
    chain = group.chain
    assert isinstance(chain, Chain) and chain.nodes[5] == Node("tanh", (-5,), "float32",
                                                               "float32")
    assert chain.describe().startswith("t0=mul(in0, in0):float32; t1=mul(t0, in0)")
    assert hash(chain) == hash(plan(*steps_of(p), set(p.live_out()))[0].chain)


def test_fuse_without_groups_returns_the_program():
    b = ProgramBuilder("cpu")
    x = b.input(_f32(3, 3))
    y = b.call("exp", x)
    p = b.program((y,))
    assert fuse(p, lambda chain: None) is p
    assert all(type(s) is Call for s in p.steps)


def test_hook_is_a_declared_capability():
    spec = contract.CAPABILITIES["optimize_program"]
    assert "program" in spec.signature.parameters

    class Wrong:
        def optimize_program(self):
            return None
    assert any("optimize_program" in line for line in contract.signature_problems(Wrong()))


def test_conformance_programs_pass_on_every_backend(device):
    from plugrad.plugins import get_registry
    from plugrad.plugins.conformance.programs import program_checks
    results = program_checks(get_registry().table(device))
    assert [r.status for r in results] == ["pass"] * 3, [(r.name, r.detail) for r in results]
    assert all("bitwise" in r.detail for r in results)


class _Table:
    """The cpu table with another backend object behind ``impl`` (for the hook)."""

    def __init__(self, impl):
        from plugrad.plugins import get_registry
        self._table = get_registry().table("cpu")
        self.impl = impl

    def __getattr__(self, name):
        return getattr(self._table, name)


def test_conformance_catches_a_wrong_hook_and_skips_a_missing_one():
    from plugrad.plugins import get_registry
    from plugrad.plugins.conformance.programs import program_checks
    from plugrad.plugins.fusion import fuse

    cpu = get_registry().table("cpu").impl

    class OffByOne:
        def optimize_program(self, program):
            def make(chain):
                def kernel(operands, outs, shape):
                    return [cpu.add(cpu.full(shape, 1.0, "float32"), 0.0) for _ in outs]
                return kernel
            return fuse(program, make)

    class Mutating:
        def optimize_program(self, program):
            program.steps.pop()
            return program

    assert {r.status for r in program_checks(_Table(object()))} == {"skip"}
    assert "fail" in {r.status for r in program_checks(_Table(OffByOne()))}
    (r, *_) = program_checks(_Table(Mutating()))
    assert r.status == "fail" and "changed the program" in r.detail


def test_repeated_calls_are_merged_only_when_nothing_changed_between(device):
    from plugrad.plugins.fusion import merge_repeated_calls
    b = ProgramBuilder(device)
    x, w = b.input(_f32(6, 8)), b.external(_f32(6, 8))
    m1 = b.call("div", b.call("sum", x, (1,), True), 8.0)
    m2 = b.call("div", b.call("sum", x, (1,), True), 8.0)      # layer_norm's second mean
    z1, z2 = b.call("mul", x, 0.0), b.call("mul", x, -0.0)      # not the same call
    s1 = b.call("sum", w, (0,), False)
    b.call("mul", w, 2.0, out=w)                                # w changes in between
    s2 = b.call("sum", w, (0,), False)
    e1 = b.call("exp", x)
    e2 = b.call("exp", x)
    b.call("add", e2, 1.0, out=e2)                              # e2 is written later
    p = b.program((m1, m2, z1, z2, s1, s2, e1, e2))
    merged = merge_repeated_calls(p)
    assert len(merged.steps) == len(p.steps) - 2
    assert merged.outputs[:2] == (m1, m1) and merged.outputs[2:4] == (z1, z2)
    assert merged.outputs[4:] == (s1, s2, e1, e2)
    _same(b, p, merged)
    _same(b, p, _optimize(b, p))


def test_compiled_training_step_is_fused_on_every_backend_it_uses(device):
    """An Adam step on an accelerator also runs cpu calls (the step counters): each backend's
    hook rewrites its own calls, and the losses stay bitwise eager's."""
    import plugrad

    def run(compiled):
        plugrad.manual_seed(0)
        model = plugrad.nn.Sequential(plugrad.nn.Linear(8, 16), plugrad.nn.GELU(),
                                      plugrad.nn.Linear(16, 3)).to(device)
        opt = plugrad.optim.Adam(model.parameters(), lr=1e-2)
        x = plugrad.randn(5, 8).to(device)

        def step():
            opt.zero_grad()
            loss = model(x).square().mean()
            loss.backward()
            opt.step()
            return loss
        fn = plugrad.compile(step) if compiled else step
        return [float(fn().item()) for _ in range(5)], fn
    eager, _ = run(False)
    losses, fn = run(True)
    assert losses == eager
    programs = [e.program for es in fn._plugrad_compiled.entries.values() for e in es
                if e.program is not None]
    assert programs and all(any(type(s) is HostStep and s.kind == "fused" for s in p.steps)
                            for p in programs)


def test_cpu_leaves_small_chains_to_the_plain_replay(monkeypatch):
    from plugrad.backends.xp import fused
    monkeypatch.setattr(fused, "MIN_ELEMENTS", 1 << 16)
    for shape, expect in (((8, 8), 0), ((256, 256), 1)):
        b = ProgramBuilder("cpu")
        x = b.input(_f32(*shape))
        y = b.call("mul", b.call("exp", x), 2.0)
        p = b.program((y,))
        assert len(_fused(_optimize(b, p))) == expect
