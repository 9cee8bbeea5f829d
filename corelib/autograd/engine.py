"""The backward pass: topological order, then the chain rule in reverse.

Edges are nodes (``grad_fn``), leaf tensors that require grad, or None. A node runs once all
nodes that feed it gradient have run; gradients for an edge are summed (``+``), so a tensor
used twice gets the sum of both paths' gradients.
"""
from __future__ import annotations

from . import anomaly
from .grad_mode import _set_enabled, is_grad_enabled
from .node import Node, FREED


def _dependencies(roots):
    """Count, for every node and leaf reachable from ``roots``, how many edges point at it."""
    deps = {}
    stack = [r for r in roots if isinstance(r, Node)]
    seen = set(stack)
    while stack:
        node = stack.pop()
        for edge in node.next:
            if edge is None:
                continue
            deps[edge] = deps.get(edge, 0) + 1
            if edge not in seen and isinstance(edge, Node):
                seen.add(edge)
                stack.append(edge)
    return deps


def run_backward(roots, grads, retain_graph, create_graph, capture=None, accumulate=True):
    """Propagate ``grads`` from ``roots`` (edges) to every leaf.

    :param capture: optional dict {edge: None}; the total gradient arriving at each of those
        edges is stored there (``autograd.grad``).
    :param accumulate: add gradients into the ``.grad`` of leaves (``Tensor.backward``).
    """
    deps = _dependencies(roots)
    buffers = {}
    ready = []
    # ids of gradient tensors already stored in some leaf's .grad (or owned by the caller):
    # storing one of them again would make two .grad attributes alias one buffer
    handed = {id(g if g._base is None else g._base) for g in grads}
    for root, grad in zip(roots, grads):
        if root in buffers:
            buffers[root] = buffers[root] + grad
        else:
            buffers[root] = grad
            if deps.get(root, 0) == 0:
                ready.append(root)
    previous_mode = is_grad_enabled()
    _set_enabled(create_graph)
    check_nan = anomaly.enabled and anomaly.check_nan
    pop, push = ready.pop, ready.append
    take, peek = buffers.pop, buffers.get
    try:
        while ready:
            edge = pop()
            grad = take(edge, None)
            if grad is None:
                continue
            if not isinstance(edge, Node):          # a leaf tensor
                if edge._hooks:
                    grad = _run_tensor_hooks(edge, grad, handed)
                if capture is not None and edge in capture:
                    capture[edge] = grad
                if accumulate:
                    _accumulate(edge, grad, handed)
                continue
            if edge.pre_hooks:
                for hook in tuple(edge.pre_hooks):
                    result = hook(grad)
                    if result is not None:
                        grad = result
                        handed.add(id(result))      # the caller may keep it: never adopt
            if capture is not None and edge in capture:
                capture[edge] = grad
            saved = edge.saved
            if saved:
                # a saved tensor modified in place since the forward pass: torch's error
                for t, version in zip(saved, edge.versions):
                    if t is not None:
                        vc = t._vc
                        if (vc[0] if vc else 0) != version:
                            edge.check_versions()
            elif saved is None:
                raise RuntimeError(FREED)
            gdt = getattr(grad, "_dtype", None)        # (None for a multi-output _Slots)
            if gdt is not None and gdt.is_complex and edge.holomorphic:
                in_grads = tuple(g.conj() if g is not None and g._dtype.is_complex else g
                                 for g in edge.backward(grad.conj()))
            else:
                in_grads = edge.backward(grad)
            if check_nan:
                anomaly.check(edge, in_grads)
            if edge.post_hooks:
                for hook in tuple(edge.post_hooks):
                    hook(in_grads, (grad,))
            if saved and not retain_graph:
                edge.saved = None                   # frees the graph (see Node.release)
                edge._drop()
            for target, g in zip(edge.next, in_grads):
                if target is None:
                    continue
                if g is not None:
                    prev = peek(target)
                    buffers[target] = g if prev is None else prev + g
                left = deps[target] - 1
                deps[target] = left
                if left == 0:
                    push(target)
    finally:
        _set_enabled(previous_mode)


def _run_tensor_hooks(leaf, grad, handed):
    """Run a leaf's hooks; a returned tensor replaces the gradient (and, being the caller's,
    is copied rather than adopted as .grad)."""
    for hook in tuple(leaf._hooks.values()):
        result = hook(grad)
        if result is not None:
            grad = result
            handed.add(id(result))
    return grad


def _accumulate(leaf, grad, handed):
    """leaf.grad += grad; the first time, store grad itself unless that would alias.

    ``handed`` holds the ids of the storages (a view's base, else the tensor) already owned by
    a ``.grad`` or by the caller: a gradient sharing one is copied, as is a non-contiguous view,
    so later in-place accumulation never writes into another tensor's gradient.
    """
    current = leaf.grad
    if current is None:
        base = grad._base
        root = grad if base is None else base
        if id(root) in handed or (base is not None and not grad.is_contiguous()):
            grad = grad.clone()
            root = grad
        handed.add(id(root))
        leaf.grad = grad
    elif current._grad_fn is not None or grad._grad_fn is not None:
        leaf.grad = current + grad      # create_graph: keep the graph of the sum
    elif current.is_sparse and not grad.is_sparse:
        leaf.grad = grad + current      # sparse .grad, dense gradient: dense (torch)
    else:
        current.add_(grad)
    hooks = leaf._post_accumulate_hooks
    if hooks:
        for hook in tuple(hooks):
            hook(leaf)
