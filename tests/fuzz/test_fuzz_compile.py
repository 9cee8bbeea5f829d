"""Property-based test of plugrad.compile: small random programs (elementwise, reductions,
views, matmul, in-place parameter updates, random draws, backward) replay bitwise equal to
eager on cpu, call after call, with new inputs each call.

Half the examples replay as captured (``PLUGRAD_COMPILE_FUSION=0``), half through the cpu
backend's ``optimize_program`` (planned buffers per fused chain, still bitwise): it found a
scratch buffer handed out twice for ``mul(t, t)``.
"""
from __future__ import annotations

import os

import numpy as np
from fuzz_profiles import fuzz
from hypothesis import given
from hypothesis import strategies as st

import plugrad

UNARY = ("exp", "tanh", "relu", "neg", "sigmoid", "abs", "square")
BINARY = ("add", "mul", "sub", "maximum")


def _apply(op, arg, v, w, lib):
    """One op of the program on the running value ``v`` (shape (4, 4))."""
    if op in UNARY:
        return getattr(lib, op)(v) if op != "relu" else lib.relu(v)
    if op in BINARY:
        return getattr(lib, op)(v, w if arg % 2 else v * 0.5)
    if op == "scalar":
        return v * (arg / 3.0) + 1.0
    if op == "sum":
        return v + v.sum(dim=arg % 2, keepdim=True)
    if op == "transpose":
        return v.t().contiguous() if arg % 2 else v.t()
    if op == "reshape":
        return v.reshape(2, 8).reshape(4, 4)
    if op == "matmul":
        return v @ w
    if op == "slice":
        return lib.cat([v[:, 1:], v[:, :1]], dim=1)
    if op == "randn":
        return v + lib.randn(4, 4)
    raise AssertionError(op)


OPS = st.lists(st.tuples(st.sampled_from(UNARY + BINARY + ("scalar", "sum", "transpose",
                                                            "reshape", "matmul", "slice",
                                                            "randn")),
                         st.integers(0, 5)), min_size=1, max_size=8)


def _make(ops, backward, update):
    gen = np.random.default_rng(0)
    w = plugrad.tensor(gen.standard_normal((4, 4)).astype(np.float32) * 0.3,
                       requires_grad=backward)
    state = plugrad.zeros(4, 4)

    def f(x):
        v = x
        for op, arg in ops:
            v = _apply(op, arg, v, w, plugrad)
        if backward:
            w.grad = None
            (v * w).tanh().sum().backward()      # depends on w whatever the ops
            with plugrad.no_grad():
                w.sub_(w.grad * 0.01)
        if update:
            state.mul_(0.5).add_(v.detach())
        return v.detach() * 2
    return f, w, state


@given(ops=OPS, backward=st.booleans(), update=st.booleans(), seed=st.integers(0, 2 ** 16),
       fusion=st.booleans())
@fuzz(0.5)
def test_random_programs_replay_bitwise(ops, backward, update, seed, fusion):
    eager, w1, s1 = _make(ops, backward, update)
    fn, w2, s2 = _make(ops, backward, update)
    compiled = plugrad.compile(fn)
    rng = np.random.default_rng(seed)
    before = os.environ.get("PLUGRAD_COMPILE_FUSION")
    os.environ["PLUGRAD_COMPILE_FUSION"] = "1" if fusion else "0"
    try:
        _compare(eager, compiled, rng, seed)
    finally:
        if before is None:
            del os.environ["PLUGRAD_COMPILE_FUSION"]
        else:
            os.environ["PLUGRAD_COMPILE_FUSION"] = before
    np.testing.assert_array_equal(w1.detach().numpy(), w2.detach().numpy())
    np.testing.assert_array_equal(s1.numpy(), s2.numpy())
    if backward:
        np.testing.assert_array_equal(w1.grad.numpy(), w2.grad.numpy())
    states = [e.state for es in compiled._plugrad_compiled.entries.values() for e in es]
    assert "program" in states


def test_fused_square_then_in_place_update_regression():
    """``v * v`` freed its scratch buffer twice in the cpu fusion pass: a later new output
    and the in-place state update then shared one buffer."""
    ops = [("exp", 0), ("exp", 0), ("square", 0), ("add", 0)]
    eager, _, s1 = _make(ops, False, True)
    fn, _, s2 = _make(ops, False, True)
    _compare(eager, plugrad.compile(fn), np.random.default_rng(0), 0)
    np.testing.assert_array_equal(s1.numpy(), s2.numpy())


def _compare(eager, compiled, rng, seed):
    xs = [plugrad.tensor(rng.standard_normal((4, 4)).astype(np.float32)) for _ in range(5)]
    plugrad.manual_seed(seed)
    want = [eager(x).numpy().copy() for x in xs]
    plugrad.manual_seed(seed)
    got = [compiled(x).numpy().copy() for x in xs]
    for a, b in zip(want, got):
        np.testing.assert_array_equal(a, b)
