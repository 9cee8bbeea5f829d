"""dtypes against PyTorch: inference, promotion over every pair and operand kind, defaults."""
import itertools

import numpy
import plugrad
import pytest
import torch

from helpers import helper_test_op

NAMES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"]
SCALARS = [True, 2, 2.5]
KINDS = ["dim", "zero_dim"]


def _make(module, name, kind, device=None):
    shape = (2,) if kind == "dim" else ()
    dt = getattr(module, name)
    kwargs = {"device": device} if device is not None else {}
    return module.ones(shape, dtype=dt, **kwargs)


def test_dtype_objects():
    for name in NAMES + ["bfloat16"]:
        ours, theirs = getattr(plugrad, name), getattr(torch, name)
        assert repr(ours) == repr(theirs) == str(ours)
        assert ours.is_floating_point == theirs.is_floating_point
        assert ours.itemsize == theirs.itemsize
        assert ours.is_signed == theirs.is_signed
    for alias in ("half", "float", "double", "short", "int", "long"):
        assert repr(getattr(plugrad, alias)) == repr(getattr(torch, alias))


@pytest.mark.parametrize("a", NAMES + ["bfloat16"])
def test_promote_types(a):
    for b in NAMES + ["bfloat16"]:
        got = plugrad.promote_types(getattr(plugrad, a), getattr(plugrad, b))
        want = torch.promote_types(getattr(torch, a), getattr(torch, b))
        assert repr(got) == repr(want), (a, b)


@pytest.mark.parametrize("ka, kb", list(itertools.product(KINDS, KINDS)))
def test_result_type_tensor_pairs(device, ka, kb):
    """Every dtype pair x {dimensioned, 0-dim} on both sides, through result_type and +."""
    for a, b in itertools.product(NAMES, NAMES):
        ta, tb = _make(torch, a, ka), _make(torch, b, kb)
        pa, pb = _make(plugrad, a, ka, device), _make(plugrad, b, kb, device)
        want = torch.result_type(ta, tb)
        assert repr(plugrad.result_type(pa, pb)) == repr(want), (a, ka, b, kb)
        assert repr((pa + pb).dtype) == repr((ta + tb).dtype), (a, ka, b, kb)
        assert repr((pa * pb).dtype) == repr((ta * tb).dtype), (a, ka, b, kb)
        assert repr((pa == pb).dtype) == "torch.bool"


@pytest.mark.parametrize("kind", KINDS)
def test_result_type_with_python_scalars(device, kind):
    for a, s in itertools.product(NAMES, SCALARS):
        t, p = _make(torch, a, kind), _make(plugrad, a, kind, device)
        assert repr(plugrad.result_type(p, s)) == repr(torch.result_type(t, s)), (a, kind, s)
        assert repr(plugrad.result_type(s, p)) == repr(torch.result_type(s, t)), (a, kind, s)
        assert repr((p + s).dtype) == repr((t + s).dtype), (a, kind, s)
        assert repr((s * p).dtype) == repr((s * t).dtype), (a, kind, s)
        try:
            want = t - s
        except RuntimeError:
            with pytest.raises(RuntimeError, match="Subtraction"):
                p - s
        else:
            assert repr((p - s).dtype) == repr(want.dtype), (a, kind, s)


@pytest.mark.parametrize("default", ["float64", "float16"])
def test_default_dtype_changes_inference(default):
    torch.set_default_dtype(getattr(torch, default))
    plugrad.set_default_dtype(getattr(plugrad, default))
    try:
        assert repr(plugrad.get_default_dtype()) == repr(torch.get_default_dtype())
        for data in ([1.5, 2.0], 3.0, [[1, 2]], True, [1, 2.5]):
            assert repr(plugrad.tensor(data).dtype) == repr(torch.tensor(data).dtype), data
        for fn in ("zeros", "ones", "empty", "rand", "randn"):
            assert repr(getattr(plugrad, fn)(2).dtype) == repr(getattr(torch, fn)(2).dtype)
        assert repr(plugrad.arange(0.0, 2.0).dtype) == repr(torch.arange(0.0, 2.0).dtype)
        assert repr(plugrad.linspace(0, 1, 3).dtype) == repr(torch.linspace(0, 1, 3).dtype)
        assert repr(plugrad.full((2,), 1.5).dtype) == repr(torch.full((2,), 1.5).dtype)
        i = [1, 2]
        assert repr((plugrad.tensor(i) + 1.5).dtype) == repr((torch.tensor(i) + 1.5).dtype)
        assert repr((plugrad.tensor(i) / 2).dtype) == repr((torch.tensor(i) / 2).dtype)
        assert repr(plugrad.tensor(i).exp().dtype) == repr(torch.tensor(i).exp().dtype)
    finally:
        torch.set_default_dtype(torch.float32)
        plugrad.set_default_dtype(plugrad.float32)


