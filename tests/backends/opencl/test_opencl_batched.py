"""opencl's batched calls (backends/opencl/batched.py): a run of one elementwise op over many
buffers and a concat of contiguous pieces each take one launch per 16, with eager's bits;
what the batch cannot take (a strided piece, a dependent call) stays as it was."""
from __future__ import annotations

import numpy as np
from program_builder import ProgramBuilder, Scalar, replay

from plugrad.backends.opencl.batched import BatchedConcat, BatchedMap
from plugrad.backends.opencl.launches import count_launches
from plugrad.plugins.fusion import batch_calls


def _kernels(counter):
    return sum(counter.values())


def _clip_like(in_place=True, dependent=False):
    """Five gradients of different sizes scaled by one 0-d coefficient (clip_grad_norm_'s
    tail); ``dependent``: the third reads the second's result instead of its gradient."""
    b = ProgramBuilder("opencl")
    rng = np.random.default_rng(7)
    gs = [b.external(rng.standard_normal(shape).astype(np.float32))
          for shape in ((3, 5), (17,), (40, 33), (2, 2, 2), (1000,))]
    coef = b.input(np.array(0.37, dtype=np.float32))
    outs = []
    for i, g in enumerate(gs):
        if dependent and i == 2:
            g = outs[1]
        outs.append(b.call("mul", g, coef, out=g) if in_place else b.call("mul", g, coef))
    return b, b.program(tuple(outs))


def _compare(b, p, optimize=None):
    opt = (optimize or b.be.optimize_program)(p)
    with count_launches() as eager:
        want, want_ext, _ = replay(b, p)
    with count_launches() as got_launches:
        got, got_ext, _ = replay(b, opt)
    for x, y in zip(want, got):
        np.testing.assert_array_equal(x, y)
    for s in want_ext:
        np.testing.assert_array_equal(want_ext[s], got_ext[s])
    return opt, eager, got_launches


def _labels(program):
    return [s.label for s in program.steps if type(s).__name__ == "HostStep"]


def test_a_run_of_scalings_is_one_launch_with_eager_bits():
    for in_place in (True, False):
        b, p = _clip_like(in_place)
        opt, eager, got = _compare(b, p)
        assert _kernels(eager) == 5 and _kernels(got) == 1, (eager, got)
        assert _labels(opt) == ["mul x5, batched"]


def test_scalar_operands_batch_when_equal():
    b = ProgramBuilder("opencl")
    rng = np.random.default_rng(8)
    xs = [b.input(rng.standard_normal(n).astype(np.float32)) for n in (4, 9, 16)]
    outs = [b.call("add", x, Scalar(0.5)) for x in xs] + [b.call("add", xs[0], Scalar(0.25))]
    opt, eager, got = _compare(b, b.program(tuple(outs)))
    assert _labels(opt) == ["add x3, batched"] and _kernels(got) == 2


def test_a_call_reading_an_earlier_result_ends_the_run():
    b, p = _clip_like(in_place=False, dependent=True)

    def batch_only(program):
        return batch_calls(program, lambda chain, shared: BatchedMap(b.be, chain, shared),
                           backend="opencl", memory_key=lambda buf: id(buf.data))
    opt, eager, got = _compare(b, p, batch_only)
    assert _labels(opt) == ["mul x2, batched", "mul x3, batched"]
    assert _kernels(eager) == 5 and _kernels(got) == 2, (eager, got)


def _concat_both(xs, axis):
    b = ProgramBuilder("opencl")
    bufs = [b.be.from_host(x) for x in xs]
    with count_launches() as eager:
        want = b.be.to_host(b.be.concat(bufs, axis))
    with count_launches() as got_launches:
        got = b.be.to_host(BatchedConcat(b.be)(bufs, axis))
    np.testing.assert_array_equal(want, got)
    assert got.dtype == want.dtype
    return _kernels(eager), _kernels(got_launches)


def test_concat_of_contiguous_pieces_is_one_launch_per_16():
    rng = np.random.default_rng(1)
    pieces = [rng.standard_normal(n).astype(np.float32) for n in (1, 7, 300, 64, 0, 5)]
    assert _concat_both(pieces, 0) == (5, 1)          # the empty piece: no launch
    many = [rng.integers(-9, 9, (1, n, 3)).astype(np.int64) for n in range(1, 21)]
    assert _concat_both(many, 1) == (20, 2)       # axes before 1 have size 1: still blocks
    flags = [rng.random((2, 3)) > 0.5 for _ in range(3)]
    assert _concat_both(flags, 0) == (3, 1)


def test_pieces_that_are_not_blocks_take_the_eager_concat():
    rng = np.random.default_rng(2)
    cols = [rng.integers(0, 9, (2, n)).astype(np.int64) for n in (3, 4)]
    assert _concat_both(cols, 1) == (2, 2)
    b = ProgramBuilder("opencl")
    x = b.be.from_host(rng.standard_normal((6, 4)).astype(np.float32))
    xt = b.be.permute(x, (1, 0))
    y = b.be.from_host(rng.standard_normal((4, 6)).astype(np.float32))
    np.testing.assert_array_equal(b.be.to_host(BatchedConcat(b.be)([xt, y], 0)),
                                  b.be.to_host(b.be.concat([xt, y], 0)))
