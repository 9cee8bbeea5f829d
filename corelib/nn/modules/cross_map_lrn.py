"""``nn.CrossMapLRN2d``: torch's legacy (Lua Torch) cross-channel response normalization.

Its forward and backward are torch's own loops, which differ from ``LocalResponseNorm`` and
from each other: the forward's running window never drops channel 0 once past it, and the
backward uses the symmetric window of the non-legacy layer (not the gradient of the forward).
Both are reproduced with window sums over cumulative sums, in frontend ops (every backend).
"""
from __future__ import annotations

from ...autograd.function import Function
from .module import Module

__all__ = ["CrossMapLRN2d"]


def _window_sums(values, first, last):
    """Per channel c, the sum of ``values`` over channels first[c] .. last[c] (``first`` >= 0;
    ``last`` clipped to the axis)."""
    c = values.shape[1]
    csum = values.cumsum(1)
    hi = csum.index_select(1, last.clamp(0, c - 1))
    lo = csum.index_select(1, (first - 1).clamp(0, c - 1))
    return hi - lo * (first >= 1).to(values.dtype).reshape(1, c, 1, 1)


class _CrossMapLRN2dFunction(Function):

    @staticmethod
    def forward(ctx, input, size, alpha, beta, k):
        import plugrad
        if input.dim() != 4:
            raise ValueError(f"CrossMapLRN2d: Expected input to be 4D, got {input.dim()}D "
                             "instead.")
        c = input.shape[1]
        pre = int((size - 1) / 2 + 1)
        ch = plugrad.arange(c, device=input.device)
        square = input * input
        # torch's running window: [0, c + pre - 1] up to c == pre, then channels
        # c - pre + 1 .. c + pre - 1 plus channel 0, which its loop never subtracts
        window = _window_sums(square, (ch - pre + 1).clamp(min=0) * (ch > pre), ch + pre - 1)
        window = window + square[:, :1] * (ch > pre).to(input.dtype).reshape(1, c, 1, 1)
        scale = window * (alpha / size) + k
        output = scale.pow(-beta) * input
        ctx.save_for_backward(input, output)
        ctx.scale, ctx.size, ctx.alpha, ctx.beta = scale, size, alpha, beta
        return output

    @staticmethod
    def backward(ctx, grad_output):
        import plugrad
        input, output = ctx.saved_tensors
        size, scale = ctx.size, ctx.scale
        c = input.shape[1]
        inverse_pre_pad = int(size - (size - 1) / 2)
        if inverse_pre_pad + c > c + size - 1:      # size 1: torch's narrow fails the same way
            raise RuntimeError(f"start ({inverse_pre_pad}) + length ({c}) exceeds dimension "
                               f"size ({c + size - 1}).")
        ch = plugrad.arange(c, device=input.device)
        ratio = grad_output * output / scale
        accum = _window_sums(ratio, (ch - inverse_pre_pad).clamp(min=0),
                             ch + size - 1 - inverse_pre_pad)
        coeff = 2 * ctx.alpha * ctx.beta / size
        grad = scale.pow(-ctx.beta) * grad_output - coeff * input * accum
        return grad, None, None, None, None


class CrossMapLRN2d(Module):
    """Cross-channel local response normalization of (N, C, H, W) input, torch's legacy form."""

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1):
        super().__init__()
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k

    def forward(self, input):
        return _CrossMapLRN2dFunction.apply(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self):
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"
