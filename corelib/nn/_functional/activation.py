"""Activation functions: compositions of plugrad ops, with torch's grad_fn names.

Branches that could overflow in the side ``where`` does not select are clamped first
(``expm1(min(x, 0))``, ``log1p(exp(-|x|))``): a zero gradient times an infinite local
derivative would otherwise turn into nan in backward.
"""
from __future__ import annotations

import math

from ... import _dtype as D
from ..._tensor import _from_buffer
from ...autograd.grad_mode import is_grad_enabled, no_grad
from ...autograd.node import Node
from ...ops._graph import attach, edge, needs_grad
from ...ops import activation as _act
from ...ops._graph import named
from ...ops.ternary import where
from ...ops.inplace import apply_inplace

__all__ = ["relu", "relu_", "relu6", "hardtanh", "hardtanh_", "leaky_relu", "leaky_relu_",
           "elu", "elu_", "selu", "celu", "gelu", "silu", "mish", "sigmoid", "tanh",
           "hardsigmoid", "hardswish", "logsigmoid", "softplus", "softsign", "tanhshrink",
           "softshrink", "hardshrink", "threshold", "threshold_", "glu", "prelu", "softmax",
           "log_softmax", "softmin"]

softmax = _act.softmax
log_softmax = _act.log_softmax


def _float_only(input, kernel):
    """torch's activation kernels exist for floating dtypes only: integer and bool tensors
    raise NotImplementedError naming the kernel and the dtype (checked before any work)."""
    if not input.dtype.is_floating_point:
        raise NotImplementedError(f"\"{kernel}\" not implemented for "
                                  f"'{D.legacy_name(input.dtype)}'")


def _maybe_inplace(input, inplace, fn):
    """fn(input), or written into input when ``inplace``. With autograd the composition runs
    on a clone, so the values it saved are not the ones being overwritten."""
    if not inplace:
        return fn(input)
    if input.requires_grad and is_grad_enabled():
        return apply_inplace(input, lambda x: fn(x.clone()))
    return apply_inplace(input, fn)


def relu(input, inplace=False):
    """max(x, 0)."""
    return input.relu_() if inplace else _act.relu(input)


def relu_(input):
    """In-place :func:`relu`."""
    return input.relu_()


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    """clamp(x, min_val, max_val); the gradient passes strictly inside (torch)."""
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    if input.dtype is D.bool_:
        raise RuntimeError("Bool inputs not supported for hardtanh")
    if not input.dtype.is_floating_point:   # torch clamps integers in their own dtype
        if input.dtype is D.uint8 and min_val < 0:
            raise RuntimeError("cannot do hardtanh on an unsigned type with negative limits")
        lo, hi = int(min_val), int(max_val)
        return input.clamp_(lo, hi) if inplace else input.clamp(lo, hi)

    def fn(x):
        out = where(x <= min_val, float(min_val), where(x >= max_val, float(max_val), x))
        return named(out, "HardtanhBackward0")
    return _maybe_inplace(input, inplace, fn)


def hardtanh_(input, min_val=-1.0, max_val=1.0):
    """In-place :func:`hardtanh`."""
    return hardtanh(input, min_val, max_val, inplace=True)


def relu6(input, inplace=False):
    """min(max(0, x), 6), elementwise."""
    return hardtanh(input, 0.0, 6.0, inplace)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    """x if x > 0 else negative_slope * x."""
    _float_only(input, "leaky_relu_cpu")
    def fn(x):
        return named(where(x > 0, x, x * negative_slope), "LeakyReluBackward0")
    return _maybe_inplace(input, inplace, fn)


def leaky_relu_(input, negative_slope=0.01):
    """In-place :func:`leaky_relu`."""
    return leaky_relu(input, negative_slope, True)


def _elu(x, alpha, scale, input_scale, name="EluBackward0"):
    neg = (x.clamp(max=0) * input_scale).expm1() * (alpha * scale)
    pos = x * scale if scale != 1.0 else x
    return named(where(x > 0, pos, neg), name)


