"""corelib/_formatting.py against torch: every expected string is torch's own repr."""
import warnings
import zlib

import numpy
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from plugrad import _formatting as fmt

NUMPY_DTYPES = ["float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8",
                "bool"]
DTYPES = NUMPY_DTYPES + ["bfloat16"]
FLOATS = ["float16", "float32", "float64", "bfloat16"]
SPECIALS = [0.0, -0.0, 1.0, -1.0, 0.5, float("nan"), float("inf"), float("-inf"), 1e-8, 1e-4,
            9.99995, 99999.5, 1e8, 1e10, 123456789.0, 65504.0, 1e-30, 1e30, 3e-45, 1e300]
# each regime is a way values go wrong: mode switches (int/fixed/sci), widths, rounding, specials
REGIMES = ["normal", "integral", "tiny", "huge", "wide", "specials", "mixed", "rounding"]
SHAPES = [(), (0,), (1,), (7,), (13,), (80,), (200,), (0, 3), (3, 0), (2, 0, 4), (1, 1), (3, 4),
          (2, 3, 4), (2, 1, 3, 2), (1000,), (1001,), (10, 100), (100, 10), (11, 11, 11),
          (3, 400), (2, 2, 300)]
OPTIONS = [dict(precision=2), dict(precision=0), dict(precision=10), dict(threshold=5),
           dict(threshold=0), dict(edgeitems=1), dict(edgeitems=0), dict(edgeitems=0, threshold=5),
           dict(linewidth=40), dict(linewidth=200), dict(linewidth=5), dict(profile="short"),
           dict(profile="full"), dict(profile="short", precision=6), dict(profile="nonsense"),
           dict(sci_mode=True), dict(sci_mode=False), dict(sci_mode=True, precision=2),
           dict(sci_mode=False, precision=1, linewidth=50, edgeitems=2, threshold=20)]


@pytest.fixture(autouse=True)
def _restore_defaults():
    """Every test leaves torch and plugrad printing as they do out of the box."""
    yield
    torch.set_printoptions(profile="default")
    fmt.set_printoptions(profile="default")
    torch.set_default_dtype(torch.float32)


def make_values(rng, shape, dtype, regime):
    """A numpy array of ``dtype`` (float32 for bfloat16) drawn from one edge regime."""
    if dtype == "bool":
        return numpy.asarray(rng.random(shape) < (0.5 if regime != "specials" else 1.0))
    if dtype not in FLOATS:
        info = numpy.iinfo(dtype)
        high = min({"tiny": 2, "normal": 100, "integral": 1000}.get(regime, info.max), info.max)
        low = max(int(info.min), -int(high))
        return numpy.asarray(rng.integers(low, high, shape, endpoint=True, dtype=dtype))
    n = int(numpy.prod(shape))
    if regime == "normal":
        x = rng.standard_normal(n) * 10.0 ** rng.uniform(-3, 6)
    elif regime == "integral":
        x = numpy.round(rng.standard_normal(n) * 10.0 ** rng.integers(0, 10))
    elif regime == "tiny":
        x = rng.standard_normal(n) * 10.0 ** rng.uniform(-40, -4)
    elif regime == "huge":
        x = rng.standard_normal(n) * 10.0 ** rng.uniform(4, 40)
    elif regime == "wide":
        x = rng.choice([-1.0, 1.0], n) * 10.0 ** rng.uniform(-30, 30, n)
    elif regime == "specials":
        x = rng.choice(SPECIALS, n)
    elif regime == "mixed":
        x = rng.standard_normal(n) * 50
        pick = rng.random(n) < 0.3
        x[pick] = rng.choice(SPECIALS[:8], int(pick.sum()))
    else:  # "rounding": values that sit on a rounding edge at precision 4
        x = rng.choice([0.99995, 9.99995, 0.00015, 0.12345, 2.5, 1e-4, 1e-5], n) * rng.choice([1, -1], n)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # float16 overflow to inf is intended
        return x.astype(numpy.float32 if dtype == "bfloat16" else dtype).reshape(shape)


def torch_and_host(values, dtype):
    """The torch tensor holding ``values`` as ``dtype`` and the host array plugrad would pass."""
    if dtype == "bfloat16":
        t = torch.from_numpy(numpy.array(values, dtype=numpy.float32)).to(torch.bfloat16)
        return t, t.float().numpy()
    return torch.from_numpy(numpy.array(values, dtype=dtype)), values


def dtype_name(dtype):
    return str(dtype).removeprefix("torch.")


