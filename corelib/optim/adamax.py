r"""Adamax (Kingma & Ba, section 7): Adam with the infinity norm of past gradients.

.. math::
    \begin{aligned}
    &g_t \leftarrow \nabla_\theta f_t(\theta_{t-1})\ (\text{negated if maximize})
        \ (+\ \lambda\theta_{t-1})\\
    &m_t \leftarrow \beta_1 m_{t-1} + (1-\beta_1) g_t,\quad
     u_t \leftarrow \max(\beta_2 u_{t-1}, |g_t| + \epsilon)\\
    &\theta_t \leftarrow \theta_{t-1} - \frac{\gamma}{1-\beta_1^t}\,\frac{m_t}{u_t}
    \end{aligned}

Composed from frontend in-place ops in torch's ``_single_tensor_adamax`` order.
"""
from __future__ import annotations

from .._tensor import Tensor
from .optimizer import (Optimizer, commit_steps, grad_mode_for, new_step_tensor, next_steps,
                        to_scalar)

__all__ = ["Adamax", "adamax"]


class Adamax(Optimizer):
    """Adamax.

    Args:
        params (iterable): parameters or dicts defining parameter groups.
        lr (float, optional): learning rate (default: 2e-3).
        betas (Tuple[float, float], optional): decay of the gradient average and of the
            infinity norm (default: (0.9, 0.999)).
        eps (float, optional): added to |g| before the maximum (default: 1e-8).
        weight_decay (float, optional): L2 penalty (default: 0).
        maximize (bool, optional): maximize the objective instead of minimizing.
    """

    _sparse_error = "Adamax does not support sparse gradients"

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 foreach=None, *, maximize=False, differentiable=False, capturable=False):
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
                        foreach=foreach, maximize=maximize, differentiable=differentiable,
                        capturable=capturable)
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("foreach", None)
            group.setdefault("maximize", False)
            group.setdefault("differentiable", False)
            group.setdefault("capturable", False)

    def _init_state(self, p, group):
        """A parameter's state on its first step."""
        st = self.state[p]
        st["step"] = new_step_tensor(p, group)
        st["exp_avg"] = p.detach().new_zeros(p.shape)
        st["exp_inf"] = p.detach().new_zeros(p.shape)

    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns the closure's loss."""
        loss = self._closure_loss(closure)
        for group, params, grads, states in self._prepared(("exp_avg", "exp_inf")):
            beta1, beta2 = group["betas"]
            with grad_mode_for(group):
                adamax(params, grads, [st["exp_avg"] for st in states],
                       [st["exp_inf"] for st in states], [st["step"] for st in states],
                       eps=group["eps"], beta1=beta1, beta2=beta2, lr=to_scalar(group["lr"]),
                       weight_decay=group["weight_decay"], maximize=group["maximize"])
        return loss


def adamax(params, grads, exp_avgs, exp_infs, state_steps, *, eps, beta1, beta2, lr,
           weight_decay, maximize):
    """Functional Adamax over parallel lists of tensors (updated in place)."""
    steps = next_steps(state_steps)
    for param, grad, exp_avg, exp_inf, step, counter in zip(params, grads, exp_avgs, exp_infs,
                                                            steps, state_steps):
        grad = grad if not maximize else -grad
        if weight_decay != 0:
            grad = grad.add(param, alpha=weight_decay)
        exp_avg.lerp_(grad, 1 - beta1)
        exp_inf.copy_(exp_inf.mul_(beta2).maximum(grad.abs().add_(eps)))
        clr = lr / (1 - beta1 ** step)
        param.addcdiv_(exp_avg, exp_inf, value=-clr)
        commit_steps((counter,))
