"""bfloat16 (issue 11 item 4): storage through ml_dtypes on the cpu and 2-byte buffers on opencl,
arithmetic in float32 rounded once, bit for bit against torch 2.13's cpu where torch's kernel is
one float32 computation (on every device: the ``device`` tests); autocast('cpu'), random
streams, printing, promotion, pickling and checkpoints in both directions."""
from __future__ import annotations

import io
import pickle

import numpy as np
import pytest
import torch

import plugrad

RS = np.random.RandomState(0)
X = (RS.randn(16, 50) * 3).astype(np.float32)
Y = RS.randn(16, 50).astype(np.float32)
POS = np.abs(X) + 0.1


def _both(*arrays, device="cpu"):
    return ([torch.tensor(a).bfloat16() for a in arrays],
            [plugrad.tensor(a, device=device).bfloat16() for a in arrays])


def assert_same_bits(t, p, zero_sign=True):
    """Same dtype and values; zero signs too unless ``zero_sign=False`` (NaN signs are not
    compared: torch's conversions do not keep them either)."""
    assert p.dtype is getattr(plugrad, str(t.dtype).split(".")[1])
    a, b = t.detach().float().numpy(), p.detach().float().cpu().numpy()
    np.testing.assert_array_equal(b, a)     # nan == nan here; -0.0 vs 0.0 checked below
    if zero_sign:
        keep = ~np.isnan(a)
        np.testing.assert_array_equal(np.signbit(b)[keep], np.signbit(a)[keep])


UNARY = ["exp", "log", "sqrt", "sin", "cos", "tan", "tanh", "sigmoid", "relu", "neg", "abs",
         "exp2", "expm1", "log1p", "log2", "log10", "reciprocal", "floor", "ceil", "round",
         "trunc", "sign", "asin", "atan", "sinh", "cosh"]


@pytest.mark.parametrize("name", UNARY)
def test_unary_ops_equal_torch_bit_for_bit(name, device):
    arr = POS if name.startswith("log") or name == "sqrt" else (
        np.clip(X / 4, -1, 1) if name == "asin" else X)
    (t,), (p,) = _both(arr, device=device)
    assert_same_bits(getattr(torch, name)(t), getattr(plugrad, name)(p))


# (floor_divide is computed in float32: torch's bfloat16 kernel rounds its intermediates and
# differs from its own float32 result in ~0.3% of elements; not matched bit for bit)
@pytest.mark.parametrize("name", ["add", "sub", "mul", "div", "maximum", "minimum", "atan2",
                                  "pow", "remainder", "eq", "lt", "ge"])
def test_binary_ops_equal_torch_bit_for_bit(name, device):
    (ta, tb), (pa, pb) = _both(POS if name == "pow" else X, Y, device=device)
    # remainder's zero takes the divisor's sign in torch; plugrad's float32 has the same gap
    assert_same_bits(getattr(torch, name)(ta, tb), getattr(plugrad, name)(pa, pb),
                     zero_sign=name != "remainder")


# torch keeps the Python float of mul/div/floor_divide in float32 but rounds it to bfloat16
# for add/sub/remainder/pow/comparisons: each must follow its own rule
SCALAR_CASES = {
    "mul": lambda a, s: a * s, "rmul": lambda a, s: s * a, "div": lambda a, s: a / s,
    "rdiv": lambda a, s: s / a, "floordiv": lambda a, s: a // s, "add": lambda a, s: a + s,
    "sub": lambda a, s: a - s, "rsub": lambda a, s: s - a, "rem": lambda a, s: a % s,
    "pow": lambda a, s: a.abs() ** s, "rpow": lambda a, s: s ** (a / 4), "gt": lambda a, s: a > s,
    "eq": lambda a, s: a == s, "clamp": lambda a, s: a.clamp(-s, s),
    "maximum": lambda a, s: a.clamp_min(s),
}


