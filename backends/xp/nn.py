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

    def lstm_cell(self, input_gates, hidden_gates, c, h_out, c_out, workspace):
        # the composed cell's passes (torch's CPU cell), written straight into the caller's
        # buffers: tanh(g) waits in c_out while the sigmoid runs over all four gates in place
        xp = self.xp
        h = c.shape[-1]
        a = xp.add(hidden_gates, input_gates, out=workspace).reshape(-1, 4, h)
        cn, hn, g = c_out.reshape(-1, h), h_out.reshape(-1, h), a[:, 2]
        xp.tanh(g, out=cn)
        xp.negative(a, out=a)
        xp.exp(a, out=a)
        a += 1
        xp.reciprocal(a, out=a)
        g[...] = cn
        xp.multiply(a[:, 1], c.reshape(-1, h), out=hn)       # c' = f * c + i * g
        xp.multiply(a[:, 0], g, out=cn)
        xp.add(hn, cn, out=cn)
        xp.tanh(cn, out=hn)                                  # h' = o * tanh(c')
        xp.multiply(a[:, 3], hn, out=hn)

    def lstm_cell_backward(self, grad_h, grad_c, c, c_new, workspace, grad_gates):
        xp = self.xp
        h = c.shape[-1]
        a, out = workspace.reshape(-1, 4, h), grad_gates.reshape(-1, 4, h)
        gh = grad_h.reshape(-1, h)
        i, f, g, o = a[:, 0], a[:, 1], a[:, 2], a[:, 3]
        tc = xp.tanh(c_new.reshape(-1, h))
        gc = xp.multiply(tc, tc)                             # gc = grad_c + gh * o (1 - tc^2)
        xp.subtract(1, gc, out=gc)
        gc *= o
        gc *= gh
        gc += grad_c.reshape(-1, h)
        xp.subtract(1, a, out=out)                           # sigmoid' = a (1 - a)
        out *= a
        dg = out[:, 2]
        xp.multiply(g, g, out=dg)                            # tanh' = 1 - g^2
        xp.subtract(1, dg, out=dg)
        out[:, 0] *= g
        out[:, 1] *= c.reshape(-1, h)
        dg *= i
        out[:, :3] *= gc[:, None]
        out[:, 3] *= tc
        out[:, 3] *= gh
        gc *= f
        return gc.reshape(c.shape)

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
