"""The Tensor API against PyTorch: creation, random streams, conversion, metadata, repr,
in-place operators and interop (``__array__``, DLPack, numpy operands)."""
import math

import numpy
import plugrad
import pytest
import torch

from helpers import compare, helper_test_op


# -------------------------------------------------------------------------- creation


@pytest.mark.parametrize("seed", [0, 1234])
def test_random_streams_match_torch(device, seed):
    torch.manual_seed(seed)
    plugrad.manual_seed(seed)
    for name, args, kw in (("rand", (3, 4), {}), ("randn", (5,), {}),
                           ("randint", (0, 10, (2, 3)), {}), ("randint", (5, (4,)), {}),
                           ("randperm", (7,), {}), ("rand", (2,), {"dtype": "float64"}),
                           ("randn", (3,), {"dtype": "float64"})):
        t_kw = {k: getattr(torch, v) for k, v in kw.items()}
        p_kw = {k: getattr(plugrad, v) for k, v in kw.items()}
        want = getattr(torch, name)(*args, **t_kw)
        got = getattr(plugrad, name)(*args, **p_kw, device=device)
        compare(name, got, want, atol=0, rtol=0)
    torch.manual_seed(seed)
    plugrad.manual_seed(seed)
    t = torch.empty(6).uniform_(-2, 3)
    p = plugrad.empty(6, device=device).uniform_(-2, 3)
    compare("uniform_", p, t, atol=0, rtol=0)
    compare("normal_", plugrad.empty(4, device=device).normal_(1, 2),
            torch.empty(4).normal_(1, 2), atol=0, rtol=0)
    compare("rand_like", plugrad.rand_like(p), torch.rand_like(t), atol=0, rtol=0)


def test_manual_seed_reproduces(device):
    plugrad.manual_seed(7)
    a = plugrad.randn(3, device=device)
    plugrad.manual_seed(7)
    b = plugrad.randn(3, device=device)
    assert plugrad.equal(a, b)
    assert plugrad.initial_seed() == 7


def test_tensor_from_tensors_and_nested(device):
    parts = [plugrad.tensor(1.5), plugrad.tensor(2)]
    got = plugrad.tensor([[p.item() for p in parts]], device=device)
    compare("nested", got, torch.tensor([[1.5, 2.0]]))
    with pytest.warns(UserWarning):
        copy = plugrad.tensor(got)
    assert not copy.requires_grad and copy.data_ptr() != got.data_ptr() \
        if hasattr(copy, "data_ptr") else True


def test_as_tensor_and_from_numpy_share_memory():
    arr = numpy.arange(4.0)
    shared = plugrad.from_numpy(arr)
    also = plugrad.as_tensor(arr)
    arr[0] = 100
    assert shared[0].item() == 100 and also[0].item() == 100
    shared[1] = -1
    assert arr[1] == -1
    assert shared.dtype is plugrad.float64
    converted = plugrad.as_tensor(arr, dtype=plugrad.float32)
    arr[2] = 55
    assert converted[2].item() == 2.0
    with pytest.raises(TypeError):
        plugrad.from_numpy([1, 2])
    t = plugrad.ones(2)
    assert plugrad.as_tensor(t) is t


def test_legacy_constructor_and_size():
    assert repr(plugrad.Tensor(2, 3).shape) == repr(torch.Tensor(2, 3).shape)
    compare("Tensor(list)", plugrad.Tensor([1, 2]), torch.Tensor([1, 2]))
    s = plugrad.Size([2, 3])
    assert repr(s) == repr(torch.Size([2, 3])) and s.numel() == 6
    assert s == (2, 3) and isinstance(s[:1], plugrad.Size)
    assert repr(plugrad.zeros(2, 3).size()) == "torch.Size([2, 3])"


# ------------------------------------------------------------------- metadata/conversion


def test_metadata(device):
    p = plugrad.zeros(2, 3, 4, device=device)
    t = torch.zeros(2, 3, 4)
    assert p.shape == t.shape and p.size() == t.size() and p.size(1) == t.size(1)
    assert p.size(-1) == 4 and p.dim() == p.ndim == 3 and p.numel() == 24
    assert len(p) == 2 and p.nelement() == 24
    assert p.device.type == device.split(":")[0]
    assert str(p.device) == (device if device == "cpu" else f"{device}:0")
    assert p.dtype is plugrad.float32 and p.is_leaf and not p.requires_grad
    assert p.is_cpu == (device == "cpu")
    with pytest.raises(IndexError):
        p.size(3)


