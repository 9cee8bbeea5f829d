"""Differential helpers for the nn tests: build a layer in torch and in plugrad, compare.

``check_module(make, inputs, device)`` builds ``make(torch.nn)`` after ``torch.manual_seed``
and ``make(plugrad.nn)`` after ``plugrad.manual_seed`` with the same seed, then checks, in order:

1. repr, parameter and buffer names are torch's;
2. default initialisation is bit-identical to torch's (``bitwise=False`` for inits that need
   a QR and so cannot be);
3. after ``load_state_dict(torch's state)`` and ``.to(device)``: forward values, shapes and
   dtypes (outputs may be tuples), with the random stream re-seeded so dropout masks match;
4. gradients of ``sum(out_i * g_i)`` (fixed random ``g_i``) for every float input and every
   parameter, and the buffers after the step (running statistics).

A failure names the case and the stage ("forward", "grad input 0", "grad weight", ...).
``check_fn`` does steps 3-4 for a functional call on numpy inputs.
"""
from __future__ import annotations

import numpy as np
import plugrad
import torch


def host(t):
    """numpy copy of a torch or plugrad tensor (any device)."""
    if isinstance(t, torch.Tensor):
        return t.detach().numpy()
    return t.detach().cpu().numpy()


def flatten(out):
    if isinstance(out, (tuple, list)):
        result = []
        for o in out:
            result += flatten(o)
        return result
    return [] if out is None else [out]


def _inputs(arrays, lib, device, grad):
    out = []
    for a in arrays:
        if isinstance(a, np.ndarray):
            wants = grad and a.dtype.kind == "f"
            out.append(torch.tensor(a, requires_grad=wants) if lib is torch else
                       plugrad.tensor(a, device=device, requires_grad=wants))
        else:
            out.append(a)
    return out


def compare_outputs(name, t_out, p_out, atol, rtol):
    t_flat, p_flat = flatten(t_out), flatten(p_out)
    assert len(t_flat) == len(p_flat), f"{name}: {len(p_flat)} outputs, torch {len(t_flat)}"
    for i, (a, b) in enumerate(zip(t_flat, p_flat)):
        assert tuple(a.shape) == tuple(b.shape), f"{name} forward output {i}: shape " \
            f"{tuple(b.shape)}, torch {tuple(a.shape)}"
        assert str(a.dtype) == f"torch.{b.dtype.name}", f"{name} forward output {i}: dtype " \
            f"{b.dtype}, torch {a.dtype}"
        np.testing.assert_allclose(host(b), host(a), atol=atol, rtol=rtol,
                                   err_msg=f"{name}: forward output {i}")
    return t_flat, p_flat


def backward_both(t_flat, p_flat, device, seed):
    """Backward of sum(out_i * g_i) over the float outputs, the same g_i on both sides."""
    rng = np.random.default_rng(seed)
    pairs = [(a, b) for a, b in zip(t_flat, p_flat) if a.dtype.is_floating_point]
    gs = [rng.standard_normal(tuple(a.shape)).astype(host(a).dtype) for a, _ in pairs]
    t_loss = sum((a * torch.tensor(g)).sum() for (a, _), g in zip(pairs, gs))
    p_loss = sum((b * plugrad.tensor(g, device=device)).sum() for (_, b), g in zip(pairs, gs))
    t_loss.backward()
    p_loss.backward()


def compare_grads(name, t_inputs, p_inputs, atol, rtol):
    for i, (a, b) in enumerate(zip(t_inputs, p_inputs)):
        if isinstance(a, torch.Tensor) and a.requires_grad:
            assert (b.grad is None) == (a.grad is None), f"{name}: grad input {i} presence"
            if a.grad is not None:
                np.testing.assert_allclose(host(b.grad), host(a.grad), atol=atol, rtol=rtol,
                                           err_msg=f"{name}: grad input {i}")


