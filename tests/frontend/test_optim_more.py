"""Adamax, NAdam, RAdam, Rprop, ASGD, LBFGS against torch: 20 steps of a small model from
the same initial weights (cpu and opencl), state dicts (layout, round trip, loading torch's)
and torch's errors for bad hyperparameters."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import plugrad

CONFIGS = [
    ("Adamax", dict()),
    ("Adamax", dict(lr=1e-3, betas=(0.8, 0.9), eps=1e-6, weight_decay=0.1, maximize=True)),
    ("NAdam", dict()),
    ("NAdam", dict(lr=0.01, betas=(0.8, 0.95), weight_decay=0.1, momentum_decay=0.01)),
    ("NAdam", dict(lr=1e-3, weight_decay=0.1, decoupled_weight_decay=True, maximize=True)),
    ("RAdam", dict(lr=0.01)),
    ("RAdam", dict(lr=0.01, betas=(0.5, 0.6), weight_decay=0.1)),   # rho_t > 5 from step 6
    ("RAdam", dict(lr=1e-3, betas=(0.8, 0.7), weight_decay=0.1, decoupled_weight_decay=True,
                   maximize=True)),
    ("Rprop", dict()),
    ("Rprop", dict(lr=0.05, etas=(0.3, 1.5), step_sizes=(1e-3, 0.1), maximize=True)),
    ("ASGD", dict()),
    ("ASGD", dict(lr=0.05, lambd=1e-2, alpha=0.5, t0=5, weight_decay=0.1)),
    ("ASGD", dict(lr=0.02, t0=0, maximize=True)),
]
IDS = [f"{name}-{'-'.join(f'{k}={v}' for k, v in kw.items())}" for name, kw in CONFIGS]
STEPS = 20


def _host(t):
    return t.detach().cpu().numpy()


def _model(mod, device="cpu"):
    """Linear(4, 8) - tanh - Linear(8, 2) with weights drawn once by torch."""
    torch.manual_seed(0)
    ref = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 2))
    if mod is torch:
        return ref
    model = plugrad.nn.Sequential(plugrad.nn.Linear(4, 8), plugrad.nn.Tanh(),
                                  plugrad.nn.Linear(8, 2))
    model.load_state_dict({k: plugrad.tensor(v.numpy()) for k, v in ref.state_dict().items()})
    return model.to(device)


def _data(mod, device="cpu"):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((16, 4)).astype(np.float32)
    y = rng.standard_normal((16, 2)).astype(np.float32)
    if mod is torch:
        return torch.tensor(x), torch.tensor(y)
    return plugrad.tensor(x, device=device), plugrad.tensor(y, device=device)


def _train(mod, name, kw, steps=STEPS, device="cpu", model=None, opt=None):
    model = model if model is not None else _model(mod, device)
    opt = opt if opt is not None else getattr(mod.optim, name)(model.parameters(), **kw)
    x, y = _data(mod, device)
    for _ in range(steps):
        opt.zero_grad()
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        opt.step()
    return model, opt


def _assert_params(ref, mine):
    for (k, a), (_, b) in zip(ref.named_parameters(), mine.named_parameters()):
        np.testing.assert_allclose(_host(b), _host(a), rtol=1e-5, atol=1e-6, err_msg=k)


def _compare_state(sd_t, sd_p):
    assert sd_t["param_groups"] == sd_p["param_groups"]
    assert sd_t["state"].keys() == sd_p["state"].keys()
    for k, st in sd_t["state"].items():
        mine = sd_p["state"][k]
        assert list(st) == list(mine), "state keys (and their order) differ"
        for key, value in st.items():
            assert mine[key].dtype == getattr(plugrad, str(value.dtype).split(".")[1])
            assert tuple(mine[key].shape) == tuple(value.shape)
            np.testing.assert_allclose(_host(mine[key]), value.numpy(), rtol=1e-5, atol=1e-6,
                                       err_msg=f"state[{k}][{key!r}]")


@pytest.mark.parametrize("name,kw", CONFIGS, ids=IDS)
def test_twenty_steps_match_torch(device, name, kw):
    ref, ot = _train(torch, name, kw)
    mine, op = _train(plugrad, name, kw, device=device)
    for p in mine.parameters():
        assert p.device.type == device
        for key, value in op.state[p].items():   # ASGD keeps its counters with the parameter
            on_param = value.dim() > 0 or name == "ASGD"
            assert value.device.type == (device if on_param else "cpu"), key
    _assert_params(ref, mine)
    _compare_state(ot.state_dict(), op.state_dict())


@pytest.mark.parametrize("name,kw", CONFIGS, ids=IDS)
def test_state_dict_round_trip_and_torch_state_loads(name, kw):
    """10 steps, save, load into a fresh optimizer over a copy of the model, 10 more: the same
    as 20 uninterrupted torch steps; torch's own 10-step state dict loads the same way."""
    ref, ot = _train(torch, name, kw)
    half, oh = _train(plugrad, name, kw, steps=10)
    saved = oh.state_dict()
    fresh = _model(plugrad)
    fresh.load_state_dict(half.state_dict())
    opt = getattr(plugrad.optim, name)(fresh.parameters(), **kw)
    opt.load_state_dict(saved)
    t_half, t_opt = _train(torch, name, kw, steps=10)
    t_sd = t_opt.state_dict()
    converted = {"param_groups": t_sd["param_groups"],
                 "state": {k: {n: plugrad.tensor(v.numpy()) for n, v in st.items()}
                           for k, st in t_sd["state"].items()}}
    fresh2 = _model(plugrad)
    fresh2.load_state_dict({k: plugrad.tensor(v.numpy())
                            for k, v in t_half.state_dict().items()})
    opt2 = getattr(plugrad.optim, name)(fresh2.parameters(), **kw)
    opt2.load_state_dict(converted)
    for m, o in ((fresh, opt), (fresh2, opt2)):
        _train(plugrad, name, kw, steps=10, model=m, opt=o)
        _assert_params(ref, m)
        _compare_state(ot.state_dict(), o.state_dict())
    assert saved["state"] is not opt.state_dict()["state"]