@pytest.mark.parametrize("case", sorted(SCALAR_CASES))
@pytest.mark.parametrize("scalar", [0.1, 1 / 3, 2.7, 5])
def test_python_scalar_operands_follow_torch(case, scalar, device):
    (t,), (p,) = _both(X, device=device)
    assert_same_bits(SCALAR_CASES[case](t, scalar), SCALAR_CASES[case](p, scalar),
                     zero_sign=case != "rem")


REDUCTIONS = {
    "sum": lambda a: a.sum(), "sum0": lambda a: a.sum(0), "sum1": lambda a: a.sum(1),
    "mean": lambda a: a.mean(1), "max": lambda a: a.max(1)[0], "argmax": lambda a: a.argmax(1),
    "amin": lambda a: a.amin(0), "cumsum": lambda a: a.cumsum(1), "var": lambda a: a.var(1),
    "std": lambda a: a.std(), "norm": lambda a: a.norm(), "softmax": lambda a: a.softmax(1),
    "matmul": lambda a: a @ a.T, "sort": lambda a: a.sort(1)[0], "where": lambda a: a.where(a > 0, 0.3),
    "linear": lambda a: (torch if isinstance(a, torch.Tensor) else plugrad).nn.functional.linear(
        a, a[:8], a[0, :8]),
}


@pytest.mark.parametrize("case", sorted(REDUCTIONS))
def test_reductions_and_matmul_accumulate_in_float32_as_torch(case, device):
    (t,), (p,) = _both(X, device=device)
    assert_same_bits(REDUCTIONS[case](t), REDUCTIONS[case](p))


def test_bfloat16_sums_accumulate_in_float32(device):
    # 4096 ones: a bfloat16 running sum would stop at 256
    assert plugrad.ones(4096, dtype=plugrad.bfloat16, device=device).sum().item() == 4096.0


def test_casts_round_to_nearest_even_as_torch(device):
    values = np.array([1 + 2 ** -8, 1 + 3 * 2 ** -8, 3.4e38, -0.0, np.inf, np.nan, 1e-40,
                       65504.0, 0.1], np.float32)
    for dt in ("float32", "float64", "float16"):
        with np.errstate(over="ignore"):
            host = values.astype(dt)
        t, p = torch.tensor(host).bfloat16(), plugrad.tensor(host, device=device).bfloat16()
        assert_same_bits(t, p)
    assert_same_bits(torch.arange(300).bfloat16(), plugrad.arange(300, device=device).bfloat16())
    back = plugrad.tensor(values, device=device).bfloat16()
    for dt in ("float32", "float64", "float16", "int64", "int32", "uint8", "bool"):
        assert_same_bits(torch.tensor(values).bfloat16().nan_to_num().to(getattr(torch, dt)),
                         back.nan_to_num().to(getattr(plugrad, dt)))


def test_promotion_printing_and_python_values():
    a = plugrad.tensor([1.5, -2.25, 3.0], dtype=plugrad.bfloat16)
    t = torch.tensor([1.5, -2.25, 3.0], dtype=torch.bfloat16)
    assert repr(a) == repr(t) and str(a * 1000) == str(t * 1000)
    assert a.tolist() == t.tolist() and a[1].item() == t[1].item()
    assert plugrad.promote_types(plugrad.bfloat16, plugrad.float16) is plugrad.float32
    for other, odt in ((plugrad.float32, torch.float32), (plugrad.int64, torch.int64),
                       (plugrad.float64, torch.float64), (plugrad.uint8, torch.uint8)):
        got = (a + plugrad.ones(3, dtype=other)).dtype
        assert str(got) == str((t + torch.ones(3, dtype=odt)).dtype)
    assert repr(plugrad.finfo(plugrad.bfloat16)) == repr(torch.finfo(torch.bfloat16))
    assert a.element_size() == 2 and a.is_floating_point()
    with pytest.raises(TypeError, match="Got unsupported ScalarType BFloat16"):
        a.numpy()
    with pytest.raises(TypeError, match="Got unsupported ScalarType BFloat16"):
        t.numpy()


