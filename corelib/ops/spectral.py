"""torch.fft: discrete Fourier transforms as three backend kernels and their gradients.

``fft_c2c``, ``fft_r2c`` (one-sided) and ``fft_c2r`` do the transforms (numpy's pocketfft on
cpu, cuFFT on cuda); the frontend trims or zero-pads to ``n``/``s`` with ordinary ops (so that
part differentiates itself) and gives the transforms torch's backward formulas:

* c2c: the DFT matrix is symmetric, so with the engine's conjugation around holomorphic nodes
  the gradient is the same transform of the gradient (torch: the opposite-direction transform
  of the conjugate, the same thing);
* r2c: the gradient zero-extended to the full last axis, transformed as c2c, real part;
* c2r: torch's ``fft_c2r_backward``: r2c of the gradient with the mirrored normalization, the
  entries that stand for two bins (1 .. n - m) doubled.
"""
from __future__ import annotations

import math

from .. import _dtype as D
from .._tensor import _from_buffer, _wrap_dim
from ..autograd.function import Function
from .decomp import _named

_NORMS = ("backward", "ortho", "forward")
_MIRROR = {"backward": "forward", "forward": "backward", "ortho": "ortho"}


def _norm(norm):
    if norm is None:
        return "backward"
    if norm not in _NORMS:
        raise RuntimeError(f"Invalid normalization mode: \"{norm}\"")
    return norm


def _complex_input(x):
    """x as a complex tensor (integers through the default float dtype), differentiably."""
    dt = x._dtype
    if dt.is_complex:
        return x
    if not dt.is_floating_point:
        x = x.to(D.get_default_dtype())
    return x.to(x._dtype.to_complex())


def _real_input(x, fname):
    if x._dtype.is_complex:
        raise RuntimeError(f"{fname} expects a real input tensor, but got "
                           f"{D.legacy_name(x._dtype)}")
    if not x._dtype.is_floating_point:
        x = x.to(D.get_default_dtype())
    return x


def _resize(x, dim, n):
    """x trimmed or zero-padded to n elements along dim."""
    size = x._shape[dim]
    if n == size:
        return x
    if n < size:
        return x.narrow(dim, 0, n)
    from .movement import cat
    shape = list(x._shape)
    shape[dim] = n - size
    return cat([x, x.new_zeros(tuple(shape))], dim)


def _dims_and_sizes(x, s, dim, default_all):
    """torch's (dims, sizes) from s= and dim= (n-d transforms)."""
    if dim is None:
        if s is None:
            dims = tuple(range(x.ndim)) if default_all else (x.ndim - 1,)
        else:
            if len(s) > x.ndim:
                raise RuntimeError(f"Got shape with {len(s)} values but input tensor only has "
                                   f"{x.ndim} dimensions.")
            dims = tuple(range(x.ndim - len(s), x.ndim))
    else:
        dims = (dim,) if isinstance(dim, int) else tuple(dim)
        dims = tuple(_wrap_dim(d, x.ndim) for d in dims)
        if len(set(dims)) != len(dims):
            raise RuntimeError("FFT dims must be unique")
    if s is None:
        sizes = [x._shape[d] for d in dims]
    else:
        s = (s,) if isinstance(s, int) else tuple(s)
        if len(s) != len(dims):
            raise RuntimeError("When given, dim and shape arguments must have the same length")
        sizes = [x._shape[d] if n == -1 else n for d, n in zip(dims, s)]
    for n in sizes:
        if n <= 0:
            raise RuntimeError(f"Invalid number of data points ({n}) specified")
    return dims, sizes


# ----------------------------------------------------------------------------- kernels
@_named("FftC2CBackward0", holomorphic=True)
class _C2C(Function):
    @staticmethod
    def forward(ctx, x, dims, forward, norm):
        ctx.args = (dims, forward, norm)
        data = x._device.ops.fft_c2c(x.contiguous()._data, dims, forward, norm)
        return _from_buffer(data, x._shape, x._dtype, x._device)

    @staticmethod
    def backward(ctx, g):
        dims, forward, norm = ctx.args
        return _C2C.apply(g, dims, forward, norm), None, None, None


