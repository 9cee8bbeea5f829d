"""Every op torch documents as a view (the 'Tensor Views' page) behaves as one, against torch:
a write through the result reaches the input, ``_base`` is the input's base, values, strides
and gradients match."""
import plugrad
import pytest
import torch

from helpers import helper_test_op


def _T(x):
    return torch if isinstance(x, torch.Tensor) else plugrad


VIEWS = {
    "diagonal": lambda x: x.diagonal(),
    "diagonal offset": lambda x: x.diagonal(1),
    "diagonal negative offset": lambda x: x.diagonal(-1, 1, 0),
    "diagonal 3d": lambda x: x.reshape(2, 2, 2).diagonal(0, 0, 2),
    "diagonal transposed": lambda x: x.t().diagonal(1),
    "diagonal empty": lambda x: x.diagonal(9),
    "torch.diagonal": lambda x: _T(x).diagonal(x, -1),
    "unfold": lambda x: x.unfold(1, 2, 2),
    "unfold step": lambda x: x.unfold(1, 1, 3),
    "unfold dim0": lambda x: x.unfold(0, 1, 1),
    "unfold of a slice": lambda x: x[:, 1:].unfold(1, 1, 2),
    "as_strided": lambda x: x.as_strided((2, 2), (1, 2)),
    "as_strided offset": lambda x: x.as_strided((3,), (2,), 1),
    "torch.as_strided": lambda x: _T(x).as_strided(x, (2, 3), (4, 1)),
    "narrow": lambda x: x.narrow(1, 1, 2),
    "split": lambda x: x.split(2, 1)[1],
    "split_with_sizes": lambda x: x.split_with_sizes([1, 3], 1)[1],
    "torch.split_with_sizes": lambda x: _T(x).split_with_sizes(x, [1, 3], 1)[0],
    "chunk": lambda x: x.chunk(2, 1)[1],
    "tensor_split": lambda x: x.tensor_split(2, 1)[1],
    "unbind": lambda x: x.unbind(0)[1],
    "select": lambda x: x.select(0, 1),
    "t": lambda x: x.t(), "T": lambda x: x.T, "mT": lambda x: x.mT, "H": lambda x: x.H,
    "mH": lambda x: x.mH, "adjoint": lambda x: x.adjoint(),
    "transpose": lambda x: x.transpose(0, 1), "swapaxes": lambda x: x.swapaxes(0, 1),
    "swapdims": lambda x: x.swapdims(0, 1), "movedim": lambda x: x.movedim(0, 1),
    "moveaxis": lambda x: x.moveaxis(0, 1), "permute": lambda x: x.permute(1, 0),
    "unflatten": lambda x: x.unflatten(1, (2, 2)),
    "squeeze": lambda x: x.unsqueeze(0).squeeze(0), "unsqueeze": lambda x: x.unsqueeze(0),
    "detach": lambda x: x.detach(), "view": lambda x: x.view(8),
    "view_as": lambda x: x.view_as(_T(x).empty(4, 2)), "flatten": lambda x: x.flatten(),
    "reshape": lambda x: x.reshape(4, 2), "ravel": lambda x: x.ravel(),
    "basic indexing": lambda x: x[:, 1:3], "select indexing": lambda x: x[1],
    "None indexing": lambda x: x[None], "ellipsis indexing": lambda x: x[..., 1],
    "hsplit": lambda x: x.hsplit(2)[1], "vsplit": lambda x: x.vsplit(2)[1],
}


def _write_through(T, device, fn):
    base = T.arange(8.0).reshape(2, 4)
    base = base.to(device) if T is plugrad else base
    v = fn(base)
    root = base if base._base is None else base._base
    shares = v._base is root
    v.mul_(-1.0).add_(100.0)
    strides = tuple(s for s, n in zip(v.stride(), v.shape) if n != 1)   # size-1: any stride
    return base.cpu().tolist(), v.cpu().tolist(), tuple(v.shape), strides, shares


@pytest.mark.parametrize("name", list(VIEWS))
def test_writes_through_like_torch(device, name):
    got = _write_through(plugrad, device, VIEWS[name])
    want = _write_through(torch, "cpu", VIEWS[name])
    assert got == want


@pytest.mark.parametrize("name", ["diagonal", "diagonal offset", "diagonal 3d",
                                  "diagonal transposed", "unfold", "unfold step",
                                  "unfold of a slice", "as_strided", "as_strided offset"])
def test_strided_view_values_and_grads(device, name):
    fn = VIEWS[name]
    helper_test_op(device, [(2, 4)], lambda x: fn(x.reshape(2, 4)) * 1.0)


def test_overlapping_windows_accumulate_grad(device):
    helper_test_op(device, [(3, 5)], lambda x: x.unfold(1, 3, 1).sum(-1) * 1.0)
    helper_test_op(device, [(6,)], lambda x: x.as_strided((3, 3), (1, 1)) * 1.0)


def test_diagonal_zero_writes_through(device):
    a = plugrad.ones(3, 3, device=device)
    a.diagonal().zero_()
    assert a.cpu().tolist() == torch.ones(3, 3).fill_diagonal_(0).tolist()


def test_diag_and_trace_stay_copies(device):
    a = plugrad.arange(9.0, device=device).reshape(3, 3)
    d = plugrad.diag(a)
    d.zero_()
    assert a.sum().item() == 36.0 and d._base is None
    assert plugrad.trace(a).item() == 12.0


def test_inplace_through_diagonal_with_autograd(device):
    def run(T):
        x = T.ones(3, 3, requires_grad=True, **({"device": device} if T is plugrad else {}))
        y = x * 2
        y.diagonal().mul_(3.0)
        y.sum().backward()
        return x.grad.cpu().tolist() if T is plugrad else x.grad.tolist()
    assert run(plugrad) == run(torch)


@pytest.mark.parametrize("call, exc", [
    (lambda x: x.unfold(1, 5, 1), RuntimeError),
    (lambda x: x.unfold(1, 2, 0), RuntimeError),
    (lambda x: x.unfold(2, 1, 1), IndexError),
    (lambda x: x.diagonal(0, 1, 1), RuntimeError),
    (lambda x: x.as_strided((3, 3), (4, 1)), RuntimeError),
    (lambda x: x.as_strided((2,), (1, 1)), RuntimeError),
])
def test_strided_view_errors_match_torch(call, exc):
    with pytest.raises(exc):
        call(torch.arange(8.0).reshape(2, 4))
    with pytest.raises(exc):
        call(plugrad.arange(8.0).reshape(2, 4))


@pytest.mark.parametrize("make", [lambda x: x, lambda x: x[2:], lambda x: x.reshape(2, 4)[1],
                                  lambda x: x.reshape(2, 4).t()[1:], lambda x: x.narrow(0, 3, 2),
                                  lambda x: x.reshape(2, 4).diagonal(1)])
def test_storage_offset_and_as_strided_offset_like_torch(device, make):
    """as_strided's storage_offset counts from the storage's start, as torch's (before: from
    the input's first element, so x[2:].as_strided(..., 3) read two elements too far)."""
    def run(T):
        x = make(T.arange(8.0) if T is torch else plugrad.arange(8.0, device=device))
        got = [x.storage_offset()]
        if x.is_contiguous() and x.numel() >= 2:
            # (plugrad's window stays inside the input's own elements)
            got.append(x.as_strided((1,), (1,), x.storage_offset() + 1).cpu().tolist())
        return got
    assert run(plugrad) == run(torch)
