"""Sparse COO tensors against torch: construction, printing, coalesce, accessors and their
errors, sparse + sparse, dense + sparse, scaling, mm / matmul / @ with gradients to the dense
operand and to the values, torch.sparse.sum, transpose, moves between devices, save/load."""
from __future__ import annotations

import io
import pickle
import warnings

import numpy as np
import plugrad
import pytest
import torch

warnings.filterwarnings("ignore", message="Sparse invariant checks")

IDX = [[1, 0, 1, 2], [2, 0, 2, 1]]          # (1, 2) twice: uncoalesced
VAL = [3.0, 4.0, 5.0, -1.5]


def make(lib, device=None, indices=IDX, values=VAL, size=(3, 3), **kw):
    dev = {} if lib is torch else {"device": device}
    return lib.sparse_coo_tensor(lib.tensor(indices, **dev), lib.tensor(values, **dev), size,
                                 **kw)


def same_sparse(got, want, exact=True):
    """Same layout, shape, dtype, coalesced flag, indices and values as torch's tensor."""
    assert got.is_sparse and want.is_sparse
    assert got.layout is plugrad.sparse_coo
    assert tuple(got.shape) == tuple(want.shape)
    assert str(got.dtype) == str(want.dtype)
    assert got.is_coalesced() == want.is_coalesced()
    assert got.sparse_dim() == want.sparse_dim() and got.dense_dim() == want.dense_dim()
    assert got._nnz() == want._nnz()
    np.testing.assert_array_equal(got._indices().cpu().numpy(), want._indices().numpy())
    gv, wv = got._values().detach().cpu().numpy(), want._values().detach().numpy()
    if exact:
        np.testing.assert_array_equal(gv, wv)
    else:
        np.testing.assert_allclose(gv, wv, rtol=1e-6, atol=1e-6)


def same_dense(got, want, rtol=1e-6, atol=1e-6):
    assert not got.is_sparse and tuple(got.shape) == tuple(want.shape)
    np.testing.assert_allclose(got.detach().cpu().numpy(), want.detach().numpy(), rtol=rtol,
                               atol=atol)


def test_construct_and_accessors(device):
    got, want = make(plugrad, device), make(torch)
    same_sparse(got, want)
    assert got.layout is plugrad.sparse_coo and repr(got.layout) == "torch.sparse_coo"
    assert plugrad.ones(2).layout is plugrad.strided and not plugrad.ones(2).is_sparse
    assert str(got.device).startswith(device)
    for name in ("indices", "values"):
        with pytest.raises(RuntimeError, match=f"Cannot get {name} on an uncoalesced tensor"):
            getattr(got, name)()
        with pytest.raises(RuntimeError):
            getattr(want, name)()
    c, wc = got.coalesce(), want.coalesce()
    same_sparse(c, wc)
    np.testing.assert_array_equal(c.indices().cpu().numpy(), wc.indices().numpy())
    np.testing.assert_array_equal(c.values().cpu().numpy(), wc.values().numpy())
    same_dense(got.to_dense(), want.to_dense())


def test_inferred_size_dtype_and_hybrid(device):
    for kw in ({}, {"dtype": torch.float64}, {"dtype": torch.int64}):
        pkw = {k: getattr(plugrad, str(v).split(".")[1]) for k, v in kw.items()}
        g = plugrad.sparse_coo_tensor(IDX, VAL, device=device, **pkw)
        w = torch.sparse_coo_tensor(IDX, VAL, **kw)
        same_sparse(g, w)
    # numpy int32 indices (pytorch/examples gcn) and 2 dense dims
    vals = np.arange(24, dtype="float32").reshape(4, 2, 3)
    g = plugrad.sparse_coo_tensor(np.array(IDX, "int32"), plugrad.tensor(vals, device=device),
                                  (3, 3, 2, 3))
    w = torch.sparse_coo_tensor(np.array(IDX, "int32"), torch.tensor(vals), (3, 3, 2, 3))
    same_sparse(g, w)
    same_dense(g.to_dense(), w.to_dense())
    same_sparse(g.coalesce(), w.coalesce())


def _on(device):
    return {} if device is None else {"device": device}


def test_repr_like_torch(device):
    cases = [lambda L, d: make(L, d), lambda L, d: make(L, d).coalesce(),
             lambda L, d: make(L, d, size=(3, 3), dtype=L.float64),
             lambda L, d: make(L, d, requires_grad=True),
             lambda L, d: L.sparse_coo_tensor(L.zeros(1, 0, dtype=L.int64),
                                              L.zeros(0, 2), (5, 2), **_on(d)),
             lambda L, d: L.zeros(2, 3, 2, **_on(d)).to_sparse(2)]
    for case in cases:
        made = case(plugrad, device)
        want = repr(case(torch, None))
        if device != "cpu":       # torch prints a non-default device first among the suffixes
            want = want.replace("       size=", f"       device='{made.device}', size=", 1)
            if max(len(line) for line in want.splitlines()) > 80:
                continue              # (torch would wrap the longer line: not comparable)
        assert repr(made) == want


