"""Bad-input catalogue rows: the leaked errors of issue 18 (numpy/pyopencl exception types,
ZeroDivisionError, calls that raised nothing), on cpu and opencl. See
tests/frontend/test_bad_input_catalogue.py for what each row asserts."""
from __future__ import annotations

from bad_input_rows import row

DEVICES = ("cpu", "opencl")
SAME_DEVICE = r"Expected all tensors to be on the same device"
OVERLAP = r"more than one element of the written-to tensor refers to a single memory location"


def _F(T):
    return T.nn.functional


def _mixed(make):
    """Setup for a mixed-device row: the 'main' tensors on opencl, ``other`` on the cpu."""
    return lambda T, d: make(T, d)


# ------------------------------------------------------------ mixed devices (opencl only)
_MIXED = {
    "gather: index on cpu": (lambda T, d: {"x": T.ones(3, device=d), "i": T.tensor([0])},
                             lambda T, s: s["x"].gather(0, s["i"])),
    "gather: input on cpu": (lambda T, d: {"x": T.ones(3), "i": T.tensor([0], device=d)},
                             lambda T, s: s["x"].gather(0, s["i"])),
    "index_select: index on cpu": (lambda T, d: {"x": T.ones(3, device=d), "i": T.tensor([0])},
                                   lambda T, s: s["x"].index_select(0, s["i"])),
    "index_select: input on cpu": (lambda T, d: {"x": T.ones(3), "i": T.tensor([0], device=d)},
                                   lambda T, s: s["x"].index_select(0, s["i"])),
    "scatter: index on cpu": (lambda T, d: {"x": T.zeros(3, device=d), "i": T.tensor([0]),
                                            "v": T.ones(1, device=d)},
                              lambda T, s: s["x"].scatter(0, s["i"], s["v"])),
    "scatter: src on cpu": (lambda T, d: {"x": T.zeros(3, device=d),
                                          "i": T.tensor([0], device=d), "v": T.ones(1)},
                            lambda T, s: s["x"].scatter(0, s["i"], s["v"])),
    "scatter_add_: src on cpu": (lambda T, d: {"x": T.zeros(3, device=d),
                                               "i": T.tensor([0], device=d), "v": T.ones(1)},
                                 lambda T, s: s["x"].scatter_add_(0, s["i"], s["v"])),
    "index_add: index on cpu": (lambda T, d: {"x": T.zeros(3, device=d), "i": T.tensor([0]),
                                              "v": T.ones(1, device=d)},
                                lambda T, s: s["x"].index_add(0, s["i"], s["v"])),
    "index_add_: source on cpu": (lambda T, d: {"x": T.zeros(3, device=d),
                                                "i": T.tensor([0], device=d), "v": T.ones(1)},
                                  lambda T, s: s["x"].index_add_(0, s["i"], s["v"])),
    "index_fill: index on cpu": (lambda T, d: {"x": T.zeros(3, device=d), "i": T.tensor([0])},
                                 lambda T, s: s["x"].index_fill(0, s["i"], 1.0)),
    "take: index on cpu": (lambda T, d: {"x": T.ones(3, device=d), "i": T.tensor([0])},
                           lambda T, s: T.take(s["x"], s["i"])),
    "take_along_dim: index on cpu": (lambda T, d: {"x": T.ones(3, device=d),
                                                   "i": T.tensor([0])},
                                     lambda T, s: T.take_along_dim(s["x"], s["i"])),
    "embedding: weight on cpu": (lambda T, d: {"w": T.ones(3, 2), "i": T.tensor([0], device=d)},
                                 lambda T, s: _F(T).embedding(s["i"], s["w"])),
    "embedding: indices on cpu": (lambda T, d: {"w": T.ones(3, 2, device=d),
                                                "i": T.tensor([0])},
                                  lambda T, s: _F(T).embedding(s["i"], s["w"])),
    "Embedding module: indices on cpu": (lambda T, d: {"m": T.nn.Embedding(3, 2).to(d),
                                                       "i": T.tensor([0])},
                                         lambda T, s: s["m"](s["i"])),
    "cross_entropy: target on cpu": (lambda T, d: {"x": T.ones(2, 3, device=d),
                                                   "t": T.tensor([0, 1])},
                                     lambda T, s: _F(T).cross_entropy(s["x"], s["t"])),
    "cross_entropy: logits on cpu": (lambda T, d: {"x": T.ones(2, 3),
                                                   "t": T.tensor([0, 1], device=d)},
                                     lambda T, s: _F(T).cross_entropy(s["x"], s["t"])),
    "cross_entropy: weight on cpu": (lambda T, d: {"x": T.ones(2, 3, device=d),
                                                   "t": T.tensor([0, 1], device=d),
                                                   "w": T.ones(3)},
                                     lambda T, s: _F(T).cross_entropy(s["x"], s["t"], s["w"])),
    "nll_loss: target on cpu": (lambda T, d: {"x": T.ones(2, 3, device=d),
                                              "t": T.tensor([0, 1])},
                                lambda T, s: _F(T).nll_loss(s["x"], s["t"])),
    "CrossEntropyLoss: target on cpu": (lambda T, d: {"x": T.ones(2, 3, device=d),
                                                      "t": T.tensor([0, 1])},
                                        lambda T, s: T.nn.CrossEntropyLoss()(s["x"], s["t"])),
}
for _name, (_setup, _call) in _MIXED.items():
    row("device", f"mixed devices in {_name}", _setup, _call, RuntimeError, SAME_DEVICE,
        torch=False, device="opencl")


