"""nn.functional against torch: convolution (fused kernels and the composed fallback, first
and second derivatives), pooling indices, pad, interpolate, embedding, one_hot, normalize."""
from __future__ import annotations

import warnings

import numpy as np
import plugrad
import pytest
import torch

from nn_oracle import check_fn

_rng = np.random.default_rng(3)


def x(*shape, scale=1.0):
    return (_rng.standard_normal(shape) * scale).astype("float32")


CONV = [
    # input, weight, bias, stride, padding, dilation, groups
    ((2, 4, 7, 8), (6, 2, 3, 2), True, 1, (1, 0), 1, 2),
    ((1, 2, 9, 9), (4, 2, 3, 3), True, (2, 3), (1, 2), (2, 1), 1),
    ((2, 3, 5, 6), (3, 1, 1, 1), False, 2, 0, 1, 3),
    ((2, 2, 6, 5), (3, 2, 2, 3), True, 1, "same", (2, 1), 1),
]


def _conv_case(i):
    xs, ws, bias, stride, padding, dilation, groups = CONV[i]
    inputs = [x(*xs), x(*ws)] + ([x(ws[0])] if bias else [])

    def fn(T, inp, w, b=None):
        return T.nn.functional.conv2d(inp, w, b, stride, padding, dilation, groups)
    return fn, inputs


@pytest.mark.parametrize("kernels", ["fused", "composed"])
@pytest.mark.parametrize("case", range(len(CONV)))
def test_conv2d(case, kernels, device, monkeypatch):
    if kernels == "composed":   # a backend without the optional conv kernels
        ops = plugrad.empty(1, device=device).device.ops
        for name in ("conv2d", "conv2d_input_grad", "conv2d_weight_grad"):
            monkeypatch.setattr(ops, name, None)
    fn, inputs = _conv_case(case)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_fn(fn, inputs, device, name=f"conv{case}")


@pytest.mark.parametrize("kernels", ["fused", "composed"])
def test_conv_transpose2d_and_conv1d(kernels, device, monkeypatch):
    if kernels == "composed":
        ops = plugrad.empty(1, device=device).device.ops
        for name in ("conv2d", "conv2d_input_grad", "conv2d_weight_grad"):
            monkeypatch.setattr(ops, name, None)
    check_fn(lambda T, a, w, b: T.nn.functional.conv_transpose2d(a, w, b, 2, 1, 1, 2, 1),
             [x(2, 4, 3, 4), x(4, 3, 3, 3), x(6)], device)
    check_fn(lambda T, a, w: T.nn.functional.conv_transpose1d(a, w, None, 3, 0, 1, 1, 2),
             [x(2, 4, 5), x(4, 2, 3)], device)
    check_fn(lambda T, a, w, b: T.nn.functional.conv1d(a, w, b, 2, 1, 2, 1),
             [x(2, 3, 11), x(4, 3, 3), x(4)], device)


@pytest.mark.parametrize("kernels", ["fused", "composed"])
def test_conv_double_backward(kernels, device, monkeypatch):
    """Gradients of gradients (gradient penalties): conv's backward is made of convs."""
    if kernels == "composed":
        ops = plugrad.empty(1, device=device).device.ops
        for name in ("conv2d", "conv2d_input_grad", "conv2d_weight_grad"):
            monkeypatch.setattr(ops, name, None)
    xa, wa = x(2, 4, 6, 5), x(6, 2, 3, 2)
    results = []
    for T, mk in ((torch, lambda a: torch.tensor(a, requires_grad=True)),
                  (plugrad, lambda a: plugrad.tensor(a, device=device, requires_grad=True))):
        xt, wt = mk(xa), mk(wa)
        y = T.nn.functional.conv2d(xt, wt, None, 2, 1, 1, 2)
        gx, gw = T.autograd.grad((y * y).sum(), (xt, wt), create_graph=True)
        penalty = (gx ** 2).sum() + (gw ** 2).sum()
        results.append([g.detach().cpu().numpy() if T is plugrad else g.detach().numpy()
                        for g in T.autograd.grad(penalty, (xt, wt))])
    for got, expected in zip(results[1], results[0]):
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-3)


def test_conv_grad_fn_names():
    w = plugrad.randn(4, 3, 3, 3, requires_grad=True)
    assert plugrad.nn.functional.conv2d(plugrad.randn(1, 3, 5, 5), w).grad_fn.name() == \
        "ConvolutionBackward0"
    wt = plugrad.randn(3, 4, 3, 3, requires_grad=True)
    assert plugrad.nn.functional.conv_transpose2d(plugrad.randn(1, 3, 5, 5), wt) \
        .grad_fn.name() == "ConvolutionBackward0"


