"""Every loss against torch: each reduction, values and gradients (input and, where torch
differentiates it, target), grad_fn names, extreme logits, and torch's errors."""
from __future__ import annotations

import warnings

import numpy as np
import plugrad
import pytest
import torch

from nn_oracle import check_fn, check_module, raises_like

_rng = np.random.default_rng(0)


def f(*shape, scale=1.0):
    return (_rng.standard_normal(shape) * scale).astype("float32")


N, C = 6, 5
LOGITS = f(N, C, scale=3)
TARGET = _rng.integers(0, C, N)
TARGET[2] = -100
PROBS = torch.softmax(torch.tensor(f(N, C)), 1).numpy()
WEIGHT = np.abs(f(C)) + 0.1
SIGMOID = 1 / (1 + np.exp(-f(4, 3)))
UNIT = np.clip(f(4, 3) * 0.5 + 0.5, 0, 1).astype("float32")

# name, functional name, inputs, kwargs, positions needing grad
LOSSES = [
    ("mse", "mse_loss", [f(4, 3), f(4, 3)], {}, (0, 1)),
    ("l1", "l1_loss", [f(4, 3), f(4, 3)], {}, (0, 1)),
    ("smooth_l1", "smooth_l1_loss", [f(4, 3, scale=2), f(4, 3)], {"beta": 0.7}, (0, 1)),
    ("smooth_l1_beta0", "smooth_l1_loss", [f(4, 3), f(4, 3)], {"beta": 0.0}, (0, 1)),
    ("huber", "huber_loss", [f(4, 3, scale=2), f(4, 3)], {"delta": 0.7}, (0, 1)),
    ("cross_entropy", "cross_entropy", [LOGITS, TARGET], {}, (0,)),
    ("cross_entropy_weight", "cross_entropy", [LOGITS, TARGET], {"weight": WEIGHT}, (0,)),
    ("cross_entropy_smoothing", "cross_entropy", [LOGITS, TARGET],
     {"label_smoothing": 0.2}, (0,)),
    ("cross_entropy_weight_smoothing", "cross_entropy", [LOGITS, TARGET],
     {"label_smoothing": 0.2, "weight": WEIGHT}, (0,)),
    ("cross_entropy_ignore_index", "cross_entropy", [LOGITS, np.where(TARGET < 0, 1, TARGET)],
     {"ignore_index": 1}, (0,)),
    ("cross_entropy_probs", "cross_entropy", [LOGITS, PROBS], {}, (0, 1)),
    ("cross_entropy_probs_weight_smoothing", "cross_entropy", [LOGITS, PROBS],
     {"weight": WEIGHT, "label_smoothing": 0.1}, (0,)),
    ("cross_entropy_4d", "cross_entropy", [f(2, C, 3, 4), _rng.integers(0, C, (2, 3, 4))],
     {"weight": WEIGHT, "ignore_index": 1}, (0,)),
    ("cross_entropy_3d", "cross_entropy", [f(2, C, 3), _rng.integers(0, C, (2, 3))], {}, (0,)),
    ("cross_entropy_unbatched", "cross_entropy", [f(C), np.array(3)], {}, (0,)),
    ("nll", "nll_loss", [f(N, C), TARGET], {"weight": WEIGHT}, (0,)),
    ("bce", "binary_cross_entropy", [SIGMOID, UNIT], {"weight": np.abs(f(4, 3))}, (0, 1)),
    ("bce_with_logits", "binary_cross_entropy_with_logits", [f(4, 3, scale=3), UNIT],
     {"pos_weight": np.abs(f(3)), "weight": np.abs(f(4, 3))}, (0, 1)),
    ("kl_div", "kl_div", [np.log(PROBS), PROBS], {}, (0, 1)),
    ("kl_div_log_target", "kl_div", [np.log(PROBS), np.log(PROBS[::-1].copy())],
     {"log_target": True}, (0, 1)),
    ("cosine_embedding", "cosine_embedding_loss", [f(4, 3), f(4, 3), np.array([1, -1, 1, -1])],
     {"margin": 0.1}, (0, 1)),
    ("margin_ranking", "margin_ranking_loss", [f(4), f(4), np.array([1., -1, 1, -1], "f4")],
     {"margin": 0.1}, (0, 1)),
    ("hinge_embedding", "hinge_embedding_loss", [f(4, 3), np.sign(f(4, 3))], {}, (0,)),
    ("soft_margin", "soft_margin_loss", [f(4, 3), np.sign(f(4, 3))], {}, (0,)),
    ("multilabel_soft_margin", "multilabel_soft_margin_loss",
     [f(4, 3), (f(4, 3) > 0).astype("f4")], {}, (0,)),
    ("triplet_margin", "triplet_margin_loss", [f(4, 3), f(4, 3), f(4, 3)], {"swap": True},
     (0, 1, 2)),
    ("poisson_nll", "poisson_nll_loss", [f(4, 3), np.abs(f(4, 3)) * 3], {"full": True}, (0,)),
    ("gaussian_nll", "gaussian_nll_loss", [f(4, 3), f(4, 3), np.abs(f(4, 3))], {"full": True},
     (0, 2)),
]


