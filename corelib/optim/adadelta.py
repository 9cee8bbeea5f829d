r"""Adadelta (Zeiler, 2012): a per-parameter step from running averages of squared gradients
and squared updates.

.. math::
    \begin{aligned}
    &g_t \leftarrow \nabla_\theta f_t(\theta_{t-1})\ (\text{negated if maximize})
        \ (+\ \lambda\theta_{t-1})\\
    &v_t \leftarrow \rho v_{t-1} + (1-\rho) g_t^2,\quad
     \Delta x_t \leftarrow \frac{\sqrt{u_{t-1} + \epsilon}}{\sqrt{v_t + \epsilon}}\, g_t\\
    &u_t \leftarrow \rho u_{t-1} + (1-\rho) \Delta x_t^2,\quad
     \theta_t \leftarrow \theta_{t-1} - \gamma \Delta x_t
    \end{aligned}

Composed from frontend in-place ops in torch's ``_single_tensor_adadelta`` order.
"""
from __future__ import annotations

from .._tensor import Tensor
from .optimizer import Optimizer, commit_steps, grad_mode_for, new_step_tensor, to_scalar

__all__ = ["Adadelta", "adadelta"]


class Adadelta(Optimizer):
    """Adadelta.

    Args:
        params (iterable): parameters or dicts defining parameter groups.
        lr (float, optional): coefficient that scales delta before it is applied (default: 1.0).
        rho (float, optional): decay of the running averages (default: 0.9).
        eps (float, optional): added inside both square roots (default: 1e-6).
        weight_decay (float, optional): L2 penalty (default: 0).
        maximize (bool, optional): maximize the objective instead of minimizing.
    """

    _sparse_error = "Adadelta does not support sparse gradients"

    _capturable_devices = "['cuda', 'xpu', 'hpu', 'privateuseone']"   # torch's, no xla

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *,
                 capturable=False, maximize=False, differentiable=False):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, foreach=foreach,
                        capturable=capturable, maximize=maximize,
                        differentiable=differentiable)
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
        st["square_avg"] = p.detach().new_zeros(p.shape)
        st["acc_delta"] = p.detach().new_zeros(p.shape)

    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns the closure's loss."""
        loss = self._closure_loss(closure)
        for group, params, grads, states in self._prepared(("square_avg", "acc_delta")):
            with grad_mode_for(group):
                adadelta(params, grads, [st["square_avg"] for st in states],
                         [st["acc_delta"] for st in states], [st["step"] for st in states],
                         lr=to_scalar(group["lr"]), rho=group["rho"], eps=group["eps"],
                         weight_decay=group["weight_decay"], maximize=group["maximize"])
        return loss


def adadelta(params, grads, square_avgs, acc_deltas, state_steps, *, lr, rho, eps,
             weight_decay, maximize):
    """Functional Adadelta over parallel lists of tensors (updated in place)."""
    for param, grad, square_avg, acc_delta, step in zip(params, grads, square_avgs, acc_deltas,
                                                        state_steps):
        grad = grad if not maximize else -grad
        if weight_decay != 0:
            grad = grad.add(param, alpha=weight_decay)
        square_avg.mul_(rho).addcmul_(grad, grad, value=1 - rho)
        std = square_avg.add(eps).sqrt_()
        delta = acc_delta.add(eps).sqrt_().div_(std).mul_(grad)
        acc_delta.mul_(rho).addcmul_(delta, delta, value=1 - rho)
        param.add_(delta, alpha=-lr)
        commit_steps((step,))
