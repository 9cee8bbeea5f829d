"""plugrad.save / plugrad.load: round trips, torch interoperability, map_location, and refusal
of code payloads, truncated and corrupt files."""
from __future__ import annotations

import io
import os
import pickle
import zipfile
from collections import OrderedDict

import numpy as np
import pytest
import torch

import plugrad

DTYPES = ["float32", "float64", "float16", "int64", "int32", "int16", "int8", "uint8", "bool"]


def _values(dtype, shape=(3, 4)):
    rng = np.random.default_rng(0)
    if dtype == "bool":
        return rng.random(shape) > 0.5
    if dtype.startswith("float"):
        v = rng.standard_normal(shape).astype(dtype)
        v.flat[:3] = [np.inf, -0.0, np.nan]
        return v
    info = np.iinfo(dtype)
    return rng.integers(info.min, info.max, size=shape, dtype=dtype, endpoint=True)


def _roundtrip(obj, **load_kw):
    buf = io.BytesIO()
    plugrad.save(obj, buf)
    buf.seek(0)
    return plugrad.load(buf, **load_kw)


def _same(t, array, dtype, device):
    assert t.dtype is getattr(plugrad, dtype) and t.device.type == device
    np.testing.assert_array_equal(t.cpu().numpy(), array)


@pytest.mark.parametrize("dtype", DTYPES)
def test_every_dtype_round_trips(device, dtype):
    ops = plugrad.tensor(0, device=device).device.ops
    if hasattr(ops, "supports") and not ops.supports("add", dtype):
        pytest.skip(f"{device} has no {dtype}")
    a = _values(dtype)
    t = plugrad.tensor(a, device=device)
    views = {"full": t, "transposed": t.t(), "sliced": t[1:, ::2], "scalar": t[0, 0],
             "empty": t[:0]}
    back = _roundtrip(views)
    for name, v in views.items():
        _same(back[name], v.cpu().numpy(), dtype, device)
    back_cpu = _roundtrip(views, map_location="cpu")
    _same(back_cpu["transposed"], a.T, dtype, "cpu")


def test_state_dicts_and_parameters_round_trip(device):
    model = plugrad.nn.Sequential(plugrad.nn.Linear(4, 3), plugrad.nn.ReLU(),
                                  plugrad.nn.Linear(3, 2)).to(device)
    opt = plugrad.optim.Adam(model.parameters(), lr=0.1)
    x = plugrad.randn(5, 4, device=device)
    model(x).sum().backward()
    opt.step()
    ckpt = {"model": model.state_dict(), "opt": opt.state_dict(), "epoch": 3,
            "param": model[0].weight, "meta": {"name": "mlp", "sizes": (4, 3, 2), "lr": [0.1]}}
    back = _roundtrip(ckpt)
    assert isinstance(back["model"], OrderedDict) and list(back["model"]) == \
        list(model.state_dict())
    assert back["epoch"] == 3 and back["meta"] == ckpt["meta"]
    assert isinstance(back["param"], plugrad.nn.Parameter) and back["param"].requires_grad
    assert back["param"].device.type == device
    st = back["opt"]["state"][0]
    assert st["step"].device.type == "cpu" and st["step"].dtype is plugrad.float32
    assert back["opt"]["param_groups"] == opt.state_dict()["param_groups"]
    # restoring both and stepping again equals continuing the original
    model2 = plugrad.nn.Sequential(plugrad.nn.Linear(4, 3), plugrad.nn.ReLU(),
                                   plugrad.nn.Linear(3, 2)).to(device)
    model2.load_state_dict(back["model"])
    opt2 = plugrad.optim.Adam(model2.parameters(), lr=0.1)
    opt2.load_state_dict(back["opt"])
    for m, o in ((model, opt), (model2, opt2)):
        o.zero_grad()
        m(x).sum().backward()
        o.step()
    for a, b in zip(model.parameters(), model2.parameters()):
        np.testing.assert_array_equal(a.detach().cpu().numpy(), b.detach().cpu().numpy())


