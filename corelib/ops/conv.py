"""Convolution: conv2d, its transpose and its weight gradient, as three differentiable ops.

The three are bilinear and each one's derivatives are the other two, so every backward here is
written in these ops and gradients of gradients work on every backend:

    y  = conv(x, w)          dx = conv_t(g, w)     dw = wgrad(x, g)
    z  = conv_t(g, w)        dg = conv(h, w)       dw = wgrad(h, g)
    v  = wgrad(x, g)         dx = conv_t(g, k)     dg = conv(x, k)

Each forward runs the backend's fused kernel (``conv2d``, ``conv2d_input_grad``,
``conv2d_weight_grad``) when it has one and otherwise composes the same result from
primitives (im2col from strided slices, then one matmul). 1-D convolutions travel through the
same code as (N, C, 1, L) images; callers pass 3-D tensors and pairs of ints.
"""
from __future__ import annotations

from .._tensor import _from_buffer
from ..autograd.grad_mode import no_grad
from ..autograd.node import Node
from ._graph import attach, edge, needs_grad


def out_size(size, k, s, p, d):
    """Output length of a convolution/pool along one axis (floor mode)."""
    return (size + 2 * p - d * (k - 1) - 1) // s + 1


def _as4d(shape):
    return shape if len(shape) == 4 else (shape[0], shape[1], 1, shape[2])


def _from4d(shape4, like_ndim):
    return shape4 if like_ndim == 4 else (shape4[0], shape4[1], shape4[3])


def _view4d(t):
    """t as a 4-D tensor (no graph; used inside forwards)."""
    if t.ndim == 4:
        return t
    return _from_buffer(t._device.ops.reshape(t._data, _as4d(t._shape)), _as4d(t._shape), t._dtype,
                 t._device)


def _buf(t, shape):
    return t._device.ops.reshape(t._data, shape) if t._shape != shape else t._data


# --------------------------------------------------------------------------- windows

def windows(x, kernel, stride, dilation, out_hw):
    """(N, C, H, W) -> (N, C, kh*kw, oh, ow): every receptive field, one strided slice per
    kernel offset (a Python loop over kernel positions, never over output positions).

    Differentiable (slice + stack), so pooling layers built on it get their gradients free.
    """
    from .movement import stack
    from .views import slice_view
    kh, kw = kernel
    (sh, sw), (dh, dw), (oh, ow) = stride, dilation, out_hw
    n, c = x._shape[:2]
    parts = []
    for i in range(kh):
        for j in range(kw):
            r0, c0 = i * dh, j * dw
            parts.append(slice_view(x, ((0, n, 1), (0, c, 1), (r0, r0 + sh * (oh - 1) + 1, sh),
                                        (c0, c0 + sw * (ow - 1) + 1, sw))))
    return stack(parts, 2)


def _pad_hw(x, ph, pw):
    from .movement import constant_pad
    return constant_pad(x, [pw, pw, ph, ph]) if ph or pw else x


# -------------------------------------------------------------- composed forwards (no kernel)

