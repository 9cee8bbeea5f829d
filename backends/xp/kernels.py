"""Optional fused kernels: matmul, conv2d (+ gradients, in :mod:`.conv`), addmm_act, softmax,
cross-entropy and optimizer steps.

The frontend composes each from primitives when a backend lacks it; these exist for speed.
Optimizer steps follow torch's single-tensor update order so trajectories match it.
"""
from __future__ import annotations

import math

from .conv import ConvKernels


class Kernels(ConvKernels):

    def matmul(self, a, b):
        return self.xp.matmul(a, b)

    # --------------------------------------------------------------------------- softmax
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

    # ------------------------------------------------------------------- fused epilogues
    def addmm_act(self, bias, m1, m2, act):
        xp = self.xp
        out = xp.matmul(m1, m2)
        out += bias
        if act == "relu":
            xp.maximum(out, 0, out=out)
        elif act == "gelu":  # torch's exact gelu: x/2 * (1 + erf(x/sqrt(2)))
            out = out * (self.erf(out * (1 / math.sqrt(2))) + 1) * 0.5
        return out

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

    # ------------------------------------------------------------------------ optimizers
    def _axpy(self, y, alpha, x, out=None):
        """y + alpha * x rounded once, as torch's add(alpha=) does with a fused multiply-add:
        float32/float16 go through float64, where the product is exact."""
        xp = self.xp
        if y.dtype in (xp.float32, xp.float16):
            wide = y.astype(xp.float64) + float(xp.float32(alpha)) * x.astype(xp.float64)
            result = wide.astype(y.dtype)
        else:
            result = y + alpha * x
        if out is None:
            return result
        out[...] = result
        return out

    def sgd_step(self, params, grads, momentum_bufs, hyper):
        lr, momentum = hyper["lr"], hyper["momentum"]
        dampening, wd = hyper["dampening"], hyper["weight_decay"]
        for i, (p, g) in enumerate(zip(params, grads)):
            d = -g if hyper["maximize"] else g
            if wd != 0:
                d = self._axpy(d, wd, p)
            if momentum != 0:
                buf = momentum_bufs[i]
                if hyper["first_step"]:
                    buf[...] = d
                else:
                    buf *= momentum
                    self._axpy(buf, 1 - dampening, d, out=buf)
                d = self._axpy(d, momentum, buf) if hyper["nesterov"] else buf
            self._axpy(p, -lr, d, out=p)

    def adam_step(self, params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, hyper):
        # torch's _single_tensor_adam, every step in place through one scratch buffer per
        # parameter (allocating a temporary per operation cost more than the arithmetic)
        xp = self.xp
        lr, beta1, beta2 = hyper["lr"], hyper["beta1"], hyper["beta2"]
        eps, wd, step = hyper["eps"], hyper["weight_decay"], hyper["step"]
        step_size = lr / (1 - beta1 ** step)
        bias_correction2_sqrt = (1 - beta2 ** step) ** 0.5
        weight = 1 - beta1
        for i, (p, g) in enumerate(zip(params, grads)):
            m, v = exp_avgs[i], exp_avg_sqs[i]
            t = xp.empty(p.shape, p.dtype)
            if hyper["maximize"]:
                g = xp.negative(g)
            if wd != 0:
                if hyper["decoupled"]:
                    p *= 1 - lr * wd
                else:
                    g = g + wd * p
            xp.subtract(g, m, out=t)
            if weight < 0.5:                     # torch's lerp: m + w (g - m) ...
                t *= weight
                m += t
            else:                                # ... or g - (g - m)(1 - w)
                t *= 1 - weight
                xp.subtract(g, t, out=m)
            xp.multiply(g, g, out=t)
            t *= 1 - beta2
            v *= beta2
            v += t
            if hyper["amsgrad"]:
                xp.maximum(max_exp_avg_sqs[i], v, out=max_exp_avg_sqs[i])
                v = max_exp_avg_sqs[i]
            xp.sqrt(v, out=t)
            t /= bias_correction2_sqrt
            t += eps
            xp.divide(m, t, out=t)
            t *= step_size
            p -= t