def test_torch_loads_plugrad_files_and_back(tmp_path):
    model = plugrad.nn.Linear(3, 2)
    opt = plugrad.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    model(plugrad.ones(1, 3)).sum().backward()
    opt.step()
    path = tmp_path / "ckpt.pt"
    plugrad.save({"model": model.state_dict(), "opt": opt.state_dict(),
                  "ints": plugrad.arange(6).reshape(2, 3)[:, 1:], "dt": plugrad.float16,
                  "size": plugrad.Size([2, 3]), "dev": plugrad.device("cpu")}, path)
    theirs = torch.load(path)   # torch's own safe (weights_only) loader accepts the file
    np.testing.assert_array_equal(theirs["model"]["weight"].numpy(),
                                  model.weight.detach().numpy())
    assert theirs["ints"].tolist() == [[1, 2], [4, 5]] and theirs["ints"].dtype == torch.int64
    assert theirs["dt"] is torch.float16 and theirs["size"] == torch.Size([2, 3])
    assert theirs["dev"] == torch.device("cpu")
    tmodel = torch.nn.Linear(3, 2)
    tmodel.load_state_dict(theirs["model"])
    topt = torch.optim.SGD(tmodel.parameters(), lr=0.1, momentum=0.9)
    topt.load_state_dict(theirs["opt"])
    # and torch's files load here: a state dict, a parameter, a strided view, optimizer state
    tpath = tmp_path / "torch.pt"
    torch.save({"sd": tmodel.state_dict(), "opt": topt.state_dict(),
                "p": torch.nn.Parameter(torch.arange(6.0).reshape(2, 3)),
                "view": torch.arange(10)[2:9:3], "t": torch.arange(12).reshape(3, 4).t()}, tpath)
    ours = plugrad.load(tpath)
    assert ours["view"].tolist() == [2, 5, 8] and ours["t"].tolist() == \
        torch.arange(12).reshape(3, 4).t().tolist()
    assert isinstance(ours["p"], plugrad.nn.Parameter) and ours["p"].requires_grad
    model.load_state_dict(ours["sd"])
    opt.load_state_dict(ours["opt"])
    np.testing.assert_array_equal(opt.state_dict()["state"][0]["momentum_buffer"].numpy(),
                                  topt.state_dict()["state"][0]["momentum_buffer"].numpy())


def test_map_location_forms():
    from conftest import availability
    cl = availability("opencl") is True
    t = plugrad.arange(4.0)
    seen = []

    def to_cpu(storage, location):
        seen.append(location)
        return storage
    assert _roundtrip(t, map_location=to_cpu).device.type == "cpu" and seen == ["cpu"]
    assert _roundtrip(t, map_location=plugrad.device("cpu")).device.type == "cpu"
    assert _roundtrip(t, map_location={"cuda:0": "cpu"}).device.type == "cpu"
    if not cl:
        pytest.skip(f"backend 'opencl' unavailable: {availability('opencl')}")
    on_cl = _roundtrip({"t": t, "n": [t * 2]}, map_location="opencl")
    assert on_cl["t"].device.type == "opencl" and on_cl["n"][0].cpu().tolist() == [0, 2, 4, 6]
    saved_cl = io.BytesIO()
    plugrad.save({"a": t.to("opencl"), "b": t}, saved_cl)
    saved_cl.seek(0)
    back = plugrad.load(saved_cl)          # each tensor returns to where it was saved from
    assert (back["a"].device.type, back["b"].device.type) == ("opencl", "cpu")
    saved_cl.seek(0)
    back = plugrad.load(saved_cl, map_location={"opencl:0": "cpu"})
    assert back["a"].device.type == "cpu" and back["a"].tolist() == [0, 1, 2, 3]
    saved_cl.seek(0)
    back = plugrad.load(saved_cl, map_location=lambda s, loc: s.to("opencl"))
    assert back["b"].device.type == "opencl"
    saved_cl.seek(0)
    assert torch.load(saved_cl, map_location="cpu")["a"].tolist() == [0, 1, 2, 3]


def test_unavailable_saved_device_is_a_clear_error():
    buf = io.BytesIO()
    plugrad.save(plugrad.ones(2), buf)
    with pytest.raises(RuntimeError, match="map_location"):
        plugrad.load(io.BytesIO(buf.getvalue()), map_location="nosuchdevice")


# --------------------------------------------------------------------------- safety
class _Evil:
    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (os.system, (f"touch {self.path}",))


def test_code_payload_is_refused_not_run(tmp_path):
    marker = tmp_path / "pwned"
    plain = pickle.dumps({"w": [1.0], "x": _Evil(marker)})
    with pytest.raises(pickle.UnpicklingError, match=r"GLOBAL (posix|os|nt)\.system"):
        plugrad.load(io.BytesIO(plain))
    # the same payload as data.pkl inside a well-formed checkpoint archive
    buf = io.BytesIO()
    plugrad.save({"w": plugrad.ones(2)}, buf)
    evil = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as src, \
            zipfile.ZipFile(evil, "w") as dst:
        for info in src.infolist():
            payload = src.read(info)
            if info.filename.endswith("data.pkl"):
                payload = pickle.dumps(_Evil(marker), protocol=2)
            dst.writestr(info, payload)
    with pytest.raises(pickle.UnpicklingError, match="not an allowed global"):
        plugrad.load(io.BytesIO(evil.getvalue()))
    assert not marker.exists()


