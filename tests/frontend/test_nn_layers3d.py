"""3-d layers (Conv3d, ConvTranspose3d, max/avg/adaptive/Lp 3-d pools, 3-d pads,
InstanceNorm3d) and Fold/Unfold against torch: init bit for bit, reprs, forward values,
indices, gradients (ties included: the first maximum in (d, h, w) order gets the gradient),
grad_fn names and errors."""
from __future__ import annotations

import numpy as np
import plugrad
import pytest
import torch

from nn_oracle import check_fn, check_module, raises_like

_rng = np.random.default_rng(7)


def x(*shape):
    return _rng.standard_normal(shape).astype("float32")


def ties(*shape):
    return np.round(x(*shape))


MODULES = [
    ("conv3d", lambda nn: nn.Conv3d(4, 6, (3, 2, 2), stride=(2, 1, 1), padding=(1, 0, 2),
                                    dilation=(1, 2, 1), groups=2), [x(2, 4, 5, 6, 5)]),
    ("conv3d_same_reflect", lambda nn: nn.Conv3d(2, 3, 3, padding="same",
                                                 padding_mode="reflect"), [x(2, 4, 5, 4)]),
    ("conv3d_nobias_unbatched", lambda nn: nn.Conv3d(2, 3, 2, bias=False), [x(2, 3, 4, 3)]),
    ("conv_transpose3d", lambda nn: nn.ConvTranspose3d(4, 6, (3, 2, 2), stride=(2, 1, 2),
                                                       padding=(1, 0, 1),
                                                       output_padding=(1, 0, 1),
                                                       dilation=(1, 2, 1), groups=2),
     [x(2, 4, 3, 4, 3)]),
    ("conv_transpose3d_plain", lambda nn: nn.ConvTranspose3d(2, 3, 2), [x(2, 3, 3, 2)]),
    ("max_pool3d", lambda nn: nn.MaxPool3d((3, 2, 2), (2, 1, 2), (1, 1, 0), (1, 2, 1),
                                           ceil_mode=True), [ties(2, 3, 7, 6, 5)]),
    ("max_pool3d_indices", lambda nn: nn.MaxPool3d(2, return_indices=True),
     [ties(3, 4, 5, 4)]),
    ("avg_pool3d", lambda nn: nn.AvgPool3d((3, 2, 2), (2, 1, 2), (1, 1, 0), ceil_mode=True,
                                           count_include_pad=False), [x(2, 3, 7, 6, 5)]),
    ("avg_pool3d_divisor", lambda nn: nn.AvgPool3d(2, divisor_override=3), [x(2, 3, 4, 4, 4)]),
    ("adaptive_avg_pool3d", lambda nn: nn.AdaptiveAvgPool3d((3, None, 2)), [x(2, 3, 7, 6, 5)]),
    ("adaptive_avg_pool3d_1", lambda nn: nn.AdaptiveAvgPool3d(1), [x(2, 3, 4, 3, 2)]),
    ("adaptive_max_pool3d", lambda nn: nn.AdaptiveMaxPool3d((3, 4, 2), return_indices=True),
     [ties(2, 3, 7, 6, 5)]),
    ("lp_pool3d", lambda nn: nn.LPPool3d(2, 2), [x(1, 2, 4, 4, 4)]),
    ("reflection_pad3d", lambda nn: nn.ReflectionPad3d((1, 2, 0, 1, 2, 1)), [x(2, 3, 4, 4, 4)]),
    ("replication_pad3d", lambda nn: nn.ReplicationPad3d(2), [x(3, 2, 3, 4)]),
    ("circular_pad3d", lambda nn: nn.CircularPad3d((1, 1, 2, 0, 1, 2)), [x(1, 2, 3, 3, 3)]),
    ("constant_pad3d", lambda nn: nn.ConstantPad3d((1, 0, 2, 1, 0, 1), 2.5), [x(1, 2, 3, 3, 3)]),
    ("zero_pad3d", lambda nn: nn.ZeroPad3d(1), [x(1, 2, 3, 3, 3)]),
    ("instance_norm3d", lambda nn: nn.InstanceNorm3d(3, affine=True, track_running_stats=True),
     [x(2, 3, 4, 3, 2)]),
    ("unfold", lambda nn: nn.Unfold((2, 3), dilation=(1, 2), padding=1, stride=(2, 1)),
     [x(2, 3, 5, 6)]),
    ("fold", lambda nn: nn.Fold((5, 6), (2, 3), dilation=(1, 2), padding=1, stride=(2, 1)),
     [x(2, 18, 12)]),
    ("fold_unbatched", lambda nn: nn.Fold(4, 2), [x(8, 9)]),
]


@pytest.mark.parametrize("name,make,inputs", MODULES, ids=[m[0] for m in MODULES])
def test_module_against_torch(device, name, make, inputs):
    check_module(make, inputs, device, name=name, atol=1e-4)