def test_item_tolist_numpy(device):
    for values in ([[1.5, -2.0], [3.0, 4.25]], [1, 2, 3], [True, False], 7, 2.5):
        t = torch.tensor(values)
        p = plugrad.tensor(values, device=device)
        assert p.tolist() == t.tolist()
        if t.numel() == 1:
            assert p.item() == t.item() and type(p.item()) is type(t.item())
        if device == "cpu":
            numpy.testing.assert_array_equal(p.numpy(), t.numpy())
            assert p.numpy().dtype == t.numpy().dtype
    with pytest.raises(RuntimeError):
        plugrad.ones(2, device=device).item()
    with pytest.raises(RuntimeError, match="requires grad"):
        plugrad.ones(2, requires_grad=True).numpy()


def test_numpy_shares_memory_on_cpu():
    p = plugrad.zeros(3)
    arr = p.numpy()
    arr[0] = 5
    assert p[0].item() == 5


def test_to_device_and_dtype(device):
    p = plugrad.tensor([1.5, 2.5])
    moved = p.to(device)
    assert moved.device.type == device.split(":")[0]
    assert p.to("cpu") is p and p.to(plugrad.float32) is p
    assert moved.to(device) is moved
    back = moved.cpu()
    compare("round trip", back, torch.tensor([1.5, 2.5]))
    both = p.to(device, plugrad.float64)
    assert both.dtype is plugrad.float64 and both.device == moved.device
    assert p.to(device=device, dtype=plugrad.int32).dtype is plugrad.int32
    assert p.to(plugrad.zeros(1, dtype=plugrad.float16, device=device)).dtype is \
        plugrad.float16
    assert p.to(plugrad.device(device)).device == moved.device
    copy = p.to(plugrad.float32, copy=True)
    assert copy is not p
    g = plugrad.tensor([1.0, 2.0], requires_grad=True)
    (g.to(device) * 2).sum().backward()
    compare("grad through to()", g.grad, torch.tensor([2.0, 2.0]))


def test_cuda_without_cupy():
    if plugrad.cuda.is_available():
        pytest.skip("a CUDA device is present")
    assert not plugrad.cuda.is_available() and not torch.cuda.is_available()
    with pytest.raises(RuntimeError, match="cuda"):
        plugrad.ones(2).cuda()
    with pytest.raises(RuntimeError, match="cuda"):
        plugrad.ones(2, device="cuda")


def test_unknown_device():
    with pytest.raises(RuntimeError) as info:
        plugrad.ones(2, device="cdua")
    message = str(info.value)
    assert "cdua" in message and "cpu" in message
    with pytest.raises(RuntimeError):
        torch.ones(2, device="cdua")


def test_python_conversions(device):
    p = plugrad.tensor([2.5], device=device)
    assert float(p) == 2.5 and int(p) == 2 and bool(p) is True
    assert complex(p) == 2.5 + 0j
    i = plugrad.tensor(3, device=device)
    assert [10, 20, 30, 40][i] == 40 and math.floor(plugrad.tensor(2.7)) == 2
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(plugrad.ones(2, device=device))
    with pytest.raises(TypeError):
        len(plugrad.tensor(1.0))
    with pytest.raises(TypeError):
        [1, 2][plugrad.tensor(1.0)]
    rows = list(plugrad.arange(6, device=device).reshape(3, 2))
    assert [r.tolist() for r in rows] == [[0, 1], [2, 3], [4, 5]]
    assert f"{plugrad.tensor(2.5):.2f}" == f"{torch.tensor(2.5):.2f}"


# ------------------------------------------------------------------------------ repr


REPR_CASES = [
    lambda T: T.tensor([[1.0, 2.0], [3.0, 4.0]]), lambda T: T.tensor([1, 2, 3]),
    lambda T: T.tensor(3.5), lambda T: T.tensor([True, False]),
    lambda T: T.tensor([1.0, 2.5], dtype=T.float64), lambda T: T.tensor([1, 2], dtype=T.int32),
    lambda T: T.tensor([1.0, float("nan"), float("inf")]), lambda T: T.zeros(0, 3),
    lambda T: T.arange(2000.0), lambda T: T.tensor([1e-8, 1.0]), lambda T: T.tensor([1e10]),
    lambda T: T.tensor([0.1, 0.2], dtype=T.float16), lambda T: T.ones(2, 3, 4),
    lambda T: T.tensor([1.0, 2.0], requires_grad=True),
    lambda T: T.tensor([1.0, 2.0], requires_grad=True) * 2,
    lambda T: T.tensor([1.0, 2.0], requires_grad=True).sum(),
    lambda T: T.tensor(2.0, requires_grad=True) ** 2,
    lambda T: T.tensor([[1.0, 2.0]], requires_grad=True) @ T.tensor([[1.0], [2.0]]),
    lambda T: T.tensor([1.0, 2.0], requires_grad=True).detach(),
    lambda T: T.tensor([1.0, 2.0], requires_grad=True)[0],
    lambda T: T.max(T.tensor([[1.0, 5.0], [3.0, 2.0]]), 1),
    lambda T: T.nn.Parameter(T.tensor([1.0, -1.0])),
    lambda T: T.nn.Parameter(T.tensor([1, 2]), requires_grad=False),
]


