"""Tier 3 of the contract: optional fused kernels.

The frontend uses one when the backend (or a kernel plugin, see ``plugrad_kernels``) has it,
and composes the same result from primitives otherwise, silently.
"""
from __future__ import annotations

from ._spec import Buf, DType, Pair, Sequence, Shape, kernel


# ------------------------------------------------------------------------ view

@kernel("view")
def as_strided(x: Buf, shape: Shape, strides: tuple, offset: int) -> Buf:
    """A view (writes reach x) whose element idx is x's first element + offset +
    sum(idx[i] * strides[i]), counted in elements; the caller keeps every element inside x's
    own extent (torch's diagonal, unfold, as_strided). Absent: those ops return copies."""


# ---------------------------------------------------------------------- linalg

@kernel("linalg")
def matmul(a: Buf, b: Buf) -> Buf:
    """a (..., n, k) @ b (..., k, m), both >= 2-D, batch dims broadcast.
    Composed from mul+sum when absent."""


# ---------------------------------------------------------------------- conv

@kernel("conv")
def conv2d(x: Buf, w: Buf, stride: Pair, padding: Pair, dilation: Pair, groups: int) -> Buf:
    """Cross-correlation, NCHW input, (Cout, Cin/groups, kh, kw) weight, pairs
    of ints, no bias."""


@kernel("conv")
def conv2d_input_grad(
        grad: Buf, w: Buf, x_shape: Shape, stride: Pair, padding: Pair, dilation: Pair,
        groups: int
) -> Buf:
    """Gradient of conv2d with respect to its input (a transposed convolution)."""


@kernel("conv")
def conv2d_weight_grad(
        x: Buf, grad: Buf, w_shape: Shape, stride: Pair, padding: Pair, dilation: Pair,
        groups: int
) -> Buf:
    """Gradient of conv2d with respect to its weight."""


# ---------------------------------------------------------------------- linalg

@kernel("linalg")
def addmm_act(bias: Buf, m1: Buf, m2: Buf, act: str) -> Buf:
    """act(m1 @ m2 + bias) for 2-D m1 (n, k) and m2 (k, m), bias broadcastable
    to (n, m); act is 'none', 'relu' or 'gelu' (erf form). Lets a GPU backend fuse the bias
    add and activation into one epilogue after the GEMM (torch's _addmm_activation).
    Composed from matmul, add and relu/gelu when absent."""


# ---------------------------------------------------------------------- activation

@kernel("activation")
def softmax(x: Buf, axis: int) -> Buf:
    """exp(x - max) / sum, along one axis."""


@kernel("activation")
def log_softmax(x: Buf, axis: int) -> Buf:
    """x - max - log(sum(exp(x - max))), along one axis."""


@kernel("activation")
def gelu(x: Buf) -> tuple[Buf, Buf]:
    """(out, cdf) of torch's exact gelu for float32/float64 x: e = erf(x * 0.7071067811865476),
    out = x * 0.5 * (1 + e), cdf = (1 + e) * 0.5, in that order in x's dtype (the frontend
    runs half in float32). cdf is what gelu_backward reads, so erf runs once a step.
    Composed from mul, erf and add (and their gradients) when absent."""


@kernel("activation")
def gelu_backward(g: Buf, x: Buf, cdf: Buf) -> Buf:
    """torch's GeluBackward: g * (cdf + x * (0.3989422804014327 * exp(x * x * -0.5))) in x's
    dtype, with cdf from gelu(x); g has x's shape and dtype."""


# ---------------------------------------------------------------------- norm

@kernel("norm")
def layer_norm(x: Buf, weight: Buf | None, bias: Buf | None, n: int, eps: float
               ) -> tuple[Buf, Buf, Buf]:
    """(out, mean, rstd) of torch's native_layer_norm for float32/float64 x read as rows of
    its last n elements (x.size a multiple of n): mean and rstd = 1 / sqrt(biased variance +
    eps) per row, (rows,) in x's dtype; out = (x * rstd + (-mean * rstd)) * weight + bias in
    x's shape, weight and bias of n elements or None (left out of the formula).
    Composed from mean, var and elementwise ops when absent."""


