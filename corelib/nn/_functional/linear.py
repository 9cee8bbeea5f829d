"""linear and bilinear."""
from __future__ import annotations

from ...ops import linalg as _linalg

__all__ = ["linear", "bilinear"]


def linear(input, weight, bias=None):
    """y = input @ weight.T + bias; one AddmmBackward0 node for 2-D input, as torch."""
    if input.ndim == 2 and bias is not None:
        return _linalg.addmm(bias, input, weight.t())
    if bias is not None and input.ndim > 2 and bias.ndim == 1 and input.is_contiguous():
        # torch's _flatten_nd_linear: rows flattened into one addmm (the bias added in place
        # of a new array), then viewed back; grad_fn ViewBackward0 over AddmmBackward0
        out = _linalg.addmm(bias, input.reshape(-1, input.shape[-1]), weight.t())
        return out.view(*input.shape[:-1], out.shape[-1])
    out = _linalg.matmul(input, weight.t())
    if bias is not None:
        out = out + bias
    return out


def bilinear(input1, input2, weight, bias=None):
    """y_o = x1^T A_o x2 + b_o for each output feature o."""
    if input1.shape[:-1] != input2.shape[:-1]:
        raise RuntimeError(f"bilinear(): input batch dimensions do not match: got "
                           f"{list(input1.shape[:-1])} and {list(input2.shape[:-1])}")
    if input1.shape[-1] != weight.shape[1]:
        raise RuntimeError(f"bilinear(): input1 size does not match weight size: got "
                           f"{input1.shape[-1]} but expected {weight.shape[1]}")
    if input2.shape[-1] != weight.shape[2]:
        raise RuntimeError(f"bilinear(): input2 size does not match weight size: got "
                           f"{input2.shape[-1]} but expected {weight.shape[2]}")
    out = _linalg.einsum("...i,oij,...j->...o", input1, weight, input2)
    if bias is not None:
        out = out + bias
    return out
