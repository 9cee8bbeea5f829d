"""gumbel_softmax against torch: after the same seed the soft and hard samples, their
gradients (straight-through for hard) and the random stream afterwards equal torch's."""
from __future__ import annotations

import warnings

import numpy as np
import plugrad
import pytest
import torch

from nn_oracle import check_fn

LOGITS = np.random.default_rng(23).standard_normal((4, 6)).astype("float32")


@pytest.mark.parametrize("hard", [False, True])
@pytest.mark.parametrize("tau,dim", [(1.0, -1), (0.5, 0)])
def test_gumbel_softmax_equals_torch(device, hard, tau, dim):
    check_fn(lambda T, a: T.nn.functional.gumbel_softmax(a, tau=tau, hard=hard, dim=dim),
             [LOGITS], device, name=f"hard={hard}", grad_fn=False)
    # the same number of draws as torch: the next draw agrees too
    assert np.allclose(plugrad.rand(3).numpy(), torch.rand(3).numpy())


def test_hard_is_one_hot():
    plugrad.manual_seed(1)
    out = plugrad.nn.functional.gumbel_softmax(plugrad.tensor(LOGITS), hard=True)
    assert out.sum(-1).tolist() == [1.0] * 4 and set(out.flatten().tolist()) <= {0.0, 1.0}


def test_eps_is_deprecated():
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        plugrad.nn.functional.gumbel_softmax(plugrad.tensor(LOGITS), eps=1e-3)
    assert any("deprecated" in str(w.message) for w in seen)
