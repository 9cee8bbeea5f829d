r"""RAdam (Liu et al., 2019): Adam whose adaptive step is switched on only once the variance
of its second-moment estimate is tractable, rectified by :math:`r_t`; RAdamW's decoupled weight
decay with ``decoupled_weight_decay=True``.

.. math::
    \begin{aligned}
    &\rho_\infty \leftarrow \frac{2}{1-\beta_2} - 1,\quad
     \rho_t \leftarrow \rho_\infty - \frac{2t\beta_2^t}{1-\beta_2^t}\\
    &\textbf{if}\ \rho_t > 5:\ \theta_t \leftarrow \theta_{t-1} - \gamma\,\hat m_t\,
        \frac{\sqrt{1-\beta_2^t}}{\sqrt{v_t}+\epsilon}\,
        \sqrt{\frac{(\rho_t-4)(\rho_t-2)\rho_\infty}{(\rho_\infty-4)(\rho_\infty-2)\rho_t}}
     \quad\textbf{else}\ \theta_t \leftarrow \theta_{t-1} - \gamma\,\hat m_t
    \end{aligned}

Composed from frontend in-place ops in torch's ``_single_tensor_radam`` order.
"""
from __future__ import annotations

from .._tensor import Tensor
from .optimizer import (Optimizer, commit_steps, grad_mode_for, new_step_tensor, next_steps,
                        to_scalar)

__all__ = ["RAdam", "radam"]


class RAdam(Optimizer):
    """RAdam (RAdamW with ``decoupled_weight_decay=True``).

    Args:
        params (iterable): parameters or dicts defining parameter groups.
        lr (float, optional): learning rate (default: 1e-3).
        betas (Tuple[float, float], optional): coefficients of the running averages of the
            gradient and its square (default: (0.9, 0.999)).
        eps (float, optional): added to the denominator (default: 1e-8).
        weight_decay (float, optional): L2 penalty, or decoupled decay (default: 0).
        decoupled_weight_decay (bool, optional): decay the weights directly, as AdamW.
        maximize (bool, optional): maximize the objective instead of minimizing.
    """

    _sparse_error = "RAdam does not support sparse gradients"

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False,
                 capturable=False, differentiable=False):
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
                        maximize=maximize, foreach=foreach, capturable=capturable,
                        decoupled_weight_decay=decoupled_weight_decay,
                        differentiable=differentiable)
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("foreach", None)
            group.setdefault("maximize", False)
            group.setdefault("differentiable", False)
            group.setdefault("decoupled_weight_decay", False)
            group.setdefault("capturable", False)

    def _init_state(self, p, group):
        """A parameter's state on its first step."""
        st = self.state[p]
        st["step"] = new_step_tensor(p, group)
        st["exp_avg"] = p.detach().new_zeros(p.shape)
        st["exp_avg_sq"] = p.detach().new_zeros(p.shape)

    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns the closure's loss."""
        loss = self._closure_loss(closure)
        for group, params, grads, states in self._prepared(("exp_avg", "exp_avg_sq")):
            beta1, beta2 = group["betas"]
            with grad_mode_for(group):
                radam(params, grads, [st["exp_avg"] for st in states],
                      [st["exp_avg_sq"] for st in states], [st["step"] for st in states],
                      beta1=beta1, beta2=beta2, lr=to_scalar(group["lr"]),
                      weight_decay=group["weight_decay"], eps=group["eps"],
                      decoupled_weight_decay=group["decoupled_weight_decay"],
                      maximize=group["maximize"])
        return loss


def radam(params, grads, exp_avgs, exp_avg_sqs, state_steps, *, beta1, beta2, lr, weight_decay,
          eps, decoupled_weight_decay=False, maximize=False):
    """Functional RAdam over parallel lists of tensors (updated in place)."""
    steps = next_steps(state_steps)
    rho_inf = 2 / (1 - beta2) - 1
    for i, param in enumerate(params):
        grad = grads[i] if not maximize else -grads[i]
        exp_avg, exp_avg_sq, step = exp_avgs[i], exp_avg_sqs[i], steps[i]
        if weight_decay != 0:
            if decoupled_weight_decay:
                param.mul_(1 - lr * weight_decay)
            else:
                grad = grad.add(param, alpha=weight_decay)
        exp_avg.lerp_(grad, 1 - beta1)
        exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        bias_correction1 = 1 - beta1 ** step
        bias_correction2 = 1 - beta2 ** step
        bias_corrected_exp_avg = exp_avg / bias_correction1
        rho_t = rho_inf - 2 * step * (beta2 ** step) / bias_correction2
        if rho_t > 5.0:
            rect = ((rho_t - 4) * (rho_t - 2) * rho_inf
                    / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
            adaptive_lr = (bias_correction2 ** 0.5) / exp_avg_sq.sqrt().add_(eps)
            param.add_(bias_corrected_exp_avg * lr * adaptive_lr * rect, alpha=-1.0)
        else:
            param.add_(bias_corrected_exp_avg * lr, alpha=-1.0)
        commit_steps((state_steps[i],))
