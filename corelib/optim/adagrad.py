r"""Adagrad (Duchi et al.), with learning-rate decay and weight decay.

.. math::
    \begin{aligned}
    &g_t \leftarrow \nabla_\theta f_t(\theta_{t-1})\ (\text{negated if maximize})
        \ (+\ \lambda\theta_{t-1}),\quad
     \tilde\gamma \leftarrow \gamma / (1 + (t-1)\eta)\\
    &s_t \leftarrow s_{t-1} + g_t^2,\quad
     \theta_t \leftarrow \theta_{t-1} - \tilde\gamma\, g_t / (\sqrt{s_t} + \epsilon)
    \end{aligned}

Composed from frontend in-place ops in torch's ``_single_tensor_adagrad`` order.
"""
from __future__ import annotations

from .._tensor import Tensor
from ..autograd.grad_mode import no_grad
from .optimizer import (Optimizer, check_fused_flags, grad_mode_for, commit_steps,
                        new_step_tensor, next_steps, to_scalar)

__all__ = ["Adagrad", "adagrad"]


class Adagrad(Optimizer):
    """Adagrad.

    Args:
        params (iterable): parameters or dicts defining parameter groups.
        lr (float, optional): learning rate (default: 1e-2).
        lr_decay (float, optional): learning rate decay (default: 0).
        weight_decay (float, optional): L2 penalty (default: 0).
        initial_accumulator_value (float, optional): starting value of the sums (default: 0).
        eps (float, optional): added to the denominator (default: 1e-10).
        maximize (bool, optional): maximize the objective instead of minimizing.
    """

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0,
                 initial_accumulator_value=0, eps=1e-10, foreach=None, *, maximize=False,
                 differentiable=False, fused=None):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= lr_decay:
            raise ValueError(f"Invalid lr_decay value: {lr_decay}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= initial_accumulator_value:
            raise ValueError("Invalid initial_accumulator_value value: "
                             f"{initial_accumulator_value}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)
        check_fused_flags(fused, foreach, differentiable)
        # torch creates Adagrad's state eagerly, so state_dict() has it before any step
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p, group)

    def _init_state(self, p, group):
        state = self.state[p]
        with no_grad():
            state["step"] = new_step_tensor(p, group)
            state["sum"] = p.detach().new_full(p.shape, group["initial_accumulator_value"])

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("foreach", None)
            group.setdefault("maximize", False)
            group.setdefault("differentiable", False)
            group.setdefault("fused", None)

    def share_memory(self):
        """Move each parameter's accumulator into shared memory, as torch's Adagrad does."""
        for group in self.param_groups:
            for p in group["params"]:
                self.state[p]["sum"].share_memory_()

    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns the closure's loss."""
        loss = self._closure_loss(closure)
        for group, params, grads, states in self._prepared(("sum",)):
            with grad_mode_for(group):
                adagrad(params, grads, [st["sum"] for st in states],
                        [st["step"] for st in states], lr=to_scalar(group["lr"]),
                        weight_decay=group["weight_decay"], lr_decay=group["lr_decay"],
                        eps=group["eps"], maximize=group["maximize"])
        return loss


def _sparse_update(param, grad, state_sum, clr, eps):
    """torch's sparse branch: only the rows the (coalesced) gradient names change."""
    from ..sparse.coo import coalesce, gather_rows, make
    grad = coalesce(grad)       # the update is non-linear, so indices must be unique
    indices, values = grad._sp_indices, grad._sp_values
    state_sum.add_(make(indices, values.pow(2), grad._shape, True))
    std_values = gather_rows(state_sum, indices, grad._shape).sqrt_().add_(eps)
    param.add_(make(indices, values / std_values, grad._shape, True), alpha=-clr)


def adagrad(params, grads, state_sums, state_steps, *, lr, weight_decay, lr_decay, eps,
            maximize):
    """Functional Adagrad over parallel lists of tensors (updated in place)."""
    if weight_decay != 0 and any(g.is_sparse for g in grads):
        raise RuntimeError("weight_decay option is not compatible with sparse gradients")
    steps = next_steps(state_steps)
    for param, grad, state_sum, step, counter in zip(params, grads, state_sums, steps,
                                                     state_steps):
        grad = grad if not maximize else -grad
        if weight_decay != 0:
            grad = grad.add(param, alpha=weight_decay)
        clr = lr / (1 + (step - 1) * lr_decay)
        if grad.is_sparse:
            _sparse_update(param, grad, state_sum, clr, eps)
            commit_steps((counter,))
            continue
        state_sum.addcmul_(grad, grad, value=1)
        std = state_sum.sqrt().add_(eps)
        param.addcdiv_(grad, std, value=-clr)
        commit_steps((counter,))
