"""plugrad.load of hostile files: no code runs, nothing is written, nothing big is allocated.

Every crafted file here is built byte for byte (a pickle with a code payload, a zip with
``../`` member names, storages and views that declare far more than the file holds, zip and
pickle-memo bombs, truncations), then loaded under ``tracemalloc``: the load must raise a
clear error of torch's kind (``pickle.UnpicklingError`` for a refused global, RuntimeError
for a corrupt archive), the payload's marker file must not exist, no file may appear
anywhere under the temporary directory, and the peak allocation must stay far below what
the file declares. A hypothesis fuzzer mutates valid checkpoints (whole-file and
structure-aware, re-zipped with valid CRCs so the unpickler sees the damage) with the same
assertions.
"""
from __future__ import annotations

import collections
import io
import os
import pickle
import subprocess
import tracemalloc
import zipfile

import numpy as np
import pytest
import torch
from fuzz_profiles import fuzz
from hypothesis import given
from hypothesis import strategies as st

import plugrad

PEAK_LIMIT = 64 << 20      # far below every size declared below (>= 1.6 GB)
CLEAR = (RuntimeError, pickle.UnpicklingError)


def _load_bounded(source, **kwargs):
    """plugrad.load under tracemalloc: (result or exception, peak bytes)."""
    tracemalloc.start()
    try:
        return plugrad.load(source, **kwargs), tracemalloc.get_traced_memory()[1]
    except Exception as exc:  # noqa: BLE001 -- the caller checks the type and message
        return exc, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _files_under(root):
    return {os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs}


# ------------------------------------------------------------------- crafting helpers
class _Storage:
    def __init__(self, numel, key="0", kind=torch.FloatStorage, location="cpu"):
        self.numel, self.key, self.kind, self.location = numel, key, kind, location


class _View:
    """Pickles as torch._utils._rebuild_tensor_v2(storage, offset, size, stride, ...)."""

    def __init__(self, storage, offset, size, stride):
        self.args = (storage, offset, tuple(size), tuple(stride), False,
                     collections.OrderedDict())

    def __reduce__(self):
        return (torch._utils._rebuild_tensor_v2, self.args)


class _Pickler(pickle.Pickler):
    def persistent_id(self, obj):
        if isinstance(obj, _Storage):
            return ("storage", obj.kind, obj.key, obj.location, obj.numel)
        return None


def _data_pkl(obj):
    buf = io.BytesIO()
    _Pickler(buf, protocol=2).dump(obj)
    return buf.getvalue()


