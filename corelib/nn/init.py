"""Parameter initialisation with PyTorch's fan and gain rules.

Every function fills a tensor in place under ``no_grad`` and draws from plugrad's generator,
which reproduces torch's CPU stream: a layer built after ``manual_seed(s)`` gets the weights
torch would give it.
"""
from __future__ import annotations

import math
import warnings

from ..autograd.grad_mode import no_grad


def calculate_gain(nonlinearity, param=None):
    """The recommended gain for a nonlinearity (torch.nn.init.calculate_gain)."""
    linear_fns = ["linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d",
                  "conv_transpose2d", "conv_transpose3d"]
    if nonlinearity in linear_fns or nonlinearity == "sigmoid":
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            negative_slope = 0.01
        elif not isinstance(param, bool) and isinstance(param, (int, float)):
            negative_slope = param
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + negative_slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def _calculate_fan_in_and_fan_out(tensor):
    dimensions = tensor.dim()
    if dimensions < 2:
        raise ValueError("Fan in and fan out can not be computed for tensor with fewer than 2 "
                         "dimensions")
    num_input_fmaps = tensor.size(1)
    num_output_fmaps = tensor.size(0)
    receptive_field_size = 1
    for s in tensor.shape[2:]:
        receptive_field_size *= s
    return num_input_fmaps * receptive_field_size, num_output_fmaps * receptive_field_size


def _calculate_correct_fan(tensor, mode):
    mode = mode.lower()
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode} not supported, please use one of {['fan_in', 'fan_out']}")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def uniform_(tensor, a=0.0, b=1.0, generator=None):
    """Fill tensor with draws from U(a, b), without autograd; returns tensor."""
    with no_grad():
        return tensor.uniform_(a, b, generator=generator)


def normal_(tensor, mean=0.0, std=1.0, generator=None):
    """Fill tensor with draws from N(mean, std**2), without autograd; returns tensor."""
    with no_grad():
        return tensor.normal_(mean, std, generator=generator)


def constant_(tensor, val):
    """Fill tensor with val, without autograd; returns tensor."""
    with no_grad():
        return tensor.fill_(val)


def zeros_(tensor):
    """Fill tensor with zeros, without autograd; returns tensor."""
    with no_grad():
        return tensor.zero_()


def ones_(tensor):
    """Fill tensor with ones, without autograd; returns tensor."""
    with no_grad():
        return tensor.fill_(1.0)


def eye_(tensor):
    """Fill a 2-D tensor with the identity matrix; returns tensor."""
    if tensor.ndim != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    from ..ops.creation import eye
    with no_grad():
        tensor.copy_(eye(*tensor.shape, dtype=tensor.dtype, device=tensor.device))
    return tensor