@_named("FftR2CBackward0", holomorphic=True)
class _R2C(Function):
    @staticmethod
    def forward(ctx, x, dims, norm):
        ctx.args = (dims, norm, x._shape[dims[-1]])
        data = x._device.ops.fft_r2c(x.contiguous()._data, dims, norm)
        shape = list(x._shape)
        shape[dims[-1]] = shape[dims[-1]] // 2 + 1
        return _from_buffer(data, tuple(shape), x._dtype.to_complex(), x._device)

    @staticmethod
    def backward(ctx, g):
        dims, norm, n = ctx.args
        full = _resize(g, dims[-1], n)
        return _C2C.apply(full, dims, True, norm).real, None, None


@_named("FftC2RBackward0")
class _C2R(Function):
    @staticmethod
    def forward(ctx, x, dims, last, norm):
        ctx.args = (dims, norm, x._shape[dims[-1]])
        data = x._device.ops.fft_c2r(x.contiguous()._data, dims, last, norm)
        shape = list(x._shape)
        shape[dims[-1]] = last
        return _from_buffer(data, tuple(shape), x._dtype.to_real(), x._device)

    @staticmethod
    def backward(ctx, g):
        dims, norm, m = ctx.args
        gI = _R2C.apply(g.contiguous(), dims, _MIRROR[norm])
        gI = _resize(gI, dims[-1], m) if gI._shape[dims[-1]] != m else gI
        double = g._shape[dims[-1]] - m
        if double > 0:
            d = dims[-1]
            from .movement import cat
            parts = [gI.narrow(d, 0, 1), gI.narrow(d, 1, double) * 2]
            rest = m - 1 - double
            if rest > 0:
                parts.append(gI.narrow(d, 1 + double, rest))
            gI = cat(parts, d)
        return gI, None, None, None


# ------------------------------------------------------------------------- public API
def _c2c(input, s, dim, norm, forward, default_all):
    x = _complex_input(input)
    dims, sizes = _dims_and_sizes(x, s, dim, default_all)
    for d, n in zip(dims, sizes):
        x = _resize(x, d, n)
    return _C2C.apply(x, dims, forward, _norm(norm))


def _r2c(input, s, dim, norm, default_all, fname):
    x = _real_input(input, fname)
    dims, sizes = _dims_and_sizes(x, s, dim, default_all)
    for d, n in zip(dims, sizes):
        x = _resize(x, d, n)
    return _R2C.apply(x, dims, _norm(norm))


