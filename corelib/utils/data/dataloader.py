"""The DataLoader: batches from a dataset through a sampler and a collate function.

Loading runs in the calling process. ``num_workers > 0`` is honoured in-process: batches go
round-robin to virtual workers, each with its own ``get_worker_info()``, ``worker_init_fn``
call and torch-seeded random streams (plugrad's default generator, Python's ``random`` and
numpy's global state are swapped in while that worker fetches), so datasets that shard by
worker or draw random augmentations see what they would in torch's worker processes, and the
batches equal torch's. The main process's random streams are consumed exactly as torch
consumes them (one ``random_()`` for the base seed per epoch, then the sampler's draws).
"""
from __future__ import annotations

import copy
import random
from collections import deque
from dataclasses import dataclass

import numpy as np

from ._collate import default_collate, default_convert
from .dataset import IterableDataset, Subset, TensorDataset
from .sampler import BatchSampler, RandomSampler, SequentialSampler

__all__ = ["DataLoader", "WorkerInfo", "get_worker_info"]


@dataclass
class WorkerInfo:
    """What ``get_worker_info()`` returns inside a worker."""
    id: int
    num_workers: int
    seed: int
    dataset: object


_worker_info = None


def get_worker_info():
    """The current worker's :class:`WorkerInfo`, or None in the main process."""
    return _worker_info


class _InfiniteConstantSampler:
    """Sampler of an iterable dataset: the dataset decides when to stop."""

    def __iter__(self):
        while True:
            yield None


