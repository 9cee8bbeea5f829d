"""Autograd against PyTorch: backward/grad options, hooks, grad modes, custom Functions,
saved-tensor version checks, freed graphs, and gradcheck/gradgradcheck of every op."""
import math
import warnings

import numpy
import plugrad
import pytest
import torch

from helpers import compare, helper_test_exception


def both(device, values, requires_grad=True, dtype="float32"):
    t = torch.tensor(values, dtype=getattr(torch, dtype), requires_grad=requires_grad)
    p = plugrad.tensor(values, dtype=getattr(plugrad, dtype), device=device,
                       requires_grad=requires_grad)
    return t, p


# -------------------------------------------------------------------------- backward


def test_scalar_backward_and_accumulation(device):
    t, p = both(device, [1.0, -2.0, 3.0])
    for x in (t, p):
        (x * x).sum().backward()
        (x * 3).sum().backward()          # accumulates into .grad
    compare("grad", p.grad, t.grad)
    assert p.is_leaf and p.grad_fn is None and p.grad.grad_fn is None


def test_backward_with_gradient_argument(device):
    t, p = both(device, [[1.0, 2.0], [3.0, 4.0]])
    gt = torch.tensor([[1.0, 0.5], [-1.0, 2.0]])
    gp = plugrad.tensor(gt.numpy(), device=device)
    (t * t).backward(gt)
    (p * p).backward(gradient=gp)
    compare("grad", p.grad, t.grad)


def test_backward_non_scalar_without_gradient(device):
    helper_test_exception(device, [(2, 3)], lambda x: (x * 2).backward(), requires_grad=True,
                          same_message=True)


def test_backward_errors(device):
    helper_test_exception(device, [(2,)], lambda x: x.backward(), requires_grad=False,
                          same_message=True)
    helper_test_exception(device, [(2,)], lambda T, x: (x * 2).backward(T.ones(3)),
                          requires_grad=True)
    helper_test_exception(device, [(2,)],
                          lambda x: (x.long() if False else x * 1).sum().long().backward()
                          if False else (x * 1).detach().sum().backward(), requires_grad=True)


def test_retain_graph_and_freed_graph_error(device):
    for T, x in zip((torch, plugrad), both(device, [1.0, 2.0])):
        y = (x.exp() * x).sum()
        y.backward(retain_graph=True)
        y.backward()
    t, p = both(device, [1.0, 2.0])
    errors = []
    for x in (t, p):
        y = (x.exp() * x).sum()
        y.backward()
        with pytest.raises(RuntimeError) as info:
            y.backward()
        errors.append(str(info.value))
    assert errors[1] == errors[0]


def test_create_graph_double_backward(device):
    t, p = both(device, [0.5, -1.0, 2.0], dtype="float64")
    out = []
    for T, x in ((torch, t), (plugrad, p)):
        y = (x ** 3 + x.sin() * x).sum()
        (g,) = T.autograd.grad(y, x, create_graph=True)
        (gg,) = T.autograd.grad(g.sum(), x, create_graph=True)
        ggg = T.autograd.grad(gg.sum(), x)[0]
        out.append((g, gg, ggg))
    for name, a, b in zip(("g", "gg", "ggg"), out[1], out[0]):
        compare(name, a, b)
    assert out[1][0].requires_grad and out[1][0].grad_fn is not None


def test_backward_create_graph_then_backward_of_grad(device):
    t, p = both(device, [0.5, -1.0], dtype="float64")
    for x in (t, p):
        y = (x ** 2 * x.exp()).sum()
        y.backward(create_graph=True)
        g = x.grad
        x.grad = None
        g.sum().backward()
    compare("second derivative", p.grad, t.grad)


