"""Bad input to layers: torch's exception type and message, and nothing left changed."""
from __future__ import annotations

import warnings

import numpy as np
import plugrad
import pytest
import torch

from nn_oracle import raises_like

# name, layer factory, call on (module, library); message compared unless listed below
BAD = [
    ("linear_features", lambda nn: nn.Linear(3, 4), lambda m, T: m(T.ones(2, 5))),
    ("linear_scalar", lambda nn: nn.Linear(3, 4), lambda m, T: m(T.ones(()))),
    ("bilinear_features", lambda nn: nn.Bilinear(3, 4, 2), lambda m, T: m(T.ones(2, 3),
                                                                          T.ones(2, 5))),
    ("conv2d_channels", lambda nn: nn.Conv2d(3, 4, 3), lambda m, T: m(T.ones(2, 5, 8, 8))),
    ("conv2d_rank", lambda nn: nn.Conv2d(3, 4, 3), lambda m, T: m(T.ones(2, 3))),
    ("conv2d_too_small", lambda nn: nn.Conv2d(3, 4, 3), lambda m, T: m(T.ones(1, 3, 2, 2))),
    ("conv1d_rank", lambda nn: nn.Conv1d(3, 4, 3), lambda m, T: m(T.ones(2, 3, 5, 5))),
    ("conv1d_unbatched_channels", lambda nn: nn.Conv1d(3, 4, 3), lambda m, T: m(T.ones(2, 3))),
    ("conv_dtype", lambda nn: nn.Conv2d(3, 4, 3), lambda m, T: m(T.ones(1, 3, 5, 5).double())),
    ("conv_transpose_channels", lambda nn: nn.ConvTranspose2d(4, 3, 3),
     lambda m, T: m(T.ones(1, 3, 5, 5))),
    ("conv_transpose_output_size", lambda nn: nn.ConvTranspose2d(4, 3, 3, stride=2),
     lambda m, T: m(T.ones(1, 4, 5, 5), output_size=(20, 20))),
    ("maxpool_too_small", lambda nn: nn.MaxPool2d(10), lambda m, T: m(T.ones(1, 3, 8, 8))),
    ("maxpool_padding", lambda nn: nn.MaxPool2d(3, padding=2), lambda m, T: m(T.ones(1, 3, 8, 8))),
    ("maxpool1d_rank", lambda nn: nn.MaxPool1d(2), lambda m, T: m(T.ones(8))),
    ("adaptive_rank", lambda nn: nn.AdaptiveAvgPool2d(2), lambda m, T: m(T.ones(8))),
    ("batchnorm1d_rank", lambda nn: nn.BatchNorm1d(3), lambda m, T: m(T.ones(2, 3, 4, 5))),
    ("batchnorm2d_rank", lambda nn: nn.BatchNorm2d(3), lambda m, T: m(T.ones(2, 3))),
    ("batchnorm_channels", lambda nn: nn.BatchNorm1d(3), lambda m, T: m(T.ones(2, 4))),
    ("batchnorm_one_value", lambda nn: nn.BatchNorm1d(3), lambda m, T: m(T.ones(1, 3))),
    ("layernorm_shape", lambda nn: nn.LayerNorm(4), lambda m, T: m(T.ones(2, 3))),
    ("groupnorm_channels", lambda nn: nn.GroupNorm(2, 4), lambda m, T: m(T.ones(2, 3, 4))),
    ("instancenorm_channels", lambda nn: nn.InstanceNorm1d(3, affine=True),
     lambda m, T: m(T.ones(2, 4, 5))),
    ("embedding_index", lambda nn: nn.Embedding(5, 3), lambda m, T: m(T.tensor([1, 7]))),
    ("embedding_negative", lambda nn: nn.Embedding(5, 3), lambda m, T: m(T.tensor([-1]))),
    ("embedding_float", lambda nn: nn.Embedding(5, 3), lambda m, T: m(T.tensor([1.0]))),
    ("rnn_input_size", lambda nn: nn.RNN(3, 4), lambda m, T: m(T.ones(5, 2, 4))),
    ("rnn_rank", lambda nn: nn.GRU(3, 4), lambda m, T: m(T.ones(5, 2, 3, 1))),
    ("rnn_hidden_shape", lambda nn: nn.GRU(3, 4), lambda m, T: m(T.ones(5, 2, 3),
                                                                 T.ones(1, 3, 4))),
    ("lstm_cell_shape", lambda nn: nn.LSTM(3, 4), lambda m, T: m(T.ones(5, 2, 3),
                                                                 (T.ones(1, 2, 4),
                                                                  T.ones(1, 2, 5)))),
    ("rnn_dtype", lambda nn: nn.LSTM(3, 4), lambda m, T: m(T.ones(5, 2, 3).double())),
    ("mha_embed_dim", lambda nn: nn.MultiheadAttention(8, 2),
     lambda m, T: m(T.ones(4, 2, 6), T.ones(4, 2, 6), T.ones(4, 2, 6))),
    ("mha_mask_shape", lambda nn: nn.MultiheadAttention(8, 2),
     lambda m, T: m(T.ones(4, 2, 8), T.ones(5, 2, 8), T.ones(5, 2, 8),
                    attn_mask=T.zeros(4, 4))),
    ("pixel_shuffle_channels", lambda nn: nn.PixelShuffle(2), lambda m, T: m(T.ones(1, 6, 2, 2))),
    ("unflatten_size", lambda nn: nn.Unflatten(1, (2, 3)), lambda m, T: m(T.ones(2, 7))),
    ("pad_reflect_too_large", lambda nn: nn.ReflectionPad1d(5), lambda m, T: m(T.ones(1, 2, 4))),
]

