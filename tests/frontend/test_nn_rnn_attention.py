"""RNN/LSTM/GRU, MultiheadAttention, Transformer layers and dropout against torch: init
bit for bit, forward and gradients with torch's weights, and training-mode dropout drawing
the same masks as torch after the same seed."""
from __future__ import annotations

import math
import warnings

import numpy as np
import plugrad
import pytest
import torch

from nn_oracle import check_fn, check_module

_rng = np.random.default_rng(1)


def x(*shape):
    return _rng.standard_normal(shape).astype("float32")


RECURRENT = [
    ("rnn_2layer", lambda nn: nn.RNN(3, 5, 2), [x(4, 2, 3)]),
    ("rnn_relu_bidir_batch_first", lambda nn: nn.RNN(3, 5, nonlinearity="relu",
                                                     batch_first=True, bidirectional=True),
     [x(2, 4, 3)]),
    ("lstm_bidir", lambda nn: nn.LSTM(3, 5, 2, bidirectional=True), [x(4, 2, 3)]),
    ("lstm_proj_batch_first", lambda nn: nn.LSTM(3, 5, 2, proj_size=2, batch_first=True),
     [x(2, 4, 3)]),
    ("lstm_unbatched", lambda nn: nn.LSTM(3, 5), [x(4, 3)]),
    ("gru_bidir_nobias", lambda nn: nn.GRU(3, 5, 2, bidirectional=True, bias=False),
     [x(4, 2, 3)]),
    ("rnn_cell", lambda nn: nn.RNNCell(3, 5, nonlinearity="relu"), [x(2, 3)]),
    ("lstm_cell", lambda nn: nn.LSTMCell(3, 5), [x(2, 3)]),
    ("gru_cell_unbatched", lambda nn: nn.GRUCell(3, 5), [x(3)]),
    ("lstm_dropout_train", lambda nn: nn.LSTM(3, 5, 3, dropout=0.4), [x(4, 2, 3)]),
]


@pytest.mark.parametrize("name,make,inputs", RECURRENT, ids=[c[0] for c in RECURRENT])
def test_recurrent_matches_torch(name, make, inputs, device):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_module(make, inputs, device, name=name)


def test_lstm_initial_state(device):
    h0, c0 = x(2, 3, 5), x(2, 3, 5)
    check_module(lambda nn: nn.LSTM(4, 5, 2), [x(6, 3, 4), h0, c0], device,
                 call=lambda m, a: m(a[0], (a[1], a[2])), name="lstm_h0c0")
    check_module(lambda nn: nn.GRU(4, 5, 2), [x(6, 3, 4), h0], device,
                 call=lambda m, a: m(a[0], a[1]), name="gru_h0")


ATTENTION = [
    ("mha", lambda nn: nn.MultiheadAttention(8, 2), [x(4, 2, 8), x(5, 2, 8), x(5, 2, 8)]),
    ("mha_batch_first_kdim_vdim", lambda nn: nn.MultiheadAttention(
        8, 2, batch_first=True, kdim=3, vdim=5), [x(2, 4, 8), x(2, 5, 3), x(2, 5, 5)]),
    ("mha_bias_kv_zero_attn", lambda nn: nn.MultiheadAttention(
        8, 4, add_bias_kv=True, add_zero_attn=True), [x(4, 2, 8), x(5, 2, 8), x(5, 2, 8)]),
    ("mha_nobias", lambda nn: nn.MultiheadAttention(6, 3, bias=False),
     [x(3, 6), x(4, 6), x(4, 6)]),
    ("mha_dropout_train", lambda nn: nn.MultiheadAttention(8, 2, dropout=0.3),
     [x(4, 2, 8), x(5, 2, 8), x(5, 2, 8)]),
    ("encoder_layer", lambda nn: nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0),
     [x(4, 2, 8)]),
    ("encoder_layer_norm_first_gelu", lambda nn: nn.TransformerEncoderLayer(
        8, 2, 16, dropout=0.0, norm_first=True, batch_first=True, activation="gelu"),
     [x(2, 4, 8)]),
    ("encoder_layer_dropout_train", lambda nn: nn.TransformerEncoderLayer(8, 2, 16, dropout=0.2),
     [x(4, 2, 8)]),
    ("encoder_stack", lambda nn: nn.TransformerEncoder(
        nn.TransformerEncoderLayer(8, 2, 16, dropout=0.1), 2, norm=nn.LayerNorm(8)),
     [x(4, 2, 8)]),
    ("decoder_layer", lambda nn: nn.TransformerDecoderLayer(8, 2, 16, dropout=0.1),
     [x(3, 2, 8), x(4, 2, 8)]),
    ("transformer", lambda nn: nn.Transformer(8, 2, 2, 1, 16, dropout=0.1),
     [x(4, 2, 8), x(3, 2, 8)]),
    ("transformer_batch_first_norm_first", lambda nn: nn.Transformer(
        8, 2, 1, 2, 16, dropout=0.0, batch_first=True, norm_first=True),
     [x(2, 4, 8), x(2, 3, 8)]),
]


@pytest.mark.parametrize("name,make,inputs", ATTENTION, ids=[c[0] for c in ATTENTION])
def test_attention_matches_torch(name, make, inputs, device):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_module(make, inputs, device, name=name)


def _masks():
    attn_bool = np.triu(np.ones((4, 5), dtype=bool), 2)
    attn_float = np.where(attn_bool, -1e9, 0.0).astype("float32")
    padding = np.zeros((2, 5), dtype=bool)
    padding[1, 3:] = True
    return attn_bool, attn_float, padding


@pytest.mark.parametrize("kind", ["bool_mask", "float_mask", "padding", "padding_no_weights",
                                  "per_head_weights"])
