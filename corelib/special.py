"""``torch.special``: the special functions plugrad computes exactly, under torch's names.

Each is an existing frontend op (so gradients and every backend come with it); the ones with
no ``torch.*`` spelling (xlog1py, entr, ndtr, log_ndtr, ndtri) live in :mod:`plugrad.ops.special`
(with erfc and erfinv).
The gamma family (gammaln, digamma/psi, polygamma, multigammaln, zeta) lives in
:mod:`plugrad.ops.gamma`, i0/i0e/i1/i1e in :mod:`plugrad.ops.bessel`, the other Bessel
functions in :mod:`plugrad.ops.bessel_kinds`, gammainc/gammaincc in :mod:`plugrad.ops.igamma`.
Not here yet: airy_ai and the orthogonal polynomials.
"""
from __future__ import annotations

from .ops.bessel import i0, i0e, i1, i1e
from .ops.bessel_kinds import (bessel_j0, bessel_j1, bessel_y0, bessel_y1, modified_bessel_i0,
                               modified_bessel_i1, modified_bessel_k0, modified_bessel_k1,
                               scaled_modified_bessel_k0, scaled_modified_bessel_k1,
                               spherical_bessel_j0)
from .ops.igamma import gammainc, gammaincc
from .ops.gamma import digamma, lgamma as gammaln, mvlgamma as multigammaln, polygamma, zeta
from .ops.activation import log_softmax as _log_softmax, softmax as _softmax
from .ops.math_extra import logit, sinc, xlogy
from .ops.reduce import logsumexp
from .ops.special import entr, erfc, erfcx, erfinv, log_ndtr, ndtr, ndtri, xlog1py
from .ops.unary import erf, exp2, expm1, log1p, round, sigmoid as expit  # noqa: A004


def softmax(input, dim, *, dtype=None):
    """torch.special.softmax: ``dim`` is required here (no implicit-dim warning path)."""
    return _softmax(input, dim, dtype=dtype)


def log_softmax(input, dim, *, dtype=None):
    """log(softmax(input, dim)), computed stably; ``dtype`` casts input first."""
    return _log_softmax(input, dim, dtype=dtype)


psi = digamma

__all__ = ["bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1", "modified_bessel_i0",
           "modified_bessel_i1", "modified_bessel_k0", "modified_bessel_k1",
           "scaled_modified_bessel_k0", "scaled_modified_bessel_k1", "spherical_bessel_j0",
           "erfcx", "i0", "i0e", "i1", "i1e", "digamma", "gammainc", "gammaincc", "gammaln", "multigammaln", "polygamma", "psi", "zeta", "entr", "erf", "erfc", "erfinv", "exp2", "expit", "expm1", "log1p", "log_ndtr", "log_softmax",
           "logit", "logsumexp", "ndtr", "ndtri", "round", "sinc", "softmax", "xlog1py", "xlogy"]
