"""Normalization: batch, layer, group, instance and RMS norm, composed from plugrad ops.

Statistics are biased (divide by n) for normalizing and unbiased for BatchNorm's running
variance, as torch. The affine part is folded torch's way -- ``alpha = w * invstd``,
``beta = b - mean * alpha``, ``y = x * alpha + beta`` -- so forward values round the way
torch's CPU kernel rounds them.
"""
from __future__ import annotations

from ...autograd.grad_mode import no_grad
from ...ops._graph import named

__all__ = ["batch_norm", "layer_norm", "group_norm", "instance_norm", "rms_norm"]


def _channel_view(t, ndim):
    return t.reshape((1, -1) + (1,) * (ndim - 2)) if ndim > 2 else t.reshape(1, -1)


def _normalize(x, mean, var, eps, weight, bias, view):
    """y = (x - mean) / sqrt(var + eps) * weight + bias, with mean/var shaped by ``view``."""
    invstd = (var + eps).rsqrt()
    alpha = invstd if weight is None else invstd * weight
    beta = -mean * alpha if bias is None else bias - mean * alpha
    return x * view(alpha) + view(beta)


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-05):
    """Normalize each channel (dim 1) with batch statistics (training) or running ones.

    In training, running_mean/var (when given) are updated in place:
    ``r = (1 - momentum) * r + momentum * stat``, with the unbiased batch variance.
    """
    check_batch_norm(input, running_mean, running_var, weight, bias, training)
    c = input.shape[1]
    dims = (0,) + tuple(range(2, input.ndim))
    view = lambda t: _channel_view(t, input.ndim)  # noqa: E731
    if training:
        count = input.numel() // c
        from ...ops.fused import batch_norm_train
        fused = batch_norm_train(input, weight, bias, eps)
        if fused is not None:
            out, mean, var = fused
        else:
            mean = input.mean(dims)
            var = input.var(dims, correction=0)
        if running_mean is not None or running_var is not None:
            with no_grad():
                if running_mean is not None:
                    running_mean.mul_(1 - momentum).add_(mean.detach() * momentum)
                if running_var is not None:
                    unbiased = var.detach() * (count / (count - 1))
                    running_var.mul_(1 - momentum).add_(unbiased * momentum)
    else:
        if running_mean is None or running_var is None:
            raise RuntimeError("running_mean and running_var must be defined in evaluation mode")
        mean, var = running_mean, running_var
    if training and fused is not None:
        return out
    out = _normalize(input, mean, var, eps, weight, bias, view)
    return named(out, "NativeBatchNormBackward0")


def check_batch_norm(input, running_mean, running_var, weight, bias, training):
    """torch's batch_norm argument checks (the module runs them before touching its state)."""
    if input.ndim < 2:
        raise ValueError(f"Expected 2D or 3D input (got {input.ndim}D input)")
    c = input.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var),
                    ("weight", weight), ("bias", bias)):
        if t is not None and t.numel() != c:
            raise RuntimeError(f"{name} should contain {c} elements not {t.numel()}")
    if training and input.numel() // max(c, 1) == 1:      # (an empty batch is fine)
        raise ValueError(f"Expected more than 1 value per channel when training, got input "
                         f"size {input.shape!r}")


def _check_normalized_shape(input, normalized_shape):
    shape = tuple(normalized_shape)
    n = len(shape)
    if n == 0 or tuple(input.shape[input.ndim - n:]) != shape or input.ndim < n:
        raise RuntimeError(f"Given normalized_shape={list(shape)}, expected input with shape "
                           f"[*, {', '.join(map(str, shape))}], but got input of size"
                           f"{list(input.shape)}")
    return tuple(range(input.ndim - n, input.ndim))


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-05):
    """Normalize over the trailing ``normalized_shape`` dims, then scale and shift."""
    if isinstance(normalized_shape, int):
        normalized_shape = (normalized_shape,)
    dims = _check_normalized_shape(input, normalized_shape)
    if input.dtype.itemsize == 2 and input.dtype.is_floating_point:
        # float16/bfloat16: torch's kernel computes in float32 and rounds once (composing it
        # from rounded half steps differed from torch in a third of the elements)
        out = layer_norm(input.float(), normalized_shape,
                         None if weight is None else weight.float(),
                         None if bias is None else bias.float(), eps)
        return named(out.to(input.dtype), "NativeLayerNormBackward0")
    from ...ops.fused import layer_norm_rows
    out = layer_norm_rows(input, dims, weight, bias, eps)
    if out is not None:
        return out
    mean = input.mean(dims, keepdim=True)
    var = input.var(dims, keepdim=True, correction=0)
    out = (input - mean) * (var + eps).rsqrt()
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return named(out, "NativeLayerNormBackward0")