def _ids(cases):
    return [c[0] for c in cases]


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name,fn_name,inputs,kwargs,grads", LOSSES, ids=_ids(LOSSES))
def test_loss_matches_torch(name, fn_name, inputs, kwargs, grads, reduction, device):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_fn(lambda T, *a, **kw: getattr(T.nn.functional, fn_name)(*a, **kw), inputs,
                 device, kwargs={**kwargs, "reduction": reduction}, grad_inputs=list(grads),
                 name=f"{name}/{reduction}",
                 grad_fn=not (fn_name == "cross_entropy" and reduction == "none"
                              and inputs[0].ndim == 3))


def test_kl_div_batchmean(device):
    check_fn(lambda T, a, b: T.nn.functional.kl_div(a, b, reduction="batchmean"),
             [np.log(PROBS), PROBS], device)


EXTREME = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 3e3], [88.0, -90.0, 1e-3]], "float32")


@pytest.mark.parametrize("case", ["cross_entropy", "cross_entropy_smoothing", "nll_log_softmax",
                                  "bce_with_logits", "bce_saturated", "logsigmoid"])
def test_extreme_logits_are_stable(case, device):
    """Finite losses and gradients for |logits| up to 1e4 in float32, equal to torch's."""
    labels = np.array([[1, 0, 1], [1, 0, 0], [0, 1, 1]], "float32")
    calls = {
        "cross_entropy": (lambda T, x: T.nn.functional.cross_entropy(
            x, T.tensor([1, 0, 2], device=x.device)), [EXTREME]),
        "cross_entropy_smoothing": (lambda T, x: T.nn.functional.cross_entropy(
            x, T.tensor([1, 0, 2], device=x.device), label_smoothing=0.1), [EXTREME]),
        "nll_log_softmax": (lambda T, x: T.nn.functional.nll_loss(
            T.nn.functional.log_softmax(x, 1), T.tensor([0, 1, 1], device=x.device)),
            [EXTREME]),
        "bce_with_logits": (lambda T, x, y: T.nn.functional.binary_cross_entropy_with_logits(
            x, y, pos_weight=T.tensor([2.0, 3.0, 0.5], device=x.device)), [EXTREME, labels]),
        "bce_saturated": (lambda T, x, y: T.nn.functional.binary_cross_entropy(x, y),
                          [np.array([0.0, 1.0, 1e-30, 0.5], "float32"),
                           np.array([1.0, 0.0, 0.5, 1.0], "float32")]),
        "logsigmoid": (lambda T, x: T.nn.functional.logsigmoid(x), [EXTREME]),
    }
    fn, inputs = calls[case]
    _, out = check_fn(fn, inputs, device, grad_inputs=[0], name=case, rtol=1e-4)
    if case != "bce_saturated":
        assert np.isfinite(out.detach().cpu().numpy()).all()


MODULES = [
    ("MSELoss", {}, [f(4, 3), f(4, 3)]),
    ("L1Loss", {"reduction": "sum"}, [f(4, 3), f(4, 3)]),
    ("SmoothL1Loss", {"beta": 0.5}, [f(4, 3), f(4, 3)]),
    ("HuberLoss", {"delta": 2.0}, [f(4, 3, scale=3), f(4, 3)]),
    ("CrossEntropyLoss", {"weight": WEIGHT, "label_smoothing": 0.1}, [LOGITS, TARGET]),
    ("NLLLoss", {"ignore_index": 2}, [f(N, C), np.where(TARGET < 0, 2, TARGET)]),
    ("BCELoss", {}, [SIGMOID, UNIT]),
    ("BCEWithLogitsLoss", {"pos_weight": np.abs(f(3))}, [f(4, 3), UNIT]),
    ("KLDivLoss", {"reduction": "batchmean", "log_target": True},
     [np.log(PROBS), np.log(PROBS)]),
    ("CosineEmbeddingLoss", {"margin": 0.2}, [f(4, 3), f(4, 3), np.array([1, -1, -1, 1])]),
    ("MarginRankingLoss", {"margin": 0.2}, [f(4), f(4), np.array([1., -1, -1, 1], "f4")]),
    ("TripletMarginLoss", {"margin": 0.5}, [f(4, 3), f(4, 3), f(4, 3)]),
]


