"""Derived primitives (``plugins/contract/derived.py``): a backend that leaves them out gets
exact compositions of its own ops -- on its device, with no fallback -- and passes the
conformance kit's cases for them."""
from __future__ import annotations

import itertools
import types

import numpy as np
import pytest
import torch

import plugrad
from plugrad.backends.xp import ArrayModuleBackend
from plugrad.plugins import BackendSpec, get_registry, hookimpl
from plugrad.plugins.conformance import run
from plugrad.plugins.contract import DERIVABLE, OPS

_ids = itertools.count()


# one of each pair that is derived from the other (gt from lt, ne from eq, ...) must stay
KEPT = ("lt", "le", "eq")
LEFT_OUT = tuple(op for op in DERIVABLE if op not in KEPT)


class Minimal(ArrayModuleBackend):
    """numpy without the derivable primitives (but one of each pair)."""

    def __init__(self, xp, name):
        super().__init__(xp, name)
        for op in LEFT_OUT:
            setattr(self, op, None)


@pytest.fixture
def mindev(monkeypatch):
    monkeypatch.setenv("PLUGRAD_STRICT_BACKEND", "1")      # a fallback would raise
    name = f"mindev{next(_ids)}"

    class Plugin:
        @hookimpl
        def plugrad_backends():
            yield BackendSpec(name=name, load=lambda: Minimal(np, name))
    get_registry().register(Plugin, name=name)
    yield name
    get_registry().unregister(name)


def test_derivable_entries_are_primitives_with_their_needs_in_the_contract():
    from plugrad.plugins.contract.derived import DERIVED
    assert len(DERIVABLE) >= 15
    for name, (needs, _) in DERIVED.items():
        assert OPS[name].tier == "primitive" and all(n in OPS for n in needs), name
        assert "Optional: when absent" in OPS[name].stub.__doc__


def test_missing_derivable_primitives_are_composed_not_fallen_back(mindev):
    table = get_registry().table(mindev)
    assert set(LEFT_OUT) == set(table.derived) and not set(LEFT_OUT) & table.native
    assert plugrad.plugins.supports(mindev, "gt", "float32")
    report = run(mindev, ops=list(LEFT_OUT), frontend=False)
    assert len(report.results) > 200
    failed = [r.case.ident for r in report.results if r.status != "pass"]
    assert not failed, failed[:10]


def test_integer_neg_sign_pad_on_the_minimal_backend_match_torch(mindev):
    for dtype in ("uint8", "int8", "int32", "int64"):
        values = [0, 1, 2, 100, 127] if dtype == "uint8" else [-128, -3, 0, 5, 127]
        x = plugrad.tensor(values, dtype=getattr(plugrad, dtype), device=mindev)
        t = torch.tensor(values, dtype=getattr(torch, dtype))
        for fn in (lambda T, v: -v, lambda T, v: T.sign(v),
                   lambda T, v: T.nn.functional.pad(v, (2, 1), value=7)):
            np.testing.assert_array_equal(fn(plugrad, x).cpu().numpy(), fn(torch, t).numpy())
    b = plugrad.tensor([True, False], device=mindev)
    assert plugrad.sign(b).tolist() == torch.sign(torch.tensor([True, False])).tolist()


def test_derived_dtype_ops_refuse_buffers_without_a_dtype():
    from plugrad.plugins.contract.derived import DERIVED
    from plugrad.plugins.types import PluginError

    neg = DERIVED["neg"][1](types.SimpleNamespace(mul=lambda x, y, out=None: x))
    with pytest.raises(PluginError, match="'neg'.*'.dtype' attribute.*list"):
        neg([1, 2])


def test_frontend_ops_on_the_minimal_backend_match_torch(mindev):
    values = [-2.5, -0.5, -0.0, 0.0, 0.5, 1.5, float("inf"), float("nan")]
    x, t = plugrad.tensor(values, device=mindev), torch.tensor(values)
    for fn in (lambda T, v: T.ceil(v), lambda T, v: T.trunc(v), lambda T, v: v > 0,
               lambda T, v: v <= 0.5, lambda T, v: v != v, lambda T, v: T.isinf(v),
               lambda T, v: T.isnan(v), lambda T, v: T.reciprocal(v),
               lambda T, v: T.logical_and(v, v > 0), lambda T, v: (v > 0).any(),
               lambda T, v: (v == v).all(), lambda T, v: -v, lambda T, v: T.sign(v),
               lambda T, v: T.nn.functional.pad(v.reshape(2, 4), (1, 2, 0, 1), value=-0.0),
               lambda T, v: T.nn.functional.pad(v, (3, 0))):
        got, want = fn(plugrad, x).cpu().numpy(), fn(torch, t).numpy()
        np.testing.assert_array_equal(got, want)
        # the sign bit of a nan: derived neg (x * -1.0) leaves it as IEEE multiplication does
        signed = ~np.isnan(want) if np.asarray(want).dtype.kind == "f" else True
        assert np.array_equal(np.signbit(got) & signed, np.signbit(want) & signed)
