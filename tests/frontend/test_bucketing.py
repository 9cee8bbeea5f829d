"""searchsorted, bucketize, bincount, histc against torch: random and edge cases (empty,
nan, weights, minlength, right/side, sorter, out_int32, values outside the range)."""
import numpy as np
import pytest
import torch

import plugrad

NAN = float("nan")


def _both(arr, device, dtype=None):
    t = torch.tensor(arr) if dtype is None else torch.tensor(arr, dtype=getattr(torch, dtype))
    p = plugrad.tensor(t.numpy(), device=device)
    return p, t


def _same(got, want):
    assert str(got.dtype) == str(want.dtype)
    np.testing.assert_array_equal(got.cpu().numpy(), want.numpy())


SEQS = [[1.0, 2.0, 2.0, 3.0, NAN], [], [5.0], [-1.0, 0.0, 0.0, 0.0, 7.5, 8.0, 9.0]]
VALS = [NAN, 2.0, 0.0, 5.0, float("inf"), -float("inf"), 8.0, 0.0, -1.0]


@pytest.mark.parametrize("seq", SEQS)
def test_searchsorted_edges(device, seq):
    ps, ts = _both(seq, device, "float32")
    pv, tv = _both(VALS, device)
    for kw in ({}, {"right": True}, {"side": "right"}, {"side": "left"}, {"out_int32": True}):
        _same(plugrad.searchsorted(ps, pv, **kw), torch.searchsorted(ts, tv, **kw))
    _same(plugrad.searchsorted(ps, 2.0), torch.searchsorted(ts, 2.0))
    if seq and not np.isnan(seq).any():
        for right in (False, True):
            _same(plugrad.bucketize(pv, ps, right=right), torch.bucketize(tv, ts, right=right))


def test_searchsorted_random_batched_sorter_out(device):
    rng = np.random.default_rng(0)
    seq = np.sort(rng.integers(-5, 5, (3, 4, 17)), -1)
    vals = rng.integers(-7, 7, (3, 4, 9))
    ps, ts = _both(seq, device)
    pv, tv = _both(vals, device)
    for right in (False, True):
        _same(plugrad.searchsorted(ps, pv, right=right), torch.searchsorted(ts, tv, right=right))
    raw = rng.normal(size=11).astype(np.float32)
    order = np.argsort(raw)
    pr, tr = _both(raw, device)
    po, to = _both(order, device)
    pq, tq = _both(rng.normal(size=(5, 2)).astype(np.float32), device)
    _same(plugrad.searchsorted(pr, pq, sorter=po), torch.searchsorted(tr, tq, sorter=to))
    _same(plugrad.bucketize(pq, plugrad.sort(pr).values),
          torch.bucketize(tq, torch.sort(tr).values))
    out = plugrad.empty(5, 2, dtype=plugrad.int64, device=device)
    assert plugrad.searchsorted(pr, pq, sorter=po, out=out) is out
    _same(out, torch.searchsorted(tr, tq, sorter=to))


def test_searchsorted_errors(device):
    s = plugrad.tensor([[1.0, 2.0], [3.0, 4.0]], device=device)
    with pytest.raises(RuntimeError, match="first N-1 dimensions"):
        plugrad.searchsorted(s, plugrad.tensor([1.0], device=device))
    with pytest.raises(RuntimeError, match="can't be set to opposites"):
        plugrad.searchsorted(s[0], s[0], side="left", right=True)
    with pytest.raises(RuntimeError, match="side can only be"):
        plugrad.searchsorted(s[0], s[0], side="middle")
    with pytest.raises(RuntimeError, match="boundaries tensor must be 1 dimension"):
        plugrad.bucketize(s[0], s)


