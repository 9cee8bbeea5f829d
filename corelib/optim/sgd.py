r"""Stochastic gradient descent, with momentum, dampening, Nesterov and weight decay.

.. math::
    \begin{aligned}
    &g_t \leftarrow \nabla_\theta f_t(\theta_{t-1})\ (\text{negated if maximize})\\
    &\textbf{if}\ \lambda \neq 0:\ g_t \leftarrow g_t + \lambda \theta_{t-1}\\
    &\textbf{if}\ \mu \neq 0:\ b_t \leftarrow g_t\ (t = 1)\ \text{else}\
        \mu b_{t-1} + (1 - \tau) g_t;\quad
        g_t \leftarrow g_t + \mu b_t\ (\text{nesterov})\ \text{else}\ b_t\\
    &\theta_t \leftarrow \theta_{t-1} - \gamma g_t
    \end{aligned}

As in PyTorch (and unlike Sutskever et al.) the learning rate multiplies the whole update.
"""
from __future__ import annotations

from .._tensor import Tensor
from .optimizer import (Optimizer, by_device, check_fused_flags, check_state, grad_mode_for,
                        params_with_grad, required, to_scalar, live_lr)

__all__ = ["SGD", "sgd"]


class SGD(Optimizer):
    """Stochastic gradient descent (optionally with momentum).

    Args:
        params (iterable): parameters or dicts defining parameter groups.
        lr (float, optional): learning rate (default: 1e-3).
        momentum (float, optional): momentum factor (default: 0).
        dampening (float, optional): dampening for momentum (default: 0).
        weight_decay (float, optional): L2 penalty (default: 0).
        nesterov (bool, optional): Nesterov momentum (default: False).
        maximize (bool, optional): maximize the objective instead of minimizing.
        foreach, differentiable, fused: accepted for compatibility; the update is fused
            whenever the backend provides ``sgd_step``.
    """

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0,
                 nesterov=False, *, maximize=False, foreach=None, differentiable=False,
                 fused=None):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if lr is not required and lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening,
                        weight_decay=weight_decay, nesterov=nesterov, maximize=maximize,
                        foreach=foreach, differentiable=differentiable, fused=fused)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, defaults)
        check_fused_flags(fused, foreach, differentiable)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("nesterov", False)
            group.setdefault("maximize", False)
            group.setdefault("foreach", None)
            group.setdefault("differentiable", False)
            group.setdefault("fused", False)

    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns the closure's loss."""
        loss = self._closure_loss(closure)
        work = []
        for group in self.param_groups:   # validate every group before changing any
            params, grads = params_with_grad(group)
            bufs = []
            if group["momentum"] != 0:
                states = [self.state[p] for p in params]
                check_state(params, states, ("momentum_buffer",))
                bufs = [st.get("momentum_buffer") for st in states]
            work.append((group, params, grads, bufs))
        for group, params, grads, bufs in work:
            with grad_mode_for(group):
                bufs = sgd(params, grads, bufs, lr=to_scalar(group["lr"]), group=group,
                           momentum=group["momentum"], dampening=group["dampening"],
                           weight_decay=group["weight_decay"], nesterov=group["nesterov"],
                           maximize=group["maximize"],
                           differentiable=group.get("differentiable", False))
            if group["momentum"] != 0:
                for p, buf in zip(params, bufs):
                    self.state[p]["momentum_buffer"] = buf
        return loss


def sgd(params, grads, momentum_buffer_list, *, lr, momentum, dampening, weight_decay,
        nesterov, maximize, differentiable=False, group=None):
    """Functional SGD: updates ``params`` in place and returns the momentum buffers (a new
    buffer, a copy of the first step's direction, where an entry was None). ``group``, when
    given, is where ``lr`` came from: a compiled step reads it again on every replay."""
    if weight_decay != 0 and any(g.is_sparse for g in grads):
        # torch fails at grad.add(param) for the first sparse gradient; checked up front here
        # so that no parameter is updated before the error
        raise RuntimeError("add(sparse, dense) is not supported. Use add(dense, sparse) "
                           "instead.")
    bufs = list(momentum_buffer_list) if momentum != 0 else [None] * len(params)
    hyper = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                 nesterov=nesterov, maximize=maximize)
    kernel_hyper = dict(hyper, lr=live_lr(group, lr))
    for dev, (ps, gs, idx) in by_device(params, grads, range(len(params))).items():
        sparse = any(g.is_sparse for g in gs)      # torch: the single-tensor path
        kernel = None if differentiable or sparse else dev.ops.sgd_step
        if kernel is None:
            for p, g, i in zip(ps, gs, idx):
                bufs[i] = _single_tensor_sgd(p, g, bufs[i], hyper)
            continue
        if momentum == 0:
            kernel([p._data for p in ps], [g._data for g in gs], [None] * len(ps),
                   dict(kernel_hyper, first_step=False))
        else:
            fresh = {i for i in idx if bufs[i] is None}
            for i in fresh:
                bufs[i] = params[i].detach().new_empty(params[i].shape)
            # a fresh momentum buffer starts as the step's direction (torch's first step)
            for first in (True, False):
                sel = [k for k, i in enumerate(idx) if (i in fresh) == first]
                if sel:
                    kernel([ps[k]._data for k in sel], [gs[k]._data for k in sel],
                           [bufs[idx[k]]._data for k in sel], dict(kernel_hyper, first_step=first))
            for i in idx:
                bufs[i]._bump_version()
        for p in ps:
            p._bump_version()
    return bufs


def _single_tensor_sgd(p, g, buf, h):
    """torch's ``_single_tensor_sgd`` in frontend ops; returns the momentum buffer."""
    d = -g if h["maximize"] else g
    if h["weight_decay"] != 0:
        d = d.add(p, alpha=h["weight_decay"])
    if h["momentum"] != 0:
        if buf is None:
            buf = d.detach().clone()
        else:
            buf.mul_(h["momentum"]).add_(d, alpha=1 - h["dampening"])
        d = d.add(buf, alpha=h["momentum"]) if h["nesterov"] else buf
    p.add_(d, alpha=-h["lr"])
    return buf
