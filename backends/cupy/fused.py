"""Fused elementwise chains on CUDA (``optimize_program``): one CuPy ``ElementwiseKernel``
per chain.

CuPy's ElementwiseKernel does what the opencl generator writes by hand -- broadcasting,
strides and the launch shape -- so a chain becomes typed parameters and a body: one
``const`` per node computing the op as CuPy's own ufunc does (float32 stays float32: CUDA's
overloads pick the float functions), then one assignment per stored output. Kernels are
built once per chain (CuPy caches the compiled module per source on disk too). Ops without
a form here (integer ``//`` and ``%``, which the backend runs through numpy's divmod, and
the few unary functions CuPy computes differently) are left out of chains by :func:`accepts`.
"""
from __future__ import annotations

_NAN_MAX = "(({0} >= {1} || isnan({0})) ? {0} : {1})"
_NAN_MIN = "(({0} <= {1} || isnan({0})) ? {0} : {1})"

# op: (float expression, any-other-dtype expression or None, yields bool)
EXPR = {
    "neg": ("(-{0})", "(-{0})", False),
    "abs": ("fabs({0})", "({0} < 0 ? -{0} : {0})", False),
    **{n: (f"{n}({{0}})", None, False) for n in (
        "exp", "log", "log1p", "expm1", "sqrt", "sin", "cos", "tan", "tanh", "asin", "acos",
        "atan", "sinh", "cosh", "erf", "floor", "ceil", "trunc")},
    "round": ("rint({0})", None, False),
    "sigmoid": ("(({T})1 / (({T})1 + exp(-{0})))", None, False),
    "reciprocal": ("(({T})1 / {0})", None, False),
    "add": ("({0} + {1})", "({0} + {1})", False),
    "sub": ("({0} - {1})", "({0} - {1})", False),
    "mul": ("({0} * {1})", "({0} * {1})", False),
    "div": ("({0} / {1})", None, False),
    "pow": ("pow({0}, {1})", None, False),
    "maximum": (_NAN_MAX, "max({0}, {1})", False),
    "minimum": (_NAN_MIN, "min({0}, {1})", False),
    "eq": ("({0} == {1})", "({0} == {1})", True),
    "ne": ("({0} != {1})", "({0} != {1})", True),
    "lt": ("({0} < {1})", "({0} < {1})", True),
    "le": ("({0} <= {1})", "({0} <= {1})", True),
    "gt": ("({0} > {1})", "({0} > {1})", True),
    "ge": ("({0} >= {1})", "({0} >= {1})", True),
    "logical_not": ("(!{0})", "(!{0})", True),
    "logical_and": ("({0} && {1})", "({0} && {1})", True),
    "logical_or": ("({0} || {1})", "({0} || {1})", True),
    "isnan": ("isnan({0})", "false", True),
    "where": ("({0} ? {1} : {2})", "({0} ? {1} : {2})", False),
    "cast": ("{0}", "{0}", False),
}
CTYPE = {"bool": "bool", "uint8": "unsigned char", "int8": "signed char", "int16": "short",
         "int32": "int", "int64": "long long", "float32": "float", "float64": "double"}
"""CuPy's C types of the dtypes chains may hold (float16 never fuses)."""


def accepts(step) -> bool:
    """Whether a step's op and dtypes have a form here."""
    entry = EXPR.get(step.op)
    if entry is None or step.dtype not in CTYPE or step.operand_dtype not in CTYPE:
        return False
    floating = step.operand_dtype in ("float32", "float64")
    return floating or entry[1] is not None


def chain_source(chain, name="pg_fused"):
    """``(in_params, out_params, body, name)`` of the ElementwiseKernel computing ``chain``:
    inputs ``x<k>`` (a scalar input is a typed by-value parameter), outputs ``y<k>``."""
    ins = ", ".join(f"{dt} x{k}" for k, (dt, _) in enumerate(chain.inputs))
    outs = ", ".join(f"{chain.nodes[j].dtype} y{k}" for k, j in enumerate(chain.outputs))
    lines = []
    for j, node in enumerate(chain.nodes):
        dt = node.operand_dtype
        floating, other, boolean = EXPR[node.op]
        expr = floating if dt in ("float32", "float64") else other
        operands = [f"x{a}" if a >= 0 else f"t{-a - 1}" for a in node.args]
        value = expr.replace("{T}", CTYPE[dt]).format(*operands)
        if node.op == "cast" or boolean or node.dtype != dt:
            value = _convert(value, dt, node.dtype)
        lines.append(f"const {CTYPE[node.dtype]} t{j} = {value};")
    lines += [f"y{k} = t{j};" for k, j in enumerate(chain.outputs)]
    return ins, outs, "\n".join(lines), name


def _convert(value, src, dst):
    """numpy's astype as CUDA C: bool is != 0; float to a narrow int goes through int (wraps
    as numpy does on x86)."""
    if dst == "bool":
        return f"(({value}) != 0)"
    if src in ("float32", "float64") and dst in ("uint8", "int8", "int16"):
        return f"({CTYPE[dst]})(int)({value})"
    return f"({CTYPE[dst]})({value})"


class CupyChain:
    """One chain as a callable ``(operands, outs, shape) -> outputs`` over CuPy arrays."""

    def __init__(self, cupy, chain, name="pg_fused"):
        self.cupy = cupy
        self.chain = chain
        in_params, out_params, body, name = chain_source(chain, name)
        self.kernel = cupy.ElementwiseKernel(in_params, out_params, body, name)
        self.out_dtypes = [chain.nodes[j].dtype for j in chain.outputs]

    def __call__(self, operands, outs, shape):
        cp = self.cupy
        outs = [o if o is not None else cp.empty(shape, dtype=dt)
                for o, dt in zip(outs, self.out_dtypes)]
        args = [x if hasattr(x, "shape") else cp.dtype(dt).type(x)
                for x, (dt, _) in zip(operands, self.chain.inputs)]
        self.kernel(*args, *outs)
        return outs
