"""Bad-input catalogue rows: the Tensor API (creation, shapes, math, reductions, indexing,
in-place ops, conversions). See tests/frontend/test_bad_input_catalogue.py for what each row asserts."""
from __future__ import annotations

from bad_input_rows import _x, _xi, row

# ------------------------------------------------------------------ tensor: creation
row("tensor", "ragged nested list", lambda T, d: {}, lambda T, s: T.tensor([[1, 2], [3]]),
    ValueError, r"expected sequence of length 2 at dim 1 \(got 1\)")
row("tensor", "negative size zeros", lambda T, d: {}, lambda T, s: T.zeros(-1), RuntimeError,
    r"negative dimension -1")
row("tensor", "negative size rand", lambda T, d: {}, lambda T, s: T.rand(2, -2), RuntimeError,
    r"negative dimension -2")
row("tensor", "arange step 0", lambda T, d: {}, lambda T, s: T.arange(0, 10, 0), RuntimeError,
    r"step must be nonzero")
row("tensor", "arange wrong sign", lambda T, d: {}, lambda T, s: T.arange(10, 0, 1),
    RuntimeError, r"inconsistent with step sign")
row("tensor", "linspace negative steps", lambda T, d: {}, lambda T, s: T.linspace(0, 1, -1),
    RuntimeError, r"number of steps must be non-negative")
row("tensor", "randint low >= high", lambda T, d: {}, lambda T, s: T.randint(5, 3, (2,)),
    RuntimeError, r"'from' to be less than 'to'")
row("tensor", "normal negative std", lambda T, d: {}, lambda T, s: T.normal(0.0, -1.0, (2,)),
    RuntimeError, r"normal expects std >= 0.0")
row("tensor", "bernoulli p > 1", lambda T, d: {"p": T.tensor([1.5])},
    lambda T, s: T.bernoulli(s["p"]), RuntimeError, r"p_in >= 0 && p_in <= 1")
row("tensor", "multinomial negative p", lambda T, d: {"p": T.tensor([-1.0, 2.0])},
    lambda T, s: T.multinomial(s["p"], 1), RuntimeError, r"element < 0")
row("tensor", "multinomial too many samples", lambda T, d: {"p": T.tensor([0.5, 0.5])},
    lambda T, s: T.multinomial(s["p"], 3), RuntimeError, r"cannot sample n_sample")
row("tensor", "requires_grad on int", lambda T, d: {},
    lambda T, s: T.tensor([1, 2], requires_grad=True), RuntimeError,
    r"(?i)only Tensors of floating point")
row("tensor", "full with bad size", lambda T, d: {}, lambda T, s: T.full((2, -3), 1.0),
    RuntimeError, r"negative dimension")
row("tensor", "eye negative", lambda T, d: {}, lambda T, s: T.eye(-2), RuntimeError,
    r"n must be greater or equal to 0")

# ------------------------------------------------------------------ tensor: shapes
row("tensor", "view wrong numel", _x, lambda T, s: s["x"].view(4), RuntimeError,
    r"shape '\[4\]' is invalid for input of size 6")
row("tensor", "reshape two -1", _x, lambda T, s: s["x"].reshape(-1, -1), RuntimeError,
    r"only one dimension can be inferred")
row("tensor", "view non-contiguous", _x, lambda T, s: s["x"].t().view(6), RuntimeError,
    r"view size is not compatible with input tensor's size and stride")
row("tensor", "permute repeated dim", _x, lambda T, s: s["x"].permute(0, 0), RuntimeError,
    r"permute\(\): duplicate dims are not allowed")
row("tensor", "permute wrong count", _x, lambda T, s: s["x"].permute(0), RuntimeError,
    r"input.dim\(\) = 2 is not equal to len\(dims\) = 1")
row("tensor", "transpose dim out of range", _x, lambda T, s: s["x"].transpose(0, 5), IndexError,
    r"Dimension out of range")
row("tensor", "squeeze dim out of range", _x, lambda T, s: s["x"].squeeze(5), IndexError,
    r"Dimension out of range")
row("tensor", "unsqueeze dim out of range", _x, lambda T, s: s["x"].unsqueeze(4), IndexError,
    r"Dimension out of range")
row("tensor", "expand incompatible", _x, lambda T, s: s["x"].expand(3, 4), RuntimeError,
    r"expanded size")