def assert_repr(t, host, **meta):
    expected = repr(t)
    got = fmt.format_tensor(host, dtype=dtype_name(t.dtype),
                            default_dtype=dtype_name(torch.get_default_dtype()), **meta)
    assert got == expected, f"\nplugrad:\n{got}\ntorch:\n{expected}"


# ------------------------------------------------------------------------------- plain values
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("dtype", DTYPES)
def test_shapes_dtypes_regimes(dtype, shape):
    rng = numpy.random.default_rng(zlib.crc32(repr((dtype, shape)).encode()))
    for regime in REGIMES:
        t, host = torch_and_host(make_values(rng, shape, dtype, regime), dtype)
        assert_repr(t, host)


@pytest.mark.parametrize("dtype", FLOATS)
def test_hidden_values_do_not_set_the_format(dtype):
    """Summarized-away elements (huge, fractional, nan) must not change mode or width."""
    for hidden in (1e20, 0.5, float("nan"), -1e-9):
        values = numpy.ones((50, 50), dtype=numpy.float32 if dtype == "bfloat16" else dtype)
        with numpy.errstate(over="ignore"):  # 1e20 is inf in float16: hidden all the same
            values[25, 25] = hidden
            values[:, 25] = hidden
        assert_repr(*torch_and_host(values, dtype))
        assert_repr(*torch_and_host(values.reshape(-1), dtype))


@pytest.mark.parametrize("dtype", NUMPY_DTYPES)
def test_dtype_extremes(dtype):
    if dtype == "bool":
        values = numpy.array([True, False, True])
    elif dtype.startswith("float"):
        info = numpy.finfo(dtype)
        values = numpy.array([info.max, -info.max, info.tiny, info.smallest_subnormal, info.eps,
                              1.0, -0.0], dtype=dtype)
    else:
        info = numpy.iinfo(dtype)
        values = numpy.array([info.min, info.max, 0, -1 if info.min else 1], dtype=dtype)
    for shape in [(values.size,), (1, values.size)]:
        assert_repr(*torch_and_host(values.reshape(shape), dtype))
    for v in values:  # 0-d tensors
        assert_repr(*torch_and_host(numpy.array(v), dtype))


@st.composite
def arrays(draw):
    dtype = draw(st.sampled_from(DTYPES))
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=6))
    if dtype == "bool" or dtype not in FLOATS:
        values = draw(hnp.arrays(numpy.dtype(dtype), shape))
    else:
        elements = st.one_of(st.floats(), st.sampled_from(SPECIALS),
                             st.integers(-10 ** 6, 10 ** 6).map(float),
                             st.floats(-10, 10), st.floats(-1e-3, 1e-3))
        values = draw(hnp.arrays(numpy.float64, shape, elements=elements))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            values = values.astype(numpy.float32 if dtype == "bfloat16" else dtype)
    return dtype, values


