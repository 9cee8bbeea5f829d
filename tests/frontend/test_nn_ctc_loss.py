"""CTCLoss / F.ctc_loss against torch: every reduction with and without zero_infinity,
padded and concatenated targets, a non-zero blank, repeated labels, unbatched input, an
impossible alignment (infinite loss), gradients with respect to a log_probs leaf (torch's
implicit-log_softmax gradient) and through log_softmax, and errors."""
from __future__ import annotations

import numpy as np
import plugrad
import pytest
import torch

from nn_oracle import check_fn, raises_like

_rng = np.random.default_rng(29)
T_, N_, C_ = 12, 4, 5
LOGITS = _rng.standard_normal((T_, N_, C_)).astype("float32")
LOG_PROBS = torch.tensor(LOGITS).log_softmax(2).numpy()
TARGETS = np.array([[1, 2, 2, 0], [3, 1, 0, 0], [4, 4, 4, 0], [1, 0, 0, 0]], "int64")
# sample 2 needs 5 frames for "4 4 4" and gets 4: an infinite loss
INPUT_LENGTHS, TARGET_LENGTHS = [12, 10, 4, 1], [3, 2, 3, 0]


def ctc(T, a, reduction, zero_infinity, logits):
    lp = a.log_softmax(2) if logits else a
    return T.nn.functional.ctc_loss(lp, T.tensor(TARGETS), T.tensor(INPUT_LENGTHS),
                                    T.tensor(TARGET_LENGTHS), reduction=reduction,
                                    zero_infinity=zero_infinity)


@pytest.mark.parametrize("logits", [False, True])
@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
def test_ctc_zero_infinity(device, reduction, logits):
    check_fn(lambda T, a: ctc(T, a, reduction, True, logits), [LOGITS if logits else LOG_PROBS],
             device, atol=1e-4, grad_fn=False, name=reduction)


@pytest.mark.parametrize("logits", [False, True])
@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
def test_ctc_finite(device, reduction, logits):
    lengths = [12, 10, 7, 1]
    check_fn(lambda T, a: T.nn.functional.ctc_loss(
        a.log_softmax(2) if logits else a, T.tensor(TARGETS), lengths, TARGET_LENGTHS,
        reduction=reduction), [LOGITS if logits else LOG_PROBS], device, atol=1e-4,
        grad_fn=reduction == "none", name=reduction)


def test_ctc_infinite_loss_value(device):
    t = ctc(torch, torch.tensor(LOG_PROBS), "none", False, False)
    p = ctc(plugrad, plugrad.tensor(LOG_PROBS, device=device), "none", False, False)
    np.testing.assert_allclose(p.cpu().numpy(), t.numpy(), rtol=1e-5)
    assert np.isinf(p.cpu().numpy()[2])


def test_ctc_concatenated_targets_and_blank(device):
    targets = np.array([0, 2, 2, 3, 1, 1, 1, 1], "int64")
    check_fn(lambda T, a: T.nn.functional.ctc_loss(a.log_softmax(2), T.tensor(targets),
                                                   [12, 9, 7, 3], [3, 2, 3, 0], blank=4),
             [LOGITS], device, atol=1e-4, grad_fn=False, name="blank=4")


def test_ctc_unbatched_and_module(device):
    check_fn(lambda T, a: T.nn.CTCLoss(reduction="none")(a.log_softmax(1), T.tensor([1, 2]),
                                                          T.tensor(12), T.tensor(2)),
             [LOGITS[:, 0]], device, atol=1e-4, grad_fn=False, name="unbatched")
    assert repr(plugrad.nn.CTCLoss(blank=2, zero_infinity=True)) == "CTCLoss()"


ERRORS = [
    lambda T, lp: T.nn.functional.ctc_loss(lp, T.tensor([[1, 2], [1, 1]]), [6, 5], [2, 2]),
    lambda T, lp: T.nn.functional.ctc_loss(lp, T.tensor([[1, 2], [1, 1]]), [5, 5], [3, 2]),
    lambda T, lp: T.nn.functional.ctc_loss(lp, T.tensor([[1, 2], [1, 1]]), [5, 5], [2, 2],
                                           blank=4),
    lambda T, lp: T.nn.functional.ctc_loss(lp, T.tensor([[1, 2], [1, 1]]), [5], [2, 2]),
    lambda T, lp: T.nn.functional.ctc_loss(lp, T.tensor([[1, 2], [1, 1]]), [5, 5], [2, 2],
                                           reduction="x"),
    lambda T, lp: T.nn.functional.ctc_loss(lp, T.tensor([1, 2, 1]), [5, 5], [2, 2]),
]


@pytest.mark.parametrize("i", range(len(ERRORS)))
def test_errors_match_torch(i):
    lp = LOG_PROBS[:5, :2, :4].copy()
    raises_like(lambda: ERRORS[i](torch, torch.tensor(lp)),
                lambda: ERRORS[i](plugrad, plugrad.tensor(lp)))
