"""Losses with torch's reductions, checks and formulas (regression and classification).

Every loss is a composition of plugrad ops except binary_cross_entropy (see
:mod:`plugrad.ops.losses`). Class targets are checked against the class count before the call
(torch's CPU check), except on backends that check them on the device and raise at the next
``.item()``, as torch's CUDA kernels do (the contract's ``checks_indices``).
"""
from __future__ import annotations

from ...compile._state import capturing as _capturing

import warnings

from ... import _dtype as D
from ...ops import activation as _act
from ...ops import fused as _fused
from ...ops import losses as _losses
from ...ops._graph import named
from ...ops._operands import check_same_device
from ...ops.ternary import where
from ...ops.indexing import checked_on_device
from .activation import log_sigmoid

__all__ = ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "nll_loss", "cross_entropy",
           "binary_cross_entropy", "binary_cross_entropy_with_logits", "kl_div",
           "poisson_nll_loss", "gaussian_nll_loss"]


def _reduce(loss, reduction):
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ValueError(f"{reduction} is not a valid value for reduction")


def legacy_reduction(size_average, reduce, reduction):
    """torch's mapping of the deprecated size_average/reduce flags onto ``reduction``."""
    if size_average is None and reduce is None:
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    if not reduce:
        return "none"
    return "mean" if size_average else "sum"


def _check_reduction(reduction):
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{reduction} is not a valid value for reduction")


def _warn_target_size(input, target):
    if target.shape != input.shape:
        warnings.warn(f"Using a target size ({target.shape!r}) that is different to the input "
                      f"size ({input.shape!r}). This will likely lead to incorrect results due "
                      "to broadcasting. Please ensure they have the same size.", UserWarning,
                      stacklevel=3)


# ------------------------------------------------------------------------------ regression

