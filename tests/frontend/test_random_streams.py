"""plugrad.random against torch's CPU generator: same seed, same bits, same stream position.

torch is the oracle (imported at the top: without it this file fails, it does not skip).
Every check compares the raw bits of the arrays and then the generator's 5056-byte state,
so a transform that draws one value too many or too few fails even when values agree.
"""
import math
import warnings

import numpy as np
import pytest
import torch

from plugrad.random import STATE_SIZE, HostGenerator

SEEDS = [0, 1, 42, 2**32 + 5, 0xDEADBEEFCAFEF00D]
SIZES = [(), 1, 2, 15, 16, 17, 100, 1000, 10007, (3, 5, 7), (4, 0)]
FLOATS = ["float16", "float32", "float64"]
INTS = ["uint8", "int8", "int16", "int32", "int64"]


def pair(seed):
    """A HostGenerator and a torch.Generator seeded alike."""
    return HostGenerator(seed), torch.Generator().manual_seed(seed)


def tsize(size):
    return (size,) if isinstance(size, int) else size


def assert_same(ours, theirs, g=None, tg=None):
    """Bitwise equality (floats compared as unsigned ints: nan and -0.0 count), then equal states."""
    theirs = theirs.numpy()
    assert ours.dtype == theirs.dtype and ours.shape == theirs.shape
    assert ours.flags.c_contiguous
    if ours.dtype.kind == "f":
        ours, theirs = ours.view(f"u{ours.itemsize}"), theirs.view(f"u{theirs.itemsize}")
    bad = np.flatnonzero(ours.ravel() != theirs.ravel())
    assert bad.size == 0, f"{bad.size} of {ours.size} differ, first at {bad[:5]}"
    if g is not None:
        assert_same_state(g, tg)


def assert_same_state(g, tg):
    ours, theirs = g.get_state(), tg.get_state().numpy()
    assert ours.dtype == np.uint8 and ours.shape == (STATE_SIZE,)
    assert np.array_equal(ours, theirs), f"state bytes differ at {np.flatnonzero(ours != theirs)[:8]}"


def same_error(ours, theirs):
    """Both calls raise the same exception type with the same first line."""
    with pytest.raises(Exception) as want:
        theirs()
    with pytest.raises(type(want.value)) as got:
        ours()
    assert str(got.value).splitlines()[0] == str(want.value).splitlines()[0]


# ---------------------------------------------------------------- seeding and state


@pytest.mark.parametrize("seed", SEEDS + [-1, -(2**63), 2**64 - 1])
def test_seed_gives_torch_state(seed):
    g, tg = pair(seed)
    assert g.initial_seed() == tg.initial_seed()
    assert_same_state(g, tg)


def test_default_seed_is_torch_generators():
    g, tg = HostGenerator(), torch.Generator()
    assert g.initial_seed() == tg.initial_seed()
    assert_same(g.uniform(5, "float32"), torch.rand(5, generator=tg), g, tg)


@pytest.mark.parametrize("seed", [2**64, -(2**63) - 1, 2**100, 1.5, True])
def test_bad_seeds_raise_like_torch(seed):
    same_error(lambda: HostGenerator().manual_seed(seed), lambda: torch.Generator().manual_seed(seed))


def test_seed_is_fresh_and_recorded():
    g = HostGenerator()
    s = g.seed()
    assert g.initial_seed() == s and 0 <= s < 2**64
    tg = torch.Generator().manual_seed(s)
    assert_same(g.uniform(4, "float32"), torch.rand(4, generator=tg), g, tg)


@pytest.mark.parametrize("draws", [0, 1, 623, 624, 625, 1500])
def test_state_round_trips_both_ways(draws):
    g, tg = pair(7)
    g.random_bits(draws)
    torch.rand(draws, generator=tg)
    g.normal(3, "float64")  # leaves a cached Box-Muller sample in the state
    torch.randn(3, generator=tg, dtype=torch.float64)
    assert_same_state(g, tg)
    # torch's bytes into plugrad, plugrad's bytes into torch
    mine, theirs = HostGenerator(), torch.Generator()
    mine.set_state(tg.get_state().numpy())
    theirs.set_state(torch.from_numpy(g.get_state()))
    for ours, ref in ((mine, tg), (g, theirs)):
        assert_same(ours.normal(5, "float32"), torch.randn(5, generator=ref), ours, ref)
        assert_same(ours.uniform(700, "float64"), torch.rand(700, generator=ref, dtype=torch.float64), ours, ref)