@pytest.mark.parametrize("name", sorted({n for n, _ in CONFIGS}))
def test_defaults_and_flags_as_torch(name):
    pt = [torch.zeros(2, requires_grad=True)]
    pp = [plugrad.zeros(2, requires_grad=True)]
    t_opt = getattr(torch.optim, name)(pt)
    p_opt = getattr(plugrad.optim, name)(pp)
    assert p_opt.defaults == t_opt.defaults
    assert p_opt.state_dict()["param_groups"] == t_opt.state_dict()["param_groups"]
    flags = dict(foreach=True, maximize=True, capturable=False, differentiable=False)
    assert (getattr(plugrad.optim, name)(pp, **flags).defaults
            == getattr(torch.optim, name)(pt, **flags).defaults)
    for mod, ps in ((torch, pt), (plugrad, pp)):   # neither has a fused implementation
        with pytest.raises(TypeError):
            getattr(mod.optim, name)(ps, fused=True)


BAD = [
    ("Adamax", dict(lr=-1.0)), ("Adamax", dict(eps=-1.0)), ("Adamax", dict(betas=(1.0, 0.9))),
    ("Adamax", dict(betas=(0.9, -0.1))), ("Adamax", dict(weight_decay=-1.0)),
    ("NAdam", dict(lr=-0.1)), ("NAdam", dict(eps=-1e-8)), ("NAdam", dict(betas=(-0.5, 0.9))),
    ("NAdam", dict(betas=(0.9, 1.0))), ("NAdam", dict(weight_decay=-1)),
    ("NAdam", dict(momentum_decay=-1.0)),
    ("RAdam", dict(lr=-0.1)), ("RAdam", dict(eps=-1.0)), ("RAdam", dict(betas=(1.5, 0.9))),
    ("RAdam", dict(betas=(0.9, 1.0))), ("RAdam", dict(weight_decay=-0.5)),
    ("Rprop", dict(lr=-0.01)), ("Rprop", dict(etas=(0.0, 1.2))), ("Rprop", dict(etas=(1.0, 1.2))),
    ("Rprop", dict(etas=(0.5, 1.0))), ("Rprop", dict(etas=(0.5, 0.9))),
    ("ASGD", dict(lr=-0.01)), ("ASGD", dict(weight_decay=-1e-4)),
]


