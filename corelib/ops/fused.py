"""Differentiable ops over the backends' fused kernels: cross-entropy rows, addmm + activation,
exact gelu, layer and batch norm.

Each op runs the backend's optional kernel when it has one and composes the same result from
other frontend ops otherwise, so every backend gives the same values. Each has its own
backward only because the kernel fuses what would otherwise be several nodes (STYLE.md §7);
the backward uses the fused gradient kernel when no graph of the gradient is wanted and
frontend ops (so double backward works) when ``create_graph=True``.
"""
from __future__ import annotations

from .. import _dtype as D
from .._tensor import _from_buffer
from ..autograd.grad_mode import is_grad_enabled, no_grad
from ..autograd.node import Node
from ._graph import attach, edge, needs_grad

__all__ = ["cross_entropy_rows", "addmm_activation", "gelu_erf", "layer_norm_rows",
           "batch_norm_train"]
_HALF = (D.float16, D.bfloat16)


# ----------------------------------------------------------------- cross-entropy rows
class NllLossBackward0(Node):
    """Gradient of lse(x_i) - x_i[t_i]: g_i * (softmax(x_i) - onehot(t_i)), 0 if ignored."""
    __slots__ = ("x", "target", "lse", "ignore_index")

    def _drop(self):
        self.x = self.target = self.lse = None

    def backward(self, g):
        x, target, lse = self.x, self.target, self.lse
        dev = x._device
        kernel = dev.ops.cross_entropy_backward
        if kernel is None or is_grad_enabled() or x._dtype in _HALF:
            from .activation import softmax
            keep = target != self.ignore_index
            classes = x.new_ones(x._shape[1]).cumsum(0).sub(1).long()
            onehot = (classes.unsqueeze(0) == target.unsqueeze(1)).to(x._dtype)
            return ((softmax(x, 1) - onehot) * (g * keep).unsqueeze(1),)
        gdata = g._data if g._dtype is x._dtype else dev.ops.cast(g._data, x._dtype.name)
        data = kernel(gdata, x._data, target._data, lse._data,
                                              self.ignore_index)
        return (_from_buffer(data, x._shape, x._dtype, dev),)


def cross_entropy_rows(input, target, ignore_index=-100):
    """Per-row cross-entropy of (n, c) logits and (n,) int64 class indices (validated by the
    caller): logsumexp(x_i) - x_i[t_i], 0 where t_i == ignore_index. One kernel when the
    backend has ``cross_entropy`` (log_softmax + gather otherwise)."""
    dev = input._device
    # the kernel hands back lse in x's dtype: in half precision lse(512, 512) = 512.69 rounds
    # to 512.5, so loss and gradient would be off by 0.19; torch computes half log_softmax
    # with float accumulation, which the composed path below follows
    kernel = dev.ops.cross_entropy if input._dtype not in _HALF else None
    n = input._shape[0]
    if kernel is not None:
        loss, lse = kernel(input._data, target._data, ignore_index)
        res = _from_buffer(loss, (n,), input._dtype, dev)
        lse = _from_buffer(lse, (n,), input._dtype, dev)
    else:
        from .activation import log_softmax
        from .ternary import where
        with no_grad():
            keep = target != ignore_index
            safe = where(keep, target, 0)
            logp = log_softmax(input, 1)
            picked = logp.gather(1, safe.unsqueeze(1)).squeeze(1)
            loss = where(keep, -picked, 0.0)
            lse = input.logsumexp(1)
        res = _from_buffer(loss._data, (n,), input._dtype, dev)
    if needs_grad(input):
        node = NllLossBackward0((edge(input),), (input,))
        node.x, node.target, node.lse, node.ignore_index = input, target, lse, ignore_index
        attach(res, node)
    return res


# ----------------------------------------------------------------- addmm + activation
class AddmmActivationBackward0(Node):
    """relu/gelu(bias + m1 @ m2): the activation's gradient, then addmm's."""
    __slots__ = ("m1", "m2", "pre", "out", "shape", "act")

    def _drop(self):
        self.m1 = self.m2 = self.pre = self.out = None

    def backward(self, g):
        from .linalg import _mm
        from ._graph import unbroadcast
        if self.act == "relu":
            gz = g * (self.out > 0)
        else:  # d gelu(z) = Phi(z) + z * phi(z)
            z = self.pre
            cdf = ((z * 0.7071067811865476).erf() + 1) * 0.5
            pdf = (z * z * -0.5).exp() * 0.3989422804014327
            gz = g * (cdf + z * pdf)
        e_in, e1, e2 = self.next
        return (unbroadcast(gz, self.shape) if e_in is not None else None,
                _mm(gz, self.m2.t()) if e1 is not None else None,
                _mm(self.m1.t(), gz) if e2 is not None else None)