def dirac_(tensor, groups=1):
    """Fill a 3-5-D conv weight with the Dirac delta, so the conv passes its input through
    (per group); returns tensor."""
    dims = tensor.ndim
    if dims not in (3, 4, 5):
        raise ValueError("Only tensors with 3, 4, or 5 dimensions are supported")
    sizes = tensor.shape
    out_per_group = sizes[0] // groups
    min_dim = min(out_per_group, sizes[1])
    with no_grad():
        tensor.zero_()
        for g in range(groups):
            for d in range(min_dim):
                index = (g * out_per_group + d, d) + tuple(s // 2 for s in sizes[2:])
                tensor[index] = 1
    return tensor


def xavier_uniform_(tensor, gain=1.0, generator=None):
    """Fill tensor from U(-b, b), b = gain * sqrt(6 / (fan_in + fan_out)) (Glorot); returns
    tensor."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    a = math.sqrt(3.0) * std
    return uniform_(tensor, -a, a, generator)


def xavier_normal_(tensor, gain=1.0, generator=None):
    """Fill tensor from N(0, std**2), std = gain * sqrt(2 / (fan_in + fan_out)) (Glorot);
    returns tensor."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return normal_(tensor, 0.0, std, generator)


def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """Fill tensor from U(-b, b), b = gain(nonlinearity, a) * sqrt(3 / fan) (He init; fan
    from ``mode``); returns tensor."""
    if 0 in tensor.shape:
        warnings.warn("Initializing zero-element tensors is a no-op")
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    gain = calculate_gain(nonlinearity, a)
    std = gain / math.sqrt(fan)
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """Fill tensor from N(0, std**2), std = gain(nonlinearity, a) / sqrt(fan) (He init; fan
    from ``mode``); returns tensor."""
    if 0 in tensor.shape:
        warnings.warn("Initializing zero-element tensors is a no-op")
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    gain = calculate_gain(nonlinearity, a)
    std = gain / math.sqrt(fan)
    return normal_(tensor, 0, std, generator)


# ------------------------------------------------------------------- orthogonal, truncated

def _householder_q(a):
    """Q of a = QR (a: m x n, m >= n, float64) with diag(R) > 0, from Householder reflectors
    built with plugrad ops (init-time only; torch gets the same Q from LAPACK after its sign
    fix, since that QR is unique)."""
    from ..ops.creation import eye, tensor
    from ..ops.movement import cat
    m, n = a.shape
    reflectors, signs = [], []
    for k in range(n):
        x = a[k:, k]
        x0 = x[0].item()
        norm = x.norm().item()
        alpha = -norm if x0 >= 0 else norm        # R[k, k]; sign chosen for stability
        head = tensor([x0 - alpha], dtype=a.dtype, device=a.device)
        v = cat([a.new_zeros(k), head, x[1:]])
        vnorm = v.norm().item()
        if vnorm > 0:
            v = v / vnorm
            a = a - 2 * v.unsqueeze(1) * (v.unsqueeze(0).matmul(a))
            reflectors.append(v)
        else:
            reflectors.append(None)
        signs.append(1.0 if alpha >= 0 else -1.0)
    q = eye(m, n, dtype=a.dtype, device=a.device)
    for v in reversed(reflectors):
        if v is not None:
            q = q - 2 * v.unsqueeze(1) * (v.unsqueeze(0).matmul(q))
    return q * tensor(signs, dtype=a.dtype, device=a.device)


def orthogonal_(tensor, gain=1, generator=None):
    """Fill with a (semi-)orthogonal matrix: QR of a standard normal draw, torch's recipe
    (normal_ on a (rows, numel/rows) matrix, transposed when rows < cols, Q *= sign(diag R))."""
    from .. import _dtype as D
    if tensor.ndim < 2:
        raise ValueError("Only tensors with 2 or more dimensions are supported")
    if tensor.numel() == 0:
        return tensor
    rows = tensor.size(0)
    cols = tensor.numel() // rows
    with no_grad():
        flattened = tensor.new_empty((rows, cols)).normal_(0, 1, generator=generator)
        if rows < cols:
            flattened = flattened.t()
        q = _householder_q(flattened.to(D.float64))
        if rows < cols:
            q = q.t()
        tensor.view_as(q).copy_(q.to(tensor.dtype))
        tensor.mul_(gain)
    return tensor


def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0, generator=None):
    """Normal(mean, std) restricted to [a, b], by torch 2.x's rejection sampling.

    When [a, b] holds more than 30% of the mass: draw normals and redraw the rejected ones
    (a full-size normal_ per round, as torch). Otherwise: uniform proposals on [a, b] accepted
    against the density's peak on [a, b]. Same draws in the same order as torch, so the values
    match torch's for the same seed.
    """
    from ..ops.creation import empty_like, tensor as _tensor
    from ..ops.ternary import where

    def norm_cdf(x):
        return (1.0 + math.erf(x / math.sqrt(2.0))) / 2.0
    if mean < a - 2 * std or mean > b + 2 * std:
        warnings.warn("mean is more than 2 std from [a, b] in nn.init.trunc_normal_. The "
                      "distribution of values may be incorrect.", stacklevel=2)
    with no_grad():
        p = norm_cdf((b - mean) / std) - norm_cdf((a - mean) / std)
        if p > 0.3:
            # bounds rounded to the tensor's dtype, so the mask matches representable values
            lo = _tensor(a, dtype=tensor.dtype).item()
            hi = _tensor(b, dtype=tensor.dtype).item()
            result = tensor.normal_(mean, std, generator=generator)
            while True:
                mask = (result < lo).logical_or(result > hi)
                if not mask.any().item():
                    break
                result = where(mask, empty_like(result).normal_(mean, std, generator=generator),
                               result)
            if tensor is not result:
                tensor.copy_(result)
            return tensor
        mode = max(a, min(mean, b))
        log_peak = -0.5 * ((mode - mean) / std) ** 2
        candidates = empty_like(tensor)
        accept_buf = empty_like(tensor)
        tensor.uniform_(a, b, generator=generator)
        candidates.copy_(tensor)
        candidates.sub_(mean).div_(std).pow_(2).mul_(-0.5).sub_(log_peak)
        pending = accept_buf.uniform_(generator=generator).log_().gt(candidates)
        if pending.any().item():
            result = tensor
            while True:
                candidates.uniform_(a, b, generator=generator)
                result = where(pending, candidates, result)
                candidates.sub_(mean).div_(std).pow_(2).mul_(-0.5).sub_(log_peak)
                pending = where(pending,
                                accept_buf.uniform_(generator=generator).log_().gt(candidates),
                                pending)
                if not pending.any().item():
                    break
            tensor.copy_(result)
    return tensor


def sparse_(tensor, sparsity, std=0.01, generator=None):
    """2-D tensor from N(0, std) with ``sparsity`` of each column's rows zeroed (randperm)."""
    from ..ops.creation import randperm
    if tensor.ndim != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    rows, cols = tensor.shape
    num_zeros = int(math.ceil(sparsity * rows))
    with no_grad():
        tensor.normal_(0, std, generator=generator)
        for col_idx in range(cols):
            row_indices = randperm(rows, generator=generator)
            zero_indices = row_indices[:num_zeros]
            for i in zero_indices.tolist():
                tensor[i, col_idx] = 0
    return tensor


# ------------------------------------------------------------------ deprecated spellings
def _deprecated(new):
    import functools
    import warnings
    old = new.__name__[:-1]

    @functools.wraps(new)
    def deprecated_init(*args, **kwargs):
        warnings.warn(f"`nn.init.{old}` is now deprecated in favor of `nn.init.{new.__name__}`.",
                      FutureWarning, stacklevel=2)
        return new(*args, **kwargs)
    deprecated_init.__name__ = deprecated_init.__qualname__ = old
    deprecated_init.__doc__ = f"Deprecated spelling of :func:`{new.__name__}` (warns)."
    return deprecated_init


uniform = _deprecated(uniform_)
normal = _deprecated(normal_)
constant = _deprecated(constant_)
eye = _deprecated(eye_)
dirac = _deprecated(dirac_)
xavier_uniform = _deprecated(xavier_uniform_)
xavier_normal = _deprecated(xavier_normal_)
kaiming_uniform = _deprecated(kaiming_uniform_)
kaiming_normal = _deprecated(kaiming_normal_)
orthogonal = _deprecated(orthogonal_)
sparse = _deprecated(sparse_)