def _c2r(input, s, dim, norm, default_all):
    x = _complex_input(input)
    dims, sizes = _dims_and_sizes(x, s, dim, default_all)
    if s is None or (s[-1] if not isinstance(s, int) else s) == -1:
        sizes[-1] = 2 * (x._shape[dims[-1]] - 1)
        if sizes[-1] <= 0:
            raise RuntimeError(f"Invalid number of data points ({sizes[-1]}) specified")
    last = sizes[-1]
    for d, n in zip(dims[:-1], sizes[:-1]):
        x = _resize(x, d, n)
    x = _resize(x, dims[-1], last // 2 + 1)
    return _C2R.apply(x, dims, last, _norm(norm))


def fft(input, n=None, dim=-1, norm=None, *, out=None):
    """The 1-d DFT along dim (real inputs become complex), n trimming or zero-padding."""
    return _c2c(input, None if n is None else (n,), (dim,), norm, True, False)


def ifft(input, n=None, dim=-1, norm=None, *, out=None):
    """The inverse 1-d DFT along dim."""
    return _c2c(input, None if n is None else (n,), (dim,), norm, False, False)


def fft2(input, s=None, dim=(-2, -1), norm=None, *, out=None):
    return _c2c(input, s, dim, norm, True, True)


def ifft2(input, s=None, dim=(-2, -1), norm=None, *, out=None):
    return _c2c(input, s, dim, norm, False, True)


def fftn(input, s=None, dim=None, norm=None, *, out=None):
    """The n-d DFT over dim (all dims, or the last len(s), by default)."""
    return _c2c(input, s, dim, norm, True, True)


def ifftn(input, s=None, dim=None, norm=None, *, out=None):
    return _c2c(input, s, dim, norm, False, True)


def rfft(input, n=None, dim=-1, norm=None, *, out=None):
    """The one-sided DFT of a real input along dim (n // 2 + 1 frequencies)."""
    return _r2c(input, None if n is None else (n,), (dim,), norm, False, "rfft")


def irfft(input, n=None, dim=-1, norm=None, *, out=None):
    """The real inverse of rfft: n outputs (default 2 * (size - 1))."""
    return _c2r(input, None if n is None else (n,), (dim,), norm, False)


def rfft2(input, s=None, dim=(-2, -1), norm=None, *, out=None):
    return _r2c(input, s, dim, norm, True, "rfftn")


def irfft2(input, s=None, dim=(-2, -1), norm=None, *, out=None):
    return _c2r(input, s, dim, norm, True)


def rfftn(input, s=None, dim=None, norm=None, *, out=None):
    return _r2c(input, s, dim, norm, True, "rfftn")


def irfftn(input, s=None, dim=None, norm=None, *, out=None):
    return _c2r(input, s, dim, norm, True)


def hfft(input, n=None, dim=-1, norm=None, *, out=None):
    """The DFT of a Hermitian-symmetric signal given by its one-sided half: real output."""
    from .complex_ops import conj
    return irfft(conj(_complex_input(input)), n, dim, _MIRROR[_norm(norm)])


def ihfft(input, n=None, dim=-1, norm=None, *, out=None):
    """The inverse of hfft: the one-sided half of the inverse DFT of a real signal."""
    from .complex_ops import conj
    return conj(rfft(_real_input(input, "ihfft"), n, dim, _MIRROR[_norm(norm)]))


def hfftn(input, s=None, dim=None, norm=None, *, out=None):
    """The n-dimensional DFT of a Hermitian-symmetric signal (its last dim one-sided)."""
    from .complex_ops import conj
    return _c2r(conj(_complex_input(input)), s, dim, _MIRROR[_norm(norm)], True)


def hfft2(input, s=None, dim=(-2, -1), norm=None, *, out=None):
    return hfftn(input, s, dim, norm)


def ihfftn(input, s=None, dim=None, norm=None, *, out=None):
    """The inverse of hfftn: the one-sided (last dim) inverse n-dimensional DFT of a real
    signal."""
    from .complex_ops import conj
    if input._dtype.is_complex:     # torch's wording for the n-d form
        raise RuntimeError(f"Only supports floating-point dtypes, but found: "
                           f"{D.legacy_name(input._dtype)}")
    return conj(_r2c(input, s, dim, _MIRROR[_norm(norm)], True, "ihfftn"))


def ihfft2(input, s=None, dim=(-2, -1), norm=None, *, out=None):
    return ihfftn(input, s, dim, norm)


def _shift_dims(input, dim):
    if dim is None:
        return tuple(range(input.ndim))
    return (dim,) if isinstance(dim, int) else tuple(dim)


def fftshift(input, dim=None):
    """Move the zero frequency to the middle (roll by size // 2 on each dim)."""
    dims = _shift_dims(input, dim)
    return input.roll(tuple(input._shape[d] // 2 for d in dims), dims)


def ifftshift(input, dim=None):
    """The inverse of fftshift (roll by -(size // 2))."""
    dims = _shift_dims(input, dim)
    return input.roll(tuple(-(input._shape[d] // 2) for d in dims), dims)


def fftfreq(n, d=1.0, *, dtype=None, layout=None, device=None, requires_grad=False):
    """The sample frequencies [0, 1, ..., -(n // 2), ..., -1] / (d * n)."""
    from .creation import arange
    from .movement import cat
    dt = dtype or D.get_default_dtype()
    pos = arange((n - 1) // 2 + 1, dtype=dt, device=device)
    neg = arange(-(n // 2), 0, dtype=dt, device=device)
    out = cat([pos, neg]) * (1.0 / (n * d))
    return out.requires_grad_(requires_grad) if requires_grad else out


def rfftfreq(n, d=1.0, *, dtype=None, layout=None, device=None, requires_grad=False):
    """The non-negative sample frequencies [0, 1, ..., n // 2] / (d * n)."""
    from .creation import arange
    dt = dtype or D.get_default_dtype()
    out = arange(n // 2 + 1, dtype=dt, device=device) * (1.0 / (n * d))
    return out.requires_grad_(requires_grad) if requires_grad else out


# ------------------------------------------------------------------------ stft / istft
def _padded_window(window, win_length, n_fft, like):
    """The window (ones by default) centred in n_fft samples, as torch pads it."""
    from .creation import ones
    if window is None:
        window = ones(win_length, dtype=like._dtype.to_real(), device=like._device)
    elif window.ndim != 1 or window._shape[0] != win_length:
        raise RuntimeError(f"stft: expected a 1D window tensor of size equal to win_length="
                           f"{win_length}, but got window with size {list(window._shape)}")
    if win_length == n_fft:
        return window
    left = (n_fft - win_length) // 2
    from .movement import cat
    return cat([window.new_zeros((left,)), window,
                window.new_zeros((n_fft - win_length - left,))])


def stft(input, n_fft, hop_length=None, win_length=None, window=None, center=True,
         pad_mode="reflect", normalized=False, onesided=None, return_complex=None):
    """torch.stft: frames of n_fft samples every hop_length, windowed, Fourier transformed;
    (…, n_freq, n_frames). ``center`` pads n_fft // 2 on both sides with ``pad_mode``."""
    if return_complex is None and not input._dtype.is_complex and not (
            window is not None and window._dtype.is_complex):
        raise RuntimeError("stft requires the return_complex parameter be given for real "
                           "inputs, and will further require that return_complex=True in a "
                           "future PyTorch release.")
    hop_length = n_fft // 4 if hop_length is None else hop_length
    win_length = n_fft if win_length is None else win_length
    if input.ndim not in (1, 2):
        raise RuntimeError(f"stft: expected a 1D or 2D tensor, but got {input.ndim}D tensor")
    if n_fft <= 0 or n_fft > input._shape[-1] + (2 * (n_fft // 2) if center else 0):
        raise RuntimeError(f"stft: expected 0 < n_fft <= {input._shape[-1]}, but got "
                           f"n_fft={n_fft}")
    if hop_length <= 0:
        raise RuntimeError(f"stft: expected hop_length > 0, but got hop_length={hop_length}")
    if win_length <= 0 or win_length > n_fft:
        raise RuntimeError(f"stft: expected 0 < win_length <= n_fft, but got "
                           f"win_length={win_length}")
    x = input if input.ndim == 2 else input.unsqueeze(0)
    if center:
        from ..nn._functional.vision import pad
        p = n_fft // 2
        x = pad(x.unsqueeze(1), (p, p), mode=pad_mode).squeeze(1)
    frames = x.unfold(-1, n_fft, hop_length)                     # (B, n_frames, n_fft)
    frames = frames * _padded_window(window, win_length, n_fft, x)
    norm = "ortho" if normalized else "backward"
    complex_in = frames._dtype.is_complex
    if onesided is None:
        onesided = not complex_in
    if onesided and complex_in:
        raise RuntimeError("Cannot have onesided output if window or input is complex")
    spec = rfft(frames, dim=-1, norm=norm) if onesided else fft(frames, dim=-1, norm=norm)
    spec = spec.transpose(-1, -2)
    if input.ndim == 1:
        spec = spec.squeeze(0)
    if not return_complex:
        from .complex_ops import view_as_real
        return view_as_real(spec.contiguous())
    return spec


def istft(input, n_fft, hop_length=None, win_length=None, window=None, center=True,
          normalized=False, onesided=None, length=None, return_complex=False):
    """torch.istft: the inverse of stft by windowed overlap-add, divided by the overlap-added
    squared window (which must stay above 1e-11)."""
    if not input._dtype.is_complex:
        raise RuntimeError("istft requires a complex-valued input tensor.")
    hop_length = n_fft // 4 if hop_length is None else hop_length
    win_length = n_fft if win_length is None else win_length
    spec = input if input.ndim == 3 else input.unsqueeze(0)
    n_frames = spec._shape[-1]
    if onesided is None:
        onesided = spec._shape[-2] != n_fft
    norm = "ortho" if normalized else "backward"
    frames_f = spec.transpose(-1, -2)                          # (B, n_frames, n_freq)
    if onesided:
        frames = irfft(frames_f, n=n_fft, dim=-1, norm=norm)
    else:
        frames = ifft(frames_f, n=n_fft, dim=-1, norm=norm)
        if not return_complex:
            frames = frames.real
    w = _padded_window(window, win_length, n_fft, frames)
    frames = frames * w
    total = n_fft + hop_length * (n_frames - 1)
    from .creation import arange
    pos = (arange(n_frames, device=spec._device) * hop_length).unsqueeze(-1) + \
        arange(n_fft, device=spec._device)
    pos = pos.reshape(-1)
    y = frames.new_zeros((frames._shape[0], total)).index_add(
        -1, pos, frames.reshape(frames._shape[0], -1))
    env = w.new_zeros((total,)).index_add(0, pos, (w * w).expand(n_frames, n_fft).reshape(-1))
    start = n_fft // 2 if center else 0
    if length is not None:
        end = start + length
    else:
        end = total - n_fft // 2 if center else total
    stop = min(end, total)
    y = y.narrow(-1, start, stop - start)
    env = env.narrow(-1, start, stop - start)
    if bool((env.abs() < 1e-11).any()):
        raise RuntimeError("istft(...): window overlap add min: 0.000000, the window does "
                           "not satisfy the NOLA constraint")
    y = y / env
    if end > total:
        from .movement import cat
        y = cat([y, y.new_zeros((y._shape[0], end - total))], -1)
    return y if input.ndim == 3 else y.squeeze(0)


# ------------------------------------------------------------------------- windows
def _window(name, window_length, periodic, dtype, device, requires_grad, values):
    """torch's window construction: a periodic window is the symmetric one of length + 1
    without its last sample; lengths 0 and 1 give [] and [1]."""
    from .creation import arange, ones, zeros
    dt = dtype or D.get_default_dtype()
    if not dt.is_floating_point:
        raise RuntimeError(f"{name} expects floating point dtypes, got: {dt}")
    if window_length < 0:
        raise RuntimeError(f"{name} requires non-negative window_length, got "
                           f"window_length={window_length}")
    if window_length == 0:
        out = zeros(0, dtype=dt, device=device)
    elif window_length == 1:
        out = ones(1, dtype=dt, device=device)
    else:
        n = window_length + 1 if periodic else window_length
        out = values(arange(n, dtype=dt, device=device), n)
        if periodic:
            out = out.narrow(0, 0, window_length).contiguous()
    return out.requires_grad_(True) if requires_grad else out


def hamming_window(window_length, periodic=True, alpha=0.54, beta=0.46, *, dtype=None,
                   layout=None, device=None, pin_memory=False, requires_grad=False):
    """alpha - beta * cos(2 pi n / (N - 1))."""
    return _window("hamming_window", window_length, periodic, dtype, device, requires_grad,
                   lambda k, n: alpha - beta * (k * (2 * math.pi / (n - 1))).cos())


def hann_window(window_length, periodic=True, *, dtype=None, layout=None, device=None,
                pin_memory=False, requires_grad=False):
    """0.5 - 0.5 * cos(2 pi n / (N - 1)) (hamming with alpha = beta = 0.5)."""
    return _window("hann_window", window_length, periodic, dtype, device, requires_grad,
                   lambda k, n: 0.5 - 0.5 * (k * (2 * math.pi / (n - 1))).cos())


def blackman_window(window_length, periodic=True, *, dtype=None, layout=None, device=None,
                    pin_memory=False, requires_grad=False):
    """0.42 - 0.5 cos(2 pi n / (N - 1)) + 0.08 cos(4 pi n / (N - 1))."""
    def values(k, n):
        t = k * (math.pi / (n - 1))
        return 0.08 * (t * 4).cos() - 0.5 * (t * 2).cos() + 0.42
    return _window("blackman_window", window_length, periodic, dtype, device, requires_grad,
                   values)


def kaiser_window(window_length, periodic=True, beta=12.0, *, dtype=None, layout=None,
                  device=None, pin_memory=False, requires_grad=False):
    """i0(beta sqrt(|1 - ((n - a) / a)^2|)) / i0(beta), a = (N - 1) / 2."""
    from .bessel import i0

    def values(k, n):
        alpha = (n - 1) / 2.0
        return i0((1 - ((k - alpha) / alpha).pow(2)).abs().sqrt() * beta) / \
            i0(k.new_full((), beta))
    return _window("kaiser_window", window_length, periodic, dtype, device, requires_grad,
                   values)


def bartlett_window(window_length, periodic=True, *, dtype=None, layout=None, device=None,
                    pin_memory=False, requires_grad=False):
    """1 - |2 n / (N - 1) - 1|."""
    return _window("bartlett_window", window_length, periodic, dtype, device, requires_grad,
                   lambda k, n: 1 - (k * (2.0 / (n - 1)) - 1).abs())
