"""Tensor.prelu / Tensor.hardshrink (methods torch has besides torch.prelu / F.hardshrink)."""
import numpy as np
import torch

import plugrad


def test_prelu_and_hardshrink_methods(device):
    data = np.array([[-1.0, 0.2, 2.0], [-0.3, -4.0, 0.6]], np.float32)
    x = plugrad.tensor(data, device=device, requires_grad=True)
    t = torch.tensor(data, requires_grad=True)
    w, tw = plugrad.tensor([0.25], device=device), torch.tensor([0.25])
    for got, want in ((x.prelu(w), t.prelu(tw)), (x.hardshrink(), t.hardshrink()),
                      (x.hardshrink(0.1), t.hardshrink(0.1))):
        np.testing.assert_allclose(got.detach().cpu().numpy(), want.detach().numpy())
        got.sum().backward()
        want.sum().backward()
        np.testing.assert_allclose(x.grad.cpu().numpy(), t.grad.numpy())
        x.grad = None
        t.grad = None