@pytest.mark.parametrize("k", range(len(REPR_CASES)))
def test_repr_matches_torch(device, k):
    want = REPR_CASES[k](torch)
    got = REPR_CASES[k](plugrad)
    if device != "cpu":
        pytest.skip("device suffix: see test_repr_device_suffix")
    assert repr(got) == repr(want)
    assert str(got) == str(want)


def test_repr_device_suffix(device):
    if device == "cpu":
        pytest.skip("cpu tensors print no device")
    p = plugrad.tensor([1.0, 2.0], device=device)
    assert repr(p) == f"tensor([1., 2.], device='{device}:0')"
    q = plugrad.tensor([1, 2], device=device, dtype=plugrad.int32) * 1
    assert repr(q) == f"tensor([1, 2], device='{device}:0', dtype=torch.int32)"
    r = plugrad.tensor([1.0], device=device, requires_grad=True)
    assert repr(r * 2) == f"tensor([2.], device='{device}:0', grad_fn=<MulBackward0>)"


# --------------------------------------------------------------------------- in place


INPLACE = [
    ("add_", lambda x, y: x.add_(y)), ("add_alpha", lambda x, y: x.add_(y, alpha=-0.3)),
    ("sub_", lambda x, y: x.sub_(y)), ("mul_", lambda x, y: x.mul_(y)),
    ("div_", lambda x, y: x.div_(y)), ("iadd", lambda x, y: x.__iadd__(y)),
    ("isub", lambda x, y: x.__isub__(y)), ("imul", lambda x, y: x.__imul__(y)),
    ("itruediv", lambda x, y: x.__itruediv__(y)), ("ipow", lambda x, y: x.abs_().__ipow__(2)),
    ("zero_", lambda x, y: x.zero_()), ("fill_", lambda x, y: x.fill_(2.5)),
    ("copy_", lambda x, y: x.copy_(y)), ("copy_bcast", lambda x, y: x.copy_(y[0])),
    ("clamp_", lambda x, y: x.clamp_(-0.5, 0.5)), ("exp_", lambda x, y: x.exp_()),
    ("neg_", lambda x, y: x.neg_()), ("sigmoid_", lambda x, y: x.sigmoid_()),
    ("masked_fill_", lambda x, y: x.masked_fill_(y > 0, 0.0)),
    ("pow_", lambda x, y: x.pow_(2)), ("add_scalar", lambda x, y: x.add_(3)),
    ("mul_scalar", lambda x, y: x.mul_(0.5)), ("lerp_", lambda x, y: x.lerp_(y, 0.25)),
    ("addcmul_", lambda x, y: x.addcmul_(y, y, value=2)), ("t_", lambda x, y: x.t_()),
    ("unsqueeze_", lambda x, y: x.unsqueeze_(0)), ("squeeze_", lambda x, y: x[:1].squeeze_()),
    ("floor_", lambda x, y: x.floor_()), ("relu_", lambda x, y: x.relu_()),
    ("index_fill_", lambda x, y: x.index_fill_(1, _index(x, [0, 2]), -1.0)),
    ("scatter_add_", lambda x, y: x.scatter_add_(1, _index(x, [[0], [1], [2]]), y[:, :1])),
    ("iand", lambda x, y: (x > 0).__iand__(y > 0)),
]


def _index(x, values):
    T = torch if isinstance(x, torch.Tensor) else plugrad
    i = T.tensor(values)
    return i if T is torch else i.to(x.device)


@pytest.mark.parametrize("name, fn", INPLACE, ids=[n for n, _ in INPLACE])
def test_inplace_ops(device, name, fn):
    """In-place ops: same values as torch, return self, bump the version."""
    data = numpy.random.default_rng(0).uniform(-1, 1, (3, 3)).astype(numpy.float32)
    other = numpy.random.default_rng(1).uniform(0.5, 1, (3, 3)).astype(numpy.float32)
    t, to = torch.tensor(data), torch.tensor(other)
    p, po = plugrad.tensor(data, device=device), plugrad.tensor(other, device=device)
    rt, rp = fn(t, to), fn(p, po)
    compare(name, rp, rt)
    compare(name + " self", p, t)
    if name != "iand":
        assert (rp is p) == (rt is t)
    assert p._version == t._version