def test_clone_is_independent():
    g, tg = pair(3)
    g.normal(1, "float32")  # the clone must carry the cached normal sample too
    torch.randn(1, generator=tg)
    twin, ttwin = g.clone(), tg.clone_state()
    assert_same(g.uniform(9, "float32"), torch.rand(9, generator=tg), g, tg)
    assert_same(twin.normal(1, "float32"), torch.randn(1, generator=ttwin), twin, ttwin)


@pytest.mark.parametrize("bad", [
    np.zeros(10, np.uint8),
    np.zeros(STATE_SIZE, np.int8),
    np.zeros(STATE_SIZE, np.uint8),  # seeded=0, left=0: invalid mt19937 state
    np.zeros(2 * STATE_SIZE, np.uint8)[::2],
    [1, 2, 3],
])
def test_set_state_errors_match_torch(bad):
    theirs = torch.from_numpy(bad) if isinstance(bad, np.ndarray) else bad
    same_error(lambda: HostGenerator().set_state(bad), lambda: torch.Generator().set_state(theirs))


# ---------------------------------------------------------------- uniform


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("seed", SEEDS)
def test_rand(seed, size, dtype):
    g, tg = pair(seed)
    assert_same(g.uniform(size, dtype), torch.rand(tsize(size), generator=tg, dtype=getattr(torch, dtype)), g, tg)


# [2, next float up) makes about half the draws round up to `to`, which torch maps back to `from`
_NEXT32 = float(np.nextafter(np.float32(2), np.float32(3)))


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("low,high", [(-3.7, 11.3), (0.1, 0.7), (-1e-3, 500.0), (2.0, _NEXT32),
                                      (2.0, math.nextafter(2.0, 3.0)), (5.0, 5.0)])
def test_uniform_range(low, high, dtype):
    g, tg = pair(11)
    t = torch.empty(70001, dtype=getattr(torch, dtype)).uniform_(low, high, generator=tg)
    assert_same(g.uniform(70001, dtype, low, high), t, g, tg)


# ---------------------------------------------------------------- normal


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("size", SIZES + [31, 33, 48])
@pytest.mark.parametrize("seed", SEEDS)
def test_randn(seed, size, dtype):
    g, tg = pair(seed)
    assert_same(g.normal(size, dtype), torch.randn(tsize(size), generator=tg, dtype=getattr(torch, dtype)), g, tg)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("size", [3, 16, 1001, 70001])
@pytest.mark.parametrize("mean,std", [(0.3, 2.7), (-5.0, 1e-3), (1.0, 0.0)])
def test_normal_mean_std(size, mean, std, dtype):
    g, tg = pair(5)
    t = torch.empty(size, dtype=getattr(torch, dtype)).normal_(mean, std, generator=tg)
    assert_same(g.normal(size, dtype, mean, std), t, g, tg)


@pytest.mark.parametrize("dtype", FLOATS)
def test_randn_large(dtype):
    # several 2048-row chunks of the vectorised path, and a ragged tail
    g, tg = pair(4)
    n = 2**17 + 5 if dtype != "float64" else 20011
    assert_same(g.normal(n, dtype), torch.randn(n, generator=tg, dtype=getattr(torch, dtype)), g, tg)


def test_normal_cache_spans_calls():
    # odd small calls leave the second Box-Muller sample cached; the next call starts with it
    g, tg = pair(9)
    for n, dt in ((1, "float32"), (3, "float64"), (2, "float16"), (16, "float32"), (5, "float32")):
        assert_same(g.normal(n, dt), torch.randn(n, generator=tg, dtype=getattr(torch, dt)), g, tg)


# ---------------------------------------------------------------- integers


@pytest.mark.parametrize("dtype", INTS + FLOATS + ["bool"])
@pytest.mark.parametrize("size", [1, 17, 1000, (3, 5, 7)])
@pytest.mark.parametrize("seed", SEEDS)
def test_randint(seed, size, dtype):
    low, high = (0, 2) if dtype == "bool" else (0, 100) if dtype in ("uint8", "int8") else (-50, 1000)
    g, tg = pair(seed)
    t = torch.randint(low, high, tsize(size), generator=tg, dtype=getattr(torch, dtype))
    assert_same(g.randint(low, high, size, dtype), t, g, tg)


