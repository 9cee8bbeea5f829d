"""Bad-input catalogue rows: autograd, nn, optim, data, serialization, devices, registry.
See tests/frontend/test_bad_input_catalogue.py for what each row asserts."""
from __future__ import annotations

import io
import math
import pickle

from bad_input_rows import _x, _xi, row

import plugrad
from plugrad.plugins import BackendSpec, KernelSpec, PluginError, get_registry, hookimpl

# ------------------------------------------------------------------------ autograd
def _graph(T, d):
    x = T.ones(2, 3, requires_grad=True)
    return {"x": x, "y": (x * 2).exp()}


row("autograd", "backward without grad", _x, lambda T, s: (s["x"] * 2).sum().backward(),
    RuntimeError, r"element 0 of tensors does not require grad and does not have a grad_fn")
row("autograd", "backward of non-scalar", _graph, lambda T, s: s["y"].backward(),
    RuntimeError, r"grad can be implicitly created only for scalar outputs")
row("autograd", "backward grad shape", _graph, lambda T, s: s["y"].backward(T.ones(3)),
    RuntimeError, r"Mismatch in shape: grad_output\[0\] has a shape of torch.Size\(\[3\]\)")
row("autograd", "backward twice", lambda T, d: (lambda s: (s["y"].sum().backward(), s)[1])(
    _graph(T, d)), lambda T, s: s["y"].sum().backward(), RuntimeError,
    r"Trying to backward through the graph a second time")
row("autograd", "backward empty inputs", _graph,
    lambda T, s: s["y"].sum().backward(inputs=[]), RuntimeError,
    r"'inputs' argument to backward\(\) cannot be empty|`inputs` argument to `backward\(\)`")
row("autograd", "grad of unused input", _graph,
    lambda T, s: T.autograd.grad(s["y"].sum(), [T.ones(1, requires_grad=True)]), RuntimeError,
    r"appears to not have been used in the graph")
row("autograd", "grad empty inputs", _graph, lambda T, s: T.autograd.grad(s["y"].sum(), []),
    RuntimeError, r"`inputs` argument to `grad\(\)` cannot be empty")
row("autograd", "grad of non-scalar", _graph, lambda T, s: T.autograd.grad(s["y"], s["x"]),
    RuntimeError, r"grad can be implicitly created only for scalar outputs")
row("autograd", "grad of input without grad", _graph,
    lambda T, s: T.autograd.grad(s["y"].sum(), T.ones(2)), RuntimeError,
    r"One of the differentiated Tensors does not require grad")
row("autograd", "grad_outputs shape", _graph,
    lambda T, s: T.autograd.grad(s["y"], s["x"], grad_outputs=T.ones(4)), RuntimeError,
    r"Mismatch in shape")
row("autograd", "assign grad wrong size", lambda T, d: _x(T, d, True),
    lambda T, s: setattr(s["x"], "grad", T.ones(5)), RuntimeError,
    r"different size|size '\[5\]'")
row("autograd", "assign grad wrong dtype", lambda T, d: _x(T, d, True),
    lambda T, s: setattr(s["x"], "grad", T.ones(2, 3, dtype=T.int64)), RuntimeError,
    r"different type|dtype")
row("autograd", "requires_grad_ on int", _xi, lambda T, s: s["x"].requires_grad_(),
    RuntimeError, r"only Tensors of floating point")
row("autograd", "requires_grad false on non-leaf", _graph,
    lambda T, s: s["y"].requires_grad_(False), RuntimeError,
    r"you can only change requires_grad flags of leaf variables")
row("autograd", "hook on tensor without grad", _x,
    lambda T, s: s["x"].register_hook(lambda g: g), RuntimeError,
    r"cannot register a hook on a tensor that doesn't require gradient")
row("autograd", "saved tensor modified in place", lambda T, d: (lambda x: (lambda y: (
    y.mul_(2), {"x": x, "y": y})[1])(x.sigmoid()))(T.ones(3, requires_grad=True)),
    lambda T, s: s["y"].sum().backward(), RuntimeError,
    r"one of the variables needed for gradient computation has been modified by an "
    r"inplace operation")
