"""Activations and losses: softmax, log_softmax, exact gelu, cross-entropy (+ backwards).

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
