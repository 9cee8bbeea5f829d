"""cuda's fused chains (backends/cupy/fused.py) without a GPU: the ElementwiseKernel source
each chain becomes, its body compiled by g++ in CuPy's per-element shape and compared with
numpy (the cpu backend's eager ops), and the glue (which arrays, dtypes and outputs reach the
kernel) through a CuPy stand-in whose ElementwiseKernel runs that host build."""
from __future__ import annotations

import ctypes
import shutil
import subprocess
import types

import numpy as np
import pytest

from plugrad.backends.cupy.fused import CTYPE, CupyChain, accepts, chain_source
from plugrad.plugins.fusion import Chain, Node, Step

F = "float32"
GELU = Chain(inputs=((F, False), (F, True), (F, True), (F, True), (F, True)),
             nodes=(Node("mul", (0, 0), F, F), Node("mul", (-1, 0), F, F),
                    Node("mul", (-2, 1), F, F), Node("add", (0, -3), F, F),
                    Node("mul", (-4, 2), F, F), Node("tanh", (-5,), F, F),
                    Node("add", (-6, 3), F, F), Node("mul", (0, -7), F, F),
                    Node("mul", (-8, 4), F, F)),
             outputs=(8, 5))
MIXED = Chain(inputs=((F, False), (F, False), (F, True), ("int32", True)),
              nodes=(Node("gt", (0, 2), "bool", F), Node("sub", (0, 1), F, F),
                     Node("where", (-1, -2, 2), F, F), Node("cast", (-3,), "int32", F),
                     Node("mul", (-4, -4), "int32", "int32"),
                     Node("maximum", (-5, 3), "int32", "int32"),
                     Node("logical_not", (-1,), "bool", "bool")),
              outputs=(5, 6, 2))


def test_source_of_a_chain():
    ins, outs, body, name = chain_source(GELU)
    assert ins == "float32 x0, float32 x1, float32 x2, float32 x3, float32 x4"
    assert outs == "float32 y0, float32 y1" and name == "pg_fused"
    assert body.splitlines()[:2] == ["const float t0 = (x0 * x0);",
                                     "const float t1 = (t0 * x0);"]
    assert "const float t5 = tanh(t4);" in body and body.endswith("y0 = t8;\ny1 = t5;")
    _, _, body, _ = chain_source(MIXED)
    assert "const bool t0 = (((x0 > x2)) != 0);" in body
    assert "const int t3 = (int)(t2);" in body


def test_accepts_what_it_can_write():
    step = Step("floordiv", (), None, (2,), "int64", "int64")
    assert not accepts(step)
    assert accepts(Step("mul", (), None, (2,), "int64", "int64"))
    assert not accepts(Step("add", (), None, (2,), "float16", "float16"))
    assert not accepts(Step("exp", (), None, (2,), "int32", "int32"))


_NP = {"bool": np.bool_, "int32": np.int32, "int64": np.int64, "float32": np.float32,
       "float64": np.float64}