row("autograd", "non-float gradcheck", _xi, lambda T, s: T.autograd.gradcheck(T.sin, (s["x"],)),
    (RuntimeError, ValueError), r"")

# ------------------------------------------------------------------------------ nn
def _lin(T, d):
    T.manual_seed(0)
    return {"m": T.nn.Linear(3, 2)}


def _mlp(T, d):
    T.manual_seed(0)
    return {"m": T.nn.Sequential(T.nn.Linear(3, 4), T.nn.ReLU(), T.nn.Linear(4, 2))}


def _bn(T, d):
    return {"m": T.nn.BatchNorm1d(3)}


row("nn", "linear wrong features", _lin, lambda T, s: s["m"](T.ones(2, 4)), RuntimeError,
    r"mat1 and mat2 shapes cannot be multiplied \(2x4 and 3x2\)")
row("nn", "linear int input", _lin, lambda T, s: s["m"](T.ones(2, 3, dtype=T.int64)),
    RuntimeError, r"same dtype|expected m1 and m2")
row("nn", "linear negative size", lambda T, d: {}, lambda T, s: T.nn.Linear(-1, 2),
    RuntimeError, r"Trying to create tensor with negative dimension -1")
row("nn", "conv channels", lambda T, d: {"m": T.nn.Conv2d(3, 4, 3)},
    lambda T, s: s["m"](T.ones(1, 2, 5, 5)), RuntimeError,
    r"expected input\[1, 2, 5, 5\] to have 3 channels, but got 2 channels instead")
row("nn", "conv kernel too big", lambda T, d: {"m": T.nn.Conv2d(1, 1, 5)},
    lambda T, s: s["m"](T.ones(1, 1, 3, 3)), RuntimeError,
    r"Kernel size can't be greater than actual input size")
row("nn", "conv groups", lambda T, d: {}, lambda T, s: T.nn.Conv2d(3, 4, 3, groups=2),
    ValueError, r"in_channels must be divisible by groups")
row("nn", "conv 2-d input", lambda T, d: {"m": T.nn.Conv2d(1, 1, 1)},
    lambda T, s: s["m"](T.ones(3, 3)), RuntimeError,
    r"Expected 3D \(unbatched\) or 4D \(batched\) input to conv2d")
row("nn", "maxpool 1-d input", lambda T, d: {"m": T.nn.MaxPool2d(2)},
    lambda T, s: s["m"](T.ones(3)), RuntimeError, r"3D or 4D|non-empty 3D or 4D")
row("nn", "batchnorm features (running stats intact)", _bn,
    lambda T, s: s["m"](T.ones(2, 4)), RuntimeError,
    r"running_mean should contain 4 elements not 3")
row("nn", "batchnorm one value per channel", _bn, lambda T, s: s["m"](T.ones(1, 3)),
    ValueError, r"Expected more than 1 value per channel when training")
row("nn", "groupnorm groups", lambda T, d: {}, lambda T, s: T.nn.GroupNorm(3, 4), ValueError,
    r"num_channels \(4\) must be divisible by num_groups \(3\)")
row("nn", "layernorm shape", lambda T, d: {"m": T.nn.LayerNorm(4)},
    lambda T, s: s["m"](T.ones(2, 3)), RuntimeError,
    r"Given normalized_shape=\[4\], expected input with shape \[\*, 4\]")
row("nn", "embedding index out of range", lambda T, d: {"m": T.nn.Embedding(5, 2)},
    lambda T, s: s["m"](T.tensor([7])), IndexError, r"index out of range in self")
row("nn", "embedding float index", lambda T, d: {"m": T.nn.Embedding(5, 2)},
    lambda T, s: s["m"](T.tensor([1.0])), RuntimeError,
    r"Expected tensor for argument #1 'indices' to have one of the following scalar types")
row("nn", "dropout p", lambda T, d: {}, lambda T, s: T.nn.Dropout(p=1.5), ValueError,
    r"dropout probability has to be between 0 and 1, but got 1.5")
