"""complex64/complex128 against torch: dtype objects and promotion, creation, printing, the
complex-specific ops (real/imag views, conj, angle, abs, polar, view_as_real/complex),
elementwise math, reductions and matmul, gradients in torch's conjugate Wirtinger convention
(equal to torch's, and gradcheck), save/load with torch. Complex arithmetic runs on the cpu
backend; opencl declares no complex dtypes (``supports``), so its complex tensors are kept in
host memory and computed there (plugrad.plugins.host_storage); the tests taking ``device``
run on every backend."""
import io

import numpy
import plugrad
import pytest
import torch

NAMES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16", "float32",
         "float64", "complex64", "complex128"]
RNG = numpy.random.default_rng(3)
Z = RNG.standard_normal((3, 3)) + 1j * RNG.standard_normal((3, 3))
W = RNG.standard_normal((3, 3)) + 1j * RNG.standard_normal((3, 3))
R = RNG.standard_normal((3, 3))


def _name(dt):
    return str(dt).split(".")[-1]


def _same(ours, ref, rtol=1e-6, atol=1e-6):
    assert _name(ours.dtype) == _name(ref.dtype)
    assert tuple(ours.shape) == tuple(ref.shape)
    numpy.testing.assert_allclose(ours.detach().cpu().numpy(),
                                  ref.detach().resolve_conj().numpy(), rtol=rtol, atol=atol)


def test_dtype_objects_and_aliases():
    assert plugrad.cfloat is plugrad.complex64 and plugrad.cdouble is plugrad.complex128
    for name in ("complex64", "complex128"):
        ours, ref = getattr(plugrad, name), getattr(torch, name)
        assert repr(ours) == repr(ref)
        assert ours.is_complex and not ours.is_floating_point and ours.itemsize == ref.itemsize
        assert ours.to_real() is getattr(plugrad, _name(ref.to_real()))
    assert plugrad.float64.to_complex() is plugrad.complex128


def test_promotion_table_equals_torch():
    for a in NAMES:
        for b in NAMES:
            got = plugrad.promote_types(getattr(plugrad, a), getattr(plugrad, b))
            assert _name(got) == _name(torch.promote_types(getattr(torch, a),
                                                           getattr(torch, b))), (a, b)


@pytest.mark.parametrize("dtype", ["int64", "float32", "float64", "complex64", "complex128"])
def test_result_type_with_complex_scalars_and_zero_dim(dtype):
    x, xt = plugrad.ones(2, dtype=getattr(plugrad, dtype)), torch.ones(
        2, dtype=getattr(torch, dtype))
    for other, other_t in [(1j, 1j), (2.5, 2.5),
                           (plugrad.tensor(1j, dtype=plugrad.complex128),
                            torch.tensor(1j, dtype=torch.complex128))]:
        assert _name((x * other).dtype) == _name((xt * other_t).dtype)
        assert _name((other * x).dtype) == _name((other_t * xt).dtype)


def test_creation(device):
    d = device
    _same(plugrad.tensor([1 + 2j, 3], device=d), torch.tensor([1 + 2j, 3]))
    _same(plugrad.tensor(Z, device=d), torch.tensor(Z))
    _same(plugrad.tensor(Z.astype(numpy.complex64), device=d),
          torch.tensor(Z.astype(numpy.complex64)))
    _same(plugrad.zeros(2, 3, dtype=plugrad.complex64, device=d),
          torch.zeros(2, 3, dtype=torch.complex64))
    _same(plugrad.full((2,), 1 - 1j, device=d), torch.full((2,), 1 - 1j))
    _same(plugrad.ones(2, device=d).to(plugrad.complex128), torch.ones(2).to(torch.complex128))
    _same(plugrad.tensor(Z).to(d), torch.tensor(Z))
    assert plugrad.tensor(Z).to(d).device == plugrad.device(d, None if d == "cpu" else 0)
    r, i = plugrad.tensor(R, device=d), torch.tensor(R)
    _same(plugrad.complex(r, r * 2), torch.complex(i, i * 2))
    _same(plugrad.polar(r.abs(), r), torch.polar(i.abs(), i))
    old = plugrad.get_default_dtype()
    try:
        plugrad.set_default_dtype(plugrad.float64)
        torch.set_default_dtype(torch.float64)
        _same(plugrad.tensor([1j]), torch.tensor([1j]))
    finally:
        plugrad.set_default_dtype(old)
        torch.set_default_dtype(torch.float32)