def _host_build(tmp_path, chain, tag):
    """The chain's body in a per-element loop, compiled by g++; returns a callable taking
    contiguous inputs (already broadcast) and outputs."""
    gxx = shutil.which("g++")
    if gxx is None:
        pytest.fail("g++ is needed to run CUDA bodies on the host")
    ins, outs, body, _ = chain_source(chain)
    decl, load = [], []
    for k, (dt, scalar) in enumerate(chain.inputs):
        c = CTYPE[dt]
        if scalar:
            decl.append(f"{c} x{k}")
        else:
            decl.append(f"const {c}* x{k}_p")
            load.append(f"const {c} x{k} = x{k}_p[i];")
    store = []
    for k, j in enumerate(chain.outputs):
        c = CTYPE[chain.nodes[j].dtype]
        decl.append(f"{c}* y{k}_p")
        load.append(f"{c} y{k};")
        store.append(f"y{k}_p[i] = y{k};")
    src = ("#include <cmath>\n#include <algorithm>\nusing namespace std;\n"
           f'extern "C" void run({", ".join(decl)}, long long n) {{\n'
           f"  for (long long i = 0; i < n; ++i) {{ {' '.join(load)}\n{body}\n"
           f"  {' '.join(store)} }}\n}}\n")
    (tmp_path / f"{tag}.cpp").write_text(src)
    lib = tmp_path / f"{tag}.so"
    done = subprocess.run([gxx, "-O1", "-shared", "-fPIC", "-ffp-contract=off", "-o", str(lib),
                           str(tmp_path / f"{tag}.cpp")], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr + src
    fn = ctypes.CDLL(str(lib)).run

    def call(args, outs):
        c_args, keep = [], []
        for x, (dt, scalar) in zip(args, chain.inputs):
            if scalar:
                kind = ctypes.c_float if dt == "float32" else ctypes.c_double if \
                    dt == "float64" else ctypes.c_int if dt == "int32" else ctypes.c_longlong
                c_args.append(kind(x))
            else:
                a = np.ascontiguousarray(np.broadcast_to(x, outs[0].shape), _NP[dt])
                keep.append(a)
                c_args.append(ctypes.c_void_p(a.ctypes.data))
        c_args += [ctypes.c_void_p(o.ctypes.data) for o in outs]
        fn(*c_args, ctypes.c_longlong(outs[0].size))
    return call


def _eager(chain, args):
    """The chain through the cpu backend's eager ops, node by node."""
    from plugrad.plugins import get_registry
    cpu = get_registry().table("cpu")
    values = []
    for node in chain.nodes:
        ops = [args[a] if a >= 0 else values[-a - 1] for a in node.args]
        values.append(cpu.cast(ops[0], node.dtype) if node.op == "cast" else
                      getattr(cpu, node.op)(*ops))
    return [np.asarray(values[j]) for j in chain.outputs]


@pytest.mark.parametrize("name", ["gelu", "mixed"])
def test_host_build_of_the_body_matches_eager(tmp_path, name):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((7, 33)).astype(np.float32)
    if name == "gelu":
        chain, args = GELU, [x, 0.044715, 0.7978846, 1.0, 0.5]
    else:
        chain, args = MIXED, [x, rng.standard_normal(33).astype(np.float32) * 4, 0.25, 2]
    outs = [np.empty(x.shape, _NP[chain.nodes[j].dtype]) for j in chain.outputs]
    _host_build(tmp_path, chain, name)(args, outs)
    for got, want in zip(outs, _eager(chain, args)):
        if got.dtype.kind == "f":          # libm's tanh against numpy's: a few ulps
            np.testing.assert_allclose(got, want, rtol=4e-7, atol=1e-7)
        else:
            np.testing.assert_array_equal(got, want)


def test_glue_allocates_outputs_and_writes_in_place(tmp_path):
    built = {}

    class ElementwiseKernel:
        def __init__(self, in_params, out_params, body, name):
            assert (in_params, out_params, body, name) == chain_source(MIXED)
            built["run"] = _host_build(tmp_path, MIXED, "glue")

        def __call__(self, *args):
            n_in = len(MIXED.inputs)
            ins, outs = args[:n_in], args[n_in:]
            for x, (dt, scalar) in zip(ins, MIXED.inputs):
                assert (np.asarray(x).dtype == np.dtype(dt)) if scalar else x.dtype == dt
            built["run"](ins, list(outs))

    cupy = types.SimpleNamespace(ElementwiseKernel=ElementwiseKernel, empty=np.empty,
                                 dtype=np.dtype)
    kernel = CupyChain(cupy, MIXED)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((4, 5)).astype(np.float32)
    row = rng.standard_normal(5).astype(np.float32)
    existing = np.zeros((4, 5), np.float32)
    a, b, c = kernel([x, row, 0.25, 2], [None, None, existing], (4, 5))
    assert c is existing and a.dtype == np.int32 and b.dtype == np.bool_
    for got, want in zip((a, b, c), _eager(MIXED, [x, row, 0.25, 2])):
        np.testing.assert_array_equal(got, want)
