"""Short training runs that combine the newer layers the way public programs do, built after
the same seed in torch and plugrad: the losses of every step agree (init bit for bit, then
forward, backward and SGD steps). A spatial transformer (affine_grid + grid_sample), a
bidirectional GRU over packed variable-length sequences, a weight-normed/spectral-normed
3-d conv net, a lazy MLP, an EmbeddingBag text classifier and a CTC model."""
from __future__ import annotations

import numpy as np
import plugrad
import pytest
import torch

_rng = np.random.default_rng(37)


def stn(lib):
    nn, F = lib.nn, lib.nn.functional

    class STN(nn.Module):
        def __init__(self):
            super().__init__()
            self.loc = nn.Sequential(nn.Conv2d(1, 4, 3), nn.MaxPool2d(2), nn.ReLU(True),
                                     nn.Flatten(), nn.Linear(4 * 3 * 3, 6))
            self.head = nn.Sequential(nn.Conv2d(1, 3, 3), nn.ReLU(), nn.Flatten(),
                                      nn.Linear(3 * 6 * 6, 4))

        def forward(self, x):
            identity = lib.tensor([[1.0, 0, 0], [0, 1.0, 0]], device=x.device)
            theta = self.loc(x).view(-1, 2, 3) * 0.1 + identity
            grid = F.affine_grid(theta, x.size(), align_corners=False)
            return self.head(F.grid_sample(x, grid, align_corners=False))
    return STN()


def packed_gru(lib):
    nn = lib.nn

    class Tagger(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(12, 5, padding_idx=0)
            self.gru = nn.GRU(5, 6, num_layers=2, bidirectional=True)
            self.out = nn.Linear(12, 3)

        def forward(self, tokens, lengths):
            packed = nn.utils.rnn.pack_padded_sequence(self.emb(tokens), lengths,
                                                       enforce_sorted=False)
            out, h = self.gru(packed)
            padded, _ = nn.utils.rnn.pad_packed_sequence(out)
            return self.out(padded.sum(0)) + h[-1].sum()
    return Tagger()


def normed_conv3d(lib):
    nn = lib.nn
    return nn.Sequential(nn.utils.parametrizations.weight_norm(nn.Conv3d(2, 4, 3, padding=1)),
                         nn.ReLU(), nn.MaxPool3d(2),
                         nn.utils.parametrizations.spectral_norm(nn.Conv3d(4, 4, 2)),
                         nn.AdaptiveAvgPool3d(1), nn.Flatten(), nn.Linear(4, 3))


def lazy_mlp(lib):
    nn = lib.nn
    return nn.Sequential(nn.LazyLinear(8), nn.LazyBatchNorm1d(), nn.ReLU(), nn.LazyLinear(3))


def bag_classifier(lib):
    nn = lib.nn

    class Bag(nn.Module):
        def __init__(self):
            super().__init__()
            self.bag = nn.EmbeddingBag(20, 6, mode="mean")
            self.fc = nn.Linear(6, 3)

        def forward(self, tokens, offsets):
            return self.fc(self.bag(tokens, offsets))
    return Bag()


def ctc_model(lib):
    nn = lib.nn
    return nn.Sequential(nn.Linear(4, 6), nn.Tanh(), nn.Linear(6, 5), nn.LogSoftmax(-1))


def batches(name):
    if name == "stn":
        return [(_rng.standard_normal((4, 1, 8, 8)).astype("float32"),), 4]
    if name == "packed_gru":
        tokens = _rng.integers(1, 12, (6, 4))
        lengths = [3, 6, 2, 5]
        for b, n in enumerate(lengths):
            tokens[n:, b] = 0
        return [(tokens, lengths), 4]
    if name == "normed_conv3d":
        return [(_rng.standard_normal((2, 2, 6, 6, 6)).astype("float32"),), 2]
    if name == "lazy_mlp":
        return [(_rng.standard_normal((5, 7)).astype("float32"),), 5]
    if name == "bag":
        return [(_rng.integers(0, 20, 10), np.array([0, 3, 3, 7])), 4]
    return [(_rng.standard_normal((9, 2, 4)).astype("float32"),), 2]


MODELS = {"stn": stn, "packed_gru": packed_gru, "normed_conv3d": normed_conv3d,
          "lazy_mlp": lazy_mlp, "bag": bag_classifier, "ctc": ctc_model}


def _to(lib, a, device):
    if isinstance(a, np.ndarray):
        return torch.tensor(a) if lib is torch else plugrad.tensor(a, device=device)
    return a


def _loss(lib, name, model, inputs, batch, step):
    out = model(*inputs)
    if name == "ctc":
        targets = lib.tensor([[1, 2, 2], [3, 4, 0]])
        return lib.nn.functional.ctc_loss(out, targets, lib.tensor([9, 7]),
                                          lib.tensor([3, 2]))
    target = lib.tensor([(i + step) % 3 for i in range(batch)], device=out.device)
    return lib.nn.functional.cross_entropy(out, target)


@pytest.mark.parametrize("name", list(MODELS))
def test_training_losses_equal_torch(device, name):
    inputs, batch = batches(name)
    losses = {}
    for lib in (torch, plugrad):
        lib.manual_seed(0)
        model = MODELS[name](lib)
        if lib is plugrad:
            model.to(device)
        args = [_to(lib, a, device) for a in inputs]
        if name == "lazy_mlp":
            model(*args)            # materialize before the optimizer sees the parameters
        opt = lib.optim.SGD(model.parameters(), lr=0.1)
        seen = []
        for step in range(3):
            opt.zero_grad()
            loss = _loss(lib, name, model, args, batch, step)
            loss.backward()
            opt.step()
            seen.append(loss.item())
        losses[lib] = seen
    np.testing.assert_allclose(losses[plugrad], losses[torch], rtol=2e-4, atol=1e-5)
