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

from .._tensor import Tensor
from .optimizer import (Optimizer, by_device, check_fused_flags, grad_mode_for, commit_steps,
                        new_step_tensor, next_steps, to_scalar, live_lr, live_step)

__all__ = ["Adam", "AdamW", "adam"]

_STATE = ("exp_avg", "exp_avg_sq", "max_exp_avg_sq")


class Adam(Optimizer):
    """Adam (Kingma & Ba), or AdamW with ``decoupled_weight_decay=True``.

    Args:
        params (iterable): parameters or dicts defining parameter groups.
        lr (float, optional): learning rate (default: 1e-3).
        betas (Tuple[float, float], optional): coefficients of the running averages of the
            gradient and its square (default: (0.9, 0.999)).
        eps (float, optional): added to the denominator (default: 1e-8).
        weight_decay (float, optional): L2 penalty, or decoupled decay for AdamW (default: 0).
        amsgrad (bool, optional): use the maximum of past squared-gradient averages.
        maximize (bool, optional): maximize the objective instead of minimizing.
        decoupled_weight_decay (bool, optional): AdamW's decay (default: False).
    """

    _sparse_error = "Adam does not support sparse gradients, please consider SparseAdam instead"

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False, fused=None, decoupled_weight_decay=False):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
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
        check_fused_flags(fused, foreach, differentiable)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("amsgrad", False)
            group.setdefault("maximize", False)
            group.setdefault("foreach", None)
            group.setdefault("capturable", False)
            group.setdefault("differentiable", False)
            group.setdefault("decoupled_weight_decay", False)
            group.setdefault("fused", None)

    def _init_state(self, p, group):
        """A parameter's state on its first step."""
        st = self.state[p]
        st["step"] = new_step_tensor(p, group)
        st["exp_avg"] = p.detach().new_zeros(p.shape)
        st["exp_avg_sq"] = p.detach().new_zeros(p.shape)
        if group["amsgrad"]:
            st["max_exp_avg_sq"] = p.detach().new_zeros(p.shape)

    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns the closure's loss."""
        loss = self._closure_loss(closure)
        for group, params, grads, states in self._prepared(_STATE):
            beta1, beta2 = group["betas"]
            with grad_mode_for(group):
                adam(params, grads, [st["exp_avg"] for st in states],
                     [st["exp_avg_sq"] for st in states],
                     [st["max_exp_avg_sq"] for st in states] if group["amsgrad"] else [],
                     [st["step"] for st in states], lr=to_scalar(group["lr"]), group=group,
                     beta1=to_scalar(beta1), beta2=to_scalar(beta2), eps=group["eps"],
                     weight_decay=group["weight_decay"], amsgrad=group["amsgrad"],
                     maximize=group["maximize"],
                     decoupled_weight_decay=group.get("decoupled_weight_decay", False),
                     differentiable=group.get("differentiable", False))
        return loss


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter); weight_decay defaults to 1e-2."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, *, maximize=False, foreach=None, capturable=False,
                 differentiable=False, fused=None):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad, foreach=foreach, maximize=maximize,
                         capturable=capturable, differentiable=differentiable, fused=fused,
                         decoupled_weight_decay=True)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group["decoupled_weight_decay"] = True


def adam(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, state_steps, *, lr, beta1,
         beta2, eps, weight_decay, amsgrad, maximize, decoupled_weight_decay=False,
         differentiable=False, group=None):
    """Functional Adam/AdamW over parallel lists of tensors (updated in place). ``group``,
    when given, is where ``lr`` came from: a compiled step reads it again on every replay."""
    kernels = not differentiable and all(p._device.ops.adam_step is not None for p in params)
    steps = next_steps(state_steps, replayable=kernels)
    hyper = dict(lr=lr, beta1=beta1, beta2=beta2, eps=eps, weight_decay=weight_decay,
                 amsgrad=amsgrad, maximize=maximize, decoupled=decoupled_weight_decay)
    vmax = max_exp_avg_sqs if amsgrad else [None] * len(params)
    for dev, (ps, gs, ms, vs, vms, ss, counters) in by_device(
            params, grads, exp_avgs, exp_avg_sqs, vmax, steps, state_steps).items():
        kernel = None if differentiable else dev.ops.adam_step
        if kernel is None:
            for k in range(len(ps)):
                _single_tensor_adam(ps[k], gs[k], ms[k], vs[k], vms[k], ss[k], hyper)
                commit_steps((counters[k],))
            continue
        # the kernel takes one step count; parameters added later may lag behind
        for step in sorted(set(ss)):
            sel = [k for k, s in enumerate(ss) if s == step]
            kernel([ps[k]._data for k in sel], [gs[k]._data for k in sel],
                   [ms[k]._data for k in sel], [vs[k]._data for k in sel],
                   [vms[k]._data for k in sel] if amsgrad else None,
                   dict(hyper, step=live_step(counters[sel[0]], step), lr=live_lr(group, lr)))
            commit_steps([counters[k] for k in sel])
            for k in sel:
                for t in (ps[k], ms[k], vs[k]) + ((vms[k],) if amsgrad else ()):
                    t._bump_version()


def _single_tensor_adam(p, g, m, v, vmax, step, h):
    """torch's ``_single_tensor_adam`` (non-capturable branch) in frontend in-place ops."""
    lr, beta1, beta2 = h["lr"], h["beta1"], h["beta2"]
    if h["maximize"]:
        g = -g
    if h["weight_decay"] != 0:
        if h["decoupled"]:
            p.mul_(1 - lr * h["weight_decay"])
        else:
            g = g.add(p, alpha=h["weight_decay"])
    m.lerp_(g, 1 - beta1)
    v.mul_(beta2).addcmul_(g, g, value=1 - beta2)
    step_size = lr / (1 - beta1 ** step)
    bias_correction2_sqrt = (1 - beta2 ** step) ** 0.5
    if h["amsgrad"]:
        vmax.copy_(vmax.maximum(v))
        v = vmax
    denom = (v.sqrt() / bias_correction2_sqrt).add_(h["eps"])
    p.addcdiv_(m, denom, value=-step_size)
