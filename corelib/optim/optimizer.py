"""The Optimizer base: parameter groups, per-parameter state, state dicts, hooks, zero_grad.

Bookkeeping only; each subclass's ``step`` gathers lists of tensors, validates all of them
(:func:`check_grads`) before touching anything, and hands them to a functional update
(``sgd()``, ``adam()``, ...) that runs on the parameters' backend -- one fused multi-tensor
kernel when the backend has it, frontend in-place ops otherwise. Updates never go through the
host, and a step that fails validation changes no parameter and no state.
"""
from __future__ import annotations

import copy
import functools
import warnings
from collections import OrderedDict, defaultdict
from collections.abc import Iterable
from itertools import chain

from .. import _dtype as D
from .._tensor import Tensor
from ..autograd.grad_mode import enable_grad, no_grad, set_grad_enabled
from ..nn.modules.module import RemovableHandle

__all__ = ["Optimizer", "required", "register_optimizer_step_pre_hook",
           "register_optimizer_step_post_hook"]


class _RequiredParameter:
    """Singleton class representing a required parameter for an Optimizer."""

    def __repr__(self):
        return "<required parameter>"


required = _RequiredParameter()

_global_pre_hooks: OrderedDict = OrderedDict()
_global_post_hooks: OrderedDict = OrderedDict()


def register_optimizer_step_pre_hook(hook) -> RemovableHandle:
    """hook(optimizer, args, kwargs) -> None or (args, kwargs), before every optimizer's step."""
    handle = RemovableHandle(_global_pre_hooks)
    _global_pre_hooks[handle.id] = hook
    return handle


def register_optimizer_step_post_hook(hook) -> RemovableHandle:
    """hook(optimizer, args, kwargs) -> None, after every optimizer's step."""
    handle = RemovableHandle(_global_post_hooks)
    _global_post_hooks[handle.id] = hook
    return handle


def _hooked_step(step):
    """Wrap a subclass's ``step`` with the step hooks (torch's ``profile_hook_step``)."""
    @functools.wraps(step)
    def wrapper(self, *args, **kwargs):
        pre = self._optimizer_step_pre_hooks
        if pre or _global_pre_hooks:
            for hook in chain(_global_pre_hooks.values(), pre.values()):
                result = hook(self, args, kwargs)
                if result is not None:
                    if isinstance(result, tuple) and len(result) == 2:
                        args, kwargs = result
                    else:
                        raise RuntimeError(f"{step} must return None or a tuple of "
                                           f"(new_args, new_kwargs), but got {result}.")
        out = step(self, *args, **kwargs)
        post = self._optimizer_step_post_hooks
        if post or _global_post_hooks:
            for hook in chain(post.values(), _global_post_hooks.values()):
                hook(self, args, kwargs)
        return out
    wrapper.hooked = True
    return wrapper


