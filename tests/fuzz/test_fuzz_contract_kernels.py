"""Property-based differential tests of the contract's optional fused kernels, per backend.

Each backend that implements a kernel natively is driven through its dispatch table with
hypothesis-drawn shapes (empty batches and empty reductions included), hyper-parameters and
values, and compared with a float64 reference (numpy, or torch's float64 kernels for
convolutions) within an error bound of the computation, and with PyTorch in the same dtype.
Softmax-family kernels get the full float range (+-inf, nan, values near the dtype's max):
their results must be what torch's are, nan where torch has nan.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from fuzz_profiles import FLOATS, arrays, assert_same, build, fuzz, host, laid_out, quiet
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from plugrad.plugins import get_registry

EPS = {"float16": 2.0 ** -10, "float32": 2.0 ** -23, "float64": 2.0 ** -52}
# results below the smallest normal carry fewer digits: an absolute floor of a few of it
TINY = {d: float(np.finfo(d).smallest_normal) for d in ("float16", "float32", "float64")}


def _table(device, op):
    table = get_registry().table(device)
    if op not in table.native:
        pytest.skip(f"'{op}' is not a native kernel on {device}")
    return table


def _dtype(data, table, op, dtypes=FLOATS):
    choices = [d for d in dtypes if table.supports(op, d)]
    assume(choices)
    return data.draw(st.sampled_from(choices), label="dtype")


def _t(x):
    return torch.from_numpy(np.array(x, copy=True))


@given(data=st.data())
@fuzz(scale=2)
def test_matmul_kernel(device, data):
    table = _table(device, "matmul")
    dtype = _dtype(data, table, "matmul", ("float32", "float64"))
    n, k, m = (data.draw(st.integers(0, 5)) for _ in range(3))
    batch = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=2, max_side=3))
    a, la = data.draw(laid_out(dtype, batch.input_shapes[0] + (n, k), "finite_small"))
    b, lb = data.draw(laid_out(dtype, batch.input_shapes[1] + (k, m), "finite_small"))
    got = host(table, table.matmul(build(table, a, la), build(table, b, lb)))
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    want = np.matmul(a64, b64)
    bound = (k + 2) * (EPS[dtype] * np.matmul(np.abs(a64), np.abs(b64)) + TINY[dtype])
    assert_same(got, want.astype(dtype), atol=bound, signed_zero=False, what="matmul vs f64: ")
    assert_same(got, torch.matmul(_t(a), _t(b)).numpy(), atol=2 * bound, signed_zero=False,
                what="matmul vs torch: ")


def _softmax_reference(x, axis, log):
    """torch's softmax in float64: a row holding +inf or nan is all nan, as is an all -inf row."""
    with quiet():
        x = x.astype(np.float64)
        shifted = x - np.max(x, axis=axis, keepdims=True, initial=-np.inf)
        total = np.sum(np.exp(shifted), axis=axis, keepdims=True)
        if log:
            out = shifted - np.log(total)
            scale = np.abs(shifted) + np.abs(np.log(total))
        else:
            out = np.exp(shifted) / total
            scale = out
    return out, scale


@pytest.mark.parametrize("op", ["softmax", "log_softmax"])
@given(data=st.data())
@fuzz(scale=2)
def test_softmax_kernels(device, op, data):
    table = _table(device, op)
    dtype = _dtype(data, table, op)
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=6))
    axis = data.draw(st.integers(0, len(shape) - 1))
    x, layout = data.draw(laid_out(dtype, shape, data.draw(st.sampled_from(["any",
                                                                            "moderate"]))))
    got = host(table, getattr(table, op)(build(table, x, layout), axis))
    want, scale = _softmax_reference(x, axis, op == "log_softmax")
    n = max(shape[axis], 1)
    # exp/log of an input rounded to the dtype, plus n additions: a few ulps of the scale,
    # and of 1 (the sum of the shifted exponentials is >= 1 and rounded to the dtype: torch's
    # own half log_softmax([4, 0]) is 16 ulps from the exact value)
    atol = np.where(np.isfinite(scale), (n + 8) * EPS[dtype] * (scale + 1), 0)
    assert_same(got, want.astype(dtype), atol=atol, signed_zero=False,
                what=f"{op}(axis={axis}) {dtype} vs f64: ")
    expected = getattr(torch, op)(_t(x), dim=axis).numpy()
    assert_same(got, expected, atol=2 * atol, signed_zero=False, what=f"{op} vs torch: ")


