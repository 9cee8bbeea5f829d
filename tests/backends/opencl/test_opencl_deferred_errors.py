"""Deferred device errors on opencl: integer division by zero, and which thread sees an error.

torch raises RuntimeError('ZeroDivisionError') for an integer //, %, fmod or rounding division
by a zero divisor on the CPU. The opencl kernels write 0 there and set a flag on the device
(no host read per op); the next ``.item()``/``.cpu()``/``synchronize`` of the same thread
raises RuntimeError starting with 'ZeroDivisionError', then the program goes on -- the same
mechanism as out-of-range indices (contract ``checks_indices``). The flags are per thread: an
error is raised in the thread whose op caused it, never in another thread's ``.item()``.
"""
from __future__ import annotations

import threading

import numpy
import pytest
import torch

import plugrad
from plugrad.plugins import get_registry

REG = get_registry()
OPENCL = REG.backend("opencl").availability()
pytestmark = pytest.mark.skipif(OPENCL is not True, reason=f"opencl: {OPENCL}")
ZERO = r"^ZeroDivisionError"
INDEX = r"index was out of bounds in an earlier op"

DIVISIONS = {
    "floor_divide": lambda a, b: a // b,
    "remainder": lambda a, b: a % b,
    "fmod": lambda a, b: a.fmod(b),
    "trunc": lambda a, b: a.div(b, rounding_mode="trunc"),
    "floor": lambda a, b: a.div(b, rounding_mode="floor"),
    "ifloordiv": lambda a, b: a.__ifloordiv__(b),
}
INTS = ("uint8", "int8", "int16", "int32", "int64")


def _pair(dtype, strided):
    a = numpy.array([[7, 9, 4, 5], [6, 3, 8, 2]], dtype)
    b = numpy.array([[2, 0, 3, 1], [5, 4, 3, 2]], dtype)
    ta, tb = torch.tensor(a), torch.tensor(b)
    pa, pb = plugrad.tensor(a, device="opencl"), plugrad.tensor(b, device="opencl")
    if strided:
        ta, tb, pa, pb = ta.t(), tb.t(), pa.t(), pb.t()
    return ta, tb, pa, pb


@pytest.mark.parametrize("strided", [False, True], ids=["contiguous", "strided"])
@pytest.mark.parametrize("dtype", INTS)
@pytest.mark.parametrize("name", sorted(DIVISIONS))
def test_integer_division_by_zero_raises_at_next_read(name, dtype, strided):
    fn = DIVISIONS[name]
    ta, tb, pa, pb = _pair(dtype, strided)
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        fn(ta.clone(), tb)                               # torch, at the op
    out = fn(pa.clone(), pb)                             # queued: no host read yet
    with pytest.raises(RuntimeError, match=ZERO) as info:
        out.cpu()
    assert "opencl:0" in str(info.value)
    # the flag was reset: the program goes on, and a good division reads back right
    good = tb + 1
    pgood = plugrad.tensor(numpy.ascontiguousarray(good.numpy()), device="opencl")
    numpy.testing.assert_array_equal(fn(pa.clone(), pgood).cpu().numpy(),
                                     fn(ta.clone(), good).numpy())


def test_synchronize_raises_too():
    a = plugrad.tensor([1, 2], device="opencl")
    _ = a // plugrad.tensor([0, 1], device="opencl")
    with pytest.raises(RuntimeError, match=ZERO):
        plugrad.opencl.synchronize()
    assert (a // a).tolist() == [1, 1]


def test_scalar_zero_divisor_raises_at_once_and_nonzero_costs_no_read():
    impl = REG.table("opencl").impl
    a = plugrad.tensor([3, 4], device="opencl")
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        a // 0
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        a % 0
    a.sum().item()
    before = impl.transfers["error_check"]
    assert (a // 2).tolist() == [1, 2] and (a % 3).tolist() == [0, 1]
    assert impl.transfers["error_check"] == before, "a scalar divisor needs no flag read"


def test_float_division_by_zero_is_not_an_error():
    a = plugrad.tensor([1.0, -1.0, 0.0], device="opencl")
    got = (a // plugrad.zeros(3, device="opencl")).tolist()
    want = (torch.tensor([1.0, -1.0, 0.0]) // torch.zeros(3)).tolist()
    assert str(got) == str(want)


def test_empty_division_never_raises():
    e = plugrad.zeros(0, dtype=plugrad.int64, device="opencl")
    assert (e // e).tolist() == [] and (e % e).tolist() == []


# ---------------------------------------------------------------------- threads
def _in_threads(bad, good):
    """Run ``bad`` (makes an erroneous op, then reads) and ``good`` (reads) in two threads,
    interleaved so that the good thread reads after the bad op was queued and before the bad
    thread reads; returns {thread: exception or None}."""
    queued, read = threading.Event(), threading.Event()
    seen = {}

    def run_bad():
        try:
            out = bad()
            queued.set()
            read.wait(30)
            out.cpu()
            seen["bad"] = None
        except Exception as exc:  # noqa: BLE001 -- recorded for the assertion
            seen["bad"] = exc
        finally:
            queued.set()

    def run_good():
        queued.wait(30)
        try:
            total = plugrad.arange(10, device="opencl").sum().item()
            plugrad.ones(3, device="opencl")[plugrad.tensor([2], device="opencl")].item()
            plugrad.opencl.synchronize()
            seen["good"] = None if total == 45 else AssertionError(total)
        except Exception as exc:  # noqa: BLE001
            seen["good"] = exc
        finally:
            read.set()

    threads = [threading.Thread(target=run_bad), threading.Thread(target=run_good)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return seen


@pytest.mark.parametrize("kind", ["index", "zero"])
def test_error_stays_with_the_thread_that_caused_it(kind):
    def bad():
        if kind == "index":
            return plugrad.arange(4.0, device="opencl")[plugrad.tensor([9], device="opencl")]
        return plugrad.tensor([1, 2], device="opencl") // plugrad.tensor([0, 1],
                                                                          device="opencl")
    seen = _in_threads(bad, None)
    assert seen["good"] is None, f"the other thread saw {seen['good']!r}"
    assert isinstance(seen["bad"], RuntimeError), f"the offending thread saw {seen['bad']!r}"
    assert str(seen["bad"]).find("ZeroDivisionError" if kind == "zero" else
                                 "index was out of bounds") >= 0


def test_many_threads_each_see_only_their_own_errors():
    results = {}

    def work(k):
        try:
            x = plugrad.arange(8.0, device="opencl")
            for _ in range(5):
                idx = plugrad.tensor([k % 8 if k % 2 == 0 else 8 + k], device="opencl")
                y = x[idx] * 2
            y.cpu()
            results[k] = None
        except RuntimeError as exc:
            results[k] = exc
    threads = [threading.Thread(target=work, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    for k in range(8):
        if k % 2:
            assert results[k] is not None and "out of bounds" in str(results[k]), k
        else:
            assert results[k] is None, (k, results[k])
