"""PyTorch's tensor repr, ported from ``torch/_tensor_str.py`` to run on a host numpy array.

plugrad's ``Tensor.__repr__`` copies its values to the host and calls :func:`format_tensor` with
its metadata; the result must be exactly what torch prints for the same tensor. Function names
below follow ``_tensor_str.py`` so each piece can be checked against its original. Only the
strided, dense path is ported, real and complex (no sparse, quantized or nested tensors).
"""
from __future__ import annotations

import contextlib
import dataclasses
import math
from typing import Any

import numpy

__all__ = ["PrintOptions", "PRINT_OPTS", "set_printoptions", "get_printoptions", "printoptions",
           "format_tensor"]

FLOAT_DTYPES = frozenset({"float16", "bfloat16", "float32", "float64"})
COMPLEX_DTYPES = frozenset({"complex64", "complex128"})
INT_DTYPES = frozenset({"uint8", "uint16", "uint32", "uint64", "int8", "int16", "int32", "int64"})


@dataclasses.dataclass
class PrintOptions:
    """The options ``torch.set_printoptions`` sets (torch's ``__PrinterOptions``)."""

    precision: int = 4
    threshold: float = 1000
    edgeitems: int = 3
    linewidth: int = 80
    sci_mode: bool | None = None


PRINT_OPTS = PrintOptions()

# (precision, threshold, edgeitems, linewidth) per profile, as in torch's set_printoptions
PROFILES = {"default": (4, 1000, 3, 80), "short": (2, 1000, 2, 80), "full": (4, math.inf, 3, 80)}


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None,
                     profile=None, sci_mode=None):
    """Set print options, with ``torch.set_printoptions`` semantics.

    A profile ("default", "short", "full") is applied first and the other arguments override
    it; an unknown profile name is ignored, and ``sci_mode`` is always overwritten (omitting it
    resets it to automatic), both exactly as torch does.
    """
    if profile in PROFILES:
        (PRINT_OPTS.precision, PRINT_OPTS.threshold, PRINT_OPTS.edgeitems,
         PRINT_OPTS.linewidth) = PROFILES[profile]
    if precision is not None:
        PRINT_OPTS.precision = precision
    if threshold is not None:
        PRINT_OPTS.threshold = threshold
    if edgeitems is not None:
        PRINT_OPTS.edgeitems = edgeitems
    if linewidth is not None:
        PRINT_OPTS.linewidth = linewidth
    PRINT_OPTS.sci_mode = sci_mode


def get_printoptions() -> dict[str, Any]:
    """The current options, as keyword arguments for :func:`set_printoptions`."""
    return dataclasses.asdict(PRINT_OPTS)


@contextlib.contextmanager
def printoptions(**kwargs):
    """Temporarily change print options (torch._tensor_str.printoptions)."""
    old = get_printoptions()
    set_printoptions(**kwargs)
    try:
        yield
    finally:
        set_printoptions(**old)


class _Formatter:
    """torch's ``_Formatter``: one mode (int/fixed/scientific) and one width for all elements."""

    __slots__ = ("floating", "int_mode", "sci_mode", "max_width")

    def __init__(self, values: numpy.ndarray, floating: bool):
        self.floating = floating
        self.int_mode = True
        self.sci_mode = False
        self.max_width = 1
        flat = values.reshape(-1)
        if not floating:
            if flat.size:
                # str() length grows with |v|, so the extremes give the widest element
                ends = (flat.min().item(), flat.max().item())
                self.max_width = max(1, *(len(f"{v}") for v in ends))
            return
        # width comes from nonzero finite values only: nan, inf and 0 never widen a column
        finite = flat[numpy.isfinite(flat) & (flat != 0)]
        if finite.size == 0:
            return
        magnitudes = numpy.abs(finite)
        low, high = float(magnitudes.min()), float(magnitudes.max())  # float64, as tensor_totype
        self.int_mode = bool(numpy.all(finite == numpy.ceil(finite)))
        if PRINT_OPTS.sci_mode is None:
            self.sci_mode = high / low > 1000.0 or high > 1.0e8 or low < 1.0e-4
        else:
            self.sci_mode = PRINT_OPTS.sci_mode
        if self.sci_mode:
            spec, extra = f".{PRINT_OPTS.precision}e", 0
        elif self.int_mode:
            spec, extra = ".0f", 1  # room for the "." that marks an integral float
        else:
            spec, extra = f".{PRINT_OPTS.precision}f", 0
        widest = max(len(format(v, spec)) for v in finite.tolist())
        self.max_width = max(self.max_width, widest + extra)

    def format(self, value) -> str:
        if self.floating:
            if self.sci_mode:
                ret = f"{value:{self.max_width}.{PRINT_OPTS.precision}e}"
            elif self.int_mode:
                ret = f"{value:.0f}"
                if not (math.isinf(value) or math.isnan(value)):
                    ret += "."
            else:
                ret = f"{value:.{PRINT_OPTS.precision}f}"
        else:
            ret = f"{value}"
        return (self.max_width - len(ret)) * " " + ret


