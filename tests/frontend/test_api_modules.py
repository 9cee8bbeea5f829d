"""Modules real programs import (issue 11 items 2, 5): compile/jit, nn.parallel,
multiprocessing, utils.checkpoint, profiler, tensorboard, onnx, hub -- checked against torch."""
from __future__ import annotations

import os
import re
import warnings

import numpy as np
import contextlib

import pytest
import torch

import plugrad


def _mlp(lib, device=None, dropout=0.0):
    lib.manual_seed(0)
    m = lib.nn.Sequential(lib.nn.Linear(4, 8), lib.nn.Tanh(), lib.nn.Dropout(dropout),
                          lib.nn.Linear(8, 2))
    return m.to(device) if device else m


# ----------------------------------------------------------------------------- compile / jit

def test_compile_module_keeps_parameters_and_torch_state_dict_keys(device):
    m = _mlp(plugrad, device)
    c = plugrad.compile(m)
    tm = torch.compile(_mlp(torch))
    assert type(c).__name__ == type(tm).__name__ == "OptimizedModule"
    assert list(c.state_dict()) == list(tm.state_dict())
    assert c._orig_mod is m and next(c.parameters()) is m[0].weight
    x = plugrad.randn(3, 4, device=device)
    assert np.allclose(c(x).detach().cpu().numpy(), m(x).detach().cpu().numpy())
    assert repr(c).splitlines()[:2] == repr(tm).splitlines()[:2]


def test_module_compile_in_place():
    m, tm = _mlp(plugrad), _mlp(torch)
    assert m.compile() is None and tm.compile() is None
    assert list(m.state_dict()) == list(tm.state_dict())
    with pytest.raises(RuntimeError, match="Unrecognized mode=bogus"):
        m.compile(mode="bogus")
    assert m(plugrad.ones(1, 4)).shape == (1, 2)


def test_compile_functions_decorators_and_errors():
    def f(x):
        return x * 2
    g = plugrad.compile(f)
    assert g.__name__ == "f" and g(plugrad.ones(1)).item() == 2
    deco = plugrad.compile(mode="reduce-overhead")
    assert deco(f)(plugrad.ones(1)).item() == 2
    for kwargs in (dict(mode="bogus"), dict(mode="default", options={})):
        with pytest.raises(RuntimeError) as theirs:
            torch.compile(f, **kwargs)
        with pytest.raises(RuntimeError, match=re.escape(str(theirs.value))):
            plugrad.compile(f, **kwargs)
    with pytest.raises(RuntimeError, match="Invalid backend: 'nope'"):
        plugrad.compile(f, backend="nope")
    with pytest.raises(AssertionError, match="A callable function is expected"):
        plugrad.compile(3)


def test_jit_runs_eagerly():
    jit = plugrad.jit
    m = _mlp(plugrad)
    with pytest.warns(UserWarning, match="no TorchScript") if not jit._warned else \
            contextlib.nullcontext():
        assert jit.script(m) is m
    calls = []

    def f(x):
        calls.append(1)
        return x + 1
    traced = jit.trace(f, plugrad.ones(2))
    assert calls == [1] and traced.__wrapped__ is f and traced(plugrad.ones(2)) is not None
    assert jit.is_scripting() is torch.jit.is_scripting() is False
    assert jit.is_tracing() is False
    assert jit.ignore(f) is f and jit.ignore(drop=True)(f) is f and jit.unused(f) is f
    assert jit.Final[int] == torch.jit.Final[int]
    assert jit.annotate(list, [1]) == [1]
    with pytest.raises(RuntimeError, match="example_kwarg_inputs or example_inputs"):
        jit.trace(f)
    with pytest.raises(NotImplementedError, match="plugrad has no TorchScript"):
        jit.save(m, "x.pt")


# ----------------------------------------------------------------------------- nn.parallel

def test_data_parallel_single_device(device):
    m = _mlp(plugrad, device)
    dp = plugrad.nn.DataParallel(m)
    tdp = torch.nn.DataParallel(_mlp(torch))
    assert list(dp.state_dict()) == list(tdp.state_dict())
    assert dp.module is m and isinstance(dp, plugrad.nn.parallel.DataParallel)
    x = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)
    ours = dp(plugrad.tensor(x, device=device))
    theirs = tdp(torch.tensor(x))
    assert np.allclose(ours.detach().cpu().numpy(), theirs.detach().numpy(), atol=1e-6)
    ours.sum().backward()
    assert m[0].weight.grad is not None
    assert plugrad.nn.parallel.data_parallel(m, plugrad.tensor(x, device=device)).shape == (5, 2)


# ----------------------------------------------------------------------------- multiprocessing

def _fill(t, i):
    t[i] = 10 + i


