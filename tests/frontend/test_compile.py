"""plugrad.compile: captured training steps replay bitwise equal to eager; guards, graph
breaks, random streams and explain behave as torch.compile's (real torch as the oracle)."""
import warnings

import numpy as np
import pytest
import torch

import plugrad
from plugrad._bench_models import make_step


def _mlp_step(lib, device, sched=False):
    lib.manual_seed(0)
    nn = lib.nn
    m = nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 4)).to(device)
    opt = lib.optim.Adam(m.parameters(), lr=1e-2)
    sch = lib.optim.lr_scheduler.StepLR(opt, 2, gamma=0.5) if sched else None
    gen = lib.Generator().manual_seed(1)
    x = lib.randn(8, 16, generator=gen).to(device)
    y = lib.randint(0, 4, (8,), generator=gen).to(device)

    def step(x, y):
        opt.zero_grad()
        loss = lib.nn.functional.cross_entropy(m(x), y)
        loss.backward()
        lib.nn.utils.clip_grad_norm_(m.parameters(), 0.5)
        opt.step()
        return loss
    return m, step, x, y, sch


def _entries(fn):
    return [e for es in fn._plugrad_compiled.entries.values() for e in es]


@pytest.mark.parametrize("sched", [False, True])
def test_mlp_adam_step_bitwise_equal_to_eager(device, sched):
    m1, eager, x, y, s1 = _mlp_step(plugrad, device, sched)
    m2, step, _, _, s2 = _mlp_step(plugrad, device, sched)
    compiled = plugrad.compile(step)
    for _ in range(8):
        assert eager(x, y).item() == compiled(x, y).item()
        if sched:           # lr changes between calls reach the replay (no recapture)
            s1.step()
            s2.step()
    for p, q in zip(m1.parameters(), m2.parameters()):
        np.testing.assert_array_equal(p.detach().cpu().numpy(), q.detach().cpu().numpy())
        np.testing.assert_array_equal(p.grad.cpu().numpy(), q.grad.cpu().numpy())
    assert [e.state for e in _entries(compiled)] == ["warm", "program"]


def test_a_scheduler_stepping_inside_makes_the_step_eager():  # noqa: D103
    m1, eager, x, y, s1 = _mlp_step(plugrad, "cpu", True)
    m2, step, _, _, s2 = _mlp_step(plugrad, "cpu", True)

    def inside(x, y):
        loss = step(x, y)
        s2.step()
        return loss
    compiled = plugrad.compile(inside)
    for _ in range(6):
        assert eager(x, y).item() == compiled(x, y).item()
        s1.step()
    assert "optimizer settings" in _entries(compiled)[-1].reason


@pytest.mark.parametrize("name", ["gpt", "lstm", "cnn"])
def test_bench_model_steps_bitwise_equal_to_eager(name):
    eager = make_step(plugrad, "cpu", name)
    compiled = plugrad.compile(make_step(plugrad, "cpu", name))
    curve = [(eager().item(), compiled().item()) for _ in range(20)]
    assert all(a == b for a, b in curve), curve
    assert "program" in [e.state for e in _entries(compiled)]


@pytest.mark.parametrize("name", ["gpt", "lstm"])
def test_bench_model_steps_on_opencl_fused(name):
    from conftest import _required, availability
    reason = availability("opencl")
    if reason is not True:
        (pytest.fail if "opencl" in _required() else pytest.skip)(f"opencl: {reason}")
    eager = make_step(plugrad, "opencl", name)
    compiled = plugrad.compile(make_step(plugrad, "opencl", name))
    curve = [(eager().item(), compiled().item()) for _ in range(6)]
    np.testing.assert_allclose(*zip(*curve), rtol=1e-5)    # fused kernels: a few ulps
    (e,) = [e for e in _entries(compiled) if e.state == "program"]
    assert any(getattr(s, "kind", "") == "fused" for s in e.program.steps)


def test_cnn_step_on_every_device(device):
    eager = make_step(plugrad, device, "cnn")
    compiled = plugrad.compile(make_step(plugrad, device, "cnn"))
    for _ in range(6):
        assert eager().item() == compiled().item()


