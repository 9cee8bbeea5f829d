"""End to end against torch: the seed post's SimpleModel with SGD, an MLP and a small CNN on
sklearn's bundled digits, each starting from torch's weights and fed the same batches (the
same seed gives the same DataLoader shuffle in both), checkpointed and resumed midway."""
from __future__ import annotations

import contextlib
import io

import numpy as np
import pytest
import torch

from helpers import load_digits

import plugrad


@pytest.fixture(scope="module")
def digits():
    d = load_digits()
    return (d.data / 16.0).astype(np.float32), d.target.astype(np.int64)


def _seed_post(torch):
    """The blog post's training loop, verbatim (section (4) Optimizer)."""
    nn = torch.nn

    class SimpleModel(nn.Module):
        def __init__(self):
            super(SimpleModel, self).__init__()
            self.linear = nn.Linear(2, 1)  # 입력 2, 출력 1

        def forward(self, x):
            return self.linear(x)

    torch.manual_seed(0)
    model = SimpleModel()
    x = torch.tensor([[1.0, 2.0]])
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    loss_fn = nn.MSELoss()
    y_true = torch.tensor([[5.0]])
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        for epoch in range(10):
            optimizer.zero_grad()  # 기울기 초기화
            y_pred = model(x)      # 예측 값
            loss = loss_fn(y_pred, y_true)  # 손실 계산
            loss.backward()        # 역전파
            optimizer.step()       # 가중치 업데이트
            print(f"Epoch {epoch + 1}, Loss: {loss.item()}")
    return printed.getvalue(), [p.tolist() for p in model.parameters()]


def test_seed_post_simple_model_sgd():
    # same seed -> same Kaiming init (torch's streams), same float32 arithmetic: the printed
    # losses and final weights are identical to the last digit
    assert _seed_post(plugrad) == _seed_post(torch)


def _mlp(mod):
    nn = mod.nn
    return nn.Sequential(nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(),
                         nn.Linear(256, 10))


def _cnn(mod):
    nn = mod.nn
    return nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(16 * 2 * 2, 10))


def _copy_weights(src, dst, device):
    with plugrad.no_grad():
        for a, b in zip(src.parameters(), dst.parameters()):
            b.copy_(plugrad.tensor(a.detach().numpy()))
    return dst.to(device)


def _train(mod, model, X, Y, *, device="cpu", epochs, seed, make_opt, opt_state=None,
           image=False):
    """Per-step losses; the loader shuffles with the module's default generator."""
    mod.manual_seed(seed)
    xs = mod.tensor(X.reshape(-1, 1, 8, 8) if image else X, device=device)
    loader = mod.utils.data.DataLoader(
        mod.utils.data.TensorDataset(xs, mod.tensor(Y, device=device)), batch_size=64,
        shuffle=True)
    opt = make_opt(mod, model)
    if opt_state is not None:
        opt.load_state_dict(opt_state)
    loss_fn = mod.nn.CrossEntropyLoss()
    losses = []
    for _ in range(epochs):
        for x, y in loader:
            opt.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            opt.step()
            losses.append(loss.item())
    return np.array(losses), opt


def _adam(mod, model):
    return mod.optim.Adam(model.parameters(), lr=1e-3)


def _sgd_momentum(mod, model):
    return mod.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, nesterov=True)


def _assert_close(theirs, ours, t_model, p_model, loss_tol, param_tol):
    assert len(ours) == len(theirs)
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=loss_tol, err_msg="loss curve")
    for a, b in zip(t_model.parameters(), p_model.parameters()):
        np.testing.assert_allclose(b.detach().cpu().numpy(), a.detach().numpy(), rtol=0,
                                   atol=param_tol, err_msg="final weights")


def test_digits_mlp_adam_matches_torch(device, digits):
    """64-256-256-10 MLP, Adam, 2 epochs of 29 shuffled batches.

    Tolerance: the two libraries' float32 GEMMs sum in different orders (~1e-7 relative per
    dot product) and Adam divides by sqrt(v), so gradient components near zero turn ulp-level
    differences into O(lr) = 1e-3 relative parameter changes -- in a handful of weights.
    Measured: losses within 5e-7, weights within 1.2e-6 after 58 steps; asserted with 10x
    headroom on the losses and 20x on the weights.
    """
    X, Y = digits
    torch.manual_seed(0)
    t_model = _mlp(torch)
    p_model = _copy_weights(t_model, _mlp(plugrad), device)
    theirs, _ = _train(torch, t_model, X, Y, epochs=2, seed=123, make_opt=_adam)
    ours, _ = _train(plugrad, p_model, X, Y, device=device, epochs=2, seed=123,
                     make_opt=_adam)
    assert theirs[-1] < 0.5 * theirs[0]                  # it does learn
    _assert_close(theirs, ours, t_model, p_model, loss_tol=5e-6, param_tol=2.5e-5)


def test_digits_cnn_matches_torch(device, digits):
    """conv-relu-pool x2 + linear, SGD with Nesterov momentum, one epoch (29 steps).

    Tolerance as for the MLP (different conv/GEMM summation orders); momentum SGD has no
    division, so it amplifies less. Measured: losses within 5e-7, weights within 6e-8.
    """
    X, Y = digits
    torch.manual_seed(1)
    t_model = _cnn(torch)
    p_model = _copy_weights(t_model, _cnn(plugrad), device)
    theirs, _ = _train(torch, t_model, X, Y, epochs=1, seed=7, make_opt=_sgd_momentum,
                       image=True)
    ours, _ = _train(plugrad, p_model, X, Y, device=device, epochs=1, seed=7,
                     make_opt=_sgd_momentum, image=True)
    assert theirs[-1] < theirs[0]
    _assert_close(theirs, ours, t_model, p_model, loss_tol=5e-6, param_tol=1e-6)


def test_checkpoint_resume_matches_uninterrupted_torch(tmp_path, digits):
    """plugrad: epoch 1, save model + optimizer, load into fresh objects, epoch 2 (with the
    seed torch's second epoch used) -- against torch training two epochs in one go."""
    X, Y = digits
    torch.manual_seed(2)
    t_model = _mlp(torch)
    theirs1, t_opt = _train(torch, t_model, X, Y, epochs=1, seed=5, make_opt=_adam)
    theirs2, _ = _train(torch, t_model, X, Y, epochs=1, seed=6, make_opt=_adam,
                        opt_state=t_opt.state_dict())
    torch.manual_seed(2)
    p_model = _copy_weights(_mlp(torch), _mlp(plugrad), "cpu")
    ours1, p_opt = _train(plugrad, p_model, X, Y, epochs=1, seed=5, make_opt=_adam)
    path = tmp_path / "ckpt.pt"
    plugrad.save({"model": p_model.state_dict(), "opt": p_opt.state_dict()}, path)
    ckpt = plugrad.load(path)
    resumed = _mlp(plugrad)
    resumed.load_state_dict(ckpt["model"])
    ours2, _ = _train(plugrad, resumed, X, Y, epochs=1, seed=6, make_opt=_adam,
                      opt_state=ckpt["opt"])
    _assert_close(np.concatenate([theirs1, theirs2]), np.concatenate([ours1, ours2]),
                  t_model, resumed, loss_tol=5e-6, param_tol=2.5e-5)
    # and torch itself resumes from plugrad's checkpoint file
    t_ckpt = torch.load(path)
    assert sorted(t_ckpt["opt"]["state"]) == list(range(6))