def test_mha_masks(kind, device):
    attn_bool, attn_float, padding = _masks()
    q, k = x(4, 2, 8), x(5, 2, 8)
    calls = {
        "bool_mask": lambda m, a: m(a[0], a[1], a[1], attn_mask=a[2]),
        "float_mask": lambda m, a: m(a[0], a[1], a[1], attn_mask=a[3]),
        "padding": lambda m, a: m(a[0], a[1], a[1], key_padding_mask=a[4]),
        "padding_no_weights": lambda m, a: m(a[0], a[1], a[1], key_padding_mask=a[4],
                                             attn_mask=a[2], need_weights=False),
        "per_head_weights": lambda m, a: m(a[0], a[1], a[1], average_attn_weights=False),
    }
    check_module(lambda nn: nn.MultiheadAttention(8, 2), [q, k, attn_bool, attn_float, padding],
                 device, call=calls[kind], name=kind)


def test_transformer_masks_and_errors(device):
    mask = torch.nn.Transformer.generate_square_subsequent_mask(3).numpy()
    assert np.array_equal(plugrad.nn.Transformer.generate_square_subsequent_mask(3).numpy(),
                          mask)
    check_module(lambda nn: nn.Transformer(8, 2, 1, 1, 16, dropout=0.0),
                 [x(4, 2, 8), x(3, 2, 8), mask], device,
                 call=lambda m, a: m(a[0], a[1], tgt_mask=a[2]))
    m = plugrad.nn.Transformer(8, 2, 1, 1, 16)
    with pytest.raises(RuntimeError, match="the batch number of src and tgt must be equal"):
        m(plugrad.zeros(4, 2, 8), plugrad.zeros(3, 3, 8))
    with pytest.raises(RuntimeError, match="the feature number of src and tgt must be equal"):
        m(plugrad.zeros(4, 2, 8), plugrad.zeros(3, 2, 6))


def test_encoder_layer_masks(device):
    causal = np.triu(np.full((4, 4), -math.inf, dtype="float32"), 1)
    padding = np.zeros((2, 4), dtype=bool)
    padding[0, 3] = True
    check_module(lambda nn: nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0),
                 [x(4, 2, 8), causal, padding], device,
                 call=lambda m, a: m(a[0], src_mask=a[1], src_key_padding_mask=a[2]))


@pytest.mark.parametrize("case", ["plain", "bool_mask", "float_mask", "causal", "scale",
                                  "dropout", "gqa"])
def test_scaled_dot_product_attention(case, device):
    q, k, v = x(2, 4, 3, 8), x(2, 4, 5, 8), x(2, 4, 5, 8)
    keep = _rng.random((3, 5)) > 0.3
    keep[:, 0] = True
    kwargs = {"plain": {}, "bool_mask": {"attn_mask": keep},
              "float_mask": {"attn_mask": x(3, 5)}, "causal": {"is_causal": True},
              "scale": {"scale": 0.3}, "dropout": {"dropout_p": 0.4}, "gqa": {}}[case]
    if case == "gqa":
        k, v = x(2, 2, 5, 8), x(2, 2, 5, 8)
        kwargs = {"enable_gqa": True}
    check_fn(lambda T, a, b, c, **kw: T.nn.functional.scaled_dot_product_attention(a, b, c,
                                                                                     **kw),
             [q, k, v], device, kwargs=kwargs, grad_fn=False, name=case)


def test_sdpa_fully_masked_rows_are_zero(device):
    """torch's math path gives 0 (not nan) where every key is masked out."""
    keep = np.ones((3, 5), dtype=bool)
    keep[1] = False
    check_fn(lambda T, a, b, c, m: T.nn.functional.scaled_dot_product_attention(a, b, c, m),
             [x(2, 3, 4), x(2, 5, 4), x(2, 5, 4), keep], device, grad_inputs=[0, 1, 2],
             grad_fn=False)


# ------------------------------------------------------------------------------- dropout

DROPOUT = [
    ("dropout", lambda nn: nn.Dropout(0.3), [x(30, 40)]),
    ("dropout_p1", lambda nn: nn.Dropout(1.0), [x(3, 4)]),
    ("dropout1d", lambda nn: nn.Dropout1d(0.5), [x(4, 6, 5)]),
    ("dropout2d", lambda nn: nn.Dropout2d(0.3), [x(3, 4, 5, 6)]),
    ("dropout3d", lambda nn: nn.Dropout3d(0.3), [x(2, 3, 2, 2, 2)]),
    ("alpha_dropout", lambda nn: nn.AlphaDropout(0.3), [x(30, 40)]),
    ("feature_alpha_dropout", lambda nn: nn.FeatureAlphaDropout(0.3), [x(3, 4, 5, 6)]),
]


@pytest.mark.parametrize("name,make,inputs", DROPOUT, ids=[c[0] for c in DROPOUT])
def test_dropout_masks_match_torch(name, make, inputs, device):
    _, pm = check_module(make, inputs, device, name=name, atol=0, rtol=0)
    check_module(make, inputs, device, name=name + "_eval", train=False, atol=0, rtol=0)


def test_dropout_eval_returns_input_itself():
    t = plugrad.randn(3)
    assert plugrad.nn.functional.dropout(t, 0.5, training=False) is t


def test_dropout_inplace(device):
    t = plugrad.ones(50, device=device)
    plugrad.manual_seed(3)
    out = plugrad.nn.functional.dropout(t, 0.5, inplace=True)
    torch.manual_seed(3)
    expected = torch.nn.functional.dropout(torch.ones(50), 0.5)
    assert out is t
    np.testing.assert_array_equal(t.cpu().numpy(), expected.numpy())
