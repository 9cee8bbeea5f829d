"""The decomposition kernels of torch.linalg over ``xp.linalg`` (numpy's LAPACK, CuPy's cuSOLVER).

Both array modules factor whole batches in one call. Failures (a singular matrix, one that is
not positive-definite) are reported the contract's way, as LAPACK ``info`` codes per matrix:
numpy raises for the whole batch and CuPy returns nan silently, so on that rare path the
offending matrices are looked at one by one on the host to find each code.
"""
from __future__ import annotations

import contextlib

import numpy


def _lu_zero_pivot(m) -> int:
    """getrf's info for one host matrix: 1 + the column whose partially pivoted pivot is 0."""
    m = numpy.array(m, dtype=numpy.float64 if m.dtype.kind == "f" else numpy.complex128)
    n = m.shape[-1]
    for k in range(n):
        p = k + int(numpy.argmax(numpy.abs(m[k:, k])))
        if m[p, k] == 0:
            return k + 1
        m[[k, p]] = m[[p, k]]
        m[k + 1:, k:] -= numpy.outer(m[k + 1:, k] / m[k, k], m[k, k:])
    return 0


def _cholesky_failure(m) -> int:
    """potrf's info for one host matrix: the order of its first leading minor that is not
    positive-definite (0 when the whole matrix is)."""
    m = numpy.asarray(m)
    for k in range(1, m.shape[-1] + 1):
        try:
            numpy.linalg.cholesky(m[:k, :k])
        except numpy.linalg.LinAlgError:
            return k
        if not numpy.isfinite(numpy.linalg.cholesky(m[:k, :k])).all():
            return k
    return 0


