"""quantile / nanquantile: torch's algorithm (sort, fractional ranks, gather, lerp), composed
of frontend ops so gradients flow to the selected elements as torch's do."""
from __future__ import annotations

from .. import _dtype as D
from .._tensor import Tensor, _wrap_dim
from .inplace import write_out

_MODES = ("linear", "lower", "higher", "midpoint", "nearest")


def _quantile(input, q, dim, keepdim, interpolation, ignore_nan, out):
    if input.numel() == 0:
        raise RuntimeError("quantile() input tensor must be non-empty")
    if input._dtype not in (D.float32, D.float64):
        raise RuntimeError("quantile() input tensor must be either float or double dtype")
    if interpolation not in _MODES:
        raise RuntimeError(f"quantile() interpolation must be one of linear, lower, higher, "
                           f"midpoint or nearest, but got {interpolation}")
    if isinstance(q, Tensor):
        if q.dim() > 1:
            raise RuntimeError("quantile() q must be a scalar or 1D tensor")
        if q._dtype is not input._dtype:
            raise RuntimeError("quantile() q tensor must be same dtype as the input tensor")
        if q.numel() and bool(((q < 0).logical_or(q > 1)).any()):
            raise RuntimeError("quantile() q values must be in the range [0, 1]")
        qt = q.to(input.device)
    else:
        if not 0 <= q <= 1:
            raise RuntimeError(f"quantile() q must be in the range [0, 1] but got {q:g}")
        qt = input.new_full((), float(q)).detach()
    if dim is None:
        x = input.reshape(-1)
        kept = [1] * input.dim() if keepdim else []
    else:
        d = _wrap_dim(dim, input.dim())
        x = input.movedim(d, -1)
        kept = list(input.shape)
        kept[d] = 1
        if not keepdim:
            kept.pop(d)
    lead = list(x.shape[:-1])
    n = x.shape[-1]
    sorted_x = x.sort(-1).values                            # nan sorts last
    qv = qt.reshape(-1)
    nq = qv.shape[0]
    nans = x.isnan()
    last = (n - 1) if not ignore_nan else None
    if ignore_nan:
        valid = nans.logical_not().sum(-1, keepdim=True)
        last_idx = (valid - 1).to(input._dtype)
        ranks = qv * last_idx                               # (..., nq)
        ranks = ranks.where(valid > 0, float(n - 1))
    else:
        ranks = (qv * float(last)).expand(lead + [nq])
        ranks = ranks.where(nans.any(-1, keepdim=True).logical_not(), float(n - 1))
    if interpolation == "lower":
        ranks = ranks.floor()
    elif interpolation == "higher":
        ranks = ranks.ceil()
    elif interpolation == "nearest":
        ranks = ranks.round()
    below = ranks.to(D.int64)
    values = sorted_x.gather(-1, below)
    if interpolation in ("linear", "midpoint"):
        weights = (ranks - below.to(ranks._dtype) if interpolation == "linear"
                   else ranks.new_full(ranks.shape, 0.5))
        above = sorted_x.gather(-1, ranks.ceil().to(D.int64))
        values = values.lerp(above, weights)
    res = values.movedim(-1, 0).reshape([nq] + kept)
    if not isinstance(q, Tensor) or q.dim() == 0:
        res = res.reshape(kept)
    return res if out is None else write_out(out, res)


def quantile(input, q, dim=None, keepdim=False, *, interpolation="linear", out=None):
    """The q-th quantiles of ``input`` (along ``dim``); nan where a slice holds nan."""
    return _quantile(input, q, dim, keepdim, interpolation, False, out)


def nanquantile(input, q, dim=None, keepdim=False, *, interpolation="linear", out=None):
    """quantile ignoring nan (nan only where a slice is all nan)."""
    return _quantile(input, q, dim, keepdim, interpolation, True, out)


__all__ = ["quantile", "nanquantile"]
