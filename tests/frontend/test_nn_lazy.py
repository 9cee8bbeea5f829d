"""Lazy modules against torch: nothing drawn at construction, parameters materialized on the
first call with the same random draws as torch (bit for bit after the same seed), the module
turning into its eager class, reprs before and after, uninitialized parameters' repr and
errors, state_dict keys, and loading a state dict into a still-lazy module."""
from __future__ import annotations

import numpy as np
import plugrad
import pytest
import torch

from nn_oracle import host, raises_like

_rng = np.random.default_rng(19)

LAZY = [
    ("LazyLinear", (4,), {}, (2, 3)),
    ("LazyLinear", (4,), dict(bias=False), (5, 2, 3)),
    ("LazyConv1d", (4, 3), dict(padding=1), (2, 3, 6)),
    ("LazyConv2d", (4, 3), dict(groups=2, stride=2), (2, 4, 6, 6)),
    ("LazyConv3d", (2, 2), {}, (1, 3, 4, 4, 4)),
    ("LazyConvTranspose1d", (3, 2), dict(stride=2), (2, 4, 5)),
    ("LazyConvTranspose2d", (3, 2), dict(bias=False), (4, 3, 3)),
    ("LazyConvTranspose3d", (2, 2), {}, (1, 2, 3, 3, 3)),
    ("LazyBatchNorm1d", (), {}, (4, 3)),
    ("LazyBatchNorm2d", (), dict(momentum=0.3), (2, 3, 4, 4)),
    ("LazyBatchNorm3d", (), dict(affine=False), (2, 3, 2, 2, 2)),
    ("LazyInstanceNorm1d", (), {}, (2, 3, 5)),
    ("LazyInstanceNorm2d", (), dict(affine=False, track_running_stats=False), (3, 4, 4)),
    ("LazyInstanceNorm3d", (), {}, (2, 3, 2, 3, 2)),
]


@pytest.mark.parametrize("name,args,kw,shape", LAZY, ids=[f"{c[0]}-{i}" for i, c in
                                                          enumerate(LAZY)])
def test_lazy_module_matches_torch(device, name, args, kw, shape):
    torch.manual_seed(3)
    tm = getattr(torch.nn, name)(*args, **kw)
    plugrad.manual_seed(3)
    pm = getattr(plugrad.nn, name)(*args, **kw)
    assert repr(pm) == repr(tm)
    assert [repr(v) for v in pm.state_dict().values()] == \
        [repr(v) for v in tm.state_dict().values()]
    pm.to(device)
    a = _rng.standard_normal(shape).astype("float32")
    t_out = tm(torch.tensor(a))
    p_out = pm(plugrad.tensor(a, device=device))
    assert type(pm).__name__ == type(tm).__name__ == name[4:]
    assert repr(pm) == repr(tm)
    assert list(pm.state_dict()) == list(tm.state_dict())
    for (key, tv), pv in zip(tm.named_parameters(), pm.parameters()):
        assert np.array_equal(host(pv), host(tv)), key       # same draws, bit for bit
    for (key, tv), pv in zip(tm.named_buffers(), pm.buffers()):
        np.testing.assert_allclose(host(pv), host(tv), atol=1e-6, err_msg=key)
    np.testing.assert_allclose(host(p_out), host(t_out), atol=1e-5, rtol=1e-4)
    assert isinstance(pm.weight, plugrad.nn.Parameter) or pm.weight is None
    assert type(pm.weight) in (plugrad.nn.Parameter, type(None))


def test_uninitialized_parameter_api():
    p = plugrad.nn.UninitializedParameter()
    t = torch.nn.UninitializedParameter()
    assert repr(p) == repr(t) == "<UninitializedParameter>"
    assert isinstance(p, plugrad.nn.Parameter)
    raises_like(lambda: t.shape, lambda: p.shape)
    p.materialize((2, 3))
    assert type(p) is plugrad.nn.Parameter and tuple(p.shape) == (2, 3) and p.requires_grad
    b = plugrad.nn.UninitializedBuffer()
    assert repr(b) == "<UninitializedBuffer>"
    b.materialize((4,), dtype=plugrad.float64)
    assert type(b) is plugrad.Tensor and b.dtype is plugrad.float64


def test_load_into_lazy_module(device):
    torch.manual_seed(0)
    eager = torch.nn.Conv2d(3, 4, 3)
    pm = plugrad.nn.LazyConv2d(4, 3)
    pm.load_state_dict({k: plugrad.tensor(host(v)) for k, v in eager.state_dict().items()})
    pm.to(device)
    assert tuple(pm.weight.shape) == (4, 3, 3, 3)
    a = _rng.standard_normal((1, 3, 5, 5)).astype("float32")
    np.testing.assert_allclose(host(pm(plugrad.tensor(a, device=device))),
                               host(eager(torch.tensor(a))), atol=1e-5)
    assert type(pm) is plugrad.nn.Conv2d


def test_lazy_errors():
    raises_like(lambda: torch.nn.LazyConv2d(4, 3)(torch.ones(3, 3)),
                lambda: plugrad.nn.LazyConv2d(4, 3)(plugrad.ones(3, 3)))
    raises_like(lambda: torch.nn.LazyBatchNorm2d()(torch.ones(3, 3)),
                lambda: plugrad.nn.LazyBatchNorm2d()(plugrad.ones(3, 3)))


def test_torch_module_paths():
    """Checkpoints and safe_globals lists name the classes by torch's module paths."""
    import importlib
    for path, names in {"nn.modules.padding": ["ReflectionPad3d", "ZeroPad2d"],
                        "nn.modules.fold": ["Fold", "Unfold"],
                        "nn.modules.instancenorm": ["InstanceNorm3d", "LazyInstanceNorm1d"],
                        "nn.modules.lazy": ["LazyModuleMixin"],
                        "nn.modules.conv": ["Conv3d", "ConvTranspose3d"],
                        "nn.modules.sparse": ["EmbeddingBag"],
                        "nn.modules.loss": ["CTCLoss", "MultiMarginLoss"],
                        "nn.utils.rnn": ["PackedSequence", "pack_padded_sequence"],
                        "nn.utils.parametrize": ["register_parametrization", "cached"],
                        "nn.utils.parametrizations": ["weight_norm", "spectral_norm"]}.items():
        for lib in (torch, plugrad):
            module = importlib.import_module(f"{lib.__name__}.{path}")
            for name in names:
                assert hasattr(module, name), f"{lib.__name__}.{path}.{name}"
