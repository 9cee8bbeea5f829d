"""Differential-test helpers: run the same case through real PyTorch and plugrad, compare.

``helper_test_op`` is tinygrad's ``helper_test_op`` for plugrad: seeded inputs, the same data
to torch and to plugrad (on the device under test); the forward pass compares shape, dtype,
values and the ``grad_fn`` name; the backward pass compares every input's gradient of a fixed
scalar loss, ``((out + 1) ** 2).mean()``. A failure says "forward pass" or "backward pass
tensor i".

A case function written once serves both libraries when it only uses tensor methods and
operators (``lambda x, y: x @ y``). Give a first parameter named ``T`` to receive the module
(``lambda T, x: T.logsumexp(x, 1)`` runs as ``torch.logsumexp`` and ``plugrad.logsumexp``).
"""
from __future__ import annotations

import inspect
import math

import numpy
import plugrad
import torch

FLOAT_DTYPES = ("float16", "float32", "float64")
INT_DTYPES = ("uint8", "int8", "int16", "int32", "int64")
ALL_DTYPES = ("bool",) + INT_DTYPES + FLOAT_DTYPES

inf, nan = math.inf, math.nan

# default comparison tolerances per dtype (forward values)
TOLERANCE = {"float16": (1e-3, 1e-3), "float32": (1e-6, 1e-5), "float64": (1e-12, 1e-10)}


def _call(fn, module, args):
    params = list(inspect.signature(fn).parameters)
    if params and params[0] == "T":
        return fn(module, *args)
    return fn(*args)


def make_data(shapes, dtypes="float32", low=-2.0, high=2.0, vals=None, seed=0):
    """One numpy array per shape (seeded); ``vals`` gives explicit values instead."""
    rng = numpy.random.default_rng(seed)
    if isinstance(dtypes, str):
        dtypes = [dtypes] * len(shapes if vals is None else vals)
    if vals is not None:
        return [numpy.asarray(v, dtype=d) for v, d in zip(vals, dtypes)]
    out = []
    for shape, dt in zip(shapes, dtypes):
        if dt == "bool":
            out.append(rng.random(shape) < 0.5)
        elif dt in INT_DTYPES:
            lo = max(int(low), 0) if dt == "uint8" else int(low)
            out.append(rng.integers(lo, max(int(high), lo + 1), shape).astype(dt))
        else:
            out.append(rng.uniform(low, high, shape).astype(dt))
    return out


def to_torch(arrays, requires_grad):
    return [torch.tensor(a, requires_grad=requires_grad and a.dtype.kind == "f") for a in arrays]


def to_plugrad(arrays, device, requires_grad):
    return [plugrad.tensor(a, device=device, requires_grad=requires_grad and a.dtype.kind == "f")
            for a in arrays]


def _flat(out):
    """Outputs as a list of tensors (tuples, namedtuples and lists are flattened)."""
    if isinstance(out, (tuple, list)):
        result = []
        for o in out:
            result.extend(_flat(o))
        return result
    return [out]


def compare(name, got, want, atol=None, rtol=None, check_dtype=True):
    """Assert plugrad tensor ``got`` equals torch tensor ``want`` in shape, dtype, values."""
    if not isinstance(want, torch.Tensor):
        assert not isinstance(got, plugrad.Tensor), f"{name}: torch gave {type(want)}, got Tensor"
        if isinstance(want, float) and math.isnan(want):
            assert math.isnan(got), f"{name}: {got!r} != nan"
        else:
            assert got == want, f"{name}: {got!r} != {want!r}"
        return
    assert isinstance(got, plugrad.Tensor), f"{name}: expected a Tensor, got {type(got)}"
    assert tuple(got.shape) == tuple(want.shape), \
        f"{name}: shape {tuple(got.shape)} != torch {tuple(want.shape)}"
    if check_dtype:
        assert repr(got.dtype) == str(want.dtype), \
            f"{name}: dtype {got.dtype!r} != torch {want.dtype}"
    g = got.detach().cpu().numpy()
    if want._is_zerotensor():          # torch's lazy zeros (e.g. sgn's gradient)
        want = torch.zeros(want.shape, dtype=want.dtype)
    w = want.detach().numpy()
    if w.dtype.kind in "biu" and g.dtype.kind in "biu":
        numpy.testing.assert_array_equal(g, w, err_msg=f"{name}: values differ")
        return
    default_atol, default_rtol = TOLERANCE.get(str(w.dtype), (1e-6, 1e-5))
    numpy.testing.assert_allclose(
        g.astype(numpy.float64), w.astype(numpy.float64),
        atol=default_atol if atol is None else atol,
        rtol=default_rtol if rtol is None else rtol, equal_nan=True,
        err_msg=f"{name}: values differ")


def _loss(T, outs):
    total = None
    for o in outs:
        if isinstance(o, (torch.Tensor, plugrad.Tensor)) and o.requires_grad:
            term = ((o + 1) ** 2).mean() if o.numel() else o.sum()
            total = term if total is None else total + term
    return total