# torch's text that plugrad words differently (its own ATen internals); the type still matches
MESSAGE_DIFFERS = {"linear_scalar", "unflatten_size", "rnn_rank", "embedding_negative"}


@pytest.mark.parametrize("name,make,call", BAD, ids=[b[0] for b in BAD])
def test_layer_bad_input(name, make, call):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t_mod, p_mod = make(torch.nn), make(plugrad.nn)
        before = {k: v.clone() for k, v in p_mod.state_dict().items()}
        raises_like(lambda: call(t_mod, torch), lambda: call(p_mod, plugrad),
                    match_message=name not in MESSAGE_DIFFERS)
        for key, value in p_mod.state_dict().items():
            np.testing.assert_array_equal(value.numpy(), before[key].numpy(), err_msg=key)


CONSTRUCTION = [
    ("conv_groups", lambda nn: nn.Conv2d(3, 4, 3, groups=2)),
    ("conv_out_groups", lambda nn: nn.Conv2d(4, 3, 3, groups=2)),
    ("conv_same_strided", lambda nn: nn.Conv2d(3, 4, 3, padding="same", stride=2)),
    ("conv_padding_string", lambda nn: nn.Conv2d(3, 4, 3, padding="full")),
    ("conv_padding_mode", lambda nn: nn.Conv2d(3, 4, 3, padding_mode="foo")),
    ("conv_transpose_mode", lambda nn: nn.ConvTranspose2d(3, 4, 3, padding_mode="reflect")),
    ("dropout_p", lambda nn: nn.Dropout(1.5)),
    ("embedding_padding_idx", lambda nn: nn.Embedding(5, 3, padding_idx=7)),
    ("groupnorm_divisible", lambda nn: nn.GroupNorm(3, 4)),
    ("rnn_dropout", lambda nn: nn.LSTM(3, 4, dropout=2.0)),
    ("rnn_proj", lambda nn: nn.LSTM(3, 4, proj_size=4)),
    ("rnn_nonlinearity", lambda nn: nn.RNN(3, 4, nonlinearity="gelu")),
    ("gru_proj", lambda nn: nn.GRU(3, 4, proj_size=2)),
    ("mha_heads", lambda nn: nn.MultiheadAttention(8, 3)),
    ("transformer_activation", lambda nn: nn.TransformerEncoderLayer(8, 2, activation="swish")),
    ("hardtanh_range", lambda nn: nn.Hardtanh(1.0, 0.5)),
    ("unflatten_type", lambda nn: nn.Unflatten(1, 3)),
]


@pytest.mark.parametrize("name,make", CONSTRUCTION, ids=[c[0] for c in CONSTRUCTION])
def test_bad_construction(name, make):
    # those two messages print a Python set, whose order varies with the hash seed
    unordered = name in ("conv_padding_mode", "conv_padding_string")
    raises_like(lambda: make(torch.nn), lambda: make(plugrad.nn), match_message=not unordered)


def test_parameters_on_different_devices(device):
    if device == "cpu":
        pytest.skip("needs a second device")
    model = plugrad.nn.Sequential(plugrad.nn.Linear(2, 3), plugrad.nn.Linear(3, 1))
    model[1].to(device)
    with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device"):
        model(plugrad.ones(1, 2))
    conv = plugrad.nn.Conv2d(1, 2, 3).to(device)
    with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device"):
        conv(plugrad.ones(1, 1, 4, 4))