class _ComplexFormatter:
    """torch's pair of formatters for complex values: the real parts and the imaginary parts
    each get their own mode and width; an element prints as ``re+imj``."""

    __slots__ = ("real", "imag", "max_width")

    def __init__(self, values):
        self.real = _Formatter(values.real, True)
        self.imag = _Formatter(values.imag, True)
        # _vector_str adds 2 (", "): torch's element length is w_re + 2 + w_im + 1 ("j")
        self.max_width = self.real.max_width + self.imag.max_width + 1

    def format(self, value) -> str:
        real_str = self.real.format(value.real)
        imag_str = (self.imag.format(value.imag) + "j").lstrip()
        if imag_str[0] in "+-":
            return real_str + imag_str
        return real_str + "+" + imag_str


def _vector_str(values, indent, summarize, formatter):
    """One bracketed row, wrapped to the line width (torch ``_vector_str``)."""
    element_length = formatter.max_width + 2  # the ", " between elements
    per_line = max(1, math.floor((PRINT_OPTS.linewidth - indent) / element_length))
    edge = PRINT_OPTS.edgeitems
    fmt = formatter.format
    if summarize and not edge:
        data = ["..."]
    elif summarize and values.shape[0] > 2 * edge:
        data = ([fmt(v) for v in values[:edge].tolist()] + [" ..."]
                + [fmt(v) for v in values[-edge:].tolist()])
    else:
        data = [fmt(v) for v in values.tolist()]
    lines = [", ".join(data[i:i + per_line]) for i in range(0, len(data), per_line)]
    return "[" + ("," + "\n" + " " * (indent + 1)).join(lines) + "]"


def _tensor_str_with_formatter(values, indent, summarize, formatter):
    """Nested brackets, one blank line per extra dimension between blocks."""
    dim = values.ndim
    if dim == 0:
        return formatter.format(values.item())
    if dim == 1:
        return _vector_str(values, indent, summarize, formatter)
    edge = PRINT_OPTS.edgeitems
    size = values.shape[0]
    if summarize and size > 2 * edge:
        slices = ([_tensor_str_with_formatter(values[i], indent + 1, summarize, formatter)
                   for i in range(edge)] + ["..."]
                  + [_tensor_str_with_formatter(values[i], indent + 1, summarize, formatter)
                     for i in range(size - edge, size)])
    else:
        slices = [_tensor_str_with_formatter(values[i], indent + 1, summarize, formatter)
                  for i in range(size)]
    return "[" + ("," + "\n" * (dim - 1) + " " * (indent + 1)).join(slices) + "]"


def _summarized_data(values):
    """Only the elements that will be shown, so they alone set the format (torch
    ``get_summarized_data``; like torch, edgeitems=0 keeps a whole 1-d row)."""
    edge = PRINT_OPTS.edgeitems
    if values.ndim == 0:
        return values
    if values.ndim == 1:
        if values.shape[0] > 2 * edge:
            return numpy.concatenate((values[:edge], values[-edge:]))
        return values
    if not edge:
        return values[(slice(0, 0),) * values.ndim]
    size = values.shape[0]
    rows = list(range(edge)) + list(range(size - edge, size)) if size > 2 * edge else range(size)
    return numpy.stack([_summarized_data(values[i]) for i in rows])


def _tensor_str(values, indent, floating):
    if values.size == 0:
        return "[]"
    summarize = values.size > PRINT_OPTS.threshold
    shown = _summarized_data(values) if summarize else values
    formatter = _ComplexFormatter(shown) if floating == "complex" else _Formatter(shown,
                                                                                   floating)
    return _tensor_str_with_formatter(values, indent, summarize, formatter)


def _add_suffixes(tensor_str, suffixes, indent, force_newline):
    """Append ", key=value" items, wrapping to a new line past the line width."""
    tensor_strs = [tensor_str]
    last_line_len = len(tensor_str) - tensor_str.rfind("\n") + 1
    for suffix in suffixes:
        suffix_len = len(suffix)
        if force_newline or last_line_len + suffix_len + 2 > PRINT_OPTS.linewidth:
            tensor_strs.append(",\n" + " " * indent + suffix)
            last_line_len = indent + suffix_len
            force_newline = False
        else:
            tensor_strs.append(", " + suffix)
            last_line_len += suffix_len + 2
    tensor_strs.append(")")
    return "".join(tensor_strs)


def _shows_device(device: str, default_device: str) -> bool:
    """Note [Print tensor device] in _str_intern: print it unless it is the default one."""
    dev_type, _, dev_index = device.partition(":")
    default_type, _, default_index = default_device.partition(":")
    return (dev_type != default_type or dev_type == "mps"
            or (dev_type == "cuda" and (dev_index or "0") != (default_index or "0")))


