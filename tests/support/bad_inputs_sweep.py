"""Bad-input catalogue rows made by a sweep: every op of a family x one kind of bad input
(non-broadcastable shapes, a dim out of range, a negative size, an empty reduction, a result
dtype an in-place op cannot hold, a second device), on cpu and opencl. Each row still runs on
torch, which must raise the same type (mixed-device rows excepted: torch's cpu has one
device). See tests/frontend/test_bad_input_catalogue.py for what each row asserts."""
from __future__ import annotations

from bad_input_rows import row

DEVICES = ("cpu", "opencl")
BROADCAST = r"The size of tensor a \(\d+\) must match the size of tensor b \(\d+\) at " \
            r"non-singleton dimension"
DIM_RANGE = r"Dimension out of range \(expected to be in range of \[-?\d+, -?\d+\], but got " \
            r"-?\d+\)"
SAME_DEVICE = r"Expected all tensors to be on the same device"

# ------------------------------------------------------------------ binary families
FLOAT_BINARY = {
    "add": lambda T, a, b: T.add(a, b), "sub": lambda T, a, b: T.sub(a, b),
    "mul": lambda T, a, b: T.mul(a, b), "div": lambda T, a, b: T.div(a, b),
    "div floor": lambda T, a, b: T.div(a, b, rounding_mode="floor"),
    "div trunc": lambda T, a, b: T.div(a, b, rounding_mode="trunc"),
    "true_divide": lambda T, a, b: T.true_divide(a, b),
    "floor_divide": lambda T, a, b: T.floor_divide(a, b),
    "remainder": lambda T, a, b: T.remainder(a, b), "fmod": lambda T, a, b: T.fmod(a, b),
    "pow": lambda T, a, b: T.pow(a, b), "maximum": lambda T, a, b: T.maximum(a, b),
    "minimum": lambda T, a, b: T.minimum(a, b), "atan2": lambda T, a, b: T.atan2(a, b),
    "eq": lambda T, a, b: T.eq(a, b), "ne": lambda T, a, b: T.ne(a, b),
    "lt": lambda T, a, b: T.lt(a, b), "le": lambda T, a, b: T.le(a, b),
    "gt": lambda T, a, b: T.gt(a, b), "ge": lambda T, a, b: T.ge(a, b),
    "logical_and": lambda T, a, b: T.logical_and(a, b),
    "logical_or": lambda T, a, b: T.logical_or(a, b),
    "logical_xor": lambda T, a, b: T.logical_xor(a, b),
    "operator +": lambda T, a, b: a + b, "operator *": lambda T, a, b: a * b,
    "operator /": lambda T, a, b: a / b, "operator **": lambda T, a, b: a ** b,
    "operator <": lambda T, a, b: a < b, "operator ==": lambda T, a, b: a == b,
    "where": lambda T, a, b: T.where(a > 0, a, b),
    "lerp": lambda T, a, b: T.lerp(a, b, 0.5),
    "addcmul": lambda T, a, b: T.addcmul(a, a, b), "addcdiv": lambda T, a, b: T.addcdiv(a, a, b),
    "isclose": lambda T, a, b: T.isclose(a, b),
    "mse_loss": lambda T, a, b: T.nn.functional.mse_loss(a, b),
}
INT_BINARY = {
    "bitwise_and": lambda T, a, b: T.bitwise_and(a, b),
    "bitwise_or": lambda T, a, b: T.bitwise_or(a, b),
    "bitwise_xor": lambda T, a, b: T.bitwise_xor(a, b),
    "operator &": lambda T, a, b: a & b, "operator |": lambda T, a, b: a | b,
    "operator ^": lambda T, a, b: a ^ b,
}


def _pair(dtype=None, shapes=((2, 3), (4,))):
    def setup(T, d):
        dt = getattr(T, dtype) if dtype else None
        return {"a": T.ones(*shapes[0], dtype=dt, device=d),
                "b": T.ones(*shapes[1], dtype=dt, device=d)}
    return setup


for _dev in DEVICES:
    for _name, _fn in FLOAT_BINARY.items():
        row("sweep", f"{_name}: shapes (2, 3) and (4,) ({_dev})", _pair(),
            lambda T, s, f=_fn: f(T, s["a"], s["b"]), RuntimeError, BROADCAST, device=_dev)
    for _name, _fn in INT_BINARY.items():
        row("sweep", f"{_name}: shapes (2, 3) and (4,) ({_dev})", _pair("int64"),
            lambda T, s, f=_fn: f(T, s["a"], s["b"]), RuntimeError, BROADCAST, device=_dev)

