"""Integer number theory elementwise: gcd and lcm (integer dtypes only, as torch).

gcd is Euclid's algorithm run on all elements at once (``remainder`` until every divisor is
0: at most ~92 steps for int64), so every backend runs it exactly.
"""
from __future__ import annotations

from .. import _dtype as D
from .._tensor import Tensor
from ..autograd.grad_mode import no_grad
from .inplace import write_out


def _int_operands(input, other, name):
    from ._operands import binary
    dt = binary(input, other)[4]
    if dt.is_floating_point or dt.is_complex or dt is D.bool_:
        raise NotImplementedError(f"\"{name}_cpu\" not implemented for '{D.legacy_name(dt)}'")
    if not isinstance(other, Tensor):
        other = input.new_full((), other, dtype=dt)
    return input.to(dt), other.to(dt)


def _gcd(a, b):
    a, b = a.abs(), b.abs()
    a, b = a + b * 0, b + a * 0                        # both to the broadcast shape
    while bool((b != 0).any()):
        zero = b == 0
        r = a.remainder(b.masked_fill(zero, 1))
        a, b = a.where(zero, b), r.masked_fill(zero, 0)
    return a


def gcd(input, other, *, out=None):
    """Greatest common divisor, elementwise (non-negative; gcd(0, 0) == 0)."""
    a, b = _int_operands(input, other, "gcd")
    with no_grad():
        res = _gcd(a, b)
    return res if out is None else write_out(out, res)


def lcm(input, other, *, out=None):
    """Least common multiple, elementwise (non-negative; 0 when either is 0)."""
    a, b = _int_operands(input, other, "lcm")
    with no_grad():
        g = _gcd(a, b)
        wide = D.int64                                  # C++'s int arithmetic, then wrapped
        res = (a.to(wide) // g.masked_fill(g == 0, 1).to(wide) * b.to(wide)).abs().to(a._dtype)
    return res if out is None else write_out(out, res)


__all__ = ["gcd", "lcm"]
