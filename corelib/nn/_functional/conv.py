"""conv1d/conv2d and their transposes: argument checks with torch's messages, then one
differentiable op from :mod:`plugrad.ops.conv` (1-D runs as a height-1 image)."""
from __future__ import annotations

from ...ops import conv as _conv
from ...ops._operands import check_same_device
from ...ops.movement import constant_pad

__all__ = ["conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
           "conv_transpose3d", "pair"]


def _tuple(value, n, name=None):
    if isinstance(value, (list, tuple)):
        value = tuple(int(v) for v in value)
        if len(value) == 1:
            return value * n
        if len(value) != n:
            raise RuntimeError(f"expected {name} to be a single integer value or a list of {n} "
                               f"values to match the convolution dimensions, but got "
                               f"{name}={list(value)}")
        return value
    return (int(value),) * n


def pair(value):
    return _tuple(value, 2)


def _check_input(name, input, weight, bias, nd):
    if not input.ndim == nd + 2 and not input.ndim == nd + 1:
        raise RuntimeError(f"Expected {nd + 1}D (unbatched) or {nd + 2}D (batched) input to "
                           f"{name}, but got input of size: {list(input.shape)}")
    if weight.ndim != nd + 2:
        raise RuntimeError(f"Expected {nd + 2}D weight for {name}, but got weight of size "
                           f"{list(weight.shape)}")
    check_same_device(input, weight, *([bias] if bias is not None else []))
    if bias is not None and bias._dtype is not input._dtype:
        raise RuntimeError(f"Input type ({_scalar_name(input)}) and bias type "
                           f"({_scalar_name(bias)}) should be the same")
    if input._dtype is not weight._dtype:
        raise RuntimeError(f"Input type ({input.type()}) and weight type ({weight.type()}) "
                           "should be the same or input should be a MKLDNN tensor and weight is "
                           "a dense tensor")


def _scalar_name(t):
    return {"float32": "float", "float64": "double", "float16": "c10::Half",
            "bfloat16": "c10::BFloat16"}.get(t.dtype.name, t.dtype.name)


def _check_shapes(input, weight, bias, groups, transposed):
    """Channel and bias checks (input is batched here)."""
    shape, wshape = list(input.shape), list(weight.shape)
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    if transposed:
        if shape[1] != wshape[0]:
            raise RuntimeError(f"Given transposed=1, weight of size {wshape}, expected "
                               f"input{shape} to have {wshape[0]} channels, but got "
                               f"{shape[1]} channels instead")
        out_channels = wshape[1] * groups
    else:
        if wshape[0] % groups:
            raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by "
                               f"{groups} at dimension 0, but got weight of size {wshape} "
                               "instead")
        if shape[1] != wshape[1] * groups:
            raise RuntimeError(f"Given groups={groups}, weight of size {wshape}, expected "
                               f"input{shape} to have {wshape[1] * groups} channels, but got "
                               f"{shape[1]} channels instead")
        out_channels = wshape[0]
    if any(k == 0 for k in wshape[2:]):
        sizes = " ".join(f"kernel_{n}: {k}" for n, k in zip(("height", "width"), wshape[2:])) \
            if len(wshape) == 4 else f"kernel_width: {wshape[-1]}"
        raise RuntimeError(f"kernel size should be greater than zero, but got {sizes}")
    if bias is not None and (bias.ndim != 1 or bias.shape[0] != out_channels):
        raise RuntimeError(f"Given weight of size {wshape}, expected bias to be 1-dimensional "
                           f"with {out_channels} elements, but got bias of size "
                           f"{list(bias.shape)} instead")


def _check_params(stride, padding, dilation):
    if any(s <= 0 for s in stride):
        raise RuntimeError("non-positive stride is not supported")
    if any(p < 0 for p in padding):
        raise RuntimeError("negative padding is not supported")
    if any(d <= 0 for d in dilation):
        raise RuntimeError("dilation should be greater than zero")


