"""gcd, lcm, renorm and positive against torch: values, dtypes, variants, gradients, errors."""
import numpy as np
import pytest
import torch

import plugrad


def _both(arr, device, dtype, grad=False):
    t = torch.tensor(np.asarray(arr), dtype=getattr(torch, dtype), requires_grad=grad)
    return plugrad.tensor(t.detach().numpy(), device=device, requires_grad=grad), t


def _same(got, want, rtol=0):
    assert str(got.dtype) == str(want.dtype)
    np.testing.assert_allclose(got.detach().cpu().numpy(), want.detach().numpy(), rtol=rtol,
                               atol=1e-6 if rtol else 0)


@pytest.mark.parametrize("dtype", ["int64", "int32", "int16", "uint8", "int8"])
def test_gcd_lcm_random_and_edges(device, dtype):
    rng = np.random.default_rng(0)
    lo = 0 if dtype == "uint8" else -60
    a = np.concatenate([rng.integers(lo, 60, 200), [0, 0, 7, 1]])
    b = np.concatenate([rng.integers(lo, 60, 200), [0, 5, 0, 1]])
    pa, ta = _both(a, device, dtype)
    pb, tb = _both(b, device, dtype)
    for name in ("gcd", "lcm"):
        _same(getattr(plugrad, name)(pa, pb), getattr(torch, name)(ta, tb))
        _same(getattr(pa, name)(pb), getattr(ta, name)(tb))
        y, ty = pa.clone(), ta.clone()
        assert getattr(y, name + "_")(pb) is y
        getattr(ty, name + "_")(tb)
        _same(y, ty)
        out = plugrad.empty(len(a), dtype=pa.dtype, device=device)
        assert getattr(plugrad, name)(pa, pb, out=out) is out
        _same(out, getattr(torch, name)(ta, tb))


def test_gcd_promotion_broadcast_and_errors(device):
    pa, ta = _both([[12], [18]], device, "uint8")
    pb, tb = _both([8, 27, 0], device, "int64")
    _same(plugrad.gcd(pa, pb), torch.gcd(ta, tb))
    _same(plugrad.lcm(pa, pb), torch.lcm(ta, tb))
    pe, te = _both([], device, "int64")
    _same(plugrad.gcd(pe, pe), torch.gcd(te, te))
    with pytest.raises(NotImplementedError, match="\"gcd_cpu\" not implemented for 'Float'"):
        plugrad.gcd(plugrad.tensor([1.0], device=device), plugrad.tensor([2.0], device=device))


def test_renorm(device):
    rng = np.random.default_rng(1)
    data = rng.normal(size=(4, 3, 5)) * np.array([0.1, 1, 3, 10])[:, None, None]
    for p, dim, maxnorm in ((2, 0, 1.0), (1, 1, 2.5), (3.0, -1, 0.5), (2, 0, 0.0)):
        px, tx = _both(data, device, "float32", grad=True)
        got, want = plugrad.renorm(px, p, dim, maxnorm), torch.renorm(tx, p, dim, maxnorm)
        _same(got, want, rtol=1e-5)
        _same(px.renorm(p, dim, maxnorm), tx.renorm(p, dim, maxnorm), rtol=1e-5)
        (got * got.detach().sin()).sum().backward()
        (want * want.detach().sin()).sum().backward()
        _same(px.grad, tx.grad, rtol=1e-4)
        y, ty = px.detach().clone(), tx.detach().clone()
        assert y.renorm_(p, dim, maxnorm) is y
        _same(y, ty.renorm_(p, dim, maxnorm), rtol=1e-5)
    x = plugrad.ones(2, 2, device=device)
    with pytest.raises(RuntimeError, match="non-positive-norm"):
        plugrad.renorm(x, -1, 0, 1.0)
    with pytest.raises(RuntimeError, match="at least 2 dimensions"):
        plugrad.renorm(x[0], 2, 0, 1.0)
    with pytest.raises(RuntimeError, match="maxnorm to be >= 0"):
        plugrad.renorm(x, 2, 0, -1.0)
    with pytest.raises(IndexError, match="Dimension out of range"):
        plugrad.renorm(x, 2, 2, 1.0)


def test_positive(device):
    x = plugrad.tensor([1.0, -2.0], device=device)
    assert plugrad.positive(x) is x and x.positive() is x
    with pytest.raises(RuntimeError, match="on a bool tensor is not supported"):
        plugrad.positive(x > 0)
    with pytest.raises(RuntimeError, match="on a bool tensor is not supported"):
        torch.positive(torch.tensor([True]))


def test_isreal_and_is_nonzero(device):
    for data, dt in (([1, 2], "int64"), ([1.5, -0.0], "float32")):
        p, t = _both(data, device, dt)
        _same(plugrad.isreal(p), torch.isreal(t))
        _same(p.isreal(), t.isreal())
    tc = torch.tensor([1 + 0j, 1 + 1j, complex(float("nan"), 0)])
    pc = plugrad.tensor(tc.numpy(), device="cpu")
    _same(plugrad.isreal(pc), torch.isreal(tc))
    for data in ([0.0], [[3]], [True]):
        p, t = _both(data, device, "float32")
        assert p.is_nonzero() == t.is_nonzero() and plugrad.is_nonzero(p) == t.is_nonzero()
    for data, msg in (([], "no values"), ([1, 2], "more than one value")):
        with pytest.raises(RuntimeError, match=msg):
            plugrad.tensor(data, device=device).is_nonzero()
