"""Real-model training steps for ``plugrad bench``, asv and the GPU script: a GPT, an LSTM
language model and a small CNN, shaped like the public programs people train (nanoGPT's
character model, pytorch/examples' word_language_model and mnist).

Each builder takes a torch-like module (plugrad or torch) and a device, so both run literally
the same code; with the same seed both start from the same weights and see the same data
(plugrad's generator is torch's stream), which is what lets tests compare loss curves.
``make_step(lib, device, name)`` returns ``step() -> loss tensor``.
"""
from __future__ import annotations

# nanoGPT's shakespeare-char model at reduced size
GPT = dict(vocab=65, context=64, width=128, heads=4, layers=4, batch=12)
# word_language_model: 2-layer LSTM, bptt 35, batch 20
LSTM = dict(vocab=1000, emb=128, hidden=256, layers=2, bptt=35, batch=20)
# mnist-like: two conv-bn-relu-pool blocks and a linear head
CNN = dict(batch=32, channels=(16, 32), image=28, classes=10)


def _gpt(lib):
    nn, F = lib.nn, lib.nn.functional
    cfg = GPT

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            w = cfg["width"]
            self.ln1, self.ln2 = nn.LayerNorm(w), nn.LayerNorm(w)
            self.qkv, self.proj = nn.Linear(w, 3 * w), nn.Linear(w, w)
            self.fc, self.out = nn.Linear(w, 4 * w), nn.Linear(4 * w, w)

        def forward(self, x):
            b, t, c = x.shape
            h = cfg["heads"]
            q, k, v = self.qkv(self.ln1(x)).split(c, dim=2)
            q, k, v = (z.view(b, t, h, c // h).transpose(1, 2) for z in (q, k, v))
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            x = x + self.proj(y.transpose(1, 2).contiguous().view(b, t, c))
            return x + self.out(F.gelu(self.fc(self.ln2(x))))

    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            w = cfg["width"]
            self.tok, self.pos = nn.Embedding(cfg["vocab"], w), nn.Embedding(cfg["context"], w)
            self.blocks = nn.ModuleList([Block() for _ in range(cfg["layers"])])
            self.ln, self.head = nn.LayerNorm(w), nn.Linear(w, cfg["vocab"], bias=False)
            self.tok.weight = self.head.weight  # tied, as nanoGPT

        def forward(self, idx, targets):
            pos = lib.arange(idx.shape[1], device=idx.device)
            x = self.tok(idx) + self.pos(pos)
            for block in self.blocks:
                x = block(x)
            logits = self.head(self.ln(x))
            return F.cross_entropy(logits.view(-1, logits.shape[-1]), targets.view(-1))

    model = Model()
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    opt = lib.optim.AdamW([{"params": decay, "weight_decay": 0.1},
                           {"params": no_decay, "weight_decay": 0.0}], lr=1e-3)
    shape = (cfg["batch"], cfg["context"])
    return model, opt, shape, cfg["vocab"]


def _lstm(lib):
    nn, F = lib.nn, lib.nn.functional
    cfg = LSTM

    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(cfg["vocab"], cfg["emb"])
            self.rnn = nn.LSTM(cfg["emb"], cfg["hidden"], cfg["layers"])
            self.head = nn.Linear(cfg["hidden"], cfg["vocab"])

        def forward(self, idx, targets):
            out, _ = self.rnn(self.emb(idx))
            logits = self.head(out)
            return F.cross_entropy(logits.view(-1, cfg["vocab"]), targets.view(-1))

    model = Model()
    opt = lib.optim.Adam(model.parameters(), lr=1e-3)
    return model, opt, (cfg["bptt"], cfg["batch"]), cfg["vocab"]


def _cnn(lib):
    nn, F = lib.nn, lib.nn.functional
    cfg = CNN
    c1, c2 = cfg["channels"]
    side = cfg["image"] // 4

    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.features = nn.Sequential(
                nn.Conv2d(1, c1, 3, padding=1), nn.BatchNorm2d(c1), nn.ReLU(), nn.MaxPool2d(2),
                nn.Conv2d(c1, c2, 3, padding=1), nn.BatchNorm2d(c2), nn.ReLU(), nn.MaxPool2d(2))
            self.head = nn.Linear(c2 * side * side, cfg["classes"])

        def forward(self, x, targets):
            return F.cross_entropy(self.head(self.features(x).flatten(1)), targets)

    model = Model()
    opt = lib.optim.SGD(model.parameters(), lr=0.005, momentum=0.9)
    return model, opt, None, cfg["classes"]


BUILDERS = {"gpt": _gpt, "lstm": _lstm, "cnn": _cnn}
CLIP = {"gpt": 1.0, "lstm": 0.25, "cnn": None}


def make_step(lib, device, name, seed=0):
    """A seeded model, optimizer and batch on ``device``; returns ``step() -> loss``."""
    lib.manual_seed(seed)
    model, opt, shape, classes = BUILDERS[name](lib)
    model = model.to(device)
    gen = lib.Generator().manual_seed(seed + 1)
    if shape is None:  # images
        b, s = CNN["batch"], CNN["image"]
        x = lib.randn(b, 1, s, s, generator=gen).to(device)
        y = lib.randint(0, classes, (b,), generator=gen).to(device)
    else:
        x = lib.randint(0, classes, shape, generator=gen).to(device)
        y = lib.randint(0, classes, shape, generator=gen).to(device)
    clip = CLIP[name]

    def step():
        loss = model(x, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if clip is not None:
            lib.nn.utils.clip_grad_norm_(model.parameters(), clip)
        opt.step()
        return loss
    return step


def step_flops(name):
    """Rough training FLOPs per step (6 x parameters x tokens for the dense layers), for rates."""
    if name == "gpt":
        g = GPT
        w, t = g["width"], g["batch"] * g["context"]
        dense = g["layers"] * 12 * w * w + w * g["vocab"]
        attn = g["layers"] * 2 * g["context"] * w
        return 6.0 * t * (dense + attn)
    if name == "lstm":
        c = LSTM
        t = c["bptt"] * c["batch"]
        h, e = c["hidden"], c["emb"]
        dense = 4 * h * (e + h) + (c["layers"] - 1) * 4 * h * 2 * h + h * c["vocab"]
        return 6.0 * t * dense
    c = CNN
    c1, c2 = c["channels"]
    s = c["image"]
    conv = s * s * c1 * 9 + (s // 2) ** 2 * c2 * c1 * 9
    return 6.0 * c["batch"] * (conv + c2 * (s // 4) ** 2 * c["classes"])
