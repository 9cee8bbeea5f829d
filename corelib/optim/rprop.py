r"""Rprop (resilient backpropagation, Riedmiller & Braun): a per-element step size that grows
by :math:`\eta_+` while the gradient keeps its sign and shrinks by :math:`\eta_-` when it flips;
only the gradient's sign moves the parameter.

.. math::
    \begin{aligned}
    &s_t \leftarrow \operatorname{clamp}(s_{t-1}\cdot
        \{\eta_+\ \text{if}\ g_t g_{t-1} > 0;\ \eta_-\ \text{if}\ < 0;\ 1\ \text{else}\},
        \Gamma_{\min}, \Gamma_{\max})\\
    &g_t \leftarrow 0\ \text{where the sign flipped},\quad
     \theta_t \leftarrow \theta_{t-1} - \operatorname{sign}(g_t)\, s_t,\quad
     g_{\text{prev}} \leftarrow g_t
    \end{aligned}

Composed from frontend in-place ops in torch's ``_single_tensor_rprop`` order.
"""
from __future__ import annotations

from .._tensor import Tensor
from .optimizer import Optimizer, commit_steps, grad_mode_for, new_step_tensor, to_scalar

__all__ = ["Rprop", "rprop"]


class Rprop(Optimizer):
    """Rprop.

    Args:
        params (iterable): parameters or dicts defining parameter groups.
        lr (float, optional): initial step size of every element (default: 1e-2).
        etas (Tuple[float, float], optional): (eta_minus, eta_plus), the shrink and growth
            factors (default: (0.5, 1.2)).
        step_sizes (Tuple[float, float], optional): minimal and maximal step size
            (default: (1e-6, 50)).
        maximize (bool, optional): maximize the objective instead of minimizing.
    """

    _sparse_error = "Rprop does not support sparse gradients"

    def __init__(self, params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *,
                 capturable=False, foreach=None, maximize=False, differentiable=False):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        defaults = dict(lr=lr, etas=etas, step_sizes=step_sizes, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, capturable=capturable)
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
        st["prev"] = p.detach().new_zeros(p.shape)
        st["step_size"] = p.detach().new_zeros(p.shape).fill_(
            to_scalar(group["lr"]))

    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns the closure's loss."""
        loss = self._closure_loss(closure)
        for group, params, grads, states in self._prepared(("prev", "step_size")):
            etaminus, etaplus = group["etas"]
            step_size_min, step_size_max = group["step_sizes"]
            with grad_mode_for(group):
                rprop(params, grads, [st["prev"] for st in states],
                      [st["step_size"] for st in states], [st["step"] for st in states],
                      step_size_min=step_size_min, step_size_max=step_size_max,
                      etaminus=etaminus, etaplus=etaplus, maximize=group["maximize"],
                      differentiable=group["differentiable"])
        return loss


def rprop(params, grads, prevs, step_sizes, state_steps, *, step_size_min, step_size_max,
          etaminus, etaplus, maximize=False, differentiable=False):
    """Functional Rprop over parallel lists of tensors (updated in place)."""
    for param, grad, prev, step_size, counter in zip(params, grads, prevs, step_sizes,
                                                     state_steps):
        grad = grad if not maximize else -grad
        sign = grad.mul(prev.clone() if differentiable else prev).sign()
        sign[sign.gt(0)] = etaplus
        sign[sign.lt(0)] = etaminus
        sign[sign.eq(0)] = 1
        step_size.mul_(sign).clamp_(step_size_min, step_size_max)
        grad = grad.clone()
        grad[sign.eq(etaminus)] = 0
        param.addcmul_(grad.sign(), step_size, value=-1)
        prev.copy_(grad)
        commit_steps((counter,))
