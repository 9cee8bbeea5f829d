"""nn.Module against torch: traversal, registration, modes, device/dtype moves, zero_grad,
hooks, state_dict/load_state_dict (messages, strictness, atomicity) and repr."""
from __future__ import annotations

import copy
import warnings

import numpy as np
import plugrad
import pytest
import torch

from nn_oracle import raises_like


def build(T):
    nn = T.nn

    class SimpleModel(nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = nn.Linear(2, 1)

        def forward(self, x):
            return self.linear(x)

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(1, 2, 3)
            self.bn = nn.BatchNorm2d(2)
            self.seq = nn.Sequential(nn.Linear(8, 3), nn.ReLU(), nn.Dropout(0.1))
            self.ml = nn.ModuleList([nn.Linear(3, 3), nn.Tanh()])
            self.md = nn.ModuleDict({"a": nn.Linear(3, 2), "b": nn.Identity()})
            self.register_buffer("steps", T.zeros(3))
            self.register_buffer("tmp", T.ones(2), persistent=False)
            self.register_parameter("scale", nn.Parameter(T.ones(1)))
            self.shared = self.seq[0]

        def forward(self, x):
            h = self.bn(self.conv(x)).flatten(1)
            return self.md["a"](self.ml[1](self.ml[0](self.seq(h)))) * self.scale
    return SimpleModel, Net


def pair():
    torch.manual_seed(0)
    t = build(torch)[1]()
    plugrad.manual_seed(0)
    p = build(plugrad)[1]()
    return t, p


def test_simple_model_repr():
    assert repr(build(plugrad)[0]()) == repr(build(torch)[0]()) == \
        "SimpleModel(\n  (linear): Linear(in_features=2, out_features=1, bias=True)\n)"


def test_traversal_matches_torch():
    t, p = pair()
    assert repr(p) == repr(t)
    for method in ("named_parameters", "named_buffers", "named_modules", "named_children"):
        assert [n for n, _ in getattr(p, method)()] == [n for n, _ in getattr(t, method)()]
    assert [n for n, _ in p.named_parameters(remove_duplicate=False)] == \
        [n for n, _ in t.named_parameters(remove_duplicate=False)]
    assert [n for n, _ in p.named_parameters("pre", recurse=False)] == \
        [n for n, _ in t.named_parameters("pre", recurse=False)]
    assert [type(m).__name__ for m in p.modules()] == [type(m).__name__ for m in t.modules()]
    assert [type(m).__name__ for m in p.children()] == [type(m).__name__ for m in t.children()]
    assert len(list(p.parameters())) == len(list(t.parameters()))
    assert len(list(p.buffers())) == len(list(t.buffers()))
    assert list(p.state_dict()) == list(t.state_dict())
    assert p.get_submodule("seq.0") is p.shared
    assert p.get_parameter("seq.0.bias") is p.shared.bias
    for key, value in t.state_dict().items():
        np.testing.assert_array_equal(p.state_dict()[key].numpy(), value.numpy(), err_msg=key)


def test_train_eval_apply_requires_grad():
    t, p = pair()
    assert [m.training for m in p.eval().modules()] == [m.training for m in t.eval().modules()]
    assert p.train() is p and all(m.training for m in p.modules())
    seen_t, seen_p = [], []
    t.apply(lambda m: seen_t.append(type(m).__name__))
    assert p.apply(lambda m: seen_p.append(type(m).__name__)) is p
    assert seen_p == seen_t
    assert p.requires_grad_(False) is p
    assert not any(q.requires_grad for q in p.parameters())
    p.requires_grad_()
    assert all(q.requires_grad for q in p.parameters())


def test_to_dtype_in_place():
    t, p = pair()
    params = list(p.parameters())
    assert p.to(plugrad.float64) is p
    t.to(torch.float64)
    assert [q is r for q, r in zip(params, p.parameters())] == [True] * len(params)
    assert [q.dtype.name for q in p.parameters()] == \
        [str(q.dtype)[6:] for q in t.parameters()]
    assert [b.dtype.name for b in p.buffers()] == [str(b.dtype)[6:] for b in t.buffers()]
    assert p.float() is p and p.scale.dtype is plugrad.float32
    assert p.double().half().float() is p
    raises_like(lambda: t.to(torch.int64), lambda: p.to(plugrad.int64))


def test_to_device_in_place(device):
    t, p = pair()
    params = list(p.parameters())
    p.bn.weight.grad = plugrad.ones(2)
    assert p.to(device) is p
    assert [q is r for q, r in zip(params, p.parameters())] == [True] * len(params)
    assert {q.device.type for q in p.parameters()} == {device}
    assert {b.device.type for b in p.buffers()} == {device}
    assert p.bn.weight.grad.device.type == device
    x = np.random.default_rng(0).standard_normal((2, 1, 4, 4)).astype("float32")
    t.eval()
    p.eval()
    np.testing.assert_allclose(p(plugrad.tensor(x, device=device)).detach().cpu().numpy(),
                               t(torch.tensor(x)).detach().numpy(), rtol=1e-5, atol=1e-6)
    assert p.cpu() is p and p.scale.device.type == "cpu"


def test_failed_move_leaves_module_unchanged():
    _, p = pair()
    before = {k: v.device for k, v in p.state_dict().items()}
    with pytest.raises(RuntimeError):
        p.to("cdua")
    with pytest.raises((RuntimeError, AssertionError)):
        p.cuda(7)
    assert {k: v.device for k, v in p.state_dict().items()} == before


def test_zero_grad():
    t, p = pair()
    for m in (t, p):
        for q in m.parameters():
            q.grad = q.detach() * 0 + 1
    t.zero_grad()
    p.zero_grad()
    assert all(q.grad is None for q in p.parameters())
    for m in (t, p):
        for q in m.parameters():
            q.grad = q.detach() * 0 + 1
    t.zero_grad(set_to_none=False)
    p.zero_grad(set_to_none=False)
    assert [float(q.grad.abs().sum()) for q in p.parameters()] == \
        [float(q.grad.abs().sum()) for q in t.parameters()] == [0.0] * len(list(p.parameters()))


def _run_hooks(T, module):
    log = []
    h1 = module.register_forward_pre_hook(
        lambda mod, args: log.append(("pre", len(args))) or (args[0] * 2,))
    h2 = module.register_forward_hook(
        lambda mod, args, out: log.append(("post", tuple(out.shape))) or out + 1)
    h3 = module.register_forward_pre_hook(
        lambda mod, args, kwargs: log.append(("kw", sorted(kwargs))), with_kwargs=True)
    h4 = module.register_forward_hook(lambda mod, args, out: log.append("first"), prepend=True)
    y = module(T.ones(1, 2))
    for h in (h1, h2, h3, h4):
        h.remove()
    z = module(T.ones(1, 2))
    return log, np.round(y.detach().numpy(), 5).tolist(), np.round(z.detach().numpy(), 5).tolist()


def test_forward_hooks():
    torch.manual_seed(0)
    t = build(torch)[0]().linear
    plugrad.manual_seed(0)
    p = build(plugrad)[0]().linear
    assert _run_hooks(plugrad, p) == _run_hooks(torch, t)


def _err(call):
    try:
        return ("ok", repr(call()))
    except Exception as e:  # noqa: BLE001
        return (type(e).__name__, str(e))


def test_load_state_dict_errors_and_atomicity():
    t, p = pair()

    def mutate(sd, T):
        sd = dict(sd)
        sd.pop("conv.weight")
        sd["extra.w"] = T.zeros(1)
        sd["bn.weight"] = T.zeros(5)
        sd["seq.0.bias"] = T.full((3,), 7.0)    # a valid entry that must not be applied
        return sd
    before = {k: v.clone() for k, v in p.state_dict().items()}
    t_err = _err(lambda: t.load_state_dict(mutate(t.state_dict(), torch)))
    p_err = _err(lambda: p.load_state_dict(mutate(p.state_dict(), plugrad)))
    assert p_err == t_err
    assert p_err[0] == "RuntimeError" and "size mismatch for bn.weight" in p_err[1]
    for key, value in p.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), before[key].numpy(), err_msg=key)
    # size mismatches raise even with strict=False; unexpected/missing keys are returned
    assert _err(lambda: p.load_state_dict({"scale": plugrad.ones(2)}, strict=False)) == \
        _err(lambda: t.load_state_dict({"scale": torch.ones(2)}, strict=False))
    assert _err(lambda: p.load_state_dict({"scale": plugrad.ones(1), "zzz": plugrad.ones(1)},
                                          strict=False)) == \
        _err(lambda: t.load_state_dict({"scale": torch.ones(1), "zzz": torch.ones(1)},
                                       strict=False))
    assert _err(lambda: p.load_state_dict(p.state_dict())) == \
        _err(lambda: t.load_state_dict(t.state_dict()))
    raises_like(lambda: t.load_state_dict([1]), lambda: p.load_state_dict([1]))


