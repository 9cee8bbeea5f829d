"""Dropout family with torch's CPU recipe, so masks match torch's after the same seed:
``noise = empty_like(x).bernoulli_(1 - p); noise.div_(1 - p); x * noise`` (feature dropout
draws one value per (sample, channel))."""
from __future__ import annotations

import warnings

from ...ops.creation import empty, zeros
from ...ops.inplace import apply_inplace

__all__ = ["dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout",
           "feature_alpha_dropout"]

_ALPHA = 1.7580993408473766   # SELU's -scale*alpha, torch's alpha_dropout constant


def _check_p(p):
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def _dropout(input, p, training, inplace, feature, alpha):
    _check_p(p)
    if p == 0 or not training or input.numel() == 0:
        return input
    if p == 1:
        factor = zeros((), dtype=input.dtype, device=input.device)
        return apply_inplace(input, lambda x: x * factor) if inplace else input * factor
    shape = tuple(input.shape[:2]) + (1,) * (input.ndim - 2) if feature else input.shape
    noise = empty(shape, dtype=input.dtype, device=input.device).bernoulli_(1 - p)
    if alpha:
        a = 1.0 / ((_ALPHA * _ALPHA * p + 1) * (1 - p)) ** 0.5
        b = noise.add(-1).mul_(_ALPHA * a).add_(_ALPHA * a * p)
        noise.mul_(a)

        def fn(x):
            return x * noise + b
    else:
        noise.div_(1 - p)

        def fn(x):
            return x * noise
    return apply_inplace(input, fn) if inplace else fn(input)


def dropout(input, p=0.5, training=True, inplace=False):
    """Zero each element with probability p and scale the rest by 1/(1-p)."""
    return _dropout(input, p, training, inplace, False, False)


def alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Dropout that keeps SELU's zero mean and unit variance (dropped elements go to the
    negative saturation value); identity unless training."""
    return _dropout(input, p, training, inplace, False, True)


def feature_alpha_dropout(input, p=0.5, training=False, inplace=False):
    """:func:`alpha_dropout` applied to whole channels; identity unless training."""
    return _dropout(input, p, training, inplace, True, True)


def _feature(name, input, p, training, inplace, batched_dim):
    """Channel-wise dropout; unbatched input gets a batch dim of 1 (torch)."""
    if input.ndim not in (batched_dim - 1, batched_dim):
        raise RuntimeError(f"{name}: Expected {batched_dim - 1}D or {batched_dim}D input, but "
                           f"received a {input.ndim}D input. Note that {name} exists to provide "
                           f"channel-wise dropout on inputs with {batched_dim - 2} spatial "
                           "dimension(s), a channel dimension, and an optional batch dimension "
                           f"(i.e. {batched_dim - 1}D or {batched_dim}D inputs).")
    if input.ndim == batched_dim - 1:
        _check_p(p)
        if p == 0 or not training:
            return input
        out = _dropout(input.unsqueeze(0), p, training, False, True, False).squeeze(0)
        return apply_inplace(input, lambda x: out) if inplace else out
    return _dropout(input, p, training, inplace, True, False)


def dropout1d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, L) input with probability p, scaling the rest by 1/(1-p);
    identity unless training."""
    return _feature("dropout1d", input, p, training, inplace, 3)


def dropout2d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, H, W) input with probability p."""
    if input.ndim == 3:
        warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that channel-wise "
                      "1D dropout behavior is desired - input is interpreted as shape (N, C, L), "
                      "where C is the channel dim. This behavior will change in a future release "
                      "to interpret the input as one without a batch dimension, i.e. shape "
                      "(C, H, W). To maintain the 1D channel-wise dropout behavior, please "
                      "switch to using dropout1d instead.", UserWarning, stacklevel=2)
        return _dropout(input, p, training, inplace, True, False)
    if input.ndim != 4:
        warnings.warn(f"dropout2d: Received a {input.ndim}-D input to dropout2d, which is "
                      "deprecated and will result in an error in a future release. To retain "
                      "the behavior and silence this warning, please use dropout instead. Note "
                      "that dropout2d exists to provide channel-wise dropout on inputs with 2 "
                      "spatial dimensions, a channel dimension, and an optional batch dimension "
                      "(i.e. 3D or 4D inputs).", UserWarning, stacklevel=2)
    return _dropout(input, p, training, inplace, True, False)


def dropout3d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, D, H, W) input with probability p, scaling the rest by
    1/(1-p); identity unless training."""
    return _feature("dropout3d", input, p, training, inplace, 5)
