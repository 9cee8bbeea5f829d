"""The captured-program data structure (plugrad.compile.program): a hand-built program runs
on the reference interpreter and reports lifetimes and live-out slots."""
import numpy as np

import plugrad as torch
from plugrad._device import tensor_device
from plugrad.compile.program import Call, Dynamic, Program, Ref, Slot, lifetimes, run


def _program():
    dev = tensor_device(torch.device("cpu"))
    t = dev.ops
    w = t.from_host(np.array([1.0, 2.0], dtype=np.float32))
    grad = t.from_host(np.zeros(2, dtype=np.float32))
    lr = [0.5]
    slots = [Slot(0, "input", (2,), "float32", dev, "args[0]"),
             Slot(1, "external", (2,), "float32", dev, "parameter"),
             Slot(2, "internal", (2,), "float32", dev),
             Slot(3, "internal", (2,), "float32", dev),
             Slot(4, "internal", (), "float32", dev)]
    steps = [Call("mul", t, (Ref(0), Ref(1)), None, (2,)),
             Call("mul", t, (Ref(2), Dynamic(lambda: lr[0], 0.5)), None, (3,)),
             Call("sub", t, (Ref(1), Ref(3)), 1, (1,)),
             Call("sum", t, (Ref(2), (0,), False), None, (4,))]
    prog = Program(steps, slots, (0,), {1: w}, (4,), ((3, grad),))
    return prog, t, w, grad, lr


def test_run_updates_external_in_place_and_writes_back():
    prog, t, w, grad, lr = _program()
    env = [None] * len(prog.slots)
    env[0] = t.from_host(np.array([3.0, 4.0], dtype=np.float32))
    env[1] = w
    run(prog, env)
    assert t.to_host(env[4]) == 11.0                          # 3*1 + 4*2
    np.testing.assert_array_equal(t.to_host(grad), [1.5, 4.0])  # (x*w) * lr, written back
    np.testing.assert_array_equal(t.to_host(w), [-0.5, -2.0])   # w -= ..., in place
    lr[0] = 0.0                                                  # Dynamic: read per replay
    env = [None] * len(prog.slots)
    env[0], env[1] = t.from_host(np.array([1.0, 1.0], dtype=np.float32)), w
    run(prog, env)
    np.testing.assert_array_equal(t.to_host(w), [-0.5, -2.0])


def test_lifetimes_and_live_out():
    prog = _program()[0]
    assert prog.last_use == lifetimes(prog.steps, 5) == (0, 2, 3, 2, -1)
    assert prog.live_out() == frozenset({4, 3, 1})
    text = repr(prog)
    assert "%3 = mul(%2, Dynamic(0.5))" in text and "out=%1" in text
