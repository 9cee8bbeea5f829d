"""asinh / acosh (and arcsinh / arccosh) against torch: values across magnitudes, dtypes,
in-place and out= variants, gradients."""
import numpy as np
import pytest
import torch

import plugrad

MAGS = np.concatenate([np.logspace(-40, 38, 4000), np.linspace(0, 10, 4000)]).astype(np.float32)
CASES = {"asinh": np.concatenate([MAGS, -MAGS, [np.inf, -np.inf, np.nan, -0.0]]),
         "acosh": np.concatenate([1 + MAGS, [0.5, -3.0, 1.0, np.inf, np.nan]])}


def _ulp(got, exact):
    keep = np.isfinite(exact)
    err = np.abs(got[keep].astype(np.float64) - exact[keep])
    return (err / np.spacing(np.abs(exact[keep]).astype(np.float32))).max()


@pytest.mark.parametrize("name", ["asinh", "acosh"])
def test_float32_accuracy_like_torch(device, name):
    xs = CASES[name].astype(np.float32)
    with np.errstate(invalid="ignore"):
        exact = getattr(np, "arc" + name[1:])(xs.astype(np.float64))
    got = getattr(plugrad, name)(plugrad.tensor(xs, device=device)).cpu().numpy()
    ref = getattr(torch, name)(torch.from_numpy(xs)).numpy()
    np.testing.assert_array_equal(np.isnan(got), np.isnan(ref))
    np.testing.assert_array_equal(np.isinf(got), np.isinf(ref))
    num = ~np.isnan(ref)                            # a nan's sign bit is not specified
    np.testing.assert_array_equal(np.signbit(got[num]), np.signbit(ref[num]))
    assert _ulp(got, exact) <= 2.0


def test_aliases_methods_inplace_out_and_integers(device):
    x = plugrad.tensor([1.5, 2.0, 300.0], device=device)
    tx = torch.tensor([1.5, 2.0, 300.0])
    for name in ("asinh", "acosh", "arcsinh", "arccosh"):
        ref = getattr(torch, name)(tx).numpy()
        np.testing.assert_allclose(getattr(plugrad, name)(x).cpu().numpy(), ref, rtol=1e-6)
        np.testing.assert_allclose(getattr(x, name)().cpu().numpy(), ref, rtol=1e-6)
        y = x.clone()
        assert getattr(y, name + "_")() is y
        np.testing.assert_allclose(y.cpu().numpy(), ref, rtol=1e-6)
        out = plugrad.empty(3, device=device)
        assert getattr(plugrad, name)(x, out=out) is out
        np.testing.assert_allclose(out.cpu().numpy(), ref, rtol=1e-6)
    i = plugrad.tensor([1, 2, 3], device=device)
    r = plugrad.asinh(i)
    assert str(r.dtype) == str(torch.asinh(torch.tensor([1, 2, 3])).dtype) == "torch.float32"
    h = plugrad.acosh(plugrad.tensor([1.0, 2.0], dtype=plugrad.float16, device=device))
    assert h.dtype == plugrad.float16
    with pytest.raises(RuntimeError, match="can't be cast"):
        plugrad.asinh(x, out=plugrad.empty(3, dtype=plugrad.int64, device=device))


def test_gradients_match_torch(device):
    vals = [-1e20, -2.0, -0.0, 1e-30, 0.5, 3.0, 1e20]
    x = plugrad.tensor(vals, requires_grad=True, device=device)
    tx = torch.tensor(vals, requires_grad=True)
    plugrad.asinh(x).sum().backward()
    torch.asinh(tx).sum().backward()
    np.testing.assert_allclose(x.grad.cpu().numpy(), tx.grad.numpy(), rtol=1e-6)
    assert x.asinh().grad_fn.name() == "AsinhBackward0"
    vals = [1.0, 1.0001, 2.0, 1e20]
    x = plugrad.tensor(vals, requires_grad=True, device=device)
    tx = torch.tensor(vals, requires_grad=True)
    plugrad.acosh(x).sum().backward()
    torch.acosh(tx).sum().backward()
    np.testing.assert_allclose(x.grad.cpu().numpy(), tx.grad.numpy(), rtol=1e-5)
    d = plugrad.tensor([0.7, 2.0], dtype=plugrad.float64, requires_grad=True)
    assert plugrad.autograd.gradcheck(plugrad.asinh, (d,))
    assert plugrad.autograd.gradcheck(plugrad.acosh, (d + 1,))
