"""OpenCL C generation shared by every kernel family: dtype mapping, loads/stores/conversions,
the helper preamble and the elementwise ("map") kernel template.

Kernels are specialised on dtypes, number of (collapsed) dimensions and contiguity -- never on
shapes, which travel as kernel arguments -- so a test suite of thousands of shapes compiles a
bounded number of programs.
"""
from __future__ import annotations

import numpy

CTYPE = {"bool": "uchar", "uint8": "uchar", "int8": "char", "int16": "short", "int32": "int",
         "int64": "long", "float16": "half", "bfloat16": "bf16", "float32": "float",
         "float64": "double"}
# the narrow floats are stored in 2 bytes and computed (and accumulated) in float, as torch's
# CPU kernels do: float16 as half through vload_half/vstore_half_rte (no cl_khr_fp16 needed),
# bfloat16 as ``bf16``, a struct around its bits (OpenCL C has no bfloat16) read by shifting
# and written rounded to nearest even (see _BF16_HELPERS); being a struct, a kernel that
# forgets to load or store through this module fails to build instead of reading raw bits
HALF = ("float16", "bfloat16")
COMPUTE = dict(CTYPE, float16="float", bfloat16="float")
UNSIGNED = {"char": "uchar", "short": "ushort", "int": "uint", "long": "ulong"}
KIND = {"bool": "b", "uint8": "u", "int8": "i", "int16": "i", "int32": "i", "int64": "i",
        "float16": "f", "bfloat16": "f", "float32": "f", "float64": "f"}
NP_COMPUTE = dict({n: numpy.dtype(n) for n in CTYPE if n != "bfloat16"},
                  bool=numpy.dtype("uint8"), float16=numpy.dtype("float32"),
                  bfloat16=numpy.dtype("float32"))


def load(dtype, ptr, idx):
    if dtype == "float16":
        return f"vload_half({idx}, {ptr})"
    if dtype == "bfloat16":
        return f"bf16_to_float(({ptr})[{idx}].bits)"
    return f"{ptr}[{idx}]"


def store(dtype, ptr, idx, value):
    if dtype == "float16":
        return f"vstore_half_rte({value}, {idx}, {ptr})"
    if dtype == "bfloat16":
        return f"({ptr})[{idx}].bits = float_to_bf16({value})"
    return f"{ptr}[{idx}] = {value}"


def vload(dtype, n, ptr):
    """C expression: the ``n``-vector of compute values at ``ptr`` (vload{n}(0, ptr))."""
    if dtype == "float16":
        return f"vload_half{n}(0, {ptr})"
    if dtype == "bfloat16":
        return f"bf16_to_float{n}(vload{n}(0, (__global const ushort*)({ptr})))"
    return f"vload{n}(0, {ptr})"


def vstore(dtype, n, value, ptr):
    """C statement storing the ``n``-vector ``value`` of compute values at ``ptr``."""
    if dtype == "float16":
        return f"vstore_half{n}_rte({value}, 0, {ptr})"
    if dtype == "bfloat16":
        return f"vstore{n}(float_to_bf16{n}({value}), 0, (__global ushort*)({ptr}))"
    return f"vstore{n}({value}, 0, {ptr})"


def rounded(dtype, expr):
    """``expr`` (a float compute value) rounded to ``dtype`` and back where dtype is narrower
    than its compute type: what an eager op's store and the next op's load would do."""
    if dtype == "bfloat16":
        return f"bf16_to_float(float_to_bf16({expr}))"
    return expr


def convert(expr, src, dst):
    """C expression converting ``expr`` (computed for dtype src) to dst's compute type,
    the way numpy's astype does on x86."""
    if dst == "bool":
        return f"(uchar)(({expr}) != 0)"
    if KIND[src] == "f" and KIND[dst] in "iu" and dst != "int64":
        # numpy truncates through a full-width int: (uint8)-1.0 == 255, not undefined
        return f"({CTYPE[dst]})(int)({expr})"
    if COMPUTE[src] == COMPUTE[dst]:
        return f"({expr})"
    return f"({COMPUTE[dst]})({expr})"


def ptr(dtype, const=True):
    return f"__global {'const ' if const else ''}{CTYPE[dtype]}*"


def round_bfloat16(value):
    """A Python float rounded to the nearest bfloat16 (even on a tie), as a numpy float32:
    torch's round_to_nearest_even, NaN becoming 0x7FC0."""
    f = numpy.float32(value)
    if f != f:
        return numpy.uint32(0x7FC00000).view(numpy.float32)
    u = int(f.view(numpy.uint32))
    u = ((u + 0x7FFF + ((u >> 16) & 1)) >> 16) << 16
    return numpy.uint32(u & 0xFFFFFFFF).view(numpy.float32)


