"""Every transform plugrad.distributions has, against torch's: forward and inverse values,
log_abs_det_jacobian, forward/inverse shapes, domain/codomain, sign and bijectivity, the
gradient through forward; transform_to / identity_transform."""
import numpy
import plugrad
import pytest
import torch

PT, TT = plugrad.distributions.transforms, torch.distributions.transforms


def _np(t):
    return t.detach().cpu().numpy()


# name, constructor args (lib -> args), input (in the domain), event shape of the input
CASES = [
    ("ExpTransform", lambda L: (), [[0.3, -1.2, 2.0]]),
    ("AffineTransform", lambda L: (L.tensor(0.5), L.tensor([2.0, -1.0, 0.3])), [[0.3, -1.2, 2.0]]),
    ("SigmoidTransform", lambda L: (), [[0.3, -1.2, 2.0]]),
    ("SoftplusTransform", lambda L: (), [[0.3, -1.2, 2.0]]),
    ("TanhTransform", lambda L: (), [[0.3, -1.2, 2.0]]),
    ("PowerTransform", lambda L: (L.tensor(2.5),), [[0.3, 1.2, 2.0]]),
    ("StickBreakingTransform", lambda L: (), [[0.3, -1.2, 2.0]]),
    ("ReshapeTransform", lambda L: ((2, 3), (3, 2)), [[[0.3, -1.2, 2.0], [0.1, 0.2, 0.3]]]),
    ("IndependentTransform", lambda L: (L.distributions.transforms.ExpTransform(), 1),
     [[0.3, -1.2, 2.0]]),
    ("ComposeTransform", lambda L: ([L.distributions.transforms.ExpTransform(),
                                     L.distributions.transforms.AffineTransform(1.0, 2.0)],),
     [[0.3, -1.2, 2.0]]),
]


@pytest.mark.parametrize("name, args, x", CASES, ids=[c[0] for c in CASES])
def test_transform_equals_torch(name, args, x):
    ours = getattr(PT, name)(*args(plugrad))
    ref = getattr(TT, name)(*args(torch))
    xo = plugrad.tensor(x, dtype=plugrad.float64, requires_grad=True)
    xr = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    yo, yr = ours(xo), ref(xr)
    numpy.testing.assert_allclose(_np(yo), _np(yr), rtol=1e-12, atol=1e-12)
    numpy.testing.assert_allclose(_np(ours.inv(yo)), _np(ref.inv(yr)), rtol=1e-10, atol=1e-10)
    ldj_o, ldj_r = ours.log_abs_det_jacobian(xo, yo), ref.log_abs_det_jacobian(xr, yr)
    if isinstance(ldj_r, torch.Tensor):
        numpy.testing.assert_allclose(_np(ldj_o), _np(ldj_r), rtol=1e-12, atol=1e-12)
        (yo.sum() + ldj_o.sum()).backward()
        (yr.sum() + ldj_r.sum()).backward()
        numpy.testing.assert_allclose(_np(xo.grad), _np(xr.grad), rtol=1e-10, atol=1e-12)
    else:
        assert float(ldj_o) == float(ldj_r)
    shape = tuple(xr.shape)
    assert tuple(ours.forward_shape(shape)) == tuple(ref.forward_shape(shape))
    assert tuple(ours.inverse_shape(tuple(yr.shape))) == tuple(ref.inverse_shape(tuple(yr.shape)))
    assert repr(ours.domain) == repr(ref.domain) and repr(ours.codomain) == repr(ref.codomain)
    assert ours.bijective == ref.bijective
    if name in ("ExpTransform", "SigmoidTransform", "TanhTransform", "SoftplusTransform"):
        assert ours.sign == ref.sign


@pytest.mark.parametrize("make", [
    lambda C: C.positive, lambda C: C.real, lambda C: C.unit_interval, lambda C: C.simplex,
    lambda C: C.greater_than(2.0), lambda C: C.interval(-1.0, 3.0),
])
def test_transform_to_maps_into_the_constraint_as_torch(make):
    x = [[0.3, -1.2, 2.0]]
    ours = plugrad.distributions.transform_to(make(plugrad.distributions.constraints))
    ref = torch.distributions.transform_to(make(torch.distributions.constraints))
    yo = ours(plugrad.tensor(x, dtype=plugrad.float64))
    yr = ref(torch.tensor(x, dtype=torch.float64))
    numpy.testing.assert_allclose(_np(yo), _np(yr), rtol=1e-12)
    assert bool(make(plugrad.distributions.constraints).check(yo).all())


def test_identity_transform():
    x = plugrad.tensor([0.5, -2.0])
    t = PT.identity_transform
    assert t(x) is x and t.inv(x) is x
    assert float(t.log_abs_det_jacobian(x, x).sum()) == 0.0
    assert type(t).__name__ == type(TT.identity_transform).__name__


def test_reshape_transform_shapes_and_errors_as_torch():
    for lib in (torch, plugrad):
        t = lib.distributions.transforms.ReshapeTransform((2, 3), (3, 2))
        d = lib.distributions.TransformedDistribution(
            lib.distributions.Independent(lib.distributions.Normal(lib.zeros(4, 2, 3), 1.0), 2), [t])
        assert tuple(d.batch_shape) == (4,) and tuple(d.event_shape) == (3, 2)
        assert tuple(d.sample().shape) == (4, 3, 2)
    messages = []
    for lib in (torch, plugrad):
        t = lib.distributions.transforms.ReshapeTransform((2, 3), (3, 2))
        for shape in ((3,), (1, 2, 2)):
            with pytest.raises(ValueError) as err:
                t.forward_shape(shape)
            messages.append(str(err.value))
    assert messages[:2] == messages[2:]