@kernel("norm")
def layer_norm_backward(g: Buf, x: Buf, weight: Buf | None, mean: Buf, rstd: Buf, n: int
                        ) -> tuple[Buf, Buf, Buf]:
    """(dx, dweight, dbias) of layer_norm, g in x's shape and dtype, mean and rstd from
    layer_norm: with gw = g * weight (g without weight) and xhat = x * rstd - mean * rstd per
    row, dx = rstd * (gw - mean_row(gw) - xhat * mean_row(gw * xhat)); dweight = sum over rows
    of g * xhat and dbias = sum over rows of g, both (n,)."""


@kernel("norm")
def batch_norm(x: Buf, weight: Buf | None, bias: Buf | None, eps: float
               ) -> tuple[Buf, Buf, Buf]:
    """(out, mean, var) of torch's training-mode batch norm for float32/float64 x of >= 2
    dims, channels on axis 1: per-channel mean and biased variance, (C,) in x's dtype; with
    invstd = 1 / sqrt(var + eps), alpha = invstd * weight (invstd without weight), beta =
    bias - mean * alpha (-mean * alpha without bias), out = x * alpha + beta (torch's order).
    Composed from mean, var and elementwise ops when absent."""


@kernel("norm")
def batch_norm_backward(g: Buf, x: Buf, weight: Buf | None, mean: Buf, var: Buf, eps: float
                        ) -> tuple[Buf, Buf, Buf]:
    """(dx, dweight, dbias) of batch_norm in training mode, g in x's shape and dtype, mean
    and var from batch_norm, per channel over N = x.size / C values: with invstd = 1 /
    sqrt(var + eps) and dotp = sum(g * (x - mean)), dx = (g - sum(g) / N - (x - mean) *
    dotp * invstd^2 / N) * invstd * weight (weight 1 when None), dweight = dotp * invstd,
    dbias = sum(g), both (C,)."""


@kernel("activation")
def lstm_cell(input_gates: Buf, hidden_gates: Buf, c: Buf, h_out: Buf, c_out: Buf,
              workspace: Buf) -> None:
    """One LSTM time step (torch's fused cell, biases already in the gates), written into
    the caller's dense buffers (views of rows of larger ones, as the recurrent layers pass
    them): input_gates and hidden_gates (..., 4H) float32/float64 in the gate order i, f, g,
    o, c the cell state (..., H), all of N rows. With gates = hidden_gates + input_gates,
    workspace (..., 4H) gets sigmoid(i), sigmoid(f), tanh(g), sigmoid(o) (sigmoid as
    1 / (1 + exp(-x))), c_out = f * c + i * g and h_out = o * tanh(c_out), both (..., H).
    The recurrent layers compose it from add, sigmoid, tanh and mul when absent."""


@kernel("activation")
def lstm_cell_backward(grad_h: Buf, grad_c: Buf, c: Buf, c_new: Buf, workspace: Buf,
                       grad_gates: Buf) -> Buf:
    """Gradients of lstm_cell from grad_h and grad_c (..., H), its c, c_out (c_new) and
    workspace: with tc = tanh(c_new) and gc = grad_c + grad_h * o * (1 - tc^2), writes the
    pre-activation gradients into the dense grad_gates (..., 4H): gc * g * i (1 - i),
    gc * c * f (1 - f), gc * i * (1 - g^2), grad_h * tc * o (1 - o); returns grad_c_prev =
    gc * f in c's shape.
    The recurrent layers compose it when absent."""


# ---------------------------------------------------------------------- loss

