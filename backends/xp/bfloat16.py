"""bfloat16 on the cpu backend: ml_dtypes' numpy dtype for storage, float32 for arithmetic.

numpy has no bfloat16; ml_dtypes (a small numpy extension) registers one whose elementwise
ufuncs convert each operand to float32, compute, and round to nearest even -- what torch's CPU
bfloat16 kernels do. What ml_dtypes does not do as torch does is wrapped here:

* reductions, scans, matmul, convolutions, softmax and the fused kernels would accumulate in
  bfloat16 (or return float32): they run on float32 copies and round once at the end;
* numpy promotes a bfloat16 array and a Python float to float32: binary ops round the scalar
  to bfloat16 first, or keep it in float32 and round the result, per op as torch does.

Without ml_dtypes installed the cpu backend simply has no bfloat16 (``supports`` says so).
"""
from __future__ import annotations

import functools
import inspect

import numpy


try:                                    # ml_dtypes >= 0.5 imports in ~5 ms (0.7.0: ~1 s)
    import ml_dtypes
except ImportError:                     # pragma: no cover - optional dependency
    ml_dtypes = None

# fused and accumulating kernels that run on float32 copies of bfloat16 buffers
# (sum, prod and the scans accumulate in float32 themselves: reduce.py); sort because numpy's
# sort of ml_dtypes' bfloat16 leaves NaNs where they were (torch puts them last)
FLOAT32_OPS = ("floordiv", "matmul", "softmax", "log_softmax",
               "addmm_act", "cross_entropy", "cross_entropy_backward", "conv2d",
               "conv2d_input_grad", "conv2d_weight_grad", "erf", "sigmoid", "sort")


def numpy_bfloat16(xp):
    """The bfloat16 dtype of array module ``xp`` (numpy with ml_dtypes only), else None."""
    if ml_dtypes is None or xp.__name__ != "numpy":
        return None
    return xp.dtype(ml_dtypes.bfloat16)


def _widen(value, bf16, f32):
    if getattr(value, "dtype", None) is bf16:
        return value.astype(f32)
    return value


def _narrow(value, bf16, f32):
    if getattr(value, "dtype", None) is f32:
        return value.astype(bf16)
    if type(value) is tuple:
        return tuple(_narrow(v, bf16, f32) for v in value)
    return value


def in_float32(fn, bf16, f32):
    """``fn`` computing bfloat16 operands in float32 and rounding its float32 results once.

    Other dtypes pass straight through after one check of the first operand (every wrapped
    kernel's first argument has the op's dtype). The wrapper is compiled with ``fn``'s own
    parameters, as :func:`.quiet.quiet` is: packing ``*args, **kwargs`` cost ~0.3 us a call.
    """
    def slow(*args, out=None, **kwargs):
        result = _narrow(fn(*(_widen(a, bf16, f32) for a in args), **kwargs), bf16, f32)
        if out is None:
            return result
        out[...] = result
        return out

    parameters = list(inspect.signature(fn).parameters.values())
    simple = parameters and all(p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and
                                not p.name.startswith("_") for p in parameters)
    if not simple:                                       # pragma: no cover - no such kernel
        def generic(*args, **kwargs):
            if getattr(args[0], "dtype", None) is bf16:
                return slow(*args, **kwargs)
            return fn(*args, **kwargs)
        return functools.wraps(fn)(generic)
    params, passed, defaults = [], [], {}
    for p in parameters:
        name = p.name
        if p.default is not p.empty:
            defaults[f"_default_{name}"] = p.default
            name += f"=_default_{name}"
        if p.kind is p.KEYWORD_ONLY and "*" not in params:
            params.append("*")
        params.append(name)
        passed.append(p.name if p.kind is p.POSITIONAL_OR_KEYWORD else f"{p.name}={p.name}")
    first, args = parameters[0].name, ", ".join(passed)
    source = (f"def op({', '.join(params)}):\n"
              f"    if {first}.__class__ is _ndarray and {first}.dtype is _bf16:\n"
              f"        return _slow({args})\n"
              f"    return _fn({args})\n")
    namespace = dict(defaults, _ndarray=numpy.ndarray, _bf16=bf16, _slow=slow, _fn=fn)
    exec(source, namespace)                              # noqa: S102 - built from a signature
    return functools.wraps(fn)(namespace["op"])