def test_new_input_values_are_used_on_replay():
    f = plugrad.compile(lambda a, b: (a * b + 1).sum(dim=0))
    for k in range(5):
        a, b = plugrad.full((3, 2), float(k)), plugrad.arange(6.0).reshape(3, 2)
        np.testing.assert_array_equal(f(a, b).numpy(), (a * b + 1).sum(dim=0).numpy())


def test_outputs_are_fresh_tensors_per_call():
    f = plugrad.compile(lambda a: a * 2)
    outs = [f(plugrad.full((2,), float(k))) for k in range(4)]
    assert [o.tolist() for o in outs] == [[0.0, 0.0], [2.0, 2.0], [4.0, 4.0], [6.0, 6.0]]


def test_random_ops_draw_the_eager_stream():
    def f(x):
        return plugrad.nn.functional.dropout(x, 0.5) + plugrad.randn(4)
    c = plugrad.compile(f)
    plugrad.manual_seed(3)
    want = [f(plugrad.ones(4)).tolist() for _ in range(5)]
    plugrad.manual_seed(3)
    got = [c(plugrad.ones(4)).tolist() for _ in range(5)]
    assert got == want
    torch.manual_seed(3)
    assert want[0] == (torch.nn.functional.dropout(torch.ones(4), 0.5) + torch.randn(4)).tolist()


# ----------------------------------------------------------------------------- guards
def test_shape_dtype_and_grad_mode_changes_recapture_with_torch():
    calls = []

    def f(x):
        calls.append(1)
        return x * 2
    c = plugrad.compile(f)
    for x in [plugrad.ones(3)] * 3 + [plugrad.ones(4)] * 3 + [plugrad.ones(3, dtype=plugrad.float64)] * 3:
        c(x)
    with plugrad.no_grad():
        for _ in range(3):
            c(plugrad.ones(3))
    # per guard key: one eager warm-up call and one capture, then replays (no Python)
    assert len(calls) == 8
    assert len(_entries(c)) == 4


def test_training_mode_is_guarded():
    plugrad.manual_seed(0)
    m = plugrad.nn.Sequential(plugrad.nn.Linear(4, 4), plugrad.nn.Dropout(0.5))
    c = plugrad.compile(m)
    x = plugrad.ones(2, 4)
    with plugrad.no_grad():
        for _ in range(3):
            c(x)
        m.eval()
        outs = [c(x) for _ in range(3)]
    assert all(o.tolist() == m(x).tolist() for o in outs)