row("nn", "lstm input size", lambda T, d: {"m": T.nn.LSTM(3, 4)},
    lambda T, s: s["m"](T.ones(2, 1, 5)), RuntimeError,
    r"input.size\(-1\) must be equal to input_size. Expected 3, got 5")
row("nn", "multihead divisibility", lambda T, d: {}, lambda T, s: T.nn.MultiheadAttention(5, 2),
    AssertionError, r"embed_dim must be divisible by num_heads")
row("nn", "cross_entropy target out of range", lambda T, d: {"x": T.ones(2, 3)},
    lambda T, s: T.nn.functional.cross_entropy(s["x"], T.tensor([0, 5])), IndexError,
    r"Target 5 is out of bounds")
row("nn", "cross_entropy batch mismatch", lambda T, d: {"x": T.ones(2, 3)},
    lambda T, s: T.nn.functional.cross_entropy(s["x"], T.tensor([0, 1, 2])), ValueError,
    r"Expected input batch_size \(2\) to match target batch_size \(3\)")
row("nn", "nll_loss float target", lambda T, d: {"x": T.ones(2, 3)},
    lambda T, s: T.nn.functional.nll_loss(s["x"], T.tensor([0.0, 1.0])), RuntimeError,
    r"expected scalar type Long|Long")
row("nn", "mse shape mismatch", lambda T, d: {"x": T.ones(2, 3)},
    lambda T, s: T.nn.functional.mse_loss(s["x"], T.ones(4)), RuntimeError,
    r"The size of tensor a \(3\) must match the size of tensor b \(4\)")
row("nn", "bce input out of range", lambda T, d: {"x": T.tensor([1.5])},
    lambda T, s: T.nn.functional.binary_cross_entropy(s["x"], T.tensor([1.0])), RuntimeError,
    r"all elements of input should be between 0 and 1")
row("nn", "bce target size", lambda T, d: {"x": T.tensor([0.5, 0.5])},
    lambda T, s: T.nn.functional.binary_cross_entropy(s["x"], T.tensor([1.0])), ValueError,
    r"Using a target size \(torch.Size\(\[1\]\)\) that is different to the input size")
row("nn", "one_hot class too big", lambda T, d: {},
    lambda T, s: T.nn.functional.one_hot(T.tensor([5]), 3), RuntimeError,
    r"Class values must be smaller than num_classes")
row("nn", "pad odd length", lambda T, d: {"x": T.ones(2, 2)},
    lambda T, s: T.nn.functional.pad(s["x"], (1,)), RuntimeError,
    r"Padding length must be divisible by 2")
row("nn", "softmax dim", lambda T, d: {"x": T.ones(2, 2)},
    lambda T, s: T.nn.functional.softmax(s["x"], dim=3), IndexError, r"Dimension out of range")
row("nn", "load_state_dict missing key (atomic)", _lin,
    lambda T, s: s["m"].load_state_dict({"weight": T.zeros(2, 3)}), RuntimeError,
    r"Missing key\(s\) in state_dict: \"bias\"")
row("nn", "load_state_dict size mismatch (atomic)", _mlp,
    lambda T, s: s["m"].load_state_dict({"0.weight": T.zeros(4, 3), "0.bias": T.zeros(4),
                                         "2.weight": T.zeros(2, 5), "2.bias": T.zeros(2)}),
    RuntimeError, r"size mismatch for 2.weight: copying a param with shape torch.Size\(\[2, 5\]\)")
row("nn", "load_state_dict unexpected key (atomic)", _lin,
    lambda T, s: s["m"].load_state_dict({"weight": T.zeros(2, 3), "bias": T.zeros(2),
                                         "extra": T.zeros(1)}), RuntimeError,
    r"Unexpected key\(s\) in state_dict: \"extra\"")
row("nn", "load_state_dict not a dict", _lin, lambda T, s: s["m"].load_state_dict([1]),
    TypeError, r"Expected state_dict to be dict-like")