@pytest.mark.parametrize("name,kw", BAD, ids=[f"{n}-{kw}" for n, kw in BAD])
def test_bad_hyperparameters_raise_torchs_error(name, kw):
    with pytest.raises(ValueError) as t_err:
        getattr(torch.optim, name)([torch.zeros(2, requires_grad=True)], **kw)
    with pytest.raises(ValueError) as p_err:
        getattr(plugrad.optim, name)([plugrad.zeros(2, requires_grad=True)], **kw)
    assert str(p_err.value) == str(t_err.value)


@pytest.mark.parametrize("name", sorted({n for n, _ in CONFIGS}))
def test_tensor_lr_must_be_one_element(name):
    with pytest.raises(ValueError, match="Tensor lr must be 1-element"):
        getattr(plugrad.optim, name)([plugrad.zeros(2, requires_grad=True)],
                                     lr=plugrad.tensor([0.1, 0.2]))


# ---------------------------------------------------------------- LBFGS
# L-BFGS amplifies rounding (a 1-ulp loss difference moves a cubic interpolation's minimum by
# 1e-4 relative near convergence): problems are chosen where 20 steps stay well-conditioned --
# a convex least-squares fit in float32, the MLP with short steps in float32, and the MLP's
# full default and strong-Wolfe runs in float64.
LBFGS_CONFIGS = [
    ("linear", "float32", dict(max_iter=2)),
    ("linear", "float32", dict(line_search_fn="strong_wolfe", max_iter=1)),
    ("mlp", "float32", dict(lr=0.1, max_iter=1)),
    ("mlp", "float64", dict()),
    ("mlp", "float64", dict(line_search_fn="strong_wolfe")),
]
LBFGS_IDS = [f"{m}-{dt}-{'-'.join(f'{k}={v}' for k, v in kw.items())}"
             for m, dt, kw in LBFGS_CONFIGS]


def _lbfgs_model(mod, kind, dtype, device="cpu"):
    torch.manual_seed(0)
    if kind == "linear":
        ref = torch.nn.Linear(4, 2)
    else:
        ref = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 2))
    ref = ref.to(getattr(torch, dtype))
    if mod is torch:
        return ref
    if kind == "linear":
        model = plugrad.nn.Linear(4, 2)
    else:
        model = plugrad.nn.Sequential(plugrad.nn.Linear(4, 8), plugrad.nn.Tanh(),
                                      plugrad.nn.Linear(8, 2))
    model = model.to(getattr(plugrad, dtype))
    model.load_state_dict({k: plugrad.tensor(v.numpy()) for k, v in ref.state_dict().items()})
    return model.to(device)


def _lbfgs_train(mod, kind, dtype, kw, steps=STEPS, device="cpu", model=None, opt=None):
    model = model if model is not None else _lbfgs_model(mod, kind, dtype, device)
    opt = opt if opt is not None else mod.optim.LBFGS(model.parameters(), **kw)
    x, y = (t.to(getattr(mod, dtype)) for t in _data(mod, device))
    losses = []
    for _ in range(steps):
        def closure():
            opt.zero_grad()
            loss = ((model(x) - y) ** 2).mean()
            loss.backward()
            return loss
        losses.append(float(opt.step(closure).detach()))
    return model, opt, losses


def _compare_values(a, b, where, values=True):
    """torch's LBFGS state (tensors, floats, ints, lists, None) against plugrad's: kinds,
    shapes and dtypes always; values where ``values`` (the curvature history is built from
    differences of nearly equal gradients, so its rounding is not comparable at 1e-5)."""
    if isinstance(a, torch.Tensor):
        assert isinstance(b, plugrad.Tensor), where
        assert tuple(b.shape) == tuple(a.shape), where
        assert str(b.dtype) == str(a.dtype), where
        if values:
            np.testing.assert_allclose(_host(b), a.numpy(), rtol=1e-5, atol=1e-6,
                                       err_msg=where)
    elif isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b), where
        for i, (u, v) in enumerate(zip(a, b)):
            _compare_values(u, v, f"{where}[{i}]", values)
    elif isinstance(a, float):
        assert type(b) is float, where
        assert not values or b == pytest.approx(a, rel=1e-5, abs=1e-6), where
    else:
        assert type(b) is type(a) and b == a, where