def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """(x - y)^2, reduced."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    _warn_target_size(input, target)
    diff = input - target
    loss = diff * diff
    if weight is not None:
        loss = loss * weight
    return named(_reduce(loss, reduction), "MseLossBackward0")


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """|x - y|, reduced (torch's grad_fn is that of the reduction)."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    _warn_target_size(input, target)
    loss = (input - target).abs()
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    """0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta (beta = 0 is L1)."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    _warn_target_size(input, target)
    if beta == 0:
        return l1_loss(input, target, reduction=reduction)
    d = (input - target).abs()
    loss = where(d < beta, d * d * (0.5 / beta), d - 0.5 * beta)
    return named(_reduce(loss, reduction), "SmoothL1LossBackward0")


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    """0.5 d^2 where |d| < delta, else delta (|d| - 0.5 delta)."""
    _check_reduction(reduction)
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    _warn_target_size(input, target)
    d = (input - target).abs()
    loss = where(d < delta, d * d * 0.5, (d - 0.5 * delta) * delta)
    if weight is not None:
        loss = loss * weight
    return named(_reduce(loss, reduction), "HuberLossBackward0")


def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-08,
                     reduce=None, reduction="mean"):
    """exp(x) - y x (log_input) or x - y log(x + eps); ``full`` adds Stirling's term."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if log_input:
        loss = input.exp() - target * input
    else:
        loss = input - target * (input + eps).log()
    if full:
        import math
        stirling = target * target.log() - target + (target * (2 * math.pi)).log() * 0.5
        loss = loss + where(target > 1, stirling, 0.0)
    return _reduce(loss, reduction)


def gaussian_nll_loss(input, target, var, full=False, eps=1e-06, reduction="mean"):
    """0.5 (log(max(var, eps)) + (x - y)^2 / max(var, eps)) (+ 0.5 log(2 pi) if full)."""
    import math
    _check_reduction(reduction)
    if var.shape != input.shape:
        if input.shape[:-1] == var.shape:
            var = var.unsqueeze(-1)
        elif input.shape[:-1] == var.shape[:-1] and var.shape[-1] == 1:
            pass
        else:
            raise ValueError("var is of incorrect size")
    if (var < 0).any().item():
        raise ValueError("var has negative entry/entries")
    from ...autograd.grad_mode import no_grad
    var = var.clone()
    with no_grad():
        var.clamp_(min=eps)
    loss = 0.5 * (var.log() + (input - target) ** 2 / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)


# -------------------------------------------------------------------------- classification

def _host_values(t):
    """t's values on the host when they already live there (no device round trip)."""
    return t._host() if t.device.host_memory and t.numel() else None


def _check_targets(target, n_classes, ignore_index):
    """IndexError for a class index out of range, checked before the call: the fused kernels
    would read logits outside the row. A backend that checks targets on the device (torch's
    CUDA kernels assert there) raises at the next ``.item()`` instead, with no read here."""
    if _capturing:      # a compiled function checks again on every replay
        from ...compile.capture import record_check
        return record_check(_check_target_values, target, n_classes, ignore_index)
    _check_target_values(target, n_classes, ignore_index)


def _check_target_values(target, n_classes, ignore_index):
    values = _host_values(target)
    if values is None:
        if target.numel() == 0 or checked_on_device(target):
            return
        # one reduction and a one-byte read on a device
        bad = (target != ignore_index).logical_and((target < 0).logical_or(target >= n_classes))
        if not bool(bad.any()):
            return
        values, bad = target.cpu().numpy(), bad.cpu().numpy()
    else:
        bad = (values != ignore_index) & ((values < 0) | (values >= n_classes))
    if bad.any():
        raise IndexError(f"Target {int(values.reshape(-1)[bad.reshape(-1).argmax()])} is out "
                         "of bounds.")


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
             reduction="mean"):
    """-w[y] * input[y] per sample; 'mean' divides by the summed weights of counted samples."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    check_same_device(input, target, *(weight,) if weight is not None else ())
    if input.ndim < 1:
        raise ValueError(f"Expected 1 or more dimensions (got {input.ndim})")
    unbatched = input.ndim == 1
    if unbatched:
        if target.ndim != 0:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
        input, target = input.unsqueeze(0), target.unsqueeze(0)
    if target.ndim == 0 or input.shape[0] != target.shape[0]:
        raise ValueError(f"Expected input batch_size ({input.shape[0]}) to match target "
                         f"batch_size ({target.shape[0] if target.ndim else 0}).")
    if tuple(target.shape[1:]) != tuple(input.shape[2:]):
        expected = [input.shape[0]] + list(input.shape[2:])
        raise RuntimeError(f"Expected target size {expected}, got {list(target.shape)}")
    if target.dtype.is_floating_point or target.dtype is D.bool_:
        raise RuntimeError(f"expected scalar type Long but found {_legacy(target.dtype)}")
    _check_class_dtype(target)
    c = input.shape[1]
    if weight is not None and weight.numel() != c:
        raise RuntimeError(f"weight tensor should be defined either for all {c} classes or no "
                           f"classes but got weight tensor of shape: {list(weight.shape)}")
    _check_targets(target, c, ignore_index)
    target = target.long() if target.dtype is not D.int64 else target
    ignored = target == ignore_index
    safe = where(ignored, 0, target)
    picked = input.gather(1, safe.unsqueeze(1)).squeeze(1)
    if weight is not None:
        w = where(ignored, 0.0, weight.index_select(0, safe.reshape(-1)).reshape(safe.shape))
    else:
        w = ignored.logical_not().to(input.dtype)
    loss = where(ignored, 0.0, -picked * w)
    if reduction == "none":
        out = loss.squeeze(0) if unbatched else loss
    elif reduction == "sum":
        out = loss.sum()
    else:
        out = loss.sum() / w.sum()
    # torch runs nll_loss2d on (N, C, H, W), and views other N-D inputs onto it
    if input.ndim == 2 or unbatched:
        return named(out, "NllLossBackward0")
    if input.ndim == 4 or reduction != "none":
        return named(out, "NllLoss2DBackward0")
    return named(out, "ViewBackward0")


def _check_class_dtype(target):
    """Class indices are int64 or uint8 in torch; int32 targets raise there (before: they
    silently ran)."""
    dt = target.dtype
    if not dt.is_floating_point and dt not in (D.int64, D.uint8):
        raise RuntimeError(f"expected target dtype to be Long or Byte, but got "
                           f"{D.legacy_name(dt)}")


def _legacy(dt):
    return {"float32": "Float", "float64": "Double", "float16": "Half", "bool": "Bool",
            "int32": "Int", "int64": "Long"}.get(dt.name, dt.name)


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
                  reduction="mean", label_smoothing=0.0):
    """log_softmax over the class dim (1, or 0 unbatched) followed by nll_loss, or by
    -sum(p * log_softmax) for a target of class probabilities (same shape as input)."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: "
                           f"{label_smoothing:g}")
    class_dim = 0 if input.ndim == 1 else 1
    n_classes = input.shape[class_dim]
    if not input.dtype.is_floating_point:
        raise NotImplementedError(f"\"log_softmax_lastdim_kernel_impl\" not implemented for "
                                  f"'{D.legacy_name(input.dtype)}'")
    check_same_device(input, target, *(weight,) if weight is not None else ())
    _check_class_dtype(target)
    if (input.ndim == 2 and target.ndim == 1 and weight is None and label_smoothing == 0.0
            and not target.dtype.is_floating_point and target.dtype is not D.bool_):
        return _cross_entropy_rows(input, target, ignore_index, reduction)
    logp = _act.log_softmax(input, class_dim)
    if target.shape == input.shape and input.ndim:
        if not target.dtype.is_floating_point:
            raise RuntimeError(f"Expected floating point type for target with class "
                               f"probabilities, got {_legacy(target.dtype)}")
        return _soft_cross_entropy(logp, target, weight, reduction, label_smoothing, class_dim,
                                   n_classes)
    if target.dtype.is_floating_point:
        raise RuntimeError(f"expected target dtype to be Long or Byte, but got "
                           f"{_legacy(target.dtype)}")
    nll = nll_loss(logp, target, weight, ignore_index=ignore_index, reduction=reduction)
    if label_smoothing == 0.0:
        return nll
    ignored = target == ignore_index
    if weight is not None:
        shape = [1] * logp.ndim
        shape[class_dim] = n_classes
        smooth = -(logp * weight.reshape(shape)).sum(class_dim)
    else:
        smooth = -logp.sum(class_dim)
    smooth = smooth.masked_fill(ignored, 0.0)
    if reduction == "mean":
        if weight is not None:
            kept = target.masked_select(ignored.logical_not()).reshape(-1).long()
            smooth = smooth.sum() / weight.gather(0, kept).sum()
        else:
            smooth = smooth.sum() / ignored.logical_not().sum()
    elif reduction == "sum":
        smooth = smooth.sum()
    return (1 - label_smoothing) * nll + smooth * (label_smoothing / n_classes)