@pytest.mark.parametrize("dtype", ["int64", "float64", "float32", "int32"])
@pytest.mark.parametrize("low,high", [(0, 2**32), (-(2**40), 2**40), (-(2**63), 2**63 - 1), (-5, 2**31 - 1)])
def test_randint_wide_ranges(low, high, dtype):
    if dtype == "int32" and high > 2**31:
        return
    g, tg = pair(13)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch and plugrad both warn about float precision here
        t = torch.randint(low, high, (999,), generator=tg, dtype=getattr(torch, dtype))
        assert_same(g.randint(low, high, 999, dtype), t, g, tg)


@pytest.mark.parametrize("dtype", ["int64", "int32", "int16", "uint8", "float16", "float32", "float64"])
@pytest.mark.parametrize("n", [0, 1, 2, 15, 16, 17, 100, 1000, 10007])
@pytest.mark.parametrize("seed", SEEDS)
def test_randperm(seed, n, dtype):
    if (dtype == "uint8" and n > 256) or (dtype == "float16" and n > 2049):
        return
    g, tg = pair(seed)
    assert_same(g.randperm(n, dtype), torch.randperm(n, generator=tg, dtype=getattr(torch, dtype)), g, tg)


def test_randperm_large():
    g, tg = pair(21)
    assert_same(g.randperm(200_003), torch.randperm(200_003, generator=tg), g, tg)


@pytest.mark.parametrize("dtype", INTS + FLOATS + ["bool"])
@pytest.mark.parametrize("form", ["none", "to", "from_to", "from", "full_64"])
def test_random_(dtype, form):
    """Tensor.random_() with no bounds, random_(to), random_(from, to), random_(from, None), random_(int64 min, None)."""
    small = dtype in ("bool", "uint8")
    low, high = {
        "none": (None, None),
        "to": (None, 2 if dtype == "bool" else 10),
        "from_to": (0, 2) if dtype == "bool" else (3, 10),
        "from": (0 if small else -7, None),
        "full_64": (-(2**63), None),
    }[form]
    if form == "full_64" and dtype not in ("int64", "float32", "float64"):
        return
    g, tg = pair(17)
    t = torch.empty(1000, dtype=getattr(torch, dtype))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # both warn that float dtypes cannot hold every integer
        if form == "none":
            t.random_(generator=tg)
        elif form == "to":
            t.random_(high, generator=tg)
        else:
            t.random_(low, high, generator=tg)
        ours = g.random_(1000, dtype, low, high)
    assert_same(ours, t, g, tg)


@pytest.mark.filterwarnings("ignore:to - 1 is out of bounds")
@pytest.mark.parametrize("dtype", ["int64", "int32", "float32", "float64"])
@pytest.mark.parametrize("span", [2**28 - 1, 2**28, 2**28 + 1])
def test_randint_draw_width_switches_at_2_pow_28(span, dtype):
    g, tg = pair(19)
    t = torch.randint(-3, span - 3, (50,), generator=tg, dtype=getattr(torch, dtype))
    assert_same(g.randint(-3, span - 3, 50, dtype), t, g, tg)


# ---------------------------------------------------------------- bernoulli


@pytest.mark.parametrize("dtype", ["float32", "float64", "bool", "int64", "uint8", "float16"])
@pytest.mark.parametrize("p", [0.0, 0.3, 0.5, 1.0])
@pytest.mark.parametrize("size", [1, 17, 1000, (3, 5, 7)])
def test_bernoulli_scalar_p(size, p, dtype):
    g, tg = pair(23)
    t = torch.empty(tsize(size), dtype=getattr(torch, dtype)).bernoulli_(p, generator=tg)
    assert_same(g.bernoulli(p, size, dtype), t, g, tg)


@pytest.mark.parametrize("p_dtype", FLOATS)
@pytest.mark.parametrize("size", [1, 17, 1000, (3, 5, 7)])
def test_bernoulli_tensor_p(size, p_dtype):
    probs = np.random.default_rng(0).random(tsize(size)).astype(p_dtype)
    g, tg = pair(29)
    assert_same(g.bernoulli(probs), torch.bernoulli(torch.from_numpy(probs), generator=tg), g, tg)


def test_bernoulli_tensor_p_broadcasts_into_output():
    probs = np.array([0.1, 0.5, 0.9], np.float32)
    g, tg = pair(31)
    t = torch.empty((4, 3), dtype=torch.bool).bernoulli_(torch.from_numpy(probs), generator=tg)
    assert_same(g.bernoulli(probs, (4, 3), "bool"), t, g, tg)


# ---------------------------------------------------------------- mixed streams


