"""The contract-level cases of the conformance kit: every op of the contract, per dtype.

Like Chainer's ``FunctionTestCase``, a case only says how to build inputs and what to call;
the expected result is the cpu backend's (:mod:`plugrad.plugins.conformance.harness` runs
both and compares). Inputs cover the dtypes the frontend sends for each op, 0-d and 0-size
shapes, broadcasting, scalars on either side, permuted/stepped/expanded views and ``out=``
(into a fresh buffer and into a strided view). Integer division by zero is left out: the
contract leaves it unspecified (the frontend raises, as torch does).
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from ..contract import OPS
from .inputs import kind as dtype_kind
from .inputs import (ALL, FLOATS, INTS, SUM_TOL, Alloc, V, data, expanded, make, permuted,
                     scalar_for, stepped)


@dataclass
class Case:
    """One call to compare: ``op(*args, **kwargs)`` on the backend under test and on cpu."""
    op: str
    dtype: str
    label: str
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    tol: tuple | None = None        # (rtol, atol) for float results; None: TOL[dtype]
    mutates: int | None = None      # in-place op: compare this argument after the call
    run: Callable[[Any], list] | None = None   # custom: table -> host values to compare

    @property
    def ident(self) -> str:
        return f"{self.op}-{self.dtype}-{self.label}"

    def execute(self, table) -> list:
        """Run on one dispatch table; host copies of everything the case compares."""
        if self.run is not None:
            return self.run(table)
        args = [make(table, a) for a in self.args]
        kwargs = {k: make(table, v) for k, v in self.kwargs.items()}
        result = getattr(table, self.op)(*args, **kwargs)
        if self.mutates is not None:
            return [table.to_host(args[self.mutates])]
        if isinstance(result, tuple):
            return [table.to_host(r) for r in result]
        return [table.to_host(result)]


# the op lists come from the contract's groups, so a new primitive gets its cases
UNARY_INT = ("neg", "abs", "sign", "logical_not", "bitwise_not")
# the frontend handles integer floor/ceil/round/trunc/isnan/isinf itself (copy or zeros), and
# bitwise_not takes integers only
UNARY_FLOAT = tuple(n for n, s in OPS.items() if s.group == "unary" and n != "bitwise_not")
BINARY = tuple(n for n, s in OPS.items() if s.group == "binary")


def _out_run(op, args, shape, dtype, strided):
    """Call with ``out=``: a fresh buffer, or a strided view inside a bigger one."""
    def run(table):
        margs = [make(table, a) for a in args]
        if not strided:
            out = Alloc(shape, dtype).make(table)
            result = getattr(table, op)(*margs, out=out)
            return [table.to_host(result), table.to_host(out)]
        base = Alloc((2,) + tuple(shape) + (2,), dtype).make(table)
        view = table.slice(base, [(1, 2, 1)] + [(0, n, 1) for n in shape] + [(1, 2, 1)])
        view = table.reshape(view, tuple(shape))
        result = getattr(table, op)(*margs, out=view)
        return [table.to_host(result), table.to_host(base)]
    return run


def unary_cases():
    for op, dt in itertools.chain(itertools.product(UNARY_FLOAT, FLOATS),
                                  [(op, dt) for op in UNARY_INT for dt in ("bool",) + INTS
                                   if not (dt == "bool" and op in ("neg", "sign", "abs"))]):
        floaty = dt in FLOATS
        x = data((4, 9), dt, seed=1, special=floaty)
        if op == "round" and floaty:
            x.flat[8:14] = [0.5, 1.5, 2.5, -0.5, -2.5, 3.5]   # half to even
        res_dt = "bool" if op in ("logical_not", "isnan", "isinf") else dt
        yield Case(op, dt, "contiguous", (x,))
        yield Case(op, dt, "permuted", (permuted(x),))
        yield Case(op, dt, "stepped", (stepped(x),))
        yield Case(op, dt, "0-d", (x[1, 2].copy(),))
        yield Case(op, dt, "0-size", (x[:0],))
        if dt in ("float32", "int32", "bool"):
            yield Case(op, dt, "expanded", (expanded(x),))
            yield Case(op, dt, "out=", run=_out_run(op, (x,), x.shape, res_dt, False))
            yield Case(op, dt, "out=strided", run=_out_run(op, (permuted(x),), x.shape,
                                                           res_dt, True))


def _binary_valid(op, dt):
    """Combinations the frontend sends: ints are promoted for div/atan2, bitwise ops take no
    floats, and bool has no sub, floordiv, remainder or pow."""
    kind = dtype_kind(dt)
    return not (op in ("div", "atan2") and kind != "f" or op.startswith("bitwise") and
                kind == "f" or dt == "bool" and op in ("sub", "floordiv", "remainder", "pow"))


def _binary_inputs(op, dt):
    kind = dtype_kind(dt)
    divides = op in ("floordiv", "remainder", "div")
    a = data((4, 6), dt, seed=2, special=kind == "f")
    b = data((6,), dt, seed=3, special=kind == "f" and not divides, nonzero=kind in "iu")
    if op == "pow" and kind in "iu":
        a, b = (a % 5).astype(dt), (np.abs(b) % 4).astype(dt)
    if divides and kind == "i":
        a[0, :4], b[:2] = [-7, 7, -7, 7], [-2, 3]          # signs: Python-style results
    return a, b


def binary_cases():
    for op, dt in itertools.product(BINARY, ALL):
        if not _binary_valid(op, dt):
            continue
        kind = dtype_kind(dt)
        a, b = _binary_inputs(op, dt)
        s = 2 if op == "pow" and kind in "iu" else scalar_for(dt)
        res_dt = "bool" if op in ("eq", "ne", "lt", "le", "gt", "ge") or \
            op.startswith("logical") else dt
        yield Case(op, dt, "broadcast", (a, b))
        yield Case(op, dt, "scalar-right", (a, s))
        if not (op in ("floordiv", "remainder", "div", "pow") and kind in "iu"):
            yield Case(op, dt, "scalar-left", (s, permuted(a)))
        yield Case(op, dt, "strided", (permuted(a), stepped(np.broadcast_to(b, a.shape))))
        yield Case(op, dt, "0-d", (a[1, 1].copy(), b[2].copy()))
        yield Case(op, dt, "0-size", (a[:0], b))
        if dt in ("float32", "int64", "bool"):
            yield Case(op, dt, "expanded", (expanded(a), b[:1].copy()))
            yield Case(op, dt, "out=", run=_out_run(op, (a, b), a.shape, res_dt, False))
            yield Case(op, dt, "out=strided", run=_out_run(op, (permuted(a), b), a.shape,
                                                           res_dt, True))


def where_cases():
    for dt in ALL:
        cond = data((3, 4), "bool", 5)
        a, b = data((3, 4), dt, 6), data((4,), dt, 7)
        yield Case("where", dt, "broadcast", (cond, a, b))
        yield Case("where", dt, "scalar", (permuted(cond), scalar_for(dt), permuted(a)))
        yield Case("where", dt, "0-d", (cond[0, 0].copy(), a[0, 0].copy(), b[1].copy()))
        yield Case("where", dt, "out=", run=_out_run("where", (cond, a, b), (3, 4), dt, True))


def reduce_cases():
    for op, dt in [(op, dt) for op in ("sum", "prod", "max", "min") for dt in ALL] + \
            [("any", "bool"), ("all", "bool")]:
        x = data((3, 4, 5), dt, 8, low=-1, high=1.3 if op == "prod" else 3)
        tol = SUM_TOL.get(dt)
        for axes, keep in [((0,), False), ((1,), True), ((0, 2), False), ((0, 1, 2), False)]:
            yield Case(op, dt, f"axes{list(axes)}{'-keep' if keep else ''}",
                       (x, axes, keep), tol=tol)
        yield Case(op, dt, "strided", (V(x, ("permute", (2, 0, 1)),
                                         ("slice", [(0, 5, 2), (0, 3, 1), (1, 4, 1)])),
                                       (0, 2), True), tol=tol)
        yield Case(op, dt, "expanded", (expanded(x), (0,), False), tol=tol)
        if op in ("sum", "prod", "any", "all"):
            yield Case(op, dt, "0-size", (x[:0], (0,), True))
        if dt in FLOATS and op in ("sum", "max", "min"):
            y = data((40, 3), dt, 9)
            y[17, 1] = np.nan                              # nan propagates
            yield Case(op, dt, "nan", (y, (0,), False), tol=tol)
    for op, dt in itertools.product(("argmax", "argmin"), INTS + FLOATS):
        x = data((5, 7), dt, 10, low=-1, high=1)
        x[1, :] = x[1, 0]                                  # ties: the first index wins
        if dt in FLOATS:
            x[2, 3] = x[2, 5] = np.nan                     # nan is the extreme; first nan
        for axis, keep in [(0, False), (1, True)]:
            yield Case(op, dt, f"axis{axis}{'-keep' if keep else ''}", (x, axis, keep))
        yield Case(op, dt, "permuted", (permuted(x), 0, False))
    for op, dt in itertools.product(("cumsum", "cumprod"), ALL):
        x = data((4, 6), dt, 11, low=-1, high=1.2)
        yield Case(op, dt, "axis0", (x, 0), tol=SUM_TOL.get(dt))
        yield Case(op, dt, "axis1-permuted", (permuted(x), 1), tol=SUM_TOL.get(dt))
        yield Case(op, dt, "0-size", (x[:0], 0))
    # a float16 running sum kept in float16 stalls at 128 (0.05 is under half its ulp there)
    x = data((4096,), "float16", 21, low=0.03, high=0.07)
    yield Case("cumsum", "float16", "long-4096", (x, 0), tol=SUM_TOL["float16"])


def _view_run(op, x, arg):
    """A view op: values, strides, and that a write through the view reaches the base."""
    def run(table):
        base = table.from_host(x)
        view = getattr(table, op)(base, arg)
        before = table.to_host(view)
        strides = table.strides(view)
        if op != "expand":                                 # expand views are read-only
            fill = True if x.dtype == np.bool_ else 5
            table.assign(view, fill)
        return [before, strides, table.to_host(base)]
    return run


def view_cases():
    for dt in ALL:
        x = data((4, 6), dt, 12)
        yield Case("reshape", dt, "view", run=_view_run("reshape", x, (2, 2, 6)))
        yield Case("reshape", dt, "0-d", (x[:1, :1], ()))
        yield Case("reshape", dt, "copy-of-permuted", (permuted(x), (6, 4)))
        yield Case("permute", dt, "view", run=_view_run("permute", x, (1, 0)))
        yield Case("expand", dt, "view", run=_view_run("expand", x[:1], (3, 6)))
        yield Case("slice", dt, "stepped", run=_view_run("slice", x, [(1, 4, 2), (0, 6, 4)]))
        yield Case("slice", dt, "empty", run=_view_run("slice", x, [(2, 2, 1), (0, 6, 1)]))
        y = data((3, 4, 5), dt, 13)
        yield Case("flip", dt, "axes", (y, (0, 2)))
        yield Case("flip", dt, "stepped", (stepped(y), (1,)))
        pad = True if dt == "bool" else 2
        yield Case("pad", dt, "constant", (y, ((1, 0), (0, 2), (3, 1)), pad))
        yield Case("pad", dt, "permuted", (permuted(y), ((0, 0), (1, 1), (0, 0)), 0))
        z = data((3, 2, 5), dt, 14)
        yield Case("concat", dt, "axis1", ([y, z, V(y, ("slice", [(0, 3, 1), (0, 1, 1),
                                                                   (0, 5, 1)]))], 1))
        yield Case("concat", dt, "permuted", ([y, permuted(y)], 0))


def _index_put_run(x, idx, values, accumulate, view=False):
    def run(table):
        base = table.from_host(x)
        target = table.permute(table.slice(base, [(0, x.shape[0], 2)] + [
            (0, n, 1) for n in x.shape[1:]]), (2, 1, 0)) if view else base
        table.index_put(target, make(table, idx), make(table, values), accumulate)
        return [table.to_host(base)]
    return run


def indexing_cases():
    for dt in ALL:
        x = data((5, 4, 3), dt, 15)
        yield Case("index", dt, "two-indices", (x, [np.array([[0, 4], [2, 2]]),
                                                   np.array([1, 3])]))
        yield Case("index", dt, "permuted", (permuted(x), [np.array([2, 0, 1])]))
        yield Case("index", dt, "0-d-index", (x, [np.array(2)]))
        vals = data((2, 2, 3), dt, 16)
        dup = np.array([0, 3, 3, 1, 0, 0])
        yield Case("index_put", dt, "assign", run=_index_put_run(
            x, [np.array([[4, 1], [2, 0]]), np.array([0, 3])], vals, False))
        yield Case("index_put", dt, "accumulate-duplicates", run=_index_put_run(
            x, [dup], data((6, 4, 3), dt, 17), True))
        yield Case("index_put", dt, "scalar", run=_index_put_run(
            x, [np.array([1, 2])], scalar_for(dt), False))
        yield Case("index_put", dt, "into-view", run=_index_put_run(
            x, [np.array([0, 2, 2])], data((3, 4, 3), dt, 18), True, view=True))
        nz = data((4, 5, 3), dt, 19)
        nz.flat[::3] = 0
        yield Case("nonzero", dt, "3-d", (nz,))
        yield Case("nonzero", dt, "permuted", (permuted(nz),))
        yield Case("nonzero", dt, "all-zero", (np.zeros((3, 2), dt),))
        yield Case("nonzero", dt, "0-size", (np.zeros((0,), dt),))
        yield Case("nonzero", dt, "0-d", (np.ones((), dt),))       # (1, 0): a hit, no coords
        yield Case("nonzero", dt, "0-d-zero", (np.zeros((), dt),))  # (0, 0)
    for dt in INTS + FLOATS:
        x = data((6, 33), dt, 20, low=-1, high=1)
        x[:, ::4] = x[0, 0]                                # many ties: stability matters
        if dt in FLOATS:
            x[1, 3] = x[1, 9] = x[4, 0] = np.nan           # nan sorts as the largest
        for axis, desc in itertools.product((0, 1), (False, True)):
            yield Case("sort", dt, f"axis{axis}{'-desc' if desc else ''}", (x, axis, desc))
        yield Case("sort", dt, "permuted", (permuted(x), 1, True))
        yield Case("sort", dt, "0-size", (x[:0], 1, False))