def test_autograd_grad_options(device):
    t, p = both(device, [1.0, 2.0])
    tu, pu = both(device, [3.0])
    for T, x, u in ((torch, t, tu), (plugrad, p, pu)):
        y = (x * 2).sum()
        with pytest.raises(RuntimeError, match="appears to not have been used"):
            T.autograd.grad(y, [x, u], retain_graph=True)
        gx, gu = T.autograd.grad(y, [x, u], allow_unused=True, retain_graph=True)
        assert gu is None
        gx2, gu2 = T.autograd.grad(y, [x, u], materialize_grads=True, retain_graph=True)
        assert gu2 is not None and float(gu2.sum()) == 0
        (gy,) = T.autograd.grad([y], [x], grad_outputs=[T.tensor(3.0, device=x.device)
                                                        if T is plugrad else T.tensor(3.0)])
        assert float(gy.sum()) == 12
        assert x.grad is None           # grad() never accumulates
    compare("grad", plugrad.autograd.grad((p * p).sum(), p)[0],
            torch.autograd.grad((t * t).sum(), t)[0])


def test_backward_inputs_argument(device):
    t, p = both(device, [1.0, 2.0])
    tw, pw = both(device, [3.0, 4.0])
    for x, w in ((t, tw), (p, pw)):
        (x * w).sum().backward(inputs=[w])
        assert x.grad is None
    compare("w.grad", pw.grad, tw.grad)


def test_non_leaf_grad_is_none_and_retain_grad(device):
    t, p = both(device, [1.0, 2.0])
    res = []
    for x in (t, p):
        y = x * 2
        z = x * 3
        z.retain_grad()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            (y * z).sum().backward()
            assert y.grad is None
        assert z.retains_grad and not y.retains_grad
        res.append(z.grad)
    compare("retained grad", res[1], res[0])


def test_tensor_hooks(device):
    t, p = both(device, [1.0, 2.0, 3.0])
    seen = {}
    for name, x in (("t", t), ("p", p)):
        y = x * 2
        y.register_hook(lambda g, name=name: seen.setdefault(name + "y", g.clone()))
        y.register_hook(lambda g: g * 10)               # replaces the gradient
        h = x.register_hook(lambda g, name=name: seen.setdefault(name + "x", g.clone()))
        (y * y).sum().backward()
        h.remove()
        (x * 1).sum().backward()
    compare("hook on y", seen["py"], seen["ty"])
    compare("hook on x", seen["px"], seen["tx"])
    compare("grad", p.grad, t.grad)


def test_hook_errors_and_post_accumulate(device):
    helper_test_exception(device, [(2,)], lambda x: x.register_hook(lambda g: g),
                          requires_grad=False, same_message=True)
    t, p = both(device, [1.0, 2.0])
    calls = []
    for x in (t, p):
        x.register_post_accumulate_grad_hook(lambda leaf: calls.append(float(leaf.grad.sum())))
        (x * 2).sum().backward()
    assert calls[0] == calls[1] == 4.0


def test_node_hooks_and_next_functions(device):
    t, p = both(device, [1.0, 2.0])
    names = []
    for x in (t, p):
        y = (x.exp() + x).sum()
        fn = y.grad_fn
        chain = [fn.name()] + [n.name() for n, _ in fn.next_functions if n is not None]
        chain += [n.name() for n, _ in fn.next_functions[0][0].next_functions if n is not None]
        names.append(chain)
    assert names[0] == names[1]


def test_detach_and_requires_grad_(device):
    t, p = both(device, [1.0, 2.0])
    for x in (t, p):
        d = x.detach()
        assert not d.requires_grad and d.grad_fn is None
        d[0] = 5.0                         # shares storage
        assert float(x[0]) == 5.0
        y = x * 2
        with pytest.raises(RuntimeError, match="leaf variables"):
            y.requires_grad_(False)
        z = y.detach().requires_grad_()
        assert z.requires_grad and z.is_leaf
    helper_test_exception(device, [(2,)], lambda x: x.long().requires_grad_(),
                          same_message=True)
    helper_test_exception(device, [(2,)], lambda T, x: T.ones(2, dtype=T.int64,
                                                              requires_grad=True))