@kernel("loss")
def cross_entropy(x: Buf, target: Buf, ignore_index: int) -> tuple[Buf, Buf]:
    """(loss, lse) of x (n, c) float logits, target (n,) int64 class indices in range (or ==
    ignore_index); loss[i] = lse[i] - x[i, target[i]] (0 where target[i] == ignore_index)
    and lse[i] = log(sum(exp(x[i]))), both (n,) in x's dtype. One pass over the logits
    instead of log_softmax + gather."""


@kernel("loss")
def cross_entropy_backward(g: Buf, x: Buf, target: Buf, lse: Buf, ignore_index: int) -> Buf:
    """The (n, c) gradient g[i] * (exp(x[i, j] - lse[i]) - (j == target[i])), 0 in rows
    whose target is ignore_index; g is the (n,) gradient of the per-row loss."""


# ---------------------------------------------------------------------- optim

@kernel("optim")
def sgd_step(
        params: Sequence[Buf], grads: Sequence[Buf], momentum_bufs: Sequence[Buf], hyper: dict,
) -> None:
    """One in-place SGD update of every parameter (multi-tensor); hyper is a dict with lr,
    momentum, dampening, weight_decay, nesterov, maximize, first_step. momentum_bufs entries
    are updated in place (ignored when momentum is 0)."""


@kernel("optim")
def adam_step(
        params: Sequence[Buf], grads: Sequence[Buf], exp_avgs: Sequence[Buf],
        exp_avg_sqs: Sequence[Buf], max_exp_avg_sqs: Sequence[Buf | None], hyper: dict
) -> None:
    """One in-place Adam/AdamW update of every parameter; hyper has lr, beta1, beta2, eps,
    weight_decay, decoupled (AdamW), amsgrad, maximize and step (the new step count, the
    same for all parameters)."""


# ---------------------------------------------------------------------- random

@kernel("random")
def mt19937_generate(
        state: Buf, pos: int, shape: Shape, dtype: DType, transform: str, params: tuple,
) -> Buf:
    """Continue torch's CPU random stream (at::mt19937) on the device. `state` is a
    contiguous int32 buffer of 624 elements holding the MT19937 words (untempered, as in
    torch's get_state); it is advanced in place. `pos` (0..624) is the index of the next
    word; at 624 the state is twisted (the standard MT19937 recurrence) before the next
    word. Each word is the tempered state[pos], then pos += 1; the caller tracks the new pos
    itself. Elements are made in C order from consecutive words; `random64` is (first word
    << 32) | second. `transform`: 'uniform' with params (low, high), float dtypes:
    float16/float32 take one word, x = (w & 0xFFFFFF) * 2**-24, and unless (low, high) ==
    (0, 1) x = fma(x, float32(high) - float32(low), float32(low)) in float32, rounded once;
    then cast to dtype (nearest even), and an element equal to dtype(high) becomes
    dtype(low) (always checked for float16, only with non-default bounds for float32).
    float64 takes two words, x = (random64 & (2**53 - 1)) * 2**-53, and with non-default
    bounds x = fma(x, high - low, low) in float64, x == high becoming low. 'integer' with
    params (bits, span, base): bits 32 takes one word w (span < 2**32), bits 64 random64; r
    = (w % span if span else w) + base modulo 2**64, read as int64 and cast like numpy's
    astype (float16 through float32). 'bernoulli' with params (threshold,): two words, 1 if
    (random64 & (2**53 - 1)) < threshold else 0, in dtype (threshold = ceil(p * 2**53) gives
    torch's `uniform < p`). 'normal' with params (mean, std), float16/float32, numel n >=
    16: torch's normal_fill_16_AVX2 -- n float32 uniforms u as above (plus 16 more when n %
    16 and float32, or 16 - n % 16 more for float16); per row of 16, r = sqrt(-2 * log(1 -
    u[j])), t = 2*pi * u[j + 8], out[j] = r * cos(t), out[j + 8] = r * sin(t) for j < 8,
    with avx_mathfun's log/sincos in float32 and the multiply-adds fused exactly where
    plugrad.random.avx_mathfun fuses them (see backends/mt19937_normal.py), then fma(v, std,
    mean) (v + 0 when std == 1 and mean == +0); when n % 16 the last 16 outputs are
    recomputed from u[n:n+16] (float32) or u[n - n % 16:][:16] (float16); cast to dtype.
    Returns a new C-contiguous buffer of `shape` and `dtype`. Absent: random ops draw on the
    host and upload."""


