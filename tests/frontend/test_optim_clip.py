"""nn.utils against torch: gradient clipping (every norm type, devices) and flattening."""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch

import plugrad

SHAPES = [(4, 3), (3,), ()]


def _params(mod, device="cpu", seed=0, scale=1.0, with_none=False):
    rng = np.random.default_rng(seed)
    ps = []
    for i, s in enumerate(SHAPES):
        p = mod.tensor(rng.standard_normal(s).astype(np.float32), device=device,
                       requires_grad=True)
        if not (with_none and i == 1):
            p.grad = mod.tensor((scale * rng.standard_normal(s)).astype(np.float32),
                                device=device)
        ps.append(p)
    return ps


def _grads(ps):
    return [None if p.grad is None else p.grad.detach().cpu().numpy() for p in ps]


@pytest.mark.parametrize("norm_type", [2.0, 1, 3.5, math.inf, 0.0, "inf"])
@pytest.mark.parametrize("max_norm", [0.5, 100.0])
def test_clip_grad_norm(device, norm_type, max_norm):
    nt = float(norm_type)
    pt = _params(torch, with_none=True)
    pp = _params(plugrad, device, with_none=True)
    total_t = torch.nn.utils.clip_grad_norm_(pt, max_norm, norm_type=nt)
    total_p = plugrad.nn.utils.clip_grad_norm_(pp, max_norm, norm_type=nt)
    assert total_p.shape == () and total_p.device.type == device
    np.testing.assert_allclose(total_p.item(), total_t.item(), rtol=1e-6)
    for a, b in zip(_grads(pt), _grads(pp)):
        if a is None:
            assert b is None
        else:
            np.testing.assert_allclose(b, a, rtol=1e-6, atol=1e-7)


def test_clip_grad_value_and_single_tensor(device):
    pt = _params(torch, scale=3.0)
    pp = _params(plugrad, device, scale=3.0)
    torch.nn.utils.clip_grad_value_(pt, 1.5)
    plugrad.nn.utils.clip_grad_value_(pp, 1.5)
    for a, b in zip(_grads(pt), _grads(pp)):
        np.testing.assert_array_equal(b, a)
    # a single tensor is accepted where an iterable is expected
    t = torch.nn.utils.clip_grad_norm_(pt[0], 0.1)
    p = plugrad.nn.utils.clip_grad_norm_(pp[0], 0.1)
    np.testing.assert_allclose(p.item(), t.item(), rtol=1e-6)
    np.testing.assert_allclose(_grads(pp[:1])[0], _grads(pt[:1])[0], rtol=1e-6)


def test_clip_edge_cases():
    assert plugrad.nn.utils.clip_grad_norm_([], 1.0).item() == 0.0
    with pytest.warns(UserWarning, match="empty generator"):
        plugrad.nn.utils.clip_grad_norm_((p for p in []), 1.0)
    for mod in (torch, plugrad):
        p = mod.tensor([1.0, 2.0], requires_grad=True)
        p.grad = mod.tensor([float("inf"), 1.0])
        with pytest.raises(RuntimeError, match="non-finite"):
            mod.nn.utils.clip_grad_norm_([p], 1.0, error_if_nonfinite=True)
        assert p.grad.tolist()[1] == 1.0     # the error leaves gradients untouched
    with pytest.warns(FutureWarning):
        plugrad.nn.utils.clip_grad_norm([plugrad.zeros(1, requires_grad=True)], 1.0)


def test_parameters_to_vector_round_trip(device):
    lin_t = torch.nn.Linear(3, 2)
    lin_p = plugrad.nn.Linear(3, 2).to(device)
    with torch.no_grad(), plugrad.no_grad():
        for a, b in zip(lin_t.parameters(), lin_p.parameters()):
            b.copy_(plugrad.tensor(a.numpy()).to(device))
    vt = torch.nn.utils.parameters_to_vector(lin_t.parameters())
    vp = plugrad.nn.utils.parameters_to_vector(lin_p.parameters())
    assert vp.shape == (8,) and vp.grad_fn is not None and vp.device.type == device
    np.testing.assert_array_equal(vp.detach().cpu().numpy(), vt.detach().numpy())
    # the vector is differentiable: d(sum(v * c))/dparams = c reshaped
    (vp * plugrad.arange(8.0, device=device)).sum().backward()
    assert lin_p.weight.grad.cpu().tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    new = plugrad.arange(8.0, device=device) * 0.5
    plugrad.nn.utils.vector_to_parameters(new, lin_p.parameters())
    assert lin_p.bias.cpu().tolist() == [3.0, 3.5]
    assert lin_p.weight.shape == (2, 3) and lin_p.weight.is_leaf
    with pytest.raises(TypeError, match="expected torch.Tensor"):
        plugrad.nn.utils.vector_to_parameters([1.0], lin_p.parameters())


def test_parameters_on_two_devices_rejected():
    from conftest import availability
    if availability("opencl") is not True:
        pytest.skip(f"backend 'opencl' unavailable: {availability('opencl')}")
    a = plugrad.zeros(2, requires_grad=True)
    b = plugrad.zeros(2, device="opencl", requires_grad=True)
    with pytest.raises(TypeError, match="different devices"):
        plugrad.nn.utils.parameters_to_vector([a, b])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        a.grad = plugrad.ones(2)
        b.grad = plugrad.ones(2, device="opencl") * 2
        total = plugrad.nn.utils.clip_grad_norm_([a, b], 1.0)
    np.testing.assert_allclose(total.item(), math.sqrt(10), rtol=1e-6)
    assert b.grad.device.type == "opencl"
