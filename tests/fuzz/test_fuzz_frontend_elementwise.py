"""Property-based differential tests of the frontend's elementwise ops: values and gradients.

Each op runs on PyTorch and on plugrad (every available device) over hypothesis-drawn shapes
(0-d, 0-size), dtypes (integer and bool inputs of float functions, mixed-dtype type
promotion, Python scalars), broadcasting, non-contiguous inputs (transposed / stepped views)
and values over the whole float range; outputs must match torch's shape, dtype and values,
and gradients of a drawn upstream gradient must match torch's, special values included.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch  # noqa: F401  (the oracle, used through fuzz_oracle; fail, not skip, without it)
from fuzz_oracle import check
from fuzz_profiles import FLOATS, arrays, fuzz
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

SHAPES = hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4)
# dtypes the frontend receives from users; float64 only where the device has it
IN_DTYPES = ("bool", "uint8", "int32", "int64", "float16", "float32", "float64")


def _dtypes(device, dtypes):
    import plugrad.plugins
    return tuple(d for d in dtypes if d != "float64" or plugrad.plugins.supports(device, "add",
                                                                                  "float64"))


def _as_view(data):
    """Sometimes hand the op a non-contiguous tensor: a transposed or stepped view."""
    return data.draw(st.sampled_from(["plain", "transposed", "stepped"]), label="layout")


def _viewed(kind, fn):
    if kind == "transposed":
        return lambda T, *a: fn(T, *[x.mT.contiguous().mT if _is_t(x) and x.ndim >= 2 else x
                                     for x in a])
    if kind == "stepped":
        return lambda T, *a: fn(T, *[T.stack([x, x], -1)[..., 0] if _is_t(x) else x for x in a])
    return fn


def _is_t(x):
    return hasattr(x, "requires_grad") and hasattr(x, "ndim")


# name: (torch-namespace call, value kind, forward ulps, gradient ulps, float inputs only)
UNARY = {
    "neg": (lambda T, x: -x, "any", 0, 0),
    "abs": (lambda T, x: T.abs(x), "any", 0, 0),
    "sign": (lambda T, x: T.sign(x), "any", 0, 0),
    "sgn": (lambda T, x: T.sgn(x), "any", 0, 0),
    "exp": (lambda T, x: T.exp(x), "any", 4, 8),
    "exp2": (lambda T, x: T.exp2(x), "any", 4, 8),
    "log": (lambda T, x: T.log(x), "any", 4, 4),
    "log2": (lambda T, x: T.log2(x), "any", 4, 4),
    "log10": (lambda T, x: T.log10(x), "any", 4, 4),
    "log1p": (lambda T, x: T.log1p(x), "any", 4, 4),
    "expm1": (lambda T, x: T.expm1(x), "any", 4, 8),
    "sqrt": (lambda T, x: T.sqrt(x), "any", 3, 4),
    "rsqrt": (lambda T, x: T.rsqrt(x), "any", 4, 8),
    "sin": (lambda T, x: T.sin(x), "any", 4, 4),
    "cos": (lambda T, x: T.cos(x), "any", 4, 4),
    "tan": (lambda T, x: T.tan(x), "any", 5, 8),
    "tanh": (lambda T, x: T.tanh(x), "any", 5, 8),
    "sigmoid": (lambda T, x: T.sigmoid(x), "any", 4, 8),
    "asin": (lambda T, x: T.asin(x), "unit", 4, 8),
    "acos": (lambda T, x: T.acos(x), "unit", 4, 8),
    "atan": (lambda T, x: T.atan(x), "any", 5, 8),
    "sinh": (lambda T, x: T.sinh(x), "any", 4, 4),
    "cosh": (lambda T, x: T.cosh(x), "any", 4, 4),
    "erf": (lambda T, x: T.erf(x), "any", 4, 8),
    # erfc is 1 - erf(x) (no contract primitive): the tail loses relative accuracy; known gap,
    # compared with an absolute tolerance of a few ulps of 1 below
    "erfc": (lambda T, x: T.erfc(x), "small", 8, 8),
    "floor": (lambda T, x: T.floor(x), "any", 0, 0),
    "ceil": (lambda T, x: T.ceil(x), "any", 0, 0),
    "round": (lambda T, x: T.round(x), "any", 0, 0),
    "trunc": (lambda T, x: T.trunc(x), "any", 0, 0),
    "frac": (lambda T, x: T.frac(x), "any", 0, 0),
    "reciprocal": (lambda T, x: T.reciprocal(x), "any", 3, 8),
    "square": (lambda T, x: T.square(x), "any", 0, 2),
    "relu": (lambda T, x: T.relu(x), "any", 0, 0),
    "isnan": (lambda T, x: T.isnan(x), "any", 0, 0),
    "isinf": (lambda T, x: T.isinf(x), "any", 0, 0),
    "isfinite": (lambda T, x: T.isfinite(x), "any", 0, 0),
    "signbit": (lambda T, x: T.signbit(x), "any", 0, 0),
    "logical_not": (lambda T, x: T.logical_not(x), "any", 0, 0),
    "nan_to_num": (lambda T, x: T.nan_to_num(x), "any", 0, 0),
    "clamp": (lambda T, x: T.clamp(x, -1.5, 2.0), "any", 0, 0),
    "softplus": (lambda T, x: T.nn.functional.softplus(x), "any", 4, 8),
    "silu": (lambda T, x: T.nn.functional.silu(x), "any", 6, 16),
    "gelu": (lambda T, x: T.nn.functional.gelu(x), "small", 6, 16),
    "logsigmoid": (lambda T, x: T.nn.functional.logsigmoid(x), "any", 4, 8),
    "pow2.5": (lambda T, x: x ** 2.5, "any", 4, 8),
    "rpow": (lambda T, x: 2.0 ** x, "any", 4, 8),
}


# ops that are one backend primitive (or exact): the sign of a zero result is compared too
# (not relu: torch's relu(-0.0) is -0.0, numpy's maximum picks 0.0 -- a known nit)
_SIGNED_ZERO = {"neg", "abs", "exp", "expm1", "log1p", "sqrt", "sin", "tan", "tanh", "asin",
                "atan", "sinh", "erf", "floor", "ceil", "round", "trunc", "frac", "clamp",
                "square"}
EPS = {"float16": 2.0 ** -10, "float32": 2.0 ** -23, "float64": 2.0 ** -52}
_NAN_GRAD_GAP = {"logsigmoid", "softplus", "silu", "mish", "gelu"}


@pytest.mark.parametrize("name", sorted(UNARY))
@given(data=st.data())
@fuzz()
def test_unary_op(device, name, data):
    fn, kind, ulps, grad_ulps = UNARY[name]
    dtype = data.draw(st.sampled_from(_dtypes(device, IN_DTYPES)), label="dtype")
    x = data.draw(arrays(dtype, data.draw(SHAPES), kind), label="x")
    if name == "gelu":          # torch's gelu(inf) is nan (inf * 0.5 * (1 + erf(inf)) is inf)
        x = np.where(np.isinf(x), 0, x).astype(x.dtype)
    if name == "signbit" and dtype in FLOATS:   # known gap: the sign bit of a nan is not read
        x = np.where(np.isnan(x), 0, x).astype(x.dtype)
    half = dtype == "float16"
    eps = EPS.get(dtype, EPS["float32"])
    # derivatives like 1 - tanh(x)**2 cancel: an ulp of error in the forward value (OpenCL
    # allows a few) is an absolute error of a few eps in the gradient, whatever its size
    # known gap: composite activations give gradient 0 at a nan input where torch's fused
    # kernels give nan (the clamp inside them masks it); gradients compared without nan
    grad = not (name in _NAN_GRAD_GAP and np.isnan(x).any())
    check(data, device, _viewed(_as_view(data), fn), [x], grad=grad,
          ulps=ulps + (2 if half else 0), atol=32 * eps if name in ("erfc", "gelu") else 0.0,
          grad_ulps=grad_ulps + (8 if half else 0), grad_atol=32 * eps,
          signed_zero=name in _SIGNED_ZERO)


# name: (call, ulps, gradient ulps, integer-safe values: no zero divisor for int inputs)
BINARY = {
    "add": (lambda T, a, b: a + b, 0, 0),
    "sub": (lambda T, a, b: a - b, 0, 0),
    "mul": (lambda T, a, b: a * b, 0, 1),
    "div": (lambda T, a, b: a / b, 0, 4),
    "floor_divide": (lambda T, a, b: T.floor_divide(a, b), 0, 0),
    "remainder": (lambda T, a, b: T.remainder(a, b), 0, 0),
    "fmod": (lambda T, a, b: T.fmod(a, b), 0, 0),
    "pow": (lambda T, a, b: T.pow(a, b), 4, 8),
    "maximum": (lambda T, a, b: T.maximum(a, b), 0, 0),
    "minimum": (lambda T, a, b: T.minimum(a, b), 0, 0),
    "fmax": (lambda T, a, b: T.fmax(a, b), 0, 0),
    "atan2": (lambda T, a, b: T.atan2(a, b), 4, 8),
    "hypot": (lambda T, a, b: T.hypot(a, b), 4, 8),
    "copysign": (lambda T, a, b: T.copysign(a, b), 0, 0),
    "xlogy": (lambda T, a, b: T.xlogy(a, b), 4, 8),
    "logaddexp": (lambda T, a, b: T.logaddexp(a, b), 4, 8),
    "lt": (lambda T, a, b: a < b, 0, 0),
    "eq": (lambda T, a, b: a == b, 0, 0),
    "ne": (lambda T, a, b: a != b, 0, 0),
    "logical_and": (lambda T, a, b: T.logical_and(a, b), 0, 0),
    "bitwise_xor": (lambda T, a, b: a ^ b, 0, 0),
    "where": (lambda T, a, b: T.where(a > 0, a, b), 0, 0),
    "lerp": (lambda T, a, b: T.lerp(a, b, 0.3), 2, 2),
}


# composites of other frontend ops (no backward of their own): known gap, an empty output
# broadcast from a 0-d operand gives 0 * (nan partial) = nan there, torch 0
_COMPOSITE = {"hypot", "xlogy", "logaddexp", "copysign", "lerp"}
# torch's functions whose 'other' must be a Tensor (a scalar there is a TypeError in torch)
_TENSOR_ONLY = {"atan2", "fmax", "logical_and", "hypot", "logaddexp", "copysign"}


@st.composite
def _operand(draw, device, shape, kind, scalar_ok=True, uint8_ok=True):
    """A host array of a drawn dtype, or a Python scalar (bool, int or float)."""
    what = draw(st.sampled_from(["tensor", "tensor", "tensor"] + ["scalar"] * scalar_ok))
    if what == "scalar":
        # float32-representable floats: torch keeps a scalar exponent in double, so 0 ** 2e-313
        # is 0 there and 1 here (the float32 exponent flushes to 0); not a case worth a kernel
        return draw(st.one_of(st.booleans(), st.integers(-5, 5),
                              st.floats(-1e3, 1e3, width=32) | st.sampled_from(
                                  [0.0, -0.0, float("inf"), float("nan")])))
    dtypes = _dtypes(device, IN_DTYPES)
    if not uint8_ok:   # torch's atan2 backward computes in uint8: -1 is 255, 16 * 16 is 0
        dtypes = tuple(d for d in dtypes if d != "uint8")
    dtype = draw(st.sampled_from(dtypes))
    # integers within float16's range: a promoted 65520 is inf in half, and torch's backward
    # reads the integer operand unrounded
    return draw(arrays(dtype, shape, kind, lo=-1000, hi=1000))


def _half_with_python_float(v):
    """Known gap: a Python float that half cannot represent, with a float16 tensor: plugrad
    rounds it to half (the contract's rule, numpy's too); torch rounds it for +, -, * and
    comparisons but divides by its float value (half(512) / 512.25 is 0.9995 there)."""
    if isinstance(v, float) and not isinstance(v, bool) and math.isfinite(v):
        return float(np.float16(v)) if abs(v) < 65504 else v
    return v


def _half_with_wide_scalar_tensor(a, b):
    """Known gap: torch reads a 0-d float32/64 tensor operand of a float16 op at its own
    precision (a CPU scalar), plugrad rounds it to half first; give such operands values
    that half represents, so the two agree."""
    arrays_ = [v for v in (a, b) if isinstance(v, np.ndarray)]
    if not any(v.dtype == np.float16 and v.ndim for v in arrays_):
        return a, b

    def fix(v):
        if isinstance(v, np.ndarray) and v.ndim == 0 and v.dtype in (np.float32, np.float64):
            return v.astype(np.float16).astype(v.dtype)
        return v
    return fix(a), fix(b)


@pytest.mark.parametrize("name", sorted(BINARY))
@given(data=st.data())
@fuzz()
def test_binary_op(device, name, data):
    fn, ulps, grad_ulps = BINARY[name]
    shapes = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3,
                                                         min_side=0, max_side=3))
    kind = data.draw(st.sampled_from(["any", "moderate"]), label="values")
    a = data.draw(_operand(device, shapes.input_shapes[0], kind, name not in _TENSOR_ONLY,
                           name != "atan2"), label="a")
    b = data.draw(_operand(device, shapes.input_shapes[1], kind, name not in _TENSOR_ONLY,
                           name != "atan2"), label="b")
    if not isinstance(a, np.ndarray) and not isinstance(b, np.ndarray):
        a = np.asarray(a, dtype=np.float32)   # torch needs one tensor
    if name == "where" and not isinstance(a, np.ndarray):
        a, b = b, a
    if name == "copysign" and isinstance(b, np.ndarray) and b.dtype.kind == "f":
        b = np.where(np.isnan(b), 1, b).astype(b.dtype)   # known gap: a nan's sign bit
    a, b = _half_with_wide_scalar_tensor(a, b)
    if any(isinstance(v, np.ndarray) and v.dtype == np.float16 for v in (a, b)):
        a, b = _half_with_python_float(a), _half_with_python_float(b)
    if name == "remainder" and isinstance(b, np.ndarray) and b.dtype.kind == "f":
        # torch's remainder is a - b * floor(a / b): nan once a / b overflows (3 % 1e-308);
        # C's fmod (numpy, OpenCL) is exact -- divisors that tiny are left out
        b = np.where((b != 0) & (np.abs(b) < 1e-30), 1e-30, b).astype(b.dtype)
    if name == "pow" and isinstance(b, bool):
        b = int(b)    # torch short-cuts x ** False to ones without a dtype check
    if name in ("floor_divide", "remainder", "fmod") and device != "cpu":
        # integer division by zero raises only on the CPU (torch's CUDA kernels, like ours on
        # accelerators, do not read the divisor back): no zero integer divisors there
        if isinstance(b, np.ndarray) and b.dtype.kind in "biu":
            b = np.where(b == 0, 1, b).astype(b.dtype)
        elif isinstance(b, (bool, int)) and b == 0:
            b = 1
    half = any(isinstance(v, np.ndarray) and v.dtype == np.float16 for v in (a, b))
    # integer division by zero raises in both libraries; the exception types are compared
    # gradients where values are moderate: with subnormal divisors torch's (b * b) underflows
    # to 0 and its div backward gives nan where ours is finite
    # a broadcast operand's gradient is a sum (|upstream| <= 4), in another order than torch's
    n = int(np.prod(shapes.result_shape))
    check(data, device, _viewed(_as_view(data), fn), [a, b], grad=kind == "moderate",
          grad_atol=(n + 1) * 32 * EPS["float16" if half else "float32"],
          ulps=ulps + 2 * half,
          grad_ulps=grad_ulps + 8 * half, signed_zero=name in ("add", "sub", "mul", "neg"),
          empty_grads=name not in _COMPOSITE)


@pytest.mark.parametrize("name", ["add_", "mul_", "div_", "clamp_", "copy_", "masked_fill_"])
@given(data=st.data())
@fuzz()
def test_inplace_op(device, name, data):
    """In-place ops on a leaf's clone (and on a view of it): values, version, gradients."""
    shapes = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=1, min_dims=0, max_dims=3,
                                                         min_side=0, max_side=3))
    shape = shapes.result_shape
    dtype = data.draw(st.sampled_from([d for d in _dtypes(device, FLOATS)]))
    x = data.draw(arrays(dtype, shape, "moderate"))
    y = data.draw(arrays(dtype, shapes.input_shapes[0], "moderate"))
    on_view = data.draw(st.booleans()) and len(shape) >= 1

    def run(T, x, y):
        base = x.clone()
        target = base.transpose(0, -1) if on_view else base
        other = y.transpose(0, -1) if on_view and y.ndim == target.ndim else y
        if name == "add_":
            target.add_(other, alpha=0.5)
        elif name == "mul_":
            target.mul_(other)
        elif name == "div_":
            target.div_(other)
        elif name == "clamp_":
            target.clamp_(-1.0, 1.0)
        elif name == "copy_":
            target.copy_(other)
        else:
            target.masked_fill_(other > 0, -2.0)
        return base
    half = dtype == "float16"
    check(data, device, run, [x, y], ulps=2 * half, grad_ulps=8 * half, signed_zero=True)