class Optimizer:
    """Base class of all optimizers.

    Args:
        params (iterable): Tensors, ``(name, Tensor)`` pairs, or dicts defining parameter
            groups. Use an ordered collection: the order identifies state in state dicts.
        defaults (dict): default values of the optimization options, used by every group
            that does not set them.
    """

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        step = cls.__dict__.get("step")
        if step is not None and not getattr(step, "hooked", False):
            cls.step = _hooked_step(step)

    def __init__(self, params, defaults: dict):
        self.defaults = defaults
        self._init_hooks()
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of "
                            f"Tensors or dicts, but got {params.type()}")
        self.state = defaultdict(dict)
        self.param_groups = []
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for group in param_groups:
            self.add_param_group(group)

    def _init_hooks(self):
        self._optimizer_step_pre_hooks = OrderedDict()
        self._optimizer_step_post_hooks = OrderedDict()
        self._optimizer_state_dict_pre_hooks = OrderedDict()
        self._optimizer_state_dict_post_hooks = OrderedDict()
        self._optimizer_load_state_dict_pre_hooks = OrderedDict()
        self._optimizer_load_state_dict_post_hooks = OrderedDict()

    def __getstate__(self):
        return {"defaults": self.defaults, "state": self.state,
                "param_groups": self.param_groups}

    def __setstate__(self, state):
        self.__dict__.update(state)
        if "_optimizer_step_pre_hooks" not in self.__dict__:
            self._init_hooks()
        self.defaults.setdefault("differentiable", False)

    def __repr__(self):
        text = self.__class__.__name__ + " ("
        for i, group in enumerate(self.param_groups):
            text += f"\nParameter Group {i}\n"
            for key in sorted(group.keys()):
                if key != "params":
                    text += f"    {key}: {group[key]}\n"
        return text + ")"

    # ------------------------------------------------------------------ groups
    def add_param_group(self, param_group: dict) -> None:
        """Add a group of parameters (with its own options) to ``param_groups``.

        Everything is checked before the group is appended, so a bad group changes nothing.
        """
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group)}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, "
                            "but the ordering of tensors in sets will change between runs. "
                            "Please use a list instead.")
        else:
            params = list(params)
        tensors, names = [], []
        for p in params:
            if isinstance(p, tuple):
                names.append(p[0])
                p = p[1]
            tensors.append(p)
        if names and len(names) != len(tensors):
            raise ValueError("all optimizer params should be with/without names. Some param "
                             "names are missing")
        for p in tensors:
            if not isinstance(p, Tensor):
                raise TypeError("optimizer can only optimize Tensors, but one of the params is "
                                f"{_typename(p)}")
            if not self.defaults.get("differentiable", None) and not (p.is_leaf or
                                                                     p.retains_grad):
                raise ValueError("can't optimize a non-leaf Tensor")
        group = param_group
        group["params"] = tensors
        if names:
            group["param_names"] = names
        for name, default in self.defaults.items():
            if default is required and name not in group:
                raise ValueError("parameter group didn't specify a value of required "
                                 f"optimization parameter {name}")
            group.setdefault(name, default)
        if len({id(p) for p in tensors}) != len(tensors):
            warnings.warn("optimizer contains a parameter group with duplicate parameters; in "
                          "future, this will cause an error; see "
                          "github.com/pytorch/pytorch/issues/40967 for more information",
                          stacklevel=3)
        existing = set()
        for g in self.param_groups:
            existing.update(id(p) for p in g["params"])
            if ("param_names" in group) != ("param_names" in g):
                kind = "with names" if "param_names" in group else "without names"
                raise ValueError("all optimizer param groups should be with/without names. "
                                 f"cannot add param group {kind} to the optimizer")
        if existing & {id(p) for p in tensors}:
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(group)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset every parameter's gradient: to None (default) or to zeros in place."""
        for group in self.param_groups:
            for p in group["params"]:
                g = p._grad
                if g is None:
                    continue
                if set_to_none:
                    p._grad = None
                else:
                    if g._grad_fn is not None:
                        g.detach_()
                    else:
                        g.requires_grad_(False)
                    g.zero_()

    def step(self, closure=None):
        """Perform a single optimization step; subclasses implement it."""
        raise NotImplementedError

    # what torch's capturable device check names (NAdam and ASGD name their extra state)
    _capturable_names = "params and state_steps"
    _capturable_devices = "['cuda', 'xpu', 'hpu', 'privateuseone', 'xla']"

    def _prepared(self, state_keys):
        """Each group's (group, params, grads, states) for a step: every group's state is
        validated before any is created (a bad state changes nothing), then each parameter
        without state gets it from ``self._init_state(p, group)``."""
        work = []
        for group in self.param_groups:
            params, grads = params_with_grad(group)
            if self._sparse_error is not None and any(g.is_sparse for g in grads):
                raise RuntimeError(self._sparse_error)
            if group.get("capturable") and any(p._device.type == "cpu" for p in params):
                # torch's check (its list: the devices graphs can capture on); plugrad makes
                # it before creating any state, torch after
                raise AssertionError(f"If capturable=True, {self._capturable_names} must be on "
                                     f"supported devices: {self._capturable_devices}.")
            states = [self.state[p] for p in params]
            check_state(params, states, state_keys)
            work.append((group, params, grads, states))
        for group, params, _, states in work:
            for p, st in zip(params, states):
                if not st:
                    self._init_state(p, group)
        return work

    # torch's message for a sparse gradient, in optimizers whose update needs dense ones
    _sparse_error = None

    def _closure_loss(self, closure):
        if closure is None:
            return None
        with enable_grad():
            return closure()

    # ------------------------------------------------------------------ hooks
    def _register(self, table, hook, prepend=False):
        handle = RemovableHandle(table)
        table[handle.id] = hook
        if prepend:
            table.move_to_end(handle.id, last=False)
        return handle

    def register_step_pre_hook(self, hook) -> RemovableHandle:
        """hook(optimizer, args, kwargs) -> None or (new_args, new_kwargs), before step."""
        return self._register(self._optimizer_step_pre_hooks, hook)

    def register_step_post_hook(self, hook) -> RemovableHandle:
        """hook(optimizer, args, kwargs) -> None, after step."""
        return self._register(self._optimizer_step_post_hooks, hook)

    def register_state_dict_pre_hook(self, hook, prepend: bool = False) -> RemovableHandle:
        """hook(optimizer) -> None, before ``state_dict()`` builds the dict."""
        return self._register(self._optimizer_state_dict_pre_hooks, hook, prepend)

    def register_state_dict_post_hook(self, hook, prepend: bool = False) -> RemovableHandle:
        """hook(optimizer, state_dict) -> state_dict or None, after ``state_dict()``."""
        return self._register(self._optimizer_state_dict_post_hooks, hook, prepend)

    def register_load_state_dict_pre_hook(self, hook, prepend: bool = False):
        """hook(optimizer, state_dict) -> state_dict or None, before loading."""
        return self._register(self._optimizer_load_state_dict_pre_hooks, hook, prepend)

    def register_load_state_dict_post_hook(self, hook, prepend: bool = False):
        """hook(optimizer) -> None, after loading."""
        return self._register(self._optimizer_load_state_dict_post_hooks, hook, prepend)

    # ------------------------------------------------------------------ state dicts
    def state_dict(self) -> dict:
        """``{'state': {index: {...}}, 'param_groups': [{..., 'params': [index, ...]}]}``.

        Parameters are replaced by their position across all groups, exactly as torch does;
        state tensors are the live ones (not copies), as in torch.
        """
        for hook in self._optimizer_state_dict_pre_hooks.values():
            hook(self)
        index = {}
        start = 0
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            for i, p in enumerate(group["params"], start):
                index.setdefault(id(p), i)
            packed["params"] = [index[id(p)] for p in group["params"]]
            start += len(packed["params"])
            groups.append(packed)
        state = {(index[id(k)] if isinstance(k, Tensor) else k): v
                 for k, v in self.state.items()}
        state_dict = {"state": state, "param_groups": groups}
        for hook in self._optimizer_state_dict_post_hooks.values():
            result = hook(self, state_dict)
            if result is not None:
                state_dict = result
        return state_dict

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore groups and state from :meth:`state_dict`'s output.

        The new state is built (and every tensor moved to its parameter's device and, for
        floating state, dtype) before anything is replaced, so a failure changes nothing.
        """
        if not isinstance(state_dict, dict):
            raise TypeError("optimizer state_dict must be a dict, but got "
                            f"{type(state_dict).__name__}")
        state_dict = state_dict.copy()
        for hook in self._optimizer_load_state_dict_pre_hooks.values():
            result = hook(self, state_dict)
            if result is not None:
                state_dict = result
        for key in ("state", "param_groups"):
            if key not in state_dict:
                raise KeyError(f"optimizer state_dict has no '{key}' entry (keys: "
                               f"{sorted(map(str, state_dict))})")
        groups = self.param_groups
        saved_groups = copy.deepcopy(state_dict["param_groups"])
        if len(groups) != len(saved_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(len(g["params"]) != len(s["params"]) for g, s in zip(groups, saved_groups)):
            raise ValueError("loaded state dict contains a parameter group that doesn't match "
                             "the size of optimizer's group")
        id_map = dict(zip(chain.from_iterable(g["params"] for g in saved_groups),
                          chain.from_iterable(g["params"] for g in groups)))
        saved_pgs = state_dict["param_groups"]
        new_state = defaultdict(dict)
        for key, value in state_dict["state"].items():
            if key in id_map:
                param = id_map[key]
                new_state[param] = _cast(param, value, key, saved_pgs)
            else:
                new_state[key] = value
        new_groups = []
        for g, s in zip(groups, saved_groups):
            s["params"] = g["params"]
            if "param_names" in g and "param_names" not in s:
                s["param_names"] = g["param_names"]
            new_groups.append(s)
        self.__setstate__({"state": new_state, "param_groups": new_groups})
        for hook in self._optimizer_load_state_dict_post_hooks.values():
            hook(self)


def _cast(param, value, param_id, param_groups, key=None):
    """A copy of ``value`` with tensors on ``param``'s device (torch's ``_cast``).

    Floating tensors also take the parameter's dtype, except ``step`` (torch issue 74424),
    which stays as saved unless the group is fused or capturable.
    """
    if isinstance(value, Tensor):
        fused = capturable = False
        for pg in param_groups:
            if param_id in pg["params"]:
                fused, capturable = pg.get("fused", False), pg.get("capturable", False)
                break
        with no_grad():
            if key == "step":
                if capturable or fused:
                    return value.to(dtype=D.float32, device=param.device, copy=True)
                return value.detach().clone()
            if param.is_floating_point():
                return value.to(dtype=param.dtype, device=param.device, copy=True)
            return value.to(device=param.device, copy=True)
    if isinstance(value, dict):
        return {k: _cast(param, v, param_id, param_groups, key=k) for k, v in value.items()}
    if isinstance(value, (str, bytes)):
        return value
    if isinstance(value, Iterable):
        return type(value)(_cast(param, v, param_id, param_groups) for v in value)
    return value


def _typename(obj) -> str:
    if isinstance(obj, Tensor):
        return obj.type()
    module = type(obj).__module__
    name = type(obj).__qualname__
    return name if module in (None, "builtins") else f"{module}.{name}"


def to_scalar(x):
    """A hyperparameter as a Python number (a 1-element tensor lr is read once per step)."""
    if isinstance(x, Tensor):
        return x.item()
    return x


def grad_mode_for(group):
    """Updates record a graph only for ``differentiable=True`` (torch's _use_grad)."""
    return set_grad_enabled(bool(group.get("differentiable", False)))


def params_with_grad(group):
    """(params, grads) of a group that have a gradient, validated (see :func:`check_grads`)."""
    params, grads = [], []
    for p in group["params"]:
        g = p._grad
        if g is not None:
            params.append(p)
            grads.append(g)
    check_grads(params, grads)
    return params, grads


def check_fused_flags(fused, foreach, differentiable):
    """torch's checks of the implementation flags (accepted; plugrad picks kernels itself)."""
    if fused:
        if differentiable:
            raise RuntimeError("`fused` does not support `differentiable`")
        if foreach:
            raise RuntimeError("`fused` and `foreach` cannot be `True` together.")


def check_grads(params, grads):
    """Validate every gradient before any update, so a failed step changes nothing."""
    for p, g in zip(params, grads):
        if g._device is not p._device:
            raise RuntimeError(f"Expected all tensors to be on the same device, but found at "
                               f"least two devices, {p._device} and {g._device}! (the gradient "
                               "of a parameter lives on another device)")
        if g._shape != p._shape:
            raise RuntimeError(f"The size of tensor a ({list(p._shape)}) must match the size of "
                               f"tensor b ({list(g._shape)}): gradient shape does not match "
                               "its parameter")
        if g._dtype is not p._dtype:
            raise RuntimeError(f"expected gradient of dtype {p._dtype} for a parameter of that "
                               f"dtype, got {g._dtype}")


def check_state(params, states, keys):
    """State tensors must live on their parameter's device (e.g. after ``model.to()``)."""
    for p, st in zip(params, states):
        for k in keys:
            t = st.get(k)
            if isinstance(t, Tensor) and t._device is not p._device:
                raise RuntimeError(f"Expected all tensors to be on the same device, but found "
                                   f"at least two devices, {p._device} and {t._device}! "
                                   f"(optimizer state '{k}' of a parameter)")
            if isinstance(t, Tensor) and t._shape != p._shape:
                raise RuntimeError(f"optimizer state '{k}' has shape {list(t._shape)} but its "
                                   f"parameter has shape {list(p._shape)}")


def by_device(*lists):
    """Split parallel lists by the device of the first list's tensors (one kernel call each)."""
    groups = {}
    for items in zip(*lists):
        groups.setdefault(items[0]._device, []).append(items)
    return {dev: [list(col) for col in zip(*rows)] for dev, rows in groups.items()}


def new_step_tensor(param, group):
    """A parameter's ``step`` counter: a 0-dim float on the cpu (on the parameter's device in
    float32 when fused/capturable), as torch's ``_get_scalar_dtype`` decides."""
    from ..ops.creation import zeros
    if group.get("fused") or group.get("capturable"):
        return zeros((), dtype=D.float32, device=param.device)
    dt = D.float64 if D.get_default_dtype() is D.float64 else D.float32
    return zeros((), dtype=dt)


def next_steps(steps, replayable=False):
    """The counters' values after this step (Python floats), without writing them: each
    counter is advanced by :func:`commit_steps` together with its parameter's update, so an
    interrupted ``step()`` (KeyboardInterrupt) leaves no count ahead of its parameter.

    ``replayable``: the caller hands each value to a kernel through :func:`live_step`, so a
    compiled step reads the counter again on replay and this read is no graph break."""
    if replayable:
        from ..compile.capture import allow_read
        with allow_read():
            return [float(t._device.ops.to_host(t._data)) + 1 for t in steps]
    return [float(t._device.ops.to_host(t._data)) + 1 for t in steps]


def live_step(counter, value):
    """``value`` (the step number after this step); in a capture, recomputed from the
    counter tensor on every replay (plugrad.compile)."""
    from ..compile.capture import dynamic
    return dynamic(lambda: float(counter._device.ops.to_host(counter._data)) + 1, value)


def live_lr(group, lr):
    """``lr``; in a capture, read again from ``group`` on every replay, so a scheduler's
    change reaches a compiled step without a recapture (plugrad.compile)."""
    if group is None:
        return lr
    from ..compile.capture import dynamic
    return dynamic(lambda: to_scalar(group["lr"]), lr, key=(id(group), "lr"))


def commit_steps(steps):
    """``step_t += 1`` for counters whose parameters were just updated."""
    for t in steps:
        t._device.ops.add(t._data, 1.0 if t._dtype.is_floating_point else 1, out=t._data)
        t._bump_version()
