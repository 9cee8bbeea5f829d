"""``torch.finfo`` / ``torch.iinfo``: the numeric limits of a dtype, printed as torch prints them."""
from __future__ import annotations

import numpy

from . import _dtype as D

# numpy has no bfloat16: its limits are float32's exponent range with an 8-bit significand
_BF16 = dict(bits=16, eps=0.0078125, max=3.3895313892515355e+38, min=-3.3895313892515355e+38,
             tiny=1.1754943508222875e-38, resolution=0.01)


def _g(v) -> str:
    """torch prints limits with C's %g (6 significant digits)."""
    return f"{v:g}"


class finfo:
    """Limits of a floating dtype: ``bits, eps, max, min, tiny, smallest_normal, resolution``."""

    def __init__(self, type=None):  # noqa: A002  (torch's parameter name)
        dt = D.get_default_dtype() if type is None else type
        if not isinstance(dt, D.dtype) or not dt.is_floating_point:
            raise TypeError("torch.finfo() requires a floating point input type. Use torch.iinfo "
                            "to handle 'torch.finfo'")
        if dt is D.bfloat16:
            info = _BF16
        else:
            f = numpy.finfo(dt.np)
            info = dict(bits=f.bits, eps=float(f.eps), max=float(f.max), min=float(f.min),
                        tiny=float(f.smallest_normal), resolution=10.0 ** -f.precision)
        self.bits = info["bits"]
        self.eps, self.max, self.min = info["eps"], info["max"], info["min"]
        self.tiny = self.smallest_normal = info["tiny"]
        self.resolution = info["resolution"]
        self.dtype = dt.name

    def __eq__(self, other):
        return isinstance(other, finfo) and other.dtype == self.dtype

    def __hash__(self):
        return hash(("finfo", self.dtype))

    def __repr__(self):
        return (f"finfo(resolution={_g(self.resolution)}, min={_g(self.min)}, max={_g(self.max)}, "
                f"eps={_g(self.eps)}, smallest_normal={_g(self.smallest_normal)}, "
                f"tiny={_g(self.tiny)}, dtype={self.dtype})")


class iinfo:
    """Limits of an integer dtype: ``bits, max, min``."""

    def __init__(self, type):  # noqa: A002
        if type is D.bool_:
            raise TypeError("torch.bool is not supported by torch.iinfo")
        if not isinstance(type, D.dtype) or type.is_floating_point:
            raise TypeError("torch.iinfo() requires an integer input type. Use torch.finfo to "
                            "handle 'torch.iinfo'")
        i = numpy.iinfo(type.np)
        self.bits, self.max, self.min, self.dtype = i.bits, int(i.max), int(i.min), type.name

    def __eq__(self, other):
        return isinstance(other, iinfo) and other.dtype == self.dtype

    def __hash__(self):
        return hash(("iinfo", self.dtype))

    def __repr__(self):
        return f"iinfo(min={_g(float(self.min))}, max={_g(float(self.max))}, dtype={self.dtype})"
