"""An optimizer step interrupted half way (KeyboardInterrupt) keeps every parameter's step
count, moments and value together: an updated parameter has its count advanced, the others
are as before, and the next step() continues exactly as torch's uninterrupted run."""
import plugrad
import pytest
import torch

CASES = [
    ("Adam", {"lr": 0.1}, "adam_step"),
    ("AdamW", {"lr": 0.1, "amsgrad": True}, "adam_step"),
    ("Adam", {"lr": 0.1}, None),          # composed from frontend ops
    ("Adagrad", {"lr": 0.1}, None),
    ("RMSprop", {"lr": 0.1, "momentum": 0.5}, None),
]


def _Interrupt(fn, n):
    """Wraps a callable: the ``n``-th call raises KeyboardInterrupt before doing anything."""
    calls = []

    def wrapped(*args, **kwargs):
        calls.append(1)
        if len(calls) == n:
            raise KeyboardInterrupt
        return fn(*args, **kwargs)
    return wrapped


def _params(T):
    return [T.tensor([1.0, -2.0], requires_grad=True), T.tensor([0.5, 3.0], requires_grad=True)]


def _set_grads(ps, T):
    for i, p in enumerate(ps):
        p.grad = T.tensor([0.1 * (i + 1), -0.3])


def _steps(opt, ps):
    return [float(opt.state[p]["step"]) if opt.state[p] else 0.0 for p in ps]


@pytest.mark.parametrize("name, kw, kernel", CASES, ids=[f"{c[0]}-{c[2]}" for c in CASES])
def test_interrupted_step_keeps_each_parameter_consistent(monkeypatch, name, kw, kernel):
    ps = _params(plugrad)
    opt = getattr(plugrad.optim, name)([{"params": [p]} for p in ps], **kw)
    _set_grads(ps, plugrad)
    ops = plugrad.tensor(0.0).device.ops
    if kernel is None:
        monkeypatch.setattr(ops, "adam_step", None)
        # the composed update ends in an addcdiv_/add_ on the parameter: interrupt the
        # second parameter's update before it starts (its first frontend in-place op)
        module = __import__(f"plugrad.optim.{name.lower().rstrip('w')}", fromlist=["x"])
        fn_name = {"Adam": "_single_tensor_adam"}.get(name)
        if fn_name:
            monkeypatch.setattr(module, fn_name, _Interrupt(getattr(module, fn_name), 2))
        else:
            monkeypatch.setattr(plugrad.Tensor, "addcmul_",
                                _Interrupt(plugrad.Tensor.addcmul_, 2))
    else:
        monkeypatch.setattr(ops, kernel, _Interrupt(getattr(ops, kernel), 2))
    before = [p.detach().clone() for p in ps]
    with pytest.raises(KeyboardInterrupt):
        opt.step()
    monkeypatch.undo()
    assert _steps(opt, ps) == [1.0, 0.0]
    assert ps[0].tolist() != before[0].tolist()
    assert ps[1].tolist() == before[1].tolist()
    # finishing: the second parameter's first step, as torch's
    opt.param_groups[0]["params"] = []          # only the second one steps now
    opt.step()
    tp = _params(torch)
    topt = getattr(torch.optim, name)([tp[1]], **kw)
    _set_grads(tp, torch)
    topt.step()
    assert ps[1].tolist() == pytest.approx(tp[1].tolist(), rel=1e-6)
    assert _steps(opt, ps) == [1.0, 1.0]