def test_state_dict_round_trip_with_torch(device):
    """torch's weights load into plugrad and plugrad's into torch; both compute the same."""
    t, p = pair()
    p.load_state_dict({k: plugrad.tensor(v.numpy()) for k, v in t.state_dict().items()})
    p.to(device)
    t2 = build(torch)[1]()
    t2.load_state_dict({k: torch.tensor(v.cpu().numpy()) for k, v in p.state_dict().items()})
    x = np.random.default_rng(1).standard_normal((2, 1, 4, 4)).astype("float32")
    np.testing.assert_allclose(p(plugrad.tensor(x, device=device)).detach().cpu().numpy(),
                               t2(torch.tensor(x)).detach().numpy(), rtol=1e-5, atol=1e-6)


def test_load_state_dict_keeps_device_and_dtype(device):
    _, p = pair()
    p.to(device).double()
    p.load_state_dict({k: v.float().cpu() for k, v in p.state_dict().items()})
    assert {q.device.type for q in p.parameters()} == {device}
    assert {q.dtype for q in p.parameters()} == {plugrad.float64}


def test_registration_errors():
    def regs(T):
        m = T.nn.Linear(2, 2)
        return [
            _err(lambda: m.register_buffer("weight", T.zeros(1))),
            _err(lambda: m.register_buffer("a.b", T.zeros(1))),
            _err(lambda: m.register_buffer("", T.zeros(1))),
            _err(lambda: m.register_buffer("c", 3)),
            _err(lambda: m.register_parameter("d", T.zeros(1))),
            _err(lambda: m.add_module("e", 3)),
            _err(lambda: m.add_module("bias", T.nn.ReLU())),
            _err(lambda: setattr(m, "weight", T.zeros(2, 2))),
            _err(lambda: getattr(m, "nope")),
            _err(lambda: m.register_parameter("f", T.nn.Parameter(T.zeros(1)) * 2)),
        ]
    assert regs(plugrad) == regs(torch)


