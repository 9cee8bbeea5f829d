"""bfloat16 on opencl (issue 11 item 4): 2-byte buffers, kernels that load through float and
store rounded to nearest even, against torch 2.13's cpu bfloat16 as the oracle. The per-op
tables (unary, binary, Python scalars, reductions, casts, training) run on every device in
tests/frontend/test_bfloat16.py; this file holds what is opencl's own: storage, the
generator's bfloat16 helpers, the fused kernels, the nn kernels, atomics and autocast."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from program_builder import ProgramBuilder, replay

import plugrad
from plugrad.backends.opencl import templates as T
from plugrad.backends.opencl.fused import FusedKernel
from plugrad.plugins.fusion import Chain, Node

# the conftest's ``device`` fixture, for opencl only: skipped where it is unavailable, failed
# where PLUGRAD_TEST_REQUIRE names it
pytestmark = [pytest.mark.parametrize("device", ["opencl"], indirect=True),
              pytest.mark.usefixtures("device")]

RS = np.random.RandomState(1)
X = (RS.randn(12, 40) * 2).astype(np.float32)
W = (RS.randn(24, 40) * 0.3).astype(np.float32)


def bits(t):
    """The bfloat16 bit patterns of a torch or plugrad bfloat16 tensor (as uint16)."""
    values = t.detach().float().cpu().numpy()
    return (values.view(np.uint32) >> 16).astype(np.uint16)


def assert_same_bits(t, p):
    assert str(p.dtype) == str(t.dtype)
    a, b = t.detach().float().numpy(), p.detach().float().cpu().numpy()
    np.testing.assert_array_equal(b, a)


def assert_within_one_ulp(t, p):
    """Float32 accumulations in another order may round to the neighbouring bfloat16."""
    assert str(p.dtype) == str(t.dtype)
    a, b = t.detach().float().numpy(), p.detach().float().cpu().numpy()
    np.testing.assert_allclose(b, a, rtol=2 ** -7, atol=1e-6)


def test_storage_is_two_bytes_an_element_and_supports_says_so():
    x = plugrad.ones(1000, dtype=plugrad.bfloat16, device="opencl")
    assert x.element_size() == 2 and x.dtype is plugrad.bfloat16
    assert x._data.dtype.itemsize == 2 and x._data.data.size < 4000   # (pooled: 2047)
    assert x.device.ops.supports("matmul", "bfloat16")
    y = x.cpu()
    assert y.dtype is plugrad.bfloat16 and y.device.type == "cpu"
    assert y.to("opencl").dtype is plugrad.bfloat16


def test_creation_equals_torch():
    for make in (lambda L, d: L.zeros(3, 5, dtype=L.bfloat16, **d),
                 lambda L, d: L.full((4,), 1 / 3, dtype=L.bfloat16, **d),
                 lambda L, d: L.arange(0, 2, 0.125, dtype=L.bfloat16, **d),
                 lambda L, d: L.tensor([[0.1, 1e30], [-7.3, 3e-39]], dtype=L.bfloat16, **d),
                 lambda L, d: L.eye(3, dtype=L.bfloat16, **d)):
        assert_same_bits(make(torch, {}), make(plugrad, {"device": "opencl"}))


def test_rounding_helpers_agree_with_torch_on_ties_nan_and_overflow():
    values = np.array([1 + 2 ** -8, 1 + 3 * 2 ** -8, -(1 + 2 ** -8), 3.4e38, 3.39e38, 1e-40,
                       np.inf, -np.inf, np.nan, -0.0, 65504.0, 0.1], np.float32)
    t = torch.tensor(values).bfloat16()
    p = plugrad.tensor(values, device="opencl").bfloat16()
    nan = np.isnan(values)     # (torch's vectorized cast writes 0xFFFF, its scalar one 0x7FC0)
    np.testing.assert_array_equal(bits(p)[~nan], bits(t)[~nan])
    assert np.isnan(p.float().cpu().numpy()[nan]).all()
    for v in values:   # the Python-side rounding of scalar arguments
        want = torch.tensor(float(v)).bfloat16().float().item()
        got = float(T.round_bfloat16(float(v)))
        assert got == want or (np.isnan(got) and np.isnan(want))


def test_a_kernel_reading_raw_bfloat16_bits_does_not_build():
    """bfloat16 buffers are a struct type in OpenCL C: arithmetic on an element that was not
    loaded through templates.load fails to compile instead of reading bits as an integer."""
    dev = plugrad.zeros(1, device="opencl").device.ops.impl.devices[0]
    src = ("__kernel void raw(__global bf16* x) { float f = x[0] + 1.0f; "
           "x[0].bits = float_to_bf16(f); }")
    with pytest.raises(RuntimeError, match="failed to build"):
        dev.build(src, "raw")


@pytest.mark.parametrize("case", ["softmax", "log_softmax", "layer_norm", "gelu", "silu",
                                  "cross_entropy", "mse", "conv2d", "linear_relu",
                                  "embedding", "batched_matmul", "cumsum", "logsumexp"])
def test_nn_kernels_equal_torch(case):
    F = {torch: torch.nn.functional, plugrad: plugrad.nn.functional}

    def run(L, dev):
        x = L.tensor(X, device=dev).bfloat16()
        w = L.tensor(W, device=dev).bfloat16()
        f = F[L]
        if case == "softmax":
            return f.softmax(x, -1), f.softmax(x, 0), f.softmax(x.reshape(3, 4, 40), 1)
        if case == "log_softmax":
            return (f.log_softmax(x, -1),)
        if case == "layer_norm":
            return (f.layer_norm(x, (40,), w[0], w[1]), f.layer_norm(x, (40,)))
        if case == "gelu":
            return f.gelu(x), f.gelu(x, approximate="tanh")
        if case == "silu":
            return (f.silu(x),)
        if case == "cross_entropy":
            target = L.tensor([0, 3, 39, 7, 1, 2, 5, 6, 8, 9, 10, 11], device=dev)
            return (f.cross_entropy(x, target), f.cross_entropy(x, target, reduction="none"))
        if case == "mse":
            return (f.mse_loss(x, x * 0.5),)
        if case == "conv2d":
            img = x[:8].reshape(2, 4, 8, 5)
            return (f.conv2d(img, w[:6, :36].reshape(6, 4, 3, 3)[:3], padding=1),)
        if case == "linear_relu":
            return (f.relu(f.linear(x, w, w[:, 2])), f.linear(x, w, w[:, 3]), f.linear(x, w))
        if case == "embedding":
            idx = L.tensor([[0, 5, 23], [23, 1, 0]], device=dev)
            return (f.embedding(idx, w),)
        if case == "batched_matmul":
            a = x.reshape(3, 4, 40)
            return (a @ w.T, L.bmm(a, a.transpose(1, 2)))
        if case == "cumsum":
            return x.cumsum(1), x.cumprod(0)
        return (x.logsumexp(1),)

    # the opencl kernels give the cpu backend's bits (its own float32 order may move a
    # result by one bfloat16 ulp where they accumulate); torch's within one ulp (its softmax
    # over a non-last axis and its log_softmax round differently from both)
    accumulates = case in ("cross_entropy", "conv2d", "logsumexp", "cumsum", "layer_norm")
    for t, c, p in zip(run(torch, "cpu"), run(plugrad, "cpu"), run(plugrad, "opencl")):
        assert_within_one_ulp(t, p)
        (assert_within_one_ulp if accumulates else assert_same_bits)(c.cpu(), p)


def test_gradients_of_a_bfloat16_mlp_equal_torch():
    def run(L, dev):
        x = L.tensor(X, device=dev).bfloat16().requires_grad_()
        w = L.tensor(W, device=dev).bfloat16().requires_grad_()
        b = L.tensor(W[0, :24], device=dev).bfloat16().requires_grad_()
        h = L.nn.functional.gelu(L.nn.functional.linear(x, w, b))
        loss = L.nn.functional.log_softmax(h, -1)[:, 0].sum()
        loss.backward()
        return loss, x.grad, w.grad, b.grad
    for t, c, p in zip(run(torch, "cpu"), run(plugrad, "cpu"), run(plugrad, "opencl")):
        assert_within_one_ulp(c.cpu(), p)
        # several bfloat16 roundings deep (sums that cancel): torch's to a few ulps of the
        # largest element
        want = t.detach().float().numpy()
        np.testing.assert_allclose(p.detach().float().cpu().numpy(), want, rtol=2 ** -5,
                                   atol=2 ** -6 * np.abs(want).max())


def test_index_add_and_embedding_backward_accumulate_atomically():
    """index_put(accumulate=True) adds bfloat16 elements with a CAS on their 32-bit word;
    neighbouring elements (one word) must not disturb each other."""
    idx = [0, 1, 1, 2, 3, 3, 3, 0]
    src = np.linspace(-1, 1, 8 * 3, dtype=np.float32).reshape(8, 3)
    t = torch.zeros(4, 3, dtype=torch.bfloat16).index_add_(
        0, torch.tensor(idx), torch.tensor(src).bfloat16())
    p = plugrad.zeros(4, 3, dtype=plugrad.bfloat16, device="opencl").index_add_(
        0, plugrad.tensor(idx, device="opencl"), plugrad.tensor(src, device="opencl").bfloat16())
    assert_within_one_ulp(t, p)
    w = plugrad.tensor(W[:5], device="opencl").bfloat16().requires_grad_()
    plugrad.nn.functional.embedding(plugrad.tensor([1, 1, 4, 1], device="opencl"), w).sum() \
        .backward()
    assert w.grad.dtype is plugrad.bfloat16
    np.testing.assert_array_equal(w.grad.float().cpu().numpy()[:, 0], [0, 3, 0, 0, 1])


def test_fused_chain_rounds_each_step_as_eager_does():
    """A fused bfloat16 chain rounds every intermediate to bfloat16 (eager stores each op's
    result), and keeps mul's Python float in float32 as the eager kernel does."""
    b = ProgramBuilder("opencl")
    rng = np.random.default_rng(4)
    import ml_dtypes
    x = b.input(rng.standard_normal((30, 20)).astype(ml_dtypes.bfloat16))
    y = x
    for op, arg in (("mul", 0.1), ("add", 1 / 3), ("exp", None), ("mul", x), ("sub", 0.7),
                    ("div", 3.3)):
        y = b.call(op, y) if arg is None else b.call(op, y, arg)
    p = b.program((y,))
    opt = b.be.optimize_program(p)
    eager, _, _ = replay(b, p)
    fused, _, _ = replay(b, opt)
    np.testing.assert_array_equal(eager[0].astype(np.float32), fused[0].astype(np.float32))
    F = "bfloat16"
    chain = Chain(inputs=((F, False), (F, True)), nodes=(Node("mul", (0, 1), F, F),),
                  outputs=(0,))
    k = FusedKernel(b.be, chain)
    assert k.keep == frozenset({1})