def _conv_composed(x, w, stride, padding, dilation, groups):
    """im2col + matmul with frontend ops; x, w are 4-D tensors outside the graph."""
    n, c, h, wd = x._shape
    cout, cg, kh, kw = w._shape
    oh = out_size(h, kh, stride[0], padding[0], dilation[0])
    ow = out_size(wd, kw, stride[1], padding[1], dilation[1])
    cols = windows(_pad_hw(x, *padding), (kh, kw), stride, dilation, (oh, ow))
    cols = cols.reshape(n, groups, cg * kh * kw, oh * ow)
    out = w.reshape(groups, cout // groups, cg * kh * kw).matmul(cols)
    return out.reshape(n, cout, oh, ow)


def _conv_t_composed(g, w, x_shape, stride, padding, dilation, groups):
    """Transposed conv as a stride-1 conv of the zero-stuffed gradient with the flipped,
    in/out-swapped weight (the textbook identity)."""
    from .movement import constant_pad, flip
    n, cout, oh, ow = g._shape
    _, cg, kh, kw = w._shape
    h, wd = x_shape[2:]
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    if sh > 1 or sw > 1:
        g = constant_pad(g.reshape(n, cout, oh, 1, ow, 1), [0, sw - 1, 0, 0, 0, sh - 1])
        g = g.reshape(n, cout, oh * sh, ow * sw)[:, :, :(oh - 1) * sh + 1, :(ow - 1) * sw + 1]
    rh = h + 2 * ph - dh * (kh - 1) - 1 - (oh - 1) * sh    # rows no window reached
    rw = wd + 2 * pw - dw * (kw - 1) - 1 - (ow - 1) * sw
    eh, ew = dh * (kh - 1) - ph, dw * (kw - 1) - pw
    g = constant_pad(g, [ew, ew + rw, eh, eh + rh])
    og = cout // groups
    wt = w.reshape(groups, og, cg, kh, kw).transpose(1, 2).reshape(groups * cg, og, kh, kw)
    return _conv_composed(g, flip(wt, (2, 3)), (1, 1), (0, 0), dilation, groups)


def _wgrad_composed(x, g, w_shape, stride, padding, dilation, groups):
    n = x._shape[0]
    cout, cg, kh, kw = w_shape
    oh, ow = g._shape[2:]
    cols = windows(_pad_hw(x, *padding), (kh, kw), stride, dilation, (oh, ow))
    cols = cols.reshape(n, groups, cg * kh * kw, oh * ow)
    gm = g.reshape(n, groups, cout // groups, oh * ow)
    return gm.matmul(cols.transpose(-1, -2)).sum(0).reshape(w_shape)


# ---------------------------------------------------------------------------- the ops

def _add_bias(data, bias, shape4, ops):
    if bias is None:
        return data
    # data is the kernel's fresh result: add in place instead of allocating another output
    return ops.add(data, ops.reshape(bias._data, (1, shape4[1], 1, 1)), out=data)


class _ConvNode(Node):
    __slots__ = ("a", "b", "shape", "stride", "padding", "dilation", "groups")

    def _drop(self):
        self.a = self.b = None

    def _params(self):
        return self.stride, self.padding, self.dilation, self.groups


class ConvolutionBackward0(_ConvNode):
    """y = conv(x, w) + b."""
    __slots__ = ()

    def backward(self, g):
        x, w = self.a, self.b
        ex, ew, eb = self.next
        gx = conv_t(g, w, None, x._shape, *self._params()) if ex is not None else None
        gw = wgrad(x, g, w._shape, *self._params()) if ew is not None else None
        gb = _bias_grad(g) if eb is not None else None
        return gx, gw, gb


class _ConvTransposeBackward(_ConvNode):
    """z = conv_t(g, w) + b (torch names the node of conv_transpose ConvolutionBackward0)."""
    __slots__ = ()

    def name(self):
        return "ConvolutionBackward0"

    def backward(self, h):
        g, w = self.a, self.b
        eg, ew, eb = self.next
        dg = conv(h, w, None, *self._params()) if eg is not None else None
        dw = wgrad(h, g, w._shape, *self._params()) if ew is not None else None
        db = _bias_grad(h) if eb is not None else None
        return dg, dw, db


class ConvolutionBackwardBackward0(_ConvNode):
    """v = wgrad(x, g): the weight gradient, differentiated again."""
    __slots__ = ()

    def backward(self, k):
        x, g = self.a, self.b
        ex, eg = self.next
        dx = conv_t(g, k, None, x._shape, *self._params()) if ex is not None else None
        dg = conv(x, k, None, *self._params()) if eg is not None else None
        return dx, dg


def _bias_grad(g):
    return g.sum((0, 2, 3)) if g.ndim == 4 else g.sum((0, 2))


def _record(out, cls, a, b, bias, shape, params):
    edges = (edge(a), edge(b)) if cls is ConvolutionBackwardBackward0 else \
        (edge(a), edge(b), edge(bias))
    node = cls(edges, (a, b))
    node.a, node.b, node.shape = a, b, shape
    node.stride, node.padding, node.dilation, node.groups = params
    return attach(out, node)


def conv(x, w, bias, stride, padding, dilation, groups):
    """Cross-correlation of x (N, C, [H,] W) with w (Cout, C/groups, [kh,] kw), plus bias.

    Arguments are already validated; stride/padding/dilation are pairs (padding symmetric).
    """
    ops = x._device.ops
    x4, w4 = _as4d(x._shape), _as4d(w._shape)
    n, _, h, wd = x4
    cout, _, kh, kw = w4
    shape4 = (n, cout, out_size(h, kh, stride[0], padding[0], dilation[0]),
              out_size(wd, kw, stride[1], padding[1], dilation[1]))
    if ops.conv2d is not None:
        data = ops.conv2d(_buf(x, x4), _buf(w, w4), stride, padding, dilation, groups)
    else:
        with no_grad():
            data = _conv_composed(_view4d(x), _view4d(w), stride, padding, dilation,
                                  groups)._data
    data = _add_bias(data, bias, shape4, ops)
    shape = _from4d(shape4, x.ndim)
    out = _from_buffer(ops.reshape(data, shape) if shape != shape4 else data, shape, x._dtype,
                x._device)
    if needs_grad(x, w, bias):
        _record(out, ConvolutionBackward0, x, w, bias, shape, (stride, padding, dilation, groups))
    return out


def conv_t(g, w, bias, x_shape, stride, padding, dilation, groups):
    """The transposed convolution of g with w (the input-gradient of ``conv``), plus bias;
    the result has shape ``x_shape`` (N, Cin, [H,] W)."""
    ops = g._device.ops
    g4, w4, x4 = _as4d(g._shape), _as4d(w._shape), _as4d(tuple(x_shape))
    if ops.conv2d_input_grad is not None:
        data = ops.conv2d_input_grad(_buf(g, g4), _buf(w, w4), x4, stride, padding, dilation,
                                     groups)
    else:
        with no_grad():
            data = _conv_t_composed(_view4d(g), _view4d(w), x4, stride, padding, dilation,
                                    groups)._data
    data = _add_bias(data, bias, x4, ops)
    shape = tuple(x_shape)
    out = _from_buffer(ops.reshape(data, shape) if shape != x4 else data, shape, g._dtype, g._device)
    if needs_grad(g, w, bias):
        _record(out, _ConvTransposeBackward, g, w, bias, shape,
                (stride, padding, dilation, groups))
    return out


def wgrad(x, g, w_shape, stride, padding, dilation, groups):
    """The gradient of ``conv`` with respect to its weight, of shape ``w_shape``."""
    ops = x._device.ops
    x4, g4, w4 = _as4d(x._shape), _as4d(g._shape), _as4d(tuple(w_shape))
    if ops.conv2d_weight_grad is not None:
        data = ops.conv2d_weight_grad(_buf(x, x4), _buf(g, g4), w4, stride, padding, dilation,
                                      groups)
    else:
        with no_grad():
            data = _wgrad_composed(_view4d(x), _view4d(g), w4, stride, padding, dilation,
                                   groups)._data
    shape = tuple(w_shape)
    out = _from_buffer(ops.reshape(data, shape) if shape != w4 else data, shape, x._dtype, x._device)
    if needs_grad(x, g):
        _record(out, ConvolutionBackwardBackward0, x, g, None, shape,
                (stride, padding, dilation, groups))
    return out
