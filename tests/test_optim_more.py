"""Adamax, NAdam, RAdam, Rprop, ASGD against torch: 20 steps of a small model from the same
initial weights (cpu and opencl), state dicts (layout, round trip, torch's state loading) and
torch's errors for bad hyperparameters."""
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
