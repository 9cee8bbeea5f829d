"""Gradient clipping (torch.nn.utils.clip_grad).

The total norm stays a 0-dim tensor on the gradients' device and the scaling is one in-place
multiply per gradient, so clipping never reads values back to the host (except for
``error_if_nonfinite=True``, which must look at the norm, as in torch). On a device the
gradients are concatenated once for the norm: N + 5 launches instead of ~5N.
"""
from __future__ import annotations

import functools
import math
import types
import warnings

from ..._tensor import Tensor
from ...autograd.grad_mode import no_grad

__all__ = ["clip_grad_norm", "clip_grad_norm_", "clip_grad_value_", "clip_grads_with_norm_",
           "get_total_norm"]


def _no_grad(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with no_grad():
            return fn(*args, **kwargs)
    return wrapper


def _vector_norm(t, p):
    """torch.linalg.vector_norm of all elements, composed from frontend ops."""
    if p == 2.0:
        return (t * t).sum().sqrt()
    a = t.abs()
    if p == math.inf:
        return a.max() if t.numel() else a.sum()
    if p == -math.inf:
        return a.min()
    if p == 0.0:
        return (t != 0).sum().to(t.dtype)
    if p == 1.0:
        return a.sum()
    return a.pow(p).sum().pow(1.0 / p)


def _one_buffer(tensors):
    """Several tensors of one dtype on one device that is not host memory (on the host a
    norm per tensor costs no launches, and the copy would cost more)."""
    first = tensors[0]
    return len(tensors) > 1 and not first._device.host_memory and all(
        t._device is first._device and t._dtype is first._dtype for t in tensors)


@_no_grad
def get_total_norm(tensors, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """The norm of the norms of ``tensors`` (as if all were concatenated into one vector)."""
    from ...ops.creation import tensor as _tensor
    from ...ops.movement import stack
    tensors = [tensors] if isinstance(tensors, Tensor) else list(tensors)
    for t in tensors:
        if t.is_sparse:     # torch has no norm of a sparse tensor, so it cannot clip one
            backend = "SparseCPU" if t.device.type == "cpu" else \
                f"Sparse{t.device.type.upper()}"
            raise NotImplementedError(f"Could not run 'aten::linalg_vector_norm' with "
                                      f"arguments from the '{backend}' backend.")
    norm_type = float(norm_type)
    if len(tensors) == 0:
        return _tensor(0.0)
    first_device = tensors[0].device
    if norm_type != 0.0 and _one_buffer(tensors):   # (torch's p=0 counts nonzero *norms*)
        # one concatenation and one norm: on a device a norm per tensor costs 3-4 kernel
        # launches each (~5 us apiece), far more than copying the gradients once
        from ...ops.movement import cat
        total = _vector_norm(cat([t.reshape(-1) for t in tensors]), norm_type)
    else:
        norms = [_vector_norm(t, norm_type) for t in tensors]
        total = _vector_norm(stack([n.to(first_device) for n in norms]), norm_type)
    if error_if_nonfinite and bool(total.isnan() | total.isinf()):
        raise RuntimeError(f"The total norm of order {norm_type} for gradients from "
                           "`parameters` is non-finite, so it cannot be clipped. To disable "
                           "this error and scale the gradients by the non-finite norm anyway, "
                           "set `error_if_nonfinite=False`")
    return total


@_no_grad
def clip_grads_with_norm_(parameters, max_norm, total_norm, foreach=None):
    """Scale gradients by ``min(1, max_norm / (total_norm + 1e-6))`` in place."""
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    grads = [p.grad for p in parameters if p.grad is not None]
    max_norm = float(max_norm)
    if len(grads) == 0:
        return
    coef = (max_norm / (total_norm + 1e-6)).clamp(max=1.0)
    per_device = {}
    for g in grads:
        c = per_device.get(g.device)
        if c is None:
            c = per_device[g.device] = coef.to(g.device)
        g.mul_(c)


@_no_grad
def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False,
                    foreach=None):
    """Clip the gradients' total norm to ``max_norm`` in place; returns the total norm
    (before clipping) as a 0-dim tensor."""
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    else:
        is_generator = isinstance(parameters, types.GeneratorType)
        parameters = list(parameters)
        if is_generator and len(parameters) == 0:
            warnings.warn("`parameters` is an empty generator, no gradient clipping will "
                          "occur.", stacklevel=3)
    grads = [p.grad for p in parameters if p.grad is not None]
    total_norm = get_total_norm(grads, norm_type, error_if_nonfinite, foreach)
    clip_grads_with_norm_(parameters, max_norm, total_norm, foreach)
    return total_norm


def clip_grad_norm(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False,
                   foreach=None):
    """Deprecated alias of :func:`clip_grad_norm_`."""
    warnings.warn("`torch.nn.utils.clip_grad_norm` is now deprecated in favor of "
                  "`torch.nn.utils.clip_grad_norm_`.", FutureWarning, stacklevel=2)
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)


@_no_grad
def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamp every gradient element into ``[-clip_value, clip_value]`` in place."""
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    clip_value = float(clip_value)
    for p in parameters:
        if p.grad is not None:
            p.grad.clamp_(min=-clip_value, max=clip_value)
