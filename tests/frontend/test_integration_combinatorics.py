"""trapezoid / trapz / cumulative_trapezoid, cartesian_prod, block_diag, cov, corrcoef against
torch: values, dtypes, gradients, errors."""
import numpy as np
import pytest
import torch

import plugrad


def _both(arr, device, dtype="float32", grad=False):
    t = torch.tensor(np.asarray(arr), dtype=getattr(torch, dtype), requires_grad=grad)
    p = plugrad.tensor(t.detach().numpy(), device=device, requires_grad=grad)
    return p, t


def _close(got, want, rtol=1e-5, atol=1e-6):
    assert str(got.dtype) == str(want.dtype)
    assert tuple(got.shape) == tuple(want.shape)
    np.testing.assert_allclose(got.detach().cpu().numpy(), want.detach().numpy(), rtol=rtol,
                               atol=atol)


RNG = np.random.default_rng(0)


@pytest.mark.parametrize("name", ["trapezoid", "trapz", "cumulative_trapezoid"])
def test_trapezoid_family(device, name):
    pf, tf = getattr(plugrad, name), getattr(torch, name)
    py, ty = _both(RNG.normal(size=(3, 5)), device, grad=True)
    px, tx = _both(np.sort(RNG.normal(size=5)), device)
    p2, t2 = _both(np.sort(RNG.normal(size=(3, 5)), 1), device)
    for args, kw in (((), {}), ((), {"dx": 0.5}), ((), {"dim": 0}), ((px,), {}),
                     ((p2,), {}), ((), {"dx": 2, "dim": -2})):
        targs = tuple(tx if a is px else t2 for a in args)
        got, want = pf(py, *args, **kw), tf(ty, *targs, **kw)
        _close(got, want)
        gp = plugrad.ones_like(got)
        got.backward(gp)
        want.backward(torch.ones_like(want))
        _close(py.grad, ty.grad)
        py.grad = None
        ty.grad = None
    pi, ti = _both([1, 2, 4], device, "int64")
    _close(pf(pi), tf(ti))
    _close(pf(pi, dx=2), tf(ti, dx=2))
    for shape in ((3, 0), (1,), (2, 1)):
        pe, te = _both(np.zeros(shape), device)
        _close(pf(pe), tf(te))
    with pytest.raises(RuntimeError, match="one `x` value for each sample"):
        pf(py, plugrad.tensor([1.0, 2.0], device=device))


def test_cartesian_prod_and_block_diag(device):
    pa, ta = _both([1.0, 2.0], device, grad=True)
    pb, tb = _both([3.0, 4.0, 5.0], device, grad=True)
    pc, tc = _both([7.0], device)
    got, want = plugrad.cartesian_prod(pa, pb, pc), torch.cartesian_prod(ta, tb, tc)
    _close(got, want)
    (got * got).sum().backward()
    (want * want).sum().backward()
    _close(pa.grad, ta.grad)
    _close(plugrad.cartesian_prod(pa), torch.cartesian_prod(ta))
    with pytest.raises(RuntimeError, match="Expect a 1D vector"):
        plugrad.cartesian_prod(pa.reshape(1, 2), pb)
    pm, tm = _both(RNG.normal(size=(2, 3)), device, grad=True)
    pi, ti = _both([4, 5], device, "int64")
    ps, ts = _both(3.0, device, "float64")
    got, want = plugrad.block_diag(pm, pi, ps), torch.block_diag(tm, ti, ts)
    _close(got, want)
    got.sum().backward()
    want.sum().backward()
    _close(pm.grad, tm.grad)
    _close(plugrad.block_diag(pi, pi), torch.block_diag(ti, ti))
    with pytest.raises(RuntimeError, match="2 or fewer dimensions"):
        plugrad.block_diag(pm, pm.reshape(1, 2, 3))


def test_cov_and_corrcoef(device):
    data = RNG.normal(size=(3, 8))
    px, tx = _both(data, device, grad=True)
    pf, tf = _both(RNG.integers(0, 4, 8), device, "int64")
    pw, tw = _both(RNG.uniform(0.1, 2, 8), device)
    for kw in ({}, {"correction": 0}, {"correction": 2}):
        _close(plugrad.cov(px, **kw), torch.cov(tx, **kw))
        _close(plugrad.cov(px, fweights=pf, **kw), torch.cov(tx, fweights=tf, **kw))
        _close(plugrad.cov(px, aweights=pw, **kw), torch.cov(tx, aweights=tw, **kw))
        _close(plugrad.cov(px, fweights=pf, aweights=pw, **kw),
               torch.cov(tx, fweights=tf, aweights=tw, **kw))
        _close(px[0].cov(**kw), tx[0].cov(**kw))
    _close(plugrad.corrcoef(px), torch.corrcoef(tx))
    _close(px[1].corrcoef(), tx[1].corrcoef())
    pi, ti = _both([[1, 2, 4], [0, 1, 5]], device, "int64")
    _close(plugrad.cov(pi), torch.cov(ti))
    _close(plugrad.corrcoef(pi), torch.corrcoef(ti))
    (plugrad.cov(px, aweights=pw).sum() + plugrad.corrcoef(px).sum()).backward()
    (torch.cov(tx, aweights=tw).sum() + torch.corrcoef(tx).sum()).backward()
    _close(px.grad, tx.grad, rtol=1e-4, atol=1e-5)
    with pytest.raises(RuntimeError, match="fweights cannot be negative"):
        plugrad.cov(px, fweights=-pf - 1)
    with pytest.raises(RuntimeError, match="integral dtype"):
        plugrad.cov(px, fweights=pw)
    with pytest.raises(RuntimeError, match="floating point dtype"):
        plugrad.cov(px, aweights=pf)
    with pytest.raises(ValueError, match="two or fewer dimensions"):
        plugrad.cov(px.reshape(1, 3, 8))
