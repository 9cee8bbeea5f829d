"""Memory formats: ``torch.contiguous_format``, ``channels_last``, ``channels_last_3d``,
``preserve_format``.

A format is a layout, not a value change: ``x.to(memory_format=torch.channels_last)`` returns the
same values with NHWC strides (a permuted contiguous copy viewed back as NCHW), as torch does.
"""
from __future__ import annotations


class memory_format:
    """A memory-format singleton; prints as ``torch.channels_last``."""
    __slots__ = ("name",)

    def __init__(self, name: str):
        self.name = name

    def __repr__(self):
        return f"torch.{self.name}"

    def __reduce__(self):
        return self.name


contiguous_format = memory_format("contiguous_format")
channels_last = memory_format("channels_last")
channels_last_3d = memory_format("channels_last_3d")
preserve_format = memory_format("preserve_format")

# the dim order that is innermost-last for each channels-last format, by tensor rank
_ORDER = {(channels_last, 4): (0, 2, 3, 1), (channels_last_3d, 5): (0, 2, 3, 4, 1)}


def _order(t, fmt):
    order = _ORDER.get((fmt, t.ndim))
    if order is None and fmt in (channels_last, channels_last_3d):
        rank = 4 if fmt is channels_last else 5
        raise RuntimeError(f"required rank {rank} tensor to use {fmt.name} format")
    return order


def is_contiguous_as(t, fmt) -> bool:
    """``t.is_contiguous(memory_format=fmt)``: strides dense in ``fmt``'s dim order."""
    if fmt in (None, contiguous_format, preserve_format):
        order = range(t.ndim)
    else:
        order = _ORDER.get((fmt, t.ndim))
        if order is None:
            return False
    shape, strides = t.shape, t.stride()
    expected = 1
    for d in reversed(tuple(order)):
        if shape[d] != 1 and strides[d] != expected:
            return False
        expected *= shape[d]
    return True


def to_format(t, fmt):
    """``t`` laid out in ``fmt`` (itself when it already is): the values never change."""
    if fmt in (None, preserve_format):
        return t
    if fmt is contiguous_format:
        return t if t.is_contiguous() else t.clone()
    if not isinstance(fmt, memory_format):
        raise TypeError(f"memory_format must be a torch.memory_format, got "
                        f"{type(fmt).__name__}")
    order = _order(t, fmt)
    if is_contiguous_as(t, fmt):
        return t
    inverse = sorted(range(len(order)), key=order.__getitem__)
    return t.permute(*order).clone().permute(*inverse)