class DataLoader:
    """Iterate over ``dataset`` in batches.

    Args:
        dataset: a map-style or iterable dataset.
        batch_size (int or None): samples per batch (default 1); None disables batching.
        shuffle (bool): reshuffle every epoch (a :class:`RandomSampler`).
        sampler, batch_sampler: custom index order / custom batches.
        num_workers (int): virtual workers, run in-process (see module docstring).
        collate_fn: merges a list of samples into a batch (default :func:`default_collate`).
        drop_last (bool): drop the last incomplete batch.
        worker_init_fn: called with each worker id before it fetches.
        generator: the generator used for shuffling and the workers' base seed.
        pin_memory, timeout, prefetch_factor, persistent_workers, in_order,
        multiprocessing_context, pin_memory_device: accepted for compatibility.
    """

    _initialized = False

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None,
                 num_workers=0, collate_fn=None, pin_memory=False, drop_last=False, timeout=0,
                 worker_init_fn=None, multiprocessing_context=None, generator=None, *,
                 prefetch_factor=None, persistent_workers=False, pin_memory_device="",
                 in_order=True):
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to "
                             "disable multiprocessing.")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("prefetch_factor option could only be specified in "
                             "multiprocessing.let num_workers > 0 to enable multiprocessing, "
                             "otherwise set prefetch_factor to None.")
        if num_workers > 0 and prefetch_factor is None:
            prefetch_factor = 2
        elif prefetch_factor is not None and prefetch_factor < 0:
            raise ValueError("prefetch_factor option should be non-negative")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")
        self.dataset = dataset
        self.num_workers = num_workers
        self.prefetch_factor = prefetch_factor
        self.pin_memory = pin_memory
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.in_order = in_order
        if isinstance(dataset, IterableDataset):
            self._dataset_kind = "iterable"
            if shuffle not in {False, None}:
                raise ValueError("DataLoader with IterableDataset: expected unspecified shuffle "
                                 f"option, but got shuffle={shuffle}")
            if sampler is not None:
                raise ValueError("DataLoader with IterableDataset: expected unspecified sampler "
                                 f"option, but got sampler={sampler}")
            if batch_sampler is not None:
                raise ValueError("DataLoader with IterableDataset: expected unspecified "
                                 f"batch_sampler option, but got batch_sampler={batch_sampler}")
        else:
            shuffle = bool(shuffle)
            self._dataset_kind = "map"
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, "
                                 "shuffle, sampler, and drop_last")
            batch_size = None
            drop_last = False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually "
                             "exclusive with drop_last")
        if sampler is None:
            if self._dataset_kind == "iterable":
                sampler = _InfiniteConstantSampler()
            elif shuffle:
                sampler = RandomSampler(dataset, generator=generator)
            else:
                sampler = SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.generator = generator
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn
        self.persistent_workers = persistent_workers
        self._IterableDataset_len_called = None
        self._initialized = True

    def __setattr__(self, attr, val):
        if self._initialized and attr in ("batch_size", "batch_sampler", "sampler",
                                          "drop_last", "dataset", "persistent_workers"):
            raise ValueError(f"{attr} attribute should not be set after "
                             f"{type(self).__name__} is initialized")
        super().__setattr__(attr, val)

    @property
    def _auto_collation(self):
        return self.batch_sampler is not None

    @property
    def _index_sampler(self):
        return self.batch_sampler if self._auto_collation else self.sampler

    def __iter__(self):
        return _DataLoaderIter(self)

    def __len__(self):
        if self._dataset_kind == "iterable":
            length = self._IterableDataset_len_called = len(self.dataset)
            if self.batch_size is not None:
                if self.drop_last:
                    return length // self.batch_size
                return -(-length // self.batch_size)
            return length
        return len(self._index_sampler)


class _Fetcher:
    """Turns one index (or list of indices) into a collated batch for one worker."""

    def __init__(self, loader, dataset):
        self.dataset = dataset
        self.kind = loader._dataset_kind
        self.auto = loader._auto_collation
        self.collate_fn = loader.collate_fn
        self.drop_last = loader.drop_last
        self.iterator = iter(dataset) if self.kind == "iterable" else None
        self.ended = False
        # one gather per tensor instead of one index op per sample (same result)
        self.gather = self.auto and loader.collate_fn is default_collate and \
            type(dataset) in (TensorDataset, Subset)

    def fetch(self, index):
        if self.kind == "iterable":
            return self._fetch_iterable(index)
        if self.auto:
            if self.gather:
                batch = self.dataset._gather_batch(index)
                if batch is not None:
                    return batch
            getitems = getattr(self.dataset, "__getitems__", None)
            data = getitems(index) if getitems else [self.dataset[i] for i in index]
        else:
            data = self.dataset[index]
        return self.collate_fn(data)

    def _fetch_iterable(self, index):
        if self.ended:
            raise StopIteration
        if self.auto:
            data = []
            for _ in index:
                try:
                    data.append(next(self.iterator))
                except StopIteration:
                    self.ended = True
                    break
            if len(data) == 0 or (self.drop_last and len(data) < len(index)):
                raise StopIteration
        else:
            data = next(self.iterator)
        return self.collate_fn(data)


class _Worker:
    """A virtual worker: its fetcher, its WorkerInfo and its own random streams."""

    def __init__(self, loader, wid, base_seed):
        from ... import _generator
        kind = loader._dataset_kind
        dataset = copy.copy(loader.dataset) if kind == "iterable" else loader.dataset
        seed = base_seed + wid
        self.info = WorkerInfo(id=wid, num_workers=loader.num_workers, seed=seed,
                               dataset=dataset)
        saved = _save_rng()
        try:   # torch's _worker_loop seeding, then worker_init_fn, inside the worker
            random.seed(seed)
            _generator.manual_seed(seed)
            np.random.seed(_generate_state(base_seed, wid))
            with self:
                if loader.worker_init_fn is not None:
                    loader.worker_init_fn(wid)
                self.fetcher = _Fetcher(loader, dataset)
        finally:
            self.rng = _save_rng()
            _restore_rng(saved)

    def __enter__(self):
        global _worker_info
        self._prev = _worker_info
        _worker_info = self.info

    def __exit__(self, *exc):
        global _worker_info
        _worker_info = self._prev

    def fetch(self, index):
        saved = _save_rng()
        _restore_rng(self.rng)
        try:
            with self:
                return self.fetcher.fetch(index)
        finally:
            self.rng = _save_rng()
            _restore_rng(saved)


class _DataLoaderIter:
    """One epoch over a DataLoader."""

    def __init__(self, loader):
        from ... import _dtype as D
        from ...ops.creation import empty
        self._loader = loader
        self._sampler_iter = iter(loader._index_sampler)
        self._num_yielded = 0
        self._IterableDataset_len_called = loader._IterableDataset_len_called
        # torch draws the workers' base seed per epoch even with no workers
        self._base_seed = empty((), dtype=D.int64).random_(generator=loader.generator).item()
        self._workers = None
        if loader.num_workers == 0:
            self._fetcher = _Fetcher(loader, loader.dataset)
            return
        self._workers = [_Worker(loader, w, self._base_seed) for w in range(loader.num_workers)]
        self._alive = [True] * loader.num_workers
        self._next_worker = 0
        # torch's workers prefetch prefetch_factor * num_workers indices at start-up, which
        # advances the sampler (and its random draws) before the first batch is requested
        self._prefetched = deque()
        for _ in range(loader.prefetch_factor * loader.num_workers):
            try:
                self._prefetched.append(next(self._sampler_iter))
            except StopIteration:
                break

    def __iter__(self):
        return self

    def __len__(self):
        return len(self._loader._index_sampler)

    def _next_index(self):
        if self._workers is not None and self._prefetched:
            return self._prefetched.popleft()
        return next(self._sampler_iter)

    def __next__(self):
        if self._workers is None:
            data = self._fetcher.fetch(self._next_index())
        else:
            data = self._next_from_workers()
        self._num_yielded += 1
        return data

    def _next_from_workers(self):
        while any(self._alive):
            w = self._next_worker
            self._next_worker = (w + 1) % len(self._workers)
            if not self._alive[w]:
                continue
            index = self._next_index()
            try:
                return self._workers[w].fetch(index)
            except StopIteration:
                if self._loader._dataset_kind != "iterable":
                    raise
                self._alive[w] = False   # this worker's copy of the stream is exhausted
        raise StopIteration

    def __getstate__(self):
        raise NotImplementedError(f"{type(self).__name__} cannot be pickled")


def _save_rng():
    from ... import _generator
    return _generator.get_rng_state(), random.getstate(), np.random.get_state()


def _restore_rng(state):
    from ... import _generator
    _generator.set_rng_state(state[0])
    random.setstate(state[1])
    np.random.set_state(state[2])


def _generate_state(base_seed, worker_id):
    """numpy's worker seed: torch's port of numpy's SeedSequence hash of (worker, seed)."""
    INIT_A, MULT_A, INIT_B, MULT_B = 0x43b0d7e5, 0x931e8875, 0x8b51f9dd, 0x58f38ded
    MIX_MULT_L, MIX_MULT_R, XSHIFT, MASK32 = 0xca01f9dd, 0x4973f715, 16, 0xFFFFFFFF
    entropy = [worker_id, base_seed & MASK32, base_seed >> 32, 0]
    pool = [0] * 4
    hash_const_A = INIT_A

    def hash(value):
        nonlocal hash_const_A
        value = (value ^ hash_const_A) & MASK32
        hash_const_A = (hash_const_A * MULT_A) & MASK32
        value = (value * hash_const_A) & MASK32
        return (value ^ (value >> XSHIFT)) & MASK32

    def mix(x, y):
        result = ((MIX_MULT_L * x) & MASK32) - ((MIX_MULT_R * y) & MASK32) & MASK32
        return (result ^ (result >> XSHIFT)) & MASK32

    for i in range(4):
        pool[i] = hash(entropy[i])
    for i_src in range(4):
        for i_dst in range(4):
            if i_src != i_dst:
                pool[i_dst] = mix(pool[i_dst], hash(pool[i_src]))
    hash_const_B = INIT_B
    state = []
    for i_dst in range(4):
        value = (pool[i_dst] ^ hash_const_B) & MASK32
        hash_const_B = (hash_const_B * MULT_B) & MASK32
        value = (value * hash_const_B) & MASK32
        state.append((value ^ (value >> XSHIFT)) & MASK32)
    return state