def addmm_activation(input, mat1, mat2, *, beta=1, alpha=1, use_gelu=False):
    """relu(beta * input + alpha * mat1 @ mat2), or gelu with ``use_gelu`` -- torch's
    ``_addmm_activation``: the GEMM plus one fused bias+activation epilogue on backends with
    the ``addmm_act`` kernel."""
    from .linalg import addmm
    act = "gelu" if use_gelu else "relu"
    dev = mat1._device
    kernel = dev.ops.addmm_act
    pre = None
    if (kernel is not None and beta == 1 and alpha == 1 and mat1.ndim == 2 and mat2.ndim == 2
            and input._device is dev and input._dtype is mat1._dtype is mat2._dtype):
        from .linalg import _check_pair
        _check_pair(mat1, mat2, "addmm")
        if mat1._shape[1] != mat2._shape[0]:
            raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({mat1._shape[0]}x"
                               f"{mat1._shape[1]} and {mat2._shape[0]}x{mat2._shape[1]})")
        shape = (mat1._shape[0], mat2._shape[1])
        out = _from_buffer(kernel(input._data, mat1._data, mat2._data, act), shape, mat1._dtype, dev)
        if use_gelu and needs_grad(input, mat1, mat2):
            with no_grad():
                pre = addmm(input, mat1, mat2)
    else:
        with no_grad():
            pre = addmm(input, mat1, mat2, beta=beta, alpha=alpha)
            if use_gelu:
                out = pre * ((pre * 0.7071067811865476).erf() + 1) * 0.5
            else:
                from .activation import relu
                out = relu(pre)
        out = _from_buffer(out._data, out._shape, out._dtype, out._device)
    if needs_grad(input, mat1, mat2):
        if beta != 1 or alpha != 1:
            raise NotImplementedError("_addmm_activation: gradients need beta=1 and alpha=1")
        node = AddmmActivationBackward0((edge(input), edge(mat1), edge(mat2)), (mat1, mat2))
        node.m1, node.m2, node.pre, node.out = mat1, mat2, pre, out.detach()
        node.shape, node.act = input._shape, act
        attach(out, node)
    return out


# ----------------------------------------------------------------- exact gelu
class GeluBackward0(Node):
    """torch's GeluBackward (erf form): g * (cdf + x * pdf), cdf kept from the forward kernel,
    so erf runs once a step; frontend ops under ``create_graph``."""
    __slots__ = ("x", "cdf")

    def _drop(self):
        self.x = self.cdf = None

    def backward(self, g):
        x = self.x
        dev = x._device
        kernel = dev.ops.gelu_backward
        if kernel is None or is_grad_enabled() or g._dtype is not x._dtype or \
                g._shape != x._shape:
            cdf = ((x * 0.7071067811865476).erf() + 1.0) * 0.5
            pdf = (x * x * -0.5).exp() * 0.3989422804014327
            return (g * (cdf + x * pdf),)
        return (_from_buffer(kernel(g._data, x._data, self.cdf._data), x._shape, x._dtype, dev),)


def gelu_erf(input):
    """torch's exact gelu of a float32/float64 tensor through the backend's ``gelu`` and
    ``gelu_backward`` kernels (one node, 2 kernel calls a step instead of ~12 elementwise
    ops); None when the backend lacks either, and the caller composes it."""
    dev = input._device
    if dev.ops.gelu is None or dev.ops.gelu_backward is None or \
            input._dtype not in (D.float32, D.float64):
        return None
    out, cdf = dev.ops.gelu(input._data)
    res = _from_buffer(out, input._shape, input._dtype, dev)
    if needs_grad(input):
        node = GeluBackward0((edge(input),), (input,))
        node.x, node.cdf = input, _from_buffer(cdf, input._shape, input._dtype, dev)
        attach(res, node)
    return res


# ----------------------------------------------------------------- layer norm
class NativeLayerNormBackward0(Node):
    """torch's layer-norm gradient from the forward's mean and rstd (one kernel); frontend
    ops, differentiable, under ``create_graph``."""
    __slots__ = ("x", "weight", "mean", "rstd", "dims", "eps")

    def _drop(self):
        self.x = self.weight = self.mean = self.rstd = None

    def backward(self, g):
        x, w = self.x, self.weight
        dev = x._device
        kernel = dev.ops.layer_norm_backward
        e_x, e_w, e_b = self.next
        if kernel is None or is_grad_enabled() or g._dtype is not x._dtype or \
                g._shape != x._shape:
            return _layer_norm_grads(g, x, w, self.dims, self.eps, e_x, e_w, e_b)
        n = self.mean._shape and x.numel() // self.mean._shape[0]
        dx, dw, db = kernel(g._data, x._data, None if w is None else w._data, self.mean._data,
                            self.rstd._data, n)
        shape = x._shape[x.ndim - len(self.dims):]
        ops = dev.ops
        return (_from_buffer(dx, x._shape, x._dtype, dev) if e_x is not None else None,
                _from_buffer(ops.reshape(dw, shape), shape, x._dtype, dev) if e_w is not None else None,
                _from_buffer(ops.reshape(db, shape), shape, x._dtype, dev) if e_b is not None else None)