@pytest.mark.parametrize("values", [[1 + 2j, 3 - 1j], [0j], [1.5 - 0.25j, -1e-5 + 3j, 1e9j],
                                    [[1 + 1j, 2], [3j, -4 - 4j]], 1 + 2j,
                                    [complex(float("nan"), 1), complex(float("inf"), -0.0)],
                                    list(numpy.arange(2000) * (1 + 1j)), []])
@pytest.mark.parametrize("dtype", ["complex64", "complex128"])
def test_printing_equals_torch(values, dtype, device):
    ours = repr(plugrad.tensor(values, dtype=getattr(plugrad, dtype), device=device))
    ref = repr(torch.tensor(values, dtype=getattr(torch, dtype)))
    if device == "cpu":
        assert ours == ref
    else:   # torch adds the device before the dtype (as for cuda); lines may wrap earlier
        assert f"device='{device}:0'" in ours
        assert ours.replace(f", device='{device}:0'", "").split() == ref.split()


OPS = {
    "add": lambda z, w, r: z + w, "add_scalar": lambda z, w, r: z + 1.5,
    "mul_real": lambda z, w, r: z * r, "real_times_j": lambda z, w, r: r * 1j,
    "sub": lambda z, w, r: z - w, "div": lambda z, w, r: z / w, "neg": lambda z, w, r: -z,
    "exp": lambda z, w, r: z.exp(), "log": lambda z, w, r: z.log(),
    "sqrt": lambda z, w, r: z.sqrt(), "sin": lambda z, w, r: z.sin(),
    "cos": lambda z, w, r: z.cos(), "tanh": lambda z, w, r: z.tanh(),
    "sigmoid": lambda z, w, r: z.sigmoid(), "abs": lambda z, w, r: z.abs(),
    "pow2": lambda z, w, r: z ** 2, "powz": lambda z, w, r: z ** w,
    "reciprocal": lambda z, w, r: z.reciprocal(), "sum": lambda z, w, r: z.sum(),
    "sum_dim": lambda z, w, r: z.sum(0), "mean": lambda z, w, r: z.mean(),
    "prod": lambda z, w, r: z.prod(), "matmul": lambda z, w, r: z @ w,
    "eq": lambda z, w, r: z == w, "real": lambda z, w, r: z.real,
    "imag": lambda z, w, r: z.imag, "conj": lambda z, w, r: z.conj(),
    "conj_physical": lambda z, w, r: z.conj_physical(), "angle": lambda z, w, r: z.angle(),
    "angle_real": lambda z, w, r: r.angle(), "view_as_real": lambda z, w, r: torch_or(z).view_as_real(z),
    "mH": lambda z, w, r: z.mH, "cat": lambda z, w, r: torch_or(z).cat([z, w]).flip(0),
    "where": lambda z, w, r: z.where(r > 0, w), "sgn": lambda z, w, r: z.sgn(),
    "to_double": lambda z, w, r: z.to(torch.complex128 if isinstance(z, torch.Tensor)
                                      else plugrad.complex128),
}


@pytest.mark.parametrize("name", sorted(OPS))
def test_op_values_equal_torch(name, device):
    ours = OPS[name](*(plugrad.tensor(a, device=device) for a in (Z.astype(numpy.complex64),
                                                   W.astype(numpy.complex64),
                                                   R.astype(numpy.float32))))
    ref = OPS[name](*(torch.tensor(a) for a in (Z.astype(numpy.complex64),
                                                W.astype(numpy.complex64),
                                                R.astype(numpy.float32))))
    _same(ours, ref, 2e-5, 2e-5)
    assert ours.device.type == device


def test_views_share_memory_and_predicates(device):
    z = plugrad.tensor(Z, device=device)
    re = z.real
    re[0, 0] = 42.0
    z.imag[1, 1] = -7.0
    assert z[0, 0].item() == complex(42.0, Z[0, 0].imag)
    assert z[1, 1].item().imag == -7.0
    v = plugrad.view_as_real(z)
    assert tuple(v.shape) == (3, 3, 2) and v.dtype == plugrad.float64
    assert plugrad.view_as_complex(v)[2, 1].item() == z[2, 1].item()
    z.real = plugrad.zeros(3, 3, dtype=plugrad.float64, device=device)
    assert z.real.abs().sum().item() == 0
    assert z.is_complex() and plugrad.is_complex(z) and not z.is_floating_point()
    assert not z.conj().is_conj() and z.conj().resolve_conj() is not None
    assert plugrad.vdot(plugrad.tensor(Z[0], device=device),
                        plugrad.tensor(W[0], device=device)).item() == pytest.approx(
        torch.vdot(torch.tensor(Z[0]), torch.tensor(W[0])).item())