def test_dense_to_sparse(device):
    x = np.array([[0, 1.5, 0], [2, 0, 0], [0, 0, -3]], "float32")
    same_sparse(plugrad.tensor(x, device=device).to_sparse(), torch.tensor(x).to_sparse())
    y = np.zeros((3, 2, 2), "float32")
    y[1, 0, 1] = 4
    same_sparse(plugrad.tensor(y, device=device).to_sparse(1),
                torch.tensor(y).to_sparse(1))
    same_sparse(plugrad.tensor(y, device=device).to_sparse_coo(),
                torch.tensor(y).to_sparse_coo())
    d = plugrad.tensor(x, device=device)
    assert d.to_dense() is d


def test_sparse_plus_sparse(device):
    other = ([[0, 2, 1], [0, 1, 1]], [10.0, 20.0, 30.0])
    for coalesce_a in (False, True):
        for coalesce_b in (False, True):
            a, ta = make(plugrad, device), make(torch)
            b, tb = make(plugrad, device, *other), make(torch, None, *other)
            if coalesce_a:
                a, ta = a.coalesce(), ta.coalesce()
            if coalesce_b:
                b, tb = b.coalesce(), tb.coalesce()
            same_sparse(a + b, ta + tb)
            same_sparse(a - b, ta - tb)
            same_sparse(plugrad.add(a, b, alpha=2) if False else a.add(b, alpha=2),
                        ta.add(tb, alpha=2))
            a.add_(b)
            ta.add_(tb)
            same_sparse(a, ta)


def test_dense_plus_sparse_and_scalars(device):
    s, ts = make(plugrad, device), make(torch)
    eye, teye = plugrad.eye(3, device=device), torch.eye(3)
    same_dense(eye + s, teye + ts)
    ints = make(plugrad, device, dtype=plugrad.int64)
    same_dense(eye + ints, teye + make(torch, dtype=torch.int64))       # gcn: eye(V) + adj
    same_sparse(s * 2, ts * 2)
    same_sparse(2 * s, 2 * ts)
    same_sparse(s / 4, ts / 4)
    same_sparse(-s, -ts)
    same_sparse(s * plugrad.tensor(3.0, device=device), ts * torch.tensor(3.0))
    with pytest.raises(RuntimeError, match=r"add\(sparse, dense\) is not supported"):
        s + eye
    with pytest.raises(RuntimeError):
        ts + teye
    e = plugrad.zeros(3, 3, device=device)
    te = torch.zeros(3, 3)
    e.add_(s, alpha=0.5)
    te.add_(ts, alpha=0.5)
    same_dense(e, te)


def test_mm_values_and_grads(device):
    rng = np.random.default_rng(0)
    dense = rng.standard_normal((3, 4)).astype("float32")
    up = rng.standard_normal((3, 4)).astype("float32")
    for fn in ("sparse.mm", "mm", "matmul", "@", "spmm"):
        got_v = plugrad.tensor(VAL, device=device, requires_grad=True)
        want_v = torch.tensor(VAL, requires_grad=True)
        got_d = plugrad.tensor(dense, device=device, requires_grad=True)
        want_d = torch.tensor(dense, requires_grad=True)
        outs = []
        for L, v, d in ((plugrad, got_v, got_d), (torch, want_v, want_d)):
            s = L.sparse_coo_tensor(L.tensor(IDX, device=v.device), v, (3, 3))
            out = {"sparse.mm": lambda: L.sparse.mm(s, d), "mm": lambda: L.mm(s, d),
                   "matmul": lambda: L.matmul(s, d), "@": lambda: s @ d,
                   "spmm": lambda: L.spmm(s, d)}[fn]()
            (out * L.tensor(up, device=v.device)).sum().backward()
            outs.append(out)
        same_dense(outs[0], outs[1])
        assert outs[0].grad_fn.name() == outs[1].grad_fn.name()
        same_dense(got_d.grad, want_d.grad)
        same_dense(got_v.grad, want_v.grad)


