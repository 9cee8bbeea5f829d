"""nn.utils.parametrize, parametrizations.weight_norm/spectral_norm and the hook-based
weight_norm/spectral_norm against torch: reprs, state_dict keys, seeded initial power-iteration
vectors, forward values over several training steps, gradients of the originals, removal,
assignment through right_inverse, caching and errors."""
from __future__ import annotations

import warnings

import numpy as np
import plugrad
import pytest
import torch

from nn_oracle import host, raises_like


def same(p, t, atol=1e-5):
    assert tuple(p.shape) == tuple(t.shape), (tuple(p.shape), tuple(t.shape))
    np.testing.assert_allclose(host(p), host(t), atol=atol, rtol=1e-4)


def pair(make, wrap, device, seed=0):
    """The same layer built and wrapped in torch and plugrad after the same seed."""
    torch.manual_seed(seed)
    tm = wrap(torch, make(torch.nn))
    plugrad.manual_seed(seed)
    pm = wrap(plugrad, make(plugrad.nn))
    assert repr(pm) == repr(tm)
    assert list(pm.state_dict()) == list(tm.state_dict())
    for (k, a), b in zip(tm.state_dict().items(), pm.state_dict().values()):
        np.testing.assert_allclose(host(b), host(a), atol=1e-6, err_msg=k)
    return tm, pm.to(device)


def run_steps(tm, pm, shape, device, steps=3):
    rng = np.random.default_rng(5)
    for _ in range(steps):
        x = rng.standard_normal(shape).astype("float32")
        tx, px = torch.tensor(x, requires_grad=True), plugrad.tensor(x, device=device,
                                                                     requires_grad=True)
        to, po = tm(tx), pm(px)
        same(po, to)
        to.pow(2).sum().backward()
        po.pow(2).sum().backward()
        same(px.grad, tx.grad)
        for (name, a), b in zip(tm.named_parameters(), pm.parameters()):
            same(b.grad, a.grad, atol=1e-4)
        tm.zero_grad()
        pm.zero_grad()
    for (k, a), b in zip(tm.state_dict().items(), pm.state_dict().values()):
        np.testing.assert_allclose(host(b), host(a), atol=1e-5, err_msg=k)


WEIGHT_NORM = [
    ("linear_dim0", lambda nn: nn.Linear(3, 4), 0, (2, 3)),
    ("linear_dimNone", lambda nn: nn.Linear(3, 4), None, (2, 3)),
    ("conv_dim1", lambda nn: nn.Conv2d(2, 3, 2), 1, (1, 2, 4, 4)),
]


@pytest.mark.parametrize("name,make,dim,shape", WEIGHT_NORM)
def test_parametrizations_weight_norm(device, name, make, dim, shape):
    wrap = lambda lib, m: lib.nn.utils.parametrizations.weight_norm(m, dim=dim)  # noqa: E731
    tm, pm = pair(make, wrap, device)
    assert type(pm).__name__ == type(tm).__name__
    run_steps(tm, pm, shape, device)
    torch.nn.utils.parametrize.remove_parametrizations(tm, "weight")
    plugrad.nn.utils.parametrize.remove_parametrizations(pm, "weight")
    assert repr(pm) == repr(tm) and list(pm.state_dict()) == list(tm.state_dict())
    same(pm.weight, tm.weight)
    assert isinstance(pm.weight, plugrad.nn.Parameter)


@pytest.mark.parametrize("name,make,dim,shape", WEIGHT_NORM)
def test_hook_weight_norm(device, name, make, dim, shape):
    def wrap(lib, m):
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            out = lib.nn.utils.weight_norm(m, dim=dim)
        assert any(issubclass(w.category, FutureWarning) for w in seen)
        return out
    tm, pm = pair(make, wrap, device)
    run_steps(tm, pm, shape, device)
    torch.nn.utils.remove_weight_norm(tm)
    plugrad.nn.utils.remove_weight_norm(pm)
    assert list(pm.state_dict()) == list(tm.state_dict())
    same(pm.weight, tm.weight)
    raises_like(lambda: torch.nn.utils.remove_weight_norm(tm),
                lambda: plugrad.nn.utils.remove_weight_norm(pm))


SPECTRAL = [
    ("linear", lambda nn: nn.Linear(5, 4), (2, 5), {}),
    ("conv", lambda nn: nn.Conv2d(2, 3, 2), (1, 2, 4, 4), dict(n_power_iterations=2)),
    ("conv_transpose", lambda nn: nn.ConvTranspose2d(2, 3, 2), (1, 2, 3, 3), {}),
]