def elu(input, alpha=1.0, inplace=False):
    """x if x > 0 else alpha * (exp(x) - 1)."""
    _float_only(input, "elu_cpu")
    return _maybe_inplace(input, inplace, lambda x: _elu(x, alpha, 1.0, 1.0))


def elu_(input, alpha=1.0):
    """In-place :func:`elu`."""
    return elu(input, alpha, True)


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def selu(input, inplace=False):
    """scale * elu(x, alpha) with SELU's fixed constants, elementwise."""
    _float_only(input, "elu_cpu")
    return _maybe_inplace(input, inplace, lambda x: _elu(x, _SELU_ALPHA, _SELU_SCALE, 1.0))


def celu(input, alpha=1.0, inplace=False):
    """max(0, x) + min(0, alpha * (exp(x / alpha) - 1)), elementwise."""
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError")
    _float_only(input, "elu_cpu")
    return _maybe_inplace(input, inplace, lambda x: _elu(x, alpha, 1.0, 1.0 / alpha, "CeluBackward0"))


def gelu(input, approximate="none"):
    """x * Phi(x); ``approximate='tanh'`` uses torch's tanh formula."""
    _float_only(input, "GeluKernelImpl")
    if input.dtype in (D.float16, D.bfloat16) and approximate in ("none", "tanh"):
        # torch computes half gelu in float (1 + erf(-2.1) cancels to 2-3 digits in half:
        # gelu(-3) came out 8% off on opencl) and rounds once
        return named(gelu(input.float(), approximate).to(input.dtype), "GeluBackward0")
    if approximate == "none":
        from ...ops.fused import gelu_erf
        out = gelu_erf(input)
        if out is not None:
            return out
        out = input * 0.5 * (1.0 + (input * (1.0 / math.sqrt(2.0))).erf())
    elif approximate == "tanh":
        inner = (input + input * input * input * 0.044715) * math.sqrt(2.0 / math.pi)
        # 0.5 (1 + tanh(u)) == sigmoid(2u): the same function, but exactly 0 far left even
        # on backends whose tanh stops a few ulp short of -1 (OpenCL allows that)
        out = input * (inner * 2.0).sigmoid()
    else:
        raise RuntimeError("approximate argument must be either none or tanh.")
    return named(out, "GeluBackward0")


class SiluBackward0(Node):
    """torch's fused formula g * s * (1 + x * (1 - s)), s = sigmoid(x): the composite's
    g * x * s * (1 - s) overflowed (g * x = inf) to inf * 0 = nan for large x."""
    __slots__ = ("x",)

    def backward(self, g):
        s = self.x.sigmoid()
        return (g * (s * (1 + self.x * (1 - s))),)

    def _drop(self):
        self.x = None


def _silu(x):
    with no_grad():
        if x._dtype.itemsize == 2:      # half: one float32 computation, rounded once (torch)
            xf = x.float()
            out = (xf * xf.sigmoid()).to(x._dtype)
        else:
            out = x * x.sigmoid()
    res = _from_buffer(out._data, out._shape, out._dtype, out._device)
    if needs_grad(x):
        node = SiluBackward0((edge(x),), (x,))
        node.x = x
        attach(res, node)
    return res


def silu(input, inplace=False):
    """x * sigmoid(x)."""
    _float_only(input, "silu_cpu")
    return _maybe_inplace(input, inplace, _silu)


def mish(input, inplace=False):
    """x * tanh(softplus(x))."""
    _float_only(input, "mish_cpu")
    return _maybe_inplace(input, inplace,
                          lambda x: named(x * softplus(x).tanh(), "MishBackward0"))


def sigmoid(input):
    """1 / (1 + exp(-x)), elementwise."""
    return input.sigmoid()


def tanh(input):
    """Hyperbolic tangent, elementwise."""
    return input.tanh()


