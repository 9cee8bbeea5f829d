"""torch.* spellings of nn.functional ops (torch.conv2d, torch.layer_norm, torch.dropout(input,
p, train), torch.adaptive_max_pool1d -> (values, indices), ...) against torch 2.13, with
torch's positional signatures, on every device."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import plugrad

RS = np.random.RandomState(0)
IMG = RS.randn(2, 4, 6, 6)
SEQ = RS.randn(2, 3, 9)
VOL = RS.randn(1, 2, 4, 4, 4)
VEC = RS.randn(5, 6)
K1 = RS.randn(4, 3, 3)
BW = RS.randn(3, 6, 4)

CASES = {
    "conv1d": lambda L, a: L.conv1d(a(SEQ), a(K1), a(np.ones(4)), 2, 1),
    "conv2d": lambda L, a: L.conv2d(a(IMG), a(np.linspace(-1, 1, 72).reshape(2, 4, 3, 3)),
                                    None, 1, 1, 1, 1),
    "conv3d": lambda L, a: L.conv3d(a(VOL), a(np.linspace(-1, 1, 16).reshape(2, 2, 2, 2, 1))),
    "cosine_similarity": lambda L, a: L.cosine_similarity(a(VEC), a(VEC[::-1].copy()), 0),
    "pairwise_distance": lambda L, a: L.pairwise_distance(a(VEC), a(VEC * 2), 3.0),
    "pdist": lambda L, a: L.pdist(a(VEC), 1.5),
    "pixel_shuffle": lambda L, a: L.pixel_shuffle(a(IMG), 2),
    "pixel_unshuffle": lambda L, a: L.pixel_unshuffle(a(IMG), 3),
    "celu": lambda L, a: L.celu(a(VEC), 0.7),
    "selu": lambda L, a: L.selu(a(VEC)),
    "prelu": lambda L, a: L.prelu(a(IMG), a(np.array([0.1, 0.2, 0.3, 0.4]))),
    "threshold": lambda L, a: L.threshold(a(VEC), 0.2, -3.0),
    "hardshrink": lambda L, a: L.hardshrink(a(VEC), 0.6),
    "bilinear": lambda L, a: L.bilinear(a(VEC), a(VEC[:, :4].copy()), a(BW),
                                        a(np.ones(3))),
    "dropout_eval": lambda L, a: L.dropout(a(VEC), 0.5, False),
    "alpha_dropout_eval": lambda L, a: L.alpha_dropout(a(VEC), 0.5, False),
    "feature_alpha_dropout_eval": lambda L, a: L.feature_alpha_dropout(a(VEC), 0.5, False),
    "layer_norm": lambda L, a: L.layer_norm(a(IMG), (6, 6), None, None, 1e-3, True),
    "group_norm": lambda L, a: L.group_norm(a(IMG), 2, a(np.arange(4.)), a(np.ones(4)), 1e-5),
    "max_pool1d": lambda L, a: L.max_pool1d(a(SEQ), 3, 2),
    "max_pool2d": lambda L, a: L.max_pool2d(a(IMG), 2),
    "max_pool3d": lambda L, a: L.max_pool3d(a(VOL), 2, 1, 1),
    "avg_pool1d": lambda L, a: L.avg_pool1d(a(SEQ), 2, 2, 1, True, False),
    "adaptive_avg_pool1d": lambda L, a: L.adaptive_avg_pool1d(a(SEQ), 4),
    "adaptive_max_pool1d": lambda L, a: L.adaptive_max_pool1d(a(SEQ), 4),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_top_level_spellings_equal_torch(case, device):
    want = CASES[case](torch, torch.tensor)
    got = CASES[case](plugrad, lambda x: plugrad.tensor(x, device=device))
    if isinstance(want, tuple):
        assert isinstance(got, tuple) and len(got) == len(want)
    else:
        want, got = (want,), (got,)
    for g, w in zip(got, want):
        assert str(g.dtype) == str(w.dtype) and tuple(g.shape) == tuple(w.shape)
        np.testing.assert_allclose(g.cpu().numpy(), w.numpy(), rtol=1e-10, atol=1e-12)


def test_dropout_in_training_keeps_or_scales():
    x = plugrad.ones(1000, dtype=plugrad.float64)
    y = plugrad.dropout(x, 0.25, True)
    kept = y[y != 0]
    assert 0.6 < kept.numel() / 1000 < 0.9
    np.testing.assert_allclose(kept.numpy(), 1 / 0.75)
