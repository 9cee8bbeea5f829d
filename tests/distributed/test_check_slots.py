"""The argument check carried inside small all-reduces (plugrad.distributed.check_slots).

Each case reduces the slots of ``n`` simulated ranks with numpy exactly as MPI would and asks
whether the result equals what a rank expects when every rank sent the same signature.
"""
from __future__ import annotations

import numpy as np
import pytest

from plugrad.distributed import check_slots

REDUCE = {"sum": np.sum, "max": np.max, "min": np.min}
DTYPES = [np.float32, np.float64, np.int32, np.int64]


def reduced(signatures, kind, dtype):
    n = len(signatures)
    sent = [check_slots.slots(s, kind, np.dtype(dtype), n)[0] for s in signatures]
    assert len({len(s) for s in sent}) == 1
    return REDUCE[kind](np.stack(sent), axis=0).astype(dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", ["sum", "max", "min"])
@pytest.mark.parametrize("n", [1, 2, 3, 4, 15, 64, 1000])
def test_equal_signatures_always_pass(kind, dtype, n):
    rng = np.random.default_rng(n)
    for _ in range(20):
        sig = tuple(int(v) for v in rng.integers(0, 1 << 40, 6))
        wanted = check_slots.slots(sig, kind, np.dtype(dtype), n)[1]
        assert reduced([sig] * n, kind, dtype).tobytes() == wanted.tobytes()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", ["sum", "max", "min"])
@pytest.mark.parametrize("n", [2, 3, 4, 15, 64])
def test_one_differing_rank_fails_on_every_rank(kind, dtype, n):
    rng = np.random.default_rng(100 + n)
    for _ in range(50):
        sig = (0, int(rng.integers(1, 1 << 30)), 8, 0, 0, 0)
        other = (0, sig[1] + int(rng.integers(1, 5)), 8, 0, 0, 0)
        ranks = [sig] * n
        ranks[int(rng.integers(0, n))] = other
        got = reduced(ranks, kind, dtype)
        for s in (sig, other):                      # whichever a rank sent, it sees the error
            wanted = check_slots.slots(s, kind, np.dtype(dtype), n)[1]
            assert got.tobytes() != wanted.tobytes()


def test_sums_stay_exact_in_float32_for_large_groups():
    # digits shrink as the group grows so that n * digit**2 stays below 2**24
    for n in (16, 256, 4096):
        sent, wanted = check_slots.slots((1, 2, 3), "sum", np.dtype(np.float32), n)
        assert float((sent[len(sent) // 2:].astype(np.float64) * n).max()) < 2 ** 24
        assert wanted.tobytes() == (sent * n).tobytes()


def test_dtypes_that_cannot_carry_the_check_say_so():
    for dtype in (np.int8, np.uint8, np.int16, np.bool_, np.complex64):
        assert check_slots.slots((1,), "sum", np.dtype(dtype), 2) is None
    assert check_slots.slots((1,), "sum", np.dtype(np.float32), 1 << 20) is None
