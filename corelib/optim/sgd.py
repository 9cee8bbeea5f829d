r"""Stochastic gradient descent, with momentum, dampening, Nesterov and weight decay.

.. math::
    \begin{aligned}
    &g_t \leftarrow \nabla_\theta f_t(\theta_{t-1})\ (\text{negated if maximize})\\
    &\textbf{if}\ \lambda \neq 0:\ g_t \leftarrow g_t + \lambda \theta_{t-1}\\
    &\textbf{if}\ \mu \neq 0:\ b_t \leftarrow g_t\ (t = 1)\ \text{else}\
        \mu b_{t-1} + (1 - \tau) g_t;\quad
        g_t \leftarrow g_t + \mu b_t\ (\text{nesterov})\ \text{else}\ b_t\\
    &\theta_t \leftarrow \theta_{t-1} - \gamma g_t
    \end{aligned}

As in PyTorch (and unlike Sutskever et al.) the learning rate multiplies the whole update.
"""
from __future__ import annotations

from ..autograd.grad_mode import no_grad
from .optimizer import Optimizer, by_device, check_grads, required

__all__ = ["SGD", "sgd"]


class SGD(Optimizer):
    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0,
                 nesterov=False, *, maximize=False, foreach=None, differentiable=False,
                 fused=None):
        if lr is not required and lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening,
                        weight_decay=weight_decay, nesterov=nesterov, maximize=maximize,
                        foreach=foreach, differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)

    def step(self, closure=None):
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            params = [p for p in group["params"] if p.grad is not None]
            grads = [p.grad for p in params]
            bufs = [self.state[p].get("momentum_buffer") for p in params]
            check_grads(params, grads)
            new_bufs = sgd(params, grads, bufs, lr=group["lr"], momentum=group["momentum"],
                           dampening=group["dampening"], weight_decay=group["weight_decay"],
                           nesterov=group["nesterov"], maximize=group["maximize"])
            if group["momentum"] != 0:
                for p, buf in zip(params, new_bufs):
                    self.state[p]["momentum_buffer"] = buf
        return loss


def sgd(params, grads, momentum_buffers, *, lr, momentum, dampening, weight_decay, nesterov,
        maximize):
    """Functional SGD: updates ``params`` in place; returns the momentum buffers."""
    bufs = list(momentum_buffers)
    with no_grad():
        for dev, (ps, gs, idx) in by_device(params, grads, list(range(len(params)))).items():
            kernel = dev.ops.sgd_step
            hyper = dict(lr=lr, momentum=momentum, dampening=dampening,
                         weight_decay=weight_decay, nesterov=nesterov, maximize=maximize)
            fresh = [i for i in idx if momentum != 0 and bufs[i] is None]
            for i in fresh:
                bufs[i] = params[i].detach().new_zeros(params[i].shape)
            if kernel is not None and momentum == 0:
                kernel([p._data for p in ps], [g._data for g in gs], [None] * len(ps),
                       dict(hyper, first_step=False))
            elif kernel is not None:
                # a fresh momentum buffer starts as the gradient itself (torch's first step)
                for first in (True, False):
                    sel = [k for k, i in enumerate(idx) if (i in fresh) == first]
                    if sel:
                        kernel([ps[k]._data for k in sel], [gs[k]._data for k in sel],
                               [bufs[idx[k]]._data for k in sel], dict(hyper, first_step=first))
            else:
                for k, i in enumerate(idx):
                    _sgd_one(ps[k], gs[k], bufs[i], i in fresh, hyper)
            for p in ps:
                p._bump_version()
            for i in idx:
                if bufs[i] is not None:
                    bufs[i]._bump_version()
    return bufs


def _sgd_one(p, g, buf, first, h):
    """torch's _single_tensor_sgd with frontend in-place ops."""
    d = -g if h["maximize"] else g
    if h["weight_decay"] != 0:
        d = d.add(p, alpha=h["weight_decay"])
    if h["momentum"] != 0:
        if first:
            buf.copy_(d)
        else:
            buf.mul_(h["momentum"]).add_(d, alpha=1 - h["dampening"])
        d = d.add(buf, alpha=h["momentum"]) if h["nesterov"] else buf
    p.add_(d, alpha=-h["lr"])
