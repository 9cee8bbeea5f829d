"""plugrad.load of pickles built to hang or exhaust memory (issue 18), and torch parity.

Each attack file is assembled opcode by opcode: a small object (a 'S0' numpy array of 10**12
zero-width items, a list of 40,000 ints, a 1 MB string, a DAG of 60 shared tuples, ints whose
hashes all collide) is memoized once and handed, by two-byte memo references, to whatever
copies, encodes or hashes it -- thousands of times. Unbounded, these ran for minutes ignoring
SIGINT or reached 4-6 GB. They run in one child process under a hard timeout and an address-
space limit, so a regression fails the test instead of hanging CI or the machine; each must
raise a clear error within the load's budget (tracemalloc peak). A hypothesis search composes
the same seeds and amplifiers at random, in-process under a faulthandler watchdog. Finally
torch's weights-only loader is the spec for what a checkpoint may contain: each object either
loads with equal values in both, or is refused by both.
"""
from __future__ import annotations

import collections
import faulthandler
import io
import json
import pickle
import struct
import subprocess
import sys
import tracemalloc
import zipfile

import numpy as np
import pytest
import torch
from fuzz_profiles import fuzz
from hypothesis import given
from hypothesis import strategies as st

import plugrad
from plugrad._serialization_unpickler import BUDGET_FREE, BUDGET_RATIO

CLEAR = (RuntimeError, pickle.UnpicklingError)
OVERHEAD = 4 << 20      # what loading allocates besides what the file makes (code, frames)


# ------------------------------------------------------------------- a tiny assembler
def GLOBAL(module, name):
    return b"c" + f"{module}\n{name}\n".encode()