def test_grad_modes(device):
    t, p = both(device, [1.0])
    for T, x in ((torch, t), (plugrad, p)):
        with T.no_grad():
            assert not (x * 2).requires_grad
            assert not T.is_grad_enabled()
            with T.enable_grad():
                assert (x * 2).requires_grad
        with T.set_grad_enabled(False):
            assert not (x * 2).requires_grad
        assert T.is_grad_enabled()
        T.set_grad_enabled(False)
        assert not (x * 2).requires_grad
        T.set_grad_enabled(True)

        @T.no_grad()
        def f(a):
            return a * 2

        @T.enable_grad()
        def g(a):
            return a * 2

        @T.no_grad
        def h(a):
            return a * 2
        assert not f(x).requires_grad and not h(x).requires_grad
        with T.no_grad():
            assert g(x).requires_grad
        with T.inference_mode():
            assert not (x * 2).requires_grad

        @T.set_grad_enabled(False)
        def k(a):
            return a * 2
        assert not k(x).requires_grad and T.is_grad_enabled()


def test_inplace_leaf_error_leaves_tensor_unchanged(device):
    helper_test_exception(device, [(3,)], lambda x: x.add_(1), requires_grad=True,
                          same_message=True)
    helper_test_exception(device, [(3,)], lambda x: x.mul_(2), requires_grad=True)
    helper_test_exception(device, [(3,)], lambda x: x.zero_(), requires_grad=True)
    helper_test_exception(device, [(3,)], lambda x: x.exp_(), requires_grad=True)
    helper_test_exception(device, [(3,)], lambda x: x[:2].fill_(1), requires_grad=True)

    def iadd(x):
        x += 1
    helper_test_exception(device, [(3,)], iadd, requires_grad=True)
    t, p = both(device, [1.0, 2.0])
    for T, x in ((torch, t), (plugrad, p)):
        with T.no_grad():
            x.add_(1)                       # fine under no_grad
    compare("no_grad in-place", p, t)


# --------------------------------------------------------------- saved tensor versions


@pytest.mark.parametrize("case", [
    lambda x: (lambda y: (y.add_(1), y.sum().backward()))(x.exp()),
    lambda x: (lambda y: (x.detach().mul_(2), y.sum().backward()))(x.sin()),
    lambda x: (lambda y: (y.sigmoid_(), y.sum().backward()))(x.sigmoid()),
    lambda x: (lambda a: (lambda y: (a[0].zero_(), y.sum().backward()))(a * a))(x * 1),
    lambda x: (lambda a: (lambda y: (a.add_(1), y.sum().backward()))(a ** 2))(x + 0),
    lambda x: (lambda y: (y.add_(1), y.sum().backward()))(x.tanh()),
])
def test_version_counter_errors(device, case):
    got, want = helper_test_exception(device, [(3,)], case, requires_grad=True,
                                      check_unchanged=False)
    # torch's message names the tensor type and shape, its producer and the versions
    expected = str(want)
    if device != "cpu":
        expected = expected.replace("torch.FloatTensor", f"torch.{device}.FloatTensor")
    assert str(got) == expected


def test_inplace_after_use_that_is_fine(device):
    """Modifying a tensor that backward does not need is allowed (as torch)."""
    t, p = both(device, [1.0, 2.0])
    for x in (t, p):
        a = x * 1
        y = a + 2                           # add saves nothing
        a.mul_(3)
        y.sum().backward()
    compare("grad", p.grad, t.grad)


# ------------------------------------------------------------------ custom Function


def _functions(T):
    class MyExp(T.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            y = x.exp()
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, grad):
            (y,) = ctx.saved_tensors
            return grad * y

    class MulAdd(T.autograd.Function):
        """(x * w, x + w), with needs_input_grad deciding what to compute."""
        @staticmethod
        def forward(ctx, x, w, scale):
            ctx.save_for_backward(x, w)
            ctx.scale = scale
            return x * w * scale, x + w

        @staticmethod
        def backward(ctx, g_mul, g_add):
            x, w = ctx.saved_tensors
            gx = g_mul * w * ctx.scale + g_add if ctx.needs_input_grad[0] else None
            gw = g_mul * x * ctx.scale + g_add if ctx.needs_input_grad[1] else None
            return gx, gw, None

    class Clamp(T.autograd.Function):
        @staticmethod
        def forward(x):
            return x.clamp(-1, 1)

        @staticmethod
        def setup_context(ctx, inputs, output):
            (x,) = inputs
            ctx.save_for_backward(x)

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * (x.abs() <= 1)
    return MyExp, MulAdd, Clamp


