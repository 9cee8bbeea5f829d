"""Activations, norms and losses: softmax, log_softmax, exact gelu, layer and batch norm,
cross-entropy (+ backwards).

Optional contract kernels: the frontend composes each from primitives when a backend lacks
it; these exist for speed.
"""
from __future__ import annotations


class NN:

    def softmax(self, x, axis):
        xp = self.xp
        if not x.shape[axis]:       # max over an empty axis raises; torch returns x's shape
            return x.copy()
        e = xp.exp(x - xp.max(x, axis=axis, keepdims=True))
        e /= xp.sum(e, axis=axis, keepdims=True)
        return e

    def log_softmax(self, x, axis):
        xp = self.xp
        if not x.shape[axis]:
            return x.copy()
        shifted = x - xp.max(x, axis=axis, keepdims=True)
        shifted -= xp.log(xp.sum(xp.exp(shifted), axis=axis, keepdims=True))
        return shifted

    def gelu(self, x):
        # torch's order: x * 0.5 * (1 + erf(x * M_SQRT1_2)); the constants are cast to x's
        # dtype as torch's are (numpy casts a Python float to the array's dtype). 1-d, so
        # that a 0-d input gives arrays, not numpy scalars.
        shape, x = x.shape, x.reshape(-1)
        one_plus = self.erf(x * 0.7071067811865476)
        one_plus += 1
        out = x * 0.5
        out *= one_plus
        one_plus *= 0.5
        return out.reshape(shape), one_plus.reshape(shape)

    def gelu_backward(self, g, x, cdf):
        # torch's dy * (cdf + x * (kBeta * exp(x * x * -0.5)))
        shape, x = x.shape, x.reshape(-1)
        grad = x * x
        grad *= -0.5
        self.xp.exp(grad, out=grad)
        grad *= 0.3989422804014327
        grad *= x
        grad += cdf.reshape(-1)
        grad *= g.reshape(-1)
        return grad.reshape(shape)

    def layer_norm(self, x, weight, bias, n, eps):
        # torch's CPU kernel: per-row mean and rstd, then (x * rstd + (-mean * rstd)) * w + b
        xp = self.xp
        rows = x.reshape(-1, n)
        mean = rows.mean(axis=1)
        centred = rows - mean[:, None]
        var = xp.einsum("ij,ij->i", centred, centred)
        var /= n
        var += eps
        rstd = xp.sqrt(var, out=var)
        xp.reciprocal(rstd, out=rstd)
        out = xp.multiply(rows, rstd[:, None], out=centred)
        out += (-mean * rstd)[:, None]
        if weight is not None:
            out *= weight.reshape(-1)
        if bias is not None:
            out += bias.reshape(-1)
        return out.reshape(x.shape), mean, rstd

    def layer_norm_backward(self, g, x, weight, mean, rstd, n):
        xp = self.xp
        g, rows = g.reshape(-1, n), x.reshape(-1, n)
        xhat = rows * rstd[:, None]
        xhat += (-mean * rstd)[:, None]
        gw = g * weight.reshape(-1) if weight is not None else g
        dweight = xp.einsum("ij,ij->j", g, xhat)
        dbias = g.sum(axis=0)
        proj = xp.einsum("ij,ij->i", gw, xhat)
        proj /= n
        dx = xhat * proj[:, None]
        xp.subtract(gw, dx, out=dx)
        dx -= (gw.sum(axis=1) / n)[:, None]
        dx *= rstd[:, None]
        return dx.reshape(x.shape), dweight.astype(x.dtype, copy=False), dbias

    def batch_norm(self, x, weight, bias, eps):
        xp = self.xp
        axes, view = (0,) + tuple(range(2, x.ndim)), (1, -1) + (1,) * (x.ndim - 2)
        mean = x.mean(axis=axes)
        centred = x - mean.reshape(view)
        var = xp.square(centred).mean(axis=axes)
        invstd = 1 / xp.sqrt(var + eps)
        alpha = invstd * weight if weight is not None else invstd
        beta = bias - mean * alpha if bias is not None else -mean * alpha
        out = xp.multiply(x, alpha.reshape(view), out=centred)
        out += beta.reshape(view)
        return out, mean, var

    def batch_norm_backward(self, g, x, weight, mean, var, eps):
        xp = self.xp
        axes, view = (0,) + tuple(range(2, x.ndim)), (1, -1) + (1,) * (x.ndim - 2)
        count = x.size // x.shape[1] if x.shape[1] else 0
        invstd = 1 / xp.sqrt(var + eps)
        centred = x - mean.reshape(view)
        sum_g = g.sum(axis=axes)
        dotp = (g * centred).sum(axis=axes)
        k = dotp * invstd * invstd / count
        centred *= k.reshape(view)
        dx = xp.subtract(g, centred, out=centred)
        dx -= (sum_g / count).reshape(view)
        scale = invstd * weight if weight is not None else invstd
        dx *= scale.reshape(view)
        return dx, (dotp * invstd).astype(x.dtype, copy=False), sum_g

    def cross_entropy(self, x, target, ignore_index):
        xp = self.xp
        rows = xp.arange(x.shape[0])
        m = xp.max(x, axis=1)
        log_sum = xp.log(xp.sum(xp.exp(x - m[:, None]), axis=1))
        keep = target != ignore_index
        picked = x[rows, xp.where(keep, target, 0)]
        # log_sum - (x[t] - max), as torch's log_softmax: lse - x[t] would round lse to
        # max's precision first (1e7 + log 2 == 1e7 in float32: loss 0 instead of 0.693)
        loss = xp.where(keep, log_sum - (picked - m), 0).astype(x.dtype, copy=False)
        return loss, (log_sum + m).astype(x.dtype, copy=False)

    def cross_entropy_backward(self, g, x, target, lse, ignore_index):
        xp = self.xp
        keep = target != ignore_index
        # softmax recomputed from x's max: exp(x - lse) loses what lse's rounding lost
        grad = xp.exp(x - xp.max(x, axis=1, keepdims=True))
        grad /= xp.sum(grad, axis=1, keepdims=True)
        rows = xp.flatnonzero(keep)
        grad[rows, target[rows]] -= 1
        grad *= xp.where(keep, g, 0).astype(x.dtype, copy=False)[:, None]
        return grad