def _host_values(values, dtype: str) -> tuple[numpy.ndarray, bool]:
    """The values in a numpy dtype whose ``tolist()`` gives the Python scalars torch formats."""
    values = numpy.asarray(values)
    if dtype in FLOAT_DTYPES:
        # float16/bfloat16/float32 widen to float64 exactly; torch formats item() doubles too
        return values.astype(numpy.float64, copy=False), True
    if dtype in COMPLEX_DTYPES:
        return values.astype(numpy.complex128, copy=False), "complex"
    if dtype == "bool":
        return values.astype(numpy.bool_, copy=False), False
    if dtype in INT_DTYPES:
        return (values if values.dtype.kind in "iu" else values.astype(numpy.int64)), False
    raise ValueError(f"format_tensor: expected one of "
                     f"{sorted(FLOAT_DTYPES | COMPLEX_DTYPES | INT_DTYPES | {'bool'})}, got dtype={dtype!r}")


def format_tensor(values: numpy.ndarray, *, dtype: str, default_dtype: str = "float32",
                  device: str | None = None, grad_fn: str | None = None,
                  requires_grad: bool = False, prefix: str = "tensor(",
                  default_device: str = "cpu") -> str:
    """``repr(t)`` of the torch tensor with these host values and this metadata (``_str_intern``).

    :param values: the tensor's elements (bfloat16 ones passed widened to float32).
    :param dtype: dtype name ("float32", "int64", "bool", ...; a "torch." prefix is allowed).
    :param default_dtype: the current ``torch.get_default_dtype()``; decides if dtype is shown.
    :param device: e.g. "cuda:0"; shown unless it is ``default_device`` ("cpu", or "cuda:N").
    :param grad_fn: the backward node's class name, e.g. "AddmmBackward0".
    :param requires_grad: shown only when there is no grad_fn (a leaf), as torch does.
    :param prefix: "tensor(" for plain tensors, "<SubclassName>(" for subclasses.
    """
    dtype = dtype.removeprefix("torch.")
    default_dtype = default_dtype.removeprefix("torch.")
    values, floating = _host_values(values, dtype)
    indent = len(prefix)
    suffixes = []
    if device is not None and _shows_device(device, default_device):
        suffixes.append(f"device='{device}'")
    if values.size == 0:
        # NumPy-like: the shape is printed unless it is (0,); with no elements to infer it
        # from, every dtype but the default float one (int64 and bool too) is printed
        if values.ndim != 1:
            suffixes.append(f"size={tuple(values.shape)}")
        if dtype != default_dtype:
            suffixes.append(f"dtype=torch.{dtype}")
        tensor_str = "[]"
    else:
        if not PRINT_OPTS.edgeitems:
            suffixes.append(f"size={tuple(values.shape)}")
        # int64 and bool are implied by the digits, the default complex type by the j
        default_complex = "complex128" if default_dtype == "float64" else "complex64"
        if dtype not in (default_dtype, default_complex, "int64", "bool"):
            suffixes.append(f"dtype=torch.{dtype}")
        tensor_str = _tensor_str(values, indent, floating)
    if grad_fn is not None:
        suffixes.append(f"grad_fn=<{grad_fn}>")
    elif requires_grad:
        suffixes.append("requires_grad=True")
    return _add_suffixes(prefix + tensor_str, suffixes, indent, force_newline=False)


def format_sparse(s, *, grad_fn=None, requires_grad=False, default_dtype=None) -> str:
    """``repr`` of a sparse COO tensor as torch prints it: indices, values, then size, nnz,
    dtype and layout on their own line (``_str_intern``'s sparse branch)."""
    from ._dtype import get_default_dtype
    indent = len("tensor(")
    default = (default_dtype or get_default_dtype().name).removeprefix("torch.")
    suffixes = []
    device = str(s._device)
    if _shows_device(device, "cpu"):
        suffixes.append(f"device='{device}'")
    suffixes.append(f"size={tuple(s._shape)}")
    suffixes.append(f"nnz={s._nnz()}")
    dtype = s._dtype.name
    default_complex = "complex128" if default == "float64" else "complex64"
    if dtype not in (default, default_complex, "int64", "bool"):
        suffixes.append(f"dtype=torch.{dtype}")
    parts = []
    for prefix, t in (("indices=tensor(", s._sp_indices), ("values=tensor(", s._sp_values)):
        values, floating = _host_values(t._printable(), t._dtype.name)
        text = _tensor_str(values, indent + len(prefix), floating)
        if values.size == 0:
            text += f", size={tuple(values.shape)}"
        parts.append(prefix + text + ")")
    suffixes.append("layout=torch.sparse_coo")
    if grad_fn is not None:
        suffixes.append(f"grad_fn=<{grad_fn}>")
    elif requires_grad:
        suffixes.append("requires_grad=True")
    body = "tensor(" + parts[0] + ",\n" + " " * indent + parts[1]
    return _add_suffixes(body, suffixes, indent, force_newline=True)