def test_inplace_dtype_rules(device):
    p = plugrad.tensor([1, 2], device=device)
    t = torch.tensor([1, 2])
    p += 3
    t += 3
    compare("int += int", p, t)
    with pytest.raises(RuntimeError, match="can't be cast"):
        p += 1.5
    with pytest.raises(RuntimeError):
        t += 1.5
    compare("unchanged", p, t)
    f = plugrad.tensor([1.0, 2.0], device=device)
    f += plugrad.tensor([1, 1], device=device)
    assert f.dtype is plugrad.float32
    with pytest.raises(RuntimeError, match="doesn't match the broadcast shape"):
        f.add_(plugrad.ones(3, 2, device=device))


def test_inplace_autograd_graph(device):
    def fn(T, x):
        y = x * 2
        y.add_(1)
        y.mul_(y.detach().clone())
        y.exp_()
        return y
    helper_test_op(device, [(3,)], fn, low=-1, high=0.5)


# ---------------------------------------------------------------------------- interop


def test_array_protocol(device):
    p = plugrad.tensor([[1.5, 2.0]], device=device)
    arr = numpy.asarray(p)
    assert arr.dtype == numpy.float32 and arr.shape == (1, 2)
    assert numpy.array(p, dtype=numpy.float64).dtype == numpy.float64
    assert p.__array__(copy=True) is not p.__array__(copy=True)
    if device == "cpu":
        assert numpy.shares_memory(p.__array__(), p.numpy())
        numpy.asarray(p)[0, 0] = 9
        assert p[0, 0].item() == 9
    else:
        with pytest.raises(ValueError):
            p.__array__(copy=False)
    with pytest.raises(RuntimeError, match="requires grad"):
        numpy.asarray(plugrad.ones(2, requires_grad=True))
    t = torch.tensor(p.cpu().numpy())
    compare("np.exp", numpy.exp(p), torch.exp(t))
    compare("np.add", numpy.add(numpy.ones(2), p), torch.ones(2, dtype=torch.float64) + t)
    assert isinstance(numpy.cbrt(p), plugrad.Tensor)          # unmapped: via host numpy


def test_dlpack_roundtrip():
    p = plugrad.arange(6.0).reshape(2, 3)
    assert p.__dlpack_device__() == (1, 0)
    from_torch = plugrad.from_dlpack(torch.arange(4.0))
    assert from_torch.tolist() == [0.0, 1.0, 2.0, 3.0]
    to_torch = torch.from_dlpack(p)
    to_torch[0, 0] = 42.0
    assert p[0, 0].item() == 42.0            # zero-copy both ways
    to_numpy = numpy.from_dlpack(p)
    assert to_numpy.shape == (2, 3)
    src = numpy.arange(3.0)
    shared = plugrad.from_dlpack(src)
    src[0] = -1
    assert shared[0].item() == -1
    assert plugrad.from_dlpack(p) is p


@pytest.mark.parametrize("op", ["+", "-", "*", "/", "**", "==", "<", ">=", "@"])
def test_numpy_operands_either_side(device, op):
    """ndarray on either side gives a Tensor (torch itself refuses ndarray on the left)."""
    arr = numpy.array([[1.0, 2.0], [3.0, 4.0]])
    p = plugrad.tensor([[0.5, 1.5], [2.0, 3.0]], device=device)
    t = torch.tensor([[0.5, 1.5], [2.0, 3.0]])
    ta = torch.tensor(arr)          # torch's own operands (it refuses some ndarray forms)
    for left, right, tl, tr in ((p, arr, t, ta), (arr, p, ta, t)):
        got = eval(f"left {op} right")
        if op == "@":           # torch's @ wants one dtype: the ndarray's promotes it
            tl, tr = tl.double(), tr.double()
        want = eval(f"tl {op} tr")
        assert isinstance(got, plugrad.Tensor)
        assert got.device.type == device.split(":")[0]
        compare(f"numpy {op}", got, want)


def test_numpy_scalars_are_wrapped_numbers(device):
    p = plugrad.tensor([1.0, 2.0], device=device)
    t = torch.tensor([1.0, 2.0])
    for scalar in (numpy.float64(2.5), numpy.int64(3), numpy.float32(0.5), numpy.bool_(True)):
        compare("scalar right", p * scalar, t * scalar)
        compare("scalar left", scalar + p, scalar + t)
    i8 = plugrad.tensor([1], dtype=plugrad.int8, device=device)
    compare("int8 + np.int64", i8 + numpy.int64(2), torch.tensor([1], dtype=torch.int8) + 2)
