"""In-place writes into a tensor whose elements share memory (``expand``'s stride-0 axes).

torch refuses the writes that would update one memory location once per alias (elementwise
in-place ops, ``copy_``, ``out=``, random fills, ``x[:] = v``) with RuntimeError 'unsupported
operation: more than one element of the written-to tensor refers to a single memory
location...', and lets the ones that give every alias one value through (``fill_``,
``zero_``, ``masked_fill_``, ``index_fill_``, ``index_put_``, ``x[i] = v`` of a row). Before:
opencl wrote through the broadcast (``x.expand(2, 3).add_(1)`` added 2), cpu raised numpy's
ValueError 'output array is read-only' for all of them, fill_ included.
"""
from __future__ import annotations

import warnings

import numpy
import pytest
import torch

import plugrad


def _cases(T, dev):
    kw = {} if T is torch else {"device": dev}
    t = lambda v, **k: T.tensor(v, **kw, **k)   # noqa: E731
    return {
        "add_": lambda e: e.add_(1),
        "add_ tensor": lambda e: e.add_(t([1.0, 2.0, 3.0])),
        "add_ alpha": lambda e: e.add_(t([1.0, 2.0, 3.0]), alpha=2),
        "mul_": lambda e: e.mul_(2),
        "div_": lambda e: e.div_(2),
        "sub_": lambda e: e.sub_(1),
        "iadd": lambda e: e.__iadd__(1),
        "imul": lambda e: e.__imul__(3),
        "neg_": lambda e: e.neg_(),
        "exp_": lambda e: e.exp_(),
        "sigmoid_": lambda e: e.sigmoid_(),
        "clamp_": lambda e: e.clamp_(0, 1),
        "pow_": lambda e: e.pow_(2),
        "lerp_": lambda e: e.lerp_(t([1.0, 1.0, 1.0]), 0.5),
        "addcmul_": lambda e: e.addcmul_(t([1.0, 2.0, 3.0]), t([1.0, 1.0, 1.0])),
        "relu_": lambda e: e.relu_(),
        "F.relu inplace": lambda e: T.nn.functional.relu(e, inplace=True),
        "copy_": lambda e: e.copy_(T.arange(6.0, **kw).reshape(2, 3)),
        "copy_ broadcast": lambda e: e.copy_(t([1.0, 2.0, 3.0])),
        "add out=": lambda e: T.add(T.ones(2, 3, **kw), 1, out=e),
        "scatter_add_": lambda e: e.scatter_add_(0, t([[0, 0, 0]]), T.ones(1, 3, **kw)),
        "index_add_": lambda e: e.index_add_(0, t([0]), T.ones(1, 3, **kw)),
        "uniform_": lambda e: e.uniform_(),
        "normal_": lambda e: e.normal_(),
        "bernoulli_": lambda e: e.bernoulli_(0.5),
        "setitem all": lambda e: e.__setitem__(slice(None), 5.0),
        "setitem column": lambda e: e.__setitem__((slice(None), 0), 5.0),
        "setitem ellipsis tensor": lambda e: e.__setitem__(Ellipsis, t([1.0, 2.0, 3.0])),
        # allowed by torch: every alias gets the same value
        "fill_": lambda e: e.fill_(2),
        "zero_": lambda e: e.zero_(),
        "masked_fill_": lambda e: e.masked_fill_(T.ones(2, 3, dtype=T.bool, **kw), 1.0),
        "index_fill_": lambda e: e.index_fill_(1, t([0]), 1.0),
        "index_put_": lambda e: e.index_put_((t([0]),), t(1.0)),
        "setitem row": lambda e: e.__setitem__(0, 5.0),
        "setitem index tensor": lambda e: e.__setitem__(t([0, 1]), 5.0),
    }


@pytest.mark.parametrize("name", sorted(_cases(torch, "cpu")))
def test_write_into_expanded(device, name):
    tx, px = torch.full((3,), 0.5), plugrad.full((3,), 0.5, device=device)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")    # torch's deprecation warning for masked_fill_ etc.
        try:
            _cases(torch, "cpu")[name](tx.expand(2, 3))
            want = None
        except RuntimeError as exc:
            want = exc
        try:
            _cases(plugrad, device)[name](px.expand(2, 3))
            got = None
        except RuntimeError as exc:
            got = exc
    if want is None:
        assert got is None, f"plugrad raised {got!r}; torch wrote {tx.tolist()}"
        if name not in ("masked_fill_",):     # torch's value is whichever alias wrote last
            numpy.testing.assert_allclose(px.cpu().numpy(), tx.numpy())
    else:
        assert got is not None, f"plugrad wrote {px.tolist()}; torch raised {want}"
        assert str(got) == str(want)
        assert px.tolist() == [0.5, 0.5, 0.5], "left half-updated"


def test_overlap_check_does_not_refuse_ordinary_views(device):
    x = plugrad.zeros(4, 3, device=device)
    x[1:3].add_(1)
    x.t()[0].mul_(2)
    x.expand(4, 3).add_(1)                 # expand to its own shape: no stride 0
    plugrad.zeros(1, 3, device=device).expand(1, 3).add_(1)
    plugrad.zeros(3, device=device).expand(0, 3).add_(1)    # nothing written
    y = plugrad.zeros(3, device=device)
    y.expand(2, 3)[1].add_(1)              # one row of the broadcast: no overlap
    assert y.tolist() == [1.0, 1.0, 1.0]
    assert x.tolist() == [[1.0, 1.0, 1.0], [3.0, 2.0, 2.0], [3.0, 2.0, 2.0], [1.0, 1.0, 1.0]]


def test_overlap_with_autograd(device):
    w = plugrad.ones(3, device=device, requires_grad=True)
    e = (w * 2).expand(2, 3)
    with pytest.raises(RuntimeError, match="more than one element of the written-to tensor"):
        e.mul_(3)
