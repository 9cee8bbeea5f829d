"""Mixed precision (issue 11 item 4): autocast's per-op dtypes and GradScaler, against torch."""
from __future__ import annotations

import importlib
import re
import warnings

import numpy as np
import pytest
import torch

import plugrad

# (expression, inputs) evaluated by both libraries inside autocast; the result dtypes must match
CASES = {
    "matmul": lambda L, a, w: a @ w,
    "mm": lambda L, a, w: L.mm(a, w),
    "linear": lambda L, a, w: L.nn.functional.linear(a, w.t()),
    "softmax_f32_input": lambda L, a, w: L.nn.functional.softmax(a, -1),
    "add": lambda L, a, w: a + 1,
    "layer_norm_of_lower": lambda L, a, w: L.nn.functional.layer_norm(a @ w, (4,)),
    "mse_of_lower": lambda L, a, w: L.nn.functional.mse_loss(a @ w, a @ w),
    "sum_of_lower": lambda L, a, w: (a @ w).sum(),
    "exp_of_lower": lambda L, a, w: (a @ w).exp(),
    "log_softmax_of_lower": lambda L, a, w: L.nn.functional.log_softmax(a @ w, -1),
    "cross_entropy": lambda L, a, w: L.nn.functional.cross_entropy(a @ w, L.tensor([0, 1])),
    "mixed_add": lambda L, a, w: (a @ w) + L.ones(2, 4),
    "cat_promotes": lambda L, a, w: L.cat([a @ w, L.ones(2, 4)]),
}


def _name(dt):
    return str(dt).split(".")[1]


@pytest.mark.parametrize("case", sorted(CASES))
def test_cpu_autocast_float16_dtypes_match_torch(case):
    fn = CASES[case]
    a, w = np.ones((2, 3), np.float32), np.ones((3, 4), np.float32)
    with torch.autocast("cpu", dtype=torch.float16):
        theirs = fn(torch, torch.tensor(a), torch.tensor(w))
    with plugrad.autocast("cpu", dtype=plugrad.float16):
        ours = fn(plugrad, plugrad.tensor(a), plugrad.tensor(w))
    assert _name(ours.dtype) == _name(theirs.dtype)
    assert np.allclose(ours.float().numpy(), theirs.float().numpy(), rtol=1e-2)


def test_autocast_layers_and_gradients(device):
    lin = plugrad.nn.Linear(3, 2).to(device)
    conv = plugrad.nn.Conv2d(1, 1, 3).to(device)
    x = plugrad.randn(4, 3, device=device)
    with plugrad.autocast(device, dtype=plugrad.float16):
        y = lin(x)
        z = conv(plugrad.randn(1, 1, 5, 5, device=device))
        assert plugrad.is_autocast_enabled(device)
    assert y.dtype is plugrad.float16 and z.dtype is plugrad.float16
    y.float().sum().backward()
    assert lin.weight.grad.dtype is plugrad.float32      # the fp32 master weight gets the grad
    assert (lin(x)).dtype is plugrad.float32              # nothing is left patched after exit
    assert not plugrad.is_autocast_enabled(device)


def test_autocast_state_functions_and_nesting():
    assert plugrad.is_autocast_enabled() is torch.is_autocast_enabled() is False
    assert plugrad.get_autocast_dtype("cpu") is plugrad.bfloat16
    assert plugrad.get_autocast_dtype("cuda") is plugrad.float16
    a = plugrad.ones(2, 2)
    with plugrad.autocast("cpu", dtype=plugrad.float16):
        assert plugrad.is_autocast_cpu_enabled() and plugrad.is_autocast_enabled("cpu")
        with plugrad.autocast("cpu", enabled=False):
            assert (a @ a).dtype is plugrad.float32
        assert (a @ a).dtype is plugrad.float16
    assert not plugrad.is_autocast_enabled("cpu")

    @plugrad.autocast("cpu", dtype=plugrad.float16)
    def f(t):
        return t @ t
    assert f(a).dtype is plugrad.float16


def test_autocast_refusals_warn_as_torch():
    a = plugrad.ones(2, 2)
    with pytest.warns(UserWarning, match="CPU autocast, but the target dtype is not supported"):
        with plugrad.autocast("cpu", dtype=plugrad.float32):
            assert (a @ a).dtype is plugrad.float32
    # plugrad's cpu backend has no bfloat16 arithmetic: torch's 'unsupported dtype' rule applies
    if not plugrad.tensor(1.0).device.ops.supports("cast", "bfloat16"):
        with pytest.warns(UserWarning, match="Disabling autocast"):
            with plugrad.autocast("cpu"):
                assert (a @ a).dtype is plugrad.float32
    if not plugrad.cuda.is_available():
        with pytest.warns(UserWarning, match="CUDA is not available"):
            with plugrad.autocast("cuda"):
                pass
    with pytest.raises(RuntimeError):
        plugrad.autocast("xyz")
    with pytest.raises(ValueError, match="Expected `device_type` of type `str`"):
        plugrad.autocast(plugrad.device("cpu"))


def _train(lib, scaler_device, enabled, steps=4, device=None, init_scale=2.0 ** 16,
           poison=None):
    lib.manual_seed(0)
    m = lib.nn.Linear(3, 1)
    if device:
        m = m.to(device)
    opt = lib.optim.SGD(m.parameters(), lr=0.1)
    scaler = lib.amp.GradScaler(scaler_device, init_scale=init_scale, growth_interval=2,
                                enabled=enabled)
    x = lib.ones(4, 3) if device is None else lib.ones(4, 3, device=device)
    scales, losses = [], []
    for step in range(steps):
        opt.zero_grad()
        loss = (m(x) ** 2).mean()
        if poison == step:
            loss = loss * float("inf")
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()
        scales.append(scaler.get_scale())
        losses.append(loss.item())
    return scales, losses, m.weight.detach().cpu().numpy(), scaler.state_dict()


@pytest.mark.parametrize("enabled", [True, False])
@pytest.mark.parametrize("poison", [None, 1])
def test_grad_scaler_matches_torch(device, enabled, poison):
    ours = _train(plugrad, device, enabled, device=device, poison=poison)
    theirs = _train(torch, "cpu", enabled, poison=poison)
    assert ours[0] == theirs[0]                        # scale after each update
    assert ours[3] == theirs[3]
    assert np.allclose(ours[2], theirs[2], atol=1e-6, equal_nan=True)  # inf step skipped


def test_grad_scaler_errors_and_aliases():
    m = plugrad.nn.Linear(2, 1)
    opt = plugrad.optim.SGD(m.parameters(), lr=0.1)
    s = plugrad.amp.GradScaler("cpu")
    s.scale(m(plugrad.ones(1, 2)).sum()).backward()
    s.unscale_(opt)
    with pytest.raises(RuntimeError, match=re.escape("unscale_() has already been called")):
        s.unscale_(opt)
    s.step(opt)
    with pytest.raises(RuntimeError, match=re.escape("step() has already been called")):
        s.step(opt)
    s.update()
    with pytest.raises(RuntimeError, match="source state dict is empty"):
        s.load_state_dict({})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        legacy = importlib.import_module("plugrad.cuda.amp").GradScaler()
    assert legacy.is_enabled() is plugrad.cuda.is_available()
    assert plugrad.amp.GradScaler("cpu", enabled=False).get_scale() == 1.0
    t = plugrad.ones(1)
    assert plugrad.amp.GradScaler("cpu", enabled=False).scale(t) is t