def hardsigmoid(input, inplace=False):
    """relu6(x + 3) / 6; torch's gradient is 1/6 strictly inside (-3, 3)."""
    _float_only(input, "hardsigmoid_cpu")
    def fn(x):
        out = where(x <= -3.0, 0.0, where(x >= 3.0, 1.0, x / 6.0 + 0.5))
        return named(out, "HardsigmoidBackward0")
    return _maybe_inplace(input, inplace, fn)


def hardswish(input, inplace=False):
    """x * relu6(x + 3) / 6."""
    _float_only(input, "hardswish_cpu")
    def fn(x):
        # torch's gradient is 0 for x <= -3 and 1 for x >= 3; x * 0 keeps -inf -> nan
        out = where(x >= 3.0, x, where(x > -3.0, x * (x + 3.0) / 6.0, x * 0.0))
        return named(out, "HardswishBackward0")
    return _maybe_inplace(input, inplace, fn)


def log_sigmoid(x):
    """log(sigmoid(x)) without overflow: x - log1p(exp(x)) left of 0, -log1p(exp(-x)) from 0
    on. Each branch sees its input clamped to its side, so neither the unused branch's value
    nor its gradient can be inf or nan, and the gradient at 0 is torch's 0.5."""
    left = x.clamp(max=0)
    right = x.clamp(min=0)
    return where(x < 0, left - left.exp().log1p(), -(-right).exp().log1p())


def logsigmoid(input):
    """log(sigmoid(x)), finite for every finite x (0 at +inf, -inf at -inf)."""
    _float_only(input, "log_sigmoid_cpu")
    return named(log_sigmoid(input), "LogSigmoidBackward0")


def softplus(input, beta=1.0, threshold=20.0):
    """log(1 + exp(beta * x)) / beta, linear above ``threshold`` (torch)."""
    _float_only(input, "softplus_cpu")
    bx = input * beta if beta != 1 else input
    soft = -log_sigmoid(-bx)         # log1p(exp(bx)), finite for any bx
    if beta != 1:
        soft = soft / beta
    return named(where(bx > threshold, input, soft), "SoftplusBackward0")


def softsign(input):
    """x / (1 + |x|), elementwise."""
    return input / (input.abs() + 1)


def tanhshrink(input):
    """x - tanh(x), elementwise."""
    return input - input.tanh()


def softshrink(input, lambd=0.5):
    """x - sign(x) * lambd outside [-lambd, lambd], else 0 (nan stays nan)."""
    _float_only(input, "softshrink_check")
    if lambd < 0:
        limit = {"float64": "1.79769e+308", "float16": "65504", "bfloat16": "3.38953e+38"}.get(
            input.dtype.name, "3.40282e+38")
        kind = {"float64": "Double", "float16": "Half", "bfloat16": "BFloat16"}.get(
            input.dtype.name, "Float")
        raise RuntimeError(f"lambda must be in range [0, {limit}] for input dtype {kind}, but "
                           f"found {lambd:g}")
    out = where(input.abs() <= lambd, 0.0, input - input.sign() * lambd)
    return named(out, "SoftshrinkBackward0")


def hardshrink(input, lambd=0.5):
    """x outside [-lambd, lambd], else 0 (nan stays nan)."""
    _float_only(input, "hardshrink_cpu")
    return named(where(input.abs() <= lambd, 0.0, input), "HardshrinkBackward0")


def threshold(input, threshold, value, inplace=False):
    """x if x > threshold else value."""
    def fn(x):
        return named(where(x <= threshold, float(value), x), "ThresholdBackward0")
    return _maybe_inplace(input, inplace, fn)


def threshold_(input, threshold_value, value):
    """In-place :func:`threshold`."""
    return threshold(input, threshold_value, value, True)


def glu(input, dim=-1):
    """a * sigmoid(b) with (a, b) the two halves of ``dim``."""
    _float_only(input, "glu_cpu")
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
    """softmax(-input) along ``dim``: values in (0, 1) summing to 1."""
    return _act.softmax(-input, dim, dtype)
