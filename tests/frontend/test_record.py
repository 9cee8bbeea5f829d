"""The tuned node recording (``ops/_graph.py``: ``record_binary``, ``record_unary``) makes the
same nodes as the plain constructor, ``Node.__init__`` over ``edge()`` of each input."""
from __future__ import annotations

import pytest

import plugrad
from plugrad.ops import binary, unary
from plugrad.ops._graph import binary_needs_grad, edge, needs_grad, record_binary, record_unary

SLOTS = ("next", "saved", "versions")


def _state(node, extra):
    return {name: getattr(node, name, "<unset>") for name in SLOTS + extra}


def _plain_binary(cls, ta, tb, save_a, save_b):
    saved = tuple(v for v in (save_a, save_b) if isinstance(v, plugrad.Tensor))
    node = cls((edge(ta), edge(tb)), saved)
    node.sa, node.da = (ta._shape, ta._dtype) if ta is not None else ((), None)
    node.sb, node.db = (tb._shape, tb._dtype) if tb is not None else ((), None)
    node.a, node.b = save_a, save_b
    return node


def _plain_unary(cls, x, out, keep):
    if keep == "output":
        alias = out.detach()
        node = cls((edge(x),), (alias,))
        node.x, node.y = x, alias
    elif keep == "input":
        node = cls((edge(x),), (x,))
        node.x = x
    else:
        node = cls((edge(x),))
    node.dtype = x._dtype
    return node


def _operands():
    leaf = plugrad.tensor([[1.0, 2.0]], requires_grad=True)
    plain = plugrad.tensor([3.0, 4.0])
    bumped = plugrad.tensor([5.0, 6.0])
    bumped.add_(1)                                     # version 1
    inner = leaf * 2                                   # has a grad_fn
    inner_bumped = leaf * 3
    inner_bumped.mul_(2)                               # a grad_fn and version 1
    return {"leaf": leaf, "plain": plain, "bumped": bumped, "inner": inner,
            "inner_bumped": inner_bumped, "scalar": None}


@pytest.mark.parametrize("a_kind", ["leaf", "inner", "plain", "scalar"])
@pytest.mark.parametrize("b_kind", ["leaf", "bumped", "inner", "inner_bumped", "scalar"])
@pytest.mark.parametrize("saves", ["none", "a", "b", "both", "scalar"])
def test_record_binary_equals_the_plain_node(a_kind, b_kind, saves):
    ops = _operands()
    ta, tb = ops[a_kind], ops[b_kind]
    if ta is None and tb is None:
        return
    save_a = {"a": ta, "both": ta, "scalar": 2.5}.get(saves)
    save_b = {"b": tb, "both": tb}.get(saves)
    out = plugrad.tensor([0.0, 0.0])
    record_binary(out, binary.MulBackward0, ta, tb, save_a, save_b)
    tuned = out.grad_fn
    plain = _plain_binary(binary.MulBackward0, ta, tb, save_a, save_b)
    extra = ("sa", "da", "sb", "db", "a", "b")
    assert _state(tuned, extra) == _state(plain, extra)
    assert out.requires_grad and type(tuned) is binary.MulBackward0


@pytest.mark.parametrize("kind", ["leaf", "inner", "inner_bumped"])   # (x requires grad)
@pytest.mark.parametrize("keep", ["none", "input", "output"])
def test_record_unary_equals_the_plain_node(kind, keep):
    x = _operands()[kind]
    out = plugrad.tensor([0.5, 0.25])
    record_unary(out, unary.ExpBackward0, x, keep)
    tuned = out.grad_fn
    plain = _plain_unary(unary.ExpBackward0, x, out, keep)
    extra = ("x", "dtype")
    if keep != "output":
        assert _state(tuned, extra) == _state(plain, extra)
        return
    # a fresh alias of the output each time: the same buffer, shape and version
    tuned_state, plain_state = _state(tuned, extra), _state(plain, extra)
    for state in (tuned_state, plain_state):
        alias = state.pop("saved")[0]
        state["alias"] = (alias._data is out._data, alias._shape, alias._version)
    assert tuned_state == plain_state
    assert tuned.y is tuned.saved[0]


def test_ops_record_through_the_tuned_path():
    a = plugrad.tensor([1.0, 2.0], requires_grad=True)
    b = plugrad.tensor([3.0, 4.0], requires_grad=True)
    y = a * b
    plain = _plain_binary(binary.MulBackward0, a, b, a, b)
    assert _state(y.grad_fn, ("sa", "sb", "a", "b")) == _state(plain, ("sa", "sb", "a", "b"))
    z = a.exp()
    assert z.grad_fn.next == (a,) and z.grad_fn.x is a and z.grad_fn.y._data is z._data


def test_grad_mode_is_read_one_way():
    a = plugrad.tensor([1.0], requires_grad=True)
    assert needs_grad(a) and binary_needs_grad(a, None) and binary_needs_grad(None, a)
    with plugrad.no_grad():
        assert not needs_grad(a) and not binary_needs_grad(a, None)
        assert (a * 2).grad_fn is None and a.exp().grad_fn is None
    assert not binary_needs_grad(plugrad.tensor([1.0]), None)
