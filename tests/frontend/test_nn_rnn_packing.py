"""nn.utils.rnn against torch: packing/padding values, lengths, indices and errors, and
PackedSequence through RNN/LSTM/GRU (outputs, final states and gradients equal torch's, sorted
and unsorted batches, bidirectional, multi-layer, LSTM with projections)."""
from __future__ import annotations

import numpy as np
import plugrad
import pytest
import torch

from nn_oracle import host, raises_like

_rng = np.random.default_rng(3)


def arr(*shape):
    return _rng.standard_normal(shape).astype("float32")


def both(a, device, grad=False):
    return (torch.tensor(a, requires_grad=grad),
            plugrad.tensor(a, device=device, requires_grad=grad))


def same(p, t, atol=1e-5):
    if t is None:
        assert p is None
        return
    assert tuple(p.shape) == tuple(t.shape)
    np.testing.assert_allclose(host(p), host(t), atol=atol, rtol=1e-4)


def same_packed(p, t):
    same(p.data, t.data)
    assert p.batch_sizes.tolist() == t.batch_sizes.tolist()
    assert p.batch_sizes.device.type == "cpu" and p.batch_sizes.dtype is plugrad.int64
    for a, b in ((p.sorted_indices, t.sorted_indices), (p.unsorted_indices, t.unsorted_indices)):
        assert (a is None) == (b is None)
        if a is not None:
            assert a.tolist() == b.tolist()


@pytest.mark.parametrize("lengths,sort,batch_first", [
    ([5, 3, 3, 1], True, False), ([2, 5, 1, 4], False, False), ([4, 4, 1, 2], False, True)])
def test_pack_pad_round_trip(device, lengths, sort, batch_first):
    a = arr(4, 5, 2) if batch_first else arr(5, 4, 2)
    tx, px = both(a, device, grad=True)
    tp = torch.nn.utils.rnn.pack_padded_sequence(tx, lengths, batch_first, sort)
    pp = plugrad.nn.utils.rnn.pack_padded_sequence(px, plugrad.tensor(lengths), batch_first,
                                                   sort)
    assert type(pp).__name__ == "PackedSequence" and pp._fields == tp._fields
    same_packed(pp, tp)
    tpad, tl = torch.nn.utils.rnn.pad_packed_sequence(tp, batch_first, -1.0, 6)
    ppad, pl = plugrad.nn.utils.rnn.pad_packed_sequence(pp, batch_first, -1.0, 6)
    same(ppad, tpad)
    assert pl.tolist() == tl.tolist() and pl.dtype is plugrad.int64
    g = arr(*tpad.shape)
    (tpad * torch.tensor(g)).sum().backward()
    (ppad * plugrad.tensor(g, device=device)).sum().backward()
    same(px.grad, tx.grad)


def test_pad_sequence_sides_and_unpad(device):
    seqs = [arr(2, 3), arr(4, 3), arr(1, 3)]
    t = [torch.tensor(s) for s in seqs]
    p = [plugrad.tensor(s, device=device) for s in seqs]
    for batch_first in (False, True):
        for side in ("right", "left"):
            same(plugrad.nn.utils.rnn.pad_sequence(p, batch_first, 7.0, side),
                 torch.nn.utils.rnn.pad_sequence(t, batch_first, 7.0, side))
    padded = plugrad.nn.utils.rnn.pad_sequence(p, True)
    back = plugrad.nn.utils.rnn.unpad_sequence(padded, plugrad.tensor([2, 4, 1]), True)
    for a, b in zip(back, t):
        same(a, b)
    tp = torch.nn.utils.rnn.pack_sequence(t, enforce_sorted=False)
    pp = plugrad.nn.utils.rnn.pack_sequence(p, enforce_sorted=False)
    same_packed(pp, tp)
    for a, b in zip(plugrad.nn.utils.rnn.unpack_sequence(pp), t):
        same(a, b)


def test_packed_sequence_to_and_repr_fields(device):
    p = plugrad.nn.utils.rnn.pack_sequence([plugrad.ones(3, 2), plugrad.ones(1, 2)])
    moved = p.to(device).double()
    assert moved.data.dtype is plugrad.float64 and moved.data.device.type == device
    assert moved.batch_sizes.device.type == "cpu"
    assert repr(p).startswith("PackedSequence(data=tensor(")


def test_packing_errors():
    x = np.zeros((4, 3, 2), "float32")
    T, P = torch.nn.utils.rnn, plugrad.nn.utils.rnn
    tx, px = torch.tensor(x), plugrad.tensor(x)
    for lengths in ([3, 4, 2], [4, 2, 0], [4, 2, -1], [4, 2]):
        raises_like(lambda: T.pack_padded_sequence(tx, lengths),
                    lambda: P.pack_padded_sequence(px, lengths))
    raises_like(lambda: T.pack_padded_sequence(tx, torch.tensor([[4, 2, 1]])),
                lambda: P.pack_padded_sequence(px, plugrad.tensor([[4, 2, 1]])))
    tp, pp = T.pack_padded_sequence(tx, [4, 2, 1]), P.pack_padded_sequence(px, [4, 2, 1])
    raises_like(lambda: T.pad_packed_sequence(tp, total_length=3),
                lambda: P.pad_packed_sequence(pp, total_length=3))
    raises_like(lambda: T.pad_sequence([]), lambda: P.pad_sequence([]))
    raises_like(lambda: T.pad_sequence([tx[0]], padding_side="mid"),
                lambda: P.pad_sequence([px[0]], padding_side="mid"))


