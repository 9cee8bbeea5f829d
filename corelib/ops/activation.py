"""clamp, relu and softmax/log_softmax: primitive ops with their own backward.

softmax and log_softmax use the backend's fused kernel when present and are composed from
primitives otherwise; both save a detached alias of their output (no graph cycle) and
recompute it from the input when differentiated twice.
"""
from __future__ import annotations

from .. import _dtype as D
from .._tensor import Tensor, _from_buffer, _wrap_dim
from ..autograd.grad_mode import is_grad_enabled, no_grad
from ..autograd.node import Node
from ._graph import attach, edge, needs_grad
from .inplace import write_out


class _ActNode(Node):
    __slots__ = ("x", "y", "dim", "lo", "hi")

    def _drop(self):
        self.x = self.y = None


# ----------------------------------------------------------------------------- clamp

class ClampBackward1(_ActNode):
    """Scalar bounds: the gradient passes where lo <= x <= hi (nan inputs get none)."""
    __slots__ = ()

    def backward(self, g):
        x = self.x
        keep = None
        if self.lo is not None:
            keep = x >= self.lo
        if self.hi is not None:
            upper = x <= self.hi
            keep = upper if keep is None else keep.logical_and(upper)
        return (g.where(keep, 0.0),)


class ClampMinBackward0(ClampBackward1):
    __slots__ = ()


class ClampMaxBackward0(ClampBackward1):
    __slots__ = ()


class ClampBackward0(_ActNode):
    """Tensor bounds, torch's clamp_backward_min_max: x gets the gradient where it is inside,
    a bound where it was taken (max wins when min > max)."""
    __slots__ = ()

    def backward(self, g):
        from .binary import _back
        x, lo, hi = self.x, self.lo, self.hi
        ex, el, eh = self.next
        gx = g_lo = g_hi = None
        if ex is not None:
            keep = None
            if lo is not None:
                keep = x >= lo
            if hi is not None:
                upper = x <= hi
                keep = upper if keep is None else keep.logical_and(upper)
            gx = _back(g.where(keep, 0.0), x._shape, x._dtype)
        if el is not None:
            below = x < lo
            if hi is not None:
                below = below.logical_and(lo < hi)
            g_lo = _back(g.where(below, 0.0), lo._shape, lo._dtype)
        if eh is not None:
            above = x > hi
            if lo is not None:
                above = above.logical_or(hi < lo)
            g_hi = _back(g.where(above, 0.0), hi._shape, hi._dtype)
        return gx, g_lo, g_hi

    def _drop(self):
        self.x = self.lo = self.hi = None


class ClampMinBackward1(ClampBackward0):
    __slots__ = ()


class ClampMaxBackward1(ClampBackward0):
    __slots__ = ()


def clamp(input: Tensor, min: Tensor | float | None = None, max: Tensor | float | None = None,
          *, out: Tensor | None = None, _names=(ClampBackward1, ClampBackward0)) -> Tensor:
    """Limit values to [min, max] (either may be None; min > max gives max, as torch)."""
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        return _clamp_tensor(input, min, max, out, _names[1])
    dev = input._device
    ops = dev.ops
    dt = input._dtype
    kind = D.DIM if input._shape else D.ZERO_DIM
    for bound in (min, max):        # the bounds promote like Python scalars (torch)
        if bound is not None:
            dt = D.result_type(dt, kind, D.scalar_dtype(bound), D.SCALAR)
    if dt is D.bool_:
        raise NotImplementedError("\"clamp_scalar_cpu\" not implemented for 'Bool'")
    if not dt.is_floating_point:
        import numpy
        info = numpy.iinfo(dt.name)
        for bound in (min, max):
            if bound is not None and not info.min <= bound <= info.max:
                raise RuntimeError(f"value cannot be converted to type {dt.name}_t without "
                                   "overflow")
    data = input._data if dt is input._dtype else ops.cast(input._data, dt.name)
    conv = float if dt.is_floating_point else int
    if min is not None:
        data = ops.maximum(data, conv(min))
    if max is not None:
        data = ops.minimum(data, conv(max))
    res = _from_buffer(data, input._shape, dt, dev)
    if needs_grad(input):
        node = _names[0]((edge(input),), (input,))
        node.x, node.lo, node.hi = input, min, max
        attach(res, node)
    return res if out is None else write_out(out, res)


def _clamp_tensor(input, min, max, out, node_cls):
    from .binary import maximum, minimum
    with no_grad():
        r = input
        if min is not None:
            r = maximum(r, min if isinstance(min, Tensor) else r.new_full((), min))
        if max is not None:
            r = minimum(r, max if isinstance(max, Tensor) else r.new_full((), max))
    res = _from_buffer(r._data, r._shape, r._dtype, r._device)
    if r is input:
        res._data = input._device.ops.copy(input._data)
    lo = min if isinstance(min, Tensor) else None
    hi = max if isinstance(max, Tensor) else None
    if needs_grad(input, lo, hi):
        saved = tuple(t for t in (input, lo, hi) if t is not None)
        node = node_cls((edge(input), edge(lo), edge(hi)), saved)
        node.x = input
        node.lo = lo if lo is not None else (min if min is not None else None)
        node.hi = hi if hi is not None else (max if max is not None else None)
        if node.lo is not None and not isinstance(node.lo, Tensor):
            node.lo = input.new_full((), node.lo)
        if node.hi is not None and not isinstance(node.hi, Tensor):
            node.hi = input.new_full((), node.hi)
        attach(res, node)
    return res if out is None else write_out(out, res)


