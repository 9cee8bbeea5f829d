r"""RMSprop (Hinton), with centering, momentum and weight decay.

.. math::
    \begin{aligned}
    &g_t \leftarrow \nabla_\theta f_t(\theta_{t-1})\ (\text{negated if maximize})
        \ (+\ \lambda\theta_{t-1})\\
    &v_t \leftarrow \alpha v_{t-1} + (1 - \alpha) g_t^2\\
    &\tilde v_t \leftarrow v_t - \bar g_t^2,\quad
        \bar g_t \leftarrow \alpha \bar g_{t-1} + (1-\alpha) g_t\ (\text{centered})\\
    &b_t \leftarrow \mu b_{t-1} + g_t / (\sqrt{\tilde v_t} + \epsilon),\quad
        \theta_t \leftarrow \theta_{t-1} - \gamma b_t\ (\mu > 0)\\
    &\theta_t \leftarrow \theta_{t-1} - \gamma g_t / (\sqrt{\tilde v_t} + \epsilon)
        \ (\text{otherwise})
    \end{aligned}

Composed from frontend in-place ops in torch's ``_single_tensor_rmsprop`` order, so it runs
on every backend and its trajectory matches torch's.
"""
from __future__ import annotations

from .._tensor import Tensor
from .optimizer import Optimizer, grad_mode_for, commit_steps, new_step_tensor, to_scalar

__all__ = ["RMSprop", "rmsprop"]


class RMSprop(Optimizer):
    """RMSprop.

    Args:
        params (iterable): parameters or dicts defining parameter groups.
        lr (float, optional): learning rate (default: 1e-2).
        alpha (float, optional): smoothing constant (default: 0.99).
        eps (float, optional): added to the denominator (default: 1e-8).
        weight_decay (float, optional): L2 penalty (default: 0).
        momentum (float, optional): momentum factor (default: 0).
        centered (bool, optional): normalize by an estimate of the gradient's variance.
        maximize (bool, optional): maximize the objective instead of minimizing.
    """

    _sparse_error = "RMSprop does not support sparse gradients"

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False, capturable=False, foreach=None, maximize=False,
                 differentiable=False):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= momentum:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= alpha:
            raise ValueError(f"Invalid alpha value: {alpha}")
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                        weight_decay=weight_decay, capturable=capturable, foreach=foreach,
                        maximize=maximize, differentiable=differentiable)
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("momentum", 0)
            group.setdefault("centered", False)
            group.setdefault("foreach", None)
            group.setdefault("maximize", False)
            group.setdefault("differentiable", False)
            group.setdefault("capturable", False)

    def _init_state(self, p, group):
        """A parameter's state on its first step."""
        st = self.state[p]
        st["step"] = new_step_tensor(p, group)
        st["square_avg"] = p.detach().new_zeros(p.shape)
        if group["momentum"] > 0:
            st["momentum_buffer"] = p.detach().new_zeros(p.shape)
        if group["centered"]:
            st["grad_avg"] = p.detach().new_zeros(p.shape)

    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns the closure's loss."""
        loss = self._closure_loss(closure)
        for group, params, grads, states in self._prepared(("square_avg", "momentum_buffer", "grad_avg")):
            with grad_mode_for(group):
                rmsprop(params, grads, [st["square_avg"] for st in states],
                        [st.get("grad_avg") for st in states],
                        [st.get("momentum_buffer") for st in states],
                        [st["step"] for st in states], lr=to_scalar(group["lr"]),
                        alpha=group["alpha"], eps=group["eps"],
                        weight_decay=group["weight_decay"], momentum=group["momentum"],
                        centered=group["centered"], maximize=group["maximize"])
        return loss


def rmsprop(params, grads, square_avgs, grad_avgs, momentum_buffer_list, state_steps, *, lr,
            alpha, eps, weight_decay, momentum, centered, maximize):
    """Functional RMSprop over parallel lists of tensors (updated in place)."""
    for i, param in enumerate(params):
        grad = grads[i] if not maximize else -grads[i]
        square_avg = square_avgs[i]
        if weight_decay != 0:
            grad = grad.add(param, alpha=weight_decay)
        square_avg.mul_(alpha).addcmul_(grad, grad, value=1 - alpha)
        if centered:
            grad_avg = grad_avgs[i]
            grad_avg.lerp_(grad, 1 - alpha)
            avg = square_avg.addcmul(grad_avg, grad_avg, value=-1).sqrt_()
        else:
            avg = square_avg.sqrt()
        avg = avg.add_(eps)
        if momentum > 0:
            buf = momentum_buffer_list[i]
            buf.mul_(momentum).addcdiv_(grad, avg)
            param.add_(buf, alpha=-lr)
        else:
            param.addcdiv_(grad, avg, value=-lr)
        commit_steps((state_steps[i],))