def test_container_reprs():
    def reprs(nn):
        return [repr(nn.ModuleList()), repr(nn.Sequential()),
                repr(nn.Sequential(nn.Sequential(nn.Linear(1, 2)),
                                   nn.ModuleList([nn.ReLU()] * 3))),
                repr(nn.ModuleList([nn.Linear(1, 2) for _ in range(5)] + [nn.Tanh()])),
                repr(nn.ModuleDict({"x": nn.ReLU(), "y": nn.Sigmoid()}))]
    assert reprs(plugrad.nn) == reprs(torch.nn)


def test_deepcopy_and_parameter_sharing():
    _, p = pair()
    q = copy.deepcopy(p)
    assert q.shared is q.seq[0] and q.shared is not p.shared
    np.testing.assert_array_equal(q.shared.weight.detach().numpy(),
                                  p.shared.weight.detach().numpy())
    assert len(list(q.parameters())) == len(list(p.parameters()))


def test_training_step_matches_torch(device):
    """A few SGD steps of a small CNN: same losses and weights as torch."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t, p = pair()
        p.to(device)
        t_opt = torch.optim.SGD(t.parameters(), lr=0.1, momentum=0.9)
        p_opt = plugrad.optim.SGD(p.parameters(), lr=0.1, momentum=0.9)
        rng = np.random.default_rng(0)
        for step in range(3):
            x = rng.standard_normal((4, 1, 4, 4)).astype("float32")
            y = rng.integers(0, 2, 4)
            torch.manual_seed(step)
            plugrad.manual_seed(step)
            t_loss = torch.nn.functional.cross_entropy(t(torch.tensor(x)), torch.tensor(y))
            p_loss = plugrad.nn.functional.cross_entropy(p(plugrad.tensor(x, device=device)),
                                                         plugrad.tensor(y, device=device))
            np.testing.assert_allclose(float(p_loss), float(t_loss), rtol=1e-5)
            for opt, loss in ((t_opt, t_loss), (p_opt, p_loss)):
                opt.zero_grad()
                loss.backward()
                opt.step()
        for key, value in t.state_dict().items():
            np.testing.assert_allclose(p.state_dict()[key].cpu().numpy(), value.numpy(),
                                       rtol=1e-4, atol=1e-5, err_msg=key)


def _run_backward_hooks(T):
    T.manual_seed(0)
    m = T.nn.Linear(3, 2)
    log = []

    def full(mod, grad_input, grad_output):
        log.append(("full", [None if g is None else np.round(g.detach().numpy(), 4).tolist()
                             for g in grad_input],
                    [np.round(g.detach().numpy(), 4).tolist() for g in grad_output]))
        return (grad_input[0] * 2,) if grad_input[0] is not None else None

    def pre(mod, grad_output):
        log.append(("pre", [np.round(g.detach().numpy(), 4).tolist() for g in grad_output]))
        return (grad_output[0] * 3,)
    h1 = m.register_full_backward_hook(full)
    h2 = m.register_full_backward_pre_hook(pre)
    x = T.ones(2, 3, requires_grad=True)
    (m(x) * T.tensor([1.0, 2.0])).sum().backward()
    log.append(("grads", np.round(x.grad.numpy(), 4).tolist(),
                np.round(m.weight.grad.numpy(), 4).tolist()))
    m(T.ones(2, 3)).sum().backward()       # no input needs grad: hooks fire at the output
    h1.remove()
    h2.remove()
    m(x).sum().backward()
    log.append(np.round(x.grad.numpy(), 4).tolist())
    return log


def test_full_backward_hooks():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert _run_backward_hooks(plugrad) == _run_backward_hooks(torch)


def test_to_argument_forms(device):
    p = build(plugrad)[0]()
    ref = plugrad.zeros(1, dtype=plugrad.float64, device=device)
    assert p.to(ref) is p
    assert p.linear.weight.dtype is plugrad.float64 and p.linear.weight.device.type == device
    p.to("cpu", plugrad.float32)
    assert p.linear.weight.dtype is plugrad.float32 and p.linear.weight.device.type == "cpu"
    p.to(device=device, dtype=plugrad.float64, non_blocking=True)
    assert p.linear.bias.dtype is plugrad.float64 and p.linear.bias.device.type == device


def _seeded_training_run(T, device):
    """A PyTorch script as users write it: seeded init, dropout, Adam, a scheduler."""
    nn = T.nn
    F = T.nn.functional

    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(1, 4, 3, padding=1)
            self.pool = nn.MaxPool2d(2)
            self.drop = nn.Dropout(0.25)
            self.fc1 = nn.Linear(4 * 4 * 4, 16)
            self.fc2 = nn.Linear(16, 3)

        def forward(self, x):
            x = self.pool(F.relu(self.conv(x)))
            x = self.drop(x.view(x.size(0), -1))
            return self.fc2(F.gelu(self.fc1(x)))

    T.manual_seed(1234)
    model = Model()
    if T is plugrad:
        model.to(device)
    opt = T.optim.Adam(model.parameters(), lr=1e-2)
    sched = T.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    rng = np.random.default_rng(7)
    losses = []
    for _ in range(4):
        x = rng.standard_normal((8, 1, 8, 8)).astype("float32")
        y = rng.integers(0, 3, 8)
        xt = T.tensor(x, device=device) if T is plugrad else T.tensor(x)
        yt = T.tensor(y, device=device) if T is plugrad else T.tensor(y)
        model.train()
        opt.zero_grad()
        loss = F.cross_entropy(model(xt), yt)
        loss.backward()
        opt.step()
        sched.step()
        losses.append(float(loss))
    model.eval()
    with T.no_grad():
        out = model(xt)
    return losses, out.cpu().numpy() if T is plugrad else out.numpy()


def test_seeded_training_script_matches_torch(device):
    """Same seed, same data: the same losses and outputs as torch (no weights copied)."""
    t_losses, t_out = _seeded_training_run(torch, device)
    p_losses, p_out = _seeded_training_run(plugrad, device)
    np.testing.assert_allclose(p_losses, t_losses, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(p_out, t_out, rtol=1e-4, atol=1e-5)


def test_reassigned_child_and_parameter_keep_their_place():
    # pytorch/examples siamese_network replaces resnet.conv1, then builds a Sequential from
    # children(): the replacement must stay first, as in torch
    orders = []
    for lib in (plugrad, torch):
        m = lib.nn.Module()
        m.a, m.b = lib.nn.Linear(1, 1), lib.nn.ReLU()
        m.a = lib.nn.Conv2d(1, 1, 1)
        m.w, m.v = lib.nn.Parameter(lib.ones(1)), lib.nn.Parameter(lib.ones(2))
        m.w = lib.nn.Parameter(lib.zeros(3))
        orders.append(([n for n, _ in m.named_children()], list(m.state_dict())))
    assert orders[0] == orders[1]


def test_torch_module_paths_that_safe_globals_lists_name():
    # pytorch/examples word_language_model passes these to torch.serialization.safe_globals
    for path in ("activation.MultiheadAttention", "linear.NonDynamicallyQuantizableLinear",
                 "transformer.TransformerEncoderLayer", "container.ModuleList",
                 "sparse.Embedding", "normalization.LayerNorm", "dropout.Dropout"):
        module, name = path.split(".")
        ours = getattr(getattr(plugrad.nn.modules, module), name)
        assert ours.__name__ == getattr(getattr(torch.nn.modules, module), name).__name__
    out_proj = plugrad.nn.MultiheadAttention(4, 2).out_proj
    assert repr(out_proj) == repr(torch.nn.MultiheadAttention(4, 2).out_proj)
