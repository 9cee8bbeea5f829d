"""Legacy and introspection API that real programs use (issue 11 item 6), checked against torch."""
from __future__ import annotations

import math
import re
import warnings

import numpy as np
import pytest
import torch

import plugrad

DTYPES = ["float16", "bfloat16", "float32", "float64"]
INTS = ["uint8", "int8", "int16", "int32", "int64"]


@pytest.mark.parametrize("name", DTYPES)
def test_finfo_matches_torch(name):
    ours, theirs = plugrad.finfo(getattr(plugrad, name)), torch.finfo(getattr(torch, name))
    assert repr(ours) == repr(theirs)
    for attr in ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution", "dtype"):
        assert getattr(ours, attr) == getattr(theirs, attr), attr


@pytest.mark.parametrize("name", INTS)
def test_iinfo_matches_torch(name):
    ours, theirs = plugrad.iinfo(getattr(plugrad, name)), torch.iinfo(getattr(torch, name))
    assert repr(ours) == repr(theirs)
    assert (ours.bits, ours.min, ours.max, ours.dtype) == (theirs.bits, theirs.min, theirs.max,
                                                           theirs.dtype)


def test_finfo_default_and_errors():
    assert plugrad.finfo() == plugrad.finfo(plugrad.float32)
    for ours, theirs in ((lambda: plugrad.finfo(plugrad.int32), lambda: torch.finfo(torch.int32)),
                         (lambda: plugrad.iinfo(plugrad.float32),
                          lambda: torch.iinfo(torch.float32)),
                         (lambda: plugrad.iinfo(plugrad.bool), lambda: torch.iinfo(torch.bool))):
        with pytest.raises(TypeError) as theirs_err:
            theirs()
        with pytest.raises(TypeError, match=re.escape(str(theirs_err.value))):
            ours()


@pytest.mark.parametrize("name", ["Long", "Float", "Double", "Int", "Byte", "Bool", "Short",
                                  "Char", "Half"])
def test_legacy_constructors(name):
    ours, theirs = getattr(plugrad, f"{name}Tensor"), getattr(torch, f"{name}Tensor")
    assert repr(ours) == repr(theirs)
    for args in (([1, 0, 1],), ((1, 0),), ()):
        a, b = ours(*args), theirs(*args)
        assert a.dtype == getattr(plugrad, str(b.dtype).split(".")[1])
        assert a.tolist() == b.tolist()
    assert ours(2, 3).shape == theirs(2, 3).shape
    assert ours(plugrad.Size([4])).shape == (4,)
    assert isinstance(ours([1]), ours) and not isinstance(plugrad.zeros(1, dtype=plugrad.int16)
                                                           if name != "Short" else
                                                           plugrad.zeros(1), ours)


def test_legacy_constructor_errors_and_type():
    with pytest.raises(TypeError, match="invalid data type 'str'"):
        plugrad.LongTensor("a")
    with pytest.raises(TypeError):
        torch.LongTensor("a")
    with pytest.raises(TypeError):
        plugrad.LongTensor(plugrad.tensor([1.5]))
    assert plugrad.LongTensor([1.7, 2]).tolist() == torch.LongTensor([1.7, 2]).tolist()
    x = plugrad.zeros(2)
    assert x.type(plugrad.LongTensor).dtype is plugrad.int64
    assert x.type("torch.DoubleTensor").dtype is plugrad.float64
    assert plugrad.LongTensor([1]).type() == "torch.LongTensor"
    with pytest.raises(ValueError):
        x.type("torch.NoSuchTensor")


def test_variable():
    from plugrad.autograd import Variable
    x = plugrad.ones(2, requires_grad=True)
    y = x * 2
    tx = torch.ones(2, requires_grad=True)
    ty = tx * 2
    for ours, theirs in ((Variable(y), torch.autograd.Variable(ty)),
                         (Variable(x), torch.autograd.Variable(tx)),
                         (Variable(y, requires_grad=True),
                          torch.autograd.Variable(ty, requires_grad=True))):
        assert (ours.requires_grad, ours.is_leaf) == (theirs.requires_grad, theirs.is_leaf)
    assert isinstance(x, Variable)
    with pytest.raises(TypeError, match="Variable data has to be a tensor, but got list"):
        Variable([1, 2])
    with pytest.warns(UserWarning, match="volatile was removed"):
        Variable(x, volatile=True)


def test_constants_and_threads():
    assert (plugrad.pi, plugrad.e, plugrad.inf) == (torch.pi, torch.e, torch.inf)
    assert math.isnan(plugrad.nan)
    n = plugrad.get_num_threads()
    assert isinstance(n, int) and n >= 1
    plugrad.set_num_threads(1)
    assert plugrad.get_num_threads() == 1
    plugrad.set_num_threads(n)
    for bad in (0, -1):
        with pytest.raises(RuntimeError, match="set_num_threads expects a positive integer"):
            plugrad.set_num_threads(bad)
        with pytest.raises(RuntimeError):
            torch.set_num_threads(bad)


