"""Fused elementwise chains (``optimize_program``): one generated kernel per chain.

:func:`plugrad.plugins.fusion.fuse` finds the chains; :func:`render_chain` writes each as one
OpenCL kernel from the same per-op C expressions, loads, stores and conversions the eager map
kernels use (:mod:`.elementwise`, :mod:`.templates`), so every node computes exactly what its
eager kernel computes. ``#pragma OPENCL FP_CONTRACT OFF`` keeps the compiler from fusing a
multiply and an add of two nodes into one fma (eager stores between them): results are
bitwise eager's. Kernels are cached per (chain, layout class) on the device, like the map
kernels, and shapes travel as arguments.
"""
from __future__ import annotations

import numpy

from . import templates as T
from .elementwise import BINARY, KEEP_SCALAR, UNARY, _expr
from .runtime import CLArray

_WHERE = "({0} ? {1} : {2})"


def node_expr(node):
    """(C expression over ``{0}``, ``{1}``, ``{2}``, dtype the expression yields) of a node,
    as the eager kernel of its op computes it; None when the op has no fused form here."""
    op, dt = node.op, node.operand_dtype
    if op == "cast":
        return "{0}", dt
    if op == "where":
        return _WHERE, node.dtype
    if op in UNARY:
        table, boolean = UNARY[op]
    elif op in BINARY:
        table, boolean = BINARY[op]
        if op in ("floordiv", "remainder") and T.KIND[dt] in "iu":
            return None        # integer // and % by a tensor set the device's error flag
        if op == "pow" and dt == "bfloat16":
            return None        # x**3 and x**-2 round their products (elementwise._bf16_pow)
    else:
        return None
    try:
        expr = _expr(table, dt)
    except KeyError:
        return None
    return expr, ("int32" if boolean else dt)


def accepts(step) -> bool:
    """Whether this backend generates ``step``'s op for its dtypes (the planner's veto)."""
    from ...plugins.fusion import Node
    node = Node(step.op, (), step.dtype, step.operand_dtype)
    return step.dtype in T.CTYPE and step.operand_dtype in T.CTYPE and \
        node_expr(node) is not None


def render_chain(name, chain, out_dtypes, nd, idx):
    """(source, name, scalar arg dtypes) of the kernel computing ``chain``.

    Arguments: each output (pointer, offset), each input (pointer, offset, or a scalar by
    value), n, per, then for nd > 0 per axis its size and every operand's stride (outputs
    first). nd == 0: every buffer is contiguous with the outputs."""
    off_t = numpy.int64 if idx == "long" else numpy.int32
    args, argtypes = [], []
    for k, dt in enumerate(out_dtypes):
        args += [f"{T.ptr(dt, False)} out{k}", f"{idx} out{k}_off"]
        argtypes += [None, off_t]
    bufs = []
    for k, (dt, scalar) in enumerate(chain.inputs):
        if scalar:
            args.append(f"{T.COMPUTE[dt]} s{k}")
            argtypes.append(T.NP_COMPUTE[dt])
        else:
            args += [f"{T.ptr(dt)} x{k}", f"{idx} x{k}_off"]
            argtypes += [None, off_t]
            bufs.append(k)
    args += [f"{idx} n", f"{idx} per"]
    argtypes += [off_t, off_t]
    names = [f"o{k}" for k in range(len(out_dtypes))] + [f"i{k}" for k in bufs]
    if nd:
        for d in range(nd):
            args.append(f"{idx} n{d}")
            args += [f"{idx} st_{v}_{d}" for v in names]
            argtypes += [off_t] * (1 + len(names))

    def body(out_i, in_i):
        lines = []
        for k, (dt, scalar) in enumerate(chain.inputs):
            value = f"s{k}" if scalar else T.load(dt, f"x{k}", in_i(k))
            lines.append(f"const {T.COMPUTE[dt]} v{k} = {value};")
        for j, node in enumerate(chain.nodes):
            expr, yields = node_expr(node)
            operands = [f"v{a}" if a >= 0 else f"t{-a - 1}" for a in node.args]
            value = T.rounded(node.dtype, T.convert(expr.format(*operands), yields, node.dtype))
            lines.append(f"const {T.COMPUTE[node.dtype]} t{j} = {value};")
        for k, (node, dt) in enumerate(zip(chain.outputs, out_dtypes)):
            lines.append(T.store(dt, f"out{k}", out_i(k), f"t{node}") + ";")
        return "\n      ".join(lines)

    if not nd:
        loop = f"""
  for ({idx} i = i0; i < i1; ++i) {{
      {body(lambda k: f"out{k}_off + i", lambda k: f"x{k}_off + i")}
  }}"""
    else:
        last = nd - 1
        decomp = [f"{idx} j = i % n{last}, r = i / n{last};"]
        decomp += [f"{idx} p_{v} = {_base(v)} + j * st_{v}_{last};" for v in names]
        for d in range(nd - 2, -1, -1):
            decomp.append(f"{{ {idx} q = r % n{d}; r /= n{d}; "
                          + " ".join(f"p_{v} += q * st_{v}_{d};" for v in names) + " }")
        loop = f"""
  {idx} i = i0;
  while (i < i1) {{
    {chr(10).join(decomp)}
    {idx} cnt = min(n{last} - j, i1 - i);
    for ({idx} t = 0; t < cnt; ++t) {{
      {body(lambda k: f"p_o{k} + t * st_o{k}_{last}",
            lambda k: f"p_i{k} + t * st_i{k}_{last}")}
    }}
    i += cnt;
  }}"""
    src = f"""
#pragma OPENCL FP_CONTRACT OFF
__kernel void {name}({", ".join(args)}) {{
  {idx} i0 = ({idx})get_global_id(0) * per;
  {idx} i1 = min(i0 + per, n);{loop}
}}
"""
    return src, name, argtypes


