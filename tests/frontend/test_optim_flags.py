"""foreach / fused / capturable / differentiable / maximize on every optimizer (issue 11
item 3): each flag combination constructs what torch constructs (same defaults) or fails as
torch fails (same exception type and message); updates under the flags equal torch's."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import plugrad

NAMES = ["SGD", "Adam", "AdamW", "Adagrad", "RMSprop", "Adadelta", "Adamax", "NAdam", "RAdam",
         "Rprop", "ASGD", "Adafactor", "SparseAdam", "LBFGS"]
FLAGS = [dict(foreach=True), dict(foreach=False), dict(fused=True), dict(fused=False),
         dict(capturable=True), dict(differentiable=True), dict(maximize=True),
         dict(fused=True, foreach=True), dict(fused=True, differentiable=True),
         dict(fused=True, capturable=True)]


def _construct(mod, name, flags):
    kw = dict(flags, lr=0.1) if name == "SGD" else dict(flags)
    try:
        return "ok", getattr(mod.optim, name)([mod.zeros(2, requires_grad=True)], **kw).defaults
    except Exception as err:            # the comparison is the point: type and message
        return type(err).__name__, str(err)


@pytest.mark.parametrize("flags", FLAGS, ids=lambda f: ",".join(f"{k}={v}" for k, v in f.items()))
@pytest.mark.parametrize("name", NAMES)
def test_flags_construct_or_fail_as_torch(name, flags):
    assert _construct(plugrad, name, flags) == _construct(torch, name, flags)


STEPPED = [("SGD", dict(lr=0.1, momentum=0.9, fused=True)), ("SGD", dict(lr=0.1, foreach=True)),
           ("Adam", dict(fused=True)), ("AdamW", dict(fused=True, maximize=True)),
           ("Adagrad", dict(fused=True)), ("RMSprop", dict(foreach=True)),
           ("NAdam", dict(foreach=True)), ("RAdam", dict(foreach=False, maximize=True))]


@pytest.mark.parametrize("name,kw", [(n, dict(capturable=True)) for n in (
    "Adam", "AdamW", "RMSprop", "Adadelta", "ASGD", "Rprop", "NAdam", "RAdam", "Adamax")] + [
    (n, dict(differentiable=True)) for n in ("Adam", "SGD", "Adagrad", "RMSprop")],
    ids=lambda v: v if isinstance(v, str) else ",".join(v))
def test_step_errors_on_cpu_parameters_match_torch(name, kw):
    """capturable needs a device graphs can capture on (torch: not the cpu); differentiable
    updates a leaf that requires grad in place under grad mode: both are torch's errors."""
    errors = []
    for mod in (torch, plugrad):
        w = mod.ones(2, requires_grad=True)
        opt = getattr(mod.optim, name)([w], **dict(kw, lr=0.1) if name == "SGD" else kw)
        (w * w).sum().backward()
        with pytest.raises(Exception) as err:
            opt.step()
        errors.append((type(err.value), str(err.value)))
    assert errors[1] == errors[0]


@pytest.mark.parametrize("name,kw", STEPPED, ids=[f"{n}-{kw}" for n, kw in STEPPED])
def test_updates_under_flags_equal_torch(device, name, kw):
    rng = np.random.default_rng(0)
    w0, x0 = rng.standard_normal((3, 4)).astype(np.float32), rng.standard_normal((8, 3))
    out = []
    for mod, dev in ((torch, "cpu"), (plugrad, device)):
        w = mod.tensor(w0, requires_grad=True) if mod is torch else \
            plugrad.tensor(w0, device=dev, requires_grad=True)
        x = mod.tensor(x0.astype(np.float32)) if mod is torch else \
            plugrad.tensor(x0.astype(np.float32), device=dev)
        opt = getattr(mod.optim, name)([w], **kw)
        for _ in range(10):
            opt.zero_grad()
            (x @ w).tanh().square().mean().backward()
            opt.step()
        out.append(w.detach().cpu().numpy())
    np.testing.assert_allclose(out[1], out[0], rtol=1e-5, atol=1e-6)