def test_setitem_complex_scalars_and_type_names(device):
    z, zt = plugrad.tensor(Z, device=device), torch.tensor(Z)
    for ours, ref in ((z, zt), (z.to(plugrad.complex64), zt.to(torch.complex64))):
        ours[ours.real > 0] = 5j
        ref[ref.real > 0] = 5j
        ours[0, 1] = 1 + 1j
        ref[0, 1] = 1 + 1j
        ours[1:, 2] = 2
        ref[1:, 2] = 2
        _same(ours, ref)
        assert ours.type() == ref.type().replace("torch.", "torch." if device == "cpu"
                                                 else f"torch.{device}.")
    r, rt = plugrad.tensor(R, device=device), torch.tensor(R)
    for key in (0, r > 0):
        with pytest.raises(RuntimeError) as ours:
            r[key] = 5j
        with pytest.raises(RuntimeError) as ref:
            rt[key if isinstance(key, int) else rt > 0] = 5j
        assert str(ours.value) == str(ref.value)


def test_errors_as_torch(device):
    r = plugrad.tensor(R, device=device)
    with pytest.raises(RuntimeError, match="imag is not implemented for tensors with non-complex"):
        r.imag
    with pytest.raises(RuntimeError, match="view_as_real is only supported for complex"):
        plugrad.view_as_real(r)
    with pytest.raises(RuntimeError, match="Tensor must have a last dimension of size 2"):
        plugrad.view_as_complex(r)
    with pytest.raises(RuntimeError, match="stride 1"):
        plugrad.view_as_complex(plugrad.zeros(2, 3, dtype=plugrad.float64, device=device).t())
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for real scalar"):
        plugrad.tensor(1j, requires_grad=True, device=device).mul(2).backward()
    z = plugrad.tensor(Z, device=device)
    if device != "cpu":     # a dimensioned cpu tensor does not meet a device tensor (torch)
        with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device"):
            z + plugrad.tensor(Z)[0]
    with pytest.raises(RuntimeError) as ours:
        z @ plugrad.tensor(Z[:2], device=device)
    with pytest.raises(RuntimeError) as ref:
        torch.tensor(Z) @ torch.tensor(Z[:2])
    assert str(ours.value) == str(ref.value)


GRADS = {
    "abs": lambda z, w, r: z.abs().sum(), "angle": lambda z, w, r: z.angle().sum(),
    "real": lambda z, w, r: (z.real * r).sum(), "imag": lambda z, w, r: (z.imag * r).sum(),
    "mul": lambda z, w, r: (z * w).abs().sum(), "matmul": lambda z, w, r: (z @ w).abs().sum(),
    "exp": lambda z, w, r: z.exp().real.sum(), "div": lambda z, w, r: (z / w).imag.sum(),
    "conj": lambda z, w, r: (z.conj() * w).abs().sum(),
    "real_times_complex": lambda z, w, r: (z * r).abs().sum(),
    "log": lambda z, w, r: z.log().abs().sum(), "sqrt": lambda z, w, r: z.sqrt().imag.sum(),
    "sum": lambda z, w, r: (z.sum(0) * w[0]).real.sum(), "pow": lambda z, w, r: (z ** 2).abs().sum(),
    "view_as_real": lambda z, w, r: (torch_or(z).view_as_real(z) ** 2).sum(),
    "complex": lambda z, w, r: (torch_or(z).complex(r, r * r) * z).abs().sum(),
    "polar": lambda z, w, r: torch_or(z).polar(r.abs() + 1, r).imag.sum() + (w * 0).abs().sum(),
    "mean": lambda z, w, r: (z.mean() * w.mean()).real, "trig": lambda z, w, r:
        (z.sin() * z.cos()).abs().sum(), "tanh": lambda z, w, r: z.tanh().real.sum(),
    "reciprocal": lambda z, w, r: z.reciprocal().abs().sum(),
    "mH": lambda z, w, r: (z.mH @ w).abs().sum(),
    "cast": lambda z, w, r: (r.to(z.dtype) * z).imag.sum(),
    "vector_norm": lambda z, w, r: torch_or(z).linalg.vector_norm(z),
    "norm": lambda z, w, r: z.norm() + z.norm(p=1, dim=0).sum(),
}


def torch_or(t):
    return torch if isinstance(t, torch.Tensor) else plugrad


