r"""Adam and AdamW (decoupled weight decay), with amsgrad and maximize.

.. math::
    \begin{aligned}
    &g_t \leftarrow \nabla_\theta f_t(\theta_{t-1})\ (\text{negated if maximize})\\
    &\textbf{if}\ \lambda \neq 0:\ \text{AdamW: } \theta \leftarrow \theta(1 - \gamma\lambda)
        \quad \text{Adam: } g_t \leftarrow g_t + \lambda\theta_{t-1}\\
    &m_t \leftarrow \beta_1 m_{t-1} + (1-\beta_1) g_t,\quad
     v_t \leftarrow \beta_2 v_{t-1} + (1-\beta_2) g_t^2\\
    &\hat v_t \leftarrow \max(\hat v_{t-1}, v_t)\ (\text{amsgrad}),\quad
     \theta_t \leftarrow \theta_{t-1} - \frac{\gamma}{1-\beta_1^t}\,
        \frac{m_t}{\sqrt{v_t}/\sqrt{1-\beta_2^t} + \epsilon}
    \end{aligned}

The update order follows torch's ``_single_tensor_adam`` so trajectories agree with it.
"""
from __future__ import annotations

import math

from .. import _dtype as D
from ..autograd.grad_mode import no_grad
from ..ops.creation import tensor as _scalar_tensor
from .optimizer import Optimizer, by_device, check_grads

__all__ = ["Adam", "AdamW", "adam"]


class Adam(Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False, fused=None, decoupled_weight_decay=False):
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        amsgrad=amsgrad, maximize=maximize, foreach=foreach,
                        capturable=capturable, differentiable=differentiable, fused=fused,
                        decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)

    def step(self, closure=None):
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            params = [p for p in group["params"] if p.grad is not None]
            grads = [p.grad for p in params]
            check_grads(params, grads)
            states = []
            for p in params:
                state = self.state[p]
                if not state:
                    with no_grad():
                        state["step"] = _scalar_tensor(0.0, dtype=D.float32)
                        state["exp_avg"] = p.detach().new_zeros(p.shape)
                        state["exp_avg_sq"] = p.detach().new_zeros(p.shape)
                        if group["amsgrad"]:
                            state["max_exp_avg_sq"] = p.detach().new_zeros(p.shape)
                states.append(state)
            beta1, beta2 = group["betas"]
            adam(params, grads, states, lr=group["lr"], beta1=beta1, beta2=beta2,
                 eps=group["eps"], weight_decay=group["weight_decay"],
                 amsgrad=group["amsgrad"], maximize=group["maximize"],
                 decoupled=group.get("decoupled_weight_decay", False))
        return loss


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter)."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, *, maximize=False, foreach=None, capturable=False,
                 differentiable=False, fused=None):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad, foreach=foreach, maximize=maximize,
                         capturable=capturable, differentiable=differentiable, fused=fused,
                         decoupled_weight_decay=True)


def adam(params, grads, states, *, lr, beta1, beta2, eps, weight_decay, amsgrad, maximize,
         decoupled):
    """Functional Adam over parallel lists; ``states`` hold step/exp_avg/exp_avg_sq tensors."""
    with no_grad():
        for st in states:
            st["step"].add_(1)
        steps = [float(st["step"].item()) for st in states]
        hyper = dict(lr=lr, beta1=beta1, beta2=beta2, eps=eps, weight_decay=weight_decay,
                     amsgrad=amsgrad, maximize=maximize, decoupled=decoupled)
        for dev, (ps, gs, sts, ss) in by_device(params, grads, states, steps).items():
            kernel = dev.ops.adam_step
            for step in sorted(set(ss)):
                sel = [k for k, s in enumerate(ss) if s == step]
                if kernel is not None:
                    kernel([ps[k]._data for k in sel], [gs[k]._data for k in sel],
                           [sts[k]["exp_avg"]._data for k in sel],
                           [sts[k]["exp_avg_sq"]._data for k in sel],
                           [sts[k]["max_exp_avg_sq"]._data for k in sel] if amsgrad else None,
                           dict(hyper, step=step))
                else:
                    for k in sel:
                        _adam_one(ps[k], gs[k], sts[k], step, hyper)
            for p in ps:
                p._bump_version()


def _adam_one(p, g, st, step, h):
    """torch's _single_tensor_adam with frontend in-place ops."""
    lr, beta1, beta2 = h["lr"], h["beta1"], h["beta2"]
    if h["maximize"]:
        g = -g
    if h["weight_decay"] != 0:
        if h["decoupled"]:
            p.mul_(1 - lr * h["weight_decay"])
        else:
            g = g.add(p, alpha=h["weight_decay"])
    m, v = st["exp_avg"], st["exp_avg_sq"]
    m.add_((g - m) * (1 - beta1))
    v.mul_(beta2).add_(g * g * (1 - beta2))
    step_size = lr / (1 - beta1 ** step)
    bias_correction2_sqrt = math.sqrt(1 - beta2 ** step)
    if h["amsgrad"]:
        vmax = st["max_exp_avg_sq"]
        vmax.copy_(vmax.maximum(v))
        v = vmax
    denom = v.sqrt() / bias_correction2_sqrt + h["eps"]
    p.sub_(m / denom * step_size)
