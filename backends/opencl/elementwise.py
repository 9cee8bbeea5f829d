"""Elementwise primitives: one generated map kernel per (op, dtypes, layout class).

Each op is a C expression over the operands' compute values ``{0}``, ``{1}``, ``{2}``, chosen
by dtype kind (f float, i signed, u unsigned, b bool, * any); ``{T}`` is the compute type.
Semantics follow numpy (the cpu backend): Python-style // and %, nan-propagating max/min,
half-to-even rounding. Integer division by zero gives 0 instead of trapping; with a tensor
divisor (the frontend rejects a zero scalar itself) the kernel also sets this thread's
division flag, raised as RuntimeError('ZeroDivisionError ...') at the next ``to_host`` /
``synchronize`` (see :mod:`.runtime`), so no op waits for the host.
"""
from __future__ import annotations

import numpy

from . import templates as T
from .runtime import CLArray

_NAN_MAX = "(({0} >= {1} || isnan({0})) ? {0} : {1})"
_NAN_MIN = "(({0} <= {1} || isnan({0})) ? {0} : {1})"

# name: ({kind: expr}, result is bool)
UNARY = {
    "neg": ({"b": "{0}", "*": "-{0}"}, False),
    "abs": ({"f": "fabs({0})", "i": "({0} < 0 ? -{0} : {0})", "*": "{0}"}, False),
    "sign": ({"f": "(isnan({0}) ? {0} : ({0} > 0 ? ({T})1 : ({0} < 0 ? ({T})-1 : ({T})0)))",
              "i": "(({0} > 0) - ({0} < 0))", "*": "({0} > 0)"}, False),
    **{n: ({"f": f"{n}({{0}})"}, False) for n in (
        "exp", "log", "log1p", "expm1", "sqrt", "sin", "cos", "tan", "tanh", "asin", "acos",
        "atan", "sinh", "cosh", "erf")},
    # exp(-x) overflows to inf for very negative x, giving exactly 0, as torch does
    "sigmoid": ({"f": "(({T})1 / (({T})1 + exp(-{0})))"}, False),
    "floor": ({"f": "floor({0})", "*": "{0}"}, False),
    "ceil": ({"f": "ceil({0})", "*": "{0}"}, False),
    "round": ({"f": "rint({0})", "*": "{0}"}, False),  # rint: half to even
    "trunc": ({"f": "trunc({0})", "*": "{0}"}, False),
    "reciprocal": ({"f": "(({T})1 / {0})"}, False),
    "logical_not": ({"*": "({0} == 0)"}, True),
    "isnan": ({"f": "isnan({0})", "*": "0"}, True),
    "isinf": ({"f": "isinf({0})", "*": "0"}, True),
    "bitwise_not": ({"b": "!{0}", "*": "~{0}"}, False),
}

BINARY = {
    "add": ({"b": "({0} | {1})", "*": "({0} + {1})"}, False),
    "sub": ({"b": "({0} ^ {1})", "*": "({0} - {1})"}, False),
    "mul": ({"b": "({0} & {1})", "*": "({0} * {1})"}, False),
    "div": ({"*": "({0} / {1})"}, False),
    "floordiv": ({"f": "floordiv_{T}({0}, {1})", "i": "floordiv_{T}({0}, {1})",
                  "u": "({1} == 0 ? 0 : {0} / {1})", "b": "({0} & {1})"}, False),
    "remainder": ({"f": "remainder_{T}({0}, {1})", "i": "remainder_{T}({0}, {1})",
                   "u": "({1} == 0 ? 0 : {0} % {1})", "b": "0"}, False),
    "pow": ({"f": "pow({0}, {1})", "i": "ipow_{T}({0}, {1})", "u": "ipow_{T}({0}, {1})",
             "b": "({0} | !{1})"}, False),
    "maximum": ({"f": _NAN_MAX, "*": "max({0}, {1})"}, False),
    "minimum": ({"f": _NAN_MIN, "*": "min({0}, {1})"}, False),
    "atan2": ({"*": "atan2({0}, {1})"}, False),
    "eq": ({"*": "({0} == {1})"}, True),
    "ne": ({"*": "({0} != {1})"}, True),
    "lt": ({"*": "({0} < {1})"}, True),
    "le": ({"*": "({0} <= {1})"}, True),
    "gt": ({"*": "({0} > {1})"}, True),
    "ge": ({"*": "({0} >= {1})"}, True),
    "logical_and": ({"*": "(({0} != 0) && ({1} != 0))"}, True),
    "logical_or": ({"*": "(({0} != 0) || ({1} != 0))"}, True),
    "logical_xor": ({"*": "(({0} != 0) != ({1} != 0))"}, True),
    "bitwise_and": ({"*": "({0} & {1})"}, False),
    "bitwise_or": ({"*": "({0} | {1})"}, False),
    "bitwise_xor": ({"*": "({0} ^ {1})"}, False),
}