def test_share_memory_visible_to_forked_processes():
    mp = plugrad.multiprocessing
    assert mp.Process is __import__("multiprocessing").Process
    t = plugrad.zeros(3)
    assert not t.is_shared()
    assert t.share_memory_() is t and t.is_shared()
    ctx = mp.get_context("fork")
    procs = [ctx.Process(target=_fill, args=(t, i)) for i in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    assert t.tolist() == [10.0, 11.0, 0.0]
    m = plugrad.nn.Linear(2, 2).share_memory()
    assert all(p.is_shared() for p in m.parameters())
    assert mp.get_sharing_strategy() in mp.get_all_sharing_strategies()


def _train_shared(t, model, i):
    t[i] = 10 + i
    with plugrad.no_grad():
        model.weight.add_(1.0)


@pytest.mark.parametrize("method", ["spawn", "forkserver"])
def test_shared_tensors_travel_by_name_to_spawned_processes(method):
    mp = plugrad.multiprocessing
    t = plugrad.zeros(3).share_memory_()
    model = plugrad.nn.Linear(2, 1).share_memory()
    before = model.weight.detach().clone()
    ctx = mp.get_context(method)
    procs = [ctx.Process(target=_train_shared, args=(t, model, i)) for i in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
        assert p.exitcode == 0
    assert t.tolist() == [10.0, 11.0, 0.0]
    assert np.allclose((model.weight - before).detach().numpy(), 2.0)
    q = ctx.Queue()
    q.put(t)
    got = q.get()
    got[2] = 5.0
    assert t[2].item() == 5.0 and got.is_shared()


def _boom(i):
    raise ValueError(f"worker {i} failed")


def _ok(i, out_dir):
    open(os.path.join(out_dir, f"{i}.done"), "w").close()


def test_spawn(tmp_path):
    plugrad.multiprocessing.spawn(_ok, args=(str(tmp_path),), nprocs=2, start_method="fork")
    assert sorted(os.listdir(tmp_path)) == ["0.done", "1.done"]
    with pytest.raises(plugrad.multiprocessing.ProcessRaisedException, match="worker 0 failed"):
        plugrad.multiprocessing.spawn(_boom, nprocs=1, start_method="fork")


# ----------------------------------------------------------------------------- checkpoint

@pytest.mark.parametrize("reentrant", [True, False])
def test_checkpoint_recomputes_and_matches_torch(device, reentrant):
    from plugrad.utils.checkpoint import checkpoint
    results = []
    for lib, ck, dev in ((plugrad, checkpoint, device), (torch, torch.utils.checkpoint.checkpoint,
                                                         None)):
        m = _mlp(lib, dev, dropout=0.3)
        calls = []
        m[0].register_forward_hook(lambda *a: calls.append(1))
        lib.manual_seed(1)
        x = lib.randn(3, 4, requires_grad=True)
        if dev:
            x = x.detach().to(dev).requires_grad_()
        y = ck(m, x, use_reentrant=reentrant)
        y.pow(2).sum().backward()
        results.append((y.detach().cpu().numpy(), m[0].weight.grad.cpu().numpy(),
                        x.grad.cpu().numpy(), len(calls)))
    (y1, w1, x1, n1), (y2, w2, x2, n2) = results
    assert n1 == n2 == 2                      # run once, recomputed once in backward
    for a, b in ((y1, y2), (w1, w2), (x1, x2)):
        assert np.allclose(a, b, atol=1e-5)


def test_checkpoint_warnings_and_param_only_grads():
    from plugrad.utils.checkpoint import checkpoint, checkpoint_sequential
    m = _mlp(plugrad)
    x = plugrad.randn(2, 4)
    with pytest.warns(UserWarning, match="use_reentrant parameter should be passed"):
        with pytest.warns(UserWarning, match="None of the inputs have requires_grad=True"):
            y = checkpoint(m, x)
    assert not y.requires_grad
    y = checkpoint(m, x, use_reentrant=False)
    y.sum().backward()
    assert m[0].weight.grad is not None
    with pytest.raises(ValueError, match="Unexpected keyword arguments"):
        checkpoint(m, x, use_reentrant=True, bogus=1)
    m.zero_grad()
    xr = x.clone().requires_grad_()
    out = checkpoint_sequential(m, 2, xr, use_reentrant=False)
    out.sum().backward()
    ref = m(xr.detach().requires_grad_())
    assert np.allclose(out.detach().numpy(), ref.detach().numpy())


# ----------------------------------------------------------------------------- profiler

def test_profiler_table(device):
    from plugrad.profiler import ProfilerActivity, profile, record_function
    before = plugrad.ones(1, device=device).device.ops.matmul
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        with record_function("step"):
            x = plugrad.ones(16, 16, device=device)
            for _ in range(3):
                (x @ x).sum()
    averages = {e.key: e for e in prof.key_averages()}
    backend = x.device.ops.backend_name
    assert averages["step"].count == 1
    assert averages[f"{backend}::matmul"].count == 3
    step = averages["step"]
    assert step.cpu_time_total >= averages[f"{backend}::matmul"].cpu_time_total
    assert step.self_cpu_time_total <= step.cpu_time_total
    table = prof.key_averages().table(sort_by="cpu_time_total", row_limit=5)
    assert table.splitlines()[1].split() == ["Name", "Self", "CPU", "%", "Self", "CPU", "CPU",
                                             "total", "%", "CPU", "total", "CPU", "time", "avg",
                                             "#", "of", "Calls"]
    assert "Self CPU time total:" in table
    # the tables are unwrapped afterwards
    assert x.device.ops.matmul is before


def test_profiler_schedule_and_legacy_api(tmp_path):
    from plugrad.profiler import profile, schedule, tensorboard_trace_handler
    seen = []
    with profile(schedule=schedule(wait=1, warmup=1, active=2),
                 on_trace_ready=lambda p: seen.append(len(p.events()))) as prof:
        for _ in range(4):
            plugrad.ones(4).sum()
            prof.step()
    assert len(seen) == 1 and seen[0] > 0
    with plugrad.autograd.profiler.profile() as p:
        (plugrad.ones(3) + 1).sum()
    assert "cpu::add" in p.key_averages().table()
    with plugrad.autograd.profiler.profile(enabled=False) as p:
        plugrad.ones(3).sum()
    assert len(p.key_averages()) == 0
    with profile(on_trace_ready=tensorboard_trace_handler(str(tmp_path))):
        plugrad.ones(2).sum()
    assert any(f.endswith(".pt.trace.json") for f in os.listdir(tmp_path))


# ----------------------------------------------------------------------------- tensorboard, onnx, hub

def test_tensorboard_writes_events_readable_by_tensorboard(tmp_path):
    pytest.importorskip("tensorboard")   # optional extra, as in torch
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from plugrad.utils.tensorboard import SummaryWriter
    with SummaryWriter(str(tmp_path)) as w:
        for i in range(3):
            w.add_scalar("loss", plugrad.tensor(1.0 / (i + 1)), i)
        w.add_histogram("w", plugrad.randn(100), 0)
        w.add_text("note", "hello", 0)
    ea = EventAccumulator(str(tmp_path))
    ea.Reload()
    assert [round(s.value, 4) for s in ea.Scalars("loss")] == [1.0, 0.5, 0.3333]
    assert ea.Histograms("w")[0].histogram_value.num == 100
    assert "note/text_summary" in ea.Tags()["tensors"]


def test_tensorboard_missing_gives_torchs_message(monkeypatch):
    import sys
    for name in [n for n in sys.modules if n == "tensorboard" or n.startswith("tensorboard.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "tensorboard", None)
    monkeypatch.delitem(sys.modules, "plugrad.utils.tensorboard", raising=False)
    with pytest.raises(ImportError, match="TensorBoard logging requires TensorBoard version 1.15 "
                                          "or above"):
        import plugrad.utils.tensorboard  # noqa: F401


def test_onnx_export_raises_clearly():
    import plugrad.onnx
    assert plugrad.onnx.is_in_onnx_export() is False
    with pytest.raises(NotImplementedError, match="plugrad cannot export ONNX"):
        plugrad.onnx.export(_mlp(plugrad), (plugrad.ones(1, 4),), "m.onnx")


def test_hub_local_and_offline(tmp_path, monkeypatch):
    (tmp_path / "hubconf.py").write_text(
        "import plugrad\n"
        "def tiny(n=2):\n    'A tiny model.'\n    return plugrad.nn.Linear(n, 1)\n")
    m = plugrad.hub.load(str(tmp_path), "tiny", 3, source="local")
    assert m.in_features == 3
    assert plugrad.hub.help(str(tmp_path), "tiny") == "A tiny model."
    assert "tiny" in plugrad.hub.list(str(tmp_path))
    with pytest.raises(RuntimeError, match="Cannot find callable nope in hubconf"):
        plugrad.hub.load(str(tmp_path), "nope", source="local")
    with pytest.raises(ValueError, match='Unknown source: "web"'):
        plugrad.hub.load(str(tmp_path), "tiny", source="web")
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "home"))
    assert plugrad.hub.get_dir() == str(tmp_path / "home" / "hub")
    # a cached checkpoint is used without any download
    ckpt = tmp_path / "home" / "hub" / "checkpoints"
    ckpt.mkdir(parents=True)
    plugrad.save({"w": plugrad.ones(2)}, str(ckpt / "w.pt"))
    sd = plugrad.hub.load_state_dict_from_url("http://invalid.example/w.pt")
    assert sd["w"].tolist() == [1.0, 1.0]
    with pytest.raises(RuntimeError, match="torch.hub could not download"):
        plugrad.hub.load_state_dict_from_url("http://invalid.invalid/other.pt")