def test_grad_of_sparse_leaf(device):
    """torch.sparse.mm: the sparse operand's gradient keeps its positions; torch.mm: dense."""
    dense = np.arange(12, dtype="float32").reshape(3, 4) / 7
    for fn in ("sparse.mm", "mm"):
        s = make(plugrad, device, requires_grad=True)
        ts = make(torch, requires_grad=True)
        for L, a in ((plugrad, s), (torch, ts)):
            d = L.tensor(dense, device=a.device)
            out = L.sparse.mm(a, d) if fn == "sparse.mm" else L.mm(a, d)
            out.pow(2).sum().backward()
        if ts.grad.is_sparse:
            same_sparse(s.grad, ts.grad, exact=False)
        else:
            same_dense(s.grad, ts.grad)


def test_dense_at_sparse(device):
    rng = np.random.default_rng(1)
    dense = rng.standard_normal((2, 3)).astype("float32")
    d, td = plugrad.tensor(dense, device=device, requires_grad=True), \
        torch.tensor(dense, requires_grad=True)
    out, tout = d @ make(plugrad, device), td @ make(torch)
    same_dense(out, tout)
    out.pow(2).sum().backward()
    tout.pow(2).sum().backward()
    same_dense(d.grad, td.grad)
    # gcn's renormalisation: sparse @ dense @ sparse
    diag = plugrad.diag(plugrad.tensor([1.0, 0.5, 0.25], device=device)).to_sparse()
    tdiag = torch.diag(torch.tensor([1.0, 0.5, 0.25])).to_sparse()
    adj = plugrad.eye(3, device=device) + make(plugrad, device)
    tadj = torch.eye(3) + make(torch)
    same_dense(diag @ adj @ diag, tdiag @ tadj @ tdiag)


def test_mm_errors(device):
    s = make(plugrad, device)
    with pytest.raises(RuntimeError, match="cannot be multiplied"):
        plugrad.mm(s, plugrad.ones(4, 2, device=device))
    with pytest.raises(RuntimeError, match="same dtype"):
        plugrad.mm(s, plugrad.ones(3, 2, device=device, dtype=plugrad.float64))
    with pytest.raises(NotImplementedError, match="Could not run"):
        s.exp()


def test_sparse_sum(device):
    s, ts = make(plugrad, device), make(torch)
    same_dense(plugrad.sparse.sum(s), torch.sparse.sum(ts))
    for dim in (0, 1, (0, 1)):
        got, want = plugrad.sparse.sum(s, dim), torch.sparse.sum(ts, dim)
        if want.is_sparse:
            same_sparse(got, want)
        else:
            same_dense(got, want)
    vals = np.arange(8, dtype="float32").reshape(4, 2)
    h = plugrad.sparse_coo_tensor(IDX, plugrad.tensor(vals, device=device), (3, 3, 2))
    th = torch.sparse_coo_tensor(IDX, torch.tensor(vals), (3, 3, 2))
    same_sparse(plugrad.sparse.sum(h, 2), torch.sparse.sum(th, 2))
    same_sparse(plugrad.sparse.sum(h, 0), torch.sparse.sum(th, 0))
    v = plugrad.tensor(VAL, device=device, requires_grad=True)
    tv = torch.tensor(VAL, requires_grad=True)
    plugrad.sparse.sum(plugrad.sparse_coo_tensor(IDX, v, (3, 3)) * 2).backward()
    torch.sparse.sum(torch.sparse_coo_tensor(IDX, tv, (3, 3)) * 2).backward()
    same_dense(v.grad, tv.grad)


def test_transpose_and_t(device):
    s, ts = make(plugrad, device), make(torch)
    same_sparse(s.t(), ts.t())
    same_sparse(s.transpose(0, 1), ts.transpose(0, 1))


def test_to_device_and_cpu(device):
    s = make(plugrad, device)
    back = s.cpu()
    assert back.is_sparse and back.device.type == "cpu"
    same_sparse(back, make(torch))
    there = make(plugrad, "cpu").to(device)
    assert there.is_sparse and str(there.device).startswith(device)
    same_sparse(there.double(), make(torch).double())


def test_construction_errors(device):
    with pytest.raises(RuntimeError, match="size is inconsistent with indices"):
        plugrad.sparse_coo_tensor([[0, 3]], [1.0, 2.0], (2,), device=device)
    with pytest.raises(RuntimeError, match="indices and values must have same nnz"):
        plugrad.sparse_coo_tensor([[0, 1]], [1.0], (2,), device=device)
    with pytest.raises(RuntimeError, match="number of dimensions must be sparse_dim"):
        plugrad.sparse_coo_tensor([[0, 1]], [1.0, 2.0], (2, 2), device=device)


