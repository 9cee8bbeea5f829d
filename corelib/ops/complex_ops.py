"""Complex tensors: real/imag views, view_as_real/view_as_complex, conj, angle, abs, polar.

Gradients follow torch's conjugate Wirtinger convention. Holomorphic ops need nothing special
(the engine conjugates around their backward, see ``Node.holomorphic``); the ops here are not
holomorphic, so their nodes opt out and implement torch's formulas.

``conj()`` returns a conjugated copy: torch's lazy conjugate bit is an optimisation, and since
no plugrad tensor carries it, ``is_conj()`` is always False and ``resolve_conj()`` returns its
input. Values, gradients and printing are what torch shows.
"""
from __future__ import annotations

from .. import _dtype as D
from .._tensor import Tensor, _from_buffer
from ..autograd.node import Node
from ._graph import attach, edge, needs_grad
from .views import make_view


class _NonHolomorphic(Node):
    __slots__ = ()
    holomorphic = False


# ----------------------------------------------------------------- view_as_real / complex
class ViewAsRealBackward0(_NonHolomorphic):
    __slots__ = ()

    def backward(self, g):
        return (view_as_complex(g.contiguous()),)


class ViewAsComplexBackward0(_NonHolomorphic):
    __slots__ = ()

    def backward(self, g):
        return (view_as_real(g),)


def view_as_real(input: Tensor) -> Tensor:
    """A real view (..., 2) of a complex tensor: [..., 0] the real parts, [..., 1] the
    imaginary ones (writes reach the complex tensor where the backend has views of it)."""
    if not input._dtype.is_complex:
        raise RuntimeError("view_as_real is only supported for complex tensors")
    dev = input._device
    real = input._dtype.to_real()
    kernel = dev.ops.view_as_real
    shape = input._shape + (2,)
    if kernel is None:
        raise RuntimeError(f"backend '{dev.type}' has no view_as_real kernel")
    out = make_view(input, kernel(input._data), shape)
    out._dtype = real
    if needs_grad(input):
        attach(out, ViewAsRealBackward0((edge(input),)))
    return out


def view_as_complex(input: Tensor) -> Tensor:
    """A complex view of a float32/float64 tensor whose last dim has size 2 and stride 1."""
    dt = input._dtype
    if dt not in (D.float32, D.float64):
        if dt is D.float16:
            raise RuntimeError("view_as_complex is only supported for half, float and double "
                               "tensors, but got a tensor of scalar type: Half")
        raise RuntimeError("view_as_complex is only supported for half, float and double "
                           f"tensors, but got a tensor of scalar type: {D.legacy_name(dt)}")
    if not input._shape or input._shape[-1] != 2:
        raise RuntimeError("Tensor must have a last dimension of size 2")
    strides = input.stride()
    if strides[-1] != 1:
        raise RuntimeError("Tensor must have a last dimension with stride 1")
    # (a size-1 dim's stride addresses nothing: opencl's reshape leaves it 1 where torch's
    # is canonical, so it is not checked)
    if any(s % 2 for s, n in zip(strides[:-1], input._shape) if n != 1):
        raise RuntimeError("Tensor must have a stride divisible by 2 for all but last "
                           "dimension")
    dev = input._device
    kernel = dev.ops.view_as_complex
    if kernel is None:
        raise RuntimeError(f"backend '{dev.type}' has no view_as_complex kernel")
    out = make_view(input, kernel(input._data), input._shape[:-1])
    out._dtype = dt.to_complex()
    if needs_grad(input):
        attach(out, ViewAsComplexBackward0((edge(input),)))
    return out


def real(input: Tensor) -> Tensor:
    """The real parts (a view) of a complex tensor; a real tensor itself."""
    if not input._dtype.is_complex:
        return input
    return view_as_real(input).select(-1, 0)


def imag(input: Tensor) -> Tensor:
    """The imaginary parts (a view) of a complex tensor."""
    if not input._dtype.is_complex:
        raise RuntimeError("imag is not implemented for tensors with non-complex dtypes.")
    return view_as_real(input).select(-1, 1)


# ----------------------------------------------------------------------------- conj
class ConjBackward0(_NonHolomorphic):
    __slots__ = ()

    def backward(self, g):
        return (conj_physical(g),)


