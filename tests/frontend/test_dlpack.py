"""DLPack exchange rules (issue 17.10), each against torch's behaviour.

* capsules import, as torch's ``from_dlpack(capsule)``, sharing memory and writable;
* a capsule imports once (RuntimeError, as torch), a non-DLPack object is a RuntimeError;
* a tensor that requires grad is not exported: torch's BufferError;
* a backend whose buffers have no DLPack (opencl) raises BufferError naming the device and
  the remedy, instead of an AttributeError from inside plugrad.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

import plugrad
from plugrad.plugins import get_registry


def test_a_capsule_imports_sharing_memory_as_in_torch():
    source_p, source_t = torch.arange(4.0), torch.arange(4.0)
    p = plugrad.from_dlpack(source_p.__dlpack__())
    t = torch.from_dlpack(source_t.__dlpack__())
    assert p.tolist() == t.tolist() and str(p.dtype) == str(t.dtype)
    p[0], t[0] = 7.0, 7.0                                       # writable, shared
    assert source_p.tolist() == source_t.tolist() == [7.0, 1.0, 2.0, 3.0]
    ints = plugrad.from_dlpack(torch.tensor([[1, 2], [3, 4]]).__dlpack__())
    assert ints.dtype == plugrad.int64 and ints.tolist() == [[1, 2], [3, 4]]


def test_a_capsule_imports_once_and_other_objects_are_refused():
    for lib in (plugrad, torch):
        capsule = torch.ones(2).__dlpack__()
        lib.from_dlpack(capsule)
        with pytest.raises(RuntimeError, match="invalid capsule"):
            lib.from_dlpack(capsule)
        with pytest.raises(RuntimeError):
            lib.from_dlpack([1, 2])
    with pytest.raises(RuntimeError, match="expected an object with __dlpack__ or a DLPack "
                                           "capsule, got list"):
        plugrad.from_dlpack([1, 2])


def test_exporting_a_tensor_that_requires_grad_is_a_buffer_error():
    for lib in (plugrad, torch):
        x = lib.ones(3, requires_grad=True)
        with pytest.raises(BufferError, match="Can't export tensors that require gradient, "
                                              r"use tensor.detach\(\)"):
            x.__dlpack__()
        with pytest.raises(BufferError):
            torch.from_dlpack(x)
        assert torch.from_dlpack(x.detach()).tolist() == [1.0, 1.0, 1.0]


def test_cpu_tensors_export_to_torch_and_numpy():
    p = plugrad.arange(3.0)
    shared = torch.from_dlpack(p)
    shared[1] = 9.0
    assert p.tolist() == [0.0, 9.0, 2.0] and np.from_dlpack(p).tolist() == [0.0, 9.0, 2.0]


def test_a_backend_without_dlpack_says_so_with_the_remedy():
    if get_registry().backend("opencl").availability() is not True:
        pytest.skip("opencl unavailable")
    x = plugrad.ones(3, device="opencl")
    for export in (lambda: torch.from_dlpack(x), lambda: np.from_dlpack(x), x.__dlpack__):
        with pytest.raises(BufferError, match=r"tensors on device 'opencl:0' cannot be exported "
                                              r"through DLPack .* tensor\.cpu\(\)"):
            export()
    assert torch.from_dlpack(x.cpu()).tolist() == [1.0, 1.0, 1.0]