@pytest.mark.parametrize("name", sorted(GRADS))
def test_gradients_equal_torch(name, device):
    ours = [plugrad.tensor(a, requires_grad=True, device=device) for a in (Z, W, R)]
    refs = [torch.tensor(a, requires_grad=True) for a in (Z, W, R)]
    lo, lr = GRADS[name](*ours), GRADS[name](*refs)
    _same(lo, lr, 1e-10, 1e-10)
    lo.backward()
    lr.backward()
    for o, r in zip(ours, refs):
        assert (o.grad is None) == (r.grad is None)
        if o.grad is not None:
            _same(o.grad, r.grad, 1e-10, 1e-10)


CHECKS = {
    "exp": lambda z: z.exp(), "abs": lambda z: z.abs(), "matmul": lambda z: z @ z,
    "mul_conj": lambda z: z * z.conj(), "angle": lambda z: z.angle(),
    "real_imag": lambda z: z.real * z.imag, "div_log": lambda z: (z / (z + 3j)).log(),
    "mH": lambda z: z.mH @ z, "view_as_real": lambda z: plugrad.view_as_real(z) * 2,
    "sum_mean": lambda z: z.sum(0) * z.mean(), "reciprocal_tanh": lambda z: z.reciprocal().tanh(),
}


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_gradcheck_complex128(name, device):
    z = plugrad.tensor([[1 + 2j, 3 - 1j], [0.5j, 2.0 - 0.3j]], requires_grad=True,
                       dtype=plugrad.complex128, device=device)
    assert plugrad.autograd.gradcheck(CHECKS[name], (z,))


def test_gradcheck_mixed_real_complex(device):
    z = plugrad.tensor([[1 + 2j, 3 - 1j]], requires_grad=True, dtype=plugrad.complex128,
                       device=device)
    r = plugrad.tensor([[0.5, -2.0]], requires_grad=True, dtype=plugrad.float64, device=device)
    assert plugrad.autograd.gradcheck(lambda z, r: z * r + r.exp(), (z, r))
    assert plugrad.autograd.gradcheck(lambda r: plugrad.polar(r.abs(), r), (r,))


def test_save_load_with_torch(tmp_path):
    z = plugrad.tensor(Z.astype(numpy.complex64))
    buf = io.BytesIO()
    plugrad.save({"z": z, "w": plugrad.tensor(W)}, buf)
    buf.seek(0)
    back = torch.load(buf)
    _same(z, back["z"])
    assert back["w"].dtype == torch.complex128
    buf = io.BytesIO()
    torch.save({"z": torch.tensor(Z), "part": torch.tensor(Z)[1:].imag}, buf)
    buf.seek(0)
    ours = plugrad.load(buf)
    _same(ours["z"], torch.tensor(Z))
    _same(ours["part"], torch.tensor(Z)[1:].imag)


def test_save_real_views_of_complex_as_torch(device):
    z, zt = plugrad.tensor(Z, device=device), torch.tensor(Z)
    for view, ref in ((z.real, zt.real), (z.imag[1:], zt.imag[1:]),
                      (plugrad.view_as_real(z), torch.view_as_real(zt))):
        buf = io.BytesIO()
        plugrad.save({"v": view}, buf)
        buf.seek(0)
        _same(plugrad.load(buf)["v"], ref)
        buf.seek(0)
        _same(torch.load(buf, map_location="cpu")["v"], ref)
    for ours, ref in (({"z": z, "re": z.real}, {"z": zt, "re": zt.real}),
                      ({"re": z.real, "z": z}, {"re": zt.real, "z": zt})):
        with pytest.raises(RuntimeError) as want:
            torch.save(ref, io.BytesIO())
        with pytest.raises(RuntimeError) as got:
            plugrad.save(ours, io.BytesIO())
        assert str(got.value) == str(want.value)


def test_opencl_declares_no_complex_and_the_cpu_fallback_covers_it(monkeypatch):
    from conftest import availability
    if availability("opencl") is not True:
        pytest.skip("no opencl")
    assert not plugrad.plugins.supports("opencl", "add", plugrad.complex64)
    assert plugrad.plugins.supports("cpu", "add", plugrad.complex64)
    monkeypatch.delenv("PLUGRAD_STRICT_BACKEND", raising=False)
    with pytest.warns(plugrad.plugins.FallbackWarning):
        plugrad.plugins.get_registry().fallbacks.reset()
        z = plugrad.ones(2, device="opencl") * 1j
    assert z.device == plugrad.device("opencl", 0) and z.dtype == plugrad.complex64
    monkeypatch.setenv("PLUGRAD_STRICT_BACKEND", "1")
    with pytest.raises(RuntimeError, match="does not support complex64"):
        plugrad.tensor([1j], device="opencl")
    with pytest.raises(RuntimeError, match="does not support complex64"):
        plugrad.ones(2, device="opencl") * 1j
