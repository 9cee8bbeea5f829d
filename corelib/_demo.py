"""The demo behind ``python -m plugrad demo``: an MLP learns two interleaved spirals.

Written exactly as a PyTorch user would write it (``import plugrad as torch``), so it doubles
as a smoke test of tensors, autograd, nn, optim and data loading on whichever device runs it.
"""
from __future__ import annotations

import math
import time


def spirals(n_per_class, torch, noise=0.2):
    """Two interleaved spirals in 2-D: a classic problem a linear model cannot solve."""
    t = torch.linspace(0.25, 3 * math.pi, n_per_class)
    arms = []
    for label, phase in ((0, 0.0), (1, math.pi)):
        x = torch.stack([t * torch.cos(t + phase), t * torch.sin(t + phase)], 1) / (3 * math.pi)
        arms.append((x + noise * torch.randn(n_per_class, 2) / (3 * math.pi),
                     torch.full((n_per_class,), label)))
    return torch.cat([a[0] for a in arms]), torch.cat([a[1] for a in arms])


def run(device=None, epochs=30) -> int:
    import plugrad as torch
    import plugrad.nn as nn
    from plugrad._device import best_accelerator
    from plugrad.utils.data import DataLoader, TensorDataset

    device = device or best_accelerator()
    torch.manual_seed(0)
    x, y = spirals(500, torch)
    loader = DataLoader(TensorDataset(x, y), batch_size=64, shuffle=True)
    model = nn.Sequential(nn.Linear(2, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(),
                          nn.Linear(64, 2)).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    loss_fn = nn.CrossEntropyLoss()
    print(f"plugrad {torch.__version__} demo: 2-spirals MLP on device '{device}'")
    start = time.perf_counter()
    for epoch in range(1, epochs + 1):
        total = 0.0
        for xb, yb in loader:
            xb, yb = xb.to(device), yb.to(device)
            optimizer.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(xb)
        if epoch == 1 or epoch % 5 == 0 or epoch == epochs:
            with torch.no_grad():
                accuracy = (model(x.to(device)).argmax(1).cpu() == y).float().mean().item()
            print(f"epoch {epoch:3d}  loss {total / len(x):.4f}  accuracy {accuracy:.3f}")
    print(f"done in {time.perf_counter() - start:.2f} s")
    return 0
