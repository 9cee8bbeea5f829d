"""Regression tests for results that were silently wrong (issue 18), each against torch."""
import math
import warnings

import plugrad
import pytest
import torch


def _on(T, device, t):
    return t.to(device) if T is plugrad else t


# ------------------------------------------------------------------ cross_entropy, huge logits
@pytest.mark.parametrize("scale", [1e7, 1e8, 1e30])
def test_cross_entropy_of_huge_logits(device, scale):
    """Before: 1.0 at 1e7 and 0.0 at 1e8 (lse rounded to max's precision), grads wrong."""
    def run(T):
        kw = {"device": device} if T is plugrad else {}
        x = T.tensor([[scale, scale, -scale], [0.0, scale, 1.0]], requires_grad=True, **kw)
        loss = T.nn.functional.cross_entropy(x, T.tensor([0, 1], **kw))
        loss.backward()
        return loss.item(), x.grad.reshape(-1).tolist()
    got, want = run(plugrad), run(torch)
    assert got[0] == pytest.approx(want[0], rel=1e-6)
    assert got[1] == pytest.approx(want[1], rel=1e-6, abs=1e-7)


# -------------------------------------------------------------------------- uint8 indices
def test_uint8_index_is_a_mask_with_torchs_warning(device):
    def run(T):
        x = _on(T, device, T.arange(6.0).reshape(2, 3))
        m = _on(T, device, T.tensor([1, 0], dtype=T.uint8))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            got = x[m].cpu().tolist(), x[:, _on(T, device, T.tensor([0, 1, 1],
                                                                    dtype=T.uint8))].cpu().tolist()
        return got, [(w.category, "uint8 is now deprecated" in str(w.message)) for w in caught]
    assert run(plugrad) == run(torch)


def test_uint8_mask_assignment_of_a_tensor(device):
    def run(T):
        x = _on(T, device, T.arange(4.0))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            x[_on(T, device, T.tensor([1, 0, 1, 1], dtype=T.uint8))] = \
                _on(T, device, T.tensor([7.0, 8.0, 9.0]))
        return x.cpu().tolist()
    assert run(plugrad) == run(torch)


# --------------------------------------------------------- in-place on a view made in no_grad
def _no_grad_view_then_inplace(T, device, base_requires_grad, op):
    a = T.ones(3, requires_grad=True, **({"device": device} if T is plugrad else {}))
    b = a * 2 if base_requires_grad else a.detach() * 2
    with T.no_grad():
        v = b[:2]
    try:
        op(T, v)
    except RuntimeError as exc:
        return "raised", "no_grad mode" in str(exc), b.tolist() if T is torch else \
            b.cpu().tolist()
    b.sum().backward() if b.requires_grad else None
    return "ok", a.grad.tolist() if a.grad is not None and T is torch else \
        (a.grad.cpu().tolist() if a.grad is not None else None)


@pytest.mark.parametrize("op", [
    lambda T, v: v.mul_(3), lambda T, v: v.zero_(), lambda T, v: v.add_(1.0),
    lambda T, v: v[:1].mul_(3), lambda T, v: v.copy_(T.zeros(2, device=v.device)),
    lambda T, v: v.__setitem__(0, 5.0), lambda T, v: v.clamp_(0, 1),
], ids=["mul_", "zero_", "add_", "view of the view", "copy_", "setitem", "clamp_"])
def test_inplace_on_no_grad_view_raises_like_torch(device, op):
    """Before: plugrad ran the op and returned a wrong gradient ([2, 2, 2] for mul_)."""
    assert _no_grad_view_then_inplace(plugrad, device, True, op) == \
        _no_grad_view_then_inplace(torch, "cpu", True, op)


def test_inplace_on_no_grad_view_of_plain_tensor(device):
    """Allowed in torch when nothing requires grad; raises when the operand does."""
    def run(T):
        x = T.ones(3, **({"device": device} if T is plugrad else {}))
        with T.no_grad():
            v = x[:2]
        v.mul_(3)
        w = T.ones(2, requires_grad=True, **({"device": device} if T is plugrad else {}))
        with pytest.raises(RuntimeError, match="no_grad mode"):
            v.mul_(w)
        return x.cpu().tolist()
    assert run(plugrad) == run(torch)


# --------------------------------------------------------------------------- cumsum
def test_float32_cumsum_accumulates_like_torch(device):
    """Before: 100958.34 (float32 running sum); torch carries the sum in double on cpu."""
    if not plugrad.device(device).type == "cpu" and \
            not plugrad.ones(1, device=device).device.ops.supports("cumsum", "float64"):
        pytest.skip("the device has no float64 to carry the sum in")
    got = plugrad.cumsum(plugrad.full((10 ** 6,), 0.1, device=device), 0)[-1].item()
    want = torch.cumsum(torch.full((10 ** 6,), 0.1), 0)[-1].item()
    assert got == want
    got = plugrad.cumprod(plugrad.full((1000,), 1.001, device=device), 0)[-1].item()
    assert got == torch.cumprod(torch.full((1000,), 1.001), 0)[-1].item()