@pytest.mark.parametrize("seed", SEEDS)
def test_mixed_call_sequence(seed):
    g, tg = pair(seed)
    steps = [
        (lambda: g.uniform((4, 5), "float32"), lambda: torch.rand(4, 5, generator=tg)),
        (lambda: g.normal(3, "float32"), lambda: torch.randn(3, generator=tg)),
        (lambda: g.randint(0, 10, 7), lambda: torch.randint(0, 10, (7,), generator=tg)),
        (lambda: g.randperm(33), lambda: torch.randperm(33, generator=tg)),
        (lambda: g.normal(1, "float64"), lambda: torch.randn(1, generator=tg, dtype=torch.float64)),
        (lambda: g.uniform(5, "float64"), lambda: torch.rand(5, generator=tg, dtype=torch.float64)),
        (lambda: g.normal(37, "float32"), lambda: torch.randn(37, generator=tg)),
        (lambda: g.bernoulli(0.25, 9, "float32"), lambda: torch.empty(9).bernoulli_(0.25, generator=tg)),
        (lambda: g.normal(2, "float16"), lambda: torch.randn(2, generator=tg, dtype=torch.float16)),
        (lambda: g.uniform(640, "float32"), lambda: torch.rand(640, generator=tg)),
    ]
    for ours, theirs in steps:
        assert_same(ours(), theirs(), g, tg)


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize("ours,theirs", [
    (lambda g: g.uniform(3, "int64"), lambda: torch.rand(3, dtype=torch.int64)),
    (lambda g: g.uniform(3, "float32", 2, 1), lambda: torch.empty(3).uniform_(2, 1)),
    (lambda g: g.uniform(3, "float16", 0, 1e6), lambda: torch.empty(3, dtype=torch.float16).uniform_(0, 1e6)),
    (lambda g: g.uniform(3, "float32", -3e38, 3e38), lambda: torch.empty(3).uniform_(-3e38, 3e38)),
    (lambda g: g.normal(3, "int32"), lambda: torch.randn(3, dtype=torch.int32)),
    (lambda g: g.normal(3, "float32", 0, -1), lambda: torch.empty(3).normal_(0, -1)),
    (lambda g: g.randint(5, 5, 3), lambda: torch.randint(5, 5, (3,))),
    (lambda g: g.randint(0, 300, 3, "int8"), lambda: torch.randint(0, 300, (3,), dtype=torch.int8)),
    (lambda g: g.randint(0, 3, 3, "bool"), lambda: torch.randint(0, 3, (3,), dtype=torch.bool)),
    (lambda g: g.randint(0, 100000, 3, "float16"), lambda: torch.randint(0, 100000, (3,), dtype=torch.float16)),
    (lambda g: g.randperm(-1), lambda: torch.randperm(-1)),
    (lambda g: g.randperm(129, "int8"), lambda: torch.randperm(129, dtype=torch.int8)),
    (lambda g: g.randperm(2050, "float16"), lambda: torch.randperm(2050, dtype=torch.float16)),
    (lambda g: g.randperm(3, "bool"), lambda: torch.randperm(3, dtype=torch.bool)),
    (lambda g: g.bernoulli(1.5, 3, "float32"), lambda: torch.empty(3).bernoulli_(1.5)),
    (lambda g: g.bernoulli(np.array([0, 1])), lambda: torch.bernoulli(torch.tensor([0, 1]))),
    (lambda g: g.random_(3, "float32", 5, 2), lambda: torch.empty(3).random_(5, 2)),
])
def test_errors_match_torch(ours, theirs):
    same_error(lambda: ours(HostGenerator()), theirs)


@pytest.mark.parametrize("dtype,low,high", [("float16", 0, 3000), ("float32", -(2**25), 0), ("float64", 0, 2**60)])
def test_float_precision_warning_matches_torch(dtype, low, high):
    with pytest.warns(UserWarning) as want:
        torch.randint(low, high, (2,), dtype=getattr(torch, dtype))
    with pytest.warns(UserWarning) as got:
        HostGenerator().randint(low, high, 2, dtype)
    # torch appends "(Triggered internally at <file>:<line>.)"
    assert [str(w.message) for w in got] == [str(w.message).split(" (Triggered internally")[0] for w in want]


def test_bernoulli_p_outside_unit_interval_raises():
    with pytest.raises(RuntimeError):
        torch.bernoulli(torch.tensor([0.5, 1.5]))
    with pytest.raises(RuntimeError, match="p_in >= 0 && p_in <= 1"):
        HostGenerator().bernoulli(np.array([0.5, 1.5]))