# -------------------------------------------------------- decompositions (torch.linalg)
# No composition from primitives exists for these: a backend lacking one runs it on the cpu
# backend (host_fallback), as a missing primitive does. Inputs are float32/float64 batches
# (..., m, n) in C order whose batch dims the frontend has already broadcast; results have the
# input's dtype (the batch dims first) unless said otherwise. ``info`` buffers are int32 with
# the batch shape: 0 where the factorization succeeded, LAPACK's positive code otherwise.

@kernel("decomp", host_fallback=True)
def linalg_cholesky(a: Buf, upper: bool) -> tuple[Buf, Buf]:
    """(factor, info) for a (..., n, n) batch, reading only the lower triangle: factor is L
    with a = L L^H (upper: its transpose U = L^H); info[i] = k when the leading minor of
    order k of matrix i is not positive-definite (its factor is then unspecified)."""


@kernel("decomp", host_fallback=True)
def linalg_inv(a: Buf) -> tuple[Buf, Buf]:
    """(inverse, info) for a (..., n, n) batch; info[i] = k > 0 when U[k-1, k-1] of matrix
    i's LU factorization is exactly 0 (singular; its inverse is then unspecified)."""


@kernel("decomp", host_fallback=True)
def linalg_solve(a: Buf, b: Buf) -> tuple[Buf, Buf]:
    """(x, info) with a @ x = b for a (..., n, n) and b (..., n, k) of the same batch
    shape; info as for :func:`linalg_inv`."""


@kernel("decomp", host_fallback=True)
def linalg_slogdet(a: Buf) -> tuple[Buf, Buf]:
    """(sign, logabsdet), each of the batch shape, for a (..., n, n); a singular matrix
    gives sign 0 and logabsdet -inf."""


@kernel("decomp", host_fallback=True)
def linalg_det(a: Buf) -> Buf:
    """The determinants (batch shape) of a (..., n, n), as the product of the diagonal of
    its partially pivoted LU factor (LAPACK getrf, as torch)."""


@kernel("decomp", host_fallback=True)
def linalg_qr(a: Buf, mode: str) -> tuple[Buf, Buf]:
    """(q, r) of a (..., m, n), k = min(m, n), by Householder QR (LAPACK geqrf/orgqr
    signs): mode 'reduced' gives q (..., m, k), r (..., k, n); 'complete' q (..., m, m),
    r (..., m, n); 'r' gives r (..., k, n) and an empty q of shape (0,)."""


@kernel("decomp", host_fallback=True)
def linalg_svd(a: Buf, full_matrices: bool) -> tuple[Buf, Buf, Buf]:
    """(u, s, vh) with a = u diag(s) vh for a (..., m, n), s descending (..., k); u is
    (..., m, m) and vh (..., n, n) with full_matrices, else (..., m, k) and (..., k, n)."""


@kernel("decomp", host_fallback=True)
def linalg_svdvals(a: Buf) -> Buf:
    """The singular values (..., min(m, n)) of a (..., m, n), descending."""


@kernel("decomp", host_fallback=True)
def linalg_eigh(a: Buf, upper: bool) -> tuple[Buf, Buf]:
    """(w, v) of a symmetric (..., n, n) batch read from its lower (upper: upper) triangle:
    eigenvalues w (..., n) ascending, orthonormal eigenvectors in the columns of v."""