@pytest.mark.parametrize("method", ["rand", "randn"])
@pytest.mark.parametrize("n", [5, 16, 17, 1000])
def test_random_streams_equal_torch(method, n):
    torch.manual_seed(3)
    plugrad.manual_seed(3)
    assert_same_bits(getattr(torch, method)(n, dtype=torch.bfloat16),
                     getattr(plugrad, method)(n, dtype=plugrad.bfloat16))
    assert_same_bits(torch.rand(3), plugrad.rand(3))     # same stream position after


def test_random_in_place_fills_equal_torch():
    torch.manual_seed(5)
    plugrad.manual_seed(5)
    fills = [lambda L, x: x.uniform_(-2, 3), lambda L, x: x.normal_(2, 3),
             lambda L, x: x.random_(-5, 1000), lambda L, x: x.bernoulli_(0.3),
             lambda L, x: L.nn.functional.dropout(x.fill_(1), 0.3)]
    for fill in fills:
        assert_same_bits(fill(torch, torch.empty(100, dtype=torch.bfloat16)),
                         fill(plugrad, plugrad.empty(100, dtype=plugrad.bfloat16)))


def test_checkpoints_travel_both_ways_with_exact_bits(tmp_path):
    t = torch.randn(4, 6).bfloat16()
    t[0, :3] = torch.tensor([float("inf"), -0.0, float("nan")])
    torch.save({"w": t, "view": t.t()[1:]}, tmp_path / "torch.pt")
    mine = plugrad.load(tmp_path / "torch.pt")
    assert mine["w"].dtype is plugrad.bfloat16
    assert_same_bits(t, mine["w"])
    mine["w"][2, 1] = 7.0                                   # the view shares the storage
    assert mine["view"][0, 2].item() == 7.0
    plugrad.save({"w": mine["w"], "view": mine["view"]}, tmp_path / "mine.pt")
    back = torch.load(tmp_path / "mine.pt")
    assert back["w"].dtype is torch.bfloat16 and back["w"][2, 1].item() == 7.0
    assert_same_bits(back["w"], mine["w"])
    assert back["view"].untyped_storage().data_ptr() == back["w"].untyped_storage().data_ptr()


def test_pickle_and_state_dict_round_trip():
    model = plugrad.nn.Linear(3, 2).bfloat16()
    buf = io.BytesIO()
    plugrad.save(model.state_dict(), buf)
    other = plugrad.nn.Linear(3, 2).bfloat16()
    other.load_state_dict(plugrad.load(io.BytesIO(buf.getvalue())))
    assert_same_bits(torch.tensor(model.weight.float().tolist()).bfloat16(), other.weight)
    copy = pickle.loads(pickle.dumps(model.weight))
    assert copy.dtype is plugrad.bfloat16 and isinstance(copy, plugrad.nn.Parameter)
    assert copy.float().tolist() == model.weight.float().tolist()


def _autocast_run(L):
    x = L.tensor(X[:8, :16], requires_grad=True)
    w = L.tensor(Y[:4, :16], requires_grad=True)
    b = L.tensor(Y[5, :4], requires_grad=True)
    with L.autocast("cpu"):
        y = L.nn.functional.linear(x, w, b)
        outs = [y, y.softmax(-1), x @ w.T, L.cat([y, x[:, :4]]), y.exp(), y.sum(),
                L.nn.functional.mse_loss(y, y.detach() * 0.5)]
    return outs


def test_cpu_autocast_runs_in_bfloat16_as_torch():
    for t, p in zip(_autocast_run(torch), _autocast_run(plugrad)):
        assert_same_bits(t, p)


def test_cpu_autocast_gradients_equal_torch():
    """Backward through bfloat16 linear and softmax (torch's softmax backward computes in
    float32 and rounds once) gives torch's float32 gradients bit for bit."""
    grads = []
    for L in (torch, plugrad):
        x = L.tensor(X[:8, :16], requires_grad=True)
        w = L.tensor(Y[:4, :16], requires_grad=True)
        b = L.tensor(Y[5, :4], requires_grad=True)
        with L.autocast("cpu"):
            z = L.nn.functional.linear(x, w, b).softmax(-1)
            loss = (z * z).sum()
        loss.backward()
        grads.append((x.grad, w.grad, b.grad))
    for t, p in zip(*grads):
        assert_same_bits(t, p)
    assert plugrad.get_autocast_dtype("cpu") is plugrad.bfloat16