@pytest.mark.parametrize("name,make,shape,kw", SPECTRAL)
@pytest.mark.parametrize("api", ["parametrizations", "hooks"])
def test_spectral_norm(device, name, make, shape, kw, api):
    if api == "hooks":
        wrap = lambda lib, m: lib.nn.utils.spectral_norm(m, **kw)  # noqa: E731
    else:
        wrap = lambda lib, m: lib.nn.utils.parametrizations.spectral_norm(m, **kw)  # noqa: E731
    tm, pm = pair(make, wrap, device)
    run_steps(tm, pm, shape, device)
    tm.eval()
    pm.eval()
    run_steps(tm, pm, shape, device, steps=1)


class Symmetric:
    """Built per library: X -> triu(X) + triu(X, 1)^T, right_inverse: triu."""

    @staticmethod
    def make(lib):
        class Sym(lib.nn.Module):
            def forward(self, x):
                return x.triu() + x.triu(1).transpose(-1, -2)

            def right_inverse(self, a):
                return a.triu()
        return Sym()


def test_register_chain_assign_cached_remove(device):
    rng = np.random.default_rng(2)
    w = rng.standard_normal((3, 3)).astype("float32")
    mods = {}
    for lib in (torch, plugrad):
        m = lib.nn.Linear(3, 3)
        with lib.no_grad():
            m.weight.copy_(lib.tensor(w))
        P = lib.nn.utils.parametrize
        P.register_parametrization(m, "weight", Symmetric.make(lib))
        P.register_parametrization(m, "weight", lib.nn.Tanh())
        assert P.is_parametrized(m) and P.is_parametrized(m, "weight")
        assert not P.is_parametrized(m, "bias")
        assert P.type_before_parametrizations(m) is lib.nn.Linear
        mods[lib] = m
    tm, pm = mods[torch], mods[plugrad]
    pm.to(device)
    assert repr(pm) == repr(tm)
    assert list(pm.state_dict()) == list(tm.state_dict())
    same(pm.weight, tm.weight)
    with plugrad.nn.utils.parametrize.cached():
        assert pm.weight is pm.weight
    assert pm.weight is not pm.weight
    # assigning goes through right_inverse of Sym (Tanh has none: torch's error)
    raises_like(lambda: setattr(tm, "weight", torch.zeros(3, 3)),
                lambda: setattr(pm, "weight", plugrad.zeros(3, 3)), match_message=False)
    torch.nn.utils.parametrize.remove_parametrizations(tm, "weight", leave_parametrized=False)
    plugrad.nn.utils.parametrize.remove_parametrizations(pm, "weight", leave_parametrized=False)
    assert type(pm) is plugrad.nn.Linear and repr(pm) == repr(tm)
    assert list(pm.state_dict()) == list(tm.state_dict())
    same(pm.weight, tm.weight)


def test_assignment_runs_right_inverse(device):
    m = plugrad.nn.Linear(3, 3).to(device)
    plugrad.nn.utils.parametrize.register_parametrization(m, "weight", Symmetric.make(plugrad))
    a = plugrad.arange(9.0, device=device).reshape(3, 3)
    m.weight = a
    t = torch.arange(9.0).reshape(3, 3)
    same(m.parametrizations.weight.original, t.triu())
    same(m.weight, t.triu() + t.triu(1).T)


def test_load_torch_state_dict(device):
    torch.manual_seed(0)
    tm = torch.nn.utils.parametrizations.weight_norm(torch.nn.Linear(3, 4))
    pm = plugrad.nn.utils.parametrizations.weight_norm(plugrad.nn.Linear(3, 4))
    pm.load_state_dict({k: plugrad.tensor(host(v)) for k, v in tm.state_dict().items()})
    pm.to(device)
    same(pm.weight, tm.weight)