def _compare_lbfgs_state(sd_t, sd_p):
    assert sd_t["param_groups"] == sd_p["param_groups"]
    assert sd_t["state"].keys() == sd_p["state"].keys()
    for k, st in sd_t["state"].items():
        assert list(st) == list(sd_p["state"][k])
        for key, value in st.items():
            _compare_values(value, sd_p["state"][k][key], f"state[{k}][{key!r}]",
                            values=key in ("func_evals", "n_iter", "prev_loss",
                                           "prev_flat_grad"))


@pytest.mark.parametrize("kind,dtype,kw", LBFGS_CONFIGS, ids=LBFGS_IDS)
def test_lbfgs_twenty_steps_match_torch(device, kind, dtype, kw):
    ref, ot, lt = _lbfgs_train(torch, kind, dtype, kw)
    mine, op, lp = _lbfgs_train(plugrad, kind, dtype, kw, device=device)
    np.testing.assert_allclose(lp, lt, rtol=1e-5, atol=1e-7)
    for (k, a), (_, b) in zip(ref.named_parameters(), mine.named_parameters()):
        assert b.device.type == device
        np.testing.assert_allclose(_host(b), _host(a), rtol=1e-5, atol=1e-6, err_msg=k)
    _compare_lbfgs_state(ot.state_dict(), op.state_dict())


@pytest.mark.parametrize("kind,dtype,kw", LBFGS_CONFIGS[1:4:2], ids=LBFGS_IDS[1:4:2])
def test_lbfgs_state_dict_round_trip(kind, dtype, kw):
    """10 steps, save, load into a fresh LBFGS over a copy of the model, 10 more steps: the
    same as 20 uninterrupted ones (plugrad's and torch's)."""
    ref, ot, _ = _lbfgs_train(torch, kind, dtype, kw)
    straight, _, _ = _lbfgs_train(plugrad, kind, dtype, kw)
    half, oh, _ = _lbfgs_train(plugrad, kind, dtype, kw, steps=10)
    saved = oh.state_dict()
    fresh = _lbfgs_model(plugrad, kind, dtype)
    fresh.load_state_dict(half.state_dict())
    opt = plugrad.optim.LBFGS(fresh.parameters(), **kw)
    opt.load_state_dict(saved)
    _lbfgs_train(plugrad, kind, dtype, kw, steps=10, model=fresh, opt=opt)
    for a, b, c in zip(ref.parameters(), straight.parameters(), fresh.parameters()):
        np.testing.assert_allclose(_host(c), _host(b), rtol=1e-12, atol=0)
        np.testing.assert_allclose(_host(c), _host(a), rtol=1e-5, atol=1e-6)
    _compare_lbfgs_state(ot.state_dict(), opt.state_dict())


def test_lbfgs_construction_errors_and_defaults_as_torch():
    pt = [torch.zeros(2, requires_grad=True)]
    pp = [plugrad.zeros(2, requires_grad=True)]
    assert plugrad.optim.LBFGS(pp).defaults == torch.optim.LBFGS(pt).defaults
    assert (plugrad.optim.LBFGS(pp, max_iter=7).defaults["max_eval"]
            == torch.optim.LBFGS(pt, max_iter=7).defaults["max_eval"] == 8)
    for mod, ps in ((torch, pt), (plugrad, pp)):
        with pytest.raises(ValueError, match="Invalid learning rate: -1"):
            mod.optim.LBFGS(ps, lr=-1)
        with pytest.raises(ValueError, match=r"doesn't support per-parameter options"):
            mod.optim.LBFGS([{"params": ps[:1]}, {"params": [mod.zeros(1, requires_grad=True)]}])
        with pytest.raises(TypeError):
            mod.optim.LBFGS(ps, foreach=True)
        opt = mod.optim.LBFGS(ps, line_search_fn="backtracking")
        ps[0].grad = mod.ones(2)
        with pytest.raises(RuntimeError, match="only 'strong_wolfe' is supported"):
            opt.step(lambda: (ps[0] * 2).sum())