def _layer_norm_grads(g, x, w, dims, eps, e_x, e_w, e_b):
    """The same gradients from frontend ops (so they have a graph of their own)."""
    mean = x.mean(dims, keepdim=True)
    rstd = (x.var(dims, keepdim=True, correction=0) + eps).rsqrt()
    xhat = (x - mean) * rstd
    gw = g * w if w is not None else g
    dx = (gw - gw.mean(dims, keepdim=True) - xhat * (gw * xhat).mean(dims, keepdim=True)) * \
        rstd if e_x is not None else None
    lead = tuple(range(x.ndim - len(dims)))
    dw = (g * xhat).sum(lead) if e_w is not None else None
    db = g.sum(lead) if e_b is not None else None
    return dx, dw, db


def layer_norm_rows(input, dims, weight, bias, eps):
    """torch's layer norm over the trailing ``dims`` through the backend's ``layer_norm`` and
    ``layer_norm_backward`` kernels (one node instead of ~15); None when the backend lacks
    either or the operands do not fit them, and the caller composes it."""
    dev = input._device
    dt = input._dtype
    n = 1
    for d in dims:
        n *= input._shape[d]
    if not n or dev.ops.layer_norm is None or dev.ops.layer_norm_backward is None or \
            dt not in (D.float32, D.float64) or \
            any(t is not None and (t._device is not dev or t._dtype is not dt or
                                   t.numel() != n) for t in (weight, bias)):
        return None
    out, mean, rstd = dev.ops.layer_norm(input._data, None if weight is None else weight._data,
                                         None if bias is None else bias._data, n, float(eps))
    res = _from_buffer(out, input._shape, dt, dev)
    if needs_grad(input, weight, bias):
        node = NativeLayerNormBackward0((edge(input), edge(weight), edge(bias)),
                                        tuple(t for t in (input, weight, bias) if t is not None))
        rows = (input.numel() // n,)
        node.x, node.weight, node.dims, node.eps = input, weight, dims, eps
        node.mean, node.rstd = _from_buffer(mean, rows, dt, dev), _from_buffer(rstd, rows, dt, dev)
        attach(res, node)
    return res


# ----------------------------------------------------------------- batch norm (training)
class NativeBatchNormBackward0(Node):
    """torch's training batch-norm gradient from the forward's mean and var (one kernel);
    frontend ops, differentiable, under ``create_graph``."""
    __slots__ = ("x", "weight", "mean", "var", "eps")

    def _drop(self):
        self.x = self.weight = self.mean = self.var = None

    def backward(self, g):
        x, w = self.x, self.weight
        dev = x._device
        kernel = dev.ops.batch_norm_backward
        e_x, e_w, e_b = self.next
        if kernel is None or is_grad_enabled() or g._dtype is not x._dtype or \
                g._shape != x._shape:
            return _batch_norm_grads(g, x, w, self.eps, e_x, e_w, e_b)
        dx, dw, db = kernel(g._data, x._data, None if w is None else w._data, self.mean._data,
                            self.var._data, self.eps)
        c = (x._shape[1],)
        return (_from_buffer(dx, x._shape, x._dtype, dev) if e_x is not None else None,
                _from_buffer(dw, c, x._dtype, dev) if e_w is not None else None,
                _from_buffer(db, c, x._dtype, dev) if e_b is not None else None)


def _batch_norm_grads(g, x, w, eps, e_x, e_w, e_b):
    """The same gradients from frontend ops (so they have a graph of their own)."""
    dims = (0,) + tuple(range(2, x.ndim))
    view = (1, -1) + (1,) * (x.ndim - 2)
    mean = x.mean(dims, keepdim=True)
    invstd = (x.var(dims, keepdim=True, correction=0) + eps).rsqrt()
    xhat = (x - mean) * invstd
    gw = g * w.reshape(view) if w is not None else g
    dx = (gw - gw.mean(dims, keepdim=True) - xhat * (gw * xhat).mean(dims, keepdim=True)) * \
        invstd if e_x is not None else None
    dw = (g * xhat).sum(dims) if e_w is not None else None
    db = g.sum(dims) if e_b is not None else None
    return dx, dw, db


def batch_norm_train(input, weight, bias, eps):
    """(out, mean, biased var) of training-mode batch norm through the backend's
    ``batch_norm`` and ``batch_norm_backward`` kernels (one node instead of ~15); None when
    the backend lacks either or the operands do not fit them, and the caller composes it."""
    dev = input._device
    dt = input._dtype
    c = input._shape[1]
    if dev.ops.batch_norm is None or dev.ops.batch_norm_backward is None or \
            dt not in (D.float32, D.float64) or not input.numel() or \
            any(t is not None and (t._device is not dev or t._dtype is not dt or
                                   t._shape != (c,)) for t in (weight, bias)):
        return None
    out, mean, var = dev.ops.batch_norm(input._data, None if weight is None else weight._data,
                                        None if bias is None else bias._data, float(eps))
    res = _from_buffer(out, input._shape, dt, dev)
    mean, var = _from_buffer(mean, (c,), dt, dev), _from_buffer(var, (c,), dt, dev)
    if needs_grad(input, weight, bias):
        node = NativeBatchNormBackward0((edge(input), edge(weight), edge(bias)),
                                        tuple(t for t in (input, weight, bias) if t is not None))
        node.x, node.weight, node.mean, node.var, node.eps = input, weight, mean, var, eps
        attach(res, node)
    return res, mean, var
