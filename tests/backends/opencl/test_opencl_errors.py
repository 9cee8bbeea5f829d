"""opencl: errors of torch's type with a message, not pyopencl's or a kernel source dump.

Found by sweeping every op with zero-size, empty and oversized inputs on opencl: an
allocation beyond the device's limit leaked pyopencl's ``LogicError: create_buffer failed:
INVALID_BUFFER_SIZE`` (torch raises RuntimeError for a failed allocation); softmax on an
integer buffer at the contract level dumped the 140-line source of a kernel that cannot build;
``sum(dim=True)`` reduced dim 1 on opencl (a bool is not a dim: torch's TypeError).
"""
from __future__ import annotations

import warnings

import pytest
import torch

import plugrad
from plugrad.plugins import get_registry

REG = get_registry()
OPENCL = REG.backend("opencl").availability()
needs_opencl = pytest.mark.skipif(OPENCL is not True, reason=f"opencl: {OPENCL}")


@needs_opencl
@pytest.mark.parametrize("numel", [10**10, 10**12])
def test_allocation_beyond_the_device_is_a_runtime_error(numel):
    with pytest.raises(RuntimeError) as torch_err:
        torch.empty(10**13)              # torch's failed allocation (40 TB): RuntimeError
    with pytest.raises(RuntimeError, match=r"out of memory: tried to allocate [\d.]+ GiB") as e:
        plugrad.empty(numel, device="opencl")
    assert type(e.value) is type(torch_err.value) or isinstance(e.value, RuntimeError)
    assert "opencl:0" in str(e.value)
    assert plugrad.ones(3, device="opencl").sum().item() == 3.0     # the device still works


@needs_opencl
@pytest.mark.parametrize("log", [False, True])
@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8", "bool"])
def test_contract_softmax_on_integers_says_not_implemented(log, dtype):
    import numpy
    cl = REG.table("opencl")
    buf = cl.from_host(numpy.arange(6).reshape(2, 3).astype(dtype))
    with pytest.raises(NotImplementedError, match=f"softmax_kernel_impl\" not implemented "
                                                  f"for '{dtype}'") as e:
        (cl.log_softmax if log else cl.softmax)(buf, 1)
    assert "__kernel" not in str(e.value) and len(str(e.value)) < 200


@pytest.mark.parametrize("name", ["sum", "mean", "amax", "amin", "prod", "any", "all", "max",
                                  "min", "logsumexp", "nansum", "argmax", "argmin",
                                  "count_nonzero", "cumsum", "softmax", "median", "aminmax"])
def test_bool_dim_is_a_type_error(device, name):
    x = plugrad.ones(2, 3, device=device)
    with pytest.raises(TypeError):
        getattr(torch.ones(2, 3), name)(dim=True)
    with pytest.raises(TypeError, match="bool"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            getattr(x, name)(dim=True)


def test_index_like_dims_still_work(device):
    import numpy
    x = plugrad.ones(2, 3, device=device)
    assert x.sum(numpy.int64(1)).tolist() == [3.0, 3.0]
    assert x.sum(dim=(0, numpy.int32(1))).item() == 6.0
    assert x.softmax(dim=numpy.int64(0)).shape == (2, 3)
    with pytest.raises(TypeError):
        x.sum(1.0)


@needs_opencl
@pytest.mark.parametrize("shape,axes", [((0,), (0,)), ((0, 3), (0,)), ((3, 0), (1,)),
                                        ((2, 0, 4), (0, 1, 2))])
def test_contract_extremes_of_an_empty_axis_raise_like_the_cpu_backend(shape, axes):
    """Below the frontend (which raises torch's IndexError first): max/min of an empty axis
    raised KeyError('max') and argmax returned uninitialised indices on opencl; now numpy's
    ValueError, as the cpu backend."""
    import numpy
    cl, cpu = REG.table("opencl"), REG.table("cpu")
    a = numpy.zeros(shape, "float32")
    for name in ("max", "min"):
        with pytest.raises(ValueError) as want:
            getattr(cpu, name)(cpu.from_host(a), axes, False)
        with pytest.raises(ValueError) as got:
            getattr(cl, name)(cl.from_host(a), axes, False)
        assert str(got.value) == str(want.value)
    axis = axes[-1] if len(axes) == 1 else shape.index(0)
    for name in ("argmax", "argmin"):
        with pytest.raises(ValueError) as want:
            getattr(cpu, name)(cpu.from_host(a), axis, False)
        with pytest.raises(ValueError) as got:
            getattr(cl, name)(cl.from_host(a), axis, False)
        assert str(got.value) == str(want.value)