def test_custom_function_single_output(device):
    t, p = both(device, [0.5, -1.0, 2.0], dtype="float64")
    res = []
    for T, x in ((torch, t), (plugrad, p)):
        MyExp, _, Clamp = _functions(T)
        y = MyExp.apply(x)
        assert y.grad_fn.name() == "MyExpBackward"
        (y * 2).sum().backward()
        z = Clamp.apply(x * 2)
        z.sum().backward()
        res.append((y, x.grad))
    compare("forward", res[1][0], res[0][0])
    compare("grad", res[1][1], res[0][1])


def test_custom_function_multiple_outputs_and_needs_input_grad(device):
    t, p = both(device, [0.5, -1.0, 2.0])
    tw, pw = both(device, [1.0, 2.0, 3.0], requires_grad=False)
    for T, x, w in ((torch, t, tw), (plugrad, p, pw)):
        _, MulAdd, _ = _functions(T)
        a, b = MulAdd.apply(x, w, 3.0)
        assert a.grad_fn.name() == b.grad_fn.name() == "MulAddBackward"
        (a.sum() + (b * b).sum()).backward()
        a, b = MulAdd.apply(x, w, 3.0)
        a.sum().backward()                  # only one output used: the other's grad is zeros
    compare("grad", p.grad, t.grad)


def test_custom_function_gradcheck(device):
    x = plugrad.tensor([0.3, -0.7, 1.1], dtype=plugrad.float64, device=device,
                       requires_grad=True)
    w = plugrad.tensor([1.5, 0.5, -2.0], dtype=plugrad.float64, device=device,
                       requires_grad=True)
    MyExp, MulAdd, _ = _functions(plugrad)
    assert plugrad.autograd.gradcheck(MyExp.apply, (x,))
    assert plugrad.autograd.gradcheck(lambda a, b: MulAdd.apply(a, b, 2.0), (x, w))
    assert plugrad.autograd.gradgradcheck(MyExp.apply, (x,))