# ------------------------------------------------------------------ result dtypes
@pytest.mark.parametrize("call", [
    lambda T: T.softmax(T.tensor([1.0, 2.0]), 0, dtype=T.int64),
    lambda T: T.log_softmax(T.tensor([1.0, 2.0]), 0, dtype=T.int32),
    lambda T: T.tensor([[1.0, 2.0]]).softmax(0, dtype=T.bool),
    lambda T: T.softmax(T.tensor([1, 2]), 0),
])
def test_softmax_to_an_integer_dtype_raises_like_torch(call):
    """Before: float64 data labelled int64."""
    with pytest.raises(NotImplementedError) as want:
        call(torch)
    with pytest.raises(NotImplementedError, match="not implemented for") as got:
        call(plugrad)
    assert str(got.value).split(" not")[1] == str(want.value).split(" not")[1]


@pytest.mark.parametrize("call", [
    lambda T: T.tensor([1.0, 2.0]).sum(dtype=T.bool),
    lambda T: T.tensor([0.0, 0.0]).sum(dtype=T.bool),
    lambda T: T.tensor([[1.0, 0.0], [0.0, 0.0]]).sum(1, dtype=T.bool),
    lambda T: T.tensor([200, 100]).sum(dtype=T.uint8),
    lambda T: T.tensor([1, 2], dtype=T.int32).sum(dtype=T.int16),
    lambda T: T.tensor([True, True]).sum(),
])
def test_sum_with_dtype_gives_that_dtype(call):
    """Before: sum(dtype=bool) gave int64 2; sum(dtype=uint8) did not wrap."""
    got, want = call(plugrad), call(torch)
    assert str(got.dtype) == str(want.dtype) and got.tolist() == want.tolist()


@pytest.mark.parametrize("call", [
    lambda T, o: T.add(T.tensor([1.5]), 1, out=o),
    lambda T, o: T.mul(T.tensor([1.5]), 2.0, out=o),
    lambda T, o: T.sqrt(T.tensor([4.0]), out=o),
])
def test_out_refuses_a_cast_torch_refuses(call):
    """Before: add(float, 1, out=int64) truncated 2.5 to 2."""
    for T in (torch, plugrad):
        o = T.zeros(1, dtype=T.int64)
        with pytest.raises(RuntimeError, match="can't be cast to the desired output type Long"):
            call(T, o)
        assert o.tolist() == [0]
    o = plugrad.zeros(1, dtype=plugrad.float64)
    assert plugrad.add(plugrad.tensor([1, 2]).sum(), 1, out=o).tolist() == [4.0]


# ------------------------------------------------------------------------ norm / cumprod
@pytest.mark.parametrize("values", [[3e-23], [1e-30] * 3, [3e-23, 4e-23], [0.0, 0.0],
                                    [math.inf, 1.0], [math.nan, 1.0], [-2.0, 1.0, 0.5]])
@pytest.mark.parametrize("p", [2, 3])
def test_norm_does_not_underflow(values, p):
    """Before: norm([3e-23]) read 3.74e-23 (the square went through a float32 denormal)."""
    got = plugrad.tensor(values).norm(p).item()
    want = torch.tensor(values, dtype=torch.float64).norm(p).item()
    assert got == pytest.approx(want, rel=1e-6, nan_ok=True)


def test_norm_keeps_dims_and_gradient():
    for T in (torch, plugrad):
        x = T.tensor([[3.0, 4.0], [0.0, 0.0]], requires_grad=True)
        y = x.norm(dim=1, keepdim=True)
        (y * T.tensor([[1.0], [2.0]])).sum().backward()
        if T is torch:
            want = (y.tolist(), x.grad.tolist())
    assert (y.tolist(), x.grad.tolist()) == want


@pytest.mark.parametrize("values, dim", [([math.inf], 0), ([math.inf, 2.0], 0),
                                        ([[math.inf], [2.0]], -1), ([[math.inf], [2.0]], 0)])
def test_cumprod_grad_of_a_single_element(values, dim):
    """Before: nan for cumprod([inf]) (torch returns the incoming gradient)."""
    grads = []
    for T in (torch, plugrad):
        x = T.tensor(values, requires_grad=True)
        T.cumprod(x, dim).sum().backward()
        grads.append(str(x.grad.tolist()))
    assert grads[0] == grads[1]


def test_batch_norm_training_on_an_empty_batch(device):
    """torch returns an empty result; plugrad raised 'more than 1 value per channel'."""
    for T in (torch, plugrad):
        x = T.ones(0, 4) if T is torch else plugrad.ones(0, 4, device=device)
        out = T.nn.functional.batch_norm(x, None, None, training=True)
        assert tuple(out.shape) == (0, 4)
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        plugrad.nn.functional.batch_norm(plugrad.ones(1, 4, device=device), None, None,
                                         training=True)