row("tensor", "expand fewer dims", _x, lambda T, s: s["x"].expand(3), RuntimeError,
    r"number of sizes provided \(1\) must be greater or equal")
row("tensor", "narrow past end", _x, lambda T, s: s["x"].narrow(1, 1, 5), RuntimeError,
    r"start \(1\) \+ length \(5\) exceeds dimension size \(3\)")
row("tensor", "split size 0", _x, lambda T, s: s["x"].split(0, 1), RuntimeError,
    r"split_size can only be 0 if dimension size is 0")
row("tensor", "chunk 0", _x, lambda T, s: s["x"].chunk(0), RuntimeError,
    r"chunk expects `chunks` to be greater than 0")
row("tensor", "flip dim out of range", _x, lambda T, s: s["x"].flip(5), IndexError,
    r"Dimension out of range")
row("tensor", "roll dim out of range", _x, lambda T, s: s["x"].roll(1, 5), IndexError,
    r"Dimension out of range")
row("tensor", "repeat fewer dims", _x, lambda T, s: s["x"].repeat(2), RuntimeError,
    r"Number of dimensions of repeat dims can not be smaller")
row("tensor", "cat different ndim", _x, lambda T, s: T.cat([s["x"], T.ones(2)]), RuntimeError,
    r"Tensors must have same number of dimensions")
row("tensor", "cat size mismatch", _x, lambda T, s: T.cat([s["x"], T.ones(3, 3)], 1),
    RuntimeError, r"Sizes of tensors must match except in dimension 1")
row("tensor", "cat empty list", lambda T, d: {}, lambda T, s: T.cat([]), ValueError,
    r"expected a non-empty list of Tensors")
row("tensor", "cat zero-dim", lambda T, d: {"a": T.tensor(1.0)}, lambda T, s: T.cat([s["a"]]),
    RuntimeError, r"zero-dimensional tensor .* cannot be concatenated")
row("tensor", "stack unequal", lambda T, d: {"a": T.ones(2), "b": T.ones(3)},
    lambda T, s: T.stack([s["a"], s["b"]]), RuntimeError,
    r"stack expects each tensor to be equal size")
row("tensor", "movedim repeated", _x, lambda T, s: T.movedim(s["x"], (0, 0), (0, 1)),
    RuntimeError, r"movedim: repeated dim in `source` \(\[0, 0\]\)")
row("tensor", "diagonal same dims", _x, lambda T, s: T.diagonal(s["x"], 0, 1, 1),
    RuntimeError, r"diagonal dimensions cannot be identical 1, 1")
row("tensor", "movedim count mismatch", _x, lambda T, s: T.movedim(s["x"], (0, 1), (0,)),
    RuntimeError, r"movedim: Invalid source or destination dims")
row("tensor", "unflatten bad sizes", _x, lambda T, s: s["x"].unflatten(1, (2, 2)),
    RuntimeError, r"unflatten: Provided sizes \[2, 2\] don't multiply up to the size of dim 1")

# ------------------------------------------------------------------ tensor: math
row("tensor", "broadcast mismatch", _x, lambda T, s: s["x"] + T.ones(4), RuntimeError,
    r"The size of tensor a \(3\) must match the size of tensor b \(4\)")
row("tensor", "matmul mismatch", _x, lambda T, s: s["x"] @ T.ones(2, 2), RuntimeError,
    r"mat1 and mat2 shapes cannot be multiplied \(2x3 and 2x2\)")
row("tensor", "matmul 1d mismatch", lambda T, d: {}, lambda T, s: T.ones(3) @ T.ones(4),
    RuntimeError, r"inconsistent tensor size|size")
row("tensor", "matmul 0-d", lambda T, d: {}, lambda T, s: T.matmul(T.tensor(1.0), T.ones(2)),
    RuntimeError, r"both arguments to matmul need to be at least 1D")
row("tensor", "mm dtype mismatch", _x, lambda T, s: s["x"].t() @ T.ones(2, 2, dtype=T.float64),
    RuntimeError, r"expected m1 and m2 to have the same dtype|same dtype")
row("tensor", "bmm not 3-d", _x, lambda T, s: T.bmm(s["x"], s["x"]), RuntimeError,
    r"batch1 must be a 3D tensor")