def test_parametrize_errors():
    tl, pl = torch.nn.Linear(3, 4), plugrad.nn.Linear(3, 4)
    raises_like(lambda: torch.nn.utils.parametrize.register_parametrization(
        tl, "nothing", torch.nn.Identity()),
        lambda: plugrad.nn.utils.parametrize.register_parametrization(
            pl, "nothing", plugrad.nn.Identity()))

    def shrink(lib):
        class Shrink(lib.nn.Module):
            def forward(self, x):
                return x[:2]
        return Shrink()
    raises_like(lambda: torch.nn.utils.parametrize.register_parametrization(
        tl, "weight", shrink(torch)),
        lambda: plugrad.nn.utils.parametrize.register_parametrization(
            pl, "weight", shrink(plugrad)))
    raises_like(lambda: torch.nn.utils.parametrize.remove_parametrizations(tl, "weight"),
                lambda: plugrad.nn.utils.parametrize.remove_parametrizations(pl, "weight"))
    raises_like(lambda: torch.nn.utils.parametrizations.spectral_norm(tl, dim=3),
                lambda: plugrad.nn.utils.parametrizations.spectral_norm(pl, dim=3))
    raises_like(lambda: torch.nn.utils.parametrizations.spectral_norm(
        tl, n_power_iterations=0),
        lambda: plugrad.nn.utils.parametrizations.spectral_norm(pl, n_power_iterations=0))
    raises_like(lambda: torch.nn.utils.parametrizations.spectral_norm(tl, "nothing"),
                lambda: plugrad.nn.utils.parametrizations.spectral_norm(pl, "nothing"))
    wn = plugrad.nn.utils.parametrizations.weight_norm(plugrad.nn.Linear(2, 2))
    tw = torch.nn.utils.parametrizations.weight_norm(torch.nn.Linear(2, 2))
    raises_like(lambda: torch.nn.utils.parametrize.remove_parametrizations(
        tw, "weight", leave_parametrized=False),
        lambda: plugrad.nn.utils.parametrize.remove_parametrizations(
            wn, "weight", leave_parametrized=False))


def test_weight_norm_loads_hook_api_checkpoint(device):
    """parametrizations.weight_norm reads the old API's weight_g/weight_v keys (torch's hook),
    also inside a container."""
    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        old = torch.nn.Sequential(torch.nn.utils.weight_norm(torch.nn.Linear(3, 4)))
    state = {k: plugrad.tensor(host(v)) for k, v in old.state_dict().items()}
    assert "0.weight_g" in state
    pm = plugrad.nn.Sequential(
        plugrad.nn.utils.parametrizations.weight_norm(plugrad.nn.Linear(3, 4)))
    pm.load_state_dict(state)
    pm.to(device)
    same(pm[0].weight, old[0].weight)


@pytest.mark.parametrize("shape,orthogonal_map", [((4, 4), None), ((5, 3), None),
                                                  ((3, 5), None), ((4, 4), "cayley"),
                                                  ((5, 3), "matrix_exp")])
def test_orthogonal(device, shape, orthogonal_map):
    """Seeded init (the weight's QR Q; a random completion for non-square), three SGD steps:
    weights, losses, repr and state_dict keys equal torch's; the weight stays orthogonal."""
    make = lambda nn: nn.Linear(shape[1], shape[0])  # noqa: E731
    wrap = lambda lib, m: lib.nn.utils.parametrizations.orthogonal(  # noqa: E731
        m, orthogonal_map=orthogonal_map)
    tm, pm = pair(make, wrap, device)
    same(pm.weight, tm.weight, atol=1e-6)
    a = np.random.default_rng(3).standard_normal((6, shape[1])).astype("float32")
    t_opt = torch.optim.SGD(tm.parameters(), lr=0.1)
    p_opt = plugrad.optim.SGD(pm.parameters(), lr=0.1)
    for _ in range(3):
        t_opt.zero_grad()
        p_opt.zero_grad()
        t_loss = (tm(torch.tensor(a)) - 1).pow(2).mean()
        p_loss = (pm(plugrad.tensor(a, device=device)) - 1).pow(2).mean()
        t_loss.backward()
        p_loss.backward()
        t_opt.step()
        p_opt.step()
        assert abs(p_loss.item() - t_loss.item()) < 1e-5
    same(pm.weight, tm.weight, atol=1e-5)
    w = host(pm.weight)
    gram = w @ w.T if shape[0] <= shape[1] else w.T @ w
    np.testing.assert_allclose(gram, np.eye(min(shape)), atol=1e-5)


def test_orthogonal_errors():
    raises_like(lambda: torch.nn.utils.parametrizations.orthogonal(torch.nn.Linear(3, 3),
                                                                   orthogonal_map="x"),
                lambda: plugrad.nn.utils.parametrizations.orthogonal(plugrad.nn.Linear(3, 3),
                                                                     orthogonal_map="x"))
    raises_like(lambda: torch.nn.utils.parametrizations.orthogonal(torch.nn.Linear(3, 3),
                                                                   "bias"),
                lambda: plugrad.nn.utils.parametrizations.orthogonal(plugrad.nn.Linear(3, 3),
                                                                     "bias"))
