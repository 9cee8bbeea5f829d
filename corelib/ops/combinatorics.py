"""Tensors built from several others: cartesian_prod, block_diag, and the covariance
helpers cov / corrcoef. Compositions (cat, meshgrid, matmul), so gradients come for free."""
from __future__ import annotations

from .. import _dtype as D
from .._tensor import Tensor


def cartesian_prod(*tensors):
    """Every combination of the 1-d inputs' elements, one per row (itertools.product order)."""
    from .._functions import meshgrid, stack
    for t in tensors:
        if t.dim() != 1:
            raise RuntimeError(f"Expect a 1D vector, but got shape {list(t.shape)}")
    if len(tensors) == 1:
        return tensors[0]
    grids = meshgrid(*tensors, indexing="ij")
    return stack([g.reshape(-1) for g in grids], dim=1)


def block_diag(*tensors):
    """The inputs (0-d, 1-d or 2-d) along the diagonal of one matrix, zeros elsewhere."""
    from .._functions import cat, zeros
    mats, dtype, kind = [], None, None
    for i, t in enumerate(tensors):
        k = D.DIM if t.dim() else D.ZERO_DIM          # torch.result_type over the inputs
        if dtype is None:
            dtype, kind = t._dtype, k
        else:
            dtype, kind = D.result_type(dtype, kind, t._dtype, k), min(kind, k)
        if t.dim() > 2:
            raise RuntimeError(f"torch.block_diag: Input tensors must have 2 or fewer "
                               f"dimensions. Input {i} has {t.dim()} dimensions")
        mats.append(t.reshape(1, -1) if t.dim() < 2 else t)
    if not mats:
        return zeros(1, 0)
    width = sum(m.shape[1] for m in mats)
    device = mats[0].device
    rows, left = [], 0
    for m in mats:
        r, c = m.shape
        parts = [zeros(r, left, dtype=dtype, device=device), m.to(dtype),
                 zeros(r, width - left - c, dtype=dtype, device=device)]
        rows.append(cat(parts, 1))
        left += c
    return cat(rows, 0)


def cov(input, *, correction=1, fweights=None, aweights=None):
    """Covariance of the variables in the rows of ``input`` (observations in columns), with
    optional integer frequency and float observation weights, as numpy.cov/torch.cov."""
    if input.dim() > 2:
        raise ValueError(f"cov(): expected input to have two or fewer dimensions but got an "
                         f"input with {input.dim()} dimensions")
    x = input.reshape(1, -1) if input.dim() < 2 else input
    n_obs = x.shape[1]
    w = None
    if fweights is not None:
        if fweights.dim() > 1 or fweights.numel() != n_obs:
            raise RuntimeError(f"cov(): expected fweights to have one dimension and the same "
                               f"size as input's number of observations ({n_obs})")
        if fweights._dtype.is_floating_point or fweights._dtype.is_complex:
            raise RuntimeError(f"cov(): expected fweights to have integral dtype but got "
                               f"fweights with {D.legacy_name(fweights._dtype)} dtype")
        if fweights.numel() and bool(fweights.min() < 0):
            raise RuntimeError("cov(): fweights cannot be negative")
        w = fweights
    if aweights is not None:
        if aweights.dim() > 1 or aweights.numel() != n_obs:
            raise RuntimeError(f"cov(): expected aweights to have one dimension and the same "
                               f"size as input's number of observations ({n_obs})")
        if not aweights._dtype.is_floating_point:
            raise RuntimeError(f"cov(): expected aweights to have floating point dtype but got "
                               f"aweights with {D.legacy_name(aweights._dtype)} dtype")
        if aweights.numel() and bool(aweights.min() < 0):
            raise RuntimeError("cov(): aweights cannot be negative")
        w = aweights if w is None else w * aweights
    if not (x._dtype.is_floating_point or x._dtype.is_complex):
        x = x.to(D.get_default_dtype())
    if w is None:
        w_sum = x.new_full((), n_obs)
        avg = x.mean(1)
    else:
        w = w.to(x._dtype)
        w_sum = w.sum()
        avg = (x * w).sum(1) / w_sum
    if w is None:
        norm = w_sum - correction
    elif correction == 0:
        norm = w_sum
    elif aweights is None:
        norm = w_sum - correction
    else:
        norm = w_sum - correction * (w * aweights.to(x._dtype)).sum() / w_sum
    norm = norm.clamp(min=0)
    xm = x - avg.unsqueeze(1)
    xw = xm if w is None else xm * w
    c = xw.matmul(xm.transpose(0, 1).conj()) / norm
    return c.squeeze() if input.dim() < 2 else c


def corrcoef(input):
    """Pearson correlation coefficients of the rows of ``input``, clipped to [-1, 1]."""
    if input.dim() > 2:
        raise ValueError(f"corrcoef(): expected input to have two or fewer dimensions but got "
                         f"an input with {input.dim()} dimensions")
    c = cov(input)
    if c.dim() == 0:
        return c / c
    d = c.diagonal()
    std = d.sqrt() if not d._dtype.is_complex else d.real.sqrt()
    c = c / std.unsqueeze(1) / std.unsqueeze(0)
    return c.clamp(-1, 1) if not c._dtype.is_complex else c


__all__ = ["cartesian_prod", "block_diag", "cov", "corrcoef"]