row("tensor", "dot 2-d", _x, lambda T, s: T.dot(s["x"], s["x"]), RuntimeError,
    r"1D tensors expected")
row("tensor", "int floor_divide by zero", _xi, lambda T, s: T.floor_divide(s["x"], 0),
    RuntimeError, r"ZeroDivisionError")
row("tensor", "int remainder by zero tensor", _xi,
    lambda T, s: T.remainder(s["x"], T.zeros(3, dtype=T.int64)), RuntimeError,
    r"ZeroDivisionError")
row("tensor", "int pow negative scalar", _xi, lambda T, s: s["x"] ** -1, RuntimeError,
    r"Integers to negative integer powers are not allowed")
row("tensor", "bool subtraction", lambda T, d: {"b": T.tensor([True, False])},
    lambda T, s: s["b"] - s["b"], RuntimeError, r"Subtraction, the `-` operator, with two bool")
row("tensor", "bool negation", lambda T, d: {"b": T.tensor([True, False])},
    lambda T, s: -s["b"], RuntimeError, r"Negation, the `-` operator, on a bool tensor")
row("tensor", "bitwise on float", _x, lambda T, s: s["x"] & s["x"], RuntimeError,
    r"\"bitwise_and_cpu\" not implemented for 'Float'")
row("tensor", "invert float", _x, lambda T, s: ~s["x"], TypeError,
    r"~ \(operator.invert\) is only implemented on integer and Boolean-type tensors")
row("tensor", "abs of bool", lambda T, d: {"b": T.tensor([True])}, lambda T, s: T.abs(s["b"]),
    NotImplementedError, r"\"abs_cpu\" not implemented for 'Bool'")
row("tensor", "frac of int", _xi, lambda T, s: T.frac(s["x"]), NotImplementedError,
    r"\"frac_cpu\" not implemented for 'Long'")
row("tensor", "clamp without bounds", _x, lambda T, s: s["x"].clamp(), RuntimeError,
    r"At least one of 'min' or 'max' must not be None")
row("tensor", "where int condition", _x,
    lambda T, s: T.where(T.tensor([1, 0, 1]), s["x"], 0.0), RuntimeError,
    r"where expected condition to be a boolean tensor")
row("tensor", "lerp int", _xi, lambda T, s: T.lerp(s["x"], s["x"], 0.5), NotImplementedError,
    r"lerp_kernel_scalar|not implemented for 'Long'")
row("tensor", "gelu int", _xi, lambda T, s: T.nn.functional.gelu(s["x"]), NotImplementedError,
    r"\"GeluKernelImpl\" not implemented for 'Long'")
row("tensor", "relu bool", lambda T, d: {"b": T.tensor([True])},
    lambda T, s: T.relu(s["b"]), RuntimeError, r"Boolean inputs not supported for relu")

# ------------------------------------------------------------------ tensor: reductions
row("tensor", "sum dim out of range", _x, lambda T, s: s["x"].sum(3), IndexError,
    r"Dimension out of range")
row("tensor", "sum repeated dim", _x, lambda T, s: s["x"].sum((0, 0)), RuntimeError,
    r"dim 0 appears multiple times in the list of dims")
row("tensor", "mean of int", _xi, lambda T, s: s["x"].mean(), RuntimeError,
    r"mean\(\): could not infer output dtype")
row("tensor", "var of int", _xi, lambda T, s: s["x"].var(), RuntimeError,
    r"std and var only support floating point")
row("tensor", "max of empty", lambda T, d: {"e": T.zeros(0)}, lambda T, s: s["e"].max(),
    RuntimeError, r"Expected reduction dim to be specified for input.numel\(\) == 0")
row("tensor", "amax over empty dim", lambda T, d: {"e": T.zeros(0, 3)},
    lambda T, s: s["e"].amax(0), IndexError, r"Expected reduction dim 0 to have non-zero size")
row("tensor", "argmax of empty", lambda T, d: {"e": T.zeros(0)}, lambda T, s: s["e"].argmax(),
    IndexError, r"Expected reduction dim to be specified")
row("tensor", "argmax of bool", lambda T, d: {"b": T.tensor([True])},
    lambda T, s: s["b"].argmax(), RuntimeError, r"does not support bool")