def INT(n):
    if 0 <= n < 256:
        return b"K" + bytes([n])
    raw = n.to_bytes((n.bit_length() + 8) // 8, "little", signed=True)
    return b"\x8a" + bytes([len(raw)]) + raw


def STR(s):
    raw = s.encode("utf-8", "surrogatepass")
    return b"X" + struct.pack("<I", len(raw)) + raw


def BYTES(b):
    return b"B" + struct.pack("<I", len(b)) + b


def PUT(i):
    return b"r" + struct.pack("<I", i) + b"0"       # LONG_BINPUT, then POP


def GET(i):
    return b"j" + struct.pack("<I", i)


P2, MARK, STOP = b"\x80\x02", b"(", b"."


def s0_array(n, module="numpy.core.multiarray"):
    """numpy's own pickle of an array, but of n zero-width ('S0') items in zero bytes."""
    return (GLOBAL(module, "_reconstruct") + GLOBAL("numpy", "ndarray") + INT(0) + b"\x85"
            + BYTES(b"b") + b"\x87R" + MARK + INT(1) + INT(n) + b"\x85"
            + GLOBAL("numpy", "dtype") + STR("S0") + b"\x89\x88\x87R" + b"\x89" + BYTES(b"")
            + b"tb")


def int_list(values):
    return b"]" + MARK + b"".join(INT(v) for v in values) + b"e"


def dag(levels):
    """t0 = (0,), t(i+1) = (t_i, t_i): 60 levels are 2**60 nodes to hash, in 1 kB."""
    out = INT(0) + b"\x85" + PUT(10)
    for i in range(levels):
        out += GET(10 + i) + GET(10 + i) + b"\x86" + PUT(11 + i)
    return out + GET(10 + levels)


def list_dag(levels):
    """L0 = [0], L(i+1) = [L_i, L_i]: its repr (or str) is 2**60 items long, in 1 kB."""
    out = b"]" + INT(0) + b"a" + PUT(10)
    for i in range(levels):
        out += b"]" + MARK + GET(10 + i) + GET(10 + i) + b"e" + PUT(11 + i)
    return out + GET(10 + levels)


def repeated(seed, call, times):
    """seed memoized as 1, then a list of ``times`` results of ``call`` (bytes using GET(1))."""
    return P2 + seed + PUT(1) + b"]" + MARK + call * times + b"e" + STOP


def via(module, name, *extra):
    """call = module.name(seed, *extra) through memo slot 2."""
    return GLOBAL(module, name) + PUT(2), GET(2) + GET(1) + b"".join(extra) + \
        (b"\x85" if not extra else b"\x86") + b"R"


def amplify(seed, module, name, times, *extra):
    glob, call = via(module, name, *extra)
    return repeated(glob + seed, call, times)


COLLIDE = 2**61 - 1          # i * COLLIDE all hash to 0


def archive_with_pickle(pkl, method):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        info = zipfile.ZipInfo("archive/data.pkl")
        info.compress_type = method
        z.writestr(info, pkl)
        z.writestr("archive/byteorder", b"little")
    return out.getvalue()


def huge_string_pickle(n):
    return b"\x80\x04\x8d" + struct.pack("<Q", n) + b"a" * n + STOP


ATTACKS = {
    # name: (builder, what the error says)
    "S0 array -> frozenset": (lambda: P2 + GLOBAL("builtins", "frozenset") + s0_array(10**12)
                              + b"\x85R" + STOP, "builtins.frozenset"),
    "S0 array -> set": (lambda: P2 + GLOBAL("builtins", "set") + s0_array(10**12) + b"\x85R"
                        + STOP, "numpy dtype 'S0'"),
    "S0 array -> Counter": (lambda: P2 + GLOBAL("collections", "Counter")
                            + s0_array(10**12, "numpy._core.multiarray") + b"\x85R" + STOP,
                            "numpy dtype 'S0'"),
    "S0 array -> tensor rebuild": (lambda: P2 + GLOBAL("plugrad.serialization", "_rebuild_tensor")
                                   + MARK + s0_array(3 * 10**9) + STR("bool") + STR("cpu")
                                   + b"\x89tR" + STOP, "numpy dtype 'S0'"),
    "memo refs x2000 -> set": (lambda: amplify(int_list(range(40_000)), "builtins", "set",
                                               2000), "too expensive"),
    "memo refs x2000 -> Counter": (lambda: amplify(
        b"}" + MARK + b"".join(STR(f"k{i}") + INT(i) for i in range(20_000)) + b"u",
        "collections", "Counter", 2000), "too expensive"),
    "memo refs x2000 -> OrderedDict": (lambda: amplify(
        b"]" + MARK + b"".join(STR(f"k{i}") + INT(i) + b"\x86" for i in range(20_000)) + b"e",
        "collections", "OrderedDict", 2000), "rebuilt empty"),
    "memo refs x2000 -> torch.Size": (lambda: amplify(int_list(range(40_000)), "torch", "Size",
                                                      2000), "too expensive"),
    "memo refs x1500 -> bytearray": (lambda: amplify(BYTES(bytes(1 << 20)), "builtins",
                                                     "bytearray", 1500), "too expensive"),
    "memo refs x1500 -> _codecs utf-32": (lambda: amplify(STR("a" * (1 << 20)), "_codecs",
                                                          "encode", 1500, STR("utf-32")),
                                          "only allowed with 'latin1'"),
    "memo refs x1500 -> _codecs latin1": (lambda: amplify(STR("a" * (1 << 20)), "_codecs",
                                                          "encode", 1500, STR("latin1")),
                                          "too expensive"),
    "_codecs punycode": (lambda: P2 + GLOBAL("_codecs", "encode") + STR("".join(
        chr(0x4E00 + i * 7919 % 20000) for i in range(30_000))) + STR("punycode") + b"\x86R"
        + STOP, "only allowed with 'latin1'"),
    "tuple DAG as a dict key": (lambda: P2 + b"}" + dag(60) + INT(1) + b"s" + STOP,
                                "too expensive"),
    "tuple DAG as a set item": (lambda: P2 + b"\x8f" + MARK + dag(60) + b"\x90" + STOP,
                                "too expensive"),
    "tuple DAG x2000 -> set": (lambda: amplify(b"]" + MARK + dag(24) + b"e", "builtins", "set",
                                               2000), "too expensive"),
    # hash() of it overflows the C stack: a segfault, not an exception
    "a 200,000-deep tuple as a dict key": (lambda: P2 + b"}" + b")" + b"\x85" * 200_000
                                           + INT(1) + b"s" + STOP, "nested 200001 deep"),
    "a list DAG named in an error message": (lambda: P2 + GLOBAL("torch", "Size") + list_dag(60)
                                             + b"\x85R" + STOP, "dims must be ints"),
    "a list DAG called": (lambda: P2 + list_dag(60) + b")R" + STOP, "may not be called"),
    "a list DAG as a storage key": (lambda: archive_with_pickle(
        P2 + GLOBAL("torch._utils", "_rebuild_tensor_v2") + MARK + STR("storage")
        + GLOBAL("torch", "FloatStorage") + list_dag(60) + STR("cpu") + INT(4) + b"tQ"
        + INT(0) + INT(4) + b"\x85" + INT(1) + b"\x85" + b"tR" + STOP, zipfile.ZIP_STORED),
        "a storage key must be str"),
    "20,000 colliding dict keys": (lambda: P2 + b"}" + MARK + b"".join(
        INT(i * COLLIDE) + b"N" for i in range(20_000)) + b"u" + STOP, "collide"),
    "20,000 colliding set items": (lambda: P2 + GLOBAL("builtins", "set") + int_list(
        i * COLLIDE for i in range(20_000)) + b"\x85R" + STOP, "collide"),
    "deflated data.pkl declaring a 64 MB string": (lambda: archive_with_pickle(
        huge_string_pickle(64 << 20), zipfile.ZIP_DEFLATED), "data.pkl is compressed"),
    "bzip2 data.pkl declaring an 8 MB string": (lambda: archive_with_pickle(
        huge_string_pickle(8 << 20), zipfile.ZIP_BZIP2), "data.pkl is compressed"),
    "lzma data.pkl declaring an 8 MB string": (lambda: archive_with_pickle(
        huge_string_pickle(8 << 20), zipfile.ZIP_LZMA), "data.pkl is compressed"),
}

_CHILD = r"""
import json, os, resource, sys, time, tracemalloc
soft, hard = resource.getrlimit(resource.RLIMIT_AS)
vm = int([l for l in open("/proc/self/status") if l.startswith("VmSize")][0].split()[1]) << 10
limit = vm + (3 << 30)        # a regression gets MemoryError, not the machine's memory
resource.setrlimit(resource.RLIMIT_AS, (limit if hard < 0 else min(limit, hard), hard))
import plugrad
for path in sys.argv[1:]:
    print(json.dumps({"start": path}), flush=True)
    tracemalloc.start()
    t0 = time.perf_counter()
    try:
        plugrad.load(path)
        kind, message = "loaded", ""
    except BaseException as err:  # noqa: BLE001 -- reported to the parent
        kind, message = type(err).__name__, str(err)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(json.dumps({"done": path, "kind": kind, "message": message[:300], "peak": peak,
                      "seconds": time.perf_counter() - t0}), flush=True)
"""


@pytest.fixture(scope="module")
def attack_results(tmp_path_factory):
    """Every attack, loaded in one child process with a hard timeout: {name: result}."""
    root = tmp_path_factory.mktemp("attacks")
    paths = {}
    for i, (name, (build, _)) in enumerate(ATTACKS.items()):
        paths[name] = root / f"attack{i}.pt"
        paths[name].write_bytes(build())
    by_path = {str(p): n for n, p in paths.items()}
    results, started = {}, None
    try:
        proc = subprocess.run([sys.executable, "-c", _CHILD, *by_path], capture_output=True,
                              text=True, timeout=300)
        out = proc.stdout
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        proc = None
    for line in out.splitlines():
        event = json.loads(line)
        if "start" in event:
            started = by_path[event["start"]]
        else:
            results[by_path[event["done"]]] = dict(event, size=paths[started].stat().st_size)
            started = None
    for name in ATTACKS:
        results.setdefault(name, {"kind": "hung" if name == started else "not run",
                                  "message": f"child {'timed out' if proc is None else 'died'} "
                                  f"(stderr: {'' if proc is None else proc.stderr[-500:]})"})
    return results


@pytest.mark.parametrize("name", list(ATTACKS))
def test_attack_files_fail_fast_within_the_budget(attack_results, name):
    got = attack_results[name]
    assert got["kind"] in ("RuntimeError", "UnpicklingError"), f"{name}: {got}"
    assert ATTACKS[name][1] in got["message"], f"{name}: {got['message']}"
    # the load's own bound: the unpickler's budget (64 MiB + 64x the file), the file read
    # (twice: from disk, then data.pkl), and the loader's own fixed overhead
    bound = BUDGET_FREE + (BUDGET_RATIO + 2) * got["size"] + OVERHEAD
    assert got["peak"] < bound, f"{name}: peak {got['peak']} bytes (bound {bound})"


# ----------------------------------------------------------------- the same, at random
SEEDS = {
    "ints": lambda n: int_list(range(n)),
    "colliding ints": lambda n: int_list(i * COLLIDE for i in range(n)),
    "str": lambda n: STR("é" * n),
    "bytes": lambda n: BYTES(b"x" * n),
    "tuple DAG": lambda n: dag(min(n, 70)),
    "pairs": lambda n: b"]" + MARK + b"".join(STR(f"{i}") + INT(i) + b"\x86"
                                              for i in range(n)) + b"e",
    "str dict": lambda n: b"}" + MARK + b"".join(STR(f"{i}") + INT(i) for i in range(n)) + b"u",
    "S0 array": lambda n: s0_array(n ** 4),
}
AMPLIFIERS = {
    "set": lambda: via("builtins", "set"),
    "frozenset": lambda: via("builtins", "frozenset"),
    "Counter": lambda: via("collections", "Counter"),
    "OrderedDict": lambda: via("collections", "OrderedDict"),
    "torch.Size": lambda: via("torch", "Size"),
    "bytearray": lambda: via("builtins", "bytearray"),
    "complex": lambda: via("builtins", "complex"),
    "encode latin1": lambda: via("_codecs", "encode", STR("latin1")),
    "encode utf-32": lambda: via("_codecs", "encode", STR("utf-32")),
    "dict key": lambda: (b"", b"}" + GET(1) + INT(1) + b"s"),
    "set item": lambda: (b"", b"\x8f" + MARK + GET(1) + b"\x90"),
    "frozenset item": lambda: (b"", MARK + GET(1) + b"\x91"),
    "tuple of refs": lambda: (b"", MARK + GET(1) * 50 + b"t"),
}


@given(seed=st.sampled_from(sorted(SEEDS)), size=st.integers(1, 30_000),
       amplifier=st.sampled_from(sorted(AMPLIFIERS)), times=st.integers(1, 3000))
@fuzz(scale=4)
def test_fuzz_attack_shapes(seed, size, amplifier, times):
    glob, call = AMPLIFIERS[amplifier]()
    data = repeated(glob + SEEDS[seed](size), call, times)
    faulthandler.dump_traceback_later(120, exit=True)   # a hang kills the run, never stalls it
    tracemalloc.start()
    try:
        plugrad.load(io.BytesIO(data))
    except CLEAR as err:
        assert str(err)
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        faulthandler.cancel_dump_traceback_later()
    assert peak < BUDGET_FREE + (BUDGET_RATIO + 2) * len(data) + OVERHEAD, f"peak {peak} bytes"


# ------------------------------------------------------------------ what loads, and how
def test_the_opcodes_act_only_on_known_containers():
    tensor = GLOBAL("torch._utils", "_rebuild_tensor_v2")
    cases = {
        "SETITEM on a device": P2 + GLOBAL("torch", "device") + STR("cpu") + b"\x85R"
        + STR("type") + STR("x") + b"s" + STOP,
        "APPEND to a dict": P2 + b"}" + INT(1) + b"a" + STOP,
        "BUILD on a list": P2 + b"]" + b"}" + b"b" + STOP,
        "NEWOBJ of torch.Size": P2 + GLOBAL("torch", "Size") + int_list([2, 3]) + b"\x85"
        + b"\x81" + STOP,
        "REDUCE of a dtype": P2 + GLOBAL("torch", "float32") + b")R" + STOP,
        "a storage outside an archive": P2 + tensor + MARK + STR("storage") + b"\x85Q" + INT(0)
        + b"tR" + STOP,
        "bytes(10**10)": P2 + GLOBAL("builtins", "bytes") + INT(10**10) + b"\x85R" + STOP,
        "a numpy array outside a tensor": pickle.dumps(np.arange(3.0), protocol=2),
        "a numpy scalar": pickle.dumps(np.float64(1.5), protocol=2),
        "BYTEARRAY8 of 2**34": b"\x80\x05\x96" + (2**34).to_bytes(8, "little") + b"xx.",
        "a cut-off GLOBAL line": P2 + b"ccollections\nOrdered",
    }
    for name, data in cases.items():
        with pytest.raises(CLEAR) as info:
            plugrad.load(io.BytesIO(data))
        assert str(info.value), name


def _weights_only(obj):
    """(torch's result or its exception type, plugrad's) for torch.save(obj)."""
    buf = io.BytesIO()
    torch.save(obj, buf)
    out = []
    for load in (lambda f: torch.load(f, weights_only=True), plugrad.load):
        try:
            out.append(load(io.BytesIO(buf.getvalue())))
        except pickle.UnpicklingError as err:
            out.append(err)
    return out


def _plain(x):
    """A comparable rendering of a loaded object (tensors as (dtype, values, grad flag))."""
    if isinstance(x, (torch.Tensor, plugrad.Tensor)):
        kind = "param" if isinstance(x, (torch.nn.Parameter, plugrad.nn.Parameter)) else "t"
        return (kind, str(x.dtype).split(".")[-1], x.detach().cpu().tolist(), x.requires_grad,
                sorted((k, _plain(v)) for k, v in vars(x).items() if not k.startswith("_")))
    if isinstance(x, (torch.dtype, plugrad.dtype, torch.device, plugrad.device)):
        return ("meta", str(x))
    if isinstance(x, (torch.Size, plugrad.Size)):
        return ("size", tuple(x))
    if isinstance(x, dict):
        attrs = {k: _plain(v) for k, v in vars(x).items()} if hasattr(x, "__dict__") else {}
        return (type(x).__name__, [(_plain(k), _plain(v)) for k, v in x.items()], attrs)
    if isinstance(x, (list, tuple)):
        return (type(x).__name__, [_plain(v) for v in x])
    if isinstance(x, (set, frozenset)):
        return (type(x).__name__, sorted(map(repr, x)))
    return (type(x).__name__, x)


def _checkpoint_objects():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4))
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    model(torch.randn(5, 3)).sum().backward()
    opt.step()
    tagged = torch.arange(3.0)
    tagged.note = "ema"
    shared = torch.ones(2)
    return {
        "state dict (OrderedDict with _metadata)": model.state_dict(),
        "optimizer state": opt.state_dict(),
        "nested containers": {"a": [1, 2.5, None, True, "s", (3, (4,))], "b": {"c": {}},
                              "big": 2**100, "neg": -7, "inf": float("inf")},
        "set, complex, bytes, bytearray": {"s": {1, 2, "x"}, "c": 1 + 2j, "b": b"raw",
                                           "ba": bytearray(b"xy")},
        "Counter": collections.Counter("abracadabra"),
        "Size, dtype, device": [torch.Size([2, 3]), torch.float16, torch.device("cpu")],
        "parameter and grad flags": {"p": torch.nn.Parameter(torch.ones(2),
                                                             requires_grad=False),
                                     "g": torch.zeros(3, requires_grad=True)},
        "a tensor with an attribute": tagged,
        "one tensor twice": [shared, shared],
        "frozenset": frozenset({1, 2}),
        "slice": slice(1, 2),
        "range": range(3),
        "numpy scalar": np.float64(1.5),
        "numpy array": np.arange(3.0),
        "empty bytes": b"",
    }


