"""``plugrad.testing.assert_close``: torch.testing.assert_close for plugrad tensors.

Same defaults (rtol/atol by dtype, exact for integers and bools), same checks (shape, dtype,
device) and the same failure messages, so a test written against torch reads the same here.
Sequences and mappings are compared item by item; the failing item is named.
"""
from __future__ import annotations

import math

import numpy

# torch's default (rtol, atol) per dtype; integer and bool dtypes compare exactly
_DEFAULT_TOL = {"float16": (1e-3, 1e-5), "bfloat16": (1.6e-2, 1e-5),
                "float32": (1.3e-6, 1e-5), "float64": (1e-7, 1e-7)}


def assert_close(actual, expected, *, allow_subclasses=True, rtol=None, atol=None,
                 equal_nan=False, check_device=True, check_dtype=True, check_layout=True,
                 check_stride=False, msg=None):
    """Raise AssertionError unless ``actual`` and ``expected`` are close, elementwise
    ``|actual - expected| <= atol + rtol * |expected|`` (torch.testing.assert_close).

    Tensors must also agree in shape, and in dtype and device unless ``check_dtype`` /
    ``check_device`` is False; Python numbers are compared as float64 scalars. ``rtol`` and
    ``atol`` go together: give both or neither (the defaults depend on the dtype).
    """
    if (rtol is None) != (atol is None):
        raise ValueError(f"Both 'rtol' and 'atol' must be either specified or omitted, but got "
                         f"no {'rtol' if rtol is None else 'atol'}.")
    _compare(actual, expected, rtol, atol, equal_nan, check_device, check_dtype, msg, ())


def _compare(actual, expected, rtol, atol, equal_nan, check_device, check_dtype, msg, path):
    from ._tensor import Tensor
    if isinstance(actual, (list, tuple)) and isinstance(expected, (list, tuple)):
        if len(actual) != len(expected):
            _fail(f"The length of the sequences mismatch: {len(actual)} != {len(expected)}",
                  msg, path)
        for i, (a, e) in enumerate(zip(actual, expected)):
            _compare(a, e, rtol, atol, equal_nan, check_device, check_dtype, msg, path + (i,))
        return
    if isinstance(actual, dict) and isinstance(expected, dict):
        if set(actual) != set(expected):
            _fail(f"The keys of the mappings do not match: {sorted(map(repr, actual))} != "
                  f"{sorted(map(repr, expected))}", msg, path)
        for key in expected:
            _compare(actual[key], expected[key], rtol, atol, equal_nan, check_device,
                     check_dtype, msg, path + (key,))
        return
    if isinstance(actual, Tensor) or isinstance(expected, Tensor):
        if not (isinstance(actual, Tensor) and isinstance(expected, Tensor)):
            other = expected if isinstance(actual, Tensor) else actual
            _fail(f"Comparing a Tensor and a {type(other).__name__} is not supported", msg,
                  path, TypeError)
        _tensors(actual, expected, rtol, atol, equal_nan, check_device, check_dtype, msg, path)
        return
    if isinstance(actual, (bool, int, float)) and isinstance(expected, (bool, int, float)):
        _scalars(actual, expected, rtol, atol, equal_nan, msg, path)
        return
    if actual != expected:
        _fail(f"Objects are not equal: {actual!r} != {expected!r}", msg, path)


def _tensors(actual, expected, rtol, atol, equal_nan, check_device, check_dtype, msg, path):
    for attr, a, e in (("shape", actual.shape, expected.shape),
                       ("device", actual.device, expected.device) if check_device else (None,) * 3,
                       ("dtype", actual.dtype, expected.dtype) if check_dtype else (None,) * 3):
        if attr is not None and a != e:
            _fail(f"The values for attribute '{attr}' do not match: {a} != {e}.", msg, path)
    dtype = expected.dtype.name if hasattr(expected.dtype, "name") else str(expected.dtype)
    if rtol is None:
        rtol, atol = _DEFAULT_TOL.get(dtype, (0.0, 0.0))
    got = actual.detach().cpu().numpy().astype(numpy.float64)
    want = expected.detach().cpu().numpy().astype(numpy.float64)
    with numpy.errstate(all="ignore"):
        close = numpy.isclose(got, want, rtol=rtol, atol=atol, equal_nan=equal_nan) | (got == want)
    if close.all():
        return
    exact = rtol == 0 and atol == 0
    with numpy.errstate(all="ignore"):
        diff = numpy.abs(got - want)
        rel = diff / numpy.abs(want)
    if close.ndim == 0:       # torch reports a 0-d tensor as a scalar
        a, e = actual.item(), expected.item()      # Python numbers: float64 differences
        abs_text = str(abs(a - e)) if isinstance(a, int) else repr(float(diff))
        _fail(f"Scalars are not {'equal' if exact else 'close'}!\n\nExpected {e} but got {a}.\n"
              f"Absolute difference: {abs_text}{'' if exact else f' (up to {atol} allowed)'}\n"
              f"Relative difference: {float(rel)!r}"
              f"{'' if exact else f' (up to {rtol} allowed)'}", msg, path)
    n_bad, total = int((~close).sum()), close.size
    lines = [f"Tensor-likes are not {'equal' if exact else 'close'}!", "",
             f"Mismatched elements: {n_bad} / {total} ({100 * n_bad / total:.1f}%)"]
    for name, d, allowed in (("absolute", diff, atol), ("relative", rel, rtol)):
        masked = numpy.where(close, -1.0, numpy.where(numpy.isnan(d), numpy.inf, d))
        where = numpy.unravel_index(int(numpy.argmax(masked)), close.shape)
        index = tuple(int(k) for k in where)
        bound = "" if exact else f" (up to {allowed} allowed)"
        lines.append(f"Greatest {name} difference: {_number(float(d[index]), dtype, name)} "
                     f"at index {index}{bound}")
    _fail("\n".join(lines), msg, path)


def _number(value, dtype, kind):
    """The difference as torch prints it: computed in the tensor's dtype (float32 differences
    print as float32 values), integer absolute differences as integers."""
    if math.isnan(value) or math.isinf(value):
        return "nan" if math.isnan(value) else "inf"
    if dtype in ("bool", "uint8", "int8", "int16", "int32", "int64"):
        return str(int(value)) if kind == "absolute" else repr(float(numpy.float32(value)))
    return repr(float(numpy.float32(value))) if dtype in ("float32", "float16", "bfloat16") \
        else repr(value)


def _scalars(actual, expected, rtol, atol, equal_nan, msg, path):
    if rtol is None:
        rtol, atol = (1e-7, 1e-7) if isinstance(expected, float) or isinstance(actual, float) \
            else (0.0, 0.0)
    a, e = float(actual), float(expected)
    if a == e or (equal_nan and math.isnan(a) and math.isnan(e)) or \
            abs(a - e) <= atol + rtol * abs(e):
        return
    _fail(f"Scalars are not close!\n\nExpected {expected} but got {actual}.\n"
          f"Absolute difference: {abs(a - e)} (up to {atol} allowed)\n"
          f"Relative difference: {abs(a - e) / abs(e) if e else math.inf} "
          f"(up to {rtol} allowed)", msg, path)


def _fail(text, msg, path, exc=AssertionError):
    if msg is not None:
        text = msg(text) if callable(msg) else msg
    elif path:
        text += "\n\nThe failure occurred for item " + "".join(f"[{p!r}]" for p in path)
    raise exc(text)