def rms_norm(input, normalized_shape, weight=None, eps=None):
    """x / sqrt(mean(x^2) + eps) * weight over the trailing dims (eps: the dtype's eps)."""
    if isinstance(normalized_shape, int):
        normalized_shape = (normalized_shape,)
    dims = _check_normalized_shape(input, normalized_shape)
    if eps is None:
        eps = input.dtype.eps if hasattr(input.dtype, "eps") else _finfo_eps(input.dtype)
    out = input * ((input * input).mean(dims, keepdim=True) + eps).rsqrt()
    return out * weight if weight is not None else out


def _finfo_eps(dt):
    return {"float16": 0.0009765625, "bfloat16": 0.0078125, "float32": 1.1920928955078125e-07,
            "float64": 2.220446049250313e-16}[dt.name]


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-05):
    """Normalize each group of channels of each sample, then a per-channel affine."""
    if input.ndim < 2:
        raise RuntimeError(f"Expected at least 2 dimensions for input tensor but received "
                           f"{input.ndim}")
    n, c = input.shape[:2]
    if c % num_groups:
        raise RuntimeError(f"Expected number of channels in input to be divisible by "
                           f"num_groups, but got input of shape {list(input.shape)} and "
                           f"num_groups={num_groups}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and (t.ndim != 1 or t.numel() != c):
            raise RuntimeError(f"Expected {name} to be a vector of size equal to the number of "
                               f"channels in input, but got {name} of shape "
                               f"{list(t.shape)} and input of shape {list(input.shape)}")
    grouped = input.reshape(n, num_groups, -1)
    mean = grouped.mean(-1, keepdim=True)
    var = grouped.var(-1, keepdim=True, correction=0)
    out = ((grouped - mean) * (var + eps).rsqrt()).reshape(input.shape)
    view = lambda t: _channel_view(t, input.ndim)  # noqa: E731
    if weight is not None:
        out = out * view(weight)
    if bias is not None:
        out = out + view(bias)
    return named(out, "NativeGroupNormBackward0")


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None,
                  use_input_stats=True, momentum=0.1, eps=1e-05):
    """Normalize each (sample, channel) over its spatial dims."""
    if input.ndim < 3:
        raise ValueError(f"Expected 3D or higher input (got {input.ndim}D input)")
    n, c = input.shape[:2]
    dims = tuple(range(2, input.ndim))
    view = lambda t: _channel_view(t, input.ndim)  # noqa: E731
    if use_input_stats:
        count = input.numel() // (n * c)
        mean = input.mean(dims, keepdim=True)
        var = input.var(dims, keepdim=True, correction=0)
        if running_mean is not None or running_var is not None:
            with no_grad():
                if running_mean is not None:
                    batch_mean = mean.detach().reshape(n, c).mean(0)
                    running_mean.mul_(1 - momentum).add_(batch_mean * momentum)
                if running_var is not None:
                    unbiased = var.detach().reshape(n, c).mean(0) * (count / max(count - 1, 1))
                    running_var.mul_(1 - momentum).add_(unbiased * momentum)
    else:
        mean, var = view(running_mean), view(running_var)
    out = (input - mean) * (var + eps).rsqrt()
    if weight is not None:
        out = out * view(weight)
    if bias is not None:
        out = out + view(bias)
    return out
