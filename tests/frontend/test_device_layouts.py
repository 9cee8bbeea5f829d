"""softmax / log_softmax / cross_entropy over every dim of inputs in every layout, against torch.

A device kernel may assume a layout (the OpenCL CPU kernel stored vectors along the softmax
axis whenever the input had stride 1 there, though the output it wrote was contiguous: a
transposed input's softmax over dim 0 came back as garbage up to 7e31). Each case builds the
same view of the same data in torch and plugrad and compares values and gradients.
"""
from __future__ import annotations

import numpy
import pytest
import torch

import plugrad

from helpers import compare

# name -> (base shape, view made identically in both libraries)
LAYOUTS = {
    "contiguous": ((3, 5, 18), lambda t: t),
    "transposed": ((18, 5), lambda t: t.t()),
    "transposed_3d": ((18, 5, 3), lambda t: t.transpose(0, 2)),
    "permuted": ((5, 18, 3), lambda t: t.permute(2, 0, 1)),
    "permuted_inner": ((3, 18, 20), lambda t: t.permute(0, 2, 1)),
    "sliced": ((4, 6, 40), lambda t: t[1:, ::2, 3:21]),
    "sliced_inner": ((4, 40), lambda t: t[:, 2:19]),
    "expanded": ((1, 18), lambda t: t.expand(5, 18)),
    "flipped_stride": ((6, 18), lambda t: t[:, ::3]),
}


def _pair(device, shape, view, seed=0):
    x = numpy.random.default_rng(seed).uniform(-4, 4, shape).astype("float32")
    tt = torch.tensor(x, requires_grad=True)
    pt = plugrad.tensor(x, device=device, requires_grad=True)
    return tt, pt, view(tt), view(pt)


@pytest.mark.parametrize("fn", ["softmax", "log_softmax"])
@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_softmax_every_dim_every_layout(device, layout, fn):
    shape, view = LAYOUTS[layout]
    for dim in range(-len(shape), len(shape)):
        tt, pt, tv, pv = _pair(device, shape, view)
        want, got = getattr(tv, fn)(dim), getattr(pv, fn)(dim)
        compare(f"{layout} {fn} dim={dim} forward", got, want, atol=1e-5, rtol=1e-5)
        w = torch.linspace(-1, 1, want.numel()).reshape(want.shape)
        (want * w).sum().backward()
        (got * plugrad.tensor(w.numpy(), device=device)).sum().backward()
        compare(f"{layout} {fn} dim={dim} grad", pt.grad, tt.grad, atol=1e-5, rtol=1e-4)


def test_transposed_softmax_dim0_issue_case(device):
    x = torch.arange(16.).reshape(2, 8)
    got = plugrad.arange(16.).reshape(2, 8).to(device).t().softmax(0)
    compare("softmax", got, x.t().softmax(0))


@pytest.mark.parametrize("perm", [(0, 2, 1), (2, 0, 1), (1, 2, 0)])
def test_cross_entropy_on_permuted_logits(device, perm):
    """cross_entropy(logits.permute(...), t): the class dim (1) of the view has stride 1 or
    is strided, the batch dims come from anywhere."""
    rng = numpy.random.default_rng(1)
    base = (rng.normal(size=(4, 7, 9)) * 3).astype("float32")
    shape = [base.shape[p] for p in perm]
    target = torch.tensor(rng.integers(0, shape[1], size=[shape[0]] + shape[2:]))
    tt = torch.tensor(base, requires_grad=True)
    pt = plugrad.tensor(base, device=device, requires_grad=True)
    want = torch.nn.functional.cross_entropy(tt.permute(*perm), target)
    got = plugrad.nn.functional.cross_entropy(pt.permute(*perm),
                                              plugrad.tensor(target.numpy(), device=device))
    compare("loss", got, want, atol=1e-5, rtol=1e-5)
    want.backward()
    got.backward()
    compare("grad", pt.grad, tt.grad, atol=1e-6, rtol=1e-4)