row("nn", "register_parameter plain tensor", _lin,
    lambda T, s: s["m"].register_parameter("p", T.ones(2)), TypeError,
    r"cannot assign 'torch.FloatTensor' object to parameter 'p'")
row("nn", "register_parameter dotted name", _lin,
    lambda T, s: s["m"].register_parameter("a.b", T.nn.Parameter(T.ones(1))), KeyError,
    r"parameter name can\\?'t contain")
row("nn", "add_module dotted name", _lin,
    lambda T, s: s["m"].add_module("a.b", T.nn.ReLU()), KeyError,
    r"module name can\\?'t contain \".\", got: a.b")
row("nn", "assign tensor to parameter", _lin,
    lambda T, s: setattr(s["m"], "weight", T.ones(2)), TypeError,
    r"cannot assign 'torch.FloatTensor' as parameter 'weight'")
row("nn", "sequential index", _mlp, lambda T, s: s["m"][5], IndexError,
    r"index 5 is out of range")
row("nn", "module to bad device (atomic)", _mlp, lambda T, s: s["m"].to("cdua"), RuntimeError,
    r"unknown device 'cdua'")
row("nn", "clip_grad_norm non-finite (grads intact)", lambda T, d: (lambda m: (
    setattr(m.weight, "grad", T.full((2, 3), math.inf)), {"m": m})[1])(_lin(T, d)["m"]),
    lambda T, s: T.nn.utils.clip_grad_norm_(s["m"].parameters(), 1.0, error_if_nonfinite=True),
    RuntimeError, r"The total norm of order 2.0 for gradients from `parameters` is non-finite")
row("nn", "prelu channels", lambda T, d: {"m": T.nn.PReLU(3)},
    lambda T, s: s["m"](T.ones(2, 4)), RuntimeError,
    r"Mismatch of parameter numbers and input channel size")
row("nn", "glu odd dim", lambda T, d: {"x": T.ones(3)},
    lambda T, s: T.nn.functional.glu(s["x"]), RuntimeError, r"Halving dimension must be even")

# ---------------------------------------------------------------------------- optim
def _params(T):
    T.manual_seed(0)
    return [T.nn.Parameter(T.randn(3)), T.nn.Parameter(T.randn(2, 2))]


def _stepped(T, d, kind="adam", dev="cpu"):
    """A model on ``dev`` with one optimizer step taken (so there is state to protect)."""
    T.manual_seed(0)
    m = T.nn.Linear(3, 2).to(dev)
    opt = (T.optim.Adam(m.parameters(), lr=0.1) if kind == "adam" else
           T.optim.SGD(m.parameters(), lr=0.1, momentum=0.9))
    m(T.ones(4, 3, device=dev)).sum().backward()
    opt.step()
    m(T.ones(4, 3, device=dev)).pow(2).sum().backward()
    return {"m": m, "opt": opt}


def _opt_ctor(make):
    return lambda T, d: {}, lambda T, s: make(T)


for _name, _make, _match in [
        ("sgd negative lr", lambda T: T.optim.SGD(_params(T), lr=-1), r"Invalid learning rate"),
        ("sgd negative momentum", lambda T: T.optim.SGD(_params(T), lr=0.1, momentum=-0.5),
         r"Invalid momentum value"),
        ("sgd nesterov without momentum", lambda T: T.optim.SGD(_params(T), lr=0.1,
                                                                 nesterov=True),
         r"Nesterov momentum requires a momentum and zero dampening"),
        ("sgd negative weight decay", lambda T: T.optim.SGD(_params(T), lr=0.1,
                                                             weight_decay=-1),
         r"Invalid weight_decay value"),
        ("adam beta0 = 1", lambda T: T.optim.Adam(_params(T), betas=(1.0, 0.9)),
         r"Invalid beta parameter at index 0"),
        ("adam beta1 < 0", lambda T: T.optim.Adam(_params(T), betas=(0.9, -0.1)),
         r"Invalid beta parameter at index 1"),
        ("adam negative eps", lambda T: T.optim.Adam(_params(T), eps=-1),
         r"Invalid epsilon value"),
        ("adam negative lr", lambda T: T.optim.Adam(_params(T), lr=-0.1),
         r"Invalid learning rate"),
        ("adamw negative weight decay", lambda T: T.optim.AdamW(_params(T), weight_decay=-1),
         r"Invalid weight_decay value"),
        ("rmsprop negative alpha", lambda T: T.optim.RMSprop(_params(T), alpha=-1),
         r"Invalid alpha value"),
        ("adagrad negative lr_decay", lambda T: T.optim.Adagrad(_params(T), lr_decay=-1),
         r"Invalid lr_decay value"),
        ("empty parameter list", lambda T: T.optim.SGD([], lr=0.1),
         r"optimizer got an empty parameter list")]:
    row("optim", _name, *_opt_ctor(_make), ValueError, _match)