def helper_test_op(device, shapes, torch_fn, plugrad_fn=None, *, vals=None, dtypes="float32",
                   low=-2.0, high=2.0, atol=None, rtol=None, grad_atol=None, grad_rtol=None,
                   forward_only=False, check_grad_fn=True, seed=0):
    """Run one case on torch and plugrad and compare forward and backward passes.

    :param shapes: input shapes (ignored when ``vals`` gives the data).
    :param vals: explicit input values (lists), e.g. ``[[inf, -inf, nan, 0, 1, -1]]``.
    :param dtypes: one dtype name, or one per input; floating inputs require grad.
    :param check_grad_fn: also compare ``out.grad_fn.name()`` with torch's.
    """
    plugrad_fn = plugrad_fn or torch_fn
    data = make_data(shapes, dtypes, low, high, vals, seed)
    grad = not forward_only
    tt = to_torch(data, grad)
    pt = to_plugrad(data, device, grad)
    want = _flat(_call(torch_fn, torch, tt))
    got = _flat(_call(plugrad_fn, plugrad, pt))
    assert len(got) == len(want), f"forward pass: {len(got)} outputs, torch has {len(want)}"
    for i, (g, w) in enumerate(zip(got, want)):
        compare(f"forward pass output {i}", g, w, atol, rtol)
        if isinstance(w, torch.Tensor):
            if isinstance(g, plugrad.Tensor) and g.device.type != "cpu":
                assert str(g.device).split(":")[0] == device.split(":")[0], \
                    f"forward pass output {i}: on {g.device}, expected {device}"
            assert g.requires_grad == w.requires_grad, \
                f"forward pass output {i}: requires_grad {g.requires_grad} != {w.requires_grad}"
            if check_grad_fn and w.grad_fn is not None:
                assert g.grad_fn is not None and g.grad_fn.name() == w.grad_fn.name(), \
                    f"forward pass output {i}: grad_fn " \
                    f"{g.grad_fn.name() if g.grad_fn else None} != {w.grad_fn.name()}"
    if forward_only:
        return got, want
    lt, lp = _loss(torch, want), _loss(plugrad, got)
    if lt is None:
        assert lp is None, "backward pass: plugrad output requires grad, torch's does not"
        return got, want
    lt.backward()
    lp.backward()
    for i, (p, t) in enumerate(zip(pt, tt)):
        if t.grad is None:
            assert p.grad is None, f"backward pass tensor {i}: torch has no grad, got one"
            continue
        assert p.grad is not None, f"backward pass tensor {i}: no gradient"
        compare(f"backward pass tensor {i}", p.grad, t.grad,
                grad_atol if grad_atol is not None else (atol or None),
                grad_rtol if grad_rtol is not None else (rtol or None))
    return got, want


def _snapshot(tensors):
    return [(t, t.detach().cpu().numpy().copy(), tuple(t.shape), t.dtype, t._version)
            for t in tensors if isinstance(t, plugrad.Tensor)]


def helper_test_exception(device, shapes, torch_fn, plugrad_fn=None, *, vals=None,
                          dtypes="float32", match=None, same_message=False,
                          requires_grad=False, check_unchanged=True, seed=0):
    """Both libraries raise the same exception type for the same bad call.

    ``match`` is a substring plugrad's message must contain; ``same_message`` compares the
    whole text with torch's (where torch's wording is the contract). Every plugrad input is
    checked to be unchanged afterwards (no half-done updates) unless ``check_unchanged`` is
    False (for cases whose set-up legitimately writes before the failing call).
    """
    plugrad_fn = plugrad_fn or torch_fn
    data = make_data(shapes, dtypes, vals=vals, seed=seed)
    tt = to_torch(data, requires_grad)
    pt = to_plugrad(data, device, requires_grad)
    before = _snapshot(pt)
    try:
        _call(torch_fn, torch, tt)
    except Exception as exc:  # noqa: BLE001 -- the type is what we compare
        want = exc
    else:
        raise AssertionError("torch did not raise: the case is wrong")
    try:
        _call(plugrad_fn, plugrad, pt)
    except Exception as exc:  # noqa: BLE001
        got = exc
    else:
        raise AssertionError(f"plugrad did not raise; torch raised {type(want).__name__}: {want}")
    assert type(got) is type(want) or isinstance(got, type(want)), \
        f"plugrad raised {type(got).__name__}({got}), torch raised {type(want).__name__}({want})"
    if match is not None:
        assert match in str(got), f"message {str(got)!r} does not contain {match!r}"
    if same_message:
        assert str(got) == str(want), f"message {str(got)!r} != torch's {str(want)!r}"
    for t, values, shape, dt, version in before if check_unchanged else ():
        assert tuple(t.shape) == shape and t.dtype == dt, "input changed shape/dtype"
        numpy.testing.assert_array_equal(t.detach().cpu().numpy(), values,
                                         err_msg="input modified by a failed call")
    return got, want


def load_digits():
    """scikit-learn's digits (real data, shipped in its wheel); the tests that train on them
    skip where scikit-learn is not installed (the GPU image), everything else still runs."""
    import pytest
    return pytest.importorskip("sklearn.datasets").load_digits()


def flushes_subnormals(device) -> bool:
    """True where float32 subnormals may come back as zeros: cuda, whose kernels CuPy always
    compiles with ``-ftz=true`` (cupy/cuda/compiler.py), as torch's CUDA build flushes too."""
    return plugrad.device(device).type == "cuda"


def defers_index_checks(device) -> bool:
    """True where an out-of-range index raises at the next read, not in the call: a device
    backend declaring the contract's ``checks_indices`` (opencl)."""
    from plugrad.plugins import get_registry
    kind = plugrad.device(device).type
    registry = get_registry()
    return not registry.backend(kind).spec.host_memory and registry.table(kind).checks_indices
