"""Full backward hooks (torch's ``register_full_backward_hook`` / ``_pre_hook``).

Two identity autograd Functions bracket the module call: one over the inputs that require
grad, one over the outputs. Backward reaches the output one first -- it records
``grad_output`` and runs the pre-hooks, which may replace it -- then the input one, whose
incoming gradients are ``grad_input``; the hooks see ``(module, grad_input, grad_output)`` and
may return replacements. With no input requiring grad the hooks run at the output stage with
``grad_input`` all None, as in torch.
"""
from __future__ import annotations

from ..._tensor import Tensor
from ...autograd.function import Function
from ...autograd.grad_mode import is_grad_enabled


class _State:
    __slots__ = ("module", "grad_output", "n_inputs")

    def __init__(self, module):
        self.module = module
        self.grad_output = None
        self.n_inputs = 0


def _as_tuple(value):
    return value if isinstance(value, tuple) else (value,)


class BackwardHookFunction(Function):
    """Identity over the module's outputs; its backward captures grad_output."""

    @staticmethod
    def forward(ctx, state, *tensors):
        ctx.state = state
        return tensors if len(tensors) > 1 else tensors[0]

    @staticmethod
    def backward(ctx, *grads):
        state = ctx.state
        module = state.module
        for hook in list(module._backward_pre_hooks.values()):
            result = hook(module, grads)
            if result is not None:
                grads = _as_tuple(result)
        state.grad_output = grads
        if state.n_inputs == 0:
            for hook in list(module._backward_hooks.values()):
                hook(module, (None,), grads)
        return (None,) + tuple(grads)


class BackwardHookInputFunction(Function):
    """Identity over the inputs that require grad; its backward runs the full hooks."""

    @staticmethod
    def forward(ctx, state, *tensors):
        ctx.state = state
        return tensors if len(tensors) > 1 else tensors[0]

    @staticmethod
    def backward(ctx, *grads):
        state = ctx.state
        module = state.module
        for hook in list(module._backward_hooks.values()):
            result = hook(module, grads, state.grad_output)
            if result is not None:
                grads = _as_tuple(result)
        return (None,) + tuple(grads)


def wrap_inputs(module, args):
    """(state, args) with every grad-requiring tensor argument routed through the hook."""
    state = _State(module)
    if not is_grad_enabled():
        return state, args
    positions = [i for i, a in enumerate(args) if isinstance(a, Tensor) and a._requires_grad]
    state.n_inputs = len(positions)
    if not positions:
        return state, args
    wrapped = _as_tuple(BackwardHookInputFunction.apply(state, *[args[i] for i in positions]))
    args = list(args)
    for i, w in zip(positions, wrapped):
        args[i] = w
    return state, tuple(args)


def wrap_outputs(state, output):
    """The module's output with its tensors routed through the output hook."""
    if not is_grad_enabled():
        return output
    outs = _as_tuple(output)
    positions = [i for i, o in enumerate(outs) if isinstance(o, Tensor) and o._requires_grad]
    if not positions:
        return output
    wrapped = _as_tuple(BackwardHookFunction.apply(state, *[outs[i] for i in positions]))
    result = list(outs)
    for i, w in zip(positions, wrapped):
        result[i] = w
    return tuple(result) if isinstance(output, tuple) else result[0]