# --------------------------------------------------- in place into an expanded tensor
_EXPANDED_WRITES = {
    "add_": lambda T, s: s["e"].add_(1),
    "mul_": lambda T, s: s["e"].mul_(2.0),
    "sub_ tensor": lambda T, s: s["e"].sub_(s["o"]),
    "div_": lambda T, s: s["e"].div_(2.0),
    "pow_": lambda T, s: s["e"].pow_(2),
    "clamp_": lambda T, s: s["e"].clamp_(0, 0.5),
    "exp_": lambda T, s: s["e"].exp_(),
    "neg_": lambda T, s: s["e"].neg_(),
    "copy_": lambda T, s: s["e"].copy_(s["o"]),
    "addcmul_": lambda T, s: s["e"].addcmul_(s["o"], s["o"]),
    "lerp_": lambda T, s: s["e"].lerp_(s["o"], 0.5),
    "abs_": lambda T, s: s["e"].abs_(),
    "sqrt_": lambda T, s: s["e"].sqrt_(),
    "relu_": lambda T, s: s["e"].relu_(),
    "+= (operator)": lambda T, s: s["e"].__iadd__(s["o"]),
}


def _expanded(T, d):
    base = T.ones(1, 3, device=d)
    return {"base": base, "e": base.expand(2, 3), "o": T.full((2, 3), 0.25, device=d)}


for _dev in DEVICES:
    for _name, _call in _EXPANDED_WRITES.items():
        row("tensor", f"{_name} into an expanded tensor ({_dev})", _expanded, _call,
            RuntimeError, OVERLAP, device=_dev)


