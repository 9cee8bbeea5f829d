"""SparseAdam as torch 2.13's ``torch.optim.SparseAdam``: Adam's update on the rows a sparse
(COO) gradient names -- ``nn.Embedding(sparse=True)`` makes such gradients --, leaving the
moments of the other rows untouched. Dense gradients are refused, as torch refuses them.

The update is torch's ``sparse_adam`` in frontend ops: the gradient is coalesced (the update
is non-linear, so each row must appear once), the moments' old values at those rows are
gathered, and the three in-place sparse additions write only those rows.
"""
from __future__ import annotations

import math

from .._tensor import Tensor
from ..autograd.grad_mode import no_grad
from .optimizer import Optimizer, to_scalar

__all__ = ["SparseAdam", "sparse_adam"]


class SparseAdam(Optimizer):
    """Adam for sparse gradients (lazy: only rows present in the gradient are updated).

    Args:
        params (iterable): parameters or dicts defining parameter groups.
        lr (float or Tensor, optional): learning rate (default: 1e-3).
        betas (Tuple[float, float], optional): decay of the averages (default: (0.9, 0.999)).
        eps (float, optional): added to the denominator (default: 1e-8).
        maximize (bool, optional): maximize the objective instead of minimizing.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, maximize=False):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 < lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 < eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
        defaults = {"lr": lr, "betas": betas, "eps": eps, "maximize": maximize}
        super().__init__(params, defaults)
        complex_params = [[i, j] for i, group in enumerate(self.param_groups)
                          for j, p in enumerate(group["params"]) if p.dtype.is_complex]
        if complex_params:
            raise ValueError(f"Complex params at indices {complex_params}: SparseAdam does not "
                             "support complex parameters")

    def step(self, closure=None):
        """One update of every parameter with a (sparse) gradient; returns the closure's loss."""
        loss = self._closure_loss(closure)
        work = []
        for group in self.param_groups:       # check every gradient before changing anything
            params = [p for p in group["params"] if p.grad is not None]
            for p in params:
                if not p.grad.is_sparse:
                    raise RuntimeError("SparseAdam does not support dense gradients, please "
                                       "consider Adam instead")
            work.append((group, params))
        with no_grad():
            for group, params in work:
                states = []
                for p in params:
                    state = self.state[p]
                    if not state:
                        state["step"] = 0
                        state["exp_avg"] = p.detach().new_zeros(p.shape)
                        state["exp_avg_sq"] = p.detach().new_zeros(p.shape)
                    state["step"] += 1
                    states.append(state)
                beta1, beta2 = group["betas"]
                sparse_adam(params, [p.grad for p in params],
                            [st["exp_avg"] for st in states],
                            [st["exp_avg_sq"] for st in states],
                            [st["step"] for st in states], eps=group["eps"], beta1=beta1,
                            beta2=beta2, lr=to_scalar(group["lr"]),
                            maximize=group["maximize"])
        return loss


def sparse_adam(params, grads, exp_avgs, exp_avg_sqs, state_steps, *, eps, beta1, beta2, lr,
                maximize):
    """Functional SparseAdam (torch's ``torch.optim._functional.sparse_adam``)."""
    from ..sparse.coo import coalesce, gather_rows, make
    for param, grad, exp_avg, exp_avg_sq, step in zip(params, grads, exp_avgs, exp_avg_sqs,
                                                      state_steps):
        grad = -grad if maximize else grad
        grad = coalesce(grad)         # the update is non-linear, so indices must be unique
        indices, values = grad._sp_indices, grad._sp_values
        if values.numel() == 0:
            continue
        size = grad._shape

        def sparse(v):
            return make(indices, v, size, True)

        # old <- b * old + (1 - b) * new  <==>  old += (1 - b) * (new - old)
        old_exp_avg = gather_rows(exp_avg, indices, size)
        exp_avg_update = values.sub(old_exp_avg).mul_(1 - beta1)
        exp_avg.add_(sparse(exp_avg_update))
        old_exp_avg_sq = gather_rows(exp_avg_sq, indices, size)
        exp_avg_sq_update = values.pow(2).sub_(old_exp_avg_sq).mul_(1 - beta2)
        exp_avg_sq.add_(sparse(exp_avg_sq_update))
        # dense additions again, as torch (avoiding another gather)
        numer = exp_avg_update.add_(old_exp_avg)
        exp_avg_sq_update.add_(old_exp_avg_sq)
        denom = exp_avg_sq_update.sqrt_().add_(eps)
        bias_correction1 = 1 - beta1 ** step
        bias_correction2 = 1 - beta2 ** step
        step_size = lr * math.sqrt(bias_correction2) / bias_correction1
        param.add_(sparse(-step_size * numer.div_(denom)))