class _Config:
    def __init__(self, depth):
        self.depth = depth


def test_user_classes_need_allow_listing():
    buf = io.BytesIO()
    plugrad.save({"cfg": _Config(3), "w": plugrad.ones(1)}, buf)
    with pytest.raises(pickle.UnpicklingError, match=f"{__name__}._Config"):
        plugrad.load(io.BytesIO(buf.getvalue()))
    with plugrad.serialization.safe_globals([_Config]):
        assert plugrad.load(io.BytesIO(buf.getvalue()))["cfg"].depth == 3
    assert _Config not in plugrad.serialization.get_safe_globals()
    # weights_only=False is torch's explicit opt-in for trusted files (whole modules)
    model = plugrad.nn.Linear(2, 1)
    whole = io.BytesIO()
    plugrad.save(model, whole)
    with pytest.raises(pickle.UnpicklingError, match="Linear"):
        plugrad.load(io.BytesIO(whole.getvalue()))
    again = plugrad.load(io.BytesIO(whole.getvalue()), weights_only=False)
    assert isinstance(again, plugrad.nn.Linear) and again.weight.tolist() == model.weight.tolist()


def _saved(obj=None):
    buf = io.BytesIO()
    plugrad.save({"w": plugrad.arange(1000.0)} if obj is None else obj, buf)
    return buf.getvalue()


