"""Temporary elision (``a*b + c`` reuses ``a*b``'s buffer) must never write into a tensor
anyone can still see: names, views, containers, arguments, numpy arrays, autograd graphs."""
from __future__ import annotations

import numpy
import pytest

import plugrad as torch
from plugrad.ops import _elision

N = _elision.MIN_ELEMENTS * 2


@pytest.fixture
def abc():
    g = torch.Generator().manual_seed(0)
    return [torch.rand(N, generator=g) for _ in range(3)]


class _Reuses:
    """How many buffers were reused since the fixture started."""

    def __init__(self):
        self.start = _elision.reused

    def __len__(self):
        return _elision.reused - self.start

    def __eq__(self, other):
        return len(self) == len(other)


@pytest.fixture
def reuse_count():
    return _Reuses()


def test_calibration_finds_distinct_counts():
    _elision._limits = None
    assert _elision._calibrate(), "elision is expected to work on this interpreter"


def test_temporaries_are_reused_and_results_are_right(abc, reuse_count):
    a, b, c = abc
    # computed outside ``assert``: pytest's assertion rewriting keeps sub-expressions alive
    first, second, third = a * b + c, c + a * b, (a - b) / c
    an, bn, cn = a.numpy(), b.numpy(), c.numpy()
    assert numpy.array_equal(first.numpy(), an * bn + cn)
    assert numpy.array_equal(second.numpy(), cn + an * bn)
    assert numpy.array_equal(third.numpy(), (an - bn) / cn)
    assert len(reuse_count) == 3


def _unchanged(t, values):
    assert numpy.array_equal(t.numpy(), values)


def test_visible_tensors_are_never_overwritten(abc, reuse_count):
    a, b, c = abc
    ab = a.numpy() * b.numpy()
    named = a * b
    named + c
    _unchanged(named, ab)
    named = a * b
    torch.add(named, c)                     # direct call: no elision at all
    _unchanged(named, ab)
    base = a * b
    view = base.view(-1)
    base + c
    _unchanged(view, ab)
    held = [a * b]
    held[0] + c
    _unchanged(held[0], ab)

    def use(t):
        return t + c
    named = a * b
    use(named)
    _unchanged(named, ab)
    array = numpy.ones(N, dtype=numpy.float32)
    torch.from_numpy(array) + c             # the caller's array is visible through its name
    assert numpy.array_equal(array, numpy.ones(N, dtype=numpy.float32))
    shared = (a * b)
    exported = shared.numpy()
    shared + c
    assert numpy.array_equal(exported, ab)
    assert reuse_count == []


def test_autograd_operands_are_never_reused(abc, reuse_count):
    a, b, c = abc
    a.requires_grad_(True)
    y = (a * b + c).sum()
    y.backward()
    assert numpy.allclose(a.grad.numpy(), b.numpy())
    assert reuse_count == []


@pytest.mark.parametrize("op", ["mul", "div", "rdiv"])
def test_a_temporary_saved_for_backward_is_never_overwritten(op):
    """``y * plugrad.tensor(g)``: the temporary g is what MulBackward multiplies the incoming
    gradient by, so the product may not be written into its buffer (it was: y.grad read the
    product, and a Linear's bias gradient was garbage)."""
    n = 2 * _elision.MIN_ELEMENTS
    rng = numpy.random.default_rng(0)
    x = rng.standard_normal(n).astype(numpy.float32)
    g = (1 + rng.random(n)).astype(numpy.float32)
    y = torch.tensor(x, requires_grad=True)
    if op == "mul":
        z, want = (y * 2) * torch.tensor(g), 2 * g.astype(numpy.float64)
    elif op == "div":
        z, want = (y * 2) / torch.tensor(g), 2 / g.astype(numpy.float64)
    else:
        z, want = torch.tensor(g) / (y * 2), -g / (2 * x.astype(numpy.float64) ** 2)
    z.sum().backward()
    numpy.testing.assert_allclose(y.grad.numpy(), want, rtol=1e-5)
