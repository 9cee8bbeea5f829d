r"""NAdam (Dozat, 2016): Adam with Nesterov momentum and a momentum schedule; NAdamW's
decoupled weight decay with ``decoupled_weight_decay=True``.

.. math::
    \begin{aligned}
    &\mu_t \leftarrow \beta_1\big(1 - \tfrac12\, 0.96^{t\psi}\big),\quad
     \mu_{t+1} \leftarrow \beta_1\big(1 - \tfrac12\, 0.96^{(t+1)\psi}\big)\\
    &m_t \leftarrow \beta_1 m_{t-1} + (1-\beta_1) g_t,\quad
     v_t \leftarrow \beta_2 v_{t-1} + (1-\beta_2) g_t^2\\
    &\theta_t \leftarrow \theta_{t-1}
        - \gamma\frac{1-\mu_t}{1-\prod_{i\le t}\mu_i}\frac{g_t}{\sqrt{\hat v_t}+\epsilon}
        - \gamma\frac{\mu_{t+1}}{1-\prod_{i\le t+1}\mu_i}\frac{m_t}{\sqrt{\hat v_t}+\epsilon}
    \end{aligned}

Composed from frontend in-place ops in torch's ``_single_tensor_nadam`` order; the running
product of the :math:`\mu_i` is the per-parameter state ``mu_product``, as in torch.
"""
from __future__ import annotations

from .._tensor import Tensor
from .optimizer import (Optimizer, commit_steps, grad_mode_for, new_step_tensor, next_steps,
                        to_scalar)

__all__ = ["NAdam", "nadam"]


class NAdam(Optimizer):
    """NAdam (NAdamW with ``decoupled_weight_decay=True``).

    Args:
        params (iterable): parameters or dicts defining parameter groups.
        lr (float, optional): learning rate (default: 2e-3).
        betas (Tuple[float, float], optional): coefficients of the running averages of the
            gradient and its square (default: (0.9, 0.999)).
        eps (float, optional): added to the denominator (default: 1e-8).
        weight_decay (float, optional): L2 penalty, or decoupled decay (default: 0).
        momentum_decay (float, optional): psi of the momentum schedule (default: 4e-3).
        decoupled_weight_decay (bool, optional): decay the weights directly, as AdamW.
        maximize (bool, optional): maximize the objective instead of minimizing.
    """

    _sparse_error = "NAdam does not support sparse gradients"

    _capturable_names = "params, mu_products and state_steps"

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 momentum_decay=4e-3, decoupled_weight_decay=False, *, foreach=None,
                 maximize=False, capturable=False, differentiable=False):
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
        if not 0.0 <= momentum_decay:
            raise ValueError(f"Invalid momentum_decay value: {momentum_decay}")
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        momentum_decay=momentum_decay,
                        decoupled_weight_decay=decoupled_weight_decay, maximize=maximize,
                        foreach=foreach, capturable=capturable, differentiable=differentiable)
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("maximize", False)
            group.setdefault("foreach", None)
            group.setdefault("capturable", False)
            group.setdefault("differentiable", False)
            group.setdefault("decoupled_weight_decay", False)

    def _init_state(self, p, group):
        """A parameter's state on its first step."""
        st = self.state[p]
        st["step"] = new_step_tensor(p, group)
        st["mu_product"] = new_step_tensor(p, group).add_(1.0)
        st["exp_avg"] = p.detach().new_zeros(p.shape)
        st["exp_avg_sq"] = p.detach().new_zeros(p.shape)

    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns the closure's loss."""
        loss = self._closure_loss(closure)
        for group, params, grads, states in self._prepared(("exp_avg", "exp_avg_sq")):
            beta1, beta2 = group["betas"]
            with grad_mode_for(group):
                nadam(params, grads, [st["exp_avg"] for st in states],
                      [st["exp_avg_sq"] for st in states], [st["mu_product"] for st in states],
                      [st["step"] for st in states], beta1=beta1, beta2=beta2,
                      lr=to_scalar(group["lr"]), weight_decay=group["weight_decay"],
                      momentum_decay=group["momentum_decay"], eps=group["eps"],
                      decoupled_weight_decay=group["decoupled_weight_decay"],
                      maximize=group["maximize"])
        return loss


def nadam(params, grads, exp_avgs, exp_avg_sqs, mu_products, state_steps, *, beta1, beta2, lr,
          weight_decay, momentum_decay, eps, decoupled_weight_decay=False, maximize=False):
    """Functional NAdam over parallel lists of tensors (updated in place)."""
    steps = next_steps(state_steps)
    for i, param in enumerate(params):
        grad = grads[i] if not maximize else -grads[i]
        exp_avg, exp_avg_sq, mu_product, step = exp_avgs[i], exp_avg_sqs[i], mu_products[i], \
            steps[i]
        bias_correction2 = 1 - beta2 ** step
        if weight_decay != 0:
            if decoupled_weight_decay:
                param.mul_(1 - lr * weight_decay)
            else:
                grad = grad.add(param, alpha=weight_decay)
        mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * momentum_decay)))
        mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * momentum_decay)))
        mu_product.mul_(mu)
        exp_avg.lerp_(grad, 1 - beta1)
        exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        denom = exp_avg_sq.div(bias_correction2).sqrt()
        mu_prod = mu_product.item()
        mu_product_next = mu_prod * mu_next
        denom.add_(eps)
        param.addcdiv_(grad, denom, value=(-lr * (1.0 - mu) / (1.0 - mu_prod)))
        param.addcdiv_(exp_avg, denom, value=(-lr * mu_next) / (1.0 - mu_product_next))
        commit_steps((state_steps[i],))
