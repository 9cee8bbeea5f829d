"""The batched Cholesky factor and triangular solves MultivariateNormal needs, written in
frontend ops (so gradients and every backend come with them).

Private on purpose: public ``torch.linalg`` is another part of issue 19; once it lands these
become calls to ``linalg.cholesky`` / ``linalg.solve_triangular``. Each loop runs over the
matrix size n (one batched matvec per column or row), which suits the small event sizes
distributions use.
"""
from __future__ import annotations

import plugrad as torch


def cholesky(a):
    """Lower L with L L^T = a over the last two dims (nan where a is not positive definite).
    Reads the lower triangle of (a + a^T) / 2 -- equal to a when a is symmetric -- so the
    gradient is symmetric, as torch's cholesky backward."""
    a = (a + a.mT) * 0.5
    n = a.shape[-1]
    rows = torch.arange(n, device=a.device)
    cols = []
    for j in range(n):
        v = a[..., :, j]
        if j:
            prev = torch.stack(cols, -1)                              # (..., n, j)
            v = v - (prev @ prev[..., j, :].unsqueeze(-1)).squeeze(-1)
        d = v[..., j:j + 1].sqrt()
        cols.append(torch.where(rows >= j, v / d, 0.0))
    return torch.stack(cols, -1)


def solve_lower(l, b):
    """x with l x = b for lower-triangular l (..., n, n) and b (..., n, k)."""
    n = l.shape[-1]
    xs = []
    for i in range(n):
        r = b[..., i, :]
        if i:
            prev = torch.stack(xs, -2)                               # (..., i, k)
            r = r - (l[..., i:i + 1, :i] @ prev).squeeze(-2)
        xs.append(r / l[..., i, i:i + 1])
    return torch.stack(xs, -2)


def solve_upper(u, b):
    """x with u x = b for upper-triangular u (..., n, n) and b (..., n, k)."""
    n = u.shape[-1]
    xs = [None] * n
    for i in range(n - 1, -1, -1):
        r = b[..., i, :]
        if i < n - 1:
            prev = torch.stack(xs[i + 1:], -2)                       # (..., n-i-1, k)
            r = r - (u[..., i:i + 1, i + 1:] @ prev).squeeze(-2)
        xs[i] = r / u[..., i, i:i + 1]
    return torch.stack(xs, -2)


def lower_inverse(l):
    """l^{-1} of a lower-triangular l."""
    eye = torch.eye(l.shape[-1], dtype=l.dtype, device=l.device)
    return solve_lower(l, eye.expand(l.shape))


def precision_to_scale_tril(p):
    """The lower Cholesky factor of p^{-1} without forming the inverse (torch's route: the
    Cholesky factor of p with rows and columns reversed)."""
    lf = cholesky(torch.flip(p, (-2, -1)))
    l_inv = torch.flip(lf, (-2, -1)).transpose(-2, -1)
    return lower_inverse(l_inv)


def batch_mahalanobis(bl, bx):
    """x^T (L L^T)^{-1} x over the batch: the squared norm of L^{-1} x."""
    lead = torch.broadcast_shapes(bl.shape[:-2], bx.shape[:-1])
    n = bl.shape[-1]
    sol = solve_lower(bl.expand(lead + (n, n)), bx.expand(lead + (n,)).unsqueeze(-1))
    return sol.squeeze(-1).pow(2).sum(-1)