def test_training_step_in_bfloat16_matches_torch(device):
    def run(L):
        L.manual_seed(0)
        model = L.nn.Sequential(L.nn.Linear(16, 8), L.nn.ReLU(), L.nn.Linear(8, 2)).bfloat16()
        x = L.tensor(X[:, :16]).bfloat16()
        if L is plugrad:
            model, x = model.to(device), x.to(device)
        opt = L.optim.SGD(model.parameters(), lr=0.1)
        for _ in range(3):
            opt.zero_grad()
            loss = (model(x) ** 2).mean()
            loss.backward()
            opt.step()
        return [loss] + [p for p in model.parameters()]
    for t, p in zip(run(torch), run(plugrad)):
        np.testing.assert_allclose(p.detach().float().cpu().numpy(), t.detach().float().numpy(),
                                   rtol=2 ** -7, atol=1e-3)


COMPOSITES = {
    "rsqrt": lambda L, a, b: a.abs().rsqrt(),
    "silu": lambda L, a, b: L.nn.functional.silu(a),
    "addcmul": lambda L, a, b: L.addcmul(a, a, b, value=0.1),
    "addcdiv": lambda L, a, b: L.addcdiv(a, a, b.abs() + 1, value=0.1),
    "lerp_tensor_weight": lambda L, a, b: L.lerp(a, b, b.abs().clamp(0, 1)),
}


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
@pytest.mark.parametrize("case", sorted(COMPOSITES))
def test_half_composites_compute_in_float32_and_round_once(case, dtype, device):
    """torch's kernels for these run in float32 (opmath) and round once; composing them from
    rounded half-precision steps differed in up to 30% of elements."""
    t = [torch.tensor(a).to(getattr(torch, dtype)) for a in (X, Y)]
    p = [plugrad.tensor(a, device=device).to(getattr(plugrad, dtype)) for a in (X, Y)]
    assert_same_bits(COMPOSITES[case](torch, *t), COMPOSITES[case](plugrad, *p))
    x = plugrad.tensor(X[:2, :3]).to(getattr(plugrad, dtype)).requires_grad_()
    out = COMPOSITES[case](plugrad, x, x.detach() + 1)
    want = COMPOSITES[case](torch, *(torch.tensor(X[:2, :3]).to(getattr(torch, dtype))
                                     .requires_grad_(),) * 1, torch.tensor(X[:2, :3] + 1).to(
        getattr(torch, dtype)))
    assert type(out.grad_fn).__name__ == type(want.grad_fn).__name__


@pytest.mark.parametrize("exponent", [3, -2, 0.5, -0.5, -1, 2, 2.5, 4, -3, 1])
def test_pow_with_special_exponents_equals_torch(exponent, device):
    """torch runs x**3 and x**-2 as bfloat16 products (each rounded), x**0.5 / x**-0.5 / x**-1
    as sqrt / rsqrt / reciprocal, everything else as powf rounded once."""
    (t,), (p,) = _both(X, device=device)
    assert_same_bits(t.abs() ** exponent, p.abs() ** exponent)


@pytest.mark.parametrize("case", sorted(SCALAR_CASES))
def test_float16_python_scalar_operands_follow_torch(case, device):
    """float16 follows the same per-op scalar rule (numpy alone rounded 0.1 to float16 first:
    x * 0.1 differed from torch in a third of the elements)."""
    t, p = torch.tensor(X).half(), plugrad.tensor(X, device=device).half()
    assert_same_bits(SCALAR_CASES[case](t, 0.1), SCALAR_CASES[case](p, 0.1),
                     zero_sign=case != "rem")