def _archive(obj, members, compression=zipfile.ZIP_STORED, extra=(), pkl=None):
    """torch's checkpoint layout (archive/data.pkl, archive/data/<key>, ...) as bytes."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as z:
        z.writestr("archive/data.pkl", _data_pkl(obj) if pkl is None else pkl)
        z.writestr("archive/byteorder", b"little")
        z.writestr("archive/version", b"3\n")
        for key, payload in members.items():
            z.writestr(f"archive/data/{key}", payload)
        for name, payload in extra:
            z.writestr(zipfile.ZipInfo(name), payload)
    return out.getvalue()


def _reducing(fn, *args):
    class Payload:
        def __reduce__(self):
            return (fn, args)
    return Payload()


# ------------------------------------------------------------------------ code payloads
def _payloads(marker):
    """(name, pickled bytes) of files whose unpickling would create ``marker``."""
    touch = f"touch {marker}"
    out = []
    for proto in (0, 2, 4, 5):
        out.append((f"os.system-p{proto}", pickle.dumps(_reducing(os.system, touch),
                                                        protocol=proto)))
    out.append(("subprocess.Popen", pickle.dumps(_reducing(subprocess.Popen, ["touch", marker]),
                                                 protocol=2)))
    out.append(("builtins.eval", pickle.dumps(
        _reducing(eval, f"__import__('os').system('{touch}')"), protocol=2)))
    out.append(("builtins.exec", pickle.dumps(
        _reducing(exec, f"import os; os.system('{touch}')"), protocol=4)))
    out.append(("getattr chain", pickle.dumps(
        _reducing(getattr, _reducing(__import__, "os"), "system"), protocol=2)))
    out.append(("__import__", pickle.dumps(_reducing(__import__, "os"), protocol=2)))
    # protocol 0 INST: instantiate a class by name with arguments
    out.append(("INST opcode", b"(S'" + touch.encode() + b"'\nios\nsystem\n."))
    # a payload tucked inside an otherwise normal state dict
    out.append(("nested in dict", pickle.dumps(
        {"w": np.zeros(2), "x": [1, {"y": _reducing(os.system, touch)}]}, protocol=2)))
    return out


def _payload_cases(tmp_path):
    marker = str(tmp_path / "PWNED")
    cases = []
    for name, payload in _payloads(marker):
        cases.append((name + " (plain pickle)", payload))
        cases.append((name + " (in a checkpoint)", _archive({}, {}, pkl=payload)))
    # a storage type that is not a storage: the persistent id names os.system
    cases.append(("persistent id global", _archive({}, {}, pkl=pickle.dumps(
        _reducing(torch._utils._rebuild_tensor_v2, _reducing(os.system, f"touch {marker}"),
                  0, (1,), (1,)), protocol=2))))
    return marker, cases


def test_code_payloads_never_run(tmp_path):
    marker, cases = _payload_cases(tmp_path)
    before = _files_under(tmp_path)
    for name, data in cases:
        for kwargs in ({}, {"weights_only": True}):
            got, peak = _load_bounded(io.BytesIO(data), **kwargs)
            assert isinstance(got, pickle.UnpicklingError), \
                f"{name}: expected UnpicklingError, got {type(got).__name__}: {got}"
            assert "not an allowed global" in str(got) or "may not be called" in str(got) \
                or "persistent" in str(got), f"{name}: unclear message {got}"
            assert not os.path.exists(marker), f"{name}: the payload ran"
            assert peak < PEAK_LIMIT
    assert _files_under(tmp_path) == before


def test_refused_global_is_named_and_torch_refuses_it_too(tmp_path):
    marker = str(tmp_path / "PWNED")
    data = pickle.dumps(_reducing(os.system, f"touch {marker}"), protocol=2)
    with pytest.raises(pickle.UnpicklingError, match=r"posix\.system|nt\.system"):
        plugrad.load(io.BytesIO(data))
    with pytest.raises(pickle.UnpicklingError):
        torch.load(io.BytesIO(data), weights_only=True)
    assert not os.path.exists(marker)


# --------------------------------------------------------------------- path traversal
TRAVERSAL = ["../../PWNED_ZIP", "archive/../../PWNED_ZIP2", "/tmp/PWNED_ABS",
             "archive/data/../../../PWNED_DATA", "..\\..\\PWNED_WIN"]


@pytest.mark.parametrize("member", TRAVERSAL)
def test_zip_members_with_path_traversal_are_never_written(tmp_path, member, monkeypatch):
    work = tmp_path / "deep" / "er"
    work.mkdir(parents=True)
    monkeypatch.chdir(work)
    valid = _archive({"w": _View(_Storage(2), 0, (2,), (1,))},
                     {"0": np.arange(2, dtype=np.float32).tobytes()},
                     extra=[(member, b"#!/bin/sh\ntouch PWNED\n")])
    target = work / "ckpt.pt"
    target.write_bytes(valid)
    before = _files_under(tmp_path)
    abs_before = os.path.exists("/tmp/PWNED_ABS")
    got, peak = _load_bounded(str(target))
    # loading reads members by name and never extracts: the valid tensor loads, the rest is
    # ignored, and nothing appears on disk
    assert not isinstance(got, Exception), got
    assert got["w"].tolist() == [0.0, 1.0]
    assert _files_under(tmp_path) == before
    assert os.path.exists("/tmp/PWNED_ABS") == abs_before
    # a traversal name in place of data.pkl is not followed either
    evil = io.BytesIO()
    with zipfile.ZipFile(evil, "w") as z:
        z.writestr(zipfile.ZipInfo("../data.pkl"), pickle.dumps({"a": 1}, protocol=2))
    got, _ = _load_bounded(io.BytesIO(evil.getvalue()))
    assert isinstance(got, CLEAR) or got == {"a": 1}
    assert _files_under(tmp_path) == before


def test_save_writes_exactly_its_target(tmp_path):
    before = _files_under(tmp_path)
    plugrad.save({"w": plugrad.ones(3)}, str(tmp_path / "out.pt"))
    assert _files_under(tmp_path) - before == {str(tmp_path / "out.pt")}


# ---------------------------------------------------------------- declared-size bombs
def _zip_bomb():
    n = 400_000_000                                   # 1.6 GB of float32 zeros, deflated
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("archive/data.pkl", _data_pkl({"w": _View(_Storage(n), 0, (n,), (1,))}))
        z.writestr("archive/byteorder", b"little")
        with z.open("archive/data/0", "w", force_zip64=True) as f:
            chunk = bytes(16_000_000)
            for _ in range(100):
                f.write(chunk)
    return out.getvalue()


def _memo_bomb():
    # a valid pickle whose BINPUT becomes LONG_BINPUT 1362194883 (the C unpickler's memo grows)
    return b"\x80\x02}r\xc3\xa1\x30\x51."


BOMBS = {
    "storage numel 1e12 over 16 bytes": (lambda: _archive(
        {"w": _View(_Storage(10**12), 0, (10**12,), (1,))}, {"0": bytes(16)}),
        "declares 1000000000000"),
    "view 1e6 x 1e6 with zero strides": (lambda: _archive(
        {"w": _View(_Storage(4), 0, (10**6, 10**6), (0, 0))}, {"0": bytes(16)}),
        "repeats its storage"),
    "view past the end of its storage": (lambda: _archive(
        {"w": _View(_Storage(4), 2, (10**9,), (1,))}, {"0": bytes(16)}),
        "reads past the end"),
    "deflated zeros declaring 1.6 GB": (_zip_bomb, "compressed and would inflate"),
    "numpy.ndarray((3e9,), uint8) called": (lambda: pickle.dumps(
        _reducing(np.ndarray, (3 * 10**9,), np.dtype("uint8")), protocol=4),
        "may not be called"),
    "set(range(1e9))": (lambda: pickle.dumps(_reducing(set, range(10**9)), protocol=4),
                        "builtins.range"),
    "bytes(1e10)": (lambda: pickle.dumps(_reducing(bytes, 10**10), protocol=4),
                    "only be rebuilt from bytes"),
    "BYTEARRAY8 declaring 16 GB": (lambda: b"\x80\x05\x96" + (2**34).to_bytes(8, "little")
                                   + b"xx.", "corrupt or truncated"),
    "BINBYTES8 declaring 16 GB": (lambda: b"\x80\x04\x8e" + (2**34).to_bytes(8, "little")
                                  + b"xx.", "corrupt or truncated"),
    "memo index 1.3e9": (_memo_bomb, "memo index"),
}


@pytest.mark.parametrize("name", sorted(BOMBS))
def test_declared_sizes_fail_before_allocating(name):
    make, message = BOMBS[name]
    data = make()
    got, peak = _load_bounded(io.BytesIO(data))
    assert isinstance(got, CLEAR), f"{name}: {type(got).__name__}: {got}"
    assert message in str(got), f"{name}: message {got!r} does not say {message!r}"
    # load's own bound: tensors may total max(64 MiB, 16x the file), on top of the file
    bound = max(PEAK_LIMIT, 16 * len(data)) + 2 * len(data) + (1 << 20)
    assert peak < bound, f"{name}: peak allocation {peak} bytes (bound {bound})"


def test_views_of_one_storage_share_it_instead_of_copying():
    """300 tensors over one 8 MB storage once made 2.4 GB; as in torch they are views of it."""
    data = _archive({f"w{i}": _View(_Storage(2_000_000), 4 * i, (2_000_000 - 4 * i,), (1,))
                     for i in range(300)}, {"0": np.arange(2_000_000, dtype=np.float32).tobytes()})
    got, peak = _load_bounded(io.BytesIO(data))
    assert not isinstance(got, Exception), got
    assert peak < 2 * len(data) + PEAK_LIMIT
    assert got["w299"][0].item() == 1196.0
    got["w0"][1196].fill_(-1.0)                      # one storage: the write reaches every view
    assert got["w299"][0].item() == -1.0 and got["w1"][1192].item() == -1.0


def _valid_checkpoint():
    plugrad.manual_seed(0)
    model = plugrad.nn.Sequential(plugrad.nn.Linear(3, 4), plugrad.nn.ReLU(),
                                  plugrad.nn.Linear(4, 2))
    opt = plugrad.optim.Adam(model.parameters())
    model(plugrad.ones(1, 3)).sum().backward()
    opt.step()
    buf = io.BytesIO()
    plugrad.save({"model": model.state_dict(), "opt": opt.state_dict(), "epoch": 3,
                  "note": "hostile-file tests", "half": plugrad.ones(2, dtype=plugrad.float16),
                  "ints": plugrad.arange(5)}, buf)
    return buf.getvalue()


VALID = _valid_checkpoint()


def test_truncation_at_every_byte_is_a_clear_error():
    kinds = collections.Counter()
    for cut in range(len(VALID)):
        got, peak = _load_bounded(io.BytesIO(VALID[:cut]))
        assert isinstance(got, CLEAR), f"cut at {cut}: {type(got).__name__}: {got}"
        assert str(got), f"cut at {cut}: empty message"
        assert peak < PEAK_LIMIT
        kinds[type(got).__name__] += 1
    assert sum(kinds.values()) == len(VALID)


# -------------------------------------------------------------------------- fuzzing
def _mutate(data, edits):
    b = bytearray(data)
    for kind, pos, value in edits:
        pos %= max(len(b), 1)
        if kind == "set" and b:
            b[pos] = value
        elif kind == "delete":
            del b[pos:pos + 1 + value % 8]
        else:
            b[pos:pos] = bytes([value]) * (1 + value % 8)
    return bytes(b)


EDITS = st.lists(st.tuples(st.sampled_from(["set", "set", "set", "delete", "insert"]),
                           st.integers(0, 1 << 20), st.integers(0, 255)), min_size=1, max_size=6)


def _assert_survives(data):
    before = set(os.listdir("."))
    got, peak = _load_bounded(io.BytesIO(data))
    if isinstance(got, Exception):
        assert isinstance(got, CLEAR), f"{type(got).__name__}: {got}"
        assert str(got), "empty error message"
    assert peak < PEAK_LIMIT, f"peak allocation {peak} bytes"
    assert set(os.listdir(".")) == before


@given(edits=EDITS)
@fuzz(scale=8)
def test_fuzz_mutated_checkpoint_files(edits):
    """Random byte edits anywhere (mostly caught by zip CRCs and headers)."""
    _assert_survives(_mutate(VALID, edits))


_MEMBERS = [(i.filename, zipfile.ZipFile(io.BytesIO(VALID)).read(i.filename))
            for i in zipfile.ZipFile(io.BytesIO(VALID)).infolist()]


@given(member=st.sampled_from([0] * 4 + list(range(len(_MEMBERS)))), edits=EDITS)
@fuzz(scale=8)
def test_fuzz_mutated_checkpoint_members(member, edits):
    """Edits inside one member, re-zipped with valid CRCs: data.pkl mostly, so the unpickler
    and the rebuild functions see corrupt opcodes, lengths, memo indices and arguments."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for i, (name, payload) in enumerate(_MEMBERS):
            z.writestr(name, _mutate(payload, edits) if i == member else payload)
    _assert_survives(out.getvalue())
