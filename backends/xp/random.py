"""``mt19937_generate`` for numpy buffers: the reference the device kernels are tested against.

The frontend draws for the cpu device on the host engine directly (the cpu backend *is* the
host, so no state moves there); this kernel serves backends that hold numpy buffers on a
device of their own and the conformance of other backends. The words come from numpy's own
``MT19937`` (the same recurrence) loaded with the buffer's state; the transforms are written
from the contract's text, independently of the device source.
"""
from __future__ import annotations

import numpy

from ...random.avx_mathfun import log_ps, sincos_ps
from ...random.fma import fma32, fma64

_MASK53 = numpy.uint64((1 << 53) - 1)
_U64 = (1 << 64) - 1


def _words(state, pos, count):
    """``count`` tempered words from (state, pos) as uint64; ``state`` is advanced in place."""
    bits = numpy.random.MT19937(0)
    bits.state = {"bit_generator": "MT19937",
                  "state": {"key": state.view(numpy.uint32), "pos": pos}}
    raw = bits.random_raw(count)
    state[...] = bits.state["state"]["key"].view(numpy.int32)
    return raw


def _cast_int64(values, dtype):
    """numpy's astype from int64; float16 goes through float32 (Half has no int64 constructor)."""
    if dtype == "float16":
        values = values.astype(numpy.float32)
    return values.astype(dtype)


def _uniform(raw, dtype, low, high):
    if dtype == "float64":
        v = ((raw[0::2] << numpy.uint64(32)) | raw[1::2]) & _MASK53
        x = v.astype(numpy.float64) * 2.0 ** -53
        if (low, high) != (0.0, 1.0):
            x = fma64(x, high - low, low)
            x[x == high] = low
        return x
    f, t = numpy.float32(low), numpy.float32(high)
    x = (raw & numpy.uint64(0xFFFFFF)).astype(numpy.float32) * numpy.float32(2.0 ** -24)
    affine = (f, t) != (0.0, 1.0)
    if affine:
        x = fma32(x, t - f, f)
    x = x.astype(dtype)
    if affine or dtype == "float16":
        x[x == t.astype(dtype)] = f.astype(dtype)
    return x


def _normal16(u, mean, std):
    """Rows of 16 float32 uniforms -> torch's normal_fill_16_AVX2 values."""
    radius = numpy.sqrt(numpy.float32(-2.0) * log_ps(numpy.float32(1.0) - u[:, :8]))
    sin, cos = sincos_ps(numpy.float32(2.0 * numpy.pi) * u[:, 8:])
    first, second = radius * cos, radius * sin
    if std == 1 and mean == 0 and not numpy.signbit(mean):
        first, second = first + numpy.float32(0), second + numpy.float32(0)
    else:
        first, second = fma32(first, std, mean), fma32(second, std, mean)
    return numpy.concatenate([first, second], axis=1).ravel()


def _normal(raw, n, dtype, mean, std):
    """The contract's 'normal': rows of 16, the last 16 recomputed from the tail uniforms."""
    u = _uniform(raw, "float32", 0.0, 1.0)
    mean, std = numpy.float32(mean), numpy.float32(std)
    full = n - n % 16
    out = numpy.empty(n, numpy.float32)
    out[:full] = _normal16(u[:full].reshape(-1, 16), mean, std)
    if full != n:
        tail = u[n:n + 16] if dtype == "float32" else u[full:full + 16]
        out[n - 16:] = _normal16(tail.reshape(1, 16), mean, std)
    return out.astype(dtype)


class Random:
    """The random-number kernel of the array-module backend (numpy only)."""

    def mt19937_generate(self, state, pos, shape, dtype, transform, params):
        n = int(numpy.prod(shape, dtype=numpy.int64))
        if transform == "normal":
            count = n if n % 16 == 0 else n + (16 if dtype == "float32" else 16 - n % 16)
            return _normal(_words(state, pos, count), n, dtype, *params).reshape(shape)
        if transform == "uniform":
            wpe = 2 if dtype == "float64" else 1
        elif transform == "integer":
            wpe = params[0] // 32
        else:
            wpe = 2
        raw = _words(state, pos, n * wpe)
        if transform == "uniform":
            out = _uniform(raw, dtype, float(params[0]), float(params[1]))
        else:
            v = raw if wpe == 1 else (raw[0::2] << numpy.uint64(32)) | raw[1::2]
            if transform == "integer":
                span, base = int(params[1]) & _U64, int(params[2]) & _U64
                with numpy.errstate(over="ignore"):
                    r = (v % numpy.uint64(span) if span else v) + numpy.uint64(base)
                out = _cast_int64(r.view(numpy.int64), dtype)
            else:
                out = ((v & _MASK53) < numpy.uint64(params[0])).astype(dtype)
        return out.reshape(shape)