def test_conv_noncontiguous_input(device):
    check_fn(lambda T, a, w: T.nn.functional.conv2d(a.permute(0, 3, 1, 2), w, padding=1),
             [x(2, 6, 5, 3), x(4, 3, 3, 3)], device, grad_fn=False)


@pytest.mark.parametrize("args", [dict(kernel_size=3, stride=2, padding=1),
                                  dict(kernel_size=(2, 3), stride=1, dilation=(2, 1)),
                                  dict(kernel_size=3, stride=2, ceil_mode=True)])
def test_max_pool2d_indices(args, device):
    check_fn(lambda T, a: T.nn.functional.max_pool2d(a, return_indices=True, **args),
             [x(2, 3, 9, 8)], device)


def test_max_pool_ties_route_gradient_to_first_max(device):
    data = np.zeros((1, 1, 4, 4), "float32")
    check_fn(lambda T, a: T.nn.functional.max_pool2d(a, 2, 1), [data], device)
    check_fn(lambda T, a: T.nn.functional.max_pool2d(a, 3, 1, 1), [data], device)


def test_adaptive_pools(device):
    check_fn(lambda T, a: T.nn.functional.adaptive_avg_pool2d(a, (4, 3)), [x(2, 3, 7, 10)],
             device)
    check_fn(lambda T, a: T.nn.functional.adaptive_max_pool2d(a, (4, 3), True),
             [x(2, 3, 7, 10)], device)
    check_fn(lambda T, a: T.nn.functional.adaptive_max_pool1d(a, 4), [x(2, 3, 7)], device)
    check_fn(lambda T, a: T.nn.functional.avg_pool2d(a, 3, 2, 1, False, False), [x(3, 7, 6)],
             device)


PADS = [((2, 1), "reflect"), ((0, 3), "replicate"), ((1, 2, 2, 0), "circular"),
        ((1, 1, 2, 2), "reflect"), ((2, -1, -1, 1), "constant"), ((1, 1, 1, 1, 1, 1), "replicate"),
        ((2, 2), "circular"), ((1, 2), "constant")]


@pytest.mark.parametrize("pad,mode", PADS, ids=[f"{m}{p}" for p, m in PADS])
def test_pad(pad, mode, device):
    shape = {2: (2, 3, 5), 4: (2, 3, 4, 5), 6: (2, 3, 3, 4, 5)}[len(pad)]
    kwargs = {"value": 1.5} if mode == "constant" else {}
    check_fn(lambda T, a: T.nn.functional.pad(a, pad, mode=mode, **kwargs), [x(*shape)], device,
             grad_fn=mode != "circular")


INTERP = [
    ((2, 3, 4, 5), dict(scale_factor=2)),
    ((2, 3, 4, 5), dict(size=(7, 3))),
    ((2, 3, 4, 5), dict(scale_factor=(1.7, 0.6))),
    ((2, 3, 4, 5), dict(scale_factor=1.7, recompute_scale_factor=True)),
    ((2, 3, 4, 5), dict(size=(9, 11), mode="nearest-exact")),
    ((2, 3, 4, 5), dict(size=(7, 3), mode="bilinear")),
    ((2, 3, 4, 5), dict(scale_factor=2.5, mode="bilinear", align_corners=True)),
    ((2, 3, 4, 5), dict(size=(3, 2), mode="bilinear")),
    ((2, 3, 4, 5), dict(scale_factor=(0.75, 1.5), mode="bilinear")),
    ((2, 3, 6), dict(scale_factor=1.5, mode="linear")),
    ((2, 3, 6), dict(size=4, mode="nearest")),
    ((2, 3, 8, 6), dict(size=(3, 4), mode="area")),
]


@pytest.mark.parametrize("shape,kwargs", INTERP, ids=[str(k) for _, k in INTERP])
def test_interpolate(shape, kwargs, device):
    check_fn(lambda T, a: T.nn.functional.interpolate(a, **kwargs), [x(*shape)], device,
             grad_fn=False)


def test_interpolate_errors():
    from nn_oracle import raises_like
    for kwargs in (dict(size=3, scale_factor=2), dict(), dict(size=3, mode="nearest",
                                                              align_corners=True)):
        raises_like(lambda: torch.nn.functional.interpolate(torch.ones(1, 1, 4), **kwargs),
                    lambda: plugrad.nn.functional.interpolate(plugrad.ones(1, 1, 4), **kwargs))


def test_embedding_functional(device):
    idx = _rng.integers(0, 6, (3, 4))
    idx[0, 0] = 2
    check_fn(lambda T, i, w: T.nn.functional.embedding(i, w, padding_idx=2), [idx, x(6, 3)],
             device, grad_inputs=[1])
    check_fn(lambda T, i, w: T.nn.functional.embedding(i, w), [idx.astype("int32"), x(6, 3)],
             device, grad_inputs=[1])