def test_cache_size_limit_falls_back_to_eager_with_a_warning():
    c = plugrad.compile(lambda x: x + 1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for n in range(1, 11):
            assert c(plugrad.ones(n)).tolist() == [2.0] * n
    assert any("recompile_limit" in str(w.message) for w in caught)
    assert plugrad._dynamo.config.cache_size_limit == torch._dynamo.config.cache_size_limit == 8


def test_reset_forgets_programs():
    c = plugrad.compile(lambda x: x + 1)
    for _ in range(3):
        c(plugrad.ones(2))
    plugrad._dynamo.reset()
    assert _entries(c) == []
    assert c(plugrad.ones(2)).tolist() == [2.0, 2.0]


# ----------------------------------------------------------------------------- breaks
def _branchy(lib):
    def f(x):
        y = x * 2
        if y.sum().item() > 0:
            return y + 1
        return y - 1
    return f


def test_explain_counts_match_torch():
    ours = plugrad._dynamo.explain(_branchy(plugrad))(plugrad.ones(3))
    theirs = torch._dynamo.explain(_branchy(torch))(torch.ones(3))
    assert (ours.graph_count, ours.graph_break_count) == \
        (theirs.graph_count, theirs.graph_break_count) == (2, 1)
    assert len(ours.break_reasons) == 1 and "test_compile.py" in ours.break_reasons[0].user_stack[0]
    assert "Graph Count: 2" in str(ours) and "Graph Break Count: 1" in str(ours)
    assert plugrad.compile.explain(_branchy(plugrad), plugrad.ones(3)).graph_count == 2
    clean = plugrad._dynamo.explain(lambda x: x * 2 + 1)(plugrad.ones(3))
    assert (clean.graph_count, clean.graph_break_count, clean.op_count) == (1, 0, 2)


def test_fullgraph_raises_on_a_host_read_like_torch():
    with pytest.raises(torch._dynamo.exc.TorchDynamoException):
        torch.compile(_branchy(torch), fullgraph=True)(torch.ones(3))
    c = plugrad.compile(_branchy(plugrad), fullgraph=True)
    c(plugrad.ones(3))                                   # warm-up call runs eagerly
    with pytest.raises(plugrad._dynamo.exc.Unsupported, match="host"):
        c(plugrad.ones(3))
    assert issubclass(plugrad._dynamo.exc.Unsupported, RuntimeError)


def test_value_guard_runs_eagerly_when_the_read_changes():
    c = plugrad.compile(_branchy(plugrad))
    for _ in range(3):
        assert c(plugrad.ones(3)).tolist() == [3.0] * 3
    assert c(-plugrad.ones(3)).tolist() == [-3.0] * 3     # the branch flips: eager
    assert c(plugrad.ones(3)).tolist() == [3.0] * 3


def test_read_after_a_state_write_makes_the_function_eager():
    w = plugrad.zeros(2)

    def f(x):
        w.add_(x)
        return w.sum().item()
    c = plugrad.compile(f)
    assert [c(plugrad.ones(2)) for _ in range(4)] == [2.0, 4.0, 6.0, 8.0]
    (e,) = _entries(c)
    assert e.state == "eager" and "outlives" in e.reason


# ----------------------------------------------------------------------------- modules
def test_compiled_module_state_dict_and_grad_paths():
    plugrad.manual_seed(0)
    m = plugrad.nn.Linear(3, 2)
    c = plugrad.compile(m)
    assert list(c.state_dict()) == ["_orig_mod.weight", "_orig_mod.bias"]
    x = plugrad.ones(4, 3)
    with plugrad.no_grad():
        outs = [c(x) for _ in range(4)]
    assert all(o.tolist() == m(x).tolist() for o in outs)
    for _ in range(3):                   # under autograd: forward and backward programs
        loss = c(x).sum()
        loss.backward()
    assert m.weight.grad.tolist() == [[12.0] * 3] * 2


@pytest.mark.parametrize("name", ["gpt", "lstm"])
def test_compiled_model_trains_like_eager(name):
    """nanoGPT's pattern: model = torch.compile(model), backward and step outside."""
    from plugrad._bench_models import BUILDERS

    def build():
        plugrad.manual_seed(0)
        model, opt, shape, classes = BUILDERS[name](plugrad)
        gen = plugrad.Generator().manual_seed(1)
        x = plugrad.randint(0, classes, shape, generator=gen)
        return model, opt, x, plugrad.randint(0, classes, shape, generator=gen)
    m1, o1, x, y = build()
    m2, o2, _, _ = build()
    compiled = plugrad.compile(m2)
    for step in range(5):
        losses = []
        for model, opt in ((m1, o1), (compiled, o2)):
            loss = model(x, y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            losses.append(loss.item())
        assert losses[0] == losses[1]
        if step >= 3:
            assert type(loss.grad_fn).__name__ == "CompiledFunctionBackward"
    for p, q in zip(m1.parameters(), m2.parameters()):
        np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())


def test_a_returned_grad_is_still_the_parameters_grad():
    w = plugrad.ones(3, requires_grad=True)

    def f(x):
        w.grad = None
        (w * x).sum().backward()
        return w.grad
    c = plugrad.compile(f)
    for k in range(5):
        g = c(plugrad.full((3,), float(k)))
        assert g.tolist() == w.grad.tolist() == [float(k)] * 3


def test_compiler_disable_keeps_a_function_eager():
    calls = []

    @plugrad.compiler.disable
    def f(x):
        calls.append(1)
        return x + 1
    c = plugrad.compile(f)
    for _ in range(4):
        assert c(plugrad.ones(2)).tolist() == [2.0, 2.0]
    assert len(calls) == 4 and _entries(c) == []
    assert plugrad.compiler.is_compiling() is False