# binary ufuncs whose Python float second operand torch keeps in float32 (its CPU kernels read
# ``original_scalar_value<float>``); the others (add, sub, remainder, pow, atan2, maximum,
# comparisons...) round it to bfloat16 first. Checked op by op against torch 2.13.
KEEP_SCALAR = frozenset({"multiply", "divide", "floor_divide"})


def scalar_rule(ufunc, bf16, call_quietly):
    """``rule(a, b, out)`` for a binary ``ufunc`` called with a Python float operand: the
    result when the other operand is a bfloat16 array, else None (the plain op goes on).

    numpy promotes a bfloat16 array with a Python float to float32; torch keeps bfloat16,
    rounding the scalar first (or, for ``KEEP_SCALAR``, computing with it in float32 and
    rounding the result). Quiet: rounding the scalar may overflow.
    """
    keep = ufunc.__name__ in KEEP_SCALAR
    commutes = ufunc.__name__ == "multiply"
    power = ufunc.__name__ == "power"
    f32 = numpy.dtype("float32")
    to_bf16 = bf16.type

    def compute(a, b, out):
        if b.__class__ is float:
            if power:
                special = _power_special(a, float(to_bf16(b)), bf16, f32)
                if special is not None:
                    return _finish(special, out)
            if keep:
                return _finish(ufunc(a.astype(f32), f32.type(b)).astype(bf16), out)
            return _finish(ufunc(a, to_bf16(b)), out)
        if keep and commutes:
            return _finish(ufunc(f32.type(a), b.astype(f32)).astype(bf16), out)
        return _finish(ufunc(to_bf16(a), b), out)

    f16 = numpy.dtype("float16")

    def half_keep(a, b, out):
        # float16 with mul/div/floor_divide: torch keeps the scalar in float32 too (numpy
        # would round it to float16 first); other ops round it, as numpy does
        if b.__class__ is float:
            return _finish(ufunc(a.astype(f32), f32.type(b)).astype(f16), out)
        return _finish(ufunc(f32.type(a), b.astype(f32)).astype(f16), out)

    def rule(a, b, out):
        dtype = getattr(a if b.__class__ is float else b, "dtype", None)
        if dtype is bf16:
            return call_quietly(compute, a, b, out)
        if dtype is f16 and keep and (b.__class__ is float or commutes):
            return call_quietly(half_keep, a, b, out)
        return None
    return rule


def _power_special(a, e, bf16, f32):
    """torch's pow_tensor_scalar for BFloat16: these exponents run as products in bfloat16
    arithmetic (each product rounded) or as float32 sqrt/rsqrt/reciprocal; None otherwise."""
    if e == 3.0:
        return (a * a) * a
    if e == -2.0:
        return numpy.reciprocal(a * a)
    if e == 0.5:
        return numpy.sqrt(a)
    if e == -0.5:
        return (1 / numpy.sqrt(a.astype(f32))).astype(bf16)
    if e == -1.0:
        return numpy.reciprocal(a)
    return None


def _finish(result, out):
    if out is None or out is ...:
        return result
    out[...] = result
    return out


def scalar_rounded(fn, bf16):
    """``where``-like op ``fn`` whose Python float operands become bfloat16 next to a bfloat16
    array (numpy would promote the result to float64)."""
    to_bf16 = bf16.type

    @functools.wraps(fn)
    def op(cond, a, b, out=None):
        if a.__class__ is float and getattr(b, "dtype", None) is bf16:
            a = to_bf16(a)
        elif b.__class__ is float and getattr(a, "dtype", None) is bf16:
            b = to_bf16(b)
        return fn(cond, a, b, out=out)
    return op


def install(backend, bf16):
    """Wrap ``backend``'s fused and accumulating kernels for bfloat16 buffers."""
    f32 = backend.xp.dtype("float32")
    for name in FLOAT32_OPS:
        kernel = getattr(backend, name, None)
        if kernel is not None:          # a subclass may leave an optional kernel out
            setattr(backend, name, in_float32(kernel, bf16, f32))
    backend.where = scalar_rounded(backend.where, bf16)
