"""CUDA kernel bodies as host C++: CuPy's ElementwiseKernel loop rebuilt for nvcc/NVRTC and
for g++, which runs it thread by thread (one thread, grid-stride loops), so the tests execute
the backend's CUDA code without a GPU. Used by test_cuda_backend.py and cupy_standin.py.
"""
from __future__ import annotations

import ctypes
import shutil
import subprocess

from plugrad.backends.cupy import indexing as CI
from plugrad.backends.cupy import templates as K

gxx = shutil.which("g++")

# every ElementwiseKernel body of the backend: (table, key)
ELEMENTWISE = [(K.ELEMENTWISE, key) for key in sorted(K.ELEMENTWISE)] + \
    [(CI.ELEMENTWISE, key) for key in sorted(CI.ELEMENTWISE)]
# non-raw integer parameters passed as scalars (the others are arrays, one value per element)
SCALARS = ("cols", "ignore_index", "rest", "n")
CTYPES = {"int64": "long long", "int32": "int", "bool": "bool"}


def kernel_params(sources, key, ctype):
    """[(C type, name, raw, is_out, scalar)] of an ElementwiseKernel's parameters."""
    in_params, out_params, _, _ = sources[key]
    out = []
    for group, is_out in ((in_params, False), (out_params, True)):
        for param in (p.strip() for p in group.split(",") if p.strip()):
            words = param.split()
            typ = ctype if words[-2] == "T" else CTYPES[words[-2]]
            name = words[-1]
            out.append((typ, name, words[0] == "raw", is_out,
                        words[0] != "raw" and name in SCALARS))
    return out


def elementwise_harness(sources, key, ctype):
    """An ElementwiseKernel body in a loop shaped like CuPy's: non-raw inputs read into
    const locals, outputs as references, raw inputs const (CuPy declares inputs const)."""
    body, name = sources[key][2], sources[key][3]
    args, prologue = [], []
    for typ, var, raw, is_out, scalar in kernel_params(sources, key, ctype):
        if raw:
            args.append(f"{'' if is_out else 'const '}{typ}* {var}")
        elif scalar:
            args.append(f"{typ} {var}")
        else:
            args.append(f"{typ}* _raw_{var}")
            prologue.append(f"{typ}& {var} = _raw_{var}[i];" if is_out else
                            f"const {typ} {var} = _raw_{var}[i];")
    return (f"typedef {ctype} T;\n{K.PREAMBLES.get(key, '')}"
            f"extern \"C\" __global__ void {name}({', '.join(args)}, long long _n) {{\n"
            f"  for (long long i = blockIdx.x * blockDim.x + threadIdx.x; i < _n;"
            f" i += gridDim.x * blockDim.x) {{\n    {' '.join(prologue)}\n    {body};\n  }}\n}}\n")


SHIM = r"""
#include <cmath>
#include <cstring>
struct pg_dim3 { unsigned x, y, z; };
static pg_dim3 blockIdx, threadIdx, blockDim, gridDim;
#define __global__
#define __device__
#define __forceinline__ inline
#define __restrict__
#define __shared__ static
static inline void __syncthreads() {}
static inline float __int_as_float(int i) { float f; std::memcpy(&f, &i, 4); return f; }
static inline double __longlong_as_double(long long i) {
    double d; std::memcpy(&d, &i, 8); return d; }
template <class T> static inline T __shfl_xor_sync(unsigned, T v, int) { return v; }
using std::exp; using std::log; using std::sqrt;
"""

HOST_ATOMICS = r"""
template <class V> static inline V atomicAdd(V* a, V v) { V old = *a; *a = old + v; return old; }
static inline int atomicOr(int* a, int v) { int old = *a; *a = old | v; return old; }
using std::floor; using std::fmod; using std::copysign; using std::erf;
"""




# host function suffix per C type of T; kernels that also run on integer tensors get those
SUFFIX = {"float": "float", "double": "double", "long long": "int64", "int": "int32",
          "unsigned long long": "uint64", "signed char": "int8", "bool": "bool"}
INTEGER_KERNELS = ("zero_divisor", "index_gather", "index_scatter", "index_scatter_add")


def ctypes_for(key):
    """The C types of T a kernel is built for here: integer ones where the backend runs it on
    integer tensors (scatter-add: int32 and uint64 only, the atomicAdd forms it uses)."""
    if key == "index_scatter_add":
        return ("float", "double", "int", "unsigned long long")
    if key in ("index_gather", "index_scatter"):
        return ("float", "double", "long long", "int", "signed char", "bool")
    if key in INTEGER_KERNELS:
        return ("float", "double", "long long", "int")
    return ("float", "double")


def build_host_elementwise(folder):
    """Every ElementwiseKernel body in CuPy's loop shape, compiled by g++:
    ``lib.<name>_<float|double>(params..., n)`` in the order of :func:`kernel_params`."""
    parts = [SHIM, HOST_ATOMICS, K.DIVMOD]
    for sources, key in ELEMENTWISE:
        name = sources[key][3]
        for ctype in ctypes_for(key):
            harness = elementwise_harness(sources, key, ctype)
            harness = harness.replace(f"typedef {ctype} T;\n{K.PREAMBLES.get(key, '')}", "")
            params = kernel_params(sources, key, ctype)
            decl = ", ".join(f"{t} {v}" if scalar else f"{t}* {v}"
                             for t, v, raw, out, scalar in params)
            names = ", ".join(v for _, v, _, _, _ in params)
            fn = f"{name}_{SUFFIX[ctype]}"
            parts.append(f"namespace ns_{fn} {{ typedef {ctype} T;\n"
                         + harness.replace(f'extern "C" __global__ void {name}(', "void run(")
                         + "}\n"
                         f'extern "C" void {fn}({decl}, long long _n) {{ '
                         f"blockDim.x = 1; gridDim.x = 1; blockIdx.x = 0; threadIdx.x = 0; "
                         f"ns_{fn}::run({names}, _n); }}\n")
    src = folder / "elementwise.cpp"
    src.write_text("".join(parts))
    lib = folder / "elementwise.so"
    done = subprocess.run([gxx, "-O1", "-shared", "-fPIC", "-ffp-contract=off", "-o", str(lib),
                           str(src)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return ctypes.CDLL(str(lib))