@settings(max_examples=400, deadline=None, database=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(arrays())
def test_random_arrays(case):
    dtype, values = case
    assert_repr(*torch_and_host(values, dtype))


# ---------------------------------------------------------------------------------- metadata
def _grad_fn_cases():
    rng = numpy.random.default_rng(7)
    for shape in [(), (3,), (9,), (2, 5), (4, 7), (1, 13)]:
        for scale in (1.0, 1e5, 1e-6):
            yield numpy.array(rng.standard_normal(shape) * scale, dtype=numpy.float32)


@pytest.mark.parametrize("op", ["mul", "exp", "sum", "linear", "leaf"])
def test_grad_fn_and_requires_grad(op):
    for values in _grad_fn_cases():
        x = torch.from_numpy(values).requires_grad_()
        if op == "linear":
            if x.dim() != 2:
                continue
            out = torch.nn.functional.linear(x, torch.ones(3, x.shape[1]), torch.zeros(3))
        else:
            out = {"mul": lambda: x * 2, "exp": x.exp, "sum": x.sum, "leaf": lambda: x}[op]()
        grad_fn = None if out.grad_fn is None else type(out.grad_fn).__name__
        assert_repr(out, out.detach().numpy(), grad_fn=grad_fn, requires_grad=out.requires_grad)


def _on_device(device, tensor, requires_grad=False):
    """A real CPU tensor whose ``device`` says ``device``: torch's own _str_intern then prints
    exactly what a tensor on that device would. The subclass is named ``tensor`` so the
    prefix stays "tensor(", and its torch-function hook is off so ops inside repr stay plain."""
    cls = type("tensor", (torch.Tensor,), {
        "__torch_function__": torch._C._disabled_torch_function_impl,
        "device": property(lambda self: torch.device(device))})
    return torch.Tensor._make_subclass(cls, tensor, requires_grad)


@pytest.mark.parametrize("device", ["cuda:0", "cuda:1", "xpu:0", "mps:0"])
@pytest.mark.parametrize("dtype", ["float32", "int32", "int64", "bool", "float64"])
def test_device_suffix(device, dtype):
    rng = numpy.random.default_rng(3)
    for shape in [(), (0,), (2, 0), (4,), (3, 9), (12,), (2000,)]:
        values = make_values(rng, shape, dtype, "normal")
        for requires_grad in ([False, True] if dtype.startswith("float") else [False]):
            t = _on_device(device, torch.from_numpy(values), requires_grad)
            assert_repr(t, values, device=device, requires_grad=requires_grad)


def test_default_device_is_not_printed(monkeypatch):
    """With another default device type, torch prints device='cpu'; so must we."""
    values = numpy.arange(6.0, dtype=numpy.float32).reshape(2, 3)
    assert fmt.format_tensor(values, dtype="float32", device="cpu") == repr(
        torch.from_numpy(values))
    monkeypatch.setattr(torch._C, "_get_default_device", lambda: "meta")
    assert_repr(torch.from_numpy(values), values, device="cpu", default_device="meta")


def test_subclass_prefix():
    cls = type("MyTensor", (torch.Tensor,),
               {"__torch_function__": torch._C._disabled_torch_function_impl})
    rng = numpy.random.default_rng(5)
    for shape in [(), (3,), (3, 20), (2, 2, 30)]:
        values = rng.standard_normal(shape).astype(numpy.float32)
        assert_repr(torch.from_numpy(values).as_subclass(cls), values, prefix="MyTensor(")


# ------------------------------------------------------------------------------ default dtype
@pytest.mark.parametrize("default", [torch.float64, torch.float16, torch.bfloat16])
@pytest.mark.parametrize("dtype", DTYPES)
def test_default_dtype_decides_what_shows_dtype(default, dtype):
    torch.set_default_dtype(default)
    rng = numpy.random.default_rng(11)
    for shape in [(), (0,), (0, 2), (3,), (2, 3)]:
        t, host = torch_and_host(make_values(rng, shape, dtype, "mixed"), dtype)
        assert_repr(t, host)


# ------------------------------------------------------------------------------ print options
@pytest.mark.parametrize("options", OPTIONS, ids=repr)
def test_printoptions_match_torch(options):
    torch.set_printoptions(**options)
    fmt.set_printoptions(**options)
    assert fmt.get_printoptions() == torch._tensor_str.get_printoptions()
    rng = numpy.random.default_rng(13)
    for dtype in ["float32", "float64", "int64", "bool", "float16"]:
        for shape in [(), (0,), (6,), (30,), (4, 25), (3, 3, 3), (1200,), (40, 40)]:
            for regime in ["normal", "integral", "wide", "mixed", "rounding"]:
                t, host = torch_and_host(make_values(rng, shape, dtype, regime), dtype)
                assert_repr(t, host)


def test_set_printoptions_sequence_matches_torch():
    """sci_mode resets when omitted; later calls override a profile; unknown keys raise."""
    steps = [dict(sci_mode=True, precision=3), dict(linewidth=60), dict(profile="short"),
             dict(profile="full", edgeitems=5), dict(threshold=10), dict(profile="default")]
    for step in steps:
        torch.set_printoptions(**step)
        fmt.set_printoptions(**step)
        assert fmt.get_printoptions() == torch._tensor_str.get_printoptions()
    with pytest.raises(TypeError):
        torch.set_printoptions(colour=True)
    with pytest.raises(TypeError):
        fmt.set_printoptions(colour=True)


def test_printoptions_context_manager_restores():
    before = fmt.get_printoptions()
    with fmt.printoptions(precision=1, sci_mode=True):
        with torch._tensor_str.printoptions(precision=1, sci_mode=True):
            assert fmt.get_printoptions() == torch._tensor_str.get_printoptions()
            values = numpy.array([1.25, 3.5], dtype=numpy.float32)
            assert_repr(torch.from_numpy(values), values)
    assert fmt.get_printoptions() == before == torch._tensor_str.get_printoptions()


def test_unknown_dtype_is_a_value_error():
    with pytest.raises(ValueError, match="uint16x"):
        fmt.format_tensor(numpy.zeros(2, numpy.uint16), dtype="uint16x")