row("tensor", "topk k too big", _x, lambda T, s: s["x"].topk(10), RuntimeError,
    r"selected index k out of range")
row("tensor", "kthvalue k too big", _x, lambda T, s: s["x"].kthvalue(10), RuntimeError,
    r"kthvalue\(\): selected number k out of range")
row("tensor", "softmax dim out of range", _x, lambda T, s: s["x"].softmax(5), IndexError,
    r"Dimension out of range")
row("tensor", "softmax of int", _xi, lambda T, s: s["x"].softmax(0), NotImplementedError,
    r"\"softmax_kernel_impl\" not implemented for 'Long'")
row("tensor", "cumsum dim out of range", _x, lambda T, s: s["x"].cumsum(4), IndexError,
    r"Dimension out of range")

# ------------------------------------------------------------------ tensor: indexing
row("tensor", "index out of range", _x, lambda T, s: s["x"][5], IndexError,
    r"index 5 is out of bounds for dimension 0 with size 2")
row("tensor", "too many indices", _x, lambda T, s: s["x"][0, 0, 0], IndexError,
    r"too many indices for tensor of dimension 2")
row("tensor", "float index", _x, lambda T, s: s["x"][1.5], IndexError,
    r"only integers, slices")
row("tensor", "string index", _x, lambda T, s: s["x"]["a"], TypeError, r"invalid data type 'str'")
row("tensor", "tensor index out of range", _x, lambda T, s: s["x"][T.tensor([0, 7])],
    IndexError, r"index 7 is out of bounds for dimension 0 with size 2")
row("tensor", "float tensor index", _x, lambda T, s: s["x"][T.tensor([0.0])], IndexError,
    r"tensors used as indices must be long, int, byte or bool tensors")
row("tensor", "mask shape mismatch", _x, lambda T, s: s["x"][T.tensor([True, False, True])],
    IndexError, r"The shape of the mask \[3\] at index 0 does not match")
row("tensor", "index past the last dim", _x, lambda T, s: s["x"][0, 1, None, 2], IndexError,
    r"too many indices for tensor of dimension 2")
row("tensor", "gather index out of range", _x,
    lambda T, s: s["x"].gather(1, T.tensor([[5], [0]])), RuntimeError,
    r"index 5 is out of bounds for dimension 1 with size 3")
row("tensor", "gather float index", _x, lambda T, s: s["x"].gather(0, T.tensor([[0.0]])),
    RuntimeError, r"gather\(\): Expected dtype int(32/int)?64 for index")
row("tensor", "index_select out of range", _x,
    lambda T, s: s["x"].index_select(0, T.tensor([3])), IndexError,
    r"out of range|out of bounds")
row("tensor", "index_select 2-d index", _x,
    lambda T, s: s["x"].index_select(0, T.tensor([[0]])), IndexError,
    r"index_select\(\): Index is supposed to be a vector")
row("tensor", "take out of range", _x, lambda T, s: T.take(s["x"], T.tensor([9])), IndexError,
    r"out of range: tried to access index 9 on a tensor of 6 elements")
row("tensor", "masked_fill float mask", _x,
    lambda T, s: s["x"].masked_fill(T.ones(2, 3), 0.0), RuntimeError,
    r"masked_fill_ only supports boolean masks")
row("tensor", "masked_fill mask shape", _x,
    lambda T, s: s["x"].masked_fill(T.ones(5, dtype=T.bool), 0.0), RuntimeError,
    r"The size of tensor a \(5\) must match the size of tensor b \(3\)")
row("tensor", "masked_select shape", _x,
    lambda T, s: T.masked_select(s["x"], T.ones(4, dtype=T.bool)), RuntimeError,
    r"The size of tensor a \(3\) must match the size of tensor b \(4\)")

# ------------------------------------------------------------------ tensor: in place
row("tensor", "add_ broadcast into smaller", _x, lambda T, s: s["x"].add_(T.ones(4, 3)),
    RuntimeError, r"The size of tensor a \(2\) must match the size of tensor b \(4\)")
row("tensor", "mul_ broadcast into smaller", _x, lambda T, s: s["x"].mul_(T.ones(3, 2, 3)),
    RuntimeError, r"output with shape \[2, 3\] doesn't match the broadcast shape \[3, 2, 3\]")