def test_set_default_dtype_rejects_integers():
    with pytest.raises(TypeError):
        torch.set_default_dtype(torch.int64)
    with pytest.raises(TypeError):
        plugrad.set_default_dtype(plugrad.int64)
    assert plugrad.get_default_dtype() is plugrad.float32


@pytest.mark.parametrize("data", [
    [1, 2], [1.0, 2], [True, False], [[1, 2], [3, 4]], 5, 5.0, True, [], [[]], [1, True],
    [2 ** 40], numpy.float64(1.5), numpy.array([1, 2], dtype=numpy.int32),
    numpy.array([1.5], dtype=numpy.float16), numpy.array(True), numpy.int16(3),
    [numpy.float32(1.0), numpy.float32(2.0)],
])
def test_tensor_inference(device, data):
    want = torch.tensor(data)
    got = plugrad.tensor(data, device=device)
    assert repr(got.dtype) == repr(want.dtype)
    assert tuple(got.shape) == tuple(want.shape)
    numpy.testing.assert_array_equal(got.cpu().numpy(), want.numpy())


@pytest.mark.parametrize("args", [(5,), (1, 5), (0, 10, 3), (1.0, 5), (0, 1, 0.1), (5, 0, -1),
                                  (0.5, 3.5), (-3, 3, 2), (0, 0), (10, 0, -3), (1, 2.5, 0.5)])
def test_arange(device, args):
    want = torch.arange(*args)
    got = plugrad.arange(*args, device=device)
    assert repr(got.dtype) == repr(want.dtype)
    assert tuple(got.shape) == tuple(want.shape)
    numpy.testing.assert_array_equal(got.cpu().numpy(), want.numpy())


@pytest.mark.parametrize("args, kw", [
    ((0, 1, 5), {}), ((0, 1, 7), {}), ((-3, 7, 11), {}), ((0, 1, 1), {}), ((0, 1, 0), {}),
    ((1, 1e6, 33), {}), ((0.1, 0.7, 10), {}), ((0, 10, 4), {"dtype": "int64"}),
    ((0, 1, 9), {"dtype": "float64"}), ((3, -3, 8), {}), ((-1.7, 2.3, 100), {}),
])
def test_linspace(device, args, kw):
    kw_t = {k: getattr(torch, v) for k, v in kw.items()}
    kw_p = {k: getattr(plugrad, v) for k, v in kw.items()}
    want = torch.linspace(*args, **kw_t)
    got = plugrad.linspace(*args, **kw_p, device=device)
    assert repr(got.dtype) == repr(want.dtype)
    numpy.testing.assert_array_equal(got.cpu().numpy(), want.numpy())


def test_logspace_eye_full(device):
    numpy.testing.assert_allclose(plugrad.logspace(0, 2, 5, device=device).cpu().numpy(),
                                  torch.logspace(0, 2, 5).numpy(), rtol=1e-6)
    for args in ((3,), (2, 4), (0,)):
        got, want = plugrad.eye(*args, device=device), torch.eye(*args)
        assert repr(got.dtype) == repr(want.dtype)
        numpy.testing.assert_array_equal(got.cpu().numpy(), want.numpy())
    for value in (1, 1.5, True):
        got, want = plugrad.full((2, 2), value, device=device), torch.full((2, 2), value)
        assert repr(got.dtype) == repr(want.dtype)
        numpy.testing.assert_array_equal(got.cpu().numpy(), want.numpy())


@pytest.mark.parametrize("name", ["zeros", "ones", "empty", "rand", "randn"])
def test_factories_and_like(device, name):
    for dt in ("float32", "float64", "float16"):
        got = getattr(plugrad, name)(2, 3, dtype=getattr(plugrad, dt), device=device)
        want = getattr(torch, name)(2, 3, dtype=getattr(torch, dt))
        assert repr(got.dtype) == repr(want.dtype) and got.shape == want.shape
        assert got.device.type == device.split(":")[0]
        like = getattr(plugrad, name + "_like")(got)
        assert like.dtype is got.dtype and like.shape == got.shape and like.device == got.device
    assert getattr(plugrad, name)((2, 3)).shape == (2, 3)
    assert getattr(plugrad, name)([2, 3]).shape == (2, 3)
    assert getattr(plugrad, name)(plugrad.Size([2, 3])).shape == (2, 3)
    assert getattr(plugrad, name)(()).shape == ()
    t = getattr(plugrad, name)(2, requires_grad=True, device=device)
    assert t.requires_grad and t.is_leaf


def test_new_factories(device):
    base = plugrad.ones(2, dtype=plugrad.float64, device=device)
    tbase = torch.ones(2, dtype=torch.float64)
    for name, args in (("new_zeros", (3,)), ("new_ones", ((2, 2),)), ("new_full", ((2,), 7)),
                       ("new_empty", (4,)), ("new_tensor", ([1, 2],))):
        got, want = getattr(base, name)(*args), getattr(tbase, name)(*args)
        assert repr(got.dtype) == repr(want.dtype) and got.shape == want.shape
        assert got.device == base.device
        if name != "new_empty":
            numpy.testing.assert_array_equal(got.cpu().numpy(), want.numpy())
    assert base.new_zeros(2, dtype=plugrad.int32).dtype is plugrad.int32


