"""matmul and addmm_act on cuda.

Batched matmul is one cuBLAS strided-batched GEMM, without CuPy's operand copies.

``cupy.matmul`` with more than two dimensions first makes both operands C-contiguous in the
computation dtype (``ascontiguousarray(a, dtype)`` in cupy/_core/_routines_linalg.pyx): an
attention score ``q @ k.transpose(-2, -1)`` copies ``k``, and float16 operands are copied to
float32 and the result copied back. cuBLAS reads either memory order itself (its ``transa``/
``transb``) and multiplies half with float32 accumulation (``CUBLAS_COMPUTE_32F``, what torch
does), so :func:`plan` maps the operands' strides onto one ``cublasGemmStridedBatchedEx``
call; layouts it cannot express (batch axes that do not fold into one stride, negative or
unaligned strides, integer dtypes, 1-d operands) keep ``cupy.matmul``. ``addmm_act``: cuBLAS
GEMM, then one epilogue kernel for bias + relu/gelu (3 -> 2 launches).
"""
from __future__ import annotations

import math

import numpy

from .templates import FUSED_DTYPES

# cuBLAS / CUDA library enums (cublas_api.h, library_types.h)
OP_N, OP_T = 0, 1
CUDA_R = {"float16": 2, "float32": 0, "float64": 1}
COMPUTE = {"float16": 68, "float32": 68, "float64": 70}   # CUBLAS_COMPUTE_32F / _64F
GEMM_DEFAULT = -1
_SCALAR = {"float16": numpy.float32, "float32": numpy.float32, "float64": numpy.float64}


def _matrix(rows, cols, s_row, s_col):
    """(op, ld) making cuBLAS's column-major operand the transpose of the row-major
    ``rows x cols`` matrix with element strides (s_row, s_col); None if it cannot."""
    if (s_col == 1 or cols == 1) and (rows == 1 or s_row >= max(1, cols)):
        return OP_N, (s_row if rows > 1 else max(1, cols))
    if (s_row == 1 or rows == 1) and (cols == 1 or s_col >= max(1, rows)):
        return OP_T, (s_col if cols > 1 else max(1, rows))
    return None


def _batch_stride(batch_shape, shape, strides):
    """The one element stride walking ``shape``/``strides`` (an operand's batch axes, padded
    with 1s and broadcast to ``batch_shape``) in flat batch order; None if there is none."""
    axes = [(n, s if m != 1 else 0) for n, m, s in zip(batch_shape, shape, strides) if n != 1]
    if not axes:
        return 0
    for (n0, s0), (n1, s1) in zip(axes, axes[1:]):
        if s0 != s1 * n1:
            return None
    return axes[-1][1]


def plan(a_shape, a_strides, b_shape, b_strides):
    """cuBLAS arguments for C = A @ B (row-major, C fresh and C-contiguous), strides in
    elements, or None. C row-major is C^T column-major = B^T A^T: cuBLAS's "A" is B."""
    if len(a_shape) < 2 or len(b_shape) < 2:
        return None
    if any(s < 0 for s in a_strides + b_strides):
        return None
    m, k = a_shape[-2:]
    k2, n = b_shape[-2:]
    if k != k2:
        return None
    ndim = max(len(a_shape), len(b_shape)) - 2
    pad = lambda t, fill: (fill,) * (ndim - len(t) + 2) + tuple(t[:-2])   # noqa: E731
    a_batch, b_batch = pad(a_shape, 1), pad(b_shape, 1)
    try:
        batch_shape = numpy.broadcast_shapes(a_batch, b_batch)
    except ValueError:
        return None
    stride_a = _batch_stride(batch_shape, a_batch, pad(a_strides, 0))
    stride_b = _batch_stride(batch_shape, b_batch, pad(b_strides, 0))
    op_b = _matrix(k, n, *b_strides[-2:])
    op_a = _matrix(m, k, *a_strides[-2:])
    if stride_a is None or stride_b is None or op_a is None or op_b is None:
        return None
    return {"transa": op_b[0], "transb": op_a[0], "m": n, "n": m, "k": k,
            "lda": op_b[1], "strideA": stride_b, "ldb": op_a[1], "strideB": stride_a,
            "ldc": max(1, n), "strideC": m * n, "batch": math.prod(batch_shape),
            "out_shape": tuple(batch_shape) + (m, n)}


class Linalg:
    """Mixed in before the array-module backend; needs ``self.cupy``."""

    def matmul(self, a, b):
        cp = self.cupy
        dtype = a.dtype.name
        if a.ndim <= 2 or b.ndim < 2 or a.dtype != b.dtype or dtype not in CUDA_R:
            return cp.matmul(a, b)
        size = a.itemsize
        if any(s % size for s in a.strides + b.strides):
            return cp.matmul(a, b)
        p = plan(a.shape, tuple(s // size for s in a.strides), b.shape,
                 tuple(s // size for s in b.strides))
        if p is None:
            return cp.matmul(a, b)
        out = cp.empty(p["out_shape"], a.dtype)
        if out.size == 0:
            return out
        if p["k"] == 0:
            out.fill(0)
            return out
        from cupy_backends.cuda.libs import cublas
        scalar = _SCALAR[dtype]
        one, zero = numpy.ones(1, scalar), numpy.zeros(1, scalar)
        cublas.gemmStridedBatchedEx(
            cp.cuda.device.get_cublas_handle(), p["transa"], p["transb"], p["m"], p["n"],
            p["k"], one.ctypes.data, b.data.ptr, CUDA_R[dtype], p["lda"], p["strideA"],
            a.data.ptr, CUDA_R[dtype], p["ldb"], p["strideB"], zero.ctypes.data,
            out.data.ptr, CUDA_R[dtype], p["ldc"], p["strideC"], p["batch"], COMPUTE[dtype],
            GEMM_DEFAULT)
        return out

    def addmm_act(self, bias, m1, m2, act):
        if m1.dtype.name not in FUSED_DTYPES:
            return super().addmm_act(bias, m1, m2, act)
        out = self.cupy.matmul(m1, m2)
        self._kernels.elementwise(f"bias_{act}")(bias, out)
        return out