@given(data=st.data())
@fuzz(scale=2)
def test_cross_entropy_kernels(device, data):
    table = _table(device, "cross_entropy")
    dtype = _dtype(data, table, "cross_entropy")
    n, c = data.draw(st.integers(0, 6)), data.draw(st.integers(1, 6))
    x = data.draw(arrays(dtype, (n, c), data.draw(st.sampled_from(["moderate", "finite_small"]))))
    ignore = data.draw(st.sampled_from([-100, 0, c - 1]))
    # targets are in range or ignore_index (the frontend rejects anything else first)
    target = data.draw(hnp.arrays(np.int64, (n,), elements=st.sampled_from(
        sorted(set(range(c)) | {ignore}))))
    loss, lse = table.cross_entropy(table.from_host(x), table.from_host(target), ignore)
    x64 = x.astype(np.float64)
    with quiet():
        want_lse = _softmax_reference(x64, 1, True)[0]
        picked = np.array([-want_lse[i, t] if t != ignore else 0.0
                           for i, t in enumerate(target)]) if n else np.zeros(0)
        log_total = np.log(np.sum(np.exp(x64 - x64.max(1, keepdims=True)), 1)) + x64.max(1) \
            if n else np.zeros(0)
    finite = np.where(np.isfinite(x64), np.abs(x64), 0)
    scale = np.abs(log_total) + (finite.max(1) if n else 0)
    atol = np.where(np.isfinite(scale), (c + 8) * EPS[dtype] * scale, 0)
    assert_same(host(table, lse), log_total.astype(dtype), atol=atol, signed_zero=False,
                what="cross_entropy lse: ")
    assert_same(host(table, loss), picked.astype(dtype), atol=atol, signed_zero=False,
                what="cross_entropy loss: ")
    if n and dtype != "float16":
        expected = F.cross_entropy(_t(x), _t(target), ignore_index=ignore, reduction="none")
        assert_same(host(table, loss), expected.numpy(), atol=2 * atol, signed_zero=False,
                    what="cross_entropy vs torch: ")
    g = data.draw(arrays(dtype, (n,), "finite_small"))
    grad = host(table, table.cross_entropy_backward(table.from_host(g), table.from_host(x),
                                                    table.from_host(target), lse, ignore))
    with quiet():
        soft = np.exp(want_lse)
        onehot = np.zeros((n, c))
        onehot[np.arange(n), np.clip(target, 0, c - 1)] = 1
        live = (target != ignore)[:, None]
        # an ignored row is 0 -- nan where its logits hold nan, as torch's log_softmax
        # backward (g - exp(out) * sum(g)) gives it
        want = np.where(live, g.astype(np.float64)[:, None] * (soft - onehot), 0.0 * soft)
    # the kernel reads lse back in x's dtype: exp(x - lse) is off by the relative error of
    # lse's rounding (an ulp of lse), which in float16 is large for large logits
    with quiet():
        lse_ulp = np.abs(np.spacing(log_total.astype(dtype))).astype(np.float64)
    atol = np.abs(g.astype(np.float64))[:, None] * ((c + 8) * 4 * EPS[dtype] +
                                                    2 * np.nan_to_num(lse_ulp)[:, None])
    assert_same(grad, want.astype(dtype), atol=atol, signed_zero=False,
                what="cross_entropy_backward: ")


