"""gelu, layer norm and softmax for float32 through compiled kernels: one pass over memory
where numpy's make several. Other dtypes, small arrays and layouts the kernels do not take
go to the numpy kernels."""
from __future__ import annotations

import numpy as np

from . import KernelModule
from .elementwise import FLOAT32, GELU

NORM = KernelModule("_norm")
SOFTMAX = KernelModule("_softmax")
LSTM = KernelModule("_lstm")


def _flat(x):
    return np.ascontiguousarray(x).reshape(-1)


def _vector(w):
    """weight or bias as a contiguous float32 vector (None stays None)."""
    return None if w is None else np.ascontiguousarray(w, FLOAT32).reshape(-1)


class NN:

    def gelu(self, x):
        kernels = GELU() if x.dtype == FLOAT32 and x.size >= self.min_elements else None
        if kernels is None:
            return super().gelu(x)
        flat = _flat(x)
        out, cdf = np.empty(flat.shape, FLOAT32), np.empty(flat.shape, FLOAT32)
        kernels.gelu(flat, out, cdf)
        return out.reshape(x.shape), cdf.reshape(x.shape)

    def gelu_backward(self, g, x, cdf):
        kernels = GELU() if x.dtype == FLOAT32 and x.size >= self.min_elements else None
        if kernels is None:
            return super().gelu_backward(g, x, cdf)
        flat = _flat(x)
        out = np.empty(flat.shape, FLOAT32)
        kernels.gelu_backward(_flat(g), flat, _flat(cdf), out)
        return out.reshape(x.shape)

    def layer_norm(self, x, weight, bias, n, eps):
        kernels = NORM() if x.dtype == FLOAT32 and x.size >= self.min_elements and n else None
        if kernels is None:
            return super().layer_norm(x, weight, bias, n, eps)
        rows = np.ascontiguousarray(x).reshape(-1, n)
        out = np.empty(rows.shape, FLOAT32)
        mean, rstd = np.empty(len(rows), FLOAT32), np.empty(len(rows), FLOAT32)
        kernels.layer_norm(rows, _vector(weight), _vector(bias), float(eps), out, mean, rstd)
        return out.reshape(x.shape), mean, rstd

    def layer_norm_backward(self, g, x, weight, mean, rstd, n):
        kernels = NORM() if x.dtype == FLOAT32 and x.size >= self.min_elements and n else None
        if kernels is None:
            return super().layer_norm_backward(g, x, weight, mean, rstd, n)
        rows = np.ascontiguousarray(x).reshape(-1, n)
        dx = np.empty(rows.shape, FLOAT32)
        dweight, dbias = np.zeros(n), np.zeros(n)
        kernels.layer_norm_backward(np.ascontiguousarray(g).reshape(-1, n), rows,
                                    _vector(weight), _flat(mean), _flat(rstd), dx, dweight,
                                    dbias)
        return dx.reshape(x.shape), dweight.astype(FLOAT32), dbias.astype(FLOAT32)

    def softmax(self, x, axis):
        kernels = (SOFTMAX() if x.dtype == FLOAT32 and x.size >= self.min_elements
                   and axis == x.ndim - 1 and x.shape[axis] else None)
        if kernels is None:
            return super().softmax(x, axis)
        rows = np.ascontiguousarray(x).reshape(-1, x.shape[axis])
        out = np.empty(rows.shape, FLOAT32)
        kernels.softmax(rows, out)
        return out.reshape(x.shape)

    def _lstm_kernels(self, gates, *bufs):
        """The compiled LSTM cell for float32 steps of enough elements whose written buffers
        are dense (so they reshape to 2-d views); None sends the step to the numpy kernel."""
        if gates.size < self.min_elements or any(b.dtype != FLOAT32 for b in bufs) or \
                not all(b.flags.c_contiguous for b in bufs[-2:]):
            return None
        return LSTM()

    def lstm_cell(self, input_gates, hidden_gates, c, h_out, c_out, workspace):
        kernels = self._lstm_kernels(input_gates, input_gates, hidden_gates, c, h_out, c_out,
                                     workspace)
        if kernels is None or not h_out.flags.c_contiguous:
            return super().lstm_cell(input_gates, hidden_gates, c, h_out, c_out, workspace)
        h = c.shape[-1]
        kernels.lstm_cell(_rows(input_gates, 4 * h), _rows(hidden_gates, 4 * h), _rows(c, h),
                          _rows(h_out, h), _rows(c_out, h), _rows(workspace, 4 * h))

    def lstm_cell_backward(self, grad_h, grad_c, c, c_new, workspace, grad_gates):
        kernels = self._lstm_kernels(workspace, grad_h, grad_c, c, c_new, workspace,
                                     grad_gates)
        if kernels is None:
            return super().lstm_cell_backward(grad_h, grad_c, c, c_new, workspace, grad_gates)
        h = c.shape[-1]
        dc = np.empty(c.shape, FLOAT32)
        kernels.lstm_cell_backward(_rows(grad_h, h), _rows(grad_c, h), _rows(c, h),
                                   _rows(c_new, h), _rows(workspace, 4 * h),
                                   _rows(grad_gates, 4 * h), _rows(dc, h))
        return dc


def _rows(b, width):
    """b as (rows, width), C-contiguous: a view of a dense buffer, a copy of a strided one."""
    return np.ascontiguousarray(b).reshape(-1, width)
