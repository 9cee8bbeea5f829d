"""opencl's fused chains (backends/opencl/fused.py): one launch per chain, the source the
generator writes, and the launch counter the compile targets are measured with."""
from __future__ import annotations

import numpy as np
import pytest
from program_builder import ProgramBuilder, replay

from plugrad.backends.opencl.fused import FusedKernel, render_chain
from plugrad.backends.opencl.launches import count_launches
from plugrad.plugins.fusion import Chain, Node

F = "float32"
CHAIN = Chain(inputs=((F, False), (F, True), (F, False)),
              nodes=(Node("mul", (0, 1), F, F), Node("add", (-1, 2), F, F),
                     Node("gt", (-2, 1), "bool", F)),
              outputs=(1, 2))


def _builder():
    b = ProgramBuilder("opencl")
    rng = np.random.default_rng(3)
    x = b.input(rng.standard_normal((50, 40)).astype(np.float32))
    y = x
    for op, arg in (("mul", 1.5), ("add", 0.25), ("tanh", None), ("mul", x), ("sub", 2.0)):
        y = b.call(op, y) if arg is None else b.call(op, y, arg)
    return b, b.program((y,))


def test_a_chain_is_one_launch_with_eager_bits():
    b, p = _builder()
    opt = b.be.optimize_program(p)
    with count_launches() as eager:
        out1, _, _ = replay(b, p)
    with count_launches() as fused:
        out2, _, _ = replay(b, opt)
    kernels = lambda c: sum(n for k, n in c.items() if k != "map_copy")  # noqa: E731
    assert kernels(eager) == 5 and kernels(fused) == 1
    np.testing.assert_array_equal(out1[0], out2[0])


def test_counter_is_off_outside_its_block():
    import pyopencl as cl
    before = cl.Kernel.__call__
    with count_launches() as outer:
        with count_launches() as inner:
            b, p = _builder()
        assert inner == outer and sum(inner.values()) >= 5
    assert cl.Kernel.__call__ is before


def test_generated_source_keeps_each_op_and_forbids_contraction():
    src, name, argtypes = render_chain("fused", CHAIN, (F, "bool"), 0, "long")
    assert "#pragma OPENCL FP_CONTRACT OFF" in src
    assert "const float t0 = ((v0 * v1));" in src and "t1 = ((t0 + v2))" in src
    assert "out1[out1_off + i] = t2;" in src
    assert len(argtypes) == 2 * 2 + 2 + 1 + 2 + 2


def test_fused_kernel_on_broadcast_and_in_place():
    b = ProgramBuilder("opencl")
    be = b.be
    x = be.from_host(np.arange(12, dtype=np.float32).reshape(3, 4))
    row = be.from_host(np.array([1, 2, 3, 4], dtype=np.float32))
    k = FusedKernel(be, CHAIN)
    y, flag = k([x, 2.0, row], [x, None], (3, 4))   # output 0 written into x itself
    assert y is x
    expect = np.arange(12, dtype=np.float32).reshape(3, 4) * 2 + np.array([1, 2, 3, 4])
    np.testing.assert_array_equal(be.to_host(x), expect)
    np.testing.assert_array_equal(be.to_host(flag), expect > 2)


@pytest.mark.parametrize("decoupled", [False, True])
def test_multi_tensor_adam_is_eager_adam_in_few_launches(decoupled):
    from plugrad.backends.opencl.multi_tensor import GROUP, MultiTensorAdam
    b = ProgramBuilder("opencl")
    be = b.be
    rng = np.random.default_rng(5)
    shapes = [(300, 70), (70,), (1,), (5, 5, 5), (0,)] + [(9, 4)] * GROUP
    host = [[rng.standard_normal(s).astype(np.float32) for s in shapes] for _ in range(4)]
    host[3] = [np.abs(a) for a in host[3]]
    hyper = dict(lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.1,
                 decoupled=decoupled, amsgrad=False, maximize=False, step=3)
    results = []
    for fn in (be.adam_step, MultiTensorAdam(be)):
        bufs = [[be.from_host(a) for a in col] for col in host]
        with count_launches() as c:
            fn(*bufs, None, hyper)
            be.synchronize()
        results.append(([be.to_host(x) for col in bufs for x in col], sum(c.values())))
    (eager, n_eager), (multi, n_multi) = results
    assert n_eager == len(shapes) - 1 and n_multi == 2        # empty parameters launch nothing
    for u, v in zip(eager, multi):
        np.testing.assert_array_equal(u, v)