def test_one_hot(device):
    idx = _rng.integers(0, 4, (2, 3))
    for num in (-1, 6):
        expected = torch.nn.functional.one_hot(torch.tensor(idx), num)
        got = plugrad.nn.functional.one_hot(plugrad.tensor(idx, device=device), num)
        assert got.dtype is plugrad.int64
        np.testing.assert_array_equal(got.cpu().numpy(), expected.numpy())


@pytest.mark.parametrize("kwargs", [dict(), dict(p=1.0, dim=0), dict(p=3, dim=-1, eps=0.5)])
def test_normalize(kwargs, device):
    data = x(4, 5)
    data[1] = 0
    check_fn(lambda T, a: T.nn.functional.normalize(a, **kwargs), [data], device, grad_fn=False)


def test_cosine_similarity_and_pairwise_distance(device):
    check_fn(lambda T, a, b: T.nn.functional.cosine_similarity(a, b, dim=-1), [x(3, 4), x(3, 4)],
             device, grad_fn=False)
    check_fn(lambda T, a, b: T.nn.functional.pairwise_distance(a, b, p=1.5, keepdim=True),
             [x(3, 4), x(3, 4)], device, grad_fn=False)


def test_norm_functionals(device):
    check_fn(lambda T, a, w, b: T.nn.functional.group_norm(a, 3, w, b), [x(2, 6, 4), x(6), x(6)],
             device)
    check_fn(lambda T, a, w, b: T.nn.functional.layer_norm(a, (4,), w, b), [x(2, 3, 4), x(4),
                                                                              x(4)], device)
    check_fn(lambda T, a: T.nn.functional.instance_norm(a), [x(2, 3, 5)], device, grad_fn=False)
    check_fn(lambda T, a, w: T.nn.functional.rms_norm(a, (4,), w, 1e-3), [x(2, 3, 4), x(4)],
             device, grad_fn=False)
    rm, rv = x(3), np.abs(x(3))
    check_fn(lambda T, a, m, v: T.nn.functional.batch_norm(a, m, v, training=False),
             [x(4, 3), rm, rv], device, grad_inputs=[0])


def test_linear_and_bilinear(device):
    check_fn(lambda T, a, w, b: T.nn.functional.linear(a, w, b), [x(4, 3), x(5, 3), x(5)],
             device)
    check_fn(lambda T, a, w: T.nn.functional.linear(a, w), [x(3), x(5, 3)], device,
             grad_fn=False)
    check_fn(lambda T, a, c, w, b: T.nn.functional.bilinear(a, c, w, b),
             [x(2, 3, 4), x(2, 3, 5), x(6, 4, 5), x(6)], device, grad_fn=False)


def test_pixel_shuffle_and_glu(device):
    check_fn(lambda T, a: T.nn.functional.pixel_shuffle(a, 3), [x(2, 18, 2, 3)], device,
             grad_fn=False)
    check_fn(lambda T, a: T.nn.functional.pixel_unshuffle(a, 2), [x(1, 2, 4, 6)], device,
             grad_fn=False)


def test_linear_on_contiguous_nd_input_is_one_addmm_viewed_back_as_torchs():
    """torch's _flatten_nd_linear: ViewBackward0 over AddmmBackward0 for contiguous input of
    3+ dims with a 1-d bias; a strided input stays matmul + add (AddBackward0)."""
    rng = np.random.default_rng(0)
    w, b = rng.standard_normal((5, 4)).astype(np.float32), rng.standard_normal(5).astype(np.float32)
    for shape, strided in [((2, 3, 4), False), ((2, 3, 2, 4), False), ((3, 2, 4), True)]:
        x = rng.standard_normal(shape).astype(np.float32)
        results = []
        for lib in (plugrad, torch):
            xt = lib.tensor(x, requires_grad=True)
            wt, bt = lib.tensor(w, requires_grad=True), lib.tensor(b, requires_grad=True)
            y = lib.nn.functional.linear(xt.transpose(0, 1) if strided else xt, wt, bt)
            y.pow(2).sum().backward()
            names = [type(y.grad_fn).__name__] + [type(f).__name__ for f, _ in
                                                  y.grad_fn.next_functions if f is not None]
            results.append((names, y.detach().numpy(), xt.grad.numpy(), wt.grad.numpy(),
                            bt.grad.numpy()))
        (pn, *pv), (tn, *tv) = results
        assert pn[0] == tn[0] and pn[1:2] == tn[1:2]
        for got, want in zip(pv, tv):
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
