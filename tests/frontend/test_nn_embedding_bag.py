"""EmbeddingBag / F.embedding_bag against torch: sum/mean/max over offsets or 2-D input,
per_sample_weights, padding_idx, include_last_offset, empty bags, max_norm and
scale_grad_by_freq; init, repr, values, weight gradients and errors."""
from __future__ import annotations

import numpy as np
import plugrad
import pytest
import torch

from nn_oracle import check_fn, check_module, raises_like

_rng = np.random.default_rng(17)
IDX = np.array([1, 2, 4, 5, 4, 3, 2, 9, 0, 0], "int64")
OFFSETS = np.array([0, 2, 2, 6], "int64")            # bag 1 is empty


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
@pytest.mark.parametrize("padding_idx", [None, 2])
def test_module_offsets(device, mode, padding_idx):
    check_module(lambda nn: nn.EmbeddingBag(10, 3, mode=mode, padding_idx=padding_idx),
                 [IDX, OFFSETS], device, name=f"{mode}/{padding_idx}")


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_module_2d_input(device, mode):
    check_module(lambda nn: nn.EmbeddingBag(10, 4, mode=mode), [IDX.reshape(2, 5)], device,
                 name=mode)


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_include_last_offset(device, mode):
    check_module(lambda nn: nn.EmbeddingBag(10, 3, mode=mode, include_last_offset=True),
                 [IDX, np.array([0, 3, 3, 10], "int64")], device, name=mode)


def test_per_sample_weights(device):
    w = _rng.standard_normal(10).astype("float32")
    check_module(lambda nn: nn.EmbeddingBag(10, 3, mode="sum"), [IDX, OFFSETS, w], device,
                 name="psw")


def test_scale_grad_by_freq_single_occurrences(device):
    """Each index used once: the scaling is the identity. (With repeats, torch 2.13's CPU
    embedding_bag backward scales rows by counts that disagree with F.embedding's; plugrad
    scales by 1 / occurrences, as F.embedding does.)"""
    weight = _rng.standard_normal((10, 3)).astype("float32")
    check_fn(lambda T, i, o, w: T.nn.functional.embedding_bag(
        i, w, o, mode="sum", scale_grad_by_freq=True), [np.array([3, 1, 7, 0], "int64"),
                                                          np.array([0, 2], "int64"), weight],
        device, grad_inputs=[2], name="freq")


@pytest.mark.parametrize("mode", ["sum", "mean"])
def test_max_norm(device, mode):
    weight = _rng.standard_normal((10, 3)).astype("float32") * 2
    t_w, p_w = torch.tensor(weight), plugrad.tensor(weight, device=device)
    t = torch.nn.functional.embedding_bag(torch.tensor(IDX), t_w, torch.tensor(OFFSETS),
                                          max_norm=1.0, mode=mode)
    p = plugrad.nn.functional.embedding_bag(plugrad.tensor(IDX, device=device), p_w,
                                            plugrad.tensor(OFFSETS, device=device),
                                            max_norm=1.0, mode=mode)
    np.testing.assert_allclose(p.cpu().numpy(), t.numpy(), atol=1e-5)
    np.testing.assert_allclose(p_w.cpu().numpy(), t_w.numpy(), atol=1e-5)


def test_repr_and_from_pretrained():
    for kw in ({}, dict(mode="max", padding_idx=0, max_norm=1.0),
               dict(include_last_offset=True, scale_grad_by_freq=True, norm_type=1.0)):
        assert repr(plugrad.nn.EmbeddingBag(10, 3, **kw)) == repr(torch.nn.EmbeddingBag(10, 3,
                                                                                        **kw))
    table = _rng.standard_normal((4, 2)).astype("float32")
    p = plugrad.nn.EmbeddingBag.from_pretrained(plugrad.tensor(table), mode="sum")
    t = torch.nn.EmbeddingBag.from_pretrained(torch.tensor(table), mode="sum")
    assert p.weight.requires_grad == t.weight.requires_grad
    np.testing.assert_allclose(p(plugrad.tensor([[0, 3]])).numpy(),
                               t(torch.tensor([[0, 3]])).numpy(), atol=1e-6)


ERRORS = [
    lambda T, w: T.nn.functional.embedding_bag(T.tensor([1, 2]), w),
    lambda T, w: T.nn.functional.embedding_bag(T.tensor([[1, 2]]), w, T.tensor([0])),
    lambda T, w: T.nn.functional.embedding_bag(T.tensor([1, 2]), w, T.tensor([0]), mode="x"),
    lambda T, w: T.nn.functional.embedding_bag(T.tensor([1, 2]), w, T.tensor([0]),
                                               per_sample_weights=T.ones(2)),
    lambda T, w: T.nn.functional.embedding_bag(T.tensor([1, 2]), w, T.tensor([0]), mode="sum",
                                               per_sample_weights=T.ones(3)),
    lambda T, w: T.nn.functional.embedding_bag(T.tensor([1, 12]), w, T.tensor([0])),
    lambda T, w: T.nn.functional.embedding_bag(T.tensor([1, 2]), w, T.tensor([[0]])),
    lambda T, w: T.nn.functional.embedding_bag(T.tensor([1.0, 2]), w, T.tensor([0])),
    lambda T, w: T.nn.functional.embedding_bag(T.tensor([1, 2]), w, T.tensor([1, 0])),
    lambda T, w: T.nn.functional.embedding_bag(T.tensor([1, 2]), w, T.tensor([0, 3])),
    lambda T, w: T.nn.EmbeddingBag(10, 3, padding_idx=10),
]


@pytest.mark.parametrize("i", range(len(ERRORS)))
def test_errors_match_torch(i):
    raises_like(lambda: ERRORS[i](torch, torch.zeros(10, 3)),
                lambda: ERRORS[i](plugrad, plugrad.zeros(10, 3)))
