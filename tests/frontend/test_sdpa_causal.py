"""scaled_dot_product_attention with is_causal and no mask fills the scores in place of adding
a -inf bias and skips the fully-masked-row guard (no causal row is fully masked): values and
gradients as torch's for L < S, L == S and L > S, and with a mask added on top."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import plugrad


def _sdpa(lib, device, q, k, v, g, mask=None):
    t = [lib.tensor(a, device=device, requires_grad=True) for a in (q, k, v)]
    m = None if mask is None else lib.tensor(mask, device=device)
    out = lib.nn.functional.scaled_dot_product_attention(*t, attn_mask=m, is_causal=True)
    out.backward(lib.tensor(g, device=device))
    return [out.detach().cpu().numpy()] + [a.grad.cpu().numpy() for a in t]


@pytest.mark.parametrize("L,S", [(5, 7), (6, 6), (7, 5)])
@pytest.mark.parametrize("masked", [False, True])
def test_causal_equals_torch(device, L, S, masked):
    rng = np.random.default_rng(L * 10 + S)
    q, k, v = (rng.standard_normal(s).astype(np.float32) for s in
               ((2, 3, L, 4), (2, 3, S, 4), (2, 3, S, 4)))
    g = rng.standard_normal((2, 3, L, 4)).astype(np.float32)
    mask = rng.standard_normal((L, S)).astype(np.float32) if masked else None
    got = _sdpa(plugrad, device, q, k, v, g, mask)
    want = _sdpa(torch, "cpu", q, k, v, g, mask)
    for a, b in zip(got, want, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
