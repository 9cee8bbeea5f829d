"""Complex torch.randn / torch.rand draw torch's stream: torch fills view_as_real of the
result (real, imag pairs), N(0, 1/2) each for randn (std 1/sqrt(2) computed as torch does),
U[0, 1) each for rand; so the values equal torch's bitwise for a seed."""
import plugrad
import pytest
import torch


@pytest.mark.parametrize("fn", ["randn", "rand"])
@pytest.mark.parametrize("dtype", ["complex64", "complex128"])
@pytest.mark.parametrize("shape", [(1,), (7,), (3, 17), (40,)])
def test_complex_draws_equal_torch(fn, dtype, shape):
    plugrad.manual_seed(5)
    torch.manual_seed(5)
    ours = getattr(plugrad, fn)(*shape, dtype=getattr(plugrad, dtype))
    ref = getattr(torch, fn)(*shape, dtype=getattr(torch, dtype))
    assert str(ours.dtype) == str(ref.dtype) and tuple(ours.shape) == tuple(ref.shape)
    assert (ours.numpy() == ref.numpy()).all()
    # the stream moved on by the same amount
    assert (plugrad.rand(3).numpy() == torch.rand(3).numpy()).all()


def test_complex_randn_like_generator_and_requires_grad():
    g, h = plugrad.Generator().manual_seed(2), torch.Generator().manual_seed(2)
    ours = plugrad.randn(4, dtype=plugrad.cdouble, generator=g, requires_grad=True)
    ref = torch.randn(4, dtype=torch.cdouble, generator=h, requires_grad=True)
    assert (ours.detach().numpy() == ref.detach().numpy()).all()
    assert ours.is_leaf and ours.requires_grad
    plugrad.manual_seed(1)
    torch.manual_seed(1)
    like = plugrad.randn_like(ours.detach())
    assert like.dtype == plugrad.cdouble
    assert (like.numpy() == torch.randn_like(ref.detach()).numpy()).all()


def test_integer_dtypes_still_refused_as_torch():
    for fn, kernel in (("randn", "normal_kernel_cpu"), ("rand", "check_uniform_bounds")):
        with pytest.raises(NotImplementedError, match=kernel):
            getattr(plugrad, fn)(2, dtype=plugrad.int64)
