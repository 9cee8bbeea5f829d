r"""ASGD (averaged SGD, Polyak & Juditsky): SGD with a decaying step size whose parameters'
running average is kept in the state ``ax`` (the averaged iterate, for evaluation).

.. math::
    \begin{aligned}
    &\theta_t \leftarrow \theta_{t-1}(1 - \lambda\eta_t) - \eta_t g_t,\quad
     \bar\theta_t \leftarrow \bar\theta_{t-1} + \mu_t(\theta_t - \bar\theta_{t-1})\\
    &\eta_{t+1} \leftarrow \frac{\gamma}{(1 + \lambda\gamma t)^\alpha},\quad
     \mu_{t+1} \leftarrow \frac{1}{\max(1, t - t_0)}
    \end{aligned}

Composed from frontend in-place ops in torch's ``_single_tensor_asgd`` order. As in torch,
``step``, ``eta`` and ``mu`` are 0-dim tensors on the parameter's device.
"""
from __future__ import annotations

from .. import _dtype as D
from .._tensor import Tensor
from ..ops.creation import full
from .optimizer import Optimizer, commit_steps, grad_mode_for, next_steps, to_scalar

__all__ = ["ASGD", "asgd"]


def _scalar_state(value, param):
    """A 0-dim counter on the parameter's device in torch's ``_get_scalar_dtype()``."""
    dt = D.float64 if D.get_default_dtype() is D.float64 else D.float32
    return full((), value, dtype=dt, device=param.device)


class ASGD(Optimizer):
    """Averaged stochastic gradient descent.

    Args:
        params (iterable): parameters or dicts defining parameter groups.
        lr (float, optional): learning rate (default: 1e-2).
        lambd (float, optional): decay term (default: 1e-4).
        alpha (float, optional): power of the eta update (default: 0.75).
        t0 (float, optional): step at which averaging starts (default: 1e6).
        weight_decay (float, optional): L2 penalty (default: 0).
        maximize (bool, optional): maximize the objective instead of minimizing.
    """

    _sparse_error = "ASGD does not support sparse gradients"

    _capturable_names = "params, mus, etas, and state_steps"

    def __init__(self, params, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0,
                 foreach=None, maximize=False, differentiable=False, capturable=False):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay,
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
        st["step"] = _scalar_state(0.0, p)
        st["eta"] = _scalar_state(to_scalar(group["lr"]), p)
        st["mu"] = _scalar_state(1.0, p)
        st["ax"] = p.detach().new_zeros(p.shape)

    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns the closure's loss."""
        loss = self._closure_loss(closure)
        for group, params, grads, states in self._prepared(("ax",)):
            with grad_mode_for(group):
                asgd(params, grads, [st["ax"] for st in states], [st["mu"] for st in states],
                     [st["eta"] for st in states], [st["step"] for st in states],
                     lambd=group["lambd"], lr=to_scalar(group["lr"]), t0=group["t0"],
                     alpha=group["alpha"], weight_decay=group["weight_decay"],
                     maximize=group["maximize"])
        return loss


def asgd(params, grads, axs, mus, etas, state_steps, *, lambd, lr, t0, alpha, weight_decay,
         maximize):
    """Functional ASGD over parallel lists of tensors (updated in place)."""
    steps = next_steps(state_steps)
    for i, param in enumerate(params):
        grad = grads[i] if not maximize else -grads[i]
        mu, ax, eta, step = mus[i], axs[i], etas[i], steps[i]
        if weight_decay != 0:
            grad = grad.add(param, alpha=weight_decay)
        eta_value = eta.item()
        param.mul_(1 - lambd * eta_value)
        param.add_(grad, alpha=-eta_value)
        if mu.item() != 1:
            ax.add_(param.sub(ax).mul_(mu))
        else:
            ax.copy_(param)
        eta.fill_(lr / ((1 + lambd * lr * step) ** alpha))
        mu.fill_(1 / max(1, step - t0))
        commit_steps((state_steps[i],))