# ------------------------------------------------- in place: broadcast beyond self's shape
INPLACE = {
    "add_": lambda a, b: a.add_(b), "sub_": lambda a, b: a.sub_(b),
    "mul_": lambda a, b: a.mul_(b), "div_": lambda a, b: a.div_(b),
    "pow_": lambda a, b: a.pow_(b), "copy_": lambda a, b: a.copy_(b),
    "lerp_": lambda a, b: a.lerp_(b, 0.5), "addcmul_": lambda a, b: a.addcmul_(b, b),
    "masked_fill_": lambda a, b: a.masked_fill_(b > 0, 1.0),
    "operator +=": lambda a, b: a.__iadd__(b), "operator *=": lambda a, b: a.__imul__(b),
    "atan2_": lambda a, b: a.atan2_(b),
}
for _dev in DEVICES:
    for _name, _fn in INPLACE.items():
        row("sweep", f"{_name}: self (3,) and other (2, 3) ({_dev})",
            _pair(shapes=((3,), (2, 3))), lambda T, s, f=_fn: f(s["a"], s["b"]), RuntimeError,
            r"doesn't match the broadcast shape|must match the size|expand|mask",
            device=_dev)

# ------------------------------------------------------- in place: a result self can't hold
CASTS = {
    "add_ of a float into int64": (lambda T, d: T.ones(3, dtype=T.int64, device=d),
                                   lambda T, x: x.add_(1.5)),
    "mul_ by a float tensor into int64": (lambda T, d: T.ones(3, dtype=T.int64, device=d),
                                          lambda T, x: x.mul_(T.ones(3, device=x.device))),
    "div_ (true division) of int64": (lambda T, d: T.ones(3, dtype=T.int64, device=d),
                                      lambda T, x: x.div_(2)),
    "add_ of an int into bool": (lambda T, d: T.ones(3, dtype=T.bool, device=d),
                                 lambda T, x: x.add_(1)),
    "sub_ of a float into int32": (lambda T, d: T.ones(3, dtype=T.int32, device=d),
                                   lambda T, x: x.sub_(0.5)),
}
for _dev in DEVICES:
    for _name, (_make, _fn) in CASTS.items():
        row("sweep", f"{_name} ({_dev})", lambda T, d, m=_make: {"x": m(T, d)},
            lambda T, s, f=_fn: f(T, s["x"]), RuntimeError,
            r"result type \w+ can't be cast to the desired output type \w+", device=_dev)

# --------------------------------------------------------------------- dim out of range
DIM_OPS = {
    "sum": lambda x: x.sum(3), "mean": lambda x: x.mean(-4), "prod": lambda x: x.prod(3),
    "amax": lambda x: x.amax(3), "amin": lambda x: x.amin(-4), "max(dim)": lambda x: x.max(3),
    "min(dim)": lambda x: x.min(3), "argmax": lambda x: x.argmax(3),
    "argmin": lambda x: x.argmin(-4), "std": lambda x: x.std(3), "var": lambda x: x.var(3),
    "logsumexp": lambda x: x.logsumexp(3), "cumsum": lambda x: x.cumsum(3),
    "cumprod": lambda x: x.cumprod(-4), "softmax": lambda x: x.softmax(3),
    "log_softmax": lambda x: x.log_softmax(3), "norm(dim)": lambda x: x.norm(dim=3),
    "all": lambda x: x.all(3), "any": lambda x: x.any(3), "sort": lambda x: x.sort(3),
    "argsort": lambda x: x.argsort(3), "topk": lambda x: x.topk(1, 3),
    "flip": lambda x: x.flip(3), "roll": lambda x: x.roll(1, 3),
    "squeeze": lambda x: x.squeeze(3), "unsqueeze": lambda x: x.unsqueeze(4),
    "transpose": lambda x: x.transpose(0, 3), "narrow": lambda x: x.narrow(3, 0, 1),
    "select": lambda x: x.select(3, 0), "split": lambda x: x.split(1, 3),
    "chunk": lambda x: x.chunk(2, 3), "unbind": lambda x: x.unbind(3),
    "movedim": lambda x: x.movedim(3, 0), "diagonal": lambda x: x.diagonal(0, 0, 3),
    "unfold": lambda x: x.unfold(3, 1, 1), "flatten": lambda x: x.flatten(0, 3),
    "gather": lambda x: x.gather(3, x.long()), "index_select": lambda x: x.index_select(
        3, x.new_zeros(1).long()), "count_nonzero": lambda x: x.count_nonzero(3),
    "nansum": lambda x: x.nansum(3), "median(dim)": lambda x: x.median(3),
    "kthvalue": lambda x: x.kthvalue(1, 3), "cummax": lambda x: x.cummax(3),
    "size(dim)": lambda x: x.size(3), "stride(dim)": lambda x: x.stride(3),
    "permute": lambda x: x.permute(0, 1, 3), "tensor_split": lambda x: x.tensor_split(2, 3),
    "unflatten": lambda x: x.unflatten(3, (1, 1)),
}
for _dev in DEVICES:
    for _name, _fn in DIM_OPS.items():
        row("sweep", f"{_name}: dim out of range ({_dev})",
            lambda T, d: {"x": T.ones(2, 3, 2, device=d)}, lambda T, s, f=_fn: f(s["x"]),
            IndexError, DIM_RANGE, device=_dev)
    for _name, _fn in {"cat": lambda T, x: T.cat([x, x], 3),
                       "stack": lambda T, x: T.stack([x, x], 4),
                       "softmax (functional)": lambda T, x: T.nn.functional.softmax(x, -4),
                       "torch.cumsum": lambda T, x: T.cumsum(x, dim=-5)}.items():
        row("sweep", f"{_name}: dim out of range ({_dev})",
            lambda T, d: {"x": T.ones(2, 3, 2, device=d)}, lambda T, s, f=_fn: f(T, s["x"]),
            IndexError, DIM_RANGE, device=_dev)