FUNCTIONS = [
    ("conv3d", lambda T, a, w, b: T.nn.functional.conv3d(a, w, b, 2, 1), [x(1, 2, 5, 5, 5),
                                                                         x(4, 2, 3, 3, 3),
                                                                         x(4)]),
    ("conv_transpose3d", lambda T, a, w: T.nn.functional.conv_transpose3d(a, w, stride=2),
     [x(1, 2, 2, 3, 2), x(2, 3, 2, 2, 2)]),
    ("max_pool3d", lambda T, a: T.nn.functional.max_pool3d(a, 2, return_indices=True),
     [ties(1, 2, 4, 4, 4)]),
    ("avg_pool3d", lambda T, a: T.nn.functional.avg_pool3d(a, 3, 2, 1), [x(1, 2, 5, 5, 5)]),
    ("adaptive_avg_pool3d", lambda T, a: T.nn.functional.adaptive_avg_pool3d(a, (2, 3, 1)),
     [x(1, 2, 5, 5, 5)]),
    ("adaptive_max_pool3d", lambda T, a: T.nn.functional.adaptive_max_pool3d(a, 2),
     [ties(1, 2, 5, 5, 5)]),
    ("unfold", lambda T, a: T.nn.functional.unfold(a, 2), [x(1, 2, 4, 4)]),
    ("fold", lambda T, a: T.nn.functional.fold(a, (3, 3), 2), [x(1, 8, 4)]),
]


@pytest.mark.parametrize("name,fn,inputs", FUNCTIONS, ids=[f[0] for f in FUNCTIONS])
def test_functional_grad_fn(device, name, fn, inputs):
    check_fn(fn, inputs, device, name=name, atol=1e-4)


def test_fold_is_unfold_adjoint(device):
    a = plugrad.tensor(x(2, 3, 6, 5), device=device)
    c = plugrad.tensor(x(2, 3 * 6, 12), device=device)
    lhs = (plugrad.nn.functional.unfold(a, (2, 3), padding=1, stride=2) * c).sum()
    rhs = (a * plugrad.nn.functional.fold(c, (6, 5), (2, 3), padding=1, stride=2)).sum()
    assert abs(lhs.item() - rhs.item()) < 1e-3


ERRORS = [
    lambda T: T.nn.functional.unfold(T.zeros(1, 2, 3, 3, 3), 2),
    lambda T: T.nn.functional.unfold(T.zeros(1, 2, 3, 3), 4),
    lambda T: T.nn.functional.unfold(T.zeros(1, 2, 3, 3), 0),
    lambda T: T.nn.functional.unfold(T.zeros(1, 2, 3, 3), 2, padding=-1),
    lambda T: T.nn.functional.unfold(T.zeros(1, 2, 3, 3), 2, stride=0),
    lambda T: T.nn.functional.unfold(T.zeros(1, 2, 3, 3), (2, 2, 2)),
    lambda T: T.nn.functional.fold(T.zeros(1, 5, 4), (3, 3), 2),
    lambda T: T.nn.functional.fold(T.zeros(1, 8, 5), (3, 3), 2),
    lambda T: T.nn.functional.fold(T.zeros(2, 1, 8, 4), (3, 3), 2),
    lambda T: T.nn.functional.max_pool3d(T.zeros(2, 3, 3), 2),
    lambda T: T.nn.functional.avg_pool3d(T.zeros(2, 3, 3), 2),
    lambda T: T.nn.functional.max_pool3d(T.zeros(1, 2, 3, 3, 3), 2, padding=2),
    lambda T: T.nn.functional.max_pool3d(T.zeros(1, 2, 1, 3, 3), 2),
    lambda T: T.nn.functional.avg_pool3d(T.zeros(1, 2, 1, 3, 3), 2),
    lambda T: T.nn.functional.adaptive_avg_pool3d(T.zeros(2, 3, 3), 2),
    lambda T: T.nn.functional.adaptive_max_pool3d(T.zeros(2, 3, 3), 2),
    lambda T: T.nn.functional.conv3d(T.zeros(1, 2, 3, 3), T.zeros(1, 2, 2, 2, 2)),
    lambda T: T.nn.functional.conv3d(T.zeros(1, 2, 3, 3, 3), T.zeros(1, 3, 2, 2, 2)),
    lambda T: T.nn.functional.conv3d(T.zeros(1, 2, 1, 3, 3), T.zeros(1, 2, 2, 2, 2)),
    lambda T: T.nn.functional.conv_transpose3d(T.zeros(1, 2, 3, 3, 3), T.zeros(3, 2, 2, 2, 2)),
    lambda T: T.nn.functional.conv_transpose3d(T.zeros(1, 2, 3, 3, 3), T.zeros(2, 2, 2, 2, 2),
                                               output_padding=2),
]


@pytest.mark.parametrize("i", range(len(ERRORS)))
def test_errors_match_torch(i):
    raises_like(lambda: ERRORS[i](torch), lambda: ERRORS[i](plugrad))