def test_gradcheck_detects_wrong_gradient(device):
    class Wrong(plugrad.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * x

        @staticmethod
        def backward(ctx, g):
            return g                          # should be 2 * x * g

    x = plugrad.tensor([0.3, -0.7], dtype=plugrad.float64, device=device, requires_grad=True)
    assert not plugrad.autograd.gradcheck(Wrong.apply, (x,), raise_exception=False)
    with pytest.raises(RuntimeError, match="Jacobian mismatch"):
        plugrad.autograd.gradcheck(Wrong.apply, (x,))


# ---------------------------------------------------------------- gradcheck of every op

P = dict(low=0.5, high=2.0)
GRADCHECK = [
    ("add", [(2, 3), (3,)], lambda a, b: a + b * 2), ("sub", [(2, 3), (2, 1)], lambda a, b: a - b),
    ("rsub", [(2, 3)], lambda a: 2 - a), ("mul", [(2, 3), (3,)], lambda a, b: a * b),
    ("div", [(2, 3), (2, 3)], lambda a, b: a / b, P), ("rdiv", [(2, 3)], lambda a: 2 / a, P),
    ("pow_scalar", [(2, 3)], lambda a: a ** 3), ("pow_frac", [(2, 3)], lambda a: a ** 1.5, P),
    ("pow_tensor", [(2, 3), (2, 3)], lambda a, b: a ** b, P),
    ("rpow", [(2, 3)], lambda a: 1.7 ** a), ("maximum", [(2, 3), (2, 3)], plugrad.maximum),
    ("minimum", [(2, 3), (3,)], plugrad.minimum), ("atan2", [(2, 3), (2, 3)], plugrad.atan2, P),
    ("remainder", [(2, 3), (2, 3)], lambda a, b: a % b, P),
    ("fmod", [(2, 3)], lambda a: plugrad.fmod(a, 0.3), P),
    ("neg", [(2, 3)], lambda a: -a), ("abs", [(2, 3)], lambda a: a.abs()),
    ("exp", [(2, 3)], lambda a: a.exp()), ("expm1", [(2, 3)], lambda a: a.expm1()),
    ("exp2", [(2, 3)], lambda a: a.exp2()), ("log", [(2, 3)], lambda a: a.log(), P),
    ("log1p", [(2, 3)], lambda a: a.log1p(), P), ("log2", [(2, 3)], lambda a: a.log2(), P),
    ("log10", [(2, 3)], lambda a: a.log10(), P), ("sqrt", [(2, 3)], lambda a: a.sqrt(), P),
    ("rsqrt", [(2, 3)], lambda a: a.rsqrt(), P),
    ("reciprocal", [(2, 3)], lambda a: a.reciprocal(), P), ("sin", [(2, 3)], lambda a: a.sin()),
    ("cos", [(2, 3)], lambda a: a.cos()), ("tan", [(2, 3)], lambda a: a.tan(),
                                           dict(low=-1, high=1)),
    ("asin", [(2, 3)], lambda a: a.asin(), dict(low=-0.9, high=0.9)),
    ("acos", [(2, 3)], lambda a: a.acos(), dict(low=-0.9, high=0.9)),
    ("atan", [(2, 3)], lambda a: a.atan()), ("sinh", [(2, 3)], lambda a: a.sinh()),
    ("cosh", [(2, 3)], lambda a: a.cosh()), ("tanh", [(2, 3)], lambda a: a.tanh()),
    ("sigmoid", [(2, 3)], lambda a: a.sigmoid()), ("erf", [(2, 3)], lambda a: a.erf()),
    ("relu", [(2, 3)], lambda a: a.relu()), ("square", [(2, 3)], lambda a: a.square()),
    ("frac", [(2, 3)], lambda a: a.frac(), dict(low=0.1, high=0.9)),
    ("clamp", [(2, 3)], lambda a: a.clamp(-0.5, 0.5)),
    ("clamp_tensor", [(2, 3), (2, 3), (3,)], lambda a, lo, hi: a.clamp(lo - 1, hi + 1)),
    ("where", [(2, 3), (2, 3)], lambda a, b: plugrad.where(a > 0, a, b)),
    ("lerp", [(2, 3), (2, 3), (2, 3)], lambda a, b, w: a.lerp(b, w)),
    ("addcmul", [(2, 3), (2, 3), (3,)], lambda a, b, c: a.addcmul(b, c, value=0.5)),
    ("addcdiv", [(2, 3), (2, 3), (3,)], lambda a, b, c: a.addcdiv(b, c), P),
    ("softmax", [(2, 3)], lambda a: a.softmax(1)),
    ("log_softmax", [(2, 3)], lambda a: a.log_softmax(0)),
    ("sum", [(2, 3)], lambda a: a.sum(1, keepdim=True)), ("mean", [(2, 3)], lambda a: a.mean(0)),
    ("prod", [(2, 3)], lambda a: a.prod(1)), ("prod_all", [(2, 3)], lambda a: a.prod()),
    ("max_dim", [(2, 3)], lambda a: a.max(1)[0]), ("max", [(2, 3)], lambda a: a.max()),
    ("amin", [(2, 3)], lambda a: a.amin(0)),
    ("var", [(2, 3)], lambda a: a.var(1)), ("std", [(2, 3)], lambda a: a.std()),
    ("var_corr", [(2, 3)], lambda a: a.var(0, correction=0)),
    ("logsumexp", [(2, 3)], lambda a: a.logsumexp(1)),
    ("norm", [(2, 3)], lambda a: a.norm()), ("norm1", [(2, 3)], lambda a: a.norm(1, dim=1)),
    ("norm3", [(2, 3)], lambda a: a.norm(3)), ("norm_inf", [(2, 3)], lambda a: a.norm(math.inf)),
    ("cumsum", [(2, 3)], lambda a: a.cumsum(1)), ("cumprod", [(2, 3)], lambda a: a.cumprod(1)),
    ("reshape", [(2, 3)], lambda a: a.reshape(3, 2) * 1),
    ("transpose", [(2, 3)], lambda a: a.t() * 1), ("permute", [(2, 3, 1)],
                                                   lambda a: a.permute(2, 0, 1) * 1),
    ("expand", [(2, 1)], lambda a: a.expand(2, 3) * 1), ("repeat", [(2, 3)],
                                                          lambda a: a.repeat(2, 1)),
    ("squeeze", [(2, 1)], lambda a: a.squeeze(1) * 1),
    ("unsqueeze", [(2, 3)], lambda a: a.unsqueeze(1) * 1),
    ("flip", [(2, 3)], lambda a: a.flip(1)), ("roll", [(2, 3)], lambda a: a.roll(1, 1)),
    ("cat", [(2, 3), (1, 3)], lambda a, b: plugrad.cat([a, b])),
    ("stack", [(2, 3), (2, 3)], lambda a, b: plugrad.stack([a, b], 1)),
    ("split", [(2, 3)], lambda a: a.split([1, 2], 1)),
    ("chunk", [(4, 3)], lambda a: a.chunk(2)), ("unbind", [(2, 3)], lambda a: a.unbind(1)),
    ("getitem", [(3, 4)], lambda a: a[1:, ::2]),
    ("getitem_adv", [(3, 4)], lambda a: a[[0, 2, 2], 1:]),
    ("getitem_mask", [(3, 4)], lambda a: a[a > 0]),
    ("gather", [(3, 4)], lambda a: a.gather(1, plugrad.tensor([[0, 0], [1, 3], [2, 1]],
                                                              device=a.device))),
    ("scatter", [(3, 4), (1, 4)], lambda a, b: a.scatter(0, plugrad.tensor(
        [[2, 0, 1, 2]], device=a.device), b)),
    ("scatter_add", [(3, 4), (2, 4)], lambda a, b: a.scatter_add(0, plugrad.tensor(
        [[2, 0, 1, 2], [2, 2, 2, 2]], device=a.device), b)),
    ("index_select", [(3, 4)], lambda a: a.index_select(1, plugrad.tensor(
        [3, 0, 3], device=a.device))),
    ("index_add", [(3, 4), (3, 2)], lambda a, b: a.index_add(1, plugrad.tensor(
        [1, 1], device=a.device), b)),
    ("index_put", [(3, 4), (2,)], lambda a, v: a.index_put((plugrad.tensor(
        [0, 0], device=a.device), plugrad.tensor([1, 1], device=a.device)), v,
        accumulate=True)),
    ("masked_fill", [(3, 4)], lambda a: a.masked_fill(a > 0, 0.5)),
    ("sort", [(3, 4)], lambda a: a.sort(1)[0]), ("topk", [(3, 4)], lambda a: a.topk(2)[0]),
    ("matmul", [(2, 3), (3, 4)], lambda a, b: a @ b),
    ("matmul_batched", [(2, 2, 3), (3, 2)], lambda a, b: a @ b),
    ("matmul_vec", [(3,), (3, 2)], lambda a, b: a @ b),
    ("addmm", [(4,), (2, 3), (3, 4)], lambda c, a, b: plugrad.addmm(c, a, b, beta=0.5)),
    ("einsum", [(2, 3), (3, 4)], lambda a, b: plugrad.einsum("ij,jk->ik", a, b)),
    ("diagonal", [(3, 3)], lambda a: a.diagonal()),
    ("to_float64", [(2, 3)], lambda a: a.to(plugrad.float64, copy=True)),
    ("setitem_copyslices", [(3, 4), (4,)], lambda a, v: _setitem(a, v)),
    ("tensordot", [(2, 3), (3, 2)], lambda a, b: plugrad.tensordot(a, b, 1)),
    ("cross", [(2, 3), (2, 3)], lambda a, b: plugrad.cross(a, b, dim=1)),
    ("cdist", [(2, 3), (3, 3)], lambda a, b: plugrad.cdist(a, b)),
    ("erfc", [(2, 3)], lambda a: a.erfc()), ("logit", [(2, 3)], lambda a: a.logit(),
                                             dict(low=0.1, high=0.9)),
    ("sinc", [(2, 3)], lambda a: a.sinc()), ("hypot", [(2, 3), (3,)], plugrad.hypot),
    ("logaddexp", [(2, 3), (2, 3)], plugrad.logaddexp),
    ("xlogy", [(2, 3), (2, 3)], plugrad.xlogy, P), ("fmax", [(2, 3), (2, 3)], plugrad.fmax),
    ("copysign", [(2, 3), (2, 3)], plugrad.copysign),
    ("median_dim", [(2, 3)], lambda a: a.median(1)[0]),
    ("kthvalue", [(2, 3)], lambda a: a.kthvalue(2, 1)[0]),
    ("cummax", [(2, 3)], lambda a: a.cummax(1)[0]),
    ("logcumsumexp", [(2, 3)], lambda a: a.logcumsumexp(1)),
    ("repeat_interleave", [(2, 3)], lambda a: a.repeat_interleave(2, 1)),
    ("rot90", [(2, 3)], lambda a: plugrad.rot90(a)), ("diff", [(2, 3)], lambda a: a.diff()),
    ("diag_embed", [(2, 3)], lambda a: plugrad.diag_embed(a)),
    ("kron", [(2, 2), (2, 1)], plugrad.kron),
]


def _setitem(a, v):
    b = a * 1
    b[1] = v * 2
    b[0, 1:3] = v[:2]
    return b


@pytest.mark.parametrize("case", GRADCHECK, ids=[c[0] for c in GRADCHECK])
def test_gradcheck(device, case):
    name, shapes, fn = case[:3]
    kw = case[3] if len(case) > 3 else {}
    rng = numpy.random.default_rng(hash(name) % 2 ** 32)
    low, high = kw.get("low", -2.0), kw.get("high", 2.0)
    inputs = []
    for shape in shapes:
        values = rng.uniform(low, high, shape)
        if name in ("max", "max_dim", "amin", "sort", "topk", "norm_inf", "maximum",
                    "minimum", "clamp", "relu", "where", "masked_fill", "abs", "getitem_mask",
                    "median_dim", "kthvalue", "cummax", "fmax", "copysign"):
            values = values + numpy.sign(values) * 0.05     # away from ties and kinks
        inputs.append(plugrad.tensor(values, dtype=plugrad.float64, device=device,
                                     requires_grad=True))
    assert plugrad.autograd.gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3)
    if name not in ("getitem_mask", "sort", "topk", "max", "max_dim", "amin", "median_dim",
                    "kthvalue", "cummax"):
        assert plugrad.autograd.gradgradcheck(fn, inputs, eps=1e-6, atol=1e-4, rtol=1e-3)