def check_module(make, inputs, device="cpu", *, atol=1e-5, rtol=1e-4, seed=0, train=True,
                 grad=True, bitwise=True, name="", call=None):
    """Compare a layer with torch's: init, forward, gradients, buffers (see module doc)."""
    torch.manual_seed(seed)
    tm = make(torch.nn)
    plugrad.manual_seed(seed)
    pm = make(plugrad.nn)
    assert repr(pm) == repr(tm), f"{name}: repr\n{pm!r}\n!=\n{tm!r}"
    t_params, p_params = dict(tm.named_parameters()), dict(pm.named_parameters())
    assert list(p_params) == list(t_params), f"{name}: parameter names"
    assert [n for n, _ in pm.named_buffers()] == [n for n, _ in tm.named_buffers()], \
        f"{name}: buffer names"
    for key in t_params:
        a, b = host(t_params[key]), host(p_params[key])
        if bitwise:
            assert np.array_equal(a, b), f"{name}: init of {key} differs from torch's " \
                f"(max {np.abs(a - b).max()})"
        else:
            np.testing.assert_allclose(b, a, atol=1e-6, rtol=1e-5, err_msg=f"{name}: init {key}")
    pm.load_state_dict({k: plugrad.tensor(host(v)) for k, v in tm.state_dict().items()})
    pm.to(device)
    tm.train(train)
    pm.train(train)
    t_in, p_in = _inputs(inputs, torch, device, grad), _inputs(inputs, plugrad, device, grad)
    torch.manual_seed(seed + 1)
    plugrad.manual_seed(seed + 1)
    call = call or (lambda m, args: m(*args))
    t_flat, p_flat = compare_outputs(name, call(tm, t_in), call(pm, p_in), atol, rtol)
    if grad:
        backward_both(t_flat, p_flat, device, seed)
        compare_grads(name, t_in, p_in, atol, rtol)
        for key, t_param in t_params.items():
            p_grad = p_params[key].grad
            if t_param.grad is None:
                assert p_grad is None, f"{name}: {key} got a gradient, torch's has none"
                continue
            np.testing.assert_allclose(host(p_grad), host(t_param.grad), atol=atol, rtol=rtol,
                                       err_msg=f"{name}: grad {key}")
    p_buffers = dict(pm.named_buffers())
    for key, t_buf in tm.named_buffers():
        np.testing.assert_allclose(host(p_buffers[key]), host(t_buf), atol=atol, rtol=rtol,
                                   err_msg=f"{name}: buffer {key}")
    return tm, pm


def check_fn(fn, inputs, device="cpu", *, kwargs=None, grad_inputs=None, atol=1e-5, rtol=1e-4,
             seed=0, name="", grad_fn=True):
    """Compare fn(torch, *inputs, **kwargs) with fn(plugrad, ...): values, grads, grad_fn name.

    ``fn`` receives the library module first (``lambda T, x: T.nn.functional.relu(x)``).
    ``kwargs`` values that are numpy arrays become tensors (no grad) on each side.
    ``grad_inputs`` lists the input positions that require grad (default: float inputs).
    """
    kwargs = kwargs or {}
    if grad_inputs is None:
        grad_inputs = [i for i, a in enumerate(inputs)
                       if isinstance(a, np.ndarray) and a.dtype.kind == "f"]

    def build(lib):
        args = []
        for i, a in enumerate(inputs):
            if not isinstance(a, np.ndarray):
                args.append(a)
            elif lib is torch:
                args.append(torch.tensor(a, requires_grad=i in grad_inputs))
            else:
                args.append(plugrad.tensor(a, device=device, requires_grad=i in grad_inputs))
        kw = {k: (torch.tensor(v) if lib is torch else plugrad.tensor(v, device=device))
              if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
        return args, kw

    t_args, t_kw = build(torch)
    p_args, p_kw = build(plugrad)
    torch.manual_seed(seed + 1)
    plugrad.manual_seed(seed + 1)
    t_out, p_out = fn(torch, *t_args, **t_kw), fn(plugrad, *p_args, **p_kw)
    t_flat, p_flat = compare_outputs(name, t_out, p_out, atol, rtol)
    if grad_fn:
        for a, b in zip(t_flat, p_flat):
            t_name = a.grad_fn.name() if a.grad_fn is not None else None
            p_name = b.grad_fn.name() if b.grad_fn is not None else None
            assert p_name == t_name, f"{name}: grad_fn {p_name}, torch {t_name}"
    if grad_inputs and any(a.requires_grad for a in t_flat):
        backward_both(t_flat, p_flat, device, seed)
        compare_grads(name, t_args, p_args, atol, rtol)
    return t_out, p_out


def raises_like(torch_call, plugrad_call, match_message=True):
    """Both calls raise the same exception type (and, by default, the same message)."""
    try:
        torch_call()
    except Exception as e:  # noqa: BLE001 (the oracle decides)
        t_exc = e
    else:
        raise AssertionError("torch did not raise")
    try:
        plugrad_call()
    except Exception as e:  # noqa: BLE001
        p_exc = e
    else:
        raise AssertionError(f"plugrad did not raise; torch raised {type(t_exc).__name__}: "
                             f"{t_exc}")
    assert type(p_exc) is type(t_exc), f"plugrad raised {type(p_exc).__name__}: {p_exc}; " \
        f"torch {type(t_exc).__name__}: {t_exc}"
    if match_message:
        assert str(p_exc) == str(t_exc), f"message\n  plugrad: {p_exc}\n  torch:   {t_exc}"
    return p_exc