class Decompositions:
    """Needs ``self.xp``; ``self._host(x)`` copies a buffer to numpy (runtime's to_host)."""

    # ----------------------------------------------------------------- helpers
    def _raising(self):
        """A context in which the array module raises LinAlgError for a failed factorization:
        numpy always does; CuPy only inside ``cupyx.errstate(linalg='raise')`` (else it
        leaves unspecified values, finite or not)."""
        if self.xp is numpy:
            return contextlib.nullcontext()
        try:
            import cupyx
        except ImportError:
            return contextlib.nullcontext()
        return cupyx.errstate(linalg="raise")

    def _batch_info(self, a, finite, fails):
        """An int32 info buffer of a's batch shape: ``fails(host matrix)`` for each matrix
        whose result was not finite (``finite`` is a bool buffer of the batch shape)."""
        xp = self.xp
        shape = a.shape[:-2]
        ok = numpy.asarray(self.to_host(finite)).reshape(-1)
        info = numpy.zeros(ok.shape, numpy.int32)
        if not ok.all():
            host = numpy.asarray(self.to_host(a)).reshape((-1,) + a.shape[-2:])
            for i in numpy.flatnonzero(~ok):
                info[i] = fails(host[i])
        return xp.asarray(info.reshape(shape))

    def _guarded(self, fn, a, fallback_shape):
        """fn(a), or nan-filled results of the same shapes when the array module raises
        LinAlgError for the batch (numpy): the info codes then say which matrix failed."""
        xp = self.xp
        try:
            with self._raising():
                return fn(a)
        except Exception as exc:        # numpy.linalg.LinAlgError, cupy's under _raising
            if type(exc).__name__ != "LinAlgError":
                raise
        host = numpy.asarray(self.to_host(a))
        outs = [numpy.full(s, numpy.nan, host.dtype) for s in fallback_shape]
        flat = host.reshape((-1,) + host.shape[-2:])
        for i, m in enumerate(flat):
            try:
                with self._raising():
                    res = fn(xp.asarray(m))
            except Exception as exc:
                if type(exc).__name__ != "LinAlgError":
                    raise
                continue
            res = res if isinstance(res, tuple) else (res,)
            for o, r in zip(outs, res):
                o.reshape((-1,) + o.shape[len(host.shape) - 2:])[i] = numpy.asarray(
                    self.to_host(r))
        outs = tuple(xp.asarray(o) for o in outs)
        return outs if len(outs) > 1 else outs[0]

    def _finite_batch(self, x):
        xp = self.xp
        return xp.isfinite(x).all(axis=(-2, -1)) if x.ndim >= 2 else xp.isfinite(x)

    # ----------------------------------------------------------------- kernels
    def linalg_cholesky(self, a, upper):
        xp = self.xp
        factor = self._guarded(xp.linalg.cholesky, a, (a.shape,))
        info = self._batch_info(a, self._finite_batch(factor), _cholesky_failure)
        if upper:
            factor = xp.conj(xp.swapaxes(factor, -1, -2))
        return xp.ascontiguousarray(factor), info

    def linalg_inv(self, a):
        xp = self.xp
        inv = self._guarded(xp.linalg.inv, a, (a.shape,))
        return inv, self._batch_info(a, self._finite_batch(inv), _lu_zero_pivot)

    def linalg_solve(self, a, b):
        xp = self.xp
        x = self._guarded(lambda m: xp.linalg.solve(m, b), a, (b.shape,)) \
            if a.ndim == 2 else self._solve_batched(a, b)
        return x, self._batch_info(a, self._finite_batch(x), _lu_zero_pivot)

    def _solve_batched(self, a, b):
        xp = self.xp
        try:
            with self._raising():
                return xp.linalg.solve(a, b)
        except Exception as exc:
            if type(exc).__name__ != "LinAlgError":
                raise
        out = numpy.full(b.shape, numpy.nan, numpy.asarray(self.to_host(b)).dtype)
        ha = numpy.asarray(self.to_host(a)).reshape((-1,) + a.shape[-2:])
        hb = numpy.asarray(self.to_host(b)).reshape((-1,) + b.shape[-2:])
        flat = out.reshape((-1,) + b.shape[-2:])
        for i in range(ha.shape[0]):
            try:
                flat[i] = numpy.linalg.solve(ha[i], hb[i])
            except numpy.linalg.LinAlgError:
                pass
        return xp.asarray(out)

    def linalg_slogdet(self, a):
        sign, logabs = self.xp.linalg.slogdet(a)
        return sign.astype(a.dtype, copy=False), logabs.astype(a.real.dtype, copy=False)

    def linalg_det(self, a):
        return self.xp.linalg.det(a).astype(a.dtype, copy=False)

    def linalg_qr(self, a, mode):
        xp = self.xp
        if mode == "r":
            return xp.empty((0,), a.dtype), xp.ascontiguousarray(xp.linalg.qr(a, mode="r"))
        q, r = xp.linalg.qr(a, mode=mode)
        return xp.ascontiguousarray(q), xp.ascontiguousarray(r)

    def linalg_svd(self, a, full_matrices):
        xp = self.xp
        if 0 in a.shape[-2:]:       # LAPACK refuses empty matrices; the answer is known
            m, n = a.shape[-2:]
            k = min(m, n)
            eye = lambda s: xp.broadcast_to(xp.eye(s, dtype=a.dtype), a.shape[:-2] + (s, s))
            u = eye(m) if full_matrices else xp.zeros(a.shape[:-2] + (m, k), a.dtype)
            vh = eye(n) if full_matrices else xp.zeros(a.shape[:-2] + (k, n), a.dtype)
            return (xp.ascontiguousarray(u), xp.zeros(a.shape[:-2] + (k,), a.real.dtype),
                    xp.ascontiguousarray(vh))
        u, s, vh = xp.linalg.svd(a, full_matrices=full_matrices)
        return xp.ascontiguousarray(u), s, xp.ascontiguousarray(vh)

    def linalg_svdvals(self, a):
        xp = self.xp
        if 0 in a.shape[-2:]:
            return xp.zeros(a.shape[:-2] + (min(a.shape[-2:]),), a.real.dtype)
        return xp.linalg.svd(a, compute_uv=False)

    def linalg_eigh(self, a, upper):
        w, v = self.xp.linalg.eigh(a, UPLO="U" if upper else "L")
        return w, self.xp.ascontiguousarray(v)

    def linalg_eigvalsh(self, a, upper):
        return self.xp.linalg.eigvalsh(a, UPLO="U" if upper else "L")

    def linalg_eig(self, a):
        xp = self.xp
        cdt = xp.complex64 if a.dtype in (xp.float32, xp.complex64) else xp.complex128
        w, v = xp.linalg.eig(a)     # real arrays when every eigenvalue is real: made complex
        return w.astype(cdt, copy=False), xp.ascontiguousarray(v.astype(cdt, copy=False))

    def linalg_lu_factor(self, a):
        """getrf's right-looking elimination, one column at a time over the whole batch."""
        xp = self.xp
        m, n = a.shape[-2:]
        k = min(m, n)
        lu = xp.array(a, copy=True).reshape((-1, m, n))
        count = lu.shape[0]
        pivots = xp.zeros((count, k), xp.int32)
        info = xp.zeros((count,), xp.int32)
        rows = xp.arange(count)
        for j in range(k):
            col = lu[:, j:, j]
            size = xp.abs(col.real) + xp.abs(col.imag) if xp.iscomplexobj(col) else xp.abs(col)
            p = j + xp.argmax(size, axis=1)
            pivots[:, j] = p + 1
            top, other = lu[rows, j, :].copy(), lu[rows, p, :].copy()
            lu[rows, p, :] = top
            lu[rows, j, :] = other
            pivot = lu[:, j, j]
            zero = pivot == 0
            info = xp.where(zero & (info == 0), j + 1, info).astype(xp.int32)
            scale = xp.where(zero, 1, pivot)[:, None]
            lu[:, j + 1:, j] = lu[:, j + 1:, j] / scale
            lu[:, j + 1:, j + 1:] -= lu[:, j + 1:, j, None] * lu[:, j, None, j + 1:]
        batch = a.shape[:-2]
        return (lu.reshape(a.shape), pivots.reshape(batch + (k,)),
                info.reshape(batch))

    def linalg_solve_triangular(self, a, b, upper, left, unitriangular):
        xp = self.xp
        if not left:        # x a = b  <=>  a^T x^T = b^T
            xt = self.linalg_solve_triangular(xp.swapaxes(a, -1, -2), xp.swapaxes(b, -1, -2),
                                              not upper, True, unitriangular)
            return xp.ascontiguousarray(xp.swapaxes(xt, -1, -2))
        solve = self._triangular_solver()
        if solve is not None:
            return xp.ascontiguousarray(solve(a, b, lower=not upper,
                                              unit_diagonal=unitriangular))
        tri = xp.triu(a) if upper else xp.tril(a)
        if unitriangular:
            n = a.shape[-1]
            eye = xp.eye(n, dtype=a.dtype)
            tri = tri * (1 - eye) + eye
        return xp.linalg.solve(tri, b)

    def _triangular_solver(self):
        """scipy's (or cupyx's) batched ``solve_triangular`` when installed, else None
        (then a general solve of the masked triangle, same values to rounding)."""
        cached = getattr(self, "_tri_solver", False)
        if cached is not False:
            return cached
        solver = None
        try:
            if self.xp is numpy:
                from scipy.linalg import solve_triangular as solver
            else:
                from cupyx.scipy.linalg import solve_triangular as single

                def solver(a, b, lower, unit_diagonal):
                    if a.ndim == 2:
                        return single(a, b, lower=lower, unit_diagonal=unit_diagonal)
                    xp = self.xp
                    fa = a.reshape((-1,) + a.shape[-2:])
                    fb = b.reshape((-1,) + b.shape[-2:])
                    out = xp.stack([single(fa[i], fb[i], lower=lower,
                                           unit_diagonal=unit_diagonal)
                                    for i in range(fa.shape[0])])
                    return out.reshape(b.shape)
        except ImportError:
            solver = None
        self._tri_solver = solver
        return solver