clip = clamp


def clamp_min(input: Tensor, min: Tensor | float) -> Tensor:
    """max(input, min), elementwise: clamp from below only."""
    return clamp(input, min=min, _names=(ClampMinBackward0, ClampMinBackward1))


def clamp_max(input: Tensor, max: Tensor | float) -> Tensor:
    """min(input, max), elementwise: clamp from above only."""
    return clamp(input, max=max, _names=(ClampMaxBackward0, ClampMaxBackward1))

# ------------------------------------------------------------------------------ relu


class ReluBackward0(_ActNode):
    __slots__ = ()

    def backward(self, g):
        # torch's threshold_backward: zero where the result is <= 0 (nan passes the gradient).
        # The mask is not differentiable, so create_graph needs only the saved result; the
        # input is not kept alive (it is usually the largest activation of a layer).
        return (g.masked_fill(self.y <= 0, 0),)


def relu(input):
    """max(x, 0); nan stays nan."""
    if input._dtype is D.bool_:
        raise RuntimeError("Boolean inputs not supported for relu")
    dev = input._device
    res = _from_buffer(dev.ops.maximum(input._data, 0 if not input._dtype.is_floating_point else 0.0),
                input._shape, input._dtype, dev)
    if needs_grad(input):
        alias = res.detach()
        node = ReluBackward0((edge(input),), (alias,))
        node.y = alias
        attach(res, node)
    return res

# -------------------------------------------------------------------- softmax family


class SoftmaxBackward0(_ActNode):
    __slots__ = ()

    def backward(self, g):
        y = softmax(self.x, self.dim) if is_grad_enabled() else self.y
        if y._dtype.itemsize == 2 and not is_grad_enabled() and g._dtype is y._dtype:
            # half: torch's kernel computes (g - sum(g * y)) * y in float32, rounds once
            gf, yf = g.float(), y.float()
            return (((gf - (gf * yf).sum(self.dim, keepdim=True)) * yf).to(y._dtype),)
        gy = g * y
        return (gy - y * gy.sum(self.dim, keepdim=True),)


class LogSoftmaxBackward0(_ActNode):
    __slots__ = ()

    def backward(self, g):
        y = log_softmax(self.x, self.dim) if is_grad_enabled() else self.y
        if y._dtype.itemsize == 2 and not is_grad_enabled() and g._dtype is y._dtype:
            gf, yf = g.float(), y.float()     # half: float32 throughout, rounded once
            return ((gf - yf.exp() * gf.sum(self.dim, keepdim=True)).to(y._dtype),)
        return (g - y.exp() * g.sum(self.dim, keepdim=True),)


def _softmax_dtype(input, dtype, name="softmax"):
    """The input cast to ``dtype``; torch's NotImplementedError for a non-float result (a
    backend kernel would otherwise compute in float and label the result int)."""
    x = input if dtype is None else input.to(dtype)
    if not x._dtype.is_floating_point:
        raise NotImplementedError(f"\"{name}_kernel_impl\" not implemented for "
                                  f"'{D.legacy_name(x._dtype)}'")
    return x


def _softmax_like(name, kernel_name, node_cls, input, dim, dtype):
    x = _softmax_dtype(input, dtype, name)
    if dim is None:
        dim = 0 if x.ndim in (0, 1, 3) else 1   # torch's legacy implicit-dim rule
    d = _wrap_dim(dim, max(x.ndim, 1))
    dev = x._device
    if not x._shape:
        with no_grad():
            out = (x - x).exp() if name == "softmax" else x - x
        res = _from_buffer(out._data, (), x._dtype, dev)
    else:
        kernel = getattr(dev.ops, kernel_name)
        if kernel is not None:
            res = _from_buffer(kernel(x._data, d), x._shape, x._dtype, dev)
        else:
            with no_grad():
                shifted = x - x.amax(d, keepdim=True)
                if name == "softmax":
                    e = shifted.exp()
                    out = e / e.sum(d, keepdim=True)
                else:
                    out = shifted - shifted.exp().sum(d, keepdim=True).log()
            res = _from_buffer(out._data, x._shape, x._dtype, dev)
    if needs_grad(x):
        alias = res.detach()
        node = node_cls((edge(x),), (alias,))
        node.x, node.y, node.dim = x, alias, d
        attach(res, node)
    return res


def softmax(input: Tensor, dim: int | None = None, dtype: D.dtype | None = None, *,
            _stacklevel=3) -> Tensor:
    """exp(x) / sum(exp(x)) along ``dim``, computed stably."""
    return _softmax_like("softmax", "softmax", SoftmaxBackward0, input, dim, dtype)


def log_softmax(input, dim=None, dtype=None, *, _stacklevel=3):
    """x - logsumexp(x) along ``dim``, computed stably."""
    return _softmax_like("log_softmax", "log_softmax", LogSoftmaxBackward0, input, dim, dtype)