row("optim", "params as a tensor", lambda T, d: {},
    lambda T, s: T.optim.SGD(T.ones(2, requires_grad=True), lr=0.1), TypeError,
    r"params argument given to the optimizer should be an iterable of Tensors or dicts")
row("optim", "non-leaf parameter", lambda T, d: {},
    lambda T, s: T.optim.SGD([T.ones(2, requires_grad=True) * 2], lr=0.1), ValueError,
    r"can't optimize a non-leaf Tensor")
row("optim", "parameter in two groups", lambda T, d: (lambda p: {"p": p})(_params(T)),
    lambda T, s: T.optim.SGD([{"params": s["p"]}, {"params": s["p"][:1]}], lr=0.1), ValueError,
    r"some parameters appear in more than one parameter group")
row("optim", "add_param_group duplicate (atomic)", lambda T, d: _stepped(T, d),
    lambda T, s: s["opt"].add_param_group({"params": [s["m"].weight]}), ValueError,
    r"some parameters appear in more than one parameter group")
row("optim", "load_state_dict group count (atomic)", lambda T, d: _stepped(T, d),
    lambda T, s: s["opt"].load_state_dict({"state": {}, "param_groups": []}), ValueError,
    r"loaded state dict has a different number of parameter groups")
row("optim", "load_state_dict group size (atomic)", lambda T, d: _stepped(T, d),
    lambda T, s: s["opt"].load_state_dict({"state": {}, "param_groups": [
        dict(s["opt"].state_dict()["param_groups"][0], params=[0])]}), ValueError,
    r"loaded state dict contains a parameter group that doesn't match the size")
row("optim", "step with a failing closure (atomic)", lambda T, d: _stepped(T, d),
    lambda T, s: s["opt"].step(lambda: (_ for _ in ()).throw(ZeroDivisionError("closure"))),
    ZeroDivisionError, r"closure")
row("optim", "StepLR on a non-optimizer", lambda T, d: {},
    lambda T, s: T.optim.lr_scheduler.StepLR(object(), 1), TypeError,
    r"is not an Optimizer")
row("optim", "plateau mode", lambda T, d: _stepped(T, d, "sgd"),
    lambda T, s: T.optim.lr_scheduler.ReduceLROnPlateau(s["opt"], mode="foo"), ValueError,
    r"mode foo is unknown!")
row("optim", "lambdalr count", lambda T, d: _stepped(T, d, "sgd"),
    lambda T, s: T.optim.lr_scheduler.LambdaLR(s["opt"], [lambda e: 1, lambda e: 2]),
    ValueError, r"Expected 1 lr_lambdas, but got 2")
for _kind in ("adam", "sgd"):
    row("optim", f"{_kind} step with a grad on another device (atomic)",
        lambda T, d, k=_kind: (lambda s: (setattr(s["m"].bias.grad, "data",  # skips checks
                                                  s["m"].bias.grad.cpu()), s)[1])(
            _stepped(T, d, k, "opencl")),
        lambda T, s: s["opt"].step(), RuntimeError,
        r"Expected all tensors to be on the same device|device", torch=False, device="opencl")
    row("optim", f"{_kind} step with a grad of another dtype (atomic)",
        lambda T, d, k=_kind: (lambda s: (setattr(s["m"].bias, "grad", None), s["m"].bias.__setattr__(
            "grad", None), s)[2])(_stepped(T, d, k)),
        lambda T, s: setattr(s["m"].weight, "grad", s["m"].weight.grad.double()), RuntimeError,
        r"different type|dtype")