def _base(v):
    return f"out{v[1:]}_off" if v[0] == "o" else f"x{v[1:]}_off"


class FusedKernel:
    """One chain on one backend: ``kernel(operands, outs)`` -> the output buffers.

    ``operands``: one per chain input (a CLArray, or a Python scalar for a scalar input);
    ``outs``: one per chain output, an existing buffer to write (in place) or None for a new
    contiguous one of ``shape``. Kernels are built per (chain, dtypes, layout) on first use."""

    def __init__(self, backend, chain, name="fused"):
        self.backend = backend
        self.chain = chain
        self.name = name
        self.out_dtypes = tuple(chain.nodes[j].dtype for j in chain.outputs)
        self.launches = 0
        # half-dtype scalar inputs that only mul/div/floordiv read: a Python float stays
        # float32 there, as in the eager kernels (elementwise.KEEP_SCALAR)
        users = {}
        for node in chain.nodes:
            for a in node.args:
                users.setdefault(a, set()).add(node.op)
        self.keep = frozenset(k for k, (dt, scalar) in enumerate(chain.inputs)
                              if scalar and dt in T.HALF and users.get(k)
                              and users[k] <= KEEP_SCALAR)

    def __call__(self, operands, outs, shape):
        be = self.backend
        first = next(x for x in operands if type(x) is CLArray)
        dev = be.devices[first.device]
        outs = [o if o is not None else be._new(shape, dt, first.device)
                for o, dt in zip(outs, self.out_dtypes)]
        n = outs[0].size
        if n == 0:
            return outs
        bufs = [x for x in operands if type(x) is CLArray]
        if all(o.is_contiguous() for o in outs) and all(
                b.shape == shape and b.is_contiguous() for b in bufs):
            nd, dims, sets = 0, (), []
        else:
            dims, sets = T.collapse(shape, [o.strides for o in outs] +
                                    [T.broadcast_strides(b, shape) for b in bufs])
            nd = 0 if len(dims) == 1 and all(s == (1,) for s in sets) else len(dims)
        idx = "long" if dev.is_cpu or n >= 2**31 or any(
            b.data.size // b.itemsize >= 2**31 for b in bufs + outs) else "int"
        key = ("fused", self.chain, self.out_dtypes, nd, idx)
        kernel = dev.kernel(key, lambda: render_chain(self.name, self.chain, self.out_dtypes,
                                                      nd, idx))
        args = []
        for o in outs:
            args += [o.data, o.offset]
        for k, (x, (dt, scalar)) in enumerate(zip(operands, self.chain.inputs)):
            if scalar:
                kept = k in self.keep and x.__class__ is float
                args.append(T.scalar_arg("float32" if kept else dt, x))
            else:
                args += [x.data, x.offset]
        gsize, lsize, per = dev.launch_1d(n)
        args += [n, per]
        if nd:
            for d in range(nd):
                args.append(dims[d])
                args += [s[d] for s in sets]
        kernel(dev.queue, gsize, lsize, *args)
        self.launches += 1
        return outs
