"""``torch._foreach_*`` (issue 11 item 3): every overload and error against torch 2.13, on
every device; in-place forms return the list they update, out-of-place forms a tuple."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import plugrad

RS = np.random.RandomState(0)
SHAPES = [(3,), (2, 4), ()]
BASE = [np.asarray(RS.rand(*s) + 0.5, np.float32) for s in SHAPES]
OTHER = [np.asarray(RS.rand(*s) + 0.5, np.float32) for s in SHAPES]
THIRD = [np.asarray(RS.rand(*s) + 0.5, np.float32) for s in SHAPES]

UNARY = sorted(n[len("_foreach_"):] for n in dir(torch) if n.startswith("_foreach_")
               and not n.endswith("_") and hasattr(torch, n + "_") and n[len("_foreach_"):] not in (
                   "add", "sub", "mul", "div", "maximum", "minimum", "clamp_min", "clamp_max",
                   "pow", "addcmul", "addcdiv", "lerp"))


def _lists(L, device, *arrays):
    return [[L.tensor(a, device=device) if L is plugrad else L.tensor(a) for a in group]
            for group in arrays]


def _check(got, want):
    assert type(got) is type(want), (type(got), type(want))
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert str(g.dtype) == str(w.dtype) and tuple(g.shape) == tuple(w.shape)
        np.testing.assert_allclose(g.detach().cpu().numpy(), w.detach().numpy(), rtol=2e-6,
                                   atol=1e-7, equal_nan=True)


def test_every_foreach_op_of_torch_exists():
    missing = {n for n in dir(torch) if n.startswith("_foreach") and not hasattr(plugrad, n)}
    assert not missing


@pytest.mark.parametrize("name", UNARY)
def test_unary(device, name):
    if name in ("acos", "asin"):
        arrays = [a - 0.5 for a in BASE]
    else:
        arrays = BASE
    (t,), (p,) = _lists(torch, device, arrays), _lists(plugrad, device, arrays)
    _check(getattr(plugrad, f"_foreach_{name}")(p), getattr(torch, f"_foreach_{name}")(t))
    assert getattr(plugrad, f"_foreach_{name}_")(p) is p
    getattr(torch, f"_foreach_{name}_")(t)
    _check(p, t)


BINARY_OTHERS = {
    "list": lambda L, o: o, "scalar": lambda L, o: 1.5, "int": lambda L, o: 2,
    "scalars": lambda L, o: [0.5, -2.0, 3.0], "tensor": lambda L, o: L.tensor(1.25),
}


@pytest.mark.parametrize("other", sorted(BINARY_OTHERS))
@pytest.mark.parametrize("name", ["add", "sub", "mul", "div", "maximum", "minimum", "clamp_min",
                                  "clamp_max", "pow"])
def test_binary_overloads(device, name, other):
    if other == "tensor" and name == "sub":      # sub's Tensor is a Scalar: no alpha
        with pytest.raises(TypeError, match="must be tuple of Tensors, not Tensor"):
            torch._foreach_sub([torch.ones(2)], torch.tensor(1.0), alpha=2)
        with pytest.raises(TypeError, match="must be tuple of Tensors, not Tensor"):
            plugrad._foreach_sub([plugrad.ones(2)], plugrad.tensor(1.0), alpha=2)
    (t, to), (p, po) = _lists(torch, device, BASE, OTHER), _lists(plugrad, device, BASE, OTHER)
    ot, op = BINARY_OTHERS[other](torch, to), BINARY_OTHERS[other](plugrad, po)
    if other == "tensor":
        op = op.to(device)
    _check(getattr(plugrad, f"_foreach_{name}")(p, op), getattr(torch, f"_foreach_{name}")(t, ot))
    assert getattr(plugrad, f"_foreach_{name}_")(p, op) is p
    getattr(torch, f"_foreach_{name}_")(t, ot)
    _check(p, t)
    if name == "add" and other in ("list", "tensor") or name == "sub" and other == "list":
        _check(getattr(plugrad, f"_foreach_{name}")(p, op, alpha=-0.5),
               getattr(torch, f"_foreach_{name}")(t, ot, alpha=-0.5))


@pytest.mark.parametrize("value", ["default", "number", "scalars", "tensor"])
@pytest.mark.parametrize("name", ["addcmul", "addcdiv"])
def test_pointwise(device, name, value):
    (t, a, b), (p, c, d) = (_lists(torch, device, BASE, OTHER, THIRD),
                            _lists(plugrad, device, BASE, OTHER, THIRD))
    kw = {"default": lambda L: ((), {}), "number": lambda L: ((), {"value": -0.25}),
          "scalars": lambda L: (([0.5, 2.0, -1.0],), {}),
          "tensor": lambda L: ((L.tensor([0.5, 2.0, -1.0]),), {})}[value]
    args_t, kw_t = kw(torch)
    args_p, kw_p = kw(plugrad)
    _check(getattr(plugrad, f"_foreach_{name}")(p, c, d, *args_p, **kw_p),
           getattr(torch, f"_foreach_{name}")(t, a, b, *args_t, **kw_t))
    assert getattr(plugrad, f"_foreach_{name}_")(p, c, d, *args_p, **kw_p) is p
    getattr(torch, f"_foreach_{name}_")(t, a, b, *args_t, **kw_t)
    _check(p, t)


@pytest.mark.parametrize("weight", ["number", "scalars", "tensors"])
def test_lerp(device, weight):
    (t, a, w), (p, c, v) = (_lists(torch, device, BASE, OTHER, [x / 2 for x in THIRD]),
                            _lists(plugrad, device, BASE, OTHER, [x / 2 for x in THIRD]))
    wt, wp = {"number": (0.3, 0.3), "scalars": ([0.1, 0.5, 0.9], [0.1, 0.5, 0.9]),
              "tensors": (w, v)}[weight]
    _check(plugrad._foreach_lerp(p, c, wp), torch._foreach_lerp(t, a, wt))
    assert plugrad._foreach_lerp_(p, c, wp) is p
    torch._foreach_lerp_(t, a, wt)
    _check(p, t)


def test_reductions_copies_and_matrix_products(device):
    (t, o), (p, q) = _lists(torch, device, BASE, OTHER), _lists(plugrad, device, BASE, OTHER)
    for ord_ in (2, 1, float("inf"), 3):
        _check(plugrad._foreach_norm(p, ord_), torch._foreach_norm(t, ord_))
    _check(plugrad._foreach_norm(p, dtype=plugrad.float64),
           torch._foreach_norm(t, dtype=torch.float64))
    _check(plugrad._foreach_max(p), torch._foreach_max(t))
    _check(plugrad._foreach_powsum(p, 3), torch._foreach_powsum(t, 3))
    _check(plugrad._foreach_pow(2.0, p), torch._foreach_pow(2.0, t))
    _check(plugrad._foreach_clone(p), torch._foreach_clone(t))
    assert plugrad._foreach_copy_(p, q) is p
    torch._foreach_copy_(t, o)
    _check(p, t)
    assert plugrad._foreach_zero_(p) is p
    torch._foreach_zero_(t)
    _check(p, t)
    m = [RS.rand(2, 3).astype(np.float32), RS.rand(4, 2).astype(np.float32)]
    n = [RS.rand(3, 2).astype(np.float32), RS.rand(2, 5).astype(np.float32)]
    (mt, nt), (mp, np_) = _lists(torch, device, m, n), _lists(plugrad, device, m, n)
    _check(plugrad._foreach_mm(mp, np_), torch._foreach_mm(mt, nt))


def test_gradients_flow_through_out_of_place_forms(device):
    def run(L):
        xs = [L.tensor(a, requires_grad=True) for a in BASE]
        ys = L._foreach_mul(xs, xs)
        zs = L._foreach_addcmul(ys, xs, xs, value=0.5)
        sum(z.sum() for z in L._foreach_exp(zs)).backward()
        return [x.grad for x in xs]
    for g, w in zip(run(plugrad), run(torch)):
        np.testing.assert_allclose(g.numpy(), w.numpy(), rtol=1e-6)


ERRORS = [
    ("empty list", lambda L: L._foreach_add([], 1)),
    ("list lengths", lambda L: L._foreach_add([L.ones(2), L.ones(3)], [L.ones(2)])),
    ("scalar list length", lambda L: L._foreach_mul([L.ones(2), L.ones(3)], [1.0])),
    ("tensor scalar with 2 elements", lambda L: L._foreach_mul([L.ones(2)], L.ones(2))),
    ("a Tensor as the list", lambda L: L._foreach_exp(L.ones(2))),
    ("a string operand", lambda L: L._foreach_add([L.ones(2)], "x")),
    ("alpha with a scalar", lambda L: L._foreach_add([L.ones(2)], 1, alpha=2)),
    ("shape mismatch", lambda L: L._foreach_add([L.ones(3)], [L.ones(2)])),
    ("in-place on a leaf requiring grad",
     lambda L: L._foreach_exp_([L.ones(2, requires_grad=True)])),
    ("addcmul value= list", lambda L: L._foreach_addcmul([L.ones(2)], [L.ones(2)], [L.ones(2)],
                                                         value=[1.0])),
    ("addcmul list lengths", lambda L: L._foreach_addcmul([L.ones(2)] * 2, [L.ones(2)] * 2,
                                                          [L.ones(2)])),
    ("addcdiv value tensor length",
     lambda L: L._foreach_addcdiv([L.ones(2)] * 2, [L.ones(2)] * 2, [L.ones(2)] * 2,
                                  L.tensor([1.0, 2.0, 3.0]))),
]


@pytest.mark.parametrize("case", [c[0] for c in ERRORS])
def test_errors_match_torch(case):
    fn = dict(ERRORS)[case]
    with pytest.raises(Exception) as theirs:
        fn(torch)
    with pytest.raises(type(theirs.value)) as ours:
        fn(plugrad)
    first = str(theirs.value).splitlines()[0]
    if "invalid combination" in first or "must be tuple of Tensors" in first:
        first = first.split(" - got")[0]
    assert str(ours.value).startswith(first), (str(ours.value), first)
