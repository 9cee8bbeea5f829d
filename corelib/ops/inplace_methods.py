"""Tensor methods that write in place and are not ``apply_inplace`` of an out-of-place op.

``x.exp_()`` and most other ``*_`` methods are derived from their op (see ``ops/table.py``);
the ones here have a signature or a fast path of their own: in-place arithmetic without
autograd (one backend call with ``out=``), ``copy_``/``fill_``/``zero_``, the random fills,
and the in-place shape changes (``t_``, ``unsqueeze_``, ``resize_``, ...).
"""
from __future__ import annotations

from .. import _dtype as D
from .._tensor import Tensor
from ..autograd.grad_mode import is_grad_enabled
from . import binary, conversion, creation, views
from ..sparse.coo import SparseTensor
from .inplace import apply_inplace, check_inplace, check_no_internal_overlap, fast_binary_

# ----------------------------------------------------------- in-place arithmetic


def _fast_or_general(prim, op):
    """In-place arithmetic: one backend call when no autograd is involved, else rebase.
    ``alpha`` goes through the op itself (fused with one rounding, as torch)."""
    def method(self, other, *, alpha=1):
        if type(other) is SparseTensor:     # dense += sparse: torch's in-place add
            if prim == "mul":
                raise RuntimeError("mul_(dense, sparse) is not supported by plugrad")
            from ..sparse.arith import dense_add_
            return dense_add_(self, other, alpha=alpha if prim == "add" else -alpha)
        if alpha != 1:
            return apply_inplace(self, op, other, alpha=alpha)
        result = fast_binary_(self, other, prim)
        if result is not None:
            return result
        return apply_inplace(self, op, other)
    method.__name__ = method.__qualname__ = f"{prim}_"
    method.__doc__ = (f"In-place :meth:`Tensor.{prim}` (``other`` scaled by ``alpha``): writes"
                      " into self.")
    return method


add_ = _fast_or_general("add", binary.add)
sub_ = _fast_or_general("sub", binary.sub)
mul_ = _fast_or_general("mul", binary.mul)


def div_(self, other, *, rounding_mode=None):
    """In-place :meth:`Tensor.div`: self /= other, with torch's ``rounding_mode``."""
    if rounding_mode is None and self._dtype.is_floating_point:
        result = fast_binary_(self, other, "div")
        if result is not None:
            return result
    return apply_inplace(self, binary.div, other, rounding_mode=rounding_mode)

# ------------------------------------------------------------- copy and fill


def copy_(self, src, non_blocking=False):
    """Copy src's values into self (broadcasting, converting dtype and device)."""
    if not isinstance(src, Tensor):
        raise TypeError(f"copy_(): argument 'other' (position 1) must be Tensor, not "
                        f"{type(src).__name__}")
    check_inplace(self)
    check_no_internal_overlap(self)
    if src._device is not self._device or src._dtype is not self._dtype:
        src = conversion.to(src, device=self._device, dtype=self._dtype)
    if src._shape != self._shape:
        src = views.expand(src, self._shape)
    if (src._requires_grad or self._requires_grad) and is_grad_enabled():
        from .inplace import commit_region
        self._device.ops.assign(self._data, src._data)
        commit_region(self, self, Ellipsis, src, None)
        return self
    self._device.ops.assign(self._data, src._data)
    self._bump_version()
    return self


def fill_(self, value):
    """Set every element of self to value (a number or 0-d tensor); returns self."""
    if isinstance(value, Tensor):
        if value.ndim:
            raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor "
                               f"with {value.ndim} dimensions.")
        if value._requires_grad:
            return copy_(self, value.expand(self._shape))
        value = value.item()
    check_inplace(self)
    if self._requires_grad and is_grad_enabled():
        return apply_inplace(self, lambda x: x * 0 + value)
    self._device.ops.assign(self._data, binary.as_scalar(value, self._dtype))
    self._bump_version()
    return self


def zero_(self):
    """Set every element of self to 0; returns self."""
    return fill_(self, 0)

# ------------------------------------------------------------------ random fills