@kernel("decomp", host_fallback=True)
def linalg_eigvalsh(a: Buf, upper: bool) -> Buf:
    """The eigenvalues (..., n), ascending, of :func:`linalg_eigh`."""


@kernel("decomp", host_fallback=True)
def linalg_solve_triangular(a: Buf, b: Buf, upper: bool, left: bool,
                            unitriangular: bool) -> Buf:
    """x with a @ x = b (left) or x @ a = b (not left), reading only a's upper (upper) or
    lower triangle, its diagonal taken as ones when unitriangular; a (..., n, n) and b
    (..., n, k) (left) or (..., k, n) share one batch shape."""


@kernel("decomp", host_fallback=True)
def linalg_lu_factor(a: Buf) -> tuple[Buf, Buf, Buf]:
    """(lu, pivots, info) of a (..., m, n) batch by partially pivoted LU (LAPACK getrf):
    lu holds L's strict lower part (unit diagonal implied) and U; pivots (..., min(m, n))
    int32, 1-based: row i was swapped with row pivots[i] - 1 at step i (the largest |a| of
    the column, the first of ties; |re| + |im| for complex, as LAPACK's i*amax); info as for
    :func:`linalg_inv` (the factorization still completes)."""


# -------------------------------------------------------------------- complex tensors
# complex64/complex128 buffers. A backend without complex arithmetic answers False from
# ``supports(op, 'complex64')`` and needs none of these: see capabilities.supports.

@kernel("complex")
def view_as_real(x: Buf) -> Buf:
    """A view (writes reach x) of complex x (...) as its real dtype (..., 2): [..., 0] the
    real parts, [..., 1] the imaginary ones. Absent: complex tensors have no real/imag
    views there."""


@kernel("complex")
def view_as_complex(x: Buf) -> Buf:
    """A complex view of float32/float64 x (..., 2) whose last axis has stride 1 and other
    strides even (the frontend checks): shape (...)."""


@kernel("complex", host_fallback=True)
def complex_conj(x: Buf) -> Buf:
    """The complex conjugate of complex x, same dtype."""


@kernel("complex", host_fallback=True)
def complex_abs(x: Buf) -> Buf:
    """|x| of complex x, in its real dtype (complex64 -> float32)."""


@kernel("complex", host_fallback=True)
def complex_angle(x: Buf) -> Buf:
    """atan2(imag, real) of complex x, in its real dtype."""


# ------------------------------------------------------------------------ torch.fft
# norm is numpy.fft's: 'backward' (no scaling forward, 1/n inverse), 'ortho' (1/sqrt(n) both
# ways) or 'forward' (1/n forward, none inverse); n is the product of the transformed sizes.
# Complex results have the complex dtype of the input's precision (float32 -> complex64).

@kernel("fft", host_fallback=True)
def fft_c2c(x: Buf, axes: Axes, forward: bool, norm: str) -> Buf:
    """The n-dimensional DFT of complex x over ``axes`` (the inverse when not forward)."""


@kernel("fft", host_fallback=True)
def fft_r2c(x: Buf, axes: Axes, norm: str) -> Buf:
    """The forward DFT of real x over ``axes``, one-sided on the last of them (size
    n // 2 + 1 there), as numpy.fft.rfftn."""


@kernel("fft", host_fallback=True)
def fft_c2r(x: Buf, axes: Axes, last_size: int, norm: str) -> Buf:
    """The inverse of :func:`fft_r2c`: a real result whose last transformed axis has
    ``last_size`` elements (x holds its one-sided half), as numpy.fft.irfftn."""


@kernel("decomp", host_fallback=True)
def linalg_eig(a: Buf) -> tuple[Buf, Buf]:
    """(w, v) of a general (..., n, n) batch: eigenvalues w (..., n) and eigenvectors in the
    columns of v, both complex (complex64 for float32/complex64 input), each column of unit
    norm with LAPACK geev's phase (its largest component real)."""