# -------------------------------------------------------- the rest of issue 18's list
_CALLS = [
    ("tensor_split into 0 sections", lambda T, d: {"x": T.ones(3, device=d)},
     lambda T, s: s["x"].tensor_split(0), RuntimeError, r"number of sections must be larger "
                                                        r"than 0, got 0"),
    ("tensor_split into -1 sections", lambda T, d: {"x": T.ones(3, device=d)},
     lambda T, s: s["x"].tensor_split(-1), RuntimeError, r"larger than 0, got -1"),
    ("roll: 2 shifts, 1 dim", lambda T, d: {"x": T.ones(3, device=d)},
     lambda T, s: s["x"].roll((1, 2), (0,)), RuntimeError, r"shifts and dimensions must align"),
    ("roll: 2 shifts, no dims", lambda T, d: {"x": T.ones(3, device=d)},
     lambda T, s: s["x"].roll((1, 2)), RuntimeError, r"shifts: 2, dims:0"),
    ("roll: 1 shift, 2 dims", lambda T, d: {"x": T.ones(3, 3, device=d)},
     lambda T, s: s["x"].roll(1, (0, 1)), RuntimeError, r"shifts: 1, dims:2"),
    ("AdaptiveAvgPool2d(-1)", lambda T, d: {"x": T.ones(1, 1, 4, 4, device=d)},
     lambda T, s: T.nn.AdaptiveAvgPool2d(-1)(s["x"]), RuntimeError,
     r"output_size must be greater than or equal to 0"),
    ("adaptive_max_pool2d of an empty image", lambda T, d: {"x": T.ones(1, 1, 0, 4, device=d)},
     lambda T, s: _F(T).adaptive_max_pool2d(s["x"], 2), RuntimeError,
     r"Expected input to have non-zero size for non-batch dimensions"),
    ("adaptive_avg_pool2d of an empty image", lambda T, d: {"x": T.ones(1, 1, 0, 4, device=d)},
     lambda T, s: _F(T).adaptive_avg_pool2d(s["x"], 2), RuntimeError,
     r"dimension 2 being empty"),
    ("Conv2d kernel 0 forward", lambda T, d: {"m": T.nn.Conv2d(1, 1, 1).to(d),
                                              "x": T.ones(1, 1, 3, 3, device=d)},
     lambda T, s: _F(T).conv2d(s["x"], s["m"].weight[:, :, :0]), RuntimeError,
     r"kernel size should be greater than zero"),
    ("randint(low, high, int size)", lambda T, d: {},
     lambda T, s: T.randint(0, 5, 3), TypeError, r"must be tuple of ints, not int"),
    ("randint(high, int size)", lambda T, d: {},
     lambda T, s: T.randint(5, 3), TypeError, r"size"),
    ("requires_grad_('yes')", lambda T, d: {"x": T.ones(2, device=d)},
     lambda T, s: s["x"].requires_grad_("yes"), TypeError, r"must be bool, not str"),
    ("requires_grad_(1)", lambda T, d: {"x": T.ones(2, device=d)},
     lambda T, s: s["x"].requires_grad_(1), TypeError, r"must be bool, not int"),
    ("requires_grad_(None)", lambda T, d: {"x": T.ones(2, device=d)},
     lambda T, s: s["x"].requires_grad_(None), TypeError, r"must be bool, not NoneType"),
    ("cross_entropy int32 targets", lambda T, d: {"x": T.ones(2, 3, device=d),
                                                  "t": T.tensor([0, 1], dtype=T.int32,
                                                                device=d)},
     lambda T, s: _F(T).cross_entropy(s["x"], s["t"]), RuntimeError,
     r"expected target dtype to be Long or Byte, but got Int"),
    ("cross_entropy int16 targets (N, C, d)", lambda T, d: {
        "x": T.ones(2, 3, 4, device=d), "t": T.zeros(2, 4, dtype=T.int16, device=d)},
     lambda T, s: _F(T).cross_entropy(s["x"], s["t"]), RuntimeError, r"but got Short"),
    ("cross_entropy bool targets", lambda T, d: {"x": T.ones(2, 3, device=d),
                                                 "t": T.tensor([True, False], device=d)},
     lambda T, s: _F(T).cross_entropy(s["x"], s["t"]), RuntimeError, r"but got Bool"),
    ("nll_loss int32 targets", lambda T, d: {"x": T.ones(2, 3, device=d),
                                             "t": T.tensor([0, 1], dtype=T.int32, device=d)},
     lambda T, s: _F(T).nll_loss(s["x"], s["t"]), RuntimeError,
     r"expected target dtype to be Long or Byte"),
    ("sum(dim=True)", lambda T, d: {"x": T.ones(2, 3, device=d)},
     lambda T, s: s["x"].sum(dim=True), TypeError, r"invalid combination of arguments"),
    ("mean(dim=False)", lambda T, d: {"x": T.ones(2, 3, device=d)},
     lambda T, s: s["x"].mean(dim=False), TypeError, r"got \(dim=bool\)"),
    ("amax(dim=(True,))", lambda T, d: {"x": T.ones(2, 3, device=d)},
     lambda T, s: s["x"].amax(dim=(True,)), TypeError, r"invalid combination"),
    ("full_like with a str", lambda T, d: {"x": T.ones(2, device=d)},
     lambda T, s: T.full_like(s["x"], "a"), TypeError, r"'fill_value' .* must be Number"),
    ("full with a str", lambda T, d: {}, lambda T, s: T.full((2,), "a"), TypeError,
     r"must be Number, not str"),
    ("eye(2.5)", lambda T, d: {}, lambda T, s: T.eye(2.5), TypeError,
     r"argument 'n' \(position 1\) must be int, not float"),
    ("eye(2, 1.5)", lambda T, d: {}, lambda T, s: T.eye(2, 1.5), TypeError,
     r"argument 'm' \(position 2\) must be int"),
    ("tile(-1)", lambda T, d: {"x": T.ones(2, device=d)},
     lambda T, s: s["x"].tile(-1), RuntimeError, r"negative dimension -2"),
    ("repeat(-1, 1)", lambda T, d: {"x": T.ones(2, 2, device=d)},
     lambda T, s: s["x"].repeat(-1, 1), RuntimeError, r"negative dimension"),
    ("flip(0, 0)", lambda T, d: {"x": T.ones(2, 2, device=d)},
     lambda T, s: s["x"].flip(0, 0), RuntimeError, r"dim 0 appears multiple times"),
    ("flip((1, -1))", lambda T, d: {"x": T.ones(2, 2, device=d)},
     lambda T, s: T.flip(s["x"], (1, -1)), RuntimeError, r"dim 1 appears multiple times"),
    ("normal with a negative std tensor", lambda T, d: {"m": T.zeros(2, device=d),
                                                        "s": -T.ones(2, device=d)},
     lambda T, s: T.normal(s["m"], s["s"]), RuntimeError, r"normal expects all elements of "
                                                          r"std >= 0.0"),
    ("exponential_(-1)", lambda T, d: {"x": T.ones(2, device=d)},
     lambda T, s: s["x"].exponential_(-1), RuntimeError, r"expects lambda > 0.0"),
    ("exponential_(0)", lambda T, d: {"x": T.ones(2, device=d)},
     lambda T, s: s["x"].exponential_(0), RuntimeError, r"found lambda=0"),
    ("index_add of another dtype", lambda T, d: {
        "x": T.ones(3, device=d), "i": T.tensor([0], device=d),
        "v": T.ones(1, dtype=T.float64, device=d)},
     lambda T, s: s["x"].index_add(0, s["i"], s["v"]), RuntimeError,
     r"self \(Float\) and source \(Double\) must have the same scalar type"),
    ("index_add_ of another dtype", lambda T, d: {
        "x": T.ones(3, device=d), "i": T.tensor([0], device=d),
        "v": T.ones(1, dtype=T.int64, device=d)},
     lambda T, s: s["x"].index_add_(0, s["i"], s["v"]), RuntimeError, r"same scalar type"),
    ("kthvalue over an empty dim", lambda T, d: {"x": T.ones(0, 2, device=d)},
     lambda T, s: s["x"].kthvalue(1, 0), IndexError, r"Expected reduction dim 0 to have "
                                                     r"non-zero size"),
    ("softmax of int64", lambda T, d: {"x": T.ones(3, dtype=T.int64, device=d)},
     lambda T, s: s["x"].softmax(0), NotImplementedError, r"not implemented for 'Long'"),
    ("softmax to dtype int64", lambda T, d: {"x": T.ones(3, device=d)},
     lambda T, s: s["x"].softmax(0, dtype=T.int64), NotImplementedError,
     r"softmax.* not implemented for 'Long'"),
    ("log_softmax to dtype int32", lambda T, d: {"x": T.ones(3, device=d)},
     lambda T, s: s["x"].log_softmax(0, dtype=T.int32), NotImplementedError,
     r"log_softmax.* not implemented for 'Int'"),
    ("add(float, 1, out=int64)", lambda T, d: {"x": T.ones(2, device=d),
                                               "o": T.zeros(2, dtype=T.int64, device=d)},
     lambda T, s: T.add(s["x"], 1, out=s["o"]), RuntimeError,
     r"result type Float can't be cast to the desired output type Long"),
    ("mul(float, int, out=bool)", lambda T, d: {"x": T.ones(2, device=d),
                                                "o": T.zeros(2, dtype=T.bool, device=d)},
     lambda T, s: T.mul(s["x"], 2, out=s["o"]), RuntimeError,
     r"can't be cast to the desired output type Bool"),
    ("sqrt(out=int64)", lambda T, d: {"x": T.ones(2, device=d),
                                      "o": T.zeros(2, dtype=T.int64, device=d)},
     lambda T, s: T.sqrt(s["x"], out=s["o"]), RuntimeError, r"can't be cast"),
    ("clamp(out=int64)", lambda T, d: {"x": T.ones(2, device=d),
                                       "o": T.zeros(2, dtype=T.int64, device=d)},
     lambda T, s: T.clamp(s["x"], 0, 1, out=s["o"]), RuntimeError, r"can't be cast"),
    ("in place on a no_grad view of a graph tensor", lambda T, d: (lambda a: (
        lambda b: {"a": a, "b": b})(a * 2))(T.ones(3, requires_grad=True, device=d)),
     lambda T, s: (lambda v: v.mul_(3))(_no_grad_view(T, s["b"])), RuntimeError,
     r"A view was created in no_grad mode and is being modified inplace with grad mode "
     r"enabled"),
    ("in place on a no_grad view of a leaf", lambda T, d: {
        "a": T.ones(3, requires_grad=True, device=d)},
     lambda T, s: _no_grad_view(T, s["a"]).zero_(), RuntimeError, r"created in no_grad mode"),
    ("setitem on a no_grad view", lambda T, d: (lambda a: {"a": a, "b": a * 2})(
        T.ones(3, requires_grad=True, device=d)),
     lambda T, s: _no_grad_view(T, s["b"]).__setitem__(0, 1.0), RuntimeError,
     r"created in no_grad mode"),
    ("unfold larger than the dim", lambda T, d: {"x": T.ones(2, 3, device=d)},
     lambda T, s: s["x"].unfold(1, 4, 1), RuntimeError, r"maximum size for tensor at dimension "
                                                        r"1 is 3 but size is 4"),
    ("unfold step 0", lambda T, d: {"x": T.ones(2, 3, device=d)},
     lambda T, s: s["x"].unfold(1, 2, 0), RuntimeError, r"step is 0 but must be > 0"),
    ("as_strided out of bounds", lambda T, d: {"x": T.ones(2, 3, device=d)},
     lambda T, s: s["x"].as_strided((3, 3), (3, 1)), RuntimeError, r"out of bounds for storage"),
    ("as_strided negative stride", lambda T, d: {"x": T.ones(2, 3, device=d)},
     lambda T, s: s["x"].as_strided((2,), (-1,)), RuntimeError, r"Negative strides"),
    ("adjoint of 1-D", lambda T, d: {"x": T.ones(3, device=d)},
     lambda T, s: s["x"].adjoint(), RuntimeError, r"only supported on matrices"),
    ("interpolate an empty signal", lambda T, d: {"x": T.ones(1, 1, 0, device=d)},
     lambda T, s: _F(T).interpolate(s["x"], size=3), RuntimeError,
     r"Input and output sizes should be greater than 0, but got input \(W: 0\)"),
    ("interpolate to size 0", lambda T, d: {"x": T.ones(1, 1, 2, device=d)},
     lambda T, s: _F(T).interpolate(s["x"], size=0), RuntimeError, r"output \(W: 0\)"),
    ("interpolate an image to scale 0.1", lambda T, d: {"x": T.ones(1, 1, 2, 2, device=d)},
     lambda T, s: _F(T).interpolate(s["x"], scale_factor=0.1), RuntimeError,
     r"output \(H: 0, W: 0\)"),
    ("embedding from an empty weight", lambda T, d: {"w": T.ones(0, 2, device=d),
                                                     "i": T.tensor([0], device=d)},
     lambda T, s: _F(T).embedding(s["i"], s["w"]), RuntimeError,
     r"self indexing axis dim should be positive"),
    ("x[uint8 mask] = number", lambda T, d: {"x": T.arange(4.0, device=d),
                                              "m": T.tensor([1, 0, 1, 1], dtype=T.uint8,
                                                            device=d)},
     lambda T, s: s["x"].__setitem__(s["m"], 7.0), RuntimeError,
     r"masked_fill_ only supports boolean masks, but got mask with dtype unsigned char"),
    ("x[uint8 mask] = 0-d tensor", lambda T, d: {"x": T.arange(4.0, device=d),
                                                 "m": T.tensor([1, 0, 1, 1], dtype=T.uint8,
                                                               device=d),
                                                 "v": T.tensor(7.0, device=d)},
     lambda T, s: s["x"].__setitem__(s["m"], s["v"]), RuntimeError, r"boolean masks"),
    ("zeros of 2**62 elements", lambda T, d: {},
     lambda T, s: T.zeros(2 ** 62), RuntimeError, r"Storage size calculation overflowed"),
    ("empty of 2**61 float64 elements", lambda T, d: {},
     lambda T, s: T.empty(2 ** 61, dtype=T.float64), RuntimeError, r"overflowed"),
]


