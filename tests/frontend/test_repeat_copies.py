"""repeat/tile always return a fresh contiguous tensor, as torch's do.

pytorch/examples fast_neural_style does ``style.repeat(batch, 1, 1, 1)`` and then divides the
result in place (``batch.div_(255.0)``); a repeat that returned a stride-0 view (a reshape that
merged the expanded new dim with a size-1 one) refused that in-place op on cpu.
"""
import numpy as np
import pytest
import torch

import plugrad

CASES = [((3, 2, 2), (2, 1, 1, 1)), ((1, 4), (3, 1)), ((2, 3), (1, 1)), ((2, 1), (1, 1, 3)),
         ((4,), (2, 1)), ((1,), (5,)), ((2, 3), (2, 2))]


def _strides(t):
    """Strides of the dims of size > 1 (a size-1 dim's stride is free, as torch's contiguity)."""
    return [s for s, n in zip(t.stride(), t.shape) if n > 1]


@pytest.mark.parametrize("shape,reps", CASES)
def test_repeat_result_is_contiguous_and_writable(device, shape, reps):
    a = np.arange(int(np.prod(shape)), dtype=np.float32).reshape(shape)
    want = torch.tensor(a).repeat(*reps)
    x = plugrad.tensor(a, device=device)
    got = x.repeat(*reps)
    assert tuple(got.shape) == tuple(want.shape)
    assert _strides(got) == _strides(want)
    assert got.is_contiguous()
    want.div_(255.0)
    got.div_(255.0)
    np.testing.assert_array_equal(got.cpu().numpy(), want.numpy())
    np.testing.assert_array_equal(x.cpu().numpy(), a)   # the input is never written through


@pytest.mark.parametrize("shape,reps", CASES)
def test_tile_result_is_writable(device, shape, reps):
    a = np.arange(int(np.prod(shape)), dtype=np.float32).reshape(shape)
    want = torch.tensor(a).tile(reps).mul_(3)
    got = plugrad.tensor(a, device=device).tile(reps).mul_(3)
    assert _strides(got) == _strides(want)
    np.testing.assert_array_equal(got.cpu().numpy(), want.numpy())


def test_repeat_gradient_and_name(device):
    a = np.random.default_rng(0).standard_normal((1, 3)).astype(np.float32)
    w = np.random.default_rng(1).standard_normal((2, 1, 3)).astype(np.float32)
    tx = torch.tensor(a, requires_grad=True)
    px = plugrad.tensor(a, device=device, requires_grad=True)
    ty, py = tx.repeat(2, 1, 1), px.repeat(2, 1, 1)
    assert type(py.grad_fn).__name__ == type(ty.grad_fn).__name__ == "RepeatBackward0"
    (ty * torch.tensor(w)).sum().backward()
    (py * plugrad.tensor(w, device=device)).sum().backward()
    np.testing.assert_allclose(px.grad.cpu().numpy(), tx.grad.numpy(), rtol=1e-6)
