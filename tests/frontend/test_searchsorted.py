"""torch.searchsorted / torch.bucketize against torch 2.13, on every device: left and right
sides, batched boundaries, scalars, sorter, out_int32, NaNs and unsorted boundaries (torch's
binary search, not a count), and torch's errors."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import plugrad

NAN, INF = float("nan"), float("inf")
CASES = [([1., 2., 2., 3., NAN], [0., 2., 2.5, 5., NAN, -INF, INF]),
         ([1., 3., 5., 7., 9.], [[3., 6., 9.], [3., 6., 10.]]),
         ([], [1.0, 2.0]), ([4.], [3., 4., 5.]), ([3., 1., 2., 8., 0.], [2.5, 0., 9., 1.]),
         (list(np.sort(np.random.RandomState(0).randn(3, 9), -1)),
          list(np.random.RandomState(1).randn(3, 4)))]


@pytest.mark.parametrize("case", range(len(CASES)))
@pytest.mark.parametrize("right", [False, True])
def test_searchsorted_and_bucketize_equal_torch(case, right, device):
    seq, values = CASES[case]
    ts, tv = torch.tensor(np.array(seq)), torch.tensor(np.array(values))
    ps, pv = plugrad.tensor(np.array(seq), device=device), plugrad.tensor(np.array(values),
                                                                       device=device)
    got = plugrad.searchsorted(ps, pv, right=right)
    assert got.dtype is plugrad.int64
    assert got.tolist() == torch.searchsorted(ts, tv, right=right).tolist()
    side = plugrad.searchsorted(ps, pv, side="right" if right else "left", out_int32=True)
    assert side.dtype is plugrad.int32 and side.tolist() == got.tolist()
    if ts.ndim == 1:
        assert plugrad.bucketize(pv, ps, right=right).tolist() == \
            torch.bucketize(tv, ts, right=right).tolist()


def test_scalars_sorter_and_errors():
    assert plugrad.searchsorted(plugrad.tensor([1., 2., 3.]), 2.0).tolist() == 1
    assert plugrad.searchsorted(plugrad.tensor([1., 2., 3.]), 2.0).ndim == 0
    got = plugrad.searchsorted(plugrad.tensor([3., 1., 2.]), plugrad.tensor([2.5, 0.5]),
                               sorter=plugrad.tensor([1, 2, 0]))
    want = torch.searchsorted(torch.tensor([3., 1., 2.]), torch.tensor([2.5, 0.5]),
                              sorter=torch.tensor([1, 2, 0]))
    assert got.tolist() == want.tolist()
    bad = [lambda L: L.searchsorted(L.ones(3), L.ones(2), side="left", right=True),
           lambda L: L.searchsorted(L.ones(2, 3), L.ones(3, 3)),
           lambda L: L.bucketize(L.ones(3), L.ones(2, 2))]
    for make in bad:
        with pytest.raises(RuntimeError) as want_err:
            make(torch)
        with pytest.raises(RuntimeError) as got_err:
            make(plugrad)
        assert str(got_err.value) == str(want_err.value)