CASES = [("LSTM", dict(num_layers=2, bidirectional=True)), ("GRU", dict(num_layers=2)),
         ("RNN", dict(bidirectional=True, nonlinearity="relu")),
         ("LSTM", dict(proj_size=2, bidirectional=True)), ("GRU", dict(bidirectional=True))]


@pytest.mark.parametrize("kind,kw", CASES)
@pytest.mark.parametrize("sort", [True, False])
def test_packed_through_recurrent_layers(device, kind, kw, sort):
    lengths = [5, 3, 3, 1] if sort else [3, 5, 1, 3]
    torch.manual_seed(0)
    tm = getattr(torch.nn, kind)(3, 4, **kw)
    pm = getattr(plugrad.nn, kind)(3, 4, **kw)
    pm.load_state_dict({k: plugrad.tensor(host(v)) for k, v in tm.state_dict().items()})
    pm.to(device)
    tx, px = both(arr(5, 4, 3), device, grad=True)
    d = 2 if kw.get("bidirectional") else 1
    layers = kw.get("num_layers", 1)
    th, ph = both(arr(layers * d, 4, kw.get("proj_size") or 4), device, grad=True)
    if kind == "LSTM":
        tc, pc = both(arr(layers * d, 4, 4), device, grad=True)
        thx, phx = (th, tc), (ph, pc)
    else:
        thx, phx = th, ph
    tp = torch.nn.utils.rnn.pack_padded_sequence(tx, lengths, enforce_sorted=sort)
    pp = plugrad.nn.utils.rnn.pack_padded_sequence(px, lengths, enforce_sorted=sort)
    to, tstate = tm(tp, thx)
    po, pstate = pm(pp, phx)
    same_packed(po, to)
    tstate = tstate if kind == "LSTM" else (tstate,)
    pstate = pstate if kind == "LSTM" else (pstate,)
    for a, b in zip(pstate, tstate):
        same(a, b)
    tpad, _ = torch.nn.utils.rnn.pad_packed_sequence(to)
    ppad, _ = plugrad.nn.utils.rnn.pad_packed_sequence(po)
    tloss = tpad.pow(2).sum() + sum(s.sum() * (i + 2) for i, s in enumerate(tstate))
    ploss = ppad.pow(2).sum() + sum(s.sum() * (i + 2) for i, s in enumerate(pstate))
    tloss.backward()
    ploss.backward()
    same(px.grad, tx.grad)
    same(ph.grad, th.grad)
    if kind == "LSTM":
        same(pc.grad, tc.grad)
    for (name, tparam), pparam in zip(tm.named_parameters(), pm.parameters()):
        same(pparam.grad, tparam.grad)


def test_packed_default_hidden_and_errors():
    torch.manual_seed(0)
    tm = torch.nn.GRU(3, 4)
    pm = plugrad.nn.GRU(3, 4)
    pm.load_state_dict({k: plugrad.tensor(host(v)) for k, v in tm.state_dict().items()})
    tx, px = both(arr(3, 2, 3), "cpu")
    tp = torch.nn.utils.rnn.pack_padded_sequence(tx, [3, 2])
    pp = plugrad.nn.utils.rnn.pack_padded_sequence(px, [3, 2])
    same(pm(pp)[1], tm(tp)[1])
    raises_like(lambda: tm(tp, torch.zeros(1, 3, 4)), lambda: pm(pp, plugrad.zeros(1, 3, 4)))


@pytest.mark.parametrize("lengths", [[4, 4, 4], [6, 5, 4, 3, 2, 1], [1]])
def test_packed_lstm_segment_shapes(device, lengths):
    """Equal lengths (one run of steps), all different, a single step."""
    torch.manual_seed(1)
    tm = torch.nn.LSTM(2, 3, 2, bidirectional=True)
    pm = plugrad.nn.LSTM(2, 3, 2, bidirectional=True)
    pm.load_state_dict({k: plugrad.tensor(host(v)) for k, v in tm.state_dict().items()})
    pm.to(device)
    tx, px = both(arr(max(lengths), len(lengths), 2), device, grad=True)
    to, (th, tc) = tm(torch.nn.utils.rnn.pack_padded_sequence(tx, lengths))
    po, (ph, pc) = pm(plugrad.nn.utils.rnn.pack_padded_sequence(px, lengths))
    same_packed(po, to)
    same(ph, th)
    same(pc, tc)
    (to.data.sum() + th.sum() + tc.pow(2).sum()).backward()
    (po.data.sum() + ph.sum() + pc.pow(2).sum()).backward()
    same(px.grad, tx.grad)