# integer // and % by a tensor: the same, plus the zero-divisor flag (err[1]) where it is 0
_ZERO = "({1} == 0 ? (err[1] = 1, ({T})0) : "
CHECKED = {
    "floordiv": {"i": _ZERO + "floordiv_{T}({0}, {1}))", "u": _ZERO + "({T})({0} / {1}))"},
    "remainder": {"i": _ZERO + "remainder_{T}({0}, {1}))", "u": _ZERO + "({T})({0} % {1}))"},
}


def _expr(table, dtype):
    expr = table.get(T.KIND[dtype]) or table.get("*") or table["f"]
    return expr.replace("{T}", T.COMPUTE[dtype])


def _make_unary(name, table, boolean):
    def op(self, x, out=None):
        dt = x.dname
        return self._map(name, _expr(table, dt), (x,), (dt,),
                         "bool" if boolean else dt, out, "int32" if boolean else dt)
    op.__name__ = name
    return op


# ops whose Python float operand torch keeps in float32 next to a float16/bfloat16 tensor (its
# CPU kernels read ``original_scalar_value<float>``); the others round it to the tensor's dtype
KEEP_SCALAR = frozenset({"mul", "div", "floordiv"})


def _bf16_pow(a, b):
    """torch's pow_tensor_scalar for bfloat16 runs x**3 and x**-2 as bfloat16 products, each
    rounded; None for the other exponents (powf, rounded once)."""
    if isinstance(a, CLArray) and not isinstance(b, CLArray) and a.dname == "bfloat16":
        square = T.rounded("bfloat16", "({0} * {0})")
        if b == 3:
            return f"({square} * {{0}})"
        if b == -2:
            return f"(1.0f / {square})"
    return None


def _make_binary(name, table, boolean):
    checked = CHECKED.get(name)
    keep = name in KEEP_SCALAR

    def op(self, a, b, out=None):
        x = a if isinstance(a, CLArray) else b
        dt = x.dname
        expr = table
        if checked and T.KIND[dt] in checked and isinstance(b, CLArray):
            expr = checked
        dtypes = (dt, dt)
        if keep and dt in T.HALF and (a.__class__ is float or b.__class__ is float):
            dtypes = ("float32", dt) if a is not x else (dt, "float32")
        if name == "pow":
            special = _bf16_pow(a, b)
            if special is not None:
                return self._map("pow_bf16", special, (a, b), dtypes, dt, out, dt)
        return self._map(name, _expr(expr, dt), (a, b), dtypes,
                         "bool" if boolean else dt, out, "int32" if boolean else dt)
    op.__name__ = name
    return op


