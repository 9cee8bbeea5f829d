"""The bad-input catalogue: malformed calls across the whole API, one row each.

A row builds its objects (``setup(T, device)`` with ``T`` plugrad or torch), makes one bad
call, and asserts: the exception type is PyTorch's (the same row is run on torch, which must
raise the same type -- unless torch has no such call, ``torch=False``), plugrad's message
names the problem (``match``, a regex), and nothing the row built changed: tensor values,
grads, requires_grad and versions, module state dicts and parameter grads, optimizer state
and hyper-parameters, the registry's plugins and tables. The atomic-failure rows
(``optimizer.step()`` with a gradient on another device, ``load_state_dict`` failing half
way, ``.to()`` to a bad device, in-place ops that cannot write their result) check exactly
that nothing was half-updated.
"""
from __future__ import annotations

import re

import bad_inputs_api  # noqa: F401  (importing a row module registers its rows)
import bad_inputs_issue18  # noqa: F401
import bad_inputs_sweep  # noqa: F401
import bad_inputs_tensor  # noqa: F401
import numpy as np
import pytest
import torch
from bad_input_rows import ROWS
from fuzz_profiles import COUNTS, _current_test

import plugrad

# ------------------------------------------------------------------------- snapshots
def _snap(obj, seen=None):
    """A comparable, deep copy of everything observable about ``obj``."""
    seen = set() if seen is None else seen
    if id(obj) in seen:
        return ("<seen>",)
    if isinstance(obj, (torch.Tensor, plugrad.Tensor)):
        seen.add(id(obj))
        host = obj.detach().cpu().numpy() if obj.dtype not in (torch.bfloat16,) else \
            obj.detach().float().numpy()
        grad = obj.grad if obj.is_leaf or obj.requires_grad else None
        return ("T", tuple(obj.shape), str(obj.dtype), obj.requires_grad,
                np.ascontiguousarray(host).tobytes(), str(obj.device).split(":")[0],
                _snap(grad, seen) if grad is not None else None, obj._version)
    if isinstance(obj, (torch.nn.Module, plugrad.nn.Module)):
        seen.add(id(obj))
        return ("M", obj.training, _snap(dict(obj.state_dict()), seen),
                tuple(_snap(p.grad, seen) for p in obj.parameters()),
                tuple(name for name, _ in obj.named_modules()))
    if isinstance(obj, (torch.optim.Optimizer, plugrad.optim.Optimizer)):
        seen.add(id(obj))
        return ("O", _snap(obj.state_dict(), seen),
                tuple(_snap(p, seen) for g in obj.param_groups for p in g["params"]))
    if isinstance(obj, dict):
        return ("D", tuple((repr(k), _snap(v, seen)) for k, v in obj.items()))
    if isinstance(obj, (list, tuple)):
        return ("L", tuple(_snap(v, seen) for v in obj))
    if obj.__class__.__name__ == "Registry":
        return ("R", tuple(sorted(p.plugin_name for p in obj.plugins())),
                tuple((e.name, id(e.tables.get(0)), frozenset(e.tables.get(0).native)
                       if e.tables.get(0) is not None else None) for e in obj.entries()))
    if isinstance(obj, (int, float, str, bool, type(None), bytes)):
        return obj
    return ("?", type(obj).__name__)


def _run(T, r, dev):
    s = r.setup(T, dev)
    before = _snap(s)
    try:
        r.call(T, s)
    except Exception as exc:  # noqa: BLE001 -- the type is what the row asserts
        return exc, before, _snap(s)
    return None, before, _snap(s)


def _available(name):
    from conftest import availability
    return availability(name) is True


# ============================================================================== tests
@pytest.mark.parametrize("r", ROWS, ids=[f"{r.area}-{r.name}" for r in ROWS])
def test_bad_input(r):
    if r.device != "cpu" and not _available(r.device):
        pytest.skip(f"backend '{r.device}' unavailable")
    got, before, after = _run(plugrad, r, r.device)
    assert got is not None, f"plugrad did not raise (expected {r.exc.__name__})"
    assert isinstance(got, r.exc), f"plugrad raised {type(got).__name__}({got}), expected " \
                                   f"{r.exc.__name__}"
    assert re.search(r.match, str(got)), f"message {str(got)!r} does not match {r.match!r}"
    assert before == after, "the failed call changed its inputs, parameters or state"
    if r.torch:
        want, tbefore, tafter = _run(torch, r, "cpu")
        assert want is not None, "torch did not raise: the row is wrong"
        # (torch itself is not always atomic -- BatchNorm counts the batch and
        # load_state_dict copies tensors before raising -- so only plugrad's state is checked)
        assert type(got) is type(want) or isinstance(got, type(want)), \
            f"plugrad raised {type(got).__name__}, torch {type(want).__name__}({want})"
    COUNTS["bad-input calls"][_current_test()] += 1


def test_catalogue_size():
    assert len(ROWS) >= 500
    assert len({(r.area, r.name) for r in ROWS}) == len(ROWS), "row names must be unique"
    assert {r.area for r in ROWS} >= {"tensor", "autograd", "nn", "optim", "data",
                                      "serialization", "device", "registry", "sweep"}
