"""The op table (``plugrad.ops.table``) is the one declaration of every op: check it against
torch (each declared variant exists there) and against what plugrad binds and tests."""
from __future__ import annotations

import numpy
import pytest
import torch

import plugrad
from plugrad._methods import _UFUNC_OPS
from plugrad._tensor import Tensor
from plugrad.ops.table import OPS, resolve
from plugrad.plugins.contract import OPS as CONTRACT

ROWS = sorted(OPS.values(), key=lambda row: row.name)


def _variants(row):
    """(kind, name) of every binding the row declares, aliases included."""
    for name in row.names():
        if "f" in row.variants:
            yield "function", name
        if "m" in row.variants:
            yield "method", name
        if "i" in row.variants:
            yield "method", f"{name}_"
        if "F" in row.variants:
            yield "function", f"{name}_"


@pytest.mark.parametrize("row", ROWS, ids=lambda row: row.name)
def test_declared_variants_exist_in_torch_and_are_bound(row):
    impl = resolve(row.impl)
    for kind, name in _variants(row):
        owner, ours = (torch, plugrad) if kind == "function" else (torch.Tensor, Tensor)
        assert hasattr(owner, name), f"{row.name}: torch has no {kind} {name!r}"
        assert hasattr(ours, name), f"{row.name}: plugrad binds no {kind} {name!r}"
    if "f" in row.variants:
        assert all(getattr(plugrad, n) is impl for n in row.names())
    if "m" in row.variants:
        method = resolve(row.method) if row.method else impl
        assert all(Tensor.__dict__[n] is method for n in row.names())


def test_inplace_functions_modify_their_input():
    x = plugrad.tensor([-1.0, 0.5, 4.0])
    assert plugrad.relu_(x) is x and x.tolist() == [0.0, 0.5, 4.0]
    assert plugrad.sqrt_(x) is x and x.tolist() == pytest.approx([0.0, 0.5 ** 0.5, 2.0])
    assert plugrad.clamp_(x, max=1.0) is x and x.tolist() == pytest.approx([0.0, 0.5 ** 0.5, 1.0])
    y = torch.tensor([-1.0, 0.5, 4.0])
    assert torch.clamp_(y, max=1.0) is y
    fs = [r for r in ROWS if "F" in r.variants]
    assert all("i" in r.variants for r in fs) and len(fs) > 40


def test_names_are_declared_once():
    seen = {}
    for row in ROWS:
        for name in row.names():
            assert name not in seen, f"{name!r} declared by {seen.get(name)!r} and {row.name!r}"
            seen[name] = row.name


@pytest.mark.parametrize("row", [r for r in ROWS if r.prims], ids=lambda row: row.name)
def test_prims_are_contract_ops(row):
    unknown = [p for p in row.prims if p not in CONTRACT]
    assert not unknown, f"{row.name}: {unknown} not in plugrad.plugins.contract.OPS"


def test_ufuncs_and_operators():
    for row in ROWS:
        for name in row.ufunc:
            assert isinstance(getattr(numpy, name, None), numpy.ufunc), name
            assert _UFUNC_OPS[name] is resolve(row.impl) or name == "invert"
        if row.operator:
            assert f"__{row.operator}__" in Tensor.__dict__, row.name
    a = plugrad.tensor([1.0, 2.0])
    assert isinstance(numpy.exp(a), Tensor)
    assert numpy.allclose(numpy.exp(a).numpy(), numpy.exp([1.0, 2.0]))
    assert (a + 1).tolist() == [2.0, 3.0] and (1 - a).tolist() == [0.0, -1.0]
    b = a.clone()
    b **= 2
    assert b.tolist() == [1.0, 4.0]


# ops of a family that the frontend fuzzers leave out, and why; everything else in the table
# must be in the fuzzers' lists (a new row is fuzzed, or says here why not)
NOT_FUZZED = {
    "bitwise_not": "integer-only: fuzzed as a contract primitive",
    "isposinf": "exact comparison: tests/frontend/test_ops.py", "isneginf": "as isposinf",
    "addcdiv": "ternary: tests/frontend/test_ops.py", "addcmul": "ternary: tests/frontend/test_ops.py",
    "allclose": "returns a bool", "equal": "returns a bool", "isclose": "as allclose",
    "bitwise_and": "integer-only: fuzzed as a contract primitive", "bitwise_or": "as and",
    "ge": "comparison: fuzzed as a contract primitive (lt is fuzzed here)", "gt": "as ge",
    "le": "as ge", "logical_or": "as logical_and (fuzzed here)", "logical_xor": "as or",
    "rsub": "sub with swapped operands", "square": "fuzzed as a unary op",
    "true_divide": "div (fuzzed here)",
    "aminmax": "amin and amax (fuzzed)", "count_nonzero": "integer result: test_ops.py",
    "max": "fuzzed as max_all / max_dim", "min": "fuzzed as min_dim",
    "nanmean": "nansum (fuzzed) / count", "std_mean": "std (fuzzed)", "var_mean": "var",
    "broadcast_to": "expand (fuzzed)", "expand_as": "expand", "ravel": "reshape",
    "reshape_as": "reshape", "select": "basic indexing (fuzzed)", "t": "transpose",
    "tensor_split": "split (fuzzed)", "unflatten": "reshape", "view": "fuzzed as view_flat",
    "view_as": "view", "adjoint": "transpose (fuzzed): tests/frontend/test_view_semantics.py",
    "split_with_sizes": "split (fuzzed)",
}


def test_every_declared_op_is_fuzzed_or_says_why_not():
    # the fuzz modules live in tests/fuzz/, on sys.path only when pytest collected them too
    import sys
    from pathlib import Path
    fuzz = str(Path(__file__).resolve().parents[1] / "fuzz")
    if fuzz not in sys.path:
        sys.path.append(fuzz)
    import test_fuzz_frontend_elementwise as elementwise
    import test_fuzz_frontend_reduce_views as reduce_views
    fuzzed = {"unary": elementwise.UNARY, "binary": elementwise.BINARY,
              "reduce": reduce_views.REDUCE, "views": reduce_views.VIEWS}
    missing = [row.name for row in ROWS if row.family in fuzzed
               and row.name not in fuzzed[row.family] and row.name not in NOT_FUZZED]
    assert not missing, f"declared but neither fuzzed nor listed in NOT_FUZZED: {missing}"
    stale = [n for n in NOT_FUZZED if n not in OPS]
    assert not stale, stale
