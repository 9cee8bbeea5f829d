"""Composite elementwise math: erfc, logit, sinc, hypot, logaddexp, xlogy, fmax, copysign ...

Each is written in other frontend ops (so gradients, double gradients and every backend come
for free) and gets torch's grad_fn name through ``named``; none has a backward of its own.
"""
from __future__ import annotations

import math

from .. import _dtype as D
from .._tensor import Tensor, _make
from ..autograd.grad_mode import no_grad
from ..autograd.node import Node
from ._graph import attach, edge, named, needs_grad, unbroadcast, zeros_like_grad
from .binary import atan2, maximum, minimum, pow
from .gather import where as where_scalar_safe
from .unary import abs, exp, isnan, log, log1p, sign, sin, sqrt


def _float(x):
    return x if x._dtype.is_floating_point else x.to(D.get_default_dtype())


# ------------------------------------------------------------------------------- unary

def erfc(input):
    """1 - erf(x), in float64 for narrower dtypes (less cancellation for large x)."""
    x = _float(input)
    if x._dtype is D.float64:
        return named(1 - x.erf(), "ErfcBackward0")
    return named((1 - x.double().erf()).to(x._dtype), "ErfcBackward0")


def logit(input, eps=None):
    """log(p / (1 - p)), with p clamped to [eps, 1 - eps] when eps is given."""
    p = _float(input)
    if eps is not None:
        p = p.clamp(eps, 1 - eps)
    return named(log(p / (1 - p)), "LogitBackward0")


def sgn(input):
    """sign(x) (for real tensors torch's sgn is sign)."""
    return named(sign(input), "SgnBackward0")


def sinc(input):
    """sin(pi x) / (pi x), and 1 at 0."""
    x = _float(input)
    px = x * math.pi
    zero = x == 0
    return named(where_scalar_safe(zero, 1.0, sin(px) / px.masked_fill(zero, 1.0)),
                 "SincBackward0")


def deg2rad(input):
    return named(_float(input) * (math.pi / 180.0), "Deg2RadBackward0")


def rad2deg(input):
    return named(_float(input) * (180.0 / math.pi), "Rad2DegBackward0")


def signbit(input):
    """True where the sign bit is set (-0.0 and -nan included)."""
    if not input._dtype.is_floating_point:
        return input < 0
    with no_grad():
        ones = input.new_ones(()).expand(input._shape)
        return copysign(ones, input) < 0


def nan_to_num(input, nan=0.0, posinf=None, neginf=None):
    """nan, +inf and -inf replaced (by default with 0 and the dtype's largest/lowest)."""
    if not input._dtype.is_floating_point:
        return input.clone()
    import numpy
    info = numpy.finfo(input._dtype.name if input._dtype.np is not None else "float32")
    top = float(info.max) if posinf is None else posinf
    bottom = float(info.min) if neginf is None else neginf
    out = input.masked_fill(isnan(input), nan)
    out = out.masked_fill(input == math.inf, top).masked_fill(input == -math.inf, bottom)
    return named(out, "NanToNumBackward0")


# ------------------------------------------------------------------------------ binary

def hypot(input, other):
    """sqrt(a**2 + b**2)."""
    return named(sqrt(input * input + other * other), "HypotBackward0")


def logaddexp(input, other):
    """log(exp(a) + exp(b)), stably: max + log1p(exp(-|a - b|))."""
    m = maximum(input, other)
    d = (input - other).abs()
    out = m + log1p(exp(-d))
    same_inf = (input == other).logical_and(input.isinf())    # inf - inf would be nan
    return named(where_scalar_safe(same_inf, input, out), "LogaddexpBackward0")


def logaddexp2(input, other):
    """log2(2**a + 2**b)."""
    ln2 = math.log(2.0)
    return named(logaddexp(input * ln2, other * ln2) / ln2, "Logaddexp2Backward0")


def xlogy(input, other):
    """x * log(y), 0 where x == 0 (unless y is nan), as torch defines it."""
    if not isinstance(input, Tensor):
        input = other.new_full((), input)
    if not isinstance(other, Tensor):
        other = input.new_full((), other)
    x, y = _float(input), _float(other)
    prod = x * log(y)
    zero = (x == 0).logical_and(y.isnan().logical_not())
    return named(where_scalar_safe(zero, 0.0, prod), "XlogyBackward0")


def fmax(input, other):
    """Elementwise max that ignores nan (nan only where both are nan)."""
    out = where_scalar_safe(isnan(input), other, where_scalar_safe(isnan(other), input,
                                                                   maximum(input, other)))
    return named(out, "FmaxBackward0")


def fmin(input, other):
    out = where_scalar_safe(isnan(input), other, where_scalar_safe(isnan(other), input,
                                                                   minimum(input, other)))
    return named(out, "FminBackward0")


class CopysignBackward0(Node):
    """d/dself = result / self (0 where self is 0); other gets zeros (as torch)."""
    __slots__ = ("x", "y", "oshape", "odtype")

    def backward(self, g):
        ex, eo = self.next
        gx = go = None
        if ex is not None:
            with no_grad():     # +-1 (or 0): piecewise constant, so no graph through it
                ratio = (self.y / self.x).masked_fill(self.x == 0, 0)
            gx = unbroadcast(g * ratio, self.x._shape)
        if eo is not None:
            go = zeros_like_grad(g)
            go = unbroadcast(go, self.oshape)
            go = go if go._dtype is self.odtype else go.to(self.odtype)
        return gx, go

    def _drop(self):
        self.x = self.y = None


def copysign(input, other):
    """|input| with the sign (bit) of other: atan2 tells -0.0 from 0.0."""
    x = _float(input)
    o = other if isinstance(other, Tensor) else x.new_full((), other)
    with no_grad():
        negative = atan2(o, -1.0) < 0              # the sign bit: -0.0 counts, as in torch
        mag = abs(x)
        result = where_scalar_safe(negative, -mag, mag)
    res = _make(result._data, result._shape, result._dtype, result._device)
    if needs_grad(x, o):
        alias = res.detach()
        node = CopysignBackward0((edge(x), edge(o)), (x, alias))
        node.x, node.y, node.oshape, node.odtype = x, alias, o._shape, o._dtype
        attach(res, node)
    return res


def float_power(input, exponent):
    """input ** exponent computed in float64."""
    a = input.to(D.float64) if isinstance(input, Tensor) else float(input)
    b = exponent.to(D.float64) if isinstance(exponent, Tensor) else float(exponent)
    return pow(a, b)


def heaviside(input, values):
    """0 where x < 0, values where x == 0, 1 where x > 0 (not differentiable)."""
    if input._dtype is not values._dtype:
        raise RuntimeError("heaviside is not yet implemented for tensors with different dtypes")
    with no_grad():
        positive = (input > 0).to(input._dtype)
        return where_scalar_safe(input == 0, values, positive)


def dist(input, other, p=2):
    """The p-norm of input - other."""
    return named((input - other).norm(p), "DistBackward0")


__all__ = ["erfc", "logit", "sgn", "sinc", "deg2rad", "rad2deg", "signbit", "nan_to_num",
           "hypot", "logaddexp", "logaddexp2", "xlogy", "fmax", "fmin", "copysign",
           "float_power", "heaviside", "dist"]