# ----------------------------------------------------------------------------- data
def _ds(T, d):
    return {"ds": T.utils.data.TensorDataset(T.arange(6.0), T.arange(6))}


row("data", "TensorDataset size mismatch", lambda T, d: {},
    lambda T, s: T.utils.data.TensorDataset(T.ones(3), T.ones(4)), AssertionError,
    r"Size mismatch between tensors")
row("data", "batch_size 0", _ds, lambda T, s: T.utils.data.DataLoader(s["ds"], batch_size=0),
    ValueError, r"batch_size should be a positive integer value, but got batch_size=0")
row("data", "batch_size negative", _ds,
    lambda T, s: T.utils.data.DataLoader(s["ds"], batch_size=-1), ValueError,
    r"batch_size should be a positive integer value")
row("data", "num_workers negative", _ds,
    lambda T, s: T.utils.data.DataLoader(s["ds"], num_workers=-1), ValueError,
    r"num_workers option should be non-negative")
row("data", "sampler with shuffle", _ds,
    lambda T, s: T.utils.data.DataLoader(s["ds"], shuffle=True,
                                         sampler=T.utils.data.SequentialSampler(s["ds"])),
    ValueError, r"sampler option is mutually exclusive with shuffle")
row("data", "batch_sampler with batch_size", _ds,
    lambda T, s: T.utils.data.DataLoader(s["ds"], batch_size=2, batch_sampler=[[0, 1]]),
    ValueError, r"batch_sampler option is mutually exclusive with batch_size")
row("data", "random_split bad lengths", _ds,
    lambda T, s: T.utils.data.random_split(s["ds"], [2, 2]), ValueError,
    r"Sum of input lengths does not equal the length of the input dataset!")
row("data", "RandomSampler num_samples 0", _ds,
    lambda T, s: T.utils.data.RandomSampler(s["ds"], num_samples=0), ValueError,
    r"num_samples should be a positive integer value, but got num_samples=0")
row("data", "RandomSampler replacement not bool", _ds,
    lambda T, s: T.utils.data.RandomSampler(s["ds"], replacement="yes"), TypeError,
    r"replacement should be a boolean value")
row("data", "BatchSampler batch_size 0", _ds,
    lambda T, s: T.utils.data.BatchSampler(range(6), batch_size=0, drop_last=False),
    ValueError, r"batch_size should be a positive integer value, but got batch_size=0")
row("data", "BatchSampler drop_last not bool", _ds,
    lambda T, s: T.utils.data.BatchSampler(range(6), batch_size=1, drop_last="yes"),
    ValueError, r"drop_last should be a boolean value, but got drop_last=yes")
row("data", "WeightedRandomSampler negative weight", lambda T, d: {},
    lambda T, s: list(T.utils.data.WeightedRandomSampler([-1.0, 1.0], 2)), RuntimeError,
    r"invalid multinomial distribution|element < 0")
row("data", "dataset index out of range", _ds, lambda T, s: s["ds"][10], IndexError,
    r"index 10 is out of bounds for dimension 0 with size 6")
row("data", "subset index out of range", _ds,
    lambda T, s: T.utils.data.Subset(s["ds"], [0, 9])[1], IndexError,
    r"index 9 is out of bounds")
row("data", "collate mixed types", lambda T, d: {},
    lambda T, s: T.utils.data.default_collate([1, "a"]), TypeError,
    r"new\(\): invalid data type 'str'")
row("data", "collate ragged tensors", lambda T, d: {},
    lambda T, s: T.utils.data.default_collate([T.ones(2), T.ones(3)]), RuntimeError,
    r"stack expects each tensor to be equal size")

# -------------------------------------------------------------------- serialization
def _evil_pickle():
    class Payload:
        def __reduce__(self):
            import os
            return (os.system, ("true",))
    return pickle.dumps(Payload(), protocol=2)


