"""The kit's second and third phases: autograd and a short training run on the backend.

Phase one proves each contract op; these prove that the ops compose the way the frontend
uses them. Each autograd case (Chainer's ``FunctionTestCase`` shape: inputs, forward) runs
forward, backward with a seeded cotangent and, where marked, double backward, on the device
and on cpu; a mismatch names the op, the input, the element, the value received and the value
expected, as MiniTorch's ``grad_check`` does. The training run fits a small MLP with SGD and
Adam and compares the loss curve with cpu's.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

RTOL, ATOL = 1e-4, 1e-5


@dataclass
class FrontendResult:
    name: str
    status: str          # pass | fail | error | skip
    detail: str = ""
    max_abs: float = 0.0


def _pos(shape, seed):
    return np.random.default_rng(seed).uniform(0.5, 2.0, shape).astype("float32")


def _any(shape, seed):
    return np.random.default_rng(seed).uniform(-2.0, 2.0, shape).astype("float32")


def _cases(torch):
    F = torch.nn.functional
    idx = np.array([2, 0, 2, 1])
    # name, inputs, forward, double backward too
    return [
        ("add-broadcast", [_any((3, 4), 1), _any((4,), 2)], lambda a, b: a + b, False),
        ("sub", [_any((3, 4), 1), _any((3, 1), 2)], lambda a, b: a - b, False),
        ("mul", [_any((3, 4), 1), _any((3, 4), 2)], lambda a, b: a * b, True),
        ("div", [_any((3, 4), 1), _pos((4,), 2)], lambda a, b: a / b, True),
        ("pow", [_pos((3, 4), 1), _any((3, 4), 2)], lambda a, b: a ** b, False),
        ("exp", [_any((3, 4), 1)], lambda a: a.exp(), True),
        ("log", [_pos((3, 4), 1)], lambda a: a.log(), False),
        ("sqrt", [_pos((3, 4), 1)], lambda a: a.sqrt(), False),
        ("tanh", [_any((3, 4), 1)], lambda a: a.tanh(), True),
        ("sigmoid", [_any((3, 4), 1)], lambda a: a.sigmoid(), True),
        ("sin", [_any((3, 4), 1)], lambda a: a.sin(), False),
        ("erf", [_any((3, 4), 1)], lambda a: torch.erf(a), False),
        ("relu", [_pos((3, 4), 1) * np.float32([1, -1, 1, -1])], lambda a: torch.relu(a),
         False),
        ("sum-dim", [_any((3, 4, 5), 1)], lambda a: a.sum(1), False),
        ("mean", [_any((3, 4), 1)], lambda a: a.mean(), False),
        ("amax", [_any((3, 4), 1)], lambda a: a.amax(1), False),
        ("var", [_any((3, 4), 1)], lambda a: a.var(1), False),
        ("cumsum", [_any((3, 4), 1)], lambda a: a.cumsum(1), False),
        ("matmul", [_any((3, 4), 1), _any((4, 5), 2)], lambda a, b: a @ b, True),
        ("matmul-batched", [_any((2, 3, 4), 1), _any((4, 2), 2)], lambda a, b: a @ b, False),
        ("linear", [_any((5, 4), 1), _any((3, 4), 2), _any((3,), 3)],
         lambda x, w, b: F.linear(x, w, b), False),
        ("softmax", [_any((3, 5), 1)], lambda a: torch.softmax(a, 1), True),
        ("log_softmax", [_any((3, 5), 1)], lambda a: torch.log_softmax(a, 1), False),
        ("where", [_any((3, 4), 1), _any((3, 4), 2)], lambda a, b: torch.where(a > 0, a, b),
         False),
        ("cat", [_any((2, 4), 1), _any((3, 4), 2)], lambda a, b: torch.cat([a, b], 0), False),
        ("permute-reshape", [_any((2, 3, 4), 1)],
         lambda a: a.permute(2, 0, 1).reshape(4, 6), False),
        ("index", [_any((3, 4), 1)], lambda a: a[torch.tensor(idx, device=a.device)], False),
        ("mse_loss", [_any((4, 3), 1), _any((4, 3), 2)], lambda a, b: F.mse_loss(a, b),
         False),
    ]


def _host(t):
    return t.detach().to("cpu").numpy()


def _first_mismatch(got, want):
    if got.shape != want.shape or got.dtype != want.dtype:
        return f"shape {got.shape} {got.dtype}, expected {want.shape} {want.dtype}"
    bad = ~np.isclose(got, want, rtol=RTOL, atol=ATOL, equal_nan=True)
    if not bad.any():
        return None
    where = tuple(int(i) for i in np.argwhere(bad)[0])
    return f"at index {where}: received {got[where]!r}, expected {want[where]!r}"


def _run_case(torch, device, inputs, fn, double):
    """Outputs, gradients and (double) second-order gradients as host arrays."""
    xs = [torch.tensor(x, device=device, requires_grad=True) for x in inputs]
    out = fn(*xs)
    rng = np.random.default_rng(7)
    cot = torch.tensor(rng.uniform(-1, 1, tuple(out.shape)).astype("float32"), device=device)
    results = [("forward output", _host(out))]
    grads = torch.autograd.grad(out, xs, grad_outputs=cot, create_graph=double,
                                allow_unused=True)
    for i, g in enumerate(grads):
        results.append((f"gradient of input {i}", _host(g) if g is not None else None))
    if double:
        vs = [torch.tensor(rng.uniform(-1, 1, x.shape).astype("float32"), device=device)
              for x in inputs]
        total = sum((g * v).sum() for g, v in zip(grads, vs) if g is not None)
        second = torch.autograd.grad(total, xs, allow_unused=True)
        for i, g in enumerate(second):
            results.append((f"double-backward gradient of input {i}",
                            _host(g) if g is not None else None))
    return results


def autograd_checks(device, names=None) -> list:
    import plugrad as torch
    out = []
    for name, inputs, fn, double in _cases(torch):
        if names is not None and name not in names:
            continue
        label = f"autograd {name}"
        try:
            want = _run_case(torch, "cpu", inputs, fn, double)
        except Exception as exc:  # the frontend lacks something: not the backend's fault
            out.append(FrontendResult(label, "skip", f"cpu reference failed: "
                                                     f"{type(exc).__name__}: {exc}"))
            continue
        try:
            got = _run_case(torch, device, inputs, fn, double)
        except Exception as exc:
            out.append(FrontendResult(label, "error", f"{type(exc).__name__}: {exc}"))
            continue
        result = FrontendResult(label, "pass")
        for (what, g), (_, w) in zip(got, want):
            if (g is None) != (w is None):
                result = FrontendResult(label, "fail", f"{what}: None on one device only")
                break
            if g is None:
                continue
            problem = _first_mismatch(g, w)
            if problem is None:
                result.max_abs = max(result.max_abs, float(np.abs(g - w).max(initial=0)))
            if problem:
                result = FrontendResult(label, "fail", f"op '{name}': {what} {problem} "
                                                       "(expected = the cpu backend's)",
                                        result.max_abs)
                break
        out.append(result)
    return out


def _train(torch, device, optimizer, steps):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((32, 4)).astype("float32")
    y = np.sin(x @ rng.standard_normal((4, 3))).astype("float32")
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.Tanh(),
                                torch.nn.Linear(16, 3)).to(device)
    opt = (torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9) if optimizer == "sgd"
           else torch.optim.Adam(model.parameters(), lr=0.01))
    xt, yt = torch.tensor(x, device=device), torch.tensor(y, device=device)
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(model(xt), yt)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return np.array(losses)


def training_checks(device, steps=12) -> list:
    """MLP 4-16-3 fitted with SGD (momentum) and Adam: loss falls and tracks cpu's."""
    import plugrad as torch
    out = []
    for optimizer in ("sgd", "adam"):
        label = f"training mlp+{optimizer}"
        try:
            want = _train(torch, "cpu", optimizer, steps)
            got = _train(torch, device, optimizer, steps)
        except Exception as exc:
            out.append(FrontendResult(label, "error", f"{type(exc).__name__}: {exc}"))
            continue
        err = float(np.abs(got - want).max())
        if not np.allclose(got, want, rtol=1e-3, atol=1e-5):
            step = int(np.argmax(~np.isclose(got, want, rtol=1e-3, atol=1e-5)))
            out.append(FrontendResult(label, "fail", f"loss at step {step} is {got[step]:.6g} "
                                                     f"on {device}, {want[step]:.6g} on cpu",
                                      err))
        elif not got[-1] < 0.9 * got[0]:
            out.append(FrontendResult(label, "fail", f"loss did not fall: {got[0]:.4g} -> "
                                                     f"{got[-1]:.4g}", err))
        else:
            out.append(FrontendResult(label, "pass", f"loss {got[0]:.4g} -> {got[-1]:.4g}",
                                      err))
    return out