@pytest.mark.parametrize("cls,kwargs,inputs", MODULES, ids=[m[0] for m in MODULES])
def test_loss_module(cls, kwargs, inputs, device):
    def make(nn):
        lib = torch if nn is torch.nn else plugrad
        kw = {k: lib.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
        return getattr(nn, cls)(**kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_module(make, inputs, device, name=cls)


def test_loss_weight_is_a_buffer():
    """weight/pos_weight are registered buffers, as in torch (state_dict, .to(device))."""
    for cls, kw in [("CrossEntropyLoss", "weight"), ("BCEWithLogitsLoss", "pos_weight"),
                    ("NLLLoss", "weight")]:
        t = getattr(torch.nn, cls)(**{kw: torch.ones(3)})
        p = getattr(plugrad.nn, cls)(**{kw: plugrad.ones(3)})
        assert list(p.state_dict()) == list(t.state_dict())
        assert repr(p) == repr(t)


BAD = [
    ("class_out_of_range", lambda T: T.nn.functional.cross_entropy(
        T.zeros(3, 5), T.tensor([1, 7, 2]))),
    ("negative_class", lambda T: T.nn.functional.cross_entropy(
        T.zeros(3, 5), T.tensor([1, -5, 2]))),
    ("nll_class_out_of_range", lambda T: T.nn.functional.nll_loss(
        T.zeros(3, 5), T.tensor([1, 5, 2]))),
    ("ce_4d_out_of_range", lambda T: T.nn.functional.cross_entropy(
        T.zeros(2, 3, 2, 2), T.full((2, 2, 2), 3))),
    ("batch_mismatch", lambda T: T.nn.functional.cross_entropy(T.zeros(3, 5), T.tensor([1, 2]))),
    ("float_target", lambda T: T.nn.functional.cross_entropy(
        T.zeros(3, 5), T.tensor([1.0, 2.0, 3.0]))),
    ("weight_size", lambda T: T.nn.functional.cross_entropy(
        T.zeros(3, 5), T.tensor([1, 2, 3]), weight=T.ones(4))),
    ("spatial_target", lambda T: T.nn.functional.nll_loss(T.zeros(3, 5, 2), T.tensor([1, 2, 3]))),
    ("bad_reduction", lambda T: T.nn.functional.cross_entropy(
        T.zeros(3, 5), T.tensor([1, 2, 3]), reduction="foo")),
    ("smoothing_range", lambda T: T.nn.functional.cross_entropy(
        T.zeros(3, 5), T.tensor([1, 2, 3]), label_smoothing=1.1)),
    ("bce_range", lambda T: T.nn.functional.binary_cross_entropy(T.ones(3) * 2, T.ones(3))),
    ("bce_size", lambda T: T.nn.functional.binary_cross_entropy(T.ones(3) / 2, T.ones(4))),
    ("bce_logits_size", lambda T: T.nn.functional.binary_cross_entropy_with_logits(
        T.ones(3), T.ones(4))),
    ("mse_broadcast_error", lambda T: T.nn.functional.mse_loss(T.ones(3), T.ones(4))),
    ("smooth_l1_negative_beta", lambda T: T.nn.functional.smooth_l1_loss(
        T.ones(3), T.ones(3), beta=-1.0)),
    ("huber_zero_delta", lambda T: T.nn.functional.huber_loss(T.ones(3), T.ones(3), delta=0.0)),
    ("cosine_embedding_dims", lambda T: T.nn.functional.cosine_embedding_loss(
        T.ones(3, 2), T.ones(3, 2), T.ones(3, 1))),
]


@pytest.mark.parametrize("name,call", BAD, ids=[b[0] for b in BAD])
def test_loss_bad_input(name, call):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        raises_like(lambda: call(torch), lambda: call(plugrad))


def test_mse_warns_on_broadcast():
    with pytest.warns(UserWarning, match="Using a target size"):
        plugrad.nn.functional.mse_loss(plugrad.ones(3, 1), plugrad.ones(3))
