"""Activation functions: compositions of plugrad ops, with torch's grad_fn names.

Branches that could overflow in the side ``where`` does not select are clamped first
(``expm1(min(x, 0))``, ``log1p(exp(-|x|))``): a zero gradient times an infinite local
derivative would otherwise turn into nan in backward.
"""
from __future__ import annotations

import math

from ...ops import activation as _act
from ...ops._graph import named
from ...ops.indexing import where
from ...ops.inplace import apply_inplace

__all__ = ["relu", "relu_", "relu6", "hardtanh", "hardtanh_", "leaky_relu", "leaky_relu_",
           "elu", "elu_", "selu", "celu", "gelu", "silu", "mish", "sigmoid", "tanh",
           "hardsigmoid", "hardswish", "logsigmoid", "softplus", "softsign", "tanhshrink",
           "softshrink", "hardshrink", "threshold", "threshold_", "glu", "prelu", "softmax",
           "log_softmax", "softmin"]

softmax = _act.softmax
log_softmax = _act.log_softmax


def _maybe_inplace(input, inplace, fn):
    if inplace:
        return apply_inplace(input, fn)
    return fn(input)


def relu(input, inplace=False):
    """max(x, 0)."""
    return input.relu_() if inplace else _act.relu(input)


def relu_(input):
    return input.relu_()


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    """clamp(x, min_val, max_val); the gradient passes strictly inside (torch)."""
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")

    def fn(x):
        out = where(x <= min_val, float(min_val), where(x >= max_val, float(max_val), x))
        return named(out, "HardtanhBackward0")
    return _maybe_inplace(input, inplace, fn)


def hardtanh_(input, min_val=-1.0, max_val=1.0):
    return hardtanh(input, min_val, max_val, inplace=True)


def relu6(input, inplace=False):
    return hardtanh(input, 0.0, 6.0, inplace)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    """x if x > 0 else negative_slope * x."""
    def fn(x):
        return named(where(x > 0, x, x * negative_slope), "LeakyReluBackward0")
    return _maybe_inplace(input, inplace, fn)


def leaky_relu_(input, negative_slope=0.01):
    return leaky_relu(input, negative_slope, True)


def _elu(x, alpha, scale, input_scale):
    neg = (x.clamp(max=0) * input_scale).expm1() * (alpha * scale)
    pos = x * scale if scale != 1.0 else x
    return named(where(x > 0, pos, neg), "EluBackward0")


def elu(input, alpha=1.0, inplace=False):
    """x if x > 0 else alpha * (exp(x) - 1)."""
    return _maybe_inplace(input, inplace, lambda x: _elu(x, alpha, 1.0, 1.0))


def elu_(input, alpha=1.0):
    return elu(input, alpha, True)


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def selu(input, inplace=False):
    return _maybe_inplace(input, inplace, lambda x: _elu(x, _SELU_ALPHA, _SELU_SCALE, 1.0))


def celu(input, alpha=1.0, inplace=False):
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError")
    return _maybe_inplace(input, inplace, lambda x: _elu(x, alpha, 1.0, 1.0 / alpha))


def gelu(input, approximate="none"):
    """x * Phi(x); ``approximate='tanh'`` uses torch's tanh formula."""
    if approximate == "none":
        out = input * 0.5 * (1.0 + (input * (1.0 / math.sqrt(2.0))).erf())
    elif approximate == "tanh":
        inner = (input + input * input * input * 0.044715) * math.sqrt(2.0 / math.pi)
        out = input * 0.5 * (1.0 + inner.tanh())
    else:
        raise RuntimeError("approximate argument must be either none or tanh.")
    return named(out, "GeluBackward0")


def silu(input, inplace=False):
    """x * sigmoid(x)."""
    return _maybe_inplace(input, inplace, lambda x: named(x * x.sigmoid(), "SiluBackward0"))


def mish(input, inplace=False):
    """x * tanh(softplus(x))."""
    return _maybe_inplace(input, inplace,
                          lambda x: named(x * softplus(x).tanh(), "MishBackward0"))


def sigmoid(input):
    return input.sigmoid()


def tanh(input):
    return input.tanh()


def hardsigmoid(input, inplace=False):
    """relu6(x + 3) / 6; torch's gradient is 1/6 strictly inside (-3, 3)."""
    def fn(x):
        out = where(x <= -3.0, 0.0, where(x >= 3.0, 1.0, x / 6.0 + 0.5))
        return named(out, "HardsigmoidBackward0")
    return _maybe_inplace(input, inplace, fn)


def hardswish(input, inplace=False):
    """x * relu6(x + 3) / 6."""
    def fn(x):
        mid = x * (x + 3.0) / 6.0
        out = where(x <= -3.0, 0.0, where(x >= 3.0, x, mid))
        return named(out, "HardswishBackward0")
    return _maybe_inplace(input, inplace, fn)


def logsigmoid(input):
    """log(sigmoid(x)) = min(x, 0) - log1p(exp(-|x|)), stable for any x."""
    return named(input.clamp(max=0) - (-input.abs()).exp().log1p(), "LogSigmoidBackward0")


def softplus(input, beta=1.0, threshold=20.0):
    """log(1 + exp(beta * x)) / beta, linear above ``threshold`` (torch)."""
    bx = input * beta if beta != 1 else input
    soft = (bx.relu() + (-bx.abs()).exp().log1p())
    if beta != 1:
        soft = soft / beta
    return named(where(bx > threshold, input, soft), "SoftplusBackward0")


def softsign(input):
    return input / (input.abs() + 1)


def tanhshrink(input):
    return input - input.tanh()


def softshrink(input, lambd=0.5):
    if lambd < 0:
        raise RuntimeError(f"lambda must be greater or equal to 0, but found to be {lambd}.")
    out = where(input > lambd, input - lambd, where(input < -lambd, input + lambd, 0.0))
    return named(out, "SoftshrinkBackward0")


def hardshrink(input, lambd=0.5):
    keep = (input > lambd).logical_or(input < -lambd)
    return named(where(keep, input, 0.0), "HardshrinkBackward0")


def threshold(input, threshold, value, inplace=False):
    """x if x > threshold else value."""
    def fn(x):
        return named(where(x > threshold, x, float(value)), "ThresholdBackward0")
    return _maybe_inplace(input, inplace, fn)


def threshold_(input, threshold_value, value):
    return threshold(input, threshold_value, value, True)


def glu(input, dim=-1):
    """a * sigmoid(b) with (a, b) the two halves of ``dim``."""
    if input.ndim == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    size = input.shape[dim]
    if size % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {dim % input.ndim} "
                           f"is size {size}")
    a, b = input.chunk(2, dim)
    return named(a * b.sigmoid(), "GluBackward0")


def prelu(input, weight):
    """x if x > 0 else weight * x, weight broadcast over the channel dim (dim 1)."""
    if weight.numel() != 1:
        if input.ndim < 2 or weight.numel() != input.shape[1]:
            channels = input.shape[1] if input.ndim >= 2 else 1
            raise RuntimeError(f"Mismatch of parameter numbers and input channel size. Found "
                               f"parameter numbers = {weight.numel()} and channel size = "
                               f"{channels}.")
        weight = weight.reshape((-1,) + (1,) * (input.ndim - 2))
    return named(where(input > 0, input, weight * input), "PreluKernelBackward0")


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    return _act.softmax(-input, dim, dtype)
