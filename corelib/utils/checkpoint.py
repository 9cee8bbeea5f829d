"""``torch.utils.checkpoint``: trade compute for memory by recomputing a segment in backward.

``checkpoint(fn, *args)`` runs ``fn`` without recording a graph (its activations are freed),
keeping only the inputs. When the gradient reaches the segment, ``fn`` runs again with grad
enabled on the saved inputs -- under the random state of the first run, so dropout draws the
same mask -- and the segment's backward runs on that fresh graph: gradients flow to the inputs
and accumulate into the parameters ``fn`` used, exactly as without checkpointing.

``use_reentrant=True`` (torch's default, with its warning when not given) needs an input that
requires grad, as torch's does; ``use_reentrant=False`` also reaches parameters when no input
requires grad.
"""
from __future__ import annotations

import contextlib
import warnings

from .. import _generator
from .._tensor import Tensor
from ..autograd import backward as _backward
from ..autograd.function import Function
from ..autograd.grad_mode import enable_grad

__all__ = ["checkpoint", "checkpoint_sequential"]


def noop_context_fn():
    return contextlib.nullcontext(), contextlib.nullcontext()


class CheckpointFunction(Function):
    """The checkpointed segment as one graph node; ``anchor`` is a grad-requiring scalar that
    makes the node exist when only parameters (not inputs) need gradients."""

    @staticmethod
    def forward(ctx, fn, preserve_rng, anchor, *args):
        ctx.fn, ctx.args = fn, args
        ctx.rng = _generator.get_rng_state() if preserve_rng else None
        return fn(*args)

    @staticmethod
    def backward(ctx, *grads):
        if ctx.args is None:
            raise RuntimeError("Trying to backward through the graph a second time (or directly "
                               "access saved tensors after they have already been freed).")
        inputs = tuple(a.detach().requires_grad_(a._requires_grad) if isinstance(a, Tensor)
                       else a for a in ctx.args)
        after = None
        if ctx.rng is not None:
            after = _generator.get_rng_state()
            _generator.set_rng_state(ctx.rng)
        try:
            with enable_grad():
                outputs = ctx.fn(*inputs)
        finally:
            if after is not None:
                _generator.set_rng_state(after)
        ctx.args = None
        outputs = outputs if isinstance(outputs, tuple) else (outputs,)
        pairs = [(o, g) for o, g in zip(outputs, grads)
                 if isinstance(o, Tensor) and o._requires_grad and g is not None]
        if pairs:
            _backward([o for o, _ in pairs], [g for _, g in pairs])
        input_grads = tuple(a.grad if isinstance(a, Tensor) and a._requires_grad else None
                            for a in inputs)
        return (None, None, None) + input_grads


def checkpoint(function, *args, use_reentrant=None, context_fn=noop_context_fn,
               determinism_check="default", debug=False, early_stop=True,
               preserve_rng_state=True, **kwargs):
    """Run ``function(*args, **kwargs)`` keeping only its inputs; recompute it in backward."""
    if use_reentrant is None:
        warnings.warn("torch.utils.checkpoint: the use_reentrant parameter should be passed "
                      "explicitly. Starting in PyTorch 2.9, calling checkpoint without "
                      "use_reentrant will raise an exception. use_reentrant=False is "
                      "recommended, but if you need to preserve the current default behavior, "
                      "you can pass use_reentrant=True. Refer to docs for more details on the "
                      "differences between the two variants.", stacklevel=2)
        use_reentrant = True
    if use_reentrant:
        if context_fn is not noop_context_fn or debug:
            raise ValueError("Passing `context_fn` or `debug` is only supported when "
                             "use_reentrant=False.")
        if kwargs:
            raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))
    fn = function if not kwargs else (lambda *a: function(*a, **kwargs))
    needs = any(isinstance(a, Tensor) and a._requires_grad for a in args)
    if use_reentrant:
        if not needs:
            warnings.warn("None of the inputs have requires_grad=True. Gradients will be None",
                          stacklevel=2)
        anchor = None
    else:
        from ..ops.creation import zeros
        anchor = zeros((), requires_grad=True)
    return CheckpointFunction.apply(fn, preserve_rng_state, anchor, *args)


def checkpoint_sequential(functions, segments, input, use_reentrant=None, **kwargs):  # noqa: A002
    """Split a Sequential (or list of modules) into ``segments`` checkpointed runs; the last
    segment runs normally, as torch's does."""
    if use_reentrant is None:
        warnings.warn("torch.utils.checkpoint.checkpoint_sequential: the use_reentrant parameter "
                      "should be passed explicitly.", stacklevel=2)
        use_reentrant = True
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs:
        raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))
    from ..nn.modules.container import Sequential
    if isinstance(functions, Sequential):
        functions = list(functions.children())
    functions = list(functions)

    def run(start, end):
        def forward(x):
            for j in range(start, end + 1):
                x = functions[j](x)
            return x
        return forward

    size = len(functions) // segments
    end = -1
    for start in range(0, size * (segments - 1), size):
        end = start + size - 1
        input = checkpoint(run(start, end), input, use_reentrant=use_reentrant,  # noqa: A001
                           preserve_rng_state=preserve)
    return run(end + 1, len(functions) - 1)(input)