def test_determinism_flags():
    assert plugrad.are_deterministic_algorithms_enabled() is False
    try:
        plugrad.use_deterministic_algorithms(True)
        assert plugrad.are_deterministic_algorithms_enabled()
        assert plugrad.get_deterministic_debug_mode() == 2
        plugrad.use_deterministic_algorithms(True, warn_only=True)
        assert plugrad.is_deterministic_algorithms_warn_only_enabled()
        assert plugrad.get_deterministic_debug_mode() == 1
    finally:
        plugrad.use_deterministic_algorithms(False)
    with pytest.raises(TypeError, match="must be bool, not int"):
        plugrad.use_deterministic_algorithms(1)
    with pytest.raises(TypeError, match="must be bool, not int"):
        torch.use_deterministic_algorithms(1)


def test_default_device(device):
    assert plugrad.get_default_device() == plugrad.device("cpu")
    plugrad.set_default_device(device)
    try:
        assert plugrad.ones(2).device.type == device
        assert plugrad.tensor([1.0]).device.type == device
        assert plugrad.get_default_device().type == device
    finally:
        plugrad.set_default_device(None)
    assert plugrad.ones(1).device.type == "cpu"
    with plugrad.device(device):
        assert plugrad.zeros(3).device.type == device
    assert plugrad.zeros(3).device.type == "cpu"
    with pytest.raises(RuntimeError):
        plugrad.set_default_device("cdua")


def test_memory_formats(device):
    assert repr(plugrad.channels_last) == repr(torch.channels_last)
    assert repr(plugrad.preserve_format) == repr(torch.preserve_format)
    data = torch.randn(2, 3, 4, 5)
    theirs = data.to(memory_format=torch.channels_last)
    x = plugrad.tensor(data.numpy(), device=device)
    ours = x.to(memory_format=plugrad.channels_last)
    assert ours.stride() == theirs.stride()
    assert ours.is_contiguous() == theirs.is_contiguous()
    assert ours.is_contiguous(memory_format=plugrad.channels_last)
    assert ours.contiguous().stride() == theirs.contiguous().stride()
    assert (ours.cpu().numpy() == data.numpy()).all()
    assert x.contiguous(memory_format=plugrad.channels_last).stride() == theirs.stride()
    assert x.contiguous(memory_format=plugrad.preserve_format) is x
    with pytest.raises(RuntimeError, match="required rank 4 tensor"):
        plugrad.ones(2, 3, device=device).to(memory_format=plugrad.channels_last)
    with pytest.raises(RuntimeError, match="required rank 4 tensor"):
        torch.ones(2, 3).to(memory_format=torch.channels_last)


def test_device_flags(device):
    x, t = plugrad.ones(2, device=device), torch.ones(2)
    for name in ("is_xpu", "is_mps", "is_meta", "is_sparse", "is_quantized", "is_mkldnn",
                 "is_nested", "is_vulkan"):
        assert getattr(x, name) is getattr(t, name) is False, name
    assert x.is_signed() and not plugrad.ones(1, dtype=plugrad.uint8).is_signed()
    assert x.is_same_size(plugrad.zeros(2)) and not x.is_same_size(plugrad.zeros(3))
    assert x.is_conj() is False and x.is_neg() is False and x.is_pinned() is False


def test_storages_match_torch(device):
    data = np.arange(12, dtype=np.float32).reshape(3, 4)
    x = plugrad.tensor(data, device=device)
    tx = torch.tensor(data)
    for ours, theirs in ((x[1:], tx[1:]), (x.t(), tx.t()),
                         (x.reshape(-1)[2:5], tx.reshape(-1)[2:5])):
        s, ts = ours.untyped_storage(), theirs.untyped_storage()
        assert (s.nbytes(), s.size(), len(s)) == (ts.nbytes(), ts.size(), len(ts))
        assert s.data_ptr() == x.data_ptr()            # views share their base's storage
        with pytest.warns(UserWarning, match="TypedStorage is deprecated"):
            st = ours.storage()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tst = theirs.storage()
        assert (st.size(), st.nbytes(), st.element_size()) == (tst.size(), tst.nbytes(),
                                                               tst.element_size())
        assert st.tolist() == tst.tolist() and st.dtype is plugrad.float32
    assert plugrad.ones(3, device=device).untyped_storage().data_ptr() != \
        x.untyped_storage().data_ptr()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert repr(plugrad.ones(2).storage()).splitlines()[-1] == \
            repr(torch.ones(2).storage()).splitlines()[-1]
    assert repr(plugrad.ones(2).untyped_storage()).splitlines()[-1] == \
        repr(torch.ones(2).untyped_storage()).splitlines()[-1]
    assert isinstance(x.untyped_storage(), plugrad.UntypedStorage)