@pytest.mark.parametrize("src", NAMES)
def test_conversions_all_pairs(device, src):
    """x.to(dtype) for every pair: values as torch converts them (truncation, wrap, bool)."""
    vals = {"bool": [True, False, True],
            "uint8": [0, 7, 255], "int8": [-128, 5, 127], "int16": [-300, 0, 300],
            "int32": [-70000, 3, 70000], "int64": [-5, 0, 2 ** 40],
            "float16": [-2.5, 0.0, 3.75], "float32": [-2.7, 0.5, 100.25],
            "float64": [-1e3 - 0.5, 0.25, 2.5]}[src]
    t = torch.tensor(vals, dtype=getattr(torch, src))
    p = plugrad.tensor(vals, dtype=getattr(plugrad, src), device=device)
    for dst in NAMES:
        if src.startswith("float") and dst in ("uint8", "int8", "int16", "int32") \
                and src != "float16":
            continue  # out-of-range float -> small int is undefined behaviour in C
        if src in ("int32", "int64") and dst in ("uint8", "int8", "int16", "float16"):
            continue  # torch wraps/overflows like C; numpy matches but we don't promise it
        want = t.to(getattr(torch, dst))
        got = p.to(getattr(plugrad, dst))
        assert repr(got.dtype) == repr(want.dtype)
        numpy.testing.assert_array_equal(got.cpu().numpy(), want.numpy(), err_msg=f"{src}->{dst}")


def test_reduction_dtypes(device):
    for dt in NAMES:
        helper_test_op(device, [(2, 3)], lambda x: x.sum(), dtypes=dt, low=0, high=3,
                       forward_only=True)
        helper_test_op(device, [(2, 3)], lambda x: x.prod(1), dtypes=dt, low=0, high=3,
                       forward_only=True)
        helper_test_op(device, [(2, 3)], lambda x: x.cumsum(0), dtypes=dt, low=0, high=3,
                       forward_only=True)
        helper_test_op(device, [(2, 3)], lambda x: x.max(), dtypes=dt, low=0, high=3,
                       forward_only=True)
        if dt != "bool":    # torch: "argmax(): does not support bool input"
            helper_test_op(device, [(2, 3)], lambda x: x.argmax(1), dtypes=dt, low=0, high=3,
                           forward_only=True)


def test_float_functions_of_integers(device):
    for dt in ("bool", "uint8", "int32", "int64"):
        for fn in (lambda x: x / 2, lambda x: x.sqrt(), lambda x: x.exp(), lambda x: x.sigmoid(),
                   lambda T, x: T.atan2(x, x), lambda x: x.true_divide(x + 1)):
            helper_test_op(device, [(2, 3)], fn, dtypes=dt, low=0, high=4, forward_only=True)
        helper_test_op(device, [(2, 3)], lambda x: x // 2, dtypes=dt if dt != "bool" else "int8",
                       low=0, high=4, forward_only=True)


def test_inplace_promotion(device):
    """In-place ops keep self's dtype; a result that can't be cast back raises (as torch)."""
    for a, b in itertools.product(NAMES, NAMES):
        ta, tb = torch.ones(2, dtype=getattr(torch, a)), torch.ones(2, dtype=getattr(torch, b))
        pa = plugrad.ones(2, dtype=getattr(plugrad, a), device=device)
        pb = plugrad.ones(2, dtype=getattr(plugrad, b), device=device)
        try:
            ta.add_(tb)
        except RuntimeError:
            with pytest.raises(RuntimeError, match="can't be cast"):
                pa.add_(pb)
            numpy.testing.assert_array_equal(pa.cpu().numpy(), numpy.ones(2))
            continue
        pa.add_(pb)
        assert pa.dtype is getattr(plugrad, a)
        numpy.testing.assert_array_equal(pa.cpu().numpy(), ta.numpy())


def test_can_cast():
    for a, b in itertools.product(NAMES, NAMES):
        assert plugrad.can_cast(getattr(plugrad, a), getattr(plugrad, b)) == \
            torch.can_cast(getattr(torch, a), getattr(torch, b)), (a, b)


def test_dtype_introspection(device):
    x = plugrad.ones(2, dtype=plugrad.float16, device=device)
    assert x.is_floating_point() and not x.is_complex()
    assert x.element_size() == 2 and x.itemsize == 2 and x.nbytes == 4
    assert plugrad.is_floating_point(x) and not plugrad.is_floating_point(x.long())
    assert x.long().type() == ("torch.LongTensor" if device == "cpu" else
                               f"torch.{device}.LongTensor")
    assert plugrad.tensor([1.0]).double().type() == torch.tensor([1.0]).double().type()
