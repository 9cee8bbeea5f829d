"""Margin losses against torch: MultiMarginLoss (p, margin, weight), MultiLabelMarginLoss
(targets up to the first -1, repeated targets), TripletMarginWithDistanceLoss (default and
custom distances, swap), and the older margin/embedding losses, in every reduction: values,
gradients, reprs and errors."""
from __future__ import annotations

import numpy as np
import plugrad
import pytest
import torch

from nn_oracle import check_fn, raises_like

_rng = np.random.default_rng(11)


def x(*shape):
    return _rng.standard_normal(shape).astype("float32")


REDUCTIONS = ["mean", "sum", "none"]
TARGET = np.array([2, 0, 3, 1, 2], "int64")
LABELS = np.array([[3, 0, -1, 1], [1, 2, 3, 0], [2, 2, -1, -1], [-1, 1, 2, 3], [0, -1, 3, 3]],
                  "int64")


def cases():
    F = lambda T: T.nn.functional  # noqa: E731
    w = x(4)
    yield "multi_margin", lambda T, a, t, r: F(T).multi_margin_loss(a, t, reduction=r), \
        [x(5, 4), TARGET]
    yield "multi_margin_p2_weight", lambda T, a, t, ww, r: F(T).multi_margin_loss(
        a, t, p=2, margin=0.7, weight=ww, reduction=r), [x(5, 4), TARGET, np.abs(w)]
    yield "multi_margin_1d", lambda T, a, t, r: F(T).multi_margin_loss(a, t, reduction=r), \
        [x(4), np.array(2)]
    yield "multilabel_margin", lambda T, a, t, r: F(T).multilabel_margin_loss(
        a, t, reduction=r), [x(5, 4), LABELS]
    yield "multilabel_margin_1d", lambda T, a, t, r: F(T).multilabel_margin_loss(
        a, t, reduction=r), [x(4), LABELS[0]]
    yield "triplet_distance", lambda T, a, p, n, r: F(T).triplet_margin_with_distance_loss(
        a, p, n, reduction=r), [x(5, 3), x(5, 3), x(5, 3)]
    yield "triplet_cosine_swap", lambda T, a, p, n, r: F(T).triplet_margin_with_distance_loss(
        a, p, n, distance_function=lambda u, v: 1 - F(T).cosine_similarity(u, v), margin=0.5,
        swap=True, reduction=r), [x(5, 3), x(5, 3), x(5, 3)]
    yield "margin_ranking", lambda T, a, b, t, r: F(T).margin_ranking_loss(
        a, b, t, margin=0.3, reduction=r), [x(6), x(6), np.sign(x(6))]
    yield "hinge_embedding", lambda T, a, t, r: F(T).hinge_embedding_loss(
        a, t, margin=0.5, reduction=r), [x(6), np.sign(x(6))]
    yield "soft_margin", lambda T, a, t, r: F(T).soft_margin_loss(a, t, reduction=r), \
        [x(6), np.sign(x(6))]
    yield "multilabel_soft_margin", lambda T, a, t, r: F(T).multilabel_soft_margin_loss(
        a, t, reduction=r), [x(5, 4), (x(5, 4) > 0).astype("float32")]
    yield "cosine_embedding", lambda T, a, b, t, r: F(T).cosine_embedding_loss(
        a, b, t, margin=0.2, reduction=r), [x(5, 3), x(5, 3), np.sign(x(5))]
    yield "triplet_margin", lambda T, a, p, n, r: F(T).triplet_margin_loss(
        a, p, n, swap=True, p=1.5, reduction=r), [x(5, 3), x(5, 3), x(5, 3)]


CASES = list(cases())


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name,fn,inputs", CASES, ids=[c[0] for c in CASES])
def test_margin_losses(device, name, fn, inputs, reduction):
    grad_inputs = [0, 1, 2] if name.startswith(("triplet", "cosine", "margin_ranking")) else [0]
    if name == "cosine_embedding" or name == "margin_ranking":
        grad_inputs = [0, 1]
    check_fn(lambda T, *a: fn(T, *a, reduction), inputs, device, name=name,
             grad_inputs=grad_inputs, grad_fn=False)


def test_modules_repr_and_state():
    for lib in (torch, plugrad):
        assert repr(lib.nn.MultiMarginLoss(p=2)) == "MultiMarginLoss()"
    assert repr(plugrad.nn.TripletMarginWithDistanceLoss(margin=2.0)) == \
        repr(torch.nn.TripletMarginWithDistanceLoss(margin=2.0))
    assert list(plugrad.nn.MultiMarginLoss(weight=plugrad.ones(3)).state_dict()) == ["weight"]
    m = plugrad.nn.MultiMarginLoss(margin=0.5)
    t = torch.nn.MultiMarginLoss(margin=0.5)
    a = x(3, 4)
    np.testing.assert_allclose(m(plugrad.tensor(a), plugrad.tensor([1, 0, 3])).item(),
                               t(torch.tensor(a), torch.tensor([1, 0, 3])).item(), rtol=1e-6)


ERRORS = [
    lambda T: T.nn.functional.multi_margin_loss(T.zeros(3, 4), T.tensor([0, 4, 1])),
    lambda T: T.nn.functional.multi_margin_loss(T.zeros(3, 4), T.tensor([0, 1])),
    lambda T: T.nn.functional.multi_margin_loss(T.zeros(3, 4), T.tensor([0, 1, 2]), p=3),
    lambda T: T.nn.functional.multi_margin_loss(T.zeros(3, 4), T.tensor([0, 1, 2]),
                                                weight=T.ones(3)),
    lambda T: T.nn.functional.multi_margin_loss(T.zeros(2, 3, 4), T.tensor([0, 1])),
    lambda T: T.nn.functional.multi_margin_loss(T.zeros(3, 4), T.tensor([0.0, 1, 2])),
    lambda T: T.nn.functional.multi_margin_loss(T.zeros(3, 4), T.tensor([0, 1, 2]),
                                                reduction="x"),
    lambda T: T.nn.functional.multilabel_margin_loss(T.zeros(3, 4), T.tensor([[0, 4, -1, 0]] * 3)),
    lambda T: T.nn.functional.multilabel_margin_loss(T.zeros(3, 4), T.tensor([[0, 1]] * 3)),
    lambda T: T.nn.functional.multilabel_margin_loss(T.zeros(2, 3, 4), T.tensor([[0, 1]] * 3)),
    lambda T: T.nn.functional.triplet_margin_with_distance_loss(T.zeros(2, 3), T.zeros(2, 3),
                                                                T.zeros(2, 3), margin=0),
    lambda T: T.nn.functional.triplet_margin_with_distance_loss(T.zeros(2, 3), T.zeros(3),
                                                                T.zeros(2, 3)),
    lambda T: T.nn.MultiMarginLoss(p=3),
    lambda T: T.nn.MultiMarginLoss(weight=T.ones(3, 3)),
    lambda T: T.nn.TripletMarginWithDistanceLoss(margin=-1),
]


@pytest.mark.parametrize("i", range(len(ERRORS)))
def test_errors_match_torch(i):
    raises_like(lambda: ERRORS[i](torch), lambda: ERRORS[i](plugrad))