def _ckpt(T):
    buf = io.BytesIO()
    T.save({"w": T.arange(4.0)}, buf)
    return buf.getvalue()


row("serialization", "code payload", lambda T, d: {},
    lambda T, s: T.load(io.BytesIO(_evil_pickle())), pickle.UnpicklingError,
    r"GLOBAL (posix|nt).system was not an allowed global")
row("serialization", "truncated checkpoint", lambda T, d: {},
    lambda T, s: T.load(io.BytesIO(_ckpt(plugrad)[:200])), RuntimeError,
    r"PytorchStreamReader failed reading zip archive")
row("serialization", "not a file", lambda T, d: {},
    lambda T, s: T.load("/nonexistent/checkpoint.pt"), FileNotFoundError,
    r"No such file or directory")
row("serialization", "save to missing directory", lambda T, d: {"w": T.ones(2)},
    lambda T, s: T.save(s["w"], "/nonexistent_dir_x/a.pt"), RuntimeError,
    r"Parent directory /nonexistent_dir_x does not exist")
row("serialization", "save to a directory", lambda T, d: {"w": T.ones(2)},
    lambda T, s: T.save(s["w"], "/tmp"), RuntimeError, r"Is a directory")
row("serialization", "map_location unknown device", lambda T, d: {},
    lambda T, s: T.load(io.BytesIO(_ckpt(plugrad)), map_location="cdua"), RuntimeError,
    r"cdua")
# cuda:999: absent on every machine -- no cuda at all, or fewer GPUs (cuda:0 exists on a GPU)
row("serialization", "map_location to absent cuda", lambda T, d: {},
    lambda T, s: T.load(io.BytesIO(_ckpt(plugrad)), map_location="cuda:999"), RuntimeError,
    r"cuda", torch=False)
row("serialization", "legacy format request", lambda T, d: {"w": T.ones(2)},
    lambda T, s: T.save(s["w"], io.BytesIO(), _use_new_zipfile_serialization=False),
    RuntimeError, r"zip checkpoint format", torch=False)
row("serialization", "bytes instead of a file", lambda T, d: {},
    lambda T, s: T.load(_ckpt(plugrad)), TypeError, r"not bytes", torch=False)
row("serialization", "user class without allow-list", lambda T, d: {},
    lambda T, s: T.load(io.BytesIO(pickle.dumps(collections_namedtuple()))),
    pickle.UnpicklingError, r"was not an allowed global")


def collections_namedtuple():
    import fractions
    return fractions.Fraction(1, 3)


# --------------------------------------------------------------------------- devices
row("device", "unknown device string", lambda T, d: {}, lambda T, s: T.device("cdua"),
    RuntimeError, r"unknown device 'cdua'. Did you mean 'cuda'\? Available: .*cpu")
row("device", "bad index", lambda T, d: {}, lambda T, s: T.device("cuda:x"), RuntimeError,
    r"Invalid device string: 'cuda:x'")
row("device", "negative index", lambda T, d: {}, lambda T, s: T.device("cpu", -1),
    RuntimeError, r"Device index must not be negative")
row("device", "tensor on unknown device", lambda T, d: {},
    lambda T, s: T.ones(2, device="gpuu"), RuntimeError, r"unknown device 'gpuu'")
row("device", "unavailable cuda", lambda T, d: {}, lambda T, s: T.ones(2, device="cuda:999"),
    RuntimeError, r"cuda", torch=False)        # torch's CPU build: AssertionError instead
row("device", "opencl index out of range", lambda T, d: {},
    lambda T, s: T.ones(2, device="opencl:7"), RuntimeError, r"out of range", torch=False,
    device="opencl")
