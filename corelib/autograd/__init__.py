"""Define-by-run automatic differentiation: ``backward``, ``grad`` and custom Functions.

The engine (:mod:`.engine`) walks the graph of ``grad_fn`` nodes that ops record while grad
mode is on; every op's backward is written in frontend ops, so gradients work on every
backend and can be differentiated again (``create_graph=True``).
"""
from __future__ import annotations

from . import anomaly as _anomaly
from .anomaly import detect_anomaly, is_anomaly_enabled, set_detect_anomaly
from .engine import run_backward
from .function import Function, FunctionCtx, once_differentiable
from .grad_mode import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from .node import Node
from .variable import Variable

__all__ = ["backward", "grad", "Function", "FunctionCtx", "once_differentiable", "no_grad",
           "enable_grad", "set_grad_enabled", "inference_mode", "is_grad_enabled",
           "detect_anomaly", "set_detect_anomaly", "is_anomaly_enabled", "gradcheck",
           "gradgradcheck", "Node", "Variable"]


def _as_tuple(x):
    if x is None:
        return None
    from .._tensor import Tensor
    if isinstance(x, Tensor):
        return (x,)
    return tuple(x)


def _root_grads(outputs, grad_outputs, create_graph):
    """Default and validate the gradients the backward pass starts from."""
    from .._tensor import Tensor
    grads = []
    for i, out in enumerate(outputs):
        g = grad_outputs[i] if grad_outputs is not None and i < len(grad_outputs) else None
        if not out._requires_grad:
            raise RuntimeError(f"element {i} of tensors does not require grad and does not have "
                               "a grad_fn")
        if g is None:
            if out.numel() != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            if not out._dtype.is_floating_point:
                raise RuntimeError(f"grad can be implicitly created only for real scalar "
                                   f"outputs but got {out._dtype}")
            from ..ops.creation import ones_like
            g = ones_like(out)
        elif not isinstance(g, Tensor):
            from ..ops.creation import full_like
            g = full_like(out, g)
        else:
            if g._shape != out._shape:
                from .._tensor import Size
                raise RuntimeError(f"Mismatch in shape: grad_output[{i}] has a shape of "
                                   f"{Size(g._shape)!r} and output[{i}] has a shape of "
                                   f"{Size(out._shape)!r}.")
            if g._device is not out._device:
                raise RuntimeError(f"invalid gradient at index {i} - expected device "
                                   f"{out._device} but got {g._device}")
            if g._dtype is not out._dtype:
                g = g.to(out._dtype)
            if not create_graph:
                g = g.detach()
        grads.append(g)
    return grads


def _edge(t):
    return t._grad_fn if t._grad_fn is not None else t


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False,
             grad_variables=None, inputs=None):
    """Accumulate gradients of ``tensors`` into the ``.grad`` of the leaves of their graph."""
    outputs = _as_tuple(tensors)
    grad_tensors = _as_tuple(grad_tensors if grad_tensors is not None else grad_variables)
    if retain_graph is None:
        retain_graph = create_graph
    grads = _root_grads(outputs, grad_tensors, create_graph)
    roots = [_edge(t) for t in outputs]
    if inputs is not None:
        inputs = _as_tuple(inputs)
        if not inputs:
            raise RuntimeError("'inputs' argument to backward() cannot be empty.")
        captured = _capture(roots, grads, inputs, retain_graph, create_graph, True)
        for t, g in zip(inputs, captured):
            if g is None:
                continue
            if t._grad_fn is None:
                continue  # leaves were accumulated by the engine
            t._grad = g if t._grad is None else t._grad + g
        return
    run_backward(roots, grads, retain_graph, create_graph)


def _capture(roots, grads, inputs, retain_graph, create_graph, accumulate_leaves):
    capture = {}
    for t in inputs:
        if not t._requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
        capture[_edge(t)] = None
    if accumulate_leaves:
        # only the listed leaves accumulate: run without accumulation, then add them
        run_backward(roots, grads, retain_graph, create_graph, capture=capture,
                     accumulate=False)
        for t in inputs:
            g = capture.get(_edge(t))
            if g is not None and t._grad_fn is None:
                from .engine import _accumulate
                _accumulate(t, g, set())
    else:
        run_backward(roots, grads, retain_graph, create_graph, capture=capture,
                     accumulate=False)
    return [capture.get(_edge(t)) for t in inputs]


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         only_inputs=True, allow_unused=None, is_grads_batched=False, materialize_grads=False):
    """Gradients of ``outputs`` with respect to ``inputs``, returned (not accumulated)."""
    outputs = _as_tuple(outputs)
    inputs = _as_tuple(inputs)
    if not inputs:
        raise RuntimeError("`inputs` argument to `grad()` cannot be empty.")
    if retain_graph is None:
        retain_graph = create_graph
    if allow_unused is None:
        allow_unused = materialize_grads
    grads = _root_grads(outputs, _as_tuple(grad_outputs), create_graph)
    roots = [_edge(t) for t in outputs]
    result = _capture(roots, grads, inputs, retain_graph, create_graph, False)
    out = []
    for i, (t, g) in enumerate(zip(inputs, result)):
        if g is None:
            if materialize_grads:
                from ..ops.creation import zeros_like
                g = zeros_like(t)
            elif not allow_unused:
                raise RuntimeError(f"The differentiated Tensor at index {i} appears to not have "
                                   "been used in the graph. Set allow_unused=True if this is the "
                                   "desired behavior.")
        elif not create_graph and g._grad_fn is not None:
            g = g.detach()
        out.append(g)
    return tuple(out)


from .gradcheck import gradcheck, gradgradcheck  # noqa: E402
from . import profiler  # noqa: E402,F401