def _random_fill(method):
    def fill(self, *args, generator=None):
        from .. import _generator
        check_inplace(self)
        check_no_internal_overlap(self)
        gen = _generator.resolve(generator)
        # made on the device when its backend has mt19937_generate, else drawn and uploaded
        src = gen.generate(self._device, method, self._shape, self._dtype, *args)
        self._device.ops.assign(self._data, src._data)
        self._bump_version()
        return self
    fill.__name__ = f"{method}_"
    return fill


def uniform_(self, a=0.0, b=1.0, *, generator=None):
    """Fill self with draws from U[a, b); returns self."""
    return _random_fill("uniform")(self, float(a), float(b), generator=generator)


def normal_(self, mean=0.0, std=1.0, *, generator=None):
    """Fill self with draws from N(mean, std**2); returns self."""
    return _random_fill("normal")(self, float(mean), float(std), generator=generator)


def random_(self, from_=None, to=None, *, generator=None):
    """Fill self with integers drawn uniformly from [from_, to) (one bound: [0, from_))."""
    if from_ is not None and to is None:
        from_, to = 0, from_
    return _random_fill("random_")(self, from_, to, generator=generator)


def bernoulli_(self, p=0.5, *, generator=None):
    """Fill self with 0/1 draws, 1 with probability p (a number or a tensor)."""
    from .. import _generator
    check_inplace(self)
    check_no_internal_overlap(self)
    gen = _generator.resolve(generator)
    if isinstance(p, Tensor):   # tensor p: drawn on the host
        array = gen.draw("bernoulli", p.detach().cpu()._host(), self._shape, self._dtype.name)
        src = creation.from_host_array(array, self._dtype, self._device)
    else:   # dropout's masks: on the device when its backend has mt19937_generate
        src = gen.generate(self._device, "bernoulli", self._shape, self._dtype, float(p))
    self._device.ops.assign(self._data, src._data)
    self._bump_version()
    return self


def exponential_(self, lambd=1.0, *, generator=None):
    """Fill self with draws from the exponential distribution of rate lambd."""
    if not lambd > 0:
        raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={lambd:g}")
    # torch's CPU kernel draws every dtype as a double exponential and casts the result;
    # computed on the host, where the draws are made, so no device needs float64
    u = creation.rand(self._shape, generator=generator, dtype=D.float64)
    return copy_(self, -(1 - u).log() / lambd)

# --------------------------------------------------------------- shape in place


def unsqueeze_(self, dim):
    """In-place :meth:`Tensor.unsqueeze`: insert a size-1 dim at ``dim``."""
    return _set_shape(self, views.unsqueeze(self.detach(), dim))


def squeeze_(self, dim=None):
    """In-place :meth:`Tensor.squeeze`: drop size-1 dims (only ``dim`` when given)."""
    return _set_shape(self, views.squeeze(self.detach(), dim))


def t_(self):
    """In-place :meth:`Tensor.t`: transpose a tensor of at most 2 dims."""
    return _set_shape(self, views.t(self.detach()))


def transpose_(self, dim0, dim1):
    """In-place :meth:`Tensor.transpose`: swap dims dim0 and dim1."""
    return _set_shape(self, views.transpose(self.detach(), dim0, dim1))


def _set_shape(self, view):
    """In-place view ops (t_, unsqueeze_, ...) change this tensor's shape: a new version."""
    self._data, self._shape = view._data, view._shape
    self._bump_version()
    return self


def resize_(self, *sizes, memory_format=None):
    """Change the shape in place, keeping the first elements (torch's resize_: new elements
    are uninitialised; the tensor gets a new buffer when the shape changes)."""
    shape = creation._shape_arg(sizes)
    if self._requires_grad and is_grad_enabled():
        raise RuntimeError("cannot resize variables that require grad")
    if shape == self._shape:
        return self
    ops = self._device.ops
    n_new = 1
    for s in shape:
        n_new *= s
    keep = min(n_new, self.numel())
    data = ops.empty(shape, self._dtype.name)
    if keep:
        flat_new = ops.reshape(data, (n_new,))
        flat_old = ops.reshape(ops.copy(self._data), (self.numel(),))
        ops.assign(ops.slice(flat_new, ((0, keep, 1),)), ops.slice(flat_old, ((0, keep, 1),)))
    self._data, self._shape = data, shape
    self._bump_version()
    return self


def resize_as_(self, other, memory_format=None):
    """:meth:`resize_` self to other's shape."""
    return resize_(self, other._shape)