row("tensor", "mul_ float into int", _xi, lambda T, s: s["x"].mul_(1.5), RuntimeError,
    r"result type Float can't be cast to the desired output type Long")
row("tensor", "add_ int into bool", lambda T, d: {"b": T.tensor([True, False])},
    lambda T, s: s["b"].add_(1), RuntimeError,
    r"result type Long can't be cast to the desired output type Bool")
row("tensor", "div_ into int", _xi, lambda T, s: s["x"].div_(2), RuntimeError,
    r"result type Float can't be cast to the desired output type Long")
row("tensor", "in-place on leaf requiring grad", lambda T, d: _x(T, d, True),
    lambda T, s: s["x"].add_(1), RuntimeError,
    r"a leaf Variable that requires grad is being used in an in-place operation")
row("tensor", "in-place on view of leaf", lambda T, d: _x(T, d, True),
    lambda T, s: s["x"][0].mul_(2), RuntimeError,
    r"a view of a leaf Variable that requires grad is being used in an in-place operation")
row("tensor", "copy_ shape mismatch", _x, lambda T, s: s["x"].copy_(T.ones(4)), RuntimeError,
    r"\(3\) must match the .*\(4\)")
row("tensor", "setitem value shape", _x,
    lambda T, s: s["x"].__setitem__(0, T.ones(5)), RuntimeError,
    r"The expanded size of the tensor|shape mismatch|must match")
row("tensor", "setitem index out of range", _x,
    lambda T, s: s["x"].__setitem__(T.tensor([9]), 1.0), IndexError,
    r"index 9 is out of bounds for dimension 0 with size 2")
row("tensor", "scatter_ index out of range", _x,
    lambda T, s: s["x"].scatter_(1, T.tensor([[4]]), 1.0), RuntimeError,
    r"index 4 is out of bounds for dimension 1 with size 3")
row("tensor", "index_put_ out of range", _x,
    lambda T, s: s["x"].index_put_((T.tensor([5]),), T.tensor(1.0)), IndexError,
    r"index 5 is out of bounds")
row("tensor", "clamp_ bool", lambda T, d: {"b": T.tensor([True])},
    lambda T, s: s["b"].clamp_(min=True), NotImplementedError,
    r"not implemented for 'Bool'")
row("tensor", "fill_ with tensor of 2", _x, lambda T, s: s["x"].fill_(T.ones(2)), RuntimeError,
    r"fill_ only supports 0-dimension value tensor but got tensor with 1 dimensions")
row("tensor", "resize_ of view requiring grad", lambda T, d: _x(T, d, True),
    lambda T, s: s["x"].resize_(7), RuntimeError,
    r"cannot resize variables that require grad")

# ------------------------------------------------------------------ tensor: conversion
row("tensor", "item of many", _x, lambda T, s: s["x"].item(), RuntimeError,
    r"a Tensor with 6 elements cannot be converted to Scalar")
row("tensor", "float of many", _x, lambda T, s: float(s["x"]), ValueError,
    r"only one element tensors can be converted to Python scalars")
row("tensor", "bool of many", _x, lambda T, s: bool(s["x"]), RuntimeError,
    r"Boolean value of Tensor with more than one value is ambiguous")
row("tensor", "numpy of grad tensor", lambda T, d: _x(T, d, True),
    lambda T, s: s["x"].numpy(), RuntimeError, r"Can't call numpy\(\) on Tensor that requires")
row("tensor", "to unknown dtype string", _x, lambda T, s: s["x"].to("float"), RuntimeError,
    r"unknown device 'float'|Expected one of")
row("tensor", "to bad device (atomic)", _x, lambda T, s: s["x"].to("cdua"), RuntimeError,
    r"unknown device 'cdua'")
row("tensor", "index of many elements", _x, lambda T, s: [0, 1][s["x"]], TypeError,
    r"only integer tensors of a single element can be converted to an index")
row("tensor", "len of 0-d", lambda T, d: {"a": T.tensor(1.0)}, lambda T, s: len(s["a"]),
    TypeError, r"len\(\) of a 0-d tensor")
row("tensor", "iterate 0-d", lambda T, d: {"a": T.tensor(1.0)}, lambda T, s: list(s["a"]),
    TypeError, r"iteration over a 0-d tensor")