def test_autocast_on_opencl_with_bfloat16():
    """autocast('opencl', dtype=bfloat16) runs linear/matmul in bfloat16 (its lower list is
    cuda's) and its gradients reach the float32 leaves; values as torch's bfloat16 linear."""
    x = plugrad.tensor(X, device="opencl", requires_grad=True)
    w = plugrad.tensor(W, device="opencl", requires_grad=True)
    with plugrad.autocast("opencl", dtype=plugrad.bfloat16):
        assert plugrad.is_autocast_enabled("opencl")
        y = plugrad.nn.functional.linear(x, w)
        z = y.float().softmax(-1)
    assert y.dtype is plugrad.bfloat16 and z.dtype is plugrad.float32
    want = torch.nn.functional.linear(torch.tensor(X).bfloat16(), torch.tensor(W).bfloat16())
    assert_same_bits(want, y)
    z[:, 0].sum().backward()
    assert x.grad.dtype is plugrad.float32 and w.grad.dtype is plugrad.float32
    assert x.grad.abs().sum().item() > 0


def test_training_with_bfloat16_weights_follows_torch():
    """A small classifier with bfloat16 weights, AdamW, LayerNorm and cross-entropy: three
    steps on opencl follow torch's cpu bfloat16 run to bfloat16 rounding."""
    def run(L, dev):
        L.manual_seed(0)
        model = L.nn.Sequential(L.nn.Linear(40, 32), L.nn.LayerNorm(32), L.nn.GELU(),
                                L.nn.Linear(32, 5)).bfloat16()
        if L is plugrad:
            model = model.to(dev)
        opt = L.optim.AdamW(model.parameters(), lr=1e-2)
        x = L.tensor(X, device=dev).bfloat16()
        y = L.tensor([0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0, 1], device=dev)
        losses = []
        for _ in range(3):
            opt.zero_grad()
            loss = L.nn.functional.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            losses.append(loss.float().item())
        return losses, [p.detach().float().cpu().numpy() for p in model.parameters()]
    (tl, tp), (pl, pp) = run(torch, "cpu"), run(plugrad, "opencl")
    np.testing.assert_allclose(pl, tl, rtol=2e-2)
    for a, b in zip(pp, tp):
        np.testing.assert_allclose(a, b, rtol=2 ** -6, atol=2e-2)