def _same_padding(input, kernel, dilation, nd):
    """torch's padding='same': total d*(k-1) split evenly, the odd unit padded on the right
    (torch pads the input first, then convolves symmetrically)."""
    sym, extra = [], []
    for k, d in zip(kernel, dilation):
        total = d * (k - 1)
        sym.append(total // 2)
        extra.append(total - 2 * (total // 2))
    if any(extra):
        pads = []
        for e in reversed(extra):
            pads += [0, e]
        input = constant_pad(input, pads)
    return input, tuple(sym)


def _convnd(name, nd, input, weight, bias, stride, padding, dilation, groups):
    _check_input(name, input, weight, bias, nd)
    batched = input.ndim == nd + 2
    if not batched:
        input = input.unsqueeze(0)
    _check_shapes(input, weight, bias, groups, False)
    stride = _tuple(stride, nd, "stride")
    dilation = _tuple(dilation, nd, "dilation")
    kernel = tuple(weight.shape[2:])
    if isinstance(padding, str):
        if padding == "valid":
            padding = (0,) * nd
        elif padding == "same":
            if any(s != 1 for s in stride):
                raise RuntimeError("padding='same' is not supported for strided convolutions")
            input, padding = _same_padding(input, kernel, dilation, nd)
        else:
            raise RuntimeError(f"Invalid padding string: '{padding}'")
    else:
        padding = _tuple(padding, nd, "padding")
    _check_params(stride, padding, dilation)
    spatial = input.shape[2:]
    padded = [s + 2 * p for s, p in zip(spatial, padding)]
    effective = [d * (k - 1) + 1 for k, d in zip(kernel, dilation)]
    if any(p < e for p, e in zip(padded, effective)):
        raise RuntimeError(f"Calculated padded input size per channel: "
                           f"({' x '.join(map(str, padded))}). Kernel size: "
                           f"({' x '.join(map(str, effective))}). Kernel size can't be greater "
                           "than actual input size")
    if nd == 1:
        stride, padding, dilation = (1,) + stride, (0,) + padding, (1,) + dilation
    out = _conv.conv(input, weight, bias, stride, padding, dilation, groups)
    return out if batched else out.squeeze(0)


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D cross-correlation over (N, C, L) or (C, L) input."""
    return _convnd("conv1d", 1, input, weight, bias, stride, padding, dilation, groups)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D cross-correlation over (N, C, H, W) or (C, H, W) input."""
    return _convnd("conv2d", 2, input, weight, bias, stride, padding, dilation, groups)


def _conv_transposend(name, nd, input, weight, bias, stride, padding, output_padding, groups,
                      dilation):
    _check_input(name, input, weight, bias, nd)
    batched = input.ndim == nd + 2
    if not batched:
        input = input.unsqueeze(0)
    _check_shapes(input, weight, bias, groups, True)
    stride = _tuple(stride, nd, "stride")
    padding = _tuple(padding, nd, "padding")
    dilation = _tuple(dilation, nd, "dilation")
    output_padding = _tuple(output_padding, nd, "output_padding")
    _check_params(stride, padding, dilation)
    if any(op >= s and op >= d for op, s, d in zip(output_padding, stride, dilation)):
        names = ("height", "width") if nd == 2 else ("",)
        parts = [f"output_padding_{n}: {v}" for n, v in zip(names, output_padding)] + \
            [f"stride_{n}: {v}" for n, v in zip(names, stride)] + \
            [f"dilation_{n}: {v}" for n, v in zip(names, dilation)]
        raise RuntimeError("output padding must be smaller than either stride or dilation, but "
                           "got " + " ".join(parts))
    kernel = weight.shape[2:]
    spatial = [(i - 1) * s - 2 * p + d * (k - 1) + op + 1 for i, s, p, d, k, op in
               zip(input.shape[2:], stride, padding, dilation, kernel, output_padding)]
    if any(s <= 0 for s in spatial):
        raise RuntimeError(f"Given input size per channel: ({' x '.join(map(str, input.shape[2:]))}"
                           f"). Calculated output size per channel: "
                           f"({' x '.join(map(str, spatial))}). Output size is too small")
    out_shape = (input.shape[0], weight.shape[1] * groups, *spatial)
    if nd == 1:
        stride, padding, dilation = (1,) + stride, (0,) + padding, (1,) + dilation
    out = _conv.conv_t(input, weight, bias, out_shape, stride, padding, dilation, groups)
    return out if batched else out.squeeze(0)


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """1-D transposed convolution (the gradient of conv1d) of (N, C_in, L) input; weight is
    (C_in, C_out / groups, k)."""
    return _conv_transposend("conv_transpose1d", 1, input, weight, bias, stride, padding,
                             output_padding, groups, dilation)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """2-D transposed convolution (the gradient of conv2d) of (N, C_in, H, W) input; weight is
    (C_in, C_out / groups, kh, kw)."""
    return _conv_transposend("conv_transpose2d", 2, input, weight, bias, stride, padding,
                             output_padding, groups, dilation)


# ------------------------------------------------------------------------------ 3-d

def _conv3d_batched(x, weight, stride, padding, dilation, groups):
    """conv3d as one conv2d: the kd depth slices each output depth reads become extra input
    channels ((g, c, i) order, matching weight (Cout, C/g * kd, kh, kw)); padding is already
    applied in depth."""
    from ...ops.movement import stack
    n, c, d, h, w = x.shape
    cout, cg, kd, kh, kw = weight.shape
    od = (d - dilation[0] * (kd - 1) - 1) // stride[0] + 1
    span = stride[0] * (od - 1) + 1
    slices = [x[:, :, i * dilation[0]:i * dilation[0] + span:stride[0]] for i in range(kd)]
    cols = stack(slices, 3)                                       # (N, C, od, kd, H, W)
    cols = cols.permute(0, 2, 1, 3, 4, 5).reshape(n * od, c * kd, h, w)
    out = _conv.conv(cols, weight.reshape(cout, cg * kd, kh, kw), None, stride[1:],
                     padding[1:], dilation[1:], groups)
    oh, ow = out.shape[2:]
    return out.reshape(n, od, cout, oh, ow).transpose(1, 2)


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """3-D cross-correlation over (N, C, D, H, W) or (C, D, H, W) input (composed: one
    conv2d over the depth windows stacked as channels)."""
    from ...ops._graph import named
    _check_input("conv3d", input, weight, bias, 3)
    batched = input.ndim == 5
    x = input if batched else input.unsqueeze(0)
    _check_shapes(x, weight, bias, groups, False)
    stride = _tuple(stride, 3, "stride")
    dilation = _tuple(dilation, 3, "dilation")
    kernel = tuple(weight.shape[2:])
    if isinstance(padding, str):
        if padding == "valid":
            padding = (0, 0, 0)
        elif padding == "same":
            if any(s != 1 for s in stride):
                raise RuntimeError("padding='same' is not supported for strided convolutions")
            x, padding = _same_padding(x, kernel, dilation, 3)
        else:
            raise RuntimeError(f"Invalid padding string: '{padding}'")
    else:
        padding = _tuple(padding, 3, "padding")
    _check_params(stride, padding, dilation)
    padded = [s + 2 * p for s, p in zip(x.shape[2:], padding)]
    effective = [d * (k - 1) + 1 for k, d in zip(kernel, dilation)]
    if any(p < e for p, e in zip(padded, effective)):
        raise RuntimeError(f"Calculated padded input size per channel: "
                           f"({' x '.join(map(str, padded))}). Kernel size: "
                           f"({' x '.join(map(str, effective))}). Kernel size can't be greater "
                           "than actual input size")
    if padding[0]:
        x = constant_pad(x, [0, 0, 0, 0, padding[0], padding[0]])
    out = _conv3d_batched(x, weight, stride, padding, dilation, groups)
    if bias is not None:
        out = out + bias.reshape(1, -1, 1, 1, 1)
    out = named(out, "ConvolutionBackward0")
    return out if batched else out.squeeze(0)


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """3-D transposed convolution of (N, C_in, D, H, W) input; weight is
    (C_in, C_out / groups, kd, kh, kw). Composed: one conv_transpose2d per input depth slice
    with the kd depth taps as extra output channels, then an overlap-add along depth."""
    from ...ops._graph import named
    from .fold import overlap_add
    _check_input("conv_transpose3d", input, weight, bias, 3)
    batched = input.ndim == 5
    x = input if batched else input.unsqueeze(0)
    _check_shapes(x, weight, bias, groups, True)
    stride = _tuple(stride, 3, "stride")
    padding = _tuple(padding, 3, "padding")
    dilation = _tuple(dilation, 3, "dilation")
    output_padding = _tuple(output_padding, 3, "output_padding")
    _check_params(stride, padding, dilation)
    if any(op >= s and op >= d for op, s, d in zip(output_padding, stride, dilation)):
        names = ("depth", "height", "width")
        parts = [f"output_padding_{n}: {v}" for n, v in zip(names, output_padding)] + \
            [f"stride_{n}: {v}" for n, v in zip(names, stride)] + \
            [f"dilation_{n}: {v}" for n, v in zip(names, dilation)]
        raise RuntimeError("output padding must be smaller than either stride or dilation, but "
                           "got " + " ".join(parts))
    n, cin, d, h, w = x.shape
    _, og, kd, kh, kw = weight.shape
    spatial = [(i - 1) * s - 2 * p + dl * (k - 1) + op + 1 for i, s, p, dl, k, op in
               zip(x.shape[2:], stride, padding, dilation, weight.shape[2:], output_padding)]
    if any(s <= 0 for s in spatial):
        raise RuntimeError(f"Given input size per channel: ({' x '.join(map(str, x.shape[2:]))}"
                           f"). Calculated output size per channel: "
                           f"({' x '.join(map(str, spatial))}). Output size is too small")
    # every input depth slice through a 2-D transposed conv; output channels (g, o, i)
    slices = x.transpose(1, 2).reshape(n * d, cin, h, w)
    w2 = weight.reshape(cin, og * kd, kh, kw)
    oh, ow = spatial[1], spatial[2]
    planes = _conv.conv_t(slices, w2, None, (n * d, og * kd * groups, oh, ow), stride[1:],
                          padding[1:], dilation[1:], groups)
    planes = planes.reshape(n, d, groups * og, kd, oh, ow).permute(0, 2, 3, 1, 4, 5)
    full = (d - 1) * stride[0] + dilation[0] * (kd - 1) + 1 + output_padding[0]
    shape = (n, groups * og, full, oh, ow)
    starts = [(i * dilation[0], 0, 0) for i in range(kd)]
    out = overlap_add(planes.unbind(2), shape, starts, (stride[0], 1, 1))
    out = out[:, :, padding[0]:padding[0] + spatial[0]]
    if bias is not None:
        out = out + bias.reshape(1, -1, 1, 1, 1)
    out = named(out, "ConvolutionBackward0")
    return out if batched else out.squeeze(0)
