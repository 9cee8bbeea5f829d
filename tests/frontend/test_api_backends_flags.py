"""torch.accelerator and torch.backends' flag modules beside plugrad's backend plugins."""
from __future__ import annotations

import importlib

import pytest
import torch

import plugrad


def test_flag_modules_import_beside_plugins():
    cudnn = importlib.import_module("plugrad.backends.cudnn")
    assert cudnn is plugrad.backends.cudnn
    # the plugin modules are untouched
    assert importlib.import_module("plugrad.backends.numpy").__name__ == "plugrad.backends.numpy"
    for name in ("cudnn", "cuda", "mps", "mkldnn", "opt_einsum", "cpu", "mkl", "openmp"):
        assert hasattr(plugrad.backends, name), name
        assert hasattr(torch.backends, name), name


def test_defaults_match_torch_cpu_build():
    pb, tb = plugrad.backends, torch.backends
    for mod, flag in (("cudnn", "enabled"), ("cudnn", "benchmark"), ("cudnn", "deterministic"),
                      ("cudnn", "allow_tf32"), ("mkldnn", "enabled"), ("opt_einsum", "enabled"),
                      ("opt_einsum", "strategy")):
        assert getattr(getattr(pb, mod), flag) == getattr(getattr(tb, mod), flag), (mod, flag)
    assert pb.cuda.matmul.allow_tf32 == tb.cuda.matmul.allow_tf32 is False
    assert (pb.cuda.matmul.allow_fp16_reduced_precision_reduction
            == tb.cuda.matmul.allow_fp16_reduced_precision_reduction)
    assert pb.mps.is_available() == tb.mps.is_available() is False
    assert pb.mps.is_built() is False
    assert pb.cudnn.is_available() is False and pb.cudnn.version() is None
    assert pb.cuda.flash_sdp_enabled() == tb.cuda.flash_sdp_enabled()
    assert pb.opt_einsum.is_available() == tb.opt_einsum.is_available()


@pytest.mark.parametrize("mod,flag", [("cudnn", "benchmark"), ("cudnn", "deterministic"),
                                      ("cudnn", "enabled"), ("mkldnn", "enabled")])
def test_flags_set_and_refuse_non_bools(mod, flag):
    m = getattr(plugrad.backends, mod)
    old = getattr(m, flag)
    try:
        setattr(m, flag, not old)
        assert getattr(m, flag) is (not old)
        with pytest.raises(RuntimeError) as theirs:
            setattr(getattr(torch.backends, mod), flag, 3)
        with pytest.raises(RuntimeError, match=str(theirs.value)):
            setattr(m, flag, 3)
        assert getattr(m, flag) is (not old)
    finally:
        setattr(m, flag, old)


def test_cudnn_flags_context():
    with plugrad.backends.cudnn.flags(enabled=False, benchmark=True):
        assert plugrad.backends.cudnn.enabled is False and plugrad.backends.cudnn.benchmark
    assert plugrad.backends.cudnn.enabled is True and plugrad.backends.cudnn.benchmark is False


def test_matmul_precision_and_tf32_are_one_setting():
    assert plugrad.get_float32_matmul_precision() == "highest"
    try:
        plugrad.backends.cuda.matmul.allow_tf32 = True
        assert plugrad.get_float32_matmul_precision() == "high"
        plugrad.set_float32_matmul_precision("highest")
        assert plugrad.backends.cuda.matmul.allow_tf32 is False
        plugrad.set_float32_matmul_precision("medium")
        assert plugrad.backends.cuda.matmul.allow_tf32 is True
    finally:
        plugrad.set_float32_matmul_precision("highest")
    with pytest.warns(UserWarning, match="is not one of 'highest', 'high', or 'medium'"):
        plugrad.set_float32_matmul_precision("xx")
    with pytest.raises(AttributeError, match="Unknown attribute bogus"):
        plugrad.backends.cuda.matmul.bogus
    with pytest.raises(RuntimeError, match="expects a bool"):
        plugrad.backends.cuda.matmul.allow_tf32 = 2


def test_sdp_kernel_context():
    with plugrad.backends.cuda.sdp_kernel(enable_flash=False):
        assert not plugrad.backends.cuda.flash_sdp_enabled()
    assert plugrad.backends.cuda.flash_sdp_enabled()


def test_accelerator():
    from plugrad._device import best_accelerator
    kind = best_accelerator()
    acc = plugrad.accelerator
    assert acc.is_available() == (kind != "cpu")
    if kind == "cpu":
        assert acc.current_accelerator() is None and acc.device_count() == 0
        with pytest.raises(RuntimeError, match="No available accelerator"):
            acc.current_device_index()
        return
    dev = acc.current_accelerator()
    assert isinstance(dev, plugrad.device) and dev.type == kind
    assert acc.device_count() >= 1
    assert acc.current_device_index() == 0
    x = plugrad.ones(3, device=dev)
    acc.synchronize()
    assert x.device.type == kind
    with acc.device_index(0):
        assert acc.current_device_index() == 0
    with pytest.raises(RuntimeError, match="out of range"):
        acc.set_device_index(acc.device_count())