# ------------------------------------------------------------------------ negative sizes
NEGATIVE = {
    "zeros": lambda T, d: T.zeros(2, -1, device=d), "ones": lambda T, d: T.ones(-3, device=d),
    "empty": lambda T, d: T.empty(-1, device=d), "full": lambda T, d: T.full((-2,), 1.0,
                                                                            device=d),
    "rand": lambda T, d: T.rand(-1, 2, device=d), "randn": lambda T, d: T.randn(-5, device=d),
    "randint": lambda T, d: T.randint(0, 5, (-1,), device=d),
    "new_zeros": lambda T, d: T.ones(2, device=d).new_zeros(-1),
    "new_ones": lambda T, d: T.ones(2, device=d).new_ones((2, -2)),
    "new_full": lambda T, d: T.ones(2, device=d).new_full((-1,), 0.0),
    "new_empty": lambda T, d: T.ones(2, device=d).new_empty(-1),
}
for _dev in DEVICES:
    for _name, _fn in NEGATIVE.items():
        row("sweep", f"{_name} with a negative size ({_dev})", lambda T, d: {},
            lambda T, s, f=_fn, dv=_dev: f(T, dv if T.__name__ == "plugrad" else "cpu"),
            RuntimeError, r"negative dimension -\d+", device=_dev)

# ------------------------------------------------------------------- empty reductions
EMPTY = {
    "max()": (lambda x: x.max(), RuntimeError, r"max\(\): Expected reduction dim to be "
                                                r"specified for input.numel\(\) == 0"),
    "min()": (lambda x: x.min(), RuntimeError, r"Expected reduction dim to be specified"),
    "argmax()": (lambda x: x.argmax(), IndexError, r"argmax\(\): Expected reduction dim to "
                                                   r"be specified for input.numel\(\) == 0"),
    "argmin()": (lambda x: x.argmin(), IndexError, r"argmin\(\)"),
    "amax()": (lambda x: x.amax(), RuntimeError, r"amax\(\): Expected reduction dim to be "
                                                 r"specified for input.numel\(\) == 0"),
    "amin(0)": (lambda x: x.amin(0), IndexError, r"non-zero size"),
    "max(0)": (lambda x: x.max(0), IndexError, r"Expected reduction dim 0 to have non-zero "
                                               r"size"),
    "argmax(0)": (lambda x: x.argmax(0), IndexError, r"non-zero size"),
    "kthvalue(1, 0)": (lambda x: x.kthvalue(1, 0), IndexError, r"non-zero size"),
    "median()": (lambda x: x.median(0), IndexError, r"non-zero size"),
}
for _dev in DEVICES:
    for _name, (_fn, _exc, _match) in EMPTY.items():
        row("sweep", f"{_name} of an empty tensor ({_dev})",
            lambda T, d: {"x": T.ones(0, device=d)}, lambda T, s, f=_fn: f(s["x"]), _exc,
            _match, device=_dev)