# ------------------------------------------------------------------------ repr / names


def test_repr_with_grad_fn_and_requires_grad(device):
    if device != "cpu":
        pytest.skip("repr of non-cpu tensors is compared in test_tensor_api")
    t, p = both(device, [1.5, -2.0])
    assert repr(p) == repr(t)
    assert repr(p * 2) == repr(t * 2)
    assert repr((p * 2).sum()) == repr((t * 2).sum())
    assert repr(p.detach()) == repr(t.detach())
    assert str(p.mean()) == str(t.mean())
    tp = torch.nn.Parameter(torch.tensor([1.0, 2.0]))
    pp = plugrad.nn.Parameter(plugrad.tensor([1.0, 2.0]))
    assert repr(pp) == repr(tp)
    assert repr(plugrad.nn.Parameter(plugrad.ones(2), requires_grad=False)) == \
        repr(torch.nn.Parameter(torch.ones(2), requires_grad=False))


def test_linear_grad_fn_is_addmm(device):
    layer = plugrad.nn.Linear(2, 1).to(device)
    out = layer(plugrad.tensor([[1.0, 2.0]], device=device))
    assert out.grad_fn.name() == "AddmmBackward0"
    assert "grad_fn=<AddmmBackward0>" in repr(out)


def test_anomaly_mode_names_the_failing_node(device):
    errors = []
    for T in (torch, plugrad):
        x = T.tensor([0.0, 1.0], requires_grad=True)
        if T is plugrad:
            x = plugrad.tensor([0.0, 1.0], device=device, requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with T.autograd.detect_anomaly():
                y = x.sqrt()
                with pytest.raises(RuntimeError) as info:
                    (y * 0).sum().backward()        # 0 / (2 * sqrt(0)) is nan
        errors.append(str(info.value).splitlines()[0])
    assert errors[1] == errors[0]