def scalar_arg(dtype, value):
    """A Python scalar as the numpy scalar passed by value to a ``COMPUTE[dtype]`` argument."""
    np_t = NP_COMPUTE[dtype]
    if dtype == "bool":
        return np_t.type(bool(value))
    if np_t.kind in "iu":  # wraps like numpy's astype
        return numpy.array(int(value)).astype(np_t)[()]
    if dtype in ("float16", "float32"):
        # the contract's scalar is a value of the dtype: round it there first (a half kernel
        # computing in float saw 512.75 == half(513) as False; numpy and torch say True)
        value = numpy.dtype(dtype).type(value)
    if dtype == "bfloat16":
        return round_bfloat16(value)
    return np_t.type(value)


# ------------------------------------------------------------------------------- preamble
_INT_HELPERS = """
static inline {T} floordiv_{T}({T} a, {T} b) {{
  if (b == 0) return 0;                      /* numpy: 0 (with a warning) */
  if (b == -1) return ({T})(({U})0 - ({U})a); /* wraps for the minimum, no trap */
  {T} q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}}
static inline {T} remainder_{T}({T} a, {T} b) {{
  if (b == 0 || b == -1) return 0;
  {T} r = a % b;
  return (r != 0 && ((r < 0) != (b < 0))) ? r + b : r;
}}
static inline {T} ipow_{T}({T} a, {T} b) {{
  if (b < 0) return a == 1 ? 1 : (a == -1 ? ((b & 1) ? -1 : 1) : 0);
  {T} r = 1;
  while (b) {{ if (b & 1) r *= a; a *= a; b >>= 1; }}
  return r;
}}
"""
_UINT_HELPERS = """
static inline {T} ipow_{T}({T} a, {T} b) {{
  {T} r = 1;
  while (b) {{ if (b & 1) r *= a; a *= a; b >>= 1; }}
  return r;
}}
"""
# numpy's npy_divmod: Python semantics for float // and %
_FLOAT_HELPERS = """
static inline {T} floordiv_{T}({T} a, {T} b) {{
  if (b == 0) return a / b;
  {T} mod = fmod(a, b);
  {T} div = (a - mod) / b;
  if (mod != 0) {{ if ((b < 0) != (mod < 0)) div -= 1; }}
  if (div != 0) {{ {T} f = floor(div); return (div - f > ({T})0.5) ? f + 1 : f; }}
  return copysign(({T})0, a / b);
}}
static inline {T} remainder_{T}({T} a, {T} b) {{
  {T} mod = fmod(a, b);
  if (b == 0) return mod;
  if (mod != 0) {{ if ((b < 0) != (mod < 0)) mod += b; }}
  else mod = copysign(({T})0, b);
  return mod;
}}
"""


# bfloat16: its bits are the high half of a float32's; stores round to nearest even as torch's
# round_to_nearest_even (a NaN becomes 0x7FC0); vector forms for the vectorized kernels
_BF16_HELPERS = """
typedef struct { ushort bits; } bf16;
static inline float bf16_to_float(ushort b) { return as_float((uint)b << 16); }
static inline ushort float_to_bf16(float f) {
  uint u = as_uint(f);
  return isnan(f) ? (ushort)0x7FC0 : (ushort)((u + 0x7FFFu + ((u >> 16) & 1u)) >> 16);
}
"""
_BF16_VECTOR = """
static inline float{n} bf16_to_float{n}(ushort{n} b) {{ return as_float{n}(convert_uint{n}(b) << 16); }}
static inline ushort{n} float_to_bf16{n}(float{n} f) {{
  uint{n} u = as_uint{n}(f);
  return convert_ushort{n}(select((u + 0x7FFFu + ((u >> 16) & 1u)) >> 16, (uint{n})0x7FC0u,
                                  isnan(f)));
}}
"""


def preamble(dev):
    parts = [_BF16_HELPERS] + [_BF16_VECTOR.format(n=n) for n in (2, 4, 8, 16)]
    if dev.fp64:
        parts.append("#pragma OPENCL EXTENSION cl_khr_fp64 : enable")
    if dev.atomics64:
        parts.append("#pragma OPENCL EXTENSION cl_khr_int64_base_atomics : enable")
    for t in ("char", "short", "int", "long"):
        parts.append(_INT_HELPERS.format(T=t, U=UNSIGNED[t]))
    parts.append(_UINT_HELPERS.format(T="uchar"))
    parts.append(_FLOAT_HELPERS.format(T="float"))
    if dev.fp64:
        parts.append(_FLOAT_HELPERS.format(T="double"))
    return "\n".join(parts) + "\n"


