"""Optimizer steps (optional contract kernels) in torch's single-tensor update order, so
trajectories match it."""
from __future__ import annotations


class Optim:

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