# ---------------------------------------------------------- a second device (opencl only)
for _name, _fn in {**FLOAT_BINARY, "matmul": lambda T, a, b: a @ b,
                   "mm": lambda T, a, b: T.mm(a, b), "cat": lambda T, a, b: T.cat([a, b]),
                   "stack": lambda T, a, b: T.stack([a, b]),
                   "dot": lambda T, a, b: T.dot(a.reshape(-1), b.reshape(-1))}.items():
    row("device", f"{_name}: one operand on cpu",
        lambda T, d: {"a": T.ones(2, 2, device=d), "b": T.ones(2, 2)},
        lambda T, s, f=_fn: f(T, s["a"], s["b"]), RuntimeError, SAME_DEVICE, torch=False,
        device="opencl")

# ------------------------------------------------------------------ dtypes an op refuses
# (found by running every op of the lists below on bool/int/float tensors against torch;
# each entry is a dtype torch refuses, "!" where only the cpu raises -- the opencl backend
# reports an integer division by zero at the next synchronization, as CUDA would)
DTYPE_PROBLEM = (r"not implemented for '\w+'|not supported|can't be cast to the desired output "
                 r"type|only support floating point|xpected a floating point|expected input to "
                 r"have floating point|could not infer output dtype|does not support bool|"
                 r"ZeroDivisionError")
UNARY_BAD = {
    "abs": ["bool"], "neg": ["bool"], "floor": ["bool"], "ceil": ["bool"], "round": ["bool"],
    "trunc": ["bool"], "frac": ["bool", "int64", "int32", "uint8"], "relu": ["bool"],
    "softmax0": ["bool", "int64", "int32", "uint8"], "mean": ["bool", "int64", "int32", "uint8"],
    "std": ["bool", "int64", "int32", "uint8"], "var": ["bool", "int64", "int32", "uint8"],
    "argmax": ["bool"], "norm": ["bool", "int64", "int32", "uint8"], "median": ["bool"],
    "nanmean": ["bool", "int64", "int32", "uint8"], "topk1": ["bool"], "trace": ["bool"],
    "cross_entropy_in": ["bool", "int64", "int32", "uint8"],
    "sigmoid_": ["bool", "int64", "int32", "uint8"], "exp_": ["bool", "int64", "int32", "uint8"],
    "neg_": ["bool"], "abs_": ["bool"], "floor_": ["bool"],
    "sqrt_": ["bool", "int64", "int32", "uint8"], "relu_": ["bool"], "clamp_": ["bool"],
    "bitwise_not": ["float32", "float16"],
}
BINARY_BAD = {
    "sub": ["bool"], "floor_divide": ["bool", "int64!", "int32!", "uint8!"],
    "remainder": ["bool", "int64!", "int32!", "uint8!"],
    "fmod": ["bool", "int64!", "int32!", "uint8!"], "pow": ["bool"],
    "lerp": ["bool", "int64", "int32", "uint8"], "hypot": ["bool", "int64", "int32", "uint8"],
    "matmul": ["bool"], "dot": ["bool"], "mm": ["bool"],
    "logaddexp": ["bool", "int64", "int32", "uint8"], "bitwise_and": ["float32", "float16"],
    "bitwise_or": ["float32", "float16"], "bitwise_xor": ["float32", "float16"],
}


def _unary_call(name, T, x):
    if name.endswith("0"):
        return getattr(x, name[:-1])(0)
    if name == "topk1":
        return x.topk(1)
    if name == "clamp_":
        return x.clamp_(0, 1)
    if name == "trace":
        return x.reshape(2, 2).trace()
    if name == "cross_entropy_in":
        return T.nn.functional.cross_entropy(x.reshape(2, 2), T.tensor([0, 1], device=x.device))
    return getattr(x, name)()


def _binary_call(name, T, a, b):
    if name == "lerp":
        return T.lerp(a, b, 0.5)
    if name in ("mm", "matmul"):
        return getattr(T, name)(a.reshape(2, 2), b.reshape(2, 2))
    return getattr(T, name)(a, b)


def _values(dtype):
    return lambda T, d: {"x": T.tensor([1, 0, 1, 1], dtype=getattr(T, dtype), device=d)}


for _table, _caller in ((UNARY_BAD, lambda n: lambda T, s: _unary_call(n, T, s["x"])),
                        (BINARY_BAD, lambda n: lambda T, s: _binary_call(n, T, s["x"], s["x"]))):
    for _name, _dtypes in _table.items():
        for _dt in _dtypes:
            _cpu_only = _dt.endswith("!")
            _dt = _dt.rstrip("!")
            for _dev in DEVICES[:1] if _cpu_only else DEVICES:
                # (the exception type is checked against torch's: the row runs there too)
                row("sweep", f"{_name} on a {_dt} tensor ({_dev})", _values(_dt),
                    _caller(_name), Exception, DTYPE_PROBLEM, device=_dev)
