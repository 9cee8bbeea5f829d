"""``torch.linalg``: decompositions, solvers, inverses, norms and products under torch's names.

The factorizations are contract kernels (``linalg_cholesky``, ``linalg_qr``, ... : numpy's
LAPACK on cpu, CuPy's cuSOLVER on cuda, the cpu backend for backends without them, such as
opencl); everything else is composed from them in :mod:`plugrad.ops.linalg_compose`.
Gradients are torch's formulas (:mod:`plugrad.ops.decomp`).
"""
from __future__ import annotations

from .ops.decomp import (LinAlgError, cholesky, cholesky_ex, det, eig, eigh, eigvals, eigvalsh,
                         inv, inv_ex,
                         qr, slogdet, solve, solve_ex, solve_triangular, svd, svdvals)
from .ops.linalg import matmul
from .ops.lu import lu, lu_factor, lu_factor_ex, lu_solve
from .ops.matrix_functions import linalg_vander as vander, matrix_exp, tensorinv, tensorsolve
from .ops.linalg_compose import (cond, cross, diagonal, householder_product, lstsq,
                                 matrix_norm, matrix_power, matrix_rank, multi_dot, norm, pinv,
                                 vecdot, vector_norm)

__all__ = ["LinAlgError", "cholesky", "cholesky_ex", "cond", "cross", "det", "diagonal",
           "eig", "eigvals", "eigh", "eigvalsh", "householder_product", "inv", "inv_ex", "lstsq", "lu", "lu_factor",
           "lu_factor_ex", "lu_solve", "matmul", "matrix_exp",
           "matrix_norm", "matrix_power", "matrix_rank", "multi_dot", "norm", "pinv", "qr",
           "slogdet", "solve", "solve_ex", "solve_triangular", "svd", "svdvals", "tensorinv", "tensorsolve", "vander",
           "vecdot", "vector_norm"]