def _no_grad_view(T, t):
    with T.no_grad():
        return t[:2]


for _dev in DEVICES:
    for _name, _setup, _call, _exc, _match in _CALLS:
        row("tensor", f"{_name} ({_dev})", _setup, _call, _exc, _match, device=_dev)

# BCE's range checks read the values; as torch's CUDA, a device checks nothing synchronously
for _name, _inp, _tgt, _match in [
        ("BCE target above 1", [0.5, 0.5], [1.5, 0.0], r"all elements of target should be "
                                                        r"between 0 and 1"),
        ("BCE target below 0", [0.5, 0.5], [-0.5, 0.0], r"target should be between 0 and 1"),
        ("BCE input above 1", [1.5, 0.5], [1.0, 0.0], r"all elements of input should be "
                                                       r"between 0 and 1"),
        ("BCE input nan", [float("nan"), 0.5], [1.0, 0.0], r"input should be between 0 and 1")]:
    row("nn", _name, lambda T, d, i=_inp, t=_tgt: {"x": T.tensor(i), "t": T.tensor(t)},
        lambda T, s: _F(T).binary_cross_entropy(s["x"], s["t"]), RuntimeError, _match)
    row("nn", f"{_name} (BCELoss module)",
        lambda T, d, i=_inp, t=_tgt: {"x": T.tensor(i), "t": T.tensor(t)},
        lambda T, s: T.nn.BCELoss()(s["x"], s["t"]), RuntimeError, _match)