for _name, _call in [
        ("add", lambda T, s: s["a"] + s["b"]), ("mul_", lambda T, s: s["a"].mul_(s["b"])),
        ("matmul", lambda T, s: s["a"].reshape(2, 2) @ s["b"].reshape(2, 2)),
        ("where", lambda T, s: T.where(s["a"] > 0, s["a"], s["b"])),
        ("cat", lambda T, s: T.cat([s["a"], s["b"]])),
        ("mse_loss", lambda T, s: T.nn.functional.mse_loss(s["a"], s["b"])),
        ("linear", lambda T, s: T.nn.functional.linear(s["a"].reshape(1, 4),
                                                       s["b"].reshape(1, 4)))]:
    row("device", f"mixed devices in {_name}",
        lambda T, d: {"a": T.arange(4.0), "b": T.arange(4.0, device="opencl")}, _call,
        RuntimeError, r"Expected all tensors to be on the same device", torch=False,
        device="opencl")
row("device", "module and input on different devices", lambda T, d: _lin(T, d),
    lambda T, s: s["m"](T.ones(1, 3, device="opencl")), RuntimeError,
    r"Expected all tensors to be on the same device", torch=False, device="opencl")
row("device", "numpy of a device tensor", lambda T, d: {"a": T.ones(2, device="opencl")},
    lambda T, s: s["a"].numpy(), TypeError, r"can't convert opencl:0 device type tensor",
    torch=False, device="opencl")
row("device", "backward across devices", lambda T, d: (lambda x: {
    "x": x, "y": x * 2})(T.ones(2, device="opencl", requires_grad=True)),
    lambda T, s: s["y"].backward(T.ones(2)), RuntimeError, r"device", torch=False,
    device="opencl")


# -------------------------------------------------------------------------- registry
class _BrokenBackend:
    """A plugin whose backend lacks every runtime function."""

    def __init__(self, name):
        self.name = name

    @hookimpl
    def plugrad_backends(self):
        yield BackendSpec(name=self.name, load=lambda: object())


class _BadKernel:
    @hookimpl
    def plugrad_kernels(self):
        yield KernelSpec(backend="cpu", op="not_an_op", fn=lambda *a: None)


def _reg(T, d):
    return {"registry": get_registry()}


row("registry", "unknown table", _reg, lambda T, s: s["registry"].table("nope"), RuntimeError,
    r"unknown device 'nope'", torch=False)
row("registry", "unregister unknown plugin", _reg,
    lambda T, s: s["registry"].unregister("no-such-plugin"), KeyError,
    r"no plugin named 'no-such-plugin'", torch=False)
row("registry", "register a name twice", _reg,
    lambda T, s: s["registry"].register(_BadKernel(), name="numpy"), PluginError,
    r"a plugin named 'numpy' is already registered", torch=False)
row("registry", "backend spec bad name", lambda T, d: {},
    lambda T, s: BackendSpec(name="Bad Name", load=lambda: None), PluginError,
    r"Invalid backend name 'Bad Name'", torch=False)
row("registry", "backend spec string aliases", lambda T, d: {},
    lambda T, s: BackendSpec(name="ok", load=lambda: None, aliases="gpu"), PluginError,
    r"expected a tuple of strings, got the string 'gpu'", torch=False)
row("registry", "backend spec api_version str", lambda T, d: {},
    lambda T, s: BackendSpec(name="ok", load=lambda: None, api_version="1"), PluginError,
    r"Invalid api_version '1'", torch=False)
row("registry", "backend spec load not callable", lambda T, d: {},
    lambda T, s: BackendSpec(name="ok", load=3), PluginError,
    r"Invalid load for backend 'ok': expected a callable", torch=False)
row("registry", "kernel spec unknown op", lambda T, d: {},
    lambda T, s: KernelSpec(backend="cpu", op="not_an_op", fn=lambda *a: None), PluginError,
    r"not_an_op", torch=False)


def _fresh_with_broken(T, d):
    from plugrad.backends import numpy as numpy_plugin
    from plugrad.plugins import Registry
    reg = Registry(load_entry_points=False)
    reg.register(numpy_plugin, name="numpy")
    reg.register(_BrokenBackend("brokendev"), name="broken")
    reg.table("cpu")
    return {"registry": reg}


row("registry", "backend missing runtime ops", _fresh_with_broken,
    lambda T, s: s["registry"].table("brokendev"), PluginError,
    r"brokendev.*(missing|lacks|required)", torch=False)
