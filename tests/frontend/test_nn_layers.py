"""Every layer against torch: default init bit for bit, then forward values and gradients
with torch's weights, on every device (see nn_oracle.check_module)."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch  # noqa: F401  (the oracle; fail, not skip, when missing)

from nn_oracle import check_module

_rng = np.random.default_rng(0)


def x(*shape, scale=1.0):
    return (_rng.standard_normal(shape) * scale).astype("float32")


def ints(high, shape):
    return _rng.integers(0, high, shape)


CASES = [
    # linear
    ("linear", lambda nn: nn.Linear(5, 3), [x(4, 5)]),
    ("linear_3d_nobias", lambda nn: nn.Linear(5, 3, bias=False), [x(2, 4, 5)]),
    ("bilinear", lambda nn: nn.Bilinear(3, 4, 2), [x(5, 3), x(5, 4)]),
    ("identity", lambda nn: nn.Identity(7, foo=1), [x(3, 2)]),
    # convolutions
    ("conv1d", lambda nn: nn.Conv1d(4, 6, 3, stride=2, padding=1, groups=2), [x(2, 4, 9)]),
    ("conv1d_same", lambda nn: nn.Conv1d(3, 2, 4, padding="same", dilation=2), [x(2, 3, 9)]),
    ("conv2d", lambda nn: nn.Conv2d(3, 4, (3, 2), stride=(2, 1), padding=1, dilation=(1, 2)),
     [x(2, 3, 8, 7)]),
    ("conv2d_same", lambda nn: nn.Conv2d(3, 4, 4, padding="same"), [x(2, 3, 7, 6)]),
    ("conv2d_valid_groups", lambda nn: nn.Conv2d(4, 6, 3, padding="valid", groups=2),
     [x(2, 4, 5, 5)]),
    ("conv2d_depthwise", lambda nn: nn.Conv2d(3, 6, 3, groups=3, bias=False), [x(1, 3, 6, 6)]),
    ("conv2d_reflect", lambda nn: nn.Conv2d(3, 4, 3, padding=1, padding_mode="reflect"),
     [x(2, 3, 5, 6)]),
    ("conv2d_replicate", lambda nn: nn.Conv2d(3, 4, 3, padding=2, padding_mode="replicate"),
     [x(2, 3, 5, 6)]),
    ("conv2d_circular", lambda nn: nn.Conv2d(3, 4, 3, padding=(1, 2), padding_mode="circular"),
     [x(2, 3, 5, 6)]),
    ("conv2d_unbatched", lambda nn: nn.Conv2d(3, 4, 3), [x(3, 5, 6)]),
    ("conv_transpose2d", lambda nn: nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1,
                                                       output_padding=1, groups=2),
     [x(2, 4, 5, 4)]),
    ("conv_transpose2d_dil", lambda nn: nn.ConvTranspose2d(2, 3, (2, 3), stride=(1, 2),
                                                           dilation=2, bias=False),
     [x(2, 2, 4, 3)]),
    ("conv_transpose1d", lambda nn: nn.ConvTranspose1d(4, 3, 3, stride=3, dilation=2),
     [x(2, 4, 5)]),
    # pooling
    ("maxpool2d", lambda nn: nn.MaxPool2d(3, 2, 1), [x(2, 3, 8, 7)]),
    ("maxpool2d_ceil_indices", lambda nn: nn.MaxPool2d(3, 2, 1, ceil_mode=True,
                                                       return_indices=True), [x(2, 3, 8, 7)]),
    ("maxpool2d_dilation", lambda nn: nn.MaxPool2d((2, 3), (1, 2), (1, 1), dilation=2),
     [x(2, 3, 8, 9)]),
    ("maxpool2d_unbatched", lambda nn: nn.MaxPool2d(2), [x(3, 6, 5)]),
    ("maxpool1d", lambda nn: nn.MaxPool1d(3, 2, return_indices=True), [x(2, 3, 9)]),
    ("avgpool2d", lambda nn: nn.AvgPool2d(3, 2, 1), [x(2, 3, 8, 7)]),
    ("avgpool2d_ceil_nopad", lambda nn: nn.AvgPool2d(3, 2, 1, ceil_mode=True,
                                                     count_include_pad=False), [x(2, 3, 8, 7)]),
    ("avgpool2d_divisor", lambda nn: nn.AvgPool2d(2, divisor_override=3), [x(2, 3, 8, 7)]),
    ("avgpool1d", lambda nn: nn.AvgPool1d(3, 2, 1), [x(2, 3, 9)]),
    ("adaptive_avg_uneven", lambda nn: nn.AdaptiveAvgPool2d((3, 5)), [x(2, 3, 8, 7)]),
    ("adaptive_avg_even", lambda nn: nn.AdaptiveAvgPool2d(4), [x(2, 3, 8, 8)]),
    ("adaptive_avg_none", lambda nn: nn.AdaptiveAvgPool2d((None, 1)), [x(2, 3, 8, 8)]),
    ("adaptive_avg1d", lambda nn: nn.AdaptiveAvgPool1d(3), [x(2, 3, 7)]),
    ("adaptive_max2d", lambda nn: nn.AdaptiveMaxPool2d((3, 5), return_indices=True),
     [x(2, 3, 8, 7)]),
    ("lppool2d", lambda nn: nn.LPPool2d(2, 2), [x(2, 3, 6, 4)]),
    # normalization
    ("batchnorm1d", lambda nn: nn.BatchNorm1d(4), [x(6, 4)]),
    ("batchnorm1d_cma", lambda nn: nn.BatchNorm1d(4, momentum=None), [x(3, 4, 5)]),
    ("batchnorm2d", lambda nn: nn.BatchNorm2d(3), [x(2, 3, 4, 5)]),
    ("batchnorm2d_plain", lambda nn: nn.BatchNorm2d(3, affine=False,
                                                    track_running_stats=False),
     [x(2, 3, 4, 5)]),
    ("layernorm", lambda nn: nn.LayerNorm((4, 5)), [x(3, 4, 5)]),
    ("layernorm_nobias", lambda nn: nn.LayerNorm(5, bias=False, eps=1e-3), [x(3, 5)]),
    ("groupnorm", lambda nn: nn.GroupNorm(2, 4), [x(3, 4, 5, 2)]),
    ("instancenorm2d", lambda nn: nn.InstanceNorm2d(3, affine=True, track_running_stats=True),
     [x(2, 3, 4, 5)]),
    ("rmsnorm", lambda nn: nn.RMSNorm(5), [x(3, 4, 5)]),
    # embedding and shape layers
    ("embedding", lambda nn: nn.Embedding(10, 3), [ints(10, (4, 5))]),
    ("embedding_padding", lambda nn: nn.Embedding(10, 3, padding_idx=-2), [ints(10, (4, 5))]),
    ("embedding_freq", lambda nn: nn.Embedding(10, 3, scale_grad_by_freq=True),
     [ints(10, (4, 5))]),
    ("embedding_max_norm", lambda nn: nn.Embedding(10, 3, max_norm=1.0), [ints(10, (4, 5))]),
    ("flatten", lambda nn: nn.Flatten(), [x(2, 3, 4)]),
    ("unflatten", lambda nn: nn.Unflatten(1, (2, 3)), [x(2, 6, 4)]),
    ("reflection_pad2d", lambda nn: nn.ReflectionPad2d((1, 2, 0, 3)), [x(2, 3, 4, 5)]),
    ("replication_pad1d", lambda nn: nn.ReplicationPad1d((3, 1)), [x(2, 3, 4)]),
    ("circular_pad2d", lambda nn: nn.CircularPad2d(2), [x(2, 3, 4, 5)]),
    ("zero_pad2d_negative", lambda nn: nn.ZeroPad2d((1, -1, 2, 0)), [x(2, 3, 4, 5)]),
    ("constant_pad1d", lambda nn: nn.ConstantPad1d((2, 1), 3.5), [x(2, 3, 4)]),
    ("upsample_nearest2x", lambda nn: nn.Upsample(scale_factor=2), [x(2, 3, 4, 5)]),
    ("upsample_nearest_size", lambda nn: nn.Upsample(size=(7, 3)), [x(2, 3, 4, 5)]),
    ("upsample_nearest_frac", lambda nn: nn.Upsample(scale_factor=1.7), [x(2, 3, 4, 5)]),
    ("upsample_nearest_exact", lambda nn: nn.Upsample(size=(7, 9), mode="nearest-exact"),
     [x(2, 3, 4, 5)]),
    ("upsample_bilinear", lambda nn: nn.Upsample(size=(7, 3), mode="bilinear"),
     [x(2, 3, 4, 5)]),
    ("upsample_bilinear_corners", lambda nn: nn.Upsample(scale_factor=2.5, mode="bilinear",
                                                         align_corners=True), [x(2, 3, 4, 5)]),
    ("upsampling_bilinear2d", lambda nn: nn.UpsamplingBilinear2d(scale_factor=2),
     [x(1, 2, 3, 3)]),
    ("upsample_linear", lambda nn: nn.Upsample(scale_factor=1.5, mode="linear"), [x(2, 3, 4)]),
    ("pixel_shuffle", lambda nn: nn.PixelShuffle(2), [x(2, 8, 3, 4)]),
    ("pixel_unshuffle", lambda nn: nn.PixelUnshuffle(2), [x(2, 2, 4, 6)]),
    ("cosine_similarity", lambda nn: nn.CosineSimilarity(), [x(3, 4), x(3, 4)]),
    ("pairwise_distance", lambda nn: nn.PairwiseDistance(), [x(3, 4), x(3, 4)]),
    ("prelu", lambda nn: nn.PReLU(3), [x(2, 3, 4)]),
    # containers
    ("sequential", lambda nn: nn.Sequential(nn.Conv2d(2, 3, 3), nn.BatchNorm2d(3), nn.ReLU(),
                                            nn.MaxPool2d(2), nn.Flatten(), nn.Linear(12, 4)),
     [x(2, 2, 6, 6)]),
]


@pytest.mark.parametrize("name,make,inputs", CASES, ids=[c[0] for c in CASES])
def test_layer_matches_torch(name, make, inputs, device):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_module(make, inputs, device, name=name)


@pytest.mark.parametrize("name,make,inputs", [c for c in CASES if "norm" in c[0]],
                         ids=[c[0] for c in CASES if "norm" in c[0]])
def test_layer_eval_mode(name, make, inputs, device):
    """Eval mode: running statistics normalize, and nothing is updated."""
    check_module(make, inputs, device, name=name, train=False)


def test_batchnorm_running_stats_over_steps(device):
    """Three training steps, then eval: running mean/var/num_batches_tracked follow torch."""
    import plugrad
    torch.manual_seed(0)
    tm = torch.nn.BatchNorm2d(3, momentum=0.3)
    pm = plugrad.nn.BatchNorm2d(3, momentum=0.3).to(device)
    for step in range(3):
        data = x(4, 3, 2, 2, scale=step + 1)
        tm(torch.tensor(data))
        pm(plugrad.tensor(data, device=device))
    for key, value in tm.state_dict().items():
        np.testing.assert_allclose(pm.state_dict()[key].cpu().numpy(), value.numpy(),
                                   rtol=1e-5, atol=1e-6, err_msg=key)
    tm.eval()
    pm.eval()
    data = x(2, 3, 2, 2)
    np.testing.assert_allclose(pm(plugrad.tensor(data, device=device)).detach().cpu().numpy(),
                               tm(torch.tensor(data)).detach().numpy(), rtol=1e-5, atol=1e-6)


DOUBLE = [
    ("conv2d", lambda nn: nn.Conv2d(3, 4, 3, stride=2, padding=1).double(), (2, 3, 7, 6)),
    ("conv_transpose2d", lambda nn: nn.ConvTranspose2d(3, 2, 3, stride=2).double(),
     (2, 3, 4, 4)),
    ("batchnorm2d", lambda nn: nn.BatchNorm2d(3).double(), (4, 3, 3, 3)),
    ("layernorm", lambda nn: nn.LayerNorm(6).double(), (3, 6)),
    ("lstm", lambda nn: nn.LSTM(4, 5, 2, bidirectional=True).double(), (3, 2, 4)),
    ("gru", lambda nn: nn.GRU(4, 5).double(), (3, 2, 4)),
    ("mha", lambda nn: nn.MultiheadAttention(6, 2).double(), (3, 2, 6)),
    ("maxpool", lambda nn: nn.MaxPool2d(2), (2, 3, 6, 6)),
    ("upsample_bilinear", lambda nn: nn.Upsample(scale_factor=1.5, mode="bilinear"),
     (2, 3, 4, 4)),
]


@pytest.mark.parametrize("name,make,shape", DOUBLE, ids=[d[0] for d in DOUBLE])
def test_layer_float64(name, make, shape, device):
    """Models converted with .double() follow torch to float64 precision."""
    import plugrad
    ops = plugrad.empty(1, device=device).device.ops
    if not ops.supports("add", "float64"):
        pytest.skip(f"{device} has no float64")
    data = _rng.standard_normal(shape)
    inputs = [data, data, data] if name == "mha" else [data]
    check_module(make, inputs, device, name=name, atol=1e-10, rtol=1e-9,
                 bitwise=name not in ("batchnorm2d", "layernorm"))
