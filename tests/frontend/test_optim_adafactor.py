"""Adafactor (torch 2.13's torch.optim.Adafactor) and SparseAdam against torch: 20 steps from
the same weights on cpu and opencl (a 3-d parameter too: factored over its last two dims),
state dicts, and torch's errors."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import plugrad
from test_optim_more import _assert_params, _compare_state, _model, _train

CONFIGS = [dict(), dict(lr=0.05, beta2_decay=-0.5, eps=(1e-30, 1e-2), d=2.0, weight_decay=0.1),
           dict(lr=1e-3, maximize=True), dict(eps=(1e-20, 1e-3), weight_decay=0.5, foreach=True)]
IDS = ["-".join(f"{k}={v}" for k, v in kw.items()) or "defaults" for kw in CONFIGS]


@pytest.mark.parametrize("kw", CONFIGS, ids=IDS)
def test_twenty_steps_match_torch(device, kw):
    ref, ot = _train(torch, "Adafactor", kw)
    mine, op = _train(plugrad, "Adafactor", kw, device=device)
    _assert_params(ref, mine)
    _compare_state(ot.state_dict(), op.state_dict())
    for p in mine.parameters():
        st = op.state[p]
        assert st["step"].device.type == "cpu"
        assert ("row_var" in st) == (p.dim() > 1) and ("variance" in st) == (p.dim() == 1)


def test_three_dimensional_parameter_is_factored_over_its_last_two_dims(device):
    rng = np.random.default_rng(1)
    w0 = rng.standard_normal((3, 4, 5)).astype(np.float32)
    out = []
    for mod in (torch, plugrad):
        w = mod.tensor(w0, requires_grad=True) if mod is torch else \
            plugrad.tensor(w0, device=device, requires_grad=True)
        opt = mod.optim.Adafactor([w], lr=0.02)
        for _ in range(20):
            opt.zero_grad()
            ((w * w).sum(-1) ** 2).mean().backward()
            opt.step()
        st = opt.state[w]
        out.append((w.detach().cpu().numpy(), tuple(st["row_var"].shape),
                    tuple(st["col_var"].shape), st["col_var"].detach().cpu().numpy()))
    (wt, rt, ct, cvt), (wp, rp, cp, cvp) = out
    assert (rt, ct) == (rp, cp) == ((3, 4, 1), (3, 1, 5))
    np.testing.assert_allclose(wp, wt, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(cvp, cvt, rtol=1e-5, atol=1e-7)


def test_state_dict_round_trip():
    ref, ot = _train(torch, "Adafactor", {})
    half, oh = _train(plugrad, "Adafactor", {}, steps=10)
    fresh = _model(plugrad)
    fresh.load_state_dict(half.state_dict())
    opt = plugrad.optim.Adafactor(fresh.parameters())
    opt.load_state_dict(oh.state_dict())
    _train(plugrad, "Adafactor", {}, steps=10, model=fresh, opt=opt)
    _assert_params(ref, fresh)
    _compare_state(ot.state_dict(), opt.state_dict())


def test_defaults_and_flags_as_torch():
    pt, pp = [torch.zeros(2, requires_grad=True)], [plugrad.zeros(2, requires_grad=True)]
    assert plugrad.optim.Adafactor(pp).defaults == torch.optim.Adafactor(pt).defaults
    assert (plugrad.optim.Adafactor(pp, foreach=False, maximize=True).defaults
            == torch.optim.Adafactor(pt, foreach=False, maximize=True).defaults)
    for flag in ("fused", "capturable", "differentiable"):   # torch's Adafactor has none
        for mod, ps in ((torch, pt), (plugrad, pp)):
            with pytest.raises(TypeError):
                mod.optim.Adafactor(ps, **{flag: False})


ERRORS = [dict(lr=-1.0), dict(beta2_decay=0.5), dict(eps=(-1.0, 1e-3)), dict(eps=(None, -1.0)),
          dict(d=0.5), dict(weight_decay=-0.1)]


@pytest.mark.parametrize("kw", ERRORS, ids=[str(k) for k in ERRORS])
def test_errors_match_torch(kw):
    with pytest.raises(ValueError) as theirs:
        torch.optim.Adafactor([torch.zeros(2, requires_grad=True)], **kw)
    with pytest.raises(ValueError) as ours:
        plugrad.optim.Adafactor([plugrad.zeros(2, requires_grad=True)], **kw)
    assert str(ours.value) == str(theirs.value)
    with pytest.raises(ValueError, match="Tensor lr must be 1-element"):
        plugrad.optim.Adafactor([plugrad.zeros(2, requires_grad=True)], lr=plugrad.ones(2))


SPARSE_ERRORS = [dict(lr=0.0), dict(lr=-1.0), dict(eps=0.0), dict(betas=(1.0, 0.9)),
                 dict(betas=(0.9, -0.1))]


@pytest.mark.parametrize("kw", SPARSE_ERRORS, ids=[str(k) for k in SPARSE_ERRORS])
def test_sparse_adam_construction_errors_match_torch(kw):
    with pytest.raises(ValueError) as theirs:
        torch.optim.SparseAdam([torch.zeros(2, requires_grad=True)], **kw)
    with pytest.raises(ValueError) as ours:
        plugrad.optim.SparseAdam([plugrad.zeros(2, requires_grad=True)], **kw)
    assert str(ours.value) == str(theirs.value)


def test_sparse_adam_defaults_and_dense_gradient_error_match_torch():
    """plugrad has no sparse gradients (Embedding(sparse=True) gives a dense one), so its
    SparseAdam meets only dense gradients and refuses them with torch's error."""
    opts = []
    for mod in (torch, plugrad):
        emb = mod.nn.Embedding(5, 3)
        opt = mod.optim.SparseAdam(emb.parameters(), lr=0.01, maximize=True)
        emb(mod.tensor([1, 2])).sum().backward()
        with pytest.raises(RuntimeError) as err:
            opt.step()
        opts.append((opt, str(err.value)))
    (t_opt, t_msg), (p_opt, p_msg) = opts
    assert p_msg == t_msg
    assert p_opt.defaults == t_opt.defaults
    assert p_opt.state_dict()["param_groups"] == t_opt.state_dict()["param_groups"]
    assert not p_opt.state
    with pytest.raises(TypeError):
        plugrad.optim.SparseAdam([plugrad.zeros(2, requires_grad=True)], foreach=True)
    with pytest.raises(TypeError):
        torch.optim.SparseAdam([torch.zeros(2, requires_grad=True)], foreach=True)