class Elementwise:
    """Needs ``self.devices`` and ``self._new``; every op funnels into :meth:`_map`."""

    locals().update({n: _make_unary(n, *spec) for n, spec in UNARY.items()})
    locals().update({n: _make_binary(n, *spec) for n, spec in BINARY.items()})

    def where(self, cond, a, b, out=None):
        dt = (a if isinstance(a, CLArray) else b if isinstance(b, CLArray) else None)
        dt = dt.dname if dt is not None else (out.dname if out is not None else
                                                    _scalar_dtype(a, b))
        return self._map("where", "({0} ? {1} : {2})", (cond, a, b), ("bool", dt, dt), dt, out)

    def _map(self, name, expr, operands, dtypes, out_dtype, out=None, result_dtype=None):
        """Launch the map kernel computing ``expr`` over operands (buffers or scalars)."""
        done = self._map_contiguous(name, expr, operands, dtypes, out_dtype, out, result_dtype)
        if done is not None:
            return done
        bufs = [x for x in operands if isinstance(x, CLArray)]
        if out is None:
            shape = _broadcast_shape([b.shape for b in bufs])
            out = self._new(shape, out_dtype, bufs[0].device)
        elif any(b.data is out.data and _alias(b, out) for b in bufs):
            tmp = self._map(name, expr, operands, dtypes, out_dtype, None, result_dtype)
            self.assign(out, tmp)
            return out
        n = out.size
        if n == 0:
            return out
        dev = self.devices[out.device]
        if out.is_contiguous() and all(b.shape == out.shape and b.is_contiguous() for b in bufs):
            nd = 0  # the common case, without collapsing axes
        else:
            shape, sets = T.collapse(out.shape, [out.strides] +
                                     [T.broadcast_strides(b, out.shape) for b in bufs])
            nd = 0 if len(shape) == 1 and all(s == (1,) for s in sets) else len(shape)
        idx = "long" if dev.is_cpu or n >= 2**31 or any(
            b.data.size // b.itemsize >= 2**31 for b in bufs + [out]) else "int"
        in_types = tuple((dt, not isinstance(x, CLArray)) for x, dt in zip(operands, dtypes))
        result_dtype = result_dtype or out_dtype
        key = ("map", name, expr, in_types, out_dtype, result_dtype, nd, idx)
        kernel = dev.kernel(key, lambda: T.render_map(
            f"map_{name}", expr, in_types, out_dtype, nd, idx, result_dtype))
        gsize, lsize, per = dev.launch_1d(n)
        args = [out.data, out.offset]
        for x, dt in zip(operands, dtypes):
            if isinstance(x, CLArray):
                args += [x.data, x.offset]
            else:
                args.append(T.scalar_arg(dt, x))
        args += [n, per]
        if "err[" in expr:
            args.append(dev.index_error)
            dev.index_dirty = True
        if nd:
            for d in range(nd):
                args.append(shape[d])
                args += [s[d] for s in sets]
        kernel(dev.queue, gsize, lsize, *args)
        return out

    def _map_contiguous(self, name, expr, operands, dtypes, out_dtype, out, result_dtype):
        """The common case in as little Python as possible: every buffer (``out`` too) is
        contiguous and of one shape; None when that does not hold. Measured on PoCL: a 2x2
        add 10-17 us -> 8 us, of which 2.3 us Python (was 5.6); the key and kernel of each
        (op, dtypes, scalar pattern) are cached on the device."""
        first = out
        for x in operands:
            if type(x) is CLArray:
                if first is None:
                    first = x
                elif x.shape != first.shape or (
                        out is not None and x.data is out.data and x.offset != out.offset):
                    return None
                if not x.is_contiguous():
                    return None
        n = first.size if first is not None else 0
        if not n or (out is not None and not out.is_contiguous()):
            return None
        dev = self.devices[first.device]
        mask = tuple([type(x) is CLArray for x in operands])
        key = (name, expr, dtypes, out_dtype, result_dtype, mask)
        maps = dev.local.maps
        hit = maps.get(key)
        if hit is None:
            if not dev.is_cpu:                    # 32-bit indexing wherever it suffices
                return None
            in_types = tuple((dt, not m) for dt, m in zip(dtypes, mask))
            result = result_dtype or out_dtype
            kernel = dev.kernel(("map", name, expr, in_types, out_dtype, result, 0, "long"),
                                lambda: T.render_map(f"map_{name}", expr, in_types, out_dtype,
                                                     0, "long", result))
            hit = maps[key] = (kernel, numpy.dtype(out_dtype), "err[" in expr)
        kernel, odt, checks = hit
        if out is None:
            out = CLArray(dev.alloc(n * odt.itemsize), first.shape, first.strides, 0, odt,
                          first.device)
            out._contig = True
        args = [out.data, out.offset]
        for x, dt in zip(operands, dtypes):
            if type(x) is CLArray:
                args += [x.data, x.offset]
            else:
                args.append(T.scalar_arg(dt, x))
        gsize, lsize, per = dev.launch_1d(n)
        args += [n, per]
        if checks:
            args.append(dev.index_error)
            dev.index_dirty = True
        kernel(dev.queue, gsize, lsize, *args)
        return out

    def _arange(self, out, start, step):
        dt = out.dname
        dev = self.devices[out.device]
        # torch computes start + i*step in double (int64 for integer dtypes), then casts
        wide = "float64" if T.KIND[dt] == "f" and dev.fp64 else \
            "float32" if T.KIND[dt] == "f" else "int64"
        expr = f"({T.COMPUTE[wide]})({{0}} + ({T.COMPUTE[wide]})i * {{1}})"
        self._map("arange", expr, (start, step), (wide, wide), dt, out, wide)


def _scalar_dtype(a, b):
    vals = (a, b)
    if any(isinstance(v, float) for v in vals):
        return "float32"
    if all(isinstance(v, bool) for v in vals):
        return "bool"
    return "int64"


def _alias(a, out):
    return not (a.offset == out.offset and a.strides == out.strides and a.shape == out.shape)


def _broadcast_shape(shapes):
    nd = max(len(s) for s in shapes)
    out = [1] * nd
    for s in shapes:
        for i, n in enumerate(s, nd - len(s)):
            if n != 1:
                out[i] = n
    return tuple(out)