@pytest.mark.parametrize("name", list(_checkpoint_objects()))
def test_weights_only_accepts_what_torch_accepts(name):
    obj = _checkpoint_objects()[name]
    theirs, ours = _weights_only(obj)
    if name == "empty bytes":
        # protocol 2 writes b"" as builtins.bytes(): plugrad.save writes it too, so plugrad
        # loads it (bytes() with no argument allocates nothing); torch refuses the name
        assert isinstance(theirs, pickle.UnpicklingError) and ours == b""
        return
    if isinstance(theirs, Exception):
        assert isinstance(ours, pickle.UnpicklingError), f"{name}: torch refuses, plugrad {ours!r}"
        return
    assert not isinstance(ours, Exception), f"{name}: torch loads it, plugrad: {ours}"
    assert _plain(ours) == _plain(theirs), name
    if name == "one tensor twice":
        assert ours[0] is ours[1]


def test_numpy_scalars_load_once_allow_listed_as_in_torch():
    """Refused by default (as torch); the globals torch's error names make both load it."""
    buf = io.BytesIO()
    torch.save({"best_acc": np.float64(0.93), "w": torch.ones(2)}, buf)
    names = [np._core.multiarray.scalar, np.dtype, np.dtypes.Float64DType]
    with pytest.raises(pickle.UnpicklingError, match="numpy._core.multiarray.scalar"):
        plugrad.load(io.BytesIO(buf.getvalue()))
    with torch.serialization.safe_globals(names):
        theirs = torch.load(io.BytesIO(buf.getvalue()))
    with plugrad.serialization.safe_globals(names):
        ours = plugrad.load(io.BytesIO(buf.getvalue()))
    assert type(ours["best_acc"]) is type(theirs["best_acc"]) is np.float64
    assert ours["best_acc"] == theirs["best_acc"] and ours["w"].tolist() == [1.0, 1.0]
