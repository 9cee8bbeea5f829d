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


def demo_device() -> str:
    """The device this demo runs fastest on: cuda, or opencl on a GPU, else cpu.

    A 2-64-64-2 MLP on batches of 64 is all Python overhead, which an accelerator only repays
    when it is a real GPU: PoCL's OpenCL device on the CPU took 2.4 s where numpy took 0.8 s.
    Third-party backends are not guessed at (the example torchcpu backend took 119 s); name
    them with --device.
    """
    from plugrad.plugins import get_registry
    registry = get_registry()
    for name in ("cuda", "opencl"):
        try:
            entry = registry.backend(name)
        except KeyError:
            continue
        if entry.availability() is not True or entry.device_count() < 1:
            continue
        if name == "opencl" and _opencl_on_cpu():
            continue
        return name
    return "cpu"


def _opencl_on_cpu() -> bool:
    from plugrad import opencl
    usable = [d for d in opencl.devices() if d["usable"]]
    return not usable or "CPU" in usable[0]["type"]


def _check_device(torch, device):
    """None when ``device`` can run the demo, else the one line that says why not."""
    try:
        torch.zeros(1, device=device)
    except (RuntimeError, ValueError) as exc:
        return f"plugrad demo: cannot use device {device!r}: {exc}"
    return None


def _check_plot(path):
    """None when a picture can be saved to ``path``, else why not (checked before training)."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return ("plugrad demo: --plot needs matplotlib: pip install matplotlib (or "
                "pip install 'plugrad[demo]')")
    import os
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        return f"plugrad demo: cannot save {path!r}: no folder {folder!r}"
    return None


def save_picture(path, torch, model, x, y, losses, device):
    """The loss per epoch beside the learned decision boundary over the two spirals."""
    import numpy as np
    from matplotlib.figure import Figure  # no pyplot: no GUI backend, no global state

    fig = Figure(figsize=(10, 4.5), layout="constrained")
    left, right = fig.subplots(1, 2)
    left.plot(range(1, len(losses) + 1), losses, marker=".")
    left.set(xlabel="epoch", ylabel="cross-entropy loss", yscale="log",
             title="training loss")
    points, labels = x.numpy(), y.numpy()
    lo, hi = points.min(0) - 0.1, points.max(0) + 0.1
    gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], 200), np.linspace(lo[1], hi[1], 200))
    grid = torch.tensor(np.stack([gx.ravel(), gy.ravel()], 1).astype(np.float32))
    with torch.no_grad():
        classes = model(grid.to(device)).argmax(1).cpu().numpy().reshape(gx.shape)
    right.contourf(gx, gy, classes, levels=[-0.5, 0.5, 1.5], colors=["#cfe0f3", "#f8d5c8"])
    for label, colour in ((0, "#1f5fa8"), (1, "#c4421a")):
        chosen = points[labels == label]
        right.scatter(chosen[:, 0], chosen[:, 1], s=6, c=colour, label=f"class {label}")
    right.set(title=f"decision boundary ({device})", aspect="equal")
    right.legend(loc="upper right")
    fig.savefig(path, dpi=110)


def run(device=None, epochs=30, plot=None) -> int:
    """Train the demo; 2 (and one line on stderr) when the device or --plot cannot work."""
    import sys

    import plugrad as torch
    import plugrad.nn as nn
    from plugrad.utils.data import DataLoader, TensorDataset

    device = device or demo_device()
    problem = _check_device(torch, device) or (plot and _check_plot(plot))
    if problem:
        print(problem, file=sys.stderr)
        return 2
    torch.manual_seed(0)
    x, y = spirals(500, torch)
    loader = DataLoader(TensorDataset(x, y), batch_size=64, shuffle=True)
    model = nn.Sequential(nn.Linear(2, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(),
                          nn.Linear(64, 2)).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    loss_fn = nn.CrossEntropyLoss()
    print(f"plugrad {torch.__version__} demo: 2-spirals MLP on device '{device}'")
    start = time.perf_counter()
    losses = []
    for epoch in range(1, epochs + 1):
        total = 0.0
        for xb, yb in loader:
            xb, yb = xb.to(device), yb.to(device)
            optimizer.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(xb)
        losses.append(total / len(x))
        if epoch == 1 or epoch % 5 == 0 or epoch == epochs:
            with torch.no_grad():
                accuracy = (model(x.to(device)).argmax(1).cpu() == y).float().mean().item()
            print(f"epoch {epoch:3d}  loss {losses[-1]:.4f}  accuracy {accuracy:.3f}")
    print(f"done in {time.perf_counter() - start:.2f} s")
    if plot:
        save_picture(plot, torch, model, x, y, losses, device)
        print(f"saved the loss curve and decision boundary to {plot}")
    return 0