def _rewrite(raw, fn):
    """A copy of the archive with fn(name, payload) -> payload (or None to drop it)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(raw)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            payload = fn(info.filename, src.read(info))
            if payload is not None:
                dst.writestr(info, payload)
    return out.getvalue()


def test_truncated_and_corrupt_files():
    raw = _saved()
    for cut in (len(raw) // 2, len(raw) - 10, 40):
        with pytest.raises(RuntimeError, match="zip archive"):
            plugrad.load(io.BytesIO(raw[:cut]))
    with pytest.raises(pickle.UnpicklingError):
        plugrad.load(io.BytesIO(b"not a checkpoint at all"))
    with pytest.raises(RuntimeError, match="data/0: file not found"):
        plugrad.load(io.BytesIO(_rewrite(raw, lambda n, p: None if "/data/" in n else p)))
    with pytest.raises(RuntimeError, match="data/0 declares 1000 float32 elements"):
        plugrad.load(io.BytesIO(_rewrite(raw, lambda n, p: p[:100] if "/data/" in n else p)))
    with pytest.raises(pickle.UnpicklingError, match="truncated"):
        plugrad.load(io.BytesIO(_rewrite(raw, lambda n, p: p[:-20] if n.endswith("data.pkl")
                                         else p)))


def _lying_archive(numel=None, size=None, offset=0, stride=None):
    """A checkpoint of arange(4.0) whose data.pkl lies about its storage or view."""
    from plugrad.serialization import _Pickler

    class Liar(_Pickler):
        def persistent_id(self, obj):
            pid = super().persistent_id(obj)
            return pid if pid is None or numel is None else pid[:4] + (numel,)

        def _tensor(self, t, requires_grad):
            fn, (st, _, sz, strides, rg, hooks) = super()._tensor(t, requires_grad)
            return fn, (st, offset, size or sz, stride or strides, rg, hooks)
    pkl = io.BytesIO()
    Liar(pkl).dump({"w": plugrad.arange(4.0)})
    return _rewrite(_saved({"w": plugrad.arange(4.0)}),
                    lambda n, p: pkl.getvalue() if n.endswith("data.pkl") else p)


@pytest.mark.parametrize("lie,message", [
    (dict(numel=10 ** 15), "declares 1000000000000000 float32 elements"),
    (dict(size=(5,)), "reads past the end of its storage of 4"),
    (dict(offset=3, size=(2,)), "reads past the end"),
    (dict(stride=(-1,)), "invalid tensor view"),
    (dict(numel=-1), "declares -1 elements"),
])
def test_lying_sizes_fail_before_allocating(lie, message):
    with pytest.raises(RuntimeError, match=message):
        plugrad.load(io.BytesIO(_lying_archive(**lie)))
    assert plugrad.load(io.BytesIO(_lying_archive()))["w"].tolist() == [0, 1, 2, 3]


def test_legacy_torch_format_and_unsupported_dtypes():
    legacy = io.BytesIO()
    torch.save(torch.ones(2), legacy, _use_new_zipfile_serialization=False)
    with pytest.raises((RuntimeError, pickle.UnpicklingError)):
        plugrad.load(io.BytesIO(legacy.getvalue()))
    qint = io.BytesIO()
    torch.save(torch.ones(2, dtype=torch.uint16), qint)     # a storage type plugrad lacks
    with pytest.raises(pickle.UnpicklingError, match="_rebuild_tensor_v3"):
        plugrad.load(io.BytesIO(qint.getvalue()))


def test_plain_pickle_of_tensors():
    t = plugrad.tensor([[1.0, 2.0]], requires_grad=True)
    p = plugrad.nn.Parameter(plugrad.tensor([3, 4], dtype=plugrad.float64))
    again = pickle.loads(pickle.dumps({"t": t, "p": p}))
    assert again["t"].requires_grad and again["t"].tolist() == [[1.0, 2.0]]
    assert isinstance(again["p"], plugrad.nn.Parameter) and again["p"].dtype is plugrad.float64
    # plugrad.load reads such a bare pickle too, through the same restricted unpickler
    back = plugrad.load(io.BytesIO(pickle.dumps({"t": t})))
    assert back["t"].tolist() == [[1.0, 2.0]]


def _torch_views():
    x = torch.arange(24.0).reshape(4, 6)
    return {"x": x, "t": x.t(), "row": x[1], "col": x[:, 2], "block": x[1:, 2:],
            "steps": x[::2, ::3], "diag": x.diagonal(), "expanded": x[0:1].expand(3, 6),
            "flat": x.view(-1)[5:17], "permuted": x.view(2, 2, 6).permute(2, 0, 1),
            "scalar": x[2, 3], "empty": x[:0],
            "windows": x.view(-1).as_strided((3, 3), (1, 1), 2)}   # overlapping strides


def test_torch_views_share_their_storage_after_load(device):
    """torch.save keeps one storage for a tensor and its views; loading keeps one too."""
    saved = _torch_views()
    buf = io.BytesIO()
    torch.save(saved, buf)
    back = plugrad.load(io.BytesIO(buf.getvalue()), map_location=device)
    for name, t in saved.items():
        assert back[name].device.type == device
        assert tuple(back[name].shape) == tuple(t.shape), name
        np.testing.assert_array_equal(back[name].cpu().numpy(), t.numpy(), err_msg=name)
        if t.numel() > 1:
            assert back[name].stride() == t.stride(), name
    back["x"].add_(1000.0)
    for name, t in saved.items():
        np.testing.assert_array_equal(back[name].cpu().numpy(), t.numpy() + 1000.0,
                                      err_msg=f"{name} does not share x's storage")
    back["t"][0, 1] = -5.0                    # and through a view, back to the base
    assert back["x"][1, 0].item() == -5.0 and back["row"][0].item() == -5.0


def _plugrad_views(device):
    x = plugrad.arange(24.0, device=device).reshape(4, 6)
    return {"x": x, "t": x.t(), "row": x[1], "col": x[:, 2], "block": x[1:, 2:],
            "steps": x[::2, ::3], "diag": x.diagonal(), "flat": x.view(-1)[5:17],
            "permuted": x.view(2, 2, 6).permute(2, 0, 1), "scalar": x[2, 3]}


def test_plugrad_saved_views_share_their_storage_after_load(device):
    """plugrad.save writes a view over its base's storage (offset, strides), as torch.save
    does: plugrad and torch both load views that still share memory."""
    saved = _plugrad_views(device)
    buf = io.BytesIO()
    plugrad.save(saved, buf)
    archive = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    assert sum("/data/" in n for n in archive.namelist()) == 1   # one storage, not ten
    back = plugrad.load(io.BytesIO(buf.getvalue()), map_location=device)
    theirs = torch.load(io.BytesIO(buf.getvalue()), map_location="cpu", weights_only=True)
    for name, t in saved.items():
        np.testing.assert_array_equal(back[name].cpu().numpy(), t.cpu().numpy(), err_msg=name)
        np.testing.assert_array_equal(theirs[name].numpy(), t.cpu().numpy(), err_msg=name)
        assert back[name].stride() == t.stride() == theirs[name].stride(), name
    back["x"].add_(1000.0)
    theirs["x"].add_(1000.0)
    for name, t in saved.items():
        np.testing.assert_array_equal(back[name].cpu().numpy(), t.cpu().numpy() + 1000.0,
                                      err_msg=f"{name} does not share x's storage")
        np.testing.assert_array_equal(theirs[name].numpy(), t.cpu().numpy() + 1000.0,
                                      err_msg=f"{name} does not share x's storage in torch")


def test_plugrad_saved_views_of_a_transposed_view_load_equal(device):
    base = plugrad.arange(6.0, device=device).reshape(2, 3).t().contiguous().t()  # F strides
    saved = {"base": base, "row": base[0]}
    buf = io.BytesIO()
    plugrad.save(saved, buf)
    back = plugrad.load(io.BytesIO(buf.getvalue()), map_location=device)
    for name, t in saved.items():
        np.testing.assert_array_equal(back[name].cpu().numpy(), t.cpu().numpy(), err_msg=name)


def _bfloat16_checkpoint(tmp_path):
    values = torch.randn(3, 5).to(torch.bfloat16)
    values[0, :3] = torch.tensor([float("inf"), -0.0, float("nan")], dtype=torch.bfloat16)
    path = tmp_path / "bf16.pt"
    model = torch.nn.Linear(5, 2).to(torch.bfloat16)
    torch.save({"w": values, "view": values.t()[1:], "sd": model.state_dict()}, path)
    return path, values, model


@pytest.mark.skipif(not plugrad.opencl.is_available(), reason="needs an OpenCL device")
def test_torch_bfloat16_checkpoints_load_as_bfloat16_on_opencl(tmp_path):
    path, values, model = _bfloat16_checkpoint(tmp_path)
    back = plugrad.load(path, map_location="opencl")
    assert back["w"].dtype is plugrad.bfloat16 and back["w"].device.type == "opencl"
    np.testing.assert_array_equal(back["w"].float().cpu().numpy(), values.float().numpy())
    back["w"][2, 1] = 7.0                    # the view still shares the storage
    assert back["view"][0, 2].item() == 7.0
    mine = plugrad.nn.Linear(5, 2).to("opencl").bfloat16()
    mine.load_state_dict(back["sd"])
    np.testing.assert_array_equal(mine.weight.detach().float().cpu().numpy(),
                                  model.weight.detach().float().numpy())


@pytest.mark.skipif(not plugrad.opencl.is_available(), reason="needs an OpenCL device")
def test_torch_bfloat16_checkpoints_load_as_float32_where_there_is_no_bfloat16(tmp_path,
                                                                             monkeypatch):
    path, values, model = _bfloat16_checkpoint(tmp_path)
    table = plugrad.ones(1, device="opencl").device.ops   # opencl without bfloat16 (ml_dtypes)
    own = table._impl_supports
    monkeypatch.setattr(table, "_impl_supports", lambda op, dt: dt != "bfloat16" and own(op, dt))
    with pytest.warns(UserWarning, match="no bfloat16.*exactly the same values"):
        back = plugrad.load(path, map_location="opencl")
    # the same numbers, held as float32
    assert back["w"].dtype is plugrad.float32
    np.testing.assert_array_equal(back["w"].cpu().numpy(), values.float().numpy())
    np.testing.assert_array_equal(back["view"].cpu().numpy(), values.t()[1:].float().numpy())
    back["w"][2, 1] = 7.0                    # the view still shares the storage
    assert back["view"][0, 2].item() == 7.0
    mine = plugrad.nn.Linear(5, 2).to("opencl")
    mine.load_state_dict(back["sd"])
    np.testing.assert_array_equal(mine.weight.detach().cpu().numpy(),
                                  model.weight.detach().float().numpy())


def test_map_location_applies_to_bare_pickles_at_any_depth():
    t = plugrad.arange(3.0)
    data = pickle.dumps({"t": t, "p": plugrad.nn.Parameter(t.clone())})
    seen = []
    back = plugrad.load(io.BytesIO(data), map_location=lambda s, loc: seen.append(loc))
    assert seen == ["cpu", "cpu"] and isinstance(back["p"], plugrad.nn.Parameter)
    # 100,000 nested lists (APPEND into the list below): nothing walks them recursively
    deep = b"\x80\x02" + b"]" * 100_000 + b"a" * 99_999 + b"."
    got = plugrad.load(io.BytesIO(deep), map_location="cpu")
    for _ in range(1000):
        got = got[0]
    assert isinstance(got, list)
