"""utils.data against torch: the same batches, in the same order, from the same seeds."""
from __future__ import annotations

import collections
import random

import numpy as np
import pytest
import torch
import torch.utils.data as tdata

import plugrad
import plugrad.utils.data as pdata

X = np.arange(46, dtype=np.float32).reshape(23, 2)
Y = np.arange(23) % 5


def _listify(obj):
    """Batches as plain Python structures, with each tensor's dtype name and shape."""
    if isinstance(obj, (torch.Tensor, plugrad.Tensor)):
        return (str(obj.dtype).split(".")[1], tuple(obj.shape), obj.tolist())
    if isinstance(obj, dict):
        return {k: _listify(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj).__name__, [_listify(v) for v in obj]
    return obj


def _epochs(mod, data, seed=7, n_epochs=2, make_gen=False, device="cpu", **kw):
    mod.manual_seed(seed)
    ds = data.TensorDataset(mod.tensor(X, device=device), mod.tensor(Y, device=device))
    if make_gen:
        kw["generator"] = mod.Generator().manual_seed(11)
    loader = data.DataLoader(ds, **kw)
    out = [[_listify(b) for b in loader] for _ in range(n_epochs)]
    # what is left of the default stream shows both consumed the same random numbers
    return out, mod.rand(3).tolist(), len(loader)


@pytest.mark.parametrize("kw", [
    dict(batch_size=4), dict(batch_size=4, shuffle=True), dict(batch_size=5, shuffle=True,
                                                               drop_last=True),
    dict(batch_size=6, shuffle=True, make_gen=True), dict(batch_size=1, shuffle=True),
    dict(batch_size=None), dict(batch_size=3, shuffle=True, num_workers=2),
    dict(batch_size=4, sampler=None, shuffle=False, drop_last=True),
])
def test_tensor_dataset_batches_match_torch(kw):
    assert _epochs(plugrad, pdata, **kw) == _epochs(torch, tdata, **kw)


def test_batches_stay_on_the_dataset_device(device):
    ours, _, _ = _epochs(plugrad, pdata, device=device, batch_size=4, shuffle=True)
    assert ours == _epochs(torch, tdata, batch_size=4, shuffle=True)[0]
    ds = pdata.TensorDataset(plugrad.tensor(X, device=device))
    (batch,) = next(iter(pdata.DataLoader(ds, batch_size=3)))
    assert batch.device.type == device


def test_samplers_match_torch():
    def draws(mod, data):
        mod.manual_seed(3)
        g = mod.Generator().manual_seed(5)
        return [list(data.RandomSampler(range(10), replacement=True, num_samples=70)),
                list(data.RandomSampler(range(10), num_samples=25, generator=g)),
                list(data.SubsetRandomSampler([3, 9, 4, 1, 7], generator=g)),
                list(data.WeightedRandomSampler([0.1, 0.5, 2.0, 0.0], 12, generator=g)),
                list(data.WeightedRandomSampler([1, 2, 3, 4, 5], 4, replacement=False)),
                list(data.BatchSampler(data.SequentialSampler(range(7)), 3, False)),
                list(data.BatchSampler(range(7), 3, True)), mod.rand(2).tolist()]
    assert draws(plugrad, pdata) == draws(torch, tdata)


def test_random_split_matches_torch():
    for lengths in ([0.5, 0.3, 0.2], [10, 13], [0.34, 0.33, 0.33]):
        for make_gen in (False, True):
            def split(mod, data):
                mod.manual_seed(1)
                kw = {"generator": mod.Generator().manual_seed(4)} if make_gen else {}
                parts = data.random_split(range(23), lengths, **kw)
                return [list(p.indices) for p in parts], [p[0] for p in parts]
            assert split(plugrad, pdata) == split(torch, tdata)
    with pytest.raises(ValueError, match="Sum of input lengths"):
        pdata.random_split(range(5), [2, 2])
    with pytest.warns(UserWarning, match="Length of split at index 1 is 0"):
        pdata.random_split(range(2), [1.0, 0.0])


Point = collections.namedtuple("Point", "x y")


class _Structured:
    """Samples mixing every type default_collate knows."""

    def __init__(self, mod):
        self.mod = mod

    def __len__(self):
        return 6

    def __getitem__(self, i):
        return {"t": self.mod.full((2,), float(i)), "i": i, "f": i / 2, "b": i % 2 == 0,
                "s": f"s{i}", "np": np.arange(3, dtype=np.int16) + i,
                "npf": np.float32(i) * 1.5, "pt": Point(i, [i, -i]), "tup": (i, float(i))}


def test_default_collate_structures_match_torch():
    ours = [_listify(b) for b in pdata.DataLoader(_Structured(plugrad), batch_size=4)]
    theirs = [_listify(b) for b in tdata.DataLoader(_Structured(torch), batch_size=4)]
    assert ours == theirs
    assert isinstance(next(iter(pdata.DataLoader(_Structured(plugrad), batch_size=2)))["pt"],
                      Point)
    # batch_size=None: no batching, numpy converted
    ours = [_listify(b) for b in pdata.DataLoader(_Structured(plugrad), batch_size=None)]
    theirs = [_listify(b) for b in tdata.DataLoader(_Structured(torch), batch_size=None)]
    assert ours == theirs
    with pytest.raises(TypeError, match="default_collate: batch must contain"):
        pdata.default_collate([object(), object()])
    with pytest.raises(RuntimeError, match="equal size"):
        pdata.default_collate([[1, 2], [3]])


def test_custom_collate_fn_and_batch_sampler():
    ds = pdata.TensorDataset(plugrad.tensor(X))
    loader = pdata.DataLoader(ds, batch_sampler=[[0, 5], [2]], collate_fn=lambda b: len(b))
    assert list(loader) == [2, 1] and len(loader) == 2


def test_dataset_combinators():
    a = pdata.TensorDataset(plugrad.arange(4))
    b = pdata.TensorDataset(plugrad.arange(10, 13))
    cat = a + b
    assert len(cat) == 7 and cat[4][0].item() == 10 and cat[-1][0].item() == 12
    sub = pdata.Subset(cat, [6, 0, 3])
    assert [s[0].item() for s in sub] == [12, 0, 3] and len(sub) == 3
    assert [t.tolist() for t in next(iter(pdata.DataLoader(sub, batch_size=3)))] == \
        [[12, 0, 3]]
    stack = pdata.StackDataset(a, pdata.TensorDataset(plugrad.arange(4) * 2))
    assert stack[2][1][0].item() == 4
    named = pdata.StackDataset(x=a, y=list("abcd"))
    assert named.__getitems__([1, 3])[1]["y"] == "d"
    with pytest.raises(ValueError, match="Size mismatch"):
        pdata.StackDataset(a, b)
    with pytest.raises(AssertionError, match="Size mismatch"):
        pdata.TensorDataset(plugrad.zeros(3), plugrad.zeros(4))
    with pytest.raises(AssertionError, match="empty iterable"):
        pdata.ConcatDataset([])
    # a Subset of a TensorDataset batches through one gather, with the same result
    tsub = pdata.random_split(pdata.TensorDataset(plugrad.tensor(X), plugrad.tensor(Y)),
                              [20, 3], generator=plugrad.Generator().manual_seed(0))[0]
    fast = [[t.tolist() for t in b] for b in pdata.DataLoader(tsub, batch_size=6)]
    slow = [[t.tolist() for t in b] for b in pdata.DataLoader(
        tsub, batch_size=6, collate_fn=lambda s: pdata.default_collate(s))]
    assert fast == slow


def _stream_class(base):
    class Stream(base):
        """Yields its range, split between workers the way torch's docs show."""

        def __init__(self, start, end, mod):
            self.start, self.end, self.mod = start, end, mod

        def __iter__(self):
            info = self.mod.utils.data.get_worker_info()
            if info is None:
                return iter(range(self.start, self.end))
            per = -(-(self.end - self.start) // info.num_workers)
            lo = self.start + info.id * per
            return iter(range(lo, min(lo + per, self.end)))

        def __len__(self):
            return self.end - self.start
    return Stream


_Stream = _stream_class(pdata.IterableDataset)
_TStream = _stream_class(tdata.IterableDataset)


def test_iterable_dataset_and_workers_match_torch():
    for kw in (dict(batch_size=3), dict(batch_size=3, drop_last=True), dict(batch_size=None),
               dict(batch_size=2, num_workers=2), dict(batch_size=4, num_workers=2, drop_last=True)):
        ours = [_listify(b) for b in pdata.DataLoader(_Stream(3, 14, plugrad), **kw)]
        theirs = [_listify(b) for b in tdata.DataLoader(_TStream(3, 14, torch), **kw)]
        assert ours == theirs, kw
    chain = pdata.ChainDataset([_Stream(0, 2, plugrad), _Stream(5, 7, plugrad)])
    assert list(chain) == [0, 1, 5, 6] and len(pdata.DataLoader(_Stream(0, 7, plugrad),
                                                                batch_size=3)) == 3


class _Noisy:
    """A map-style dataset with a random augmentation in every worker's own streams."""

    def __init__(self, mod):
        self.mod = mod

    def __len__(self):
        return 9

    def __getitem__(self, i):
        info = self.mod.utils.data.get_worker_info()
        return (i, self.mod.rand(1).item(), random.random(), np.random.rand(),
                -1 if info is None else info.id)


def test_worker_random_streams_match_torch_processes():
    """num_workers runs in-process, yet each worker's random draws equal torch's workers'."""
    seen = []

    def ours_init(wid):
        seen.append((wid, plugrad.utils.data.get_worker_info().seed))
    plugrad.manual_seed(5)
    ours = [_listify(b) for b in pdata.DataLoader(_Noisy(plugrad), batch_size=2, num_workers=2,
                                                  shuffle=True, worker_init_fn=ours_init)]
    after = plugrad.rand(1).item()
    torch.manual_seed(5)
    theirs = [_listify(b) for b in tdata.DataLoader(_Noisy(torch), batch_size=2, num_workers=2,
                                                    shuffle=True,
                                                    multiprocessing_context="fork")]
    assert ours == theirs
    assert after == torch.rand(1).item()
    assert [w for w, _ in seen] == [0, 1] and seen[1][1] == seen[0][1] + 1
    assert pdata.get_worker_info() is None


@pytest.mark.parametrize("make", [
    lambda m, d: d.DataLoader(range(3), num_workers=-1),
    lambda m, d: d.DataLoader(range(3), timeout=-1),
    lambda m, d: d.DataLoader(range(3), prefetch_factor=2),
    lambda m, d: d.DataLoader(range(3), persistent_workers=True),
    lambda m, d: d.DataLoader(range(3), sampler=[0, 1], shuffle=True),
    lambda m, d: d.DataLoader(range(3), batch_sampler=[[0]], batch_size=2),
    lambda m, d: d.DataLoader(range(3), batch_size=None, drop_last=True),
    lambda m, d: d.DataLoader(range(3), batch_size=0),
    lambda m, d: d.DataLoader(_Stream(0, 3, m) if m is plugrad else _TStream(0, 3, m),
                              shuffle=True),
    lambda m, d: d.BatchSampler(range(3), 2, drop_last=1),
    lambda m, d: d.RandomSampler(range(3), replacement=1),
    lambda m, d: d.RandomSampler(range(3), num_samples=0),
    lambda m, d: d.WeightedRandomSampler([1.0, 2.0], 0),
    lambda m, d: d.WeightedRandomSampler([[1.0, 2.0]], 2),
])
def test_bad_arguments_match_torch(make):
    with pytest.raises(Exception) as et:
        make(torch, tdata)
    with pytest.raises(type(et.value)) as ep:
        make(plugrad, pdata)
    assert str(ep.value) == str(et.value)


def test_loader_attributes_frozen():
    loader = pdata.DataLoader(range(4), batch_size=2)
    with pytest.raises(ValueError, match="batch_size attribute should not be set"):
        loader.batch_size = 3
    loader.num_workers = 0   # other attributes stay writable, as in torch