def _cross_entropy_rows(input, target, ignore_index, reduction):
    """The common case -- (N, C) logits, (N,) class indices, no weight or smoothing -- through
    the fused per-row op (one backend kernel forward and backward where there is one)."""
    if input.shape[0] != target.shape[0]:
        raise ValueError(f"Expected input batch_size ({input.shape[0]}) to match target "
                         f"batch_size ({target.shape[0]}).")
    _check_targets(target, input.shape[1], ignore_index)
    target = target.long() if target.dtype is not D.int64 else target
    rows = _fused.cross_entropy_rows(input, target, ignore_index)
    if reduction == "none":
        return rows
    if reduction == "sum":
        return named(rows.sum(), "NllLossBackward0")
    counted = (target != ignore_index).sum().to(input.dtype)
    return named(rows.sum() / counted, "NllLossBackward0")


def _soft_cross_entropy(logp, target, weight, reduction, label_smoothing, class_dim,
                        n_classes):
    if label_smoothing > 0:
        target = target * (1 - label_smoothing) + label_smoothing / n_classes
    prod = logp * target
    if weight is not None:
        shape = [1] * logp.ndim
        shape[class_dim] = n_classes
        prod = prod * weight.reshape(shape)
    if reduction == "none":
        return -prod.sum(class_dim)
    if reduction == "sum":
        return -prod.sum()
    return named(-prod.sum() / (logp.numel() / n_classes), "DivBackward1")


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None,
                         reduction="mean"):
    """-w (y log x + (1 - y) log(1 - x)), each log clamped at -100 as torch does."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if target.shape != input.shape:
        raise ValueError(f"Using a target size ({target.shape!r}) that is different to the "
                         f"input size ({input.shape!r}) is deprecated. Please ensure they have "
                         "the same size.")
    values = _host_values(input)
    if values is not None and not ((values >= 0) & (values <= 1)).all():    # nan too
        raise RuntimeError("all elements of input should be between 0 and 1")
    values = _host_values(target)
    if values is not None and not ((values >= 0) & (values <= 1)).all():
        raise RuntimeError("all elements of target should be between 0 and 1")
    if weight is not None and weight.shape != input.shape:
        weight = weight.expand(input.shape)
    loss = _losses.binary_cross_entropy(input, target, weight)
    return named(_reduce(loss, reduction), "BinaryCrossEntropyBackward0") \
        if reduction != "none" else loss


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None,
                                     reduction="mean", pos_weight=None):
    """torch's stable form: (1 - y) x - lw * logsigmoid(x), lw = 1 + (pos_weight - 1) y,
    with logsigmoid(x) = min(x, 0) - log1p(exp(-|x|)), finite for any logit."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if target.shape != input.shape:
        raise ValueError(f"Target size ({target.shape!r}) must be the same as input size "
                         f"({input.shape!r})")
    log_sig = log_sigmoid(input)
    if pos_weight is not None:
        log_sig = log_sig * ((pos_weight - 1) * target + 1)
    loss = (1 - target) * input - log_sig
    if weight is not None:
        loss = loss * weight
    return named(_reduce(loss, reduction), "BinaryCrossEntropyWithLogitsBackward0")


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """target * (log target - input), input being log-probabilities; 'batchmean' divides the
    sum by the batch size (the KL definition)."""
    if size_average is not None or reduce is not None:
        reduction = legacy_reduction(size_average, reduce, reduction)
    elif reduction == "mean":
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the "
                      "support size.'batchmean' divides only by the batch size, and aligns with "
                      "the KL div math definition.'mean' will be changed to behave the same as "
                      "'batchmean' in the next major release.", UserWarning, stacklevel=2)
    if reduction not in ("mean", "sum", "none", "batchmean"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if log_target:
        loss = target.exp() * (target - input)
    else:
        # xlogy(t, t) - t * x, with 0 log 0 = 0 (and no nan gradient at t = 0)
        safe = where(target == 0, 1.0, target)
        loss = target * safe.log() - target * input
    if reduction == "batchmean":
        return loss.sum() / input.shape[0] if input.ndim else loss.sum()
    return _reduce(loss, reduction)
