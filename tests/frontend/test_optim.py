"""Optimizers against torch: 10-step trajectories, state dicts, param groups, bad input.

Trajectories feed both libraries the same pre-drawn gradients, so what is compared is the
optimizer arithmetic alone (a real loss would add forward/backward rounding, amplified by
large learning rates). float32 agrees to 1e-6 (a few ulps of O(1) values after 10 steps:
torch fuses some multiply-adds that numpy rounds twice); float64 to 1e-12.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import plugrad

CONFIGS = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.8, dampening=0.3, weight_decay=0.01, maximize=True)),
    ("Adam", dict(lr=0.1)),
    ("Adam", dict(lr=0.05, betas=(0.8, 0.9), eps=1e-6, weight_decay=0.1, amsgrad=True)),
    ("Adam", dict(lr=0.05, maximize=True, decoupled_weight_decay=True, weight_decay=0.1)),
    ("Adam", dict(lr=0.05, betas=(0.3, 0.5))),      # lerp weight >= 0.5: torch's other branch
    ("AdamW", dict(lr=0.1)),
    ("AdamW", dict(lr=0.05, weight_decay=0.5, amsgrad=True, maximize=True)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, alpha=0.9, centered=True)),
    ("RMSprop", dict(lr=0.01, momentum=0.5, weight_decay=0.1, maximize=True)),
    ("RMSprop", dict(lr=0.01, centered=True, momentum=0.9, eps=1e-4)),
    ("Adagrad", dict(lr=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.1, weight_decay=0.1, initial_accumulator_value=0.1)),
    ("Adagrad", dict(lr=0.1, eps=1e-3, maximize=True)),
    ("Adadelta", dict(lr=1.0)),
    ("Adadelta", dict(lr=0.5, rho=0.8, eps=1e-4, weight_decay=0.1, maximize=True)),
]
IDS = [f"{name}-{'-'.join(f'{k}={v}' for k, v in kw.items())}" for name, kw in CONFIGS]
SHAPES = [(5, 4), (5,), ()]


def _draw(dtype, steps=10, seed=0):
    rng = np.random.default_rng(seed)
    params = [rng.standard_normal(s).astype(dtype) for s in SHAPES]
    grads = [[rng.standard_normal(s).astype(dtype) for s in SHAPES] for _ in range(steps)]
    return params, grads


def _run(mod, name, kw, params, grads, device="cpu", groups=False):
    ps = [mod.tensor(p, device=device, requires_grad=True) for p in params]
    if groups:   # the second group overrides lr
        arg = [{"params": ps[:1]}, {"params": ps[1:], "lr": kw["lr"] / 2}]
    else:
        arg = ps
    opt = getattr(mod.optim, name)(arg, **kw)
    for step_grads in grads:
        for p, g in zip(ps, step_grads):
            p.grad = mod.tensor(g, device=device)
        opt.step()
    return ps, opt


def _host(t):
    return t.detach().cpu().numpy()


def _compare_state(sd_t, sd_p, atol):
    assert sd_t["param_groups"] == sd_p["param_groups"]
    assert sd_t["state"].keys() == sd_p["state"].keys()
    for k, st in sd_t["state"].items():
        mine = sd_p["state"][k]
        assert list(st) == list(mine), "state keys (and their order) differ"
        for key, value in st.items():
            assert mine[key].dtype == getattr(plugrad, str(value.dtype).split(".")[1])
            assert tuple(mine[key].shape) == tuple(value.shape)
            # state such as Adagrad's sum of squares grows past 1: compare relatively too
            np.testing.assert_allclose(_host(mine[key]), value.numpy(), rtol=atol, atol=atol,
                                       err_msg=f"state[{k}][{key!r}]")


@pytest.mark.parametrize("name,kw", CONFIGS, ids=IDS)
def test_trajectory_float32(device, name, kw):
    params, grads = _draw(np.float32)
    pt, ot = _run(torch, name, kw, params, grads)
    pp, op = _run(plugrad, name, kw, params, grads, device=device)
    for a, b in zip(pt, pp):
        assert b.device.type == device and b.dtype is plugrad.float32
        np.testing.assert_allclose(_host(b), _host(a), rtol=0, atol=1e-6)
    _compare_state(ot.state_dict(), op.state_dict(), atol=1e-6)


@pytest.mark.parametrize("name,kw", CONFIGS, ids=IDS)
def test_trajectory_float64_param_groups(name, kw):
    params, grads = _draw(np.float64, seed=1)
    pt, ot = _run(torch, name, kw, params, grads, groups=True)
    pp, op = _run(plugrad, name, kw, params, grads, groups=True)
    for a, b in zip(pt, pp):
        np.testing.assert_allclose(_host(b), _host(a), rtol=0, atol=1e-12)
    _compare_state(ot.state_dict(), op.state_dict(), atol=1e-12)


@pytest.mark.parametrize("name,kw", [CONFIGS[2], CONFIGS[5], CONFIGS[7], CONFIGS[13]],
                         ids=[IDS[2], IDS[5], IDS[7], IDS[13]])
def test_composed_update_matches_fused_kernel(monkeypatch, name, kw):
    """Backends without sgd_step/adam_step compose the update from frontend ops."""
    params, grads = _draw(np.float32, seed=2)
    fused, _ = _run(plugrad, name, kw, params, grads)
    ops = plugrad.tensor(0.0).device.ops
    monkeypatch.setattr(ops, "sgd_step", None)
    monkeypatch.setattr(ops, "adam_step", None)
    composed, _ = _run(plugrad, name, kw, params, grads)
    pt, _ = _run(torch, name, kw, params, grads)
    for a, b, c in zip(pt, composed, fused):
        np.testing.assert_allclose(_host(b), _host(a), rtol=0, atol=1e-6)
        np.testing.assert_allclose(_host(b), _host(c), rtol=0, atol=1e-6)


@pytest.mark.parametrize("name,kw", [CONFIGS[1], CONFIGS[5], CONFIGS[12], CONFIGS[15]],
                         ids=[IDS[1], IDS[5], IDS[12], IDS[15]])
def test_state_dict_resume_and_torch_state_loads(name, kw):
    """5 steps, save, load into a fresh optimizer (or load torch's own state), 5 more steps:
    the same as 10 uninterrupted steps."""
    params, grads = _draw(np.float32, seed=3)
    pt, ot = _run(torch, name, kw, params, grads)
    half, oh = _run(plugrad, name, kw, params, grads[:5])
    saved = oh.state_dict()
    fresh = [plugrad.tensor(_host(p), requires_grad=True) for p in half]
    opt = getattr(plugrad.optim, name)(fresh, **kw)
    opt.load_state_dict(saved)
    # torch's half-way state, converted tensor by tensor, loads the same way
    t_half, t_opt = _run(torch, name, kw, params, grads[:5])
    t_sd = t_opt.state_dict()
    converted = {"param_groups": t_sd["param_groups"],
                 "state": {k: {n: plugrad.tensor(v.numpy()) for n, v in st.items()}
                           for k, st in t_sd["state"].items()}}
    fresh2 = [plugrad.tensor(_host(p), requires_grad=True) for p in t_half]
    opt2 = getattr(plugrad.optim, name)(fresh2, **kw)
    opt2.load_state_dict(converted)
    for ps, o in ((fresh, opt), (fresh2, opt2)):
        for step_grads in grads[5:]:
            for p, g in zip(ps, step_grads):
                p.grad = plugrad.tensor(g)
            o.step()
        for a, b in zip(pt, ps):
            np.testing.assert_allclose(_host(b), _host(a), rtol=0, atol=1e-6)
        _compare_state(ot.state_dict(), o.state_dict(), atol=1e-6)
    # loading copies: stepping the new optimizer leaves the saved dict untouched
    assert saved["state"] is not opt.state_dict()["state"]


def test_load_state_dict_moves_state_to_param_device(device):
    params, grads = _draw(np.float32, seed=4)
    ps, opt = _run(plugrad, "Adam", dict(lr=0.1), params, grads[:2])
    on_dev = [plugrad.tensor(_host(p), device=device, requires_grad=True) for p in ps]
    opt2 = plugrad.optim.Adam(on_dev, lr=0.1)
    opt2.load_state_dict(opt.state_dict())
    st = opt2.state[on_dev[0]]
    assert st["exp_avg"].device.type == device
    assert st["step"].device.type == "cpu" and st["step"].dtype is plugrad.float32


def test_repr_and_param_group_defaults():
    for name, kw in CONFIGS[:1] + CONFIGS[4:5] + CONFIGS[8:9] + CONFIGS[10:11] + CONFIGS[14:15]:
        t = getattr(torch.optim, name)([torch.zeros(2, requires_grad=True)], **kw)
        p = getattr(plugrad.optim, name)([plugrad.zeros(2, requires_grad=True)], **kw)
        assert repr(p) == repr(t)
        assert p.state_dict() == {"state": {}, "param_groups": t.state_dict()["param_groups"]} \
            or name == "Adagrad"


def test_add_param_group_named_params_and_zero_grad():
    model = plugrad.nn.Linear(3, 2)
    tmodel = torch.nn.Linear(3, 2)
    opt = plugrad.optim.SGD(model.named_parameters(), lr=0.1)
    topt = torch.optim.SGD(tmodel.named_parameters(), lr=0.1)
    assert opt.state_dict()["param_groups"] == topt.state_dict()["param_groups"]
    extra = plugrad.zeros(4, requires_grad=True)
    with pytest.raises(ValueError, match="with/without names"):
        opt.add_param_group({"params": [extra]})
    opt.add_param_group({"params": [("extra", extra)], "lr": 0.5})
    assert opt.param_groups[1]["lr"] == 0.5 and opt.param_groups[1]["momentum"] == 0
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [("w", model.weight)]})
    assert len(opt.param_groups) == 2
    model(plugrad.ones(1, 3)).sum().backward()
    opt.zero_grad(set_to_none=False)
    assert model.weight.grad is not None and not model.weight.grad.any()
    opt.zero_grad()
    assert model.weight.grad is None


def test_closure_and_step_hooks():
    w = plugrad.tensor([1.0, 2.0], requires_grad=True)
    opt = plugrad.optim.SGD([w], lr=0.5)
    calls = []
    opt.register_step_pre_hook(lambda o, a, k: calls.append("pre"))
    handle = opt.register_step_post_hook(lambda o, a, k: calls.append("post"))

    def closure():
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        calls.append("closure")
        return loss
    loss = opt.step(closure)
    assert loss.item() == 5.0 and calls == ["pre", "closure", "post"]
    assert w.tolist() == [0.0, 0.0]
    handle.remove()
    opt.step(closure)
    assert calls[-1] == "closure"


def test_tensor_lr():
    params, grads = _draw(np.float32, seed=5)
    pt, _ = _run(torch, "Adam", dict(lr=torch.tensor(0.01)), params, grads)
    pp, _ = _run(plugrad, "Adam", dict(lr=plugrad.tensor(0.01)), params, grads)
    for a, b in zip(pt, pp):
        np.testing.assert_allclose(_host(b), _host(a), rtol=0, atol=1e-6)


# ---------------------------------------------------------------------- bad input
def _raises_like(fn_t, fn_p):
    with pytest.raises(Exception) as et:
        fn_t(torch)
    with pytest.raises(type(et.value)) as ep:
        fn_p(plugrad)
    return str(et.value), str(ep.value)


@pytest.mark.parametrize("make", [
    lambda m: m.optim.SGD([], lr=0.1),
    lambda m: m.optim.Adam(iter([])),
    lambda m: m.optim.SGD(m.zeros(2, requires_grad=True), lr=0.1),
    lambda m: m.optim.SGD([{"params": {m.zeros(2, requires_grad=True)}}], lr=0.1),
    lambda m: m.optim.SGD([m.zeros(2, requires_grad=True) * 2], lr=0.1),
    lambda m: m.optim.SGD([1.0], lr=0.1),
    lambda m: m.optim.SGD([m.zeros(2, requires_grad=True)], lr=-1),
    lambda m: m.optim.SGD([m.zeros(2, requires_grad=True)], momentum=-0.1),
    lambda m: m.optim.SGD([m.zeros(2, requires_grad=True)], weight_decay=-1),
    lambda m: m.optim.SGD([m.zeros(2, requires_grad=True)], nesterov=True),
    lambda m: m.optim.SGD([m.zeros(2, requires_grad=True)], momentum=0.9, nesterov=True,
                          dampening=0.1),
    lambda m: m.optim.Adam([m.zeros(2, requires_grad=True)], lr=-0.1),
    lambda m: m.optim.Adam([m.zeros(2, requires_grad=True)], eps=-1.0),
    lambda m: m.optim.Adam([m.zeros(2, requires_grad=True)], betas=(1.0, 0.9)),
    lambda m: m.optim.AdamW([m.zeros(2, requires_grad=True)], betas=(0.9, -0.1)),
    lambda m: m.optim.AdamW([m.zeros(2, requires_grad=True)], weight_decay=-0.1),
    lambda m: m.optim.Adam([m.zeros(2, requires_grad=True)], fused=True, differentiable=True),
    lambda m: m.optim.RMSprop([m.zeros(2, requires_grad=True)], alpha=-0.5),
    lambda m: m.optim.RMSprop([m.zeros(2, requires_grad=True)], momentum=-0.5),
    lambda m: m.optim.Adagrad([m.zeros(2, requires_grad=True)], lr_decay=-0.5),
    lambda m: m.optim.Adagrad([m.zeros(2, requires_grad=True)], initial_accumulator_value=-1),
    lambda m: m.optim.Adadelta([m.zeros(2, requires_grad=True)], rho=1.5),
    lambda m: m.optim.Adadelta([m.zeros(2, requires_grad=True)], eps=-1.0),
    lambda m: m.optim.SGD([m.zeros(2, requires_grad=True)], lr=m.tensor([0.1, 0.2])),
    lambda m: m.optim.SGD([m.zeros(2, requires_grad=True)], lr=0.1).add_param_group([]),
])
def test_bad_construction_matches_torch(make):
    msg_t, msg_p = _raises_like(make, make)
    assert msg_p == msg_t


def test_load_state_dict_mismatch_changes_nothing():
    params, grads = _draw(np.float32, seed=6)
    ps, opt = _run(plugrad, "Adam", dict(lr=0.1), params, grads[:3])
    before = {k: {n: _host(v).copy() for n, v in st.items()}
              for k, st in opt.state_dict()["state"].items()}
    other = plugrad.optim.Adam([plugrad.zeros(2, requires_grad=True)])
    with pytest.raises(ValueError, match="doesn't match the size"):
        opt.load_state_dict(other.state_dict())
    two = plugrad.optim.Adam([{"params": ps[:1]}, {"params": ps[1:]}])
    with pytest.raises(ValueError, match="different number of parameter groups"):
        opt.load_state_dict(two.state_dict())
    with pytest.raises(KeyError, match="param_groups"):
        opt.load_state_dict({"state": {}})
    after = opt.state_dict()["state"]
    for k, st in before.items():
        for n, v in st.items():
            np.testing.assert_array_equal(_host(after[k][n]), v)


def test_failed_step_changes_nothing_shape():
    """A gradient that no longer fits its parameter fails before any parameter moves."""
    for name, kw in (("SGD", dict(lr=0.1, momentum=0.9)), ("Adam", {}), ("RMSprop", {}),
                     ("Adagrad", {})):
        a = plugrad.ones(3, requires_grad=True)
        b = plugrad.ones(2, requires_grad=True)
        opt = getattr(plugrad.optim, name)([{"params": [a]}, {"params": [b]}], **kw)
        a.grad = plugrad.ones(3)
        b.grad = plugrad.ones(2)
        opt.step()
        snapshot = (a.tolist(), b.tolist(), repr(opt.state_dict()))
        a.grad = plugrad.ones(3)
        b.data = plugrad.zeros(4)     # b's existing grad (2,) no longer matches
        with pytest.raises(RuntimeError, match="size of tensor"):
            opt.step()
        assert a.tolist() == snapshot[0], name
        assert repr(opt.state_dict()) == snapshot[2], name


def test_failed_step_changes_nothing_device():
    """A gradient left on another device (``p.data = p.data.to(...)``) fails atomically."""
    from conftest import availability
    if availability("opencl") is not True:
        pytest.skip(f"backend 'opencl' unavailable: {availability('opencl')}")
    a = plugrad.ones(3, requires_grad=True)
    b = plugrad.ones(2, requires_grad=True)
    opt = plugrad.optim.Adam([a, b], lr=0.1)
    a.grad, b.grad = plugrad.ones(3), plugrad.ones(2)
    b.data = b.data.to("opencl")
    with pytest.raises(RuntimeError, match="same device"):
        opt.step()
    assert a.tolist() == [1.0, 1.0, 1.0] and len(opt.state) == 0


def test_zero_step_and_no_grad_params_untouched():
    a = plugrad.ones(3, requires_grad=True)
    b = plugrad.ones(3, requires_grad=True)
    opt = plugrad.optim.Adam([a, b], lr=0.1)
    a.grad = plugrad.ones(3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        opt.step()
    assert b.tolist() == [1.0, 1.0, 1.0] and b not in opt.state
    assert opt.state[a]["step"].item() == 1.0


def test_user_defined_optimizer_subclass():
    """The pattern from torch's docs: subclass Optimizer, decorate step with no_grad."""
    def make(mod):
        class PlainSGD(mod.optim.Optimizer):
            def __init__(self, params, lr=0.1):
                super().__init__(params, dict(lr=lr))

            @mod.no_grad()
            def step(self, closure=None):
                for group in self.param_groups:
                    for p in group["params"]:
                        if p.grad is None:
                            continue
                        state = self.state[p]
                        state["n"] = state.get("n", 0) + 1
                        p.add_(p.grad, alpha=-group["lr"])
        w = mod.tensor([1.0, -2.0], requires_grad=True)
        opt = PlainSGD([w], lr=0.5)
        calls = []
        opt.register_step_post_hook(lambda o, a, k: calls.append(1))
        for _ in range(3):
            opt.zero_grad()
            (w * w).sum().backward()
            opt.step()
        return w.tolist(), opt.state_dict()["state"], len(calls)
    assert make(plugrad) == make(torch)
