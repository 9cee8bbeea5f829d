r"""Adafactor (Shazeer & Stern, 2018) as torch 2.13's ``torch.optim.Adafactor``.

A matrix's second moment is kept as a row factor and a column factor (sums over the last and
the second-to-last dimension) instead of a full tensor; vectors keep a full variance. The step
size is relative to the parameter's RMS, and the update is clipped by its own RMS over ``d``:

.. math::
    \begin{aligned}
    &\hat\beta_{2,t} = 1 - t^{\tau},\quad \rho_t = \min(\gamma, 1/\sqrt t),\quad
     \alpha_t = \max(\epsilon_2, \mathrm{RMS}(\theta_{t-1}))\,\rho_t\\
    &R_t = \mathrm{lerp}(R_{t-1}, \mathrm{mean}_{-1}(g^2), 1 - \hat\beta_{2,t}),\quad
     C_t = \mathrm{lerp}(C_{t-1}, \mathrm{mean}_{-2}(g^2), 1 - \hat\beta_{2,t})\\
    &\hat v_t = R_t C_t / \max(\mathrm{mean}_{-2}(R_t), \epsilon_1),\quad
     u_t = g / \sqrt{\max(\hat v_t, \epsilon_1^2)}\\
    &\theta_t = \theta_{t-1}(1 - \gamma\lambda) - \alpha_t\,u_t / \max(1, \mathrm{RMS}(u_t)/d)
    \end{aligned}

Composed from frontend ops in torch's ``_single_tensor_adafactor`` order, so float32 results
match torch's to rounding.
"""
from __future__ import annotations

from .._tensor import Tensor
from .._type_info import finfo
from .optimizer import Optimizer, commit_steps, new_step_tensor, next_steps, to_scalar

__all__ = ["Adafactor", "adafactor"]


class Adafactor(Optimizer):
    """Adafactor.

    Args:
        params (iterable): parameters or dicts defining parameter groups.
        lr (float or Tensor, optional): the relative step size's cap (default: 1e-2).
        beta2_decay (float, optional): the second moment's decay exponent (default: -0.8).
        eps (Tuple[float | None, float], optional): (epsilon1, added to the variance
            estimate's floor; None: the dtype's eps; epsilon2, the least parameter RMS used to
            scale the step) (default: (None, 1e-3)).
        d (float, optional): the update's RMS clipping threshold (default: 1.0).
        weight_decay (float, optional): decoupled weight decay (default: 0.0).
        foreach (bool, optional): accepted for torch's API; the update is per tensor.
        maximize (bool, optional): maximize the objective instead of minimizing.
    """

    _sparse_error = "Adafactor does not support sparse gradients"

    def __init__(self, params, lr=1e-2, beta2_decay=-0.8, eps=(None, 1e-3), d=1.0,
                 weight_decay=0.0, *, foreach=None, maximize=False):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
        if not 0.0 >= beta2_decay:
            raise ValueError(f"beta2_decay should be <= 0 but is: {beta2_decay}")
        if eps[0] is not None and not 0.0 <= eps[0]:
            raise ValueError(f"epsilon1 should be >= 0 but is: {eps[0]}")
        if not 0.0 <= eps[1]:
            raise ValueError(f"epsilon2 should be >= 0 but is: {eps[1]}")
        if not 1.0 <= d:
            raise ValueError(f"Clipping threshold d should be >= 1 but is: {d}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"weight_decay should be >= 0 but is: {weight_decay}")
        defaults = {"lr": lr, "beta2_decay": beta2_decay, "eps": eps, "d": d,
                    "weight_decay": weight_decay, "foreach": foreach, "maximize": maximize}
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("foreach", None)

    def _init_state(self, p, group):
        """A parameter's state on its first step: row and column factors for a matrix (or
        higher), a full variance for a vector or scalar."""
        st = self.state[p]
        st["step"] = new_step_tensor(p, group)
        g = p._grad
        if g.dim() > 1:
            row_shape = list(g.shape)
            row_shape[-1] = 1
            st["row_var"] = g.new_zeros(row_shape)
            col_shape = list(g.shape)
            col_shape[-2] = 1
            st["col_var"] = g.new_zeros(col_shape)
        else:
            st["variance"] = g.new_zeros(g.shape)

    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns the closure's loss."""
        from ..autograd.grad_mode import no_grad
        loss = self._closure_loss(closure)
        for group, params, grads, states in self._prepared(("variance",)):
            for p in params:
                if p._dtype.is_complex:
                    raise RuntimeError("Adafactor does not support complex parameters")
            eps1, eps2 = group["eps"]
            with no_grad():
                adafactor(params, grads, [st.get("row_var") for st in states],
                          [st.get("col_var") for st in states],
                          [st.get("variance") for st in states], [st["step"] for st in states],
                          d=group["d"], lr=group["lr"], beta2_decay=group["beta2_decay"],
                          weight_decay=group["weight_decay"], eps1=eps1, eps2=eps2,
                          maximize=group["maximize"])
        return loss


def adafactor(params, grads, row_vars, col_vars, variances, state_steps, *, d, lr, beta2_decay,
              weight_decay, eps1, eps2, maximize, foreach=None, grad_scale=None,
              found_inf=None):
    """Functional Adafactor over parallel lists of tensors (updated in place)."""
    if grad_scale is not None or found_inf is not None:
        raise AssertionError("Grad scaling should occur outside of optimizer.step()")
    from ..ops.reduce import norm
    lr = to_scalar(lr)
    steps = next_steps(state_steps)
    for i, param in enumerate(params):
        grad = grads[i] if not maximize else -grads[i]
        row_var, col_var, variance = row_vars[i], col_vars[i], variances[i]
        if eps1 is None:                      # torch sets it once, from the first parameter
            eps1 = finfo(param.dtype).eps
        step_float = steps[i]
        one_minus_beta2_t = step_float ** beta2_decay
        rho_t = min(lr, 1 / (step_float ** 0.5))
        alpha = max(eps2, param.norm(2).item() / (param.numel() ** 0.5)) * rho_t
        if weight_decay != 0:
            param.mul_(1 - lr * weight_decay)
        if grad.dim() > 1:
            row_mean = norm(grad, dim=-1, keepdim=True).square_().div_(grad.size(-1))
            row_var.lerp_(row_mean, one_minus_beta2_t)
            col_mean = norm(grad, dim=-2, keepdim=True).square_().div_(grad.size(-2))
            col_var.lerp_(col_mean, one_minus_beta2_t)
            var_estimate = row_var @ col_var
            var_estimate.div_(row_var.mean(dim=-2, keepdim=True).clamp_(min=eps1))
        else:
            variance.lerp_(grad * grad, one_minus_beta2_t)
            var_estimate = variance.clone()
        update = var_estimate.clamp_(min=eps1 * eps1).rsqrt_()
        update.mul_(grad)
        denom = max(1.0, update.norm(2).item() / ((update.numel() ** 0.5) * d))
        param.add_(update, alpha=-alpha / denom)
        commit_steps((state_steps[i],))