@st.composite
def _conv_case(draw):
    groups = draw(st.integers(1, 2))
    cin, cout = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    stride = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    padding = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    h = draw(st.integers(0, 6)) + dilation[0] * (kh - 1) + 1 - 2 * padding[0]
    w = draw(st.integers(0, 6)) + dilation[1] * (kw - 1) + 1 - 2 * padding[1]
    assume(h >= 1 and w >= 1)
    n = draw(st.integers(0, 2))
    return (n, cin, h, w), (cout, cin // groups, kh, kw), stride, padding, dilation, groups


@given(data=st.data())
@fuzz(scale=2)
def test_conv2d_kernels(device, data):
    table = _table(device, "conv2d")
    dtype = _dtype(data, table, "conv2d", ("float32", "float64"))
    xs, ws, stride, padding, dilation, groups = data.draw(_conv_case())
    x, lx = data.draw(laid_out(dtype, xs, "finite_small"))
    w, lw = data.draw(laid_out(dtype, ws, "finite_small"))
    args = (stride, padding, dilation, groups)
    got = host(table, table.conv2d(build(table, x, lx), build(table, w, lw), *args))
    x64, w64 = _t(x).double(), _t(w).double()
    want = F.conv2d(x64, w64, None, *args).numpy()
    k = ws[1] * ws[2] * ws[3]
    bound = (k + 2) * (EPS[dtype] * F.conv2d(x64.abs(), w64.abs(), None, *args).numpy()
                       + TINY[dtype])
    assert_same(got, want.astype(dtype), atol=bound, signed_zero=False, what="conv2d: ")
    g = data.draw(arrays(dtype, want.shape, "finite_small"))
    if "conv2d_input_grad" in table.native:
        got = host(table, table.conv2d_input_grad(table.from_host(g), table.from_host(w), xs,
                                                  *args))
        want = torch.nn.grad.conv2d_input(xs, w64, _t(g).double(), *args).numpy()
        mag = torch.nn.grad.conv2d_input(xs, w64.abs(), _t(g).double().abs(), *args).numpy()
        assert_same(got, want.astype(dtype), atol=(k + 2) * (EPS[dtype] * mag + TINY[dtype]),
                    signed_zero=False, what="conv2d_input_grad: ")
    if "conv2d_weight_grad" in table.native:
        got = host(table, table.conv2d_weight_grad(table.from_host(x), table.from_host(g), ws,
                                                   *args))
        want = torch.nn.grad.conv2d_weight(x64, ws, _t(g).double(), *args).numpy()
        mag = torch.nn.grad.conv2d_weight(x64.abs(), ws, _t(g).double().abs(), *args).numpy()
        n = xs[0] * want.size
        assert_same(got, want.astype(dtype), atol=(n + 2) * (EPS[dtype] * mag + TINY[dtype]),
                    signed_zero=False, what="conv2d_weight_grad: ")


@given(data=st.data())
@fuzz(scale=2)
def test_addmm_act_kernel(device, data):
    table = _table(device, "addmm_act")
    dtype = _dtype(data, table, "addmm_act", ("float32", "float64"))
    n, k, m = (data.draw(st.integers(0, 5)) for _ in range(3))
    act = data.draw(st.sampled_from(["none", "relu", "gelu"]))
    bias_shape = data.draw(st.sampled_from([(m,), (1, m), (n, m), (n, 1), ()]))
    bias = data.draw(arrays(dtype, bias_shape, "finite_small"))
    m1 = data.draw(arrays(dtype, (n, k), "finite_small"))
    m2, l2 = data.draw(laid_out(dtype, (k, m), "finite_small"))
    got = host(table, table.addmm_act(table.from_host(bias), table.from_host(m1),
                                      build(table, m2, l2), act))
    pre = torch.addmm(_t(bias).double(), _t(m1).double(), _t(m2).double())
    want = {"none": pre, "relu": torch.relu(pre), "gelu": F.gelu(pre)}[act].numpy()
    mag = np.abs(bias.astype(np.float64)) + np.abs(m1.astype(np.float64)) @ np.abs(
        m2.astype(np.float64))
    assert_same(got, want.astype(dtype), atol=(k + 4) * (EPS[dtype] * mag + TINY[dtype]),
                signed_zero=False,
                what=f"addmm_act({act}): ")


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
@given(data=st.data())
@fuzz(scale=2)
def test_optimizer_step_kernels(device, optimizer, data):
    """Three steps of the multi-tensor kernel track torch.optim's single-tensor updates."""
    op = f"{optimizer}_step"
    table = _table(device, op)
    dtype = _dtype(data, table, op, ("float32", "float64"))
    shapes = data.draw(st.lists(hnp.array_shapes(min_dims=0, max_dims=2, min_side=0,
                                                 max_side=4), min_size=1, max_size=3))
    params = [data.draw(arrays(dtype, s, "finite_small")) for s in shapes]
    grads = [[data.draw(arrays(dtype, s, "finite_small")) for s in shapes] for _ in range(3)]
    lr = data.draw(st.sampled_from([0.1, 1e-3, 0.5]))
    wd = data.draw(st.sampled_from([0.0, 0.01]))
    maximize = data.draw(st.booleans())
    tparams = [torch.nn.Parameter(_t(p)) for p in params]
    bufs = [table.from_host(p) for p in params]
    if optimizer == "sgd":
        momentum = data.draw(st.sampled_from([0.0, 0.9]))
        dampening = data.draw(st.sampled_from([0.0, 0.1]))
        nesterov = momentum > 0 and dampening == 0 and data.draw(st.booleans())
        topt = torch.optim.SGD(tparams, lr=lr, momentum=momentum, dampening=dampening,
                               weight_decay=wd, nesterov=nesterov, maximize=maximize,
                               foreach=False)
        state = [table.full(s, 0, dtype) for s in shapes]
    else:
        beta1, amsgrad = data.draw(st.sampled_from([0.9, 0.3])), data.draw(st.booleans())
        decoupled = data.draw(st.booleans())
        cls = torch.optim.AdamW if decoupled else torch.optim.Adam
        topt = cls(tparams, lr=lr, betas=(beta1, 0.999), eps=1e-8, weight_decay=wd,
                   amsgrad=amsgrad, maximize=maximize, foreach=False)
        state = [[table.full(s, 0, dtype) for s in shapes] for _ in range(3)]
    for step in range(1, 4):
        gbufs = [table.from_host(g) for g in grads[step - 1]]
        for p, g in zip(tparams, grads[step - 1]):
            p.grad = _t(g)
        topt.step()
        if optimizer == "sgd":
            table.sgd_step(bufs, gbufs, state, dict(
                lr=lr, momentum=momentum, dampening=dampening, weight_decay=wd,
                nesterov=nesterov, maximize=maximize, first_step=step == 1))
        else:
            table.adam_step(bufs, gbufs, state[0], state[1], state[2] if amsgrad else None,
                            dict(lr=lr, beta1=beta1, beta2=0.999, eps=1e-8, weight_decay=wd,
                                 decoupled=decoupled, amsgrad=amsgrad, maximize=maximize,
                                 step=step))
    for i, (buf, p) in enumerate(zip(bufs, tparams)):
        want = p.detach().numpy()
        assert_same(host(table, buf), want, ulps=8, atol=16 * EPS[dtype] * lr,
                    what=f"{op} parameter {i} after 3 steps vs torch.optim: ")