def test_values_gradient_through_to_dense(device):
    v = plugrad.tensor(VAL, device=device, requires_grad=True)
    tv = torch.tensor(VAL, requires_grad=True)
    w = np.arange(9, dtype="float32").reshape(3, 3)
    out = plugrad.sparse_coo_tensor(IDX, v, (3, 3)).to_dense()
    tout = torch.sparse_coo_tensor(IDX, tv, (3, 3)).to_dense()
    (out * plugrad.tensor(w, device=device)).sum().backward()
    (tout * torch.tensor(w)).sum().backward()
    same_dense(v.grad, tv.grad)
    x = plugrad.tensor(w, device=device, requires_grad=True)
    tx = torch.tensor(w, requires_grad=True)
    (x.to_sparse() * 3).to_dense().sum().backward()
    (tx.to_sparse() * 3).to_dense().sum().backward()
    same_dense(x.grad, tx.grad)


def test_save_load_and_pickle(device, tmp_path):
    s = make(plugrad, device)
    path = tmp_path / "s.pt"
    plugrad.save({"adj": s}, path)
    back = plugrad.load(path)["adj"]
    same_sparse(back.cpu(), make(torch))
    assert str(back.device).startswith(device)
    # files torch writes load in plugrad and the other way round
    torch.save({"adj": make(torch).coalesce()}, tmp_path / "t.pt")
    same_sparse(plugrad.load(tmp_path / "t.pt")["adj"], make(torch).coalesce())
    plugrad.save(make(plugrad, device).coalesce().cpu(), tmp_path / "p.pt")
    loaded = torch.load(tmp_path / "p.pt")
    assert loaded.is_sparse and loaded.is_coalesced()
    assert torch.equal(loaded.to_dense(), make(torch).to_dense())
    same_sparse(pickle.loads(pickle.dumps(s)).cpu(), make(torch))
    buf = io.BytesIO()
    plugrad.save(s, buf)
    buf.seek(0)
    same_sparse(plugrad.load(buf).cpu(), make(torch))


def test_functions_and_dense_methods_take_sparse_operands(device):
    """torch.add / Tensor.add / torch.mul / torch.sum with a sparse operand follow torch's
    layout rules: dense + sparse is dense, sparse + dense or a scalar is refused, sparse *
    dense is sparse, the sum of a sparse tensor is a dense 0-dim tensor."""
    s, ts = make(plugrad, device), make(torch)
    dense = np.arange(9, dtype="float32").reshape(3, 3)
    d, td = plugrad.tensor(dense, device=device), torch.tensor(dense)
    same_dense(plugrad.add(d, s), torch.add(td, ts))
    same_dense(d.add(s, alpha=2), td.add(ts, alpha=2))
    same_sparse(plugrad.mul(s, d), torch.mul(ts, td))
    same_sparse(d * s, td * ts)
    same_sparse(plugrad.mul(s, 2.0), torch.mul(ts, 2.0))
    same_dense(plugrad.sum(s), torch.sum(ts))
    same_dense(s.sum(), ts.sum())
    for bad in (lambda L, a, b: a + 1, lambda L, a, b: 1 + a, lambda L, a, b: a.add(b),
                lambda L, a, b: L.add(a, b)):
        with pytest.raises(RuntimeError) as expected:
            bad(torch, ts, td)
        with pytest.raises(RuntimeError) as raised:
            bad(plugrad, s, d)
        assert str(raised.value) == str(expected.value)


ZERO_PRESERVING = ["abs", "sqrt", "sin", "tan", "tanh", "asin", "atan", "sinh",
                   "atanh", "expm1", "log1p", "floor", "ceil", "round", "trunc", "sign", "sgn",
                   "erf", "erfinv", "deg2rad", "rad2deg", "frac", "relu", "square", "signbit",
                   "isnan", "isinf", "nan_to_num"]


def test_zero_preserving_unary_methods(device):
    idx, val = [[1, 0, 1, 2]], [0.3, -0.2, 0.1, 0.45]
    for name in ZERO_PRESERVING:
        got = getattr(make(plugrad, device, idx, val, (4,)), name)()
        want = getattr(make(torch, None, idx, val, (4,)), name)()
        same_sparse(got, want, exact=False)
    same_sparse(make(plugrad, device, idx, val, (4,)).pow(2),
                make(torch, None, idx, val, (4,)).pow(2), exact=False)
    # gradients through the coalescing (torch differentiates only some of these sparse ops)
    for name in ("square", "abs"):
        v = plugrad.tensor([0.3, 0.2, 0.1], device=device, requires_grad=True)
        tv = torch.tensor([0.3, 0.2, 0.1], requires_grad=True)
        plugrad.sparse.sum(getattr(plugrad.sparse_coo_tensor([[1, 0, 1]], v, (3,)), name)()) \
            .backward()
        torch.sparse.sum(getattr(torch.sparse_coo_tensor([[1, 0, 1]], tv, (3,)), name)()) \
            .backward()
        np.testing.assert_allclose(v.grad.cpu().numpy(), tv.grad.numpy(), rtol=1e-6)
