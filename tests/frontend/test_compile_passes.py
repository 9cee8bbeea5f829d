"""compile's own program passes. Writebacks without copies (plugrad.compile.writeback): the
last elementwise write of a gradient goes into the buffer ``p.grad`` holds; replay stays
bitwise equal to eager, the gradients' base tensors included, and a writer whose old memory is
read later keeps its copy. Constants made once (plugrad.compile.constants): an ``arange`` or
``full`` nothing writes is not recomputed; one written in place is."""
import numpy as np
import pytest

import plugrad
from plugrad._device import tensor_device
from plugrad.compile.program import Call, Program, Ref, Slot, run
from plugrad.compile.writeback import redirect_writebacks


def _clipped_step(device, clip=True):
    plugrad.manual_seed(0)
    nn = plugrad.nn
    m = nn.Sequential(nn.Linear(12, 24), nn.Tanh(), nn.Linear(24, 3)).to(device)
    opt = plugrad.optim.AdamW(m.parameters(), lr=1e-2)
    gen = plugrad.Generator().manual_seed(1)
    x = plugrad.randn(6, 12, generator=gen).to(device)
    y = plugrad.randint(0, 3, (6,), generator=gen).to(device)

    def step():
        opt.zero_grad(set_to_none=True)
        loss = nn.functional.cross_entropy(m(x), y)
        loss.backward()
        if clip:
            nn.utils.clip_grad_norm_(m.parameters(), 0.1)
        opt.step()
        return loss
    return m, step


def _state(m):
    grads = [p.grad for p in m.parameters()]
    return ([p.detach().cpu().numpy() for p in m.parameters()],
            [g.cpu().numpy() for g in grads],
            [g._base.cpu().numpy() for g in grads if g._base is not None])


def test_clipped_gradients_are_written_in_place_and_equal_eager(device):
    m1, eager = _clipped_step(device)
    m2, step = _clipped_step(device)
    compiled = plugrad.compile(step)
    for _ in range(6):
        assert eager().item() == compiled().item()
    for a, b in zip(_state(m1), _state(m2)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            np.testing.assert_array_equal(x, y)
    entry = [e for es in compiled._plugrad_compiled.entries.values() for e in es
             if e.program is not None][0]
    # every gradient's final write (clip's in-place mul) lands in p.grad's buffer: no copy
    # is left, and the weights' transposed-view gradients dropped their bases' copies too
    assert entry.program.writeback == ()


def test_unclipped_gradients_copy_only_their_bases(device):
    m1, eager = _clipped_step(device, clip=False)
    m2, step = _clipped_step(device, clip=False)
    compiled = plugrad.compile(step)
    for _ in range(5):
        assert eager().item() == compiled().item()
    for a, b in zip(_state(m1), _state(m2)):
        for x, y in zip(a, b):
            np.testing.assert_array_equal(x, y)
    entry = [e for es in compiled._plugrad_compiled.entries.values() for e in es
             if e.program is not None][0]
    # matmul and sum make the gradients (no out=): each view's base is copied, which fills
    # the view too, so the views' own copies are gone
    bases = [p.grad._base for p in m2.parameters() if p.grad._base is not None]
    assert len(bases) == 4
    assert sorted(id(b) for _, b in entry.program.writeback) == \
        sorted(id(b._data) for b in bases)


def _program(read_view_later):
    dev = tensor_device(plugrad.device("cpu"))
    t = dev.ops
    x = t.from_host(np.array([[1.0, 2.0], [3.0, 4.0]], dtype=np.float32))
    target = t.from_host(np.zeros((2, 2), dtype=np.float32))
    slots = [Slot(0, "input", (2, 2), "float32", dev, "leaf[0]"),
             Slot(1, "internal", (2, 2), "float32", dev),
             Slot(2, "internal", (4,), "float32", dev),
             Slot(3, "internal", (4,), "float32", dev)]
    steps = [Call("add", t, (Ref(0), 1.0), None, (1,)),
             Call("reshape", t, (Ref(1), (4,)), None, (2,)),
             Call("mul", t, (Ref(1), 2.0), 1, (1,))]      # in place: the view sees it
    outputs = ()
    if read_view_later:
        steps.append(Call("neg", t, (Ref(2),), None, (3,)))
        outputs = (3,)
    return Program(steps, slots, (0,), {}, outputs, ((1, target),)), x, target, t


@pytest.mark.parametrize("read_view_later", [False, True])
def test_redirect_only_when_no_view_reads_the_old_memory(read_view_later):
    prog, x, target, t = _program(read_view_later)
    better = redirect_writebacks(prog)
    assert prog.writeback == ((1, target),)                 # the argument is not changed
    if read_view_later:      # neg reads the view of the slot: redirecting would hide the mul
        assert better is prog
    else:
        assert better.writeback == () and better.steps[-1].out == len(prog.slots)
        assert better.constants[better.steps[-1].out] is target
    env = [None] * len(better.slots)
    env[0] = x
    for s, b in better.constants.items():
        env[s] = b
    run(better, env)
    np.testing.assert_array_equal(t.to_host(target), [[4.0, 6.0], [8.0, 10.0]])
    if read_view_later:
        np.testing.assert_array_equal(t.to_host(env[3]), [-4.0, -6.0, -8.0, -10.0])


def _ops(compiled):
    entry = [e for es in compiled._plugrad_compiled.entries.values() for e in es
             if e.program is not None][0]
    return [getattr(s, "op", None) for s in entry.program.steps]


def test_constant_arange_and_mask_are_made_once(device):
    def f(x):
        pos = plugrad.arange(x.shape[1], device=x.device)
        mask = plugrad.full((3, 5), True, device=x.device).tril()
        return (x * pos).masked_fill(mask, -1.0)
    compiled = plugrad.compile(f)
    rng = np.random.default_rng(0)
    for _ in range(4):
        x = plugrad.tensor(rng.standard_normal((3, 5)).astype(np.float32)).to(device)
        np.testing.assert_array_equal(f(x).cpu().numpy(), compiled(x).cpu().numpy())
    assert "arange" not in _ops(compiled) and "full" not in _ops(compiled)


def test_a_buffer_written_in_place_is_made_on_every_replay(device):
    def f(x):
        acc = plugrad.zeros(5, device=x.device)
        acc.add_(x)                       # hoisting it would carry the sum between calls
        return acc * 2
    compiled = plugrad.compile(f)
    for i in range(4):
        x = plugrad.full((5,), float(i)).to(device)
        np.testing.assert_array_equal(f(x).cpu().numpy(), compiled(x).cpu().numpy())
    assert "full" in _ops(compiled)