def conj_physical(input: Tensor) -> Tensor:
    """The complex conjugate, computed (real tensors: themselves)."""
    if not input._dtype.is_complex:
        return input
    dev = input._device
    out = _from_buffer(dev.ops.complex_conj(input._data), input._shape, input._dtype, dev)
    if needs_grad(input):
        attach(out, ConjBackward0((edge(input),)))
    return out


def conj(input: Tensor) -> Tensor:
    """The complex conjugate (a copy here, see the module docstring); real tensors: input."""
    return conj_physical(input)


def resolve_conj(input: Tensor) -> Tensor:
    """input: no plugrad tensor carries an unresolved conjugate bit."""
    return input


def resolve_neg(input: Tensor) -> Tensor:
    """input: no plugrad tensor carries a negative bit."""
    return input


# ----------------------------------------------------------------------- angle / abs
class AngleBackward0(_NonHolomorphic):
    __slots__ = ("x",)

    def _drop(self):
        self.x = None

    def backward(self, g):
        z = self.x
        if not z._dtype.is_complex:
            from ._graph import zeros_like_grad
            return (zeros_like_grad(g),)
        a2 = abs_complex(z.detach()) ** 2
        ratio = (z * 1j) / a2.to(z._dtype)
        from .gather import where
        return (where(z == 0, 0.0, g.to(z._dtype) * ratio),)


def angle(input: Tensor) -> Tensor:
    """The argument atan2(imag, real) of each element (real tensors: 0 or pi)."""
    dev = input._device
    if input._dtype.is_complex:
        out = _from_buffer(dev.ops.complex_angle(input._data), input._shape, input._dtype.to_real(), dev)
    else:
        if not input._dtype.is_floating_point:
            input = input.to(D.get_default_dtype())
        from .gather import where
        import math
        out = where(input < 0, math.pi, 0.0).to(input._dtype)
        out = where(input.isnan(), input, out)
        out = _from_buffer(out._data, out._shape, out._dtype, dev)
    if needs_grad(input):
        node = AngleBackward0((edge(input),), (input,))
        node.x = input
        attach(out, node)
    return out


class AbsComplexBackward(_NonHolomorphic):
    __slots__ = ("x", "y")

    def _drop(self):
        self.x = self.y = None

    def backward(self, g):
        z, r = self.x, self.y
        from .gather import where
        sgn = where(r == 0, 0.0, z / r.to(z._dtype))
        return (g.to(z._dtype) * sgn,)

    def name(self):
        return "AbsBackward0"


def abs_complex(input: Tensor) -> Tensor:
    """|z| of a complex tensor, in its real dtype; gradient g * z / |z| (0 at 0)."""
    dev = input._device
    out = _from_buffer(dev.ops.complex_abs(input._data), input._shape, input._dtype.to_real(), dev)
    if needs_grad(input):
        node = AbsComplexBackward((edge(input),), (input,))
        node.x, node.y = input, out.detach()
        attach(out, node)
    return out


# --------------------------------------------------------------------- constructors
def complex(real: Tensor, imag: Tensor, *, out=None) -> Tensor:  # noqa: A001
    """real + imag * 1j from two float tensors of one dtype (float32 -> complex64)."""
    if not isinstance(real, Tensor) or not isinstance(imag, Tensor):
        raise TypeError("complex(): argument 'real' (position 1) must be Tensor")
    for t in (real, imag):
        if t._dtype not in (D.float16, D.float32, D.float64):
            raise RuntimeError("Expected both inputs to be Half, Float or Double tensors but "
                               f"got {D.legacy_name(real._dtype)} and "
                               f"{D.legacy_name(imag._dtype)}")
    if real._dtype is not imag._dtype:
        raise RuntimeError(f"Expected object of scalar type {D.legacy_name(real._dtype)} but "
                           f"got scalar type {D.legacy_name(imag._dtype)} for second argument")
    cdt = real._dtype.to_complex()
    return real.to(cdt) + imag.to(cdt) * 1j


def polar(abs: Tensor, angle: Tensor, *, out=None) -> Tensor:  # noqa: A002
    """abs * (cos(angle) + i sin(angle))."""
    return complex(abs * angle.cos(), abs * angle.sin())


def vdot(input: Tensor, other: Tensor, *, out=None) -> Tensor:
    """sum(conj(input) * other) of two 1-D tensors."""
    if input.ndim != 1 or other.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {input.ndim}D and {other.ndim}D "
                           "tensors")
    return (conj(input) * other).sum()
