"""Small PyTorch behaviours users notice (issue 17.13/17.14), each checked against torch.

grad_fn class names, the ``axis=`` alias of ``dim=``, ``Tensor.trace``, and the factories'
``dtype`` argument rule.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

import plugrad


def _custom_function(T):
    class Double(T.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2

    class Split(T.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1, x * 3

        @staticmethod
        def backward(ctx, a, b):
            return a + 3 * b
    return Double, Split


def test_custom_function_grad_fn_class_is_named_after_the_function():
    names = []
    for T in (plugrad, torch):
        Double, Split = _custom_function(T)
        x = T.ones(3, requires_grad=True)
        y = Double.apply(x)
        a, b = Split.apply(x)
        names.append((type(y.grad_fn).__name__, type(a.grad_fn).__name__,
                       type(b.grad_fn).__name__, y.grad_fn.name()))
        (y.sum() + a.sum() + b.sum()).backward()
        assert x.grad.tolist() == [6.0, 6.0, 6.0]
    assert names[0] == names[1] == ("DoubleBackward", "SplitBackward", "SplitBackward",
                                    "DoubleBackward")


KEYS = [(slice(1, None),), (1,), (None,), (Ellipsis,), (slice(None, None, 2),),
        (slice(None), 1), (0, slice(1, None)), (slice(None), None)]


@pytest.mark.parametrize("key", KEYS, ids=[repr(k) for k in KEYS])
def test_basic_indexing_grad_fn_class_names_match_torch(key):
    got = plugrad.ones(3, 4, requires_grad=True)[key].grad_fn
    want = torch.ones(3, 4, requires_grad=True)[key].grad_fn
    assert type(got).__name__ == type(want).__name__ == got.name()


@pytest.mark.parametrize("fn", ["sum", "mean", "prod", "amax", "amin", "argmax", "argmin",
                                "std", "var", "any", "all", "nansum", "nanmean"])
def test_axis_is_an_alias_of_dim(fn):
    data = np.arange(12, dtype=np.float32).reshape(3, 4) / 7
    for axis in (0, 1):
        got = getattr(plugrad.tensor(data), fn)(axis=axis)
        want = getattr(torch.tensor(data), fn)(axis=axis)
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6)
        got = getattr(plugrad, fn)(plugrad.tensor(data), axis=axis)
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6)
    values, indices = plugrad.tensor(data).max(axis=1)
    assert indices.tolist() == torch.tensor(data).max(axis=1).indices.tolist()
    with pytest.raises(TypeError, match=r"sum\(\) received an invalid combination of "
                                        "arguments: got both 'dim' and its alias 'axis'"):
        plugrad.tensor(data).sum(0, axis=1)
    with pytest.raises(TypeError):
        torch.tensor(data).sum(0, axis=1)


def test_tensor_trace_and_its_gradient():
    data = np.arange(12, dtype=np.float32).reshape(3, 4)
    x, t = plugrad.tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)
    y, z = x.trace(), t.trace()
    assert y.item() == z.item() and type(y.grad_fn).__name__ == type(z.grad_fn).__name__
    y.backward()
    z.backward()
    np.testing.assert_array_equal(x.grad.numpy(), t.grad.numpy())
    with pytest.raises(RuntimeError, match="trace: expected a matrix, but got tensor with dim 1"):
        plugrad.ones(3).trace()
    with pytest.raises(RuntimeError, match="expected a matrix"):
        torch.ones(3).trace()


@pytest.mark.parametrize("bad", ["float32", np.float32, np.dtype("float32")],
                         ids=["str", "numpy-type", "numpy-dtype"])
@pytest.mark.parametrize("factory", [
    lambda T, d: T.zeros(2, dtype=d), lambda T, d: T.ones(2, dtype=d),
    lambda T, d: T.full((2,), 1.0, dtype=d), lambda T, d: T.tensor([1.0], dtype=d),
    lambda T, d: T.arange(3, dtype=d), lambda T, d: T.zeros_like(T.ones(2), dtype=d)])
def test_factory_dtype_must_be_a_torch_dtype(factory, bad):
    with pytest.raises(TypeError) as want:
        factory(torch, bad)
    with pytest.raises(TypeError, match=r"argument 'dtype' must be torch\.dtype, not "
                                        f"{type(bad).__name__}"):
        factory(plugrad, bad)
    assert "dtype" in str(want.value)


@pytest.mark.parametrize("python_type", [float, int, bool])
def test_factory_dtype_takes_python_types_as_torch(python_type):
    assert str(plugrad.zeros(2, dtype=python_type).dtype) == \
        str(torch.zeros(2, dtype=python_type).dtype)


FACTORIES = ["zeros", "ones", "empty", "full", "zeros_like", "ones_like", "full_like",
             "empty_like", "eye", "logspace", "triu_indices", "randint", "randperm", "rand_like",
             "randn_like", "randint_like", "normal", "tensor", "arange", "linspace", "rand",
             "randn"]


@pytest.mark.parametrize("name", FACTORIES)
def test_factories_are_documented_and_typed(name):
    import typing
    fn = getattr(plugrad, name)
    doc = (fn.__doc__ or "").strip()
    assert len(doc) > 30, f"help(plugrad.{name}) shows only the signature"
    if name not in ("tensor", "arange", "linspace", "rand", "randn"):
        hints = typing.get_type_hints(fn)                  # resolvable at run time
        assert hints["return"] is plugrad.Tensor


def test_the_package_is_marked_typed_for_type_checkers():
    import pathlib
    import tomllib
    root = pathlib.Path(plugrad.__file__).parent
    assert (root / "py.typed").is_file()
    config = tomllib.loads((root.parent / "pyproject.toml").read_text())
    assert "py.typed" in config["tool"]["setuptools"]["package-data"]["plugrad"]


def test_data_ptr_as_torch():
    x, t = plugrad.arange(12.0).reshape(3, 4), torch.arange(12.0).reshape(3, 4)
    for key in [(slice(1, None),), (slice(None), 1), (2, 3)]:
        assert x[key].data_ptr() - x.data_ptr() == t[key].data_ptr() - t.data_ptr()
    assert x.data_ptr() == x.numpy().ctypes.data
    assert plugrad.empty(0).data_ptr() == torch.empty(0).data_ptr() == 0
    if plugrad.plugins.supports("opencl", "add"):
        y = plugrad.arange(12.0, device="opencl").reshape(3, 4)
        assert y[1:].data_ptr() - y.data_ptr() == 16 and y[0].data_ptr() == y.data_ptr()
        assert y.clone().data_ptr() != y.data_ptr()


DOCUMENTED = ["nanmean", "prod", "min", "amax", "amin", "all", "count_nonzero", "var_mean",
              "std_mean", "mm", "bmm", "mv", "dot", "inner", "tensordot", "flatten", "unflatten",
              "ravel", "unsqueeze", "permute", "transpose", "swapaxes", "t", "movedim",
              "moveaxis", "broadcast_to", "narrow", "chunk", "tensor_split", "unbind", "flip",
              "fliplr", "flipud", "stack", "hstack", "vstack", "row_stack", "dstack",
              "column_stack", "atleast_1d", "atleast_2d", "atleast_3d", "tile", "tril", "triu",
              "vsplit", "hsplit", "dsplit", "take_along_dim", "scatter_add", "index_select",
              "index_add", "argwhere", "sort", "argsort", "topk", "msort"]


@pytest.mark.parametrize("name", DOCUMENTED)
def test_public_ops_say_what_they_do(name):
    assert len((getattr(plugrad, name).__doc__ or "").strip()) > 20


def test_factories_take_size_keyword():
    """torch.empty/zeros/ones(size=...) (pytorch/examples gat: torch.empty(size=(a, b)))."""
    import torch
    for name in ("empty", "zeros", "ones"):
        got = getattr(plugrad, name)(size=(2, 3))
        want = getattr(torch, name)(size=(2, 3))
        assert tuple(got.shape) == tuple(want.shape) and str(got.dtype) == str(want.dtype)
        if name != "empty":
            assert got.tolist() == want.tolist()
    with pytest.raises(TypeError):
        plugrad.zeros(2, size=(2,))
    with pytest.raises(TypeError):
        torch.zeros(2, size=(2,))