def test_bincount(device):
    rng = np.random.default_rng(1)
    x = rng.integers(0, 9, 50)
    w = rng.normal(size=50)
    px, tx = _both(x, device)
    _same(plugrad.bincount(px), torch.bincount(tx))
    _same(px.bincount(minlength=20), tx.bincount(minlength=20))
    for wdt in ("float32", "float64", "int64", "float16"):
        pw, tw = _both(w if "float" in wdt else x, device, wdt)
        got, want = plugrad.bincount(px, pw), torch.bincount(tx, tw)
        assert str(got.dtype) == str(want.dtype)
        np.testing.assert_allclose(got.cpu().numpy(), want.numpy(), rtol=1e-5)
    pe, te = _both([], device, "int64")
    _same(plugrad.bincount(pe), torch.bincount(te))
    _same(plugrad.bincount(pe, minlength=3), torch.bincount(te, minlength=3))
    pu, tu = _both([3, 0, 3], device, "uint8")
    _same(plugrad.bincount(pu), torch.bincount(tu))


def test_bincount_errors(device):
    with pytest.raises(RuntimeError, match="non-negative"):
        plugrad.bincount(plugrad.tensor([1, -1], device=device))
    with pytest.raises(RuntimeError, match="non-negative"):
        plugrad.bincount(plugrad.tensor([[1]], device=device))
    with pytest.raises(NotImplementedError, match="not implemented for 'Float'"):
        plugrad.bincount(plugrad.tensor([1.0], device=device))
    with pytest.raises(RuntimeError, match="minlength should be >= 0"):
        plugrad.bincount(plugrad.tensor([1], device=device), minlength=-1)
    with pytest.raises(RuntimeError, match="same length as input"):
        plugrad.bincount(plugrad.tensor([1], device=device),
                         plugrad.tensor([1.0, 2.0], device=device))


@pytest.mark.parametrize("kw", [dict(bins=4, min=0, max=3), dict(bins=3), dict(),
                                dict(bins=7, min=-1, max=1), dict(bins=5, min=2, max=2)])
def test_histc(device, kw):
    rng = np.random.default_rng(2)
    data = np.concatenate([rng.normal(size=300), [0.0, 1, 2, 2.5, 3, -1, 4]])
    for arr in (data, [2.0, 2.0], [], data.astype(np.float64), np.append(data, NAN)):
        dt = "float64" if getattr(arr, "dtype", None) == np.float64 else "float32"
        p, t = _both(arr, device, dt)
        try:
            want = torch.histc(t, **kw)
        except RuntimeError:                    # auto range over data with nan
            with pytest.raises(RuntimeError, match="is not finite"):
                plugrad.histc(p, **kw)
            continue
        _same(plugrad.histc(p, **kw), want)
        _same(p.histc(**kw), t.histc(**kw))


def test_histc_errors(device):
    x = plugrad.tensor([1.0, 2.0], device=device)
    with pytest.raises(NotImplementedError, match="not implemented for 'Long'"):
        plugrad.histc(plugrad.tensor([1, 2], device=device))
    with pytest.raises(RuntimeError, match="bins must be > 0"):
        plugrad.histc(x, bins=0)
    with pytest.raises(RuntimeError, match="max must be larger than min"):
        plugrad.histc(x, min=3, max=1)


CONSEC = [[1, 1, 2, 2, 3, 1, 1, 2], [], [5], [[1, 1], [1, 1], [2, 3], [1, 1]],
          [[0, 0, 1], [0, 0, 1]]]


@pytest.mark.parametrize("arr", CONSEC, ids=str)
def test_unique_consecutive(device, arr):
    p, t = _both(arr, device, "int64")
    dims = [None] + list(range(-t.dim(), t.dim())) if t.dim() else [None]
    for dim in dims:
        for inv in (False, True):
            for cnt in (False, True):
                got = plugrad.unique_consecutive(p, return_inverse=inv, return_counts=cnt,
                                                 dim=dim)
                want = torch.unique_consecutive(t, return_inverse=inv, return_counts=cnt,
                                                dim=dim)
                if isinstance(want, tuple):
                    assert isinstance(got, tuple) and len(got) == len(want)
                    for g, w in zip(got, want):
                        _same(g, w)
                else:
                    _same(got, want)
    _same(p.unique_consecutive(), t.unique_consecutive())
    pf, tf = _both([NAN, NAN, 1.0, 1.0], device, "float32")
    np.testing.assert_array_equal(plugrad.unique_consecutive(pf).cpu().numpy(),
                                  torch.unique_consecutive(tf).numpy())