# -------------------------------------------------------------------------- layouts
def broadcast_strides(x, shape):
    """Strides of buffer x broadcast (right-aligned) to ``shape``; 0 on broadcast axes."""
    lead = len(shape) - len(x.shape)
    return tuple([0] * lead + [s if n != 1 else 0 for s, n in zip(x.strides, x.shape)])


def collapse(shape, stride_sets):
    """Merge adjacent axes that are contiguous for every operand; drop size-1 axes.

    Returns (shape, [strides per operand]) with at least one axis.
    """
    dims = [(n, [s[i] for s in stride_sets]) for i, n in enumerate(shape) if n != 1]
    if not dims:
        return (1,), [(0,) for _ in stride_sets]
    merged = [dims[0]]
    for n, ss in dims[1:]:
        pn, pss = merged[-1]
        if all(ps == s * n for ps, s in zip(pss, ss)):
            merged[-1] = (pn * n, ss)
        else:
            merged.append((n, ss))
    return tuple(n for n, _ in merged), [tuple(ss[k] for _, ss in merged)
                                         for k in range(len(stride_sets))]


# --------------------------------------------------------------------- map kernel
def render_map(name, expr, in_types, out_dtype, nd, idx, result_dtype):
    """Elementwise kernel: out[i] = expr(x0, x1, ...), over ``nd`` collapsed axes.

    ``in_types``: per operand, (dtype, is_scalar). nd == 0 means every buffer operand is
    contiguous with the output (the fast path). ``result_dtype`` is the dtype whose compute
    type ``expr`` yields; it is converted to out_dtype on store. Work-item g handles flat
    indices [g*per, g*per+per): on a CPU that is a long chunk LLVM vectorizes, on a GPU one
    element. The strided path decomposes the index once per row of the last axis.
    """
    args = [f"{ptr(out_dtype, False)} out", f"{idx} out_off"]
    argtypes = [None, numpy.int64 if idx == "long" else numpy.int32]
    values = []
    for k, (dtype, is_scalar) in enumerate(in_types):
        if is_scalar:
            args.append(f"{COMPUTE[dtype]} s{k}")
            argtypes.append(NP_COMPUTE[dtype])
            values.append(f"s{k}")
        else:
            args += [f"{ptr(dtype)} x{k}", f"{idx} x{k}_off"]
            argtypes += [None, argtypes[1]]
            values.append(None)
    args += [f"{idx} n", f"{idx} per"]
    argtypes += [argtypes[1]] * 2
    if "err[" in expr:  # a checking op: the thread's error flags (runtime.Device.index_error)
        args.append("__global int* err")
        argtypes.append(None)
    bufs = [k for k, (_, s) in enumerate(in_types) if not s]
    if nd:
        for d in range(nd):
            args.append(f"{idx} n{d}")
            args += [f"{idx} so{d}"] + [f"{idx} s{k}_{d}" for k in bufs]
            argtypes += [argtypes[1]] * (2 + len(bufs))

    def body(out_i, in_i):
        vals = [v if v is not None else load(in_types[k][0], f"x{k}", in_i(k))
                for k, v in enumerate(values)]
        e = expr.format(*[f"v{k}" for k in range(len(vals))])
        decl = " ".join(f"const {COMPUTE[in_types[k][0]]} v{k} = {v};"
                        for k, v in enumerate(vals))
        return f"{decl} {store(out_dtype, 'out', out_i, convert(e, result_dtype, out_dtype))};"

    if not nd:
        loop = f"""
  for ({idx} i = i0; i < i1; ++i) {{ {body("out_off + i", lambda k: f"x{k}_off + i")} }}"""
    else:
        last = nd - 1
        decomp = [f"{idx} j = i % n{last}, r = i / n{last};",
                  f"{idx} oo = out_off + j * so{last};"]
        decomp += [f"{idx} o{k} = x{k}_off + j * s{k}_{last};" for k in bufs]
        for d in range(nd - 2, -1, -1):
            decomp.append(f"{{ {idx} q = r % n{d}; r /= n{d}; oo += q * so{d}; "
                          + " ".join(f"o{k} += q * s{k}_{d};" for k in bufs) + "}")
        loop = f"""
  {idx} i = i0;
  while (i < i1) {{
    {chr(10).join(decomp)}
    {idx} cnt = min(n{last} - j, i1 - i);
    for ({idx} t = 0; t < cnt; ++t) {{
      {body(f"oo + t * so{last}", lambda k: f"o{k} + t * s{k}_{last}")}
    }}
    i += cnt;
  }}"""
    src = f"""
__kernel void {name}({", ".join(args)}) {{
  {idx} i0 = ({idx})get_global_id(0) * per;
  {idx} i1 = min(i0 + per, n);{loop}
}}
"""
    return src, name, argtypes
