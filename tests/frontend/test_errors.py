"""Bad input raises PyTorch's exception type, with torch's message where that text is the
contract, and leaves every input tensor as it was (see ``helpers.helper_test_exception``)."""
import plugrad
import pytest
import torch

from helpers import helper_test_exception

SAME = dict(same_message=True)

CASES = [
    # shape mismatch / broadcasting
    ("broadcast add", [(3, 4), (5,)], lambda x, y: x + y, SAME),
    ("broadcast mul 2d", [(2, 3), (3, 2)], lambda x, y: x * y, SAME),
    ("broadcast where", [(3,), (4,)], lambda T, x, y: T.where(x > 0, x, y), {}),
    ("inplace broadcast", [(3,), (2, 3)], lambda x, y: x.add_(y), SAME),
    ("matmul inner", [(2, 3), (4, 5)], lambda x, y: x @ y, SAME),
    ("mm rank", [(2, 3), (3,)], lambda T, x, y: T.mm(x, y), {}),
    ("bmm batch", [(2, 3, 4), (3, 4, 5)], lambda T, x, y: T.bmm(x, y), {}),
    ("dot sizes", [(3,), (4,)], lambda T, x, y: T.dot(x, y), {}),
    ("matmul 0-d", [(), (3,)], lambda x, y: x @ y, SAME),
    ("cat sizes", [(2, 3), (2, 4)], lambda T, x, y: T.cat([x, y]), SAME),
    ("cat ndim", [(2, 3), (3,)], lambda T, x, y: T.cat([x, y]), SAME),
    ("cat empty list", [], lambda T: T.cat([]), {}),
    ("cat 0-d", [(), ()], lambda T, x, y: T.cat([x, y]), SAME),
    ("stack sizes", [(2, 3), (3, 2)], lambda T, x, y: T.stack([x, y]), SAME),
    ("view incompatible", [(2, 3)], lambda x: x.t().view(6), SAME),
    ("view numel", [(2, 3)], lambda x: x.view(4), SAME),
    ("reshape numel", [(2, 3)], lambda x: x.reshape(5, -1), SAME),
    ("reshape two -1", [(2, 3)], lambda x: x.reshape(-1, -1), SAME),
    ("expand", [(2, 3)], lambda x: x.expand(4, 3), SAME),
    ("expand fewer dims", [(2, 3)], lambda x: x.expand(3), {}),
    ("repeat fewer dims", [(2, 3)], lambda x: x.repeat(2), SAME),
    ("split sizes", [(5,)], lambda x: x.split([2, 2]), {}),
    ("gather ndim", [(3, 4)], lambda T, x: x.gather(1, T.tensor([0, 1])), {}),
    ("masked_fill mask shape", [(3, 4)], lambda T, x: x.masked_fill(T.ones(3, 5) > 0, 1.0), {}),
    ("setitem shape", [(3, 4)], lambda T, x: x.__setitem__(0, T.ones(5)), {}),
    ("permute length", [(2, 3)], lambda x: x.permute(0), {}),
    ("permute duplicate", [(2, 3)], lambda x: x.permute(0, 0), {}),
    ("flatten order", [(2, 3, 4)], lambda x: x.flatten(2, 1), SAME),
    ("narrow range", [(5,)], lambda x: x.narrow(0, 3, 4), {}),
    # dims and indices out of range
    ("sum dim", [(2, 3)], lambda x: x.sum(2), SAME),
    ("sum negative dim", [(2, 3)], lambda x: x.sum(-3), SAME),
    ("softmax dim", [(2, 3)], lambda x: x.softmax(5), SAME),
    ("transpose dim", [(2, 3)], lambda x: x.transpose(0, 2), SAME),
    ("unsqueeze dim", [(2, 3)], lambda x: x.unsqueeze(4), SAME),
    ("squeeze dim", [(2, 3)], lambda x: x.squeeze(3), SAME),
    ("max dim", [(2, 3)], lambda x: x.max(2), SAME),
    ("argmax dim", [(2, 3)], lambda x: x.argmax(-4), SAME),
    ("cumsum dim", [(2, 3)], lambda x: x.cumsum(2), SAME),
    ("size dim", [(2, 3)], lambda x: x.size(2), SAME),
    ("select index", [(2, 3)], lambda x: x.select(1, 3), SAME),
    ("getitem int", [(2, 3)], lambda x: x[2], SAME),
    ("getitem negative", [(2, 3)], lambda x: x[:, -4], SAME),
    ("getitem too many", [(2, 3)], lambda x: x[0, 0, 0], SAME),
    ("getitem 0-d", [()], lambda x: x[0], SAME),
    ("setitem int", [(2, 3)], lambda x: x.__setitem__(5, 1.0), SAME),
    ("chunk zero", [(4,)], lambda x: x.chunk(0), {}),
    ("index_select dims", [(2, 3)], lambda T, x: x.index_select(2, T.tensor([0])), SAME),
    ("flip dim", [(2, 3)], lambda x: x.flip(2), SAME),
    ("diagonal dim", [(2, 3)], lambda x: x.diagonal(0, 0, 2), SAME),
    ("empty max", [(0,)], lambda x: x.max(), {}),
    ("empty argmax", [(0,)], lambda x: x.argmax(), {}),
    ("empty max dim", [(0, 3)], lambda x: x.max(0), {}),
    # wrong dtype for an op
    ("mean of int", [(2, 3)], lambda x: x.mean(), dict(dtypes="int64", **SAME)),
    ("var of int", [(2, 3)], lambda x: x.var(), dict(dtypes="int32")),
    ("std of bool", [(2, 3)], lambda x: x.std(), dict(dtypes="bool")),
    ("softmax of int", [(2, 3)], lambda x: x.softmax(0), dict(dtypes="int64")),
    ("norm of int", [(2, 3)], lambda x: x.norm(), dict(dtypes="int64")),
    ("neg of bool", [(3,)], lambda x: -x, dict(dtypes="bool", **SAME)),
    ("sub of bools", [(3,), (3,)], lambda x, y: x - y, dict(dtypes="bool", **SAME)),
    ("bool minus int", [(3,)], lambda x: x - 1, dict(dtypes="bool", **SAME)),
    ("bitwise on float", [(3,), (3,)], lambda x, y: x & y, {}),
    ("invert float", [(3,)], lambda x: ~x, {}),
    ("floor of bool", [(3,)], lambda x: x.floor(), dict(dtypes="bool", **SAME)),
    ("argmax of bool", [(3,)], lambda x: x.argmax(), dict(dtypes="bool", **SAME)),
    ("int negative pow", [(3,)], lambda x: x ** -1, dict(dtypes="int64", **SAME)),
    ("int div zero", [(3,)], lambda x: x // 0, dict(dtypes="int64", **SAME)),
    ("int remainder zero", [(3,)], lambda x: x % 0, dict(dtypes="int64", **SAME)),
    ("int alpha float", [(3,), (3,)], lambda T, x, y: T.add(x, y, alpha=0.5),
     dict(dtypes="int64", **SAME)),
    ("int += float", [(3,)], lambda x: x.__iadd__(1.5), dict(dtypes="int64", **SAME)),
    ("int *= float tensor", [(3,), (3,)], lambda x, y: x.mul_(y),
     dict(dtypes=["int32", "float32"], **SAME)),
    ("where non-bool cond", [(3,), (3,)], lambda T, x, y: T.where(x, x, y), {}),
    ("masked_fill float mask", [(3,)], lambda x: x.masked_fill(x, 0.0), {}),
    ("index float", [(3,)], lambda T, x: x[T.tensor([0.0])], SAME),
    ("gather float index", [(3,)], lambda T, x: x.gather(0, T.tensor([0.0])), {}),
    ("index_select float", [(3,)], lambda T, x: x.index_select(0, T.tensor([0.0])), {}),
    ("matmul dtypes", [(2, 2), (2, 2)], lambda x, y: x @ y,
     dict(dtypes=["float32", "float64"], **SAME)),
    ("isclose dtypes", [(2,), (2,)], lambda T, x, y: T.isclose(x, y),
     dict(dtypes=["float32", "float64"], **SAME)),
    ("index_put dtype", [(3,), (1,)], lambda T, x, v: x.index_put_((T.tensor([0]),), v),
     dict(dtypes=["float32", "float64"], **SAME)),
    ("requires_grad int", [(3,)], lambda x: x.requires_grad_(), dict(dtypes="int64", **SAME)),
    ("clamp no bounds", [(3,)], lambda x: x.clamp(), SAME),
    # creation
    ("negative size", [], lambda T: T.zeros(-1), {}),
    ("arange zero step", [], lambda T: T.arange(0, 5, 0), {}),
    ("arange bad sign", [], lambda T: T.arange(0, 5, -1), {}),
    ("linspace negative", [], lambda T: T.linspace(0, 1, -1), {}),
    ("randint empty range", [], lambda T: T.randint(5, 5, (2,)), {}),
    ("tensor ragged", [], lambda T: T.tensor([[1, 2], [3]]), {}),
    ("tensor str", [], lambda T: T.tensor("a"), {}),
    ("rand int dtype", [], lambda T: T.rand(2, dtype=T.int64), {}),
    ("full bad size", [], lambda T: T.zeros(2.5), {}),
    ("item of many", [(3,)], lambda x: x.item(), SAME),
    ("bool of many", [(3,)], lambda x: bool(x), SAME),
    ("len of 0-d", [()], lambda x: len(x), SAME),
    ("iter 0-d", [()], lambda x: iter(x), SAME),
    ("float of many", [(3,)], lambda x: float(x), {}),
    ("index float tensor", [()], lambda x: [1, 2][x], {}),
    # autograd
    ("backward non-scalar", [(3,)], lambda x: (x * 2).backward(), dict(requires_grad=True,
                                                                       **SAME)),
    ("backward no grad", [(3,)], lambda x: x.sum().backward(), SAME),
    ("backward int", [(3,)], lambda x: (x * 2).sum().long().backward(),
     dict(requires_grad=True)),
    ("backward grad shape", [(3,)], lambda T, x: (x * 2).backward(T.ones(4)),
     dict(requires_grad=True, **SAME)),
    ("grad of unused", [(3,), (3,)], lambda T, x, y: T.autograd.grad(x.sum(), y),
     dict(requires_grad=True, **SAME)),
    ("grad not requiring", [(3,)], lambda T, x: T.autograd.grad(x.sum() * 1, x),
     dict(**SAME)),
    ("leaf add_", [(3,)], lambda x: x.add_(1), dict(requires_grad=True, **SAME)),
    ("leaf setitem", [(3,)], lambda x: x.__setitem__(0, 1.0), dict(requires_grad=True, **SAME)),
    ("leaf view mul_", [(3,)], lambda x: x[:2].mul_(2), dict(requires_grad=True, **SAME)),
    ("leaf zero_", [(3,)], lambda x: x.zero_(), dict(requires_grad=True, **SAME)),
    ("leaf copy_", [(3,), (3,)], lambda x, y: x.copy_(y), dict(requires_grad=True, **SAME)),
    ("non-leaf requires_grad_(False)", [(3,)], lambda x: (x * 2).requires_grad_(False),
     dict(requires_grad=True, **SAME)),
    ("numpy of requires_grad", [(3,)], lambda x: x.numpy(), dict(requires_grad=True, **SAME)),
    ("retain_grad no grad", [(3,)], lambda x: x.retain_grad(), SAME),
    ("hook no grad", [(3,)], lambda x: x.register_hook(lambda g: g), SAME),
    ("grad assign shape", [(3,)], lambda T, x: setattr(x, "grad", T.ones(4)),
     dict(requires_grad=True)),
    ("grad assign dtype", [(3,)], lambda T, x: setattr(x, "grad", T.ones(3,
                                                                         dtype=T.float64)),
     dict(requires_grad=True)),
    ("freed graph", [(3,)], lambda x: (lambda y: (y.backward(), y.backward()))(
        (x.exp() * x).sum()), dict(requires_grad=True, **SAME)),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_error_parity(device, case):
    name, shapes, fn, kw = case
    kw = dict(kw)
    if name in ("int div zero", "int remainder zero") and device != "cpu":
        pytest.skip("device backends do not check integer division by zero (torch's CUDA "
                    "kernels do not either)")
    got, want = helper_test_exception(device, shapes, _on_device(fn, device), **kw)


def _on_device(fn, device):
    """Tensors a case creates through ``T.`` go to the device under test for plugrad."""
    import inspect
    params = list(inspect.signature(fn).parameters)
    if not params or params[0] != "T":
        return fn

    def wrapped(T, *args):
        return fn(_DeviceModule(T, device) if T is plugrad else T, *args)
    return wrapped


class _DeviceModule:
    """plugrad with tensor factories defaulting to one device."""
    _FACTORIES = {"tensor", "ones", "zeros", "arange", "linspace", "randint", "rand", "full"}

    def __init__(self, module, device):
        self._module, self._device = module, device

    def __getattr__(self, name):
        attr = getattr(self._module, name)
        if name in self._FACTORIES:
            def factory(*args, **kwargs):
                kwargs.setdefault("device", self._device)
                return attr(*args, **kwargs)
            return factory
        return attr


def test_device_errors(device):
    with pytest.raises(RuntimeError) as info:
        plugrad.zeros(2, device="cdua")
    assert "cdua" in str(info.value) and "Available" in str(info.value)
    if not plugrad.cuda.is_available():
        with pytest.raises(RuntimeError) as info:
            plugrad.zeros(2, device="cuda")
        assert "cuda" in str(info.value) and "cupy" in str(info.value)
        with pytest.raises(RuntimeError):
            plugrad.zeros(2).to("cuda")
        with pytest.raises(RuntimeError):
            plugrad.zeros(2).cuda()
    with pytest.raises(RuntimeError):
        torch.zeros(2, device="cdua")
    if device != "cpu":
        a = plugrad.ones(3, device=device)
        b = plugrad.ones(3)
        with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device"):
            a + b
        with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device"):
            plugrad.cat([a, b])
        assert (a + plugrad.tensor(2.0)).device == a.device     # 0-d cpu tensors are scalars
        assert a.tolist() == [1.0, 1.0, 1.0] and b.tolist() == [1.0, 1.0, 1.0]


def test_failed_inplace_leaves_tensor_untouched(device):
    x = plugrad.tensor([1, 2, 3], device=device)
    with pytest.raises(RuntimeError):
        x += plugrad.tensor([0.5, 0.5, 0.5], device=device)
    with pytest.raises(RuntimeError):
        x.add_(plugrad.ones(2, device=device))
    with pytest.raises(RuntimeError):
        x[plugrad.tensor([0, 1], device=device)] = plugrad.ones(2, 2, device=device)
    assert x.tolist() == [1, 2, 3] and x.dtype is plugrad.int64 and x._version == 0
    y = plugrad.tensor([1.0, 2.0], device=device, requires_grad=True)
    with pytest.raises(RuntimeError):
        y.mul_(2)
    assert y.tolist() == [1.0, 2.0] and y.grad_fn is None and y._version == 0
