"""The Optimizer base: parameter groups, per-parameter state, state dicts, zero_grad.

Bookkeeping only; each subclass's ``step`` hands lists of tensors to a functional update
(``sgd()``, ``adam()``) that runs on the parameters' backend -- one fused multi-tensor kernel
when the backend has it, frontend in-place ops otherwise. Updates never go through the host.
"""
from __future__ import annotations

import copy
from collections import defaultdict
from itertools import chain

from .._tensor import Tensor
from ..autograd.grad_mode import enable_grad, no_grad


class _RequiredParameter:
    def __repr__(self):
        return "<required parameter>"


required = _RequiredParameter()


class Optimizer:
    """Base class of all optimizers."""

    def __init__(self, params, defaults):
        self.defaults = defaults
        self.state = defaultdict(dict)
        self.param_groups = []
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of "
                            f"Tensors or dicts, but got {params.type()}")
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for group in param_groups:
            self.add_param_group(group)

    def __repr__(self):
        text = self.__class__.__name__ + " ("
        for i, group in enumerate(self.param_groups):
            text += f"\nParameter Group {i}"
            for key in sorted(group.keys()):
                if key != "params":
                    text += f"\n    {key}: {group[key]}"
        return text + "\n)"

    def add_param_group(self, param_group: dict) -> None:
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, "
                            "but the ordering of tensors in sets will change between runs. "
                            "Please use a list instead.")
        else:
            params = list(params)
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError("optimizer can only optimize Tensors, but one of the params is "
                                f"{type(p).__name__}")
            if not p.is_leaf:
                raise ValueError("can't optimize a non-leaf Tensor")
        group = dict(param_group)
        group["params"] = params
        for name, default in self.defaults.items():
            if default is required and name not in group:
                raise ValueError("parameter group didn't specify a value of required "
                                 f"optimization parameter {name}")
            group.setdefault(name, default)
        if len({id(p) for p in params}) != len(params):
            import warnings
            warnings.warn("optimizer contains a parameter group with duplicate parameters; in "
                          "future, this will cause an error; see "
                          "github.com/pytorch/pytorch/issues/40967 for more information",
                          stacklevel=3)
        existing = {id(p) for g in self.param_groups for p in g["params"]}
        if existing & {id(p) for p in params}:
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(group)

    def zero_grad(self, set_to_none: bool = True) -> None:
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    g = p.grad
                    if g.grad_fn is not None:
                        g = g.detach()
                        p.grad = g
                    g.zero_()

    def _closure_loss(self, closure):
        if closure is None:
            return None
        with enable_grad():
            return closure()

    # ------------------------------------------------------------------ state dicts
    def state_dict(self) -> dict:
        index = {}
        groups = []
        start = 0
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            ids = list(range(start, start + len(group["params"])))
            for i, p in zip(ids, group["params"]):
                index.setdefault(id(p), i)
            packed["params"] = ids
            start += len(ids)
            groups.append(packed)
        state = {index[id(p)]: v for p, v in self.state.items() if id(p) in index}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore groups and state; validated completely before anything changes."""
        if not isinstance(state_dict, dict) or "param_groups" not in state_dict or \
                "state" not in state_dict:
            raise ValueError("optimizer state_dict must be a dict with 'state' and "
                             "'param_groups'")
        groups = self.param_groups
        saved_groups = copy.deepcopy(state_dict["param_groups"])
        if len(groups) != len(saved_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        for g, s in zip(groups, saved_groups):
            if len(g["params"]) != len(s["params"]):
                raise ValueError("loaded state dict contains a parameter group that doesn't "
                                 "match the size of optimizer's group")
        id_map = dict(zip(chain.from_iterable(g["params"] for g in saved_groups),
                          chain.from_iterable(g["params"] for g in groups)))
        new_state = defaultdict(dict)
        for key, value in state_dict["state"].items():
            if key not in id_map:
                continue
            param = id_map[key]
            new_state[param] = {k: self._cast_state(param, k, v) for k, v in value.items()}
        new_groups = []
        for g, s in zip(groups, saved_groups):
            s = dict(s)
            s["params"] = g["params"]
            new_groups.append(s)
        self.state = new_state
        self.param_groups = new_groups

    @staticmethod
    def _cast_state(param, key, value):
        if not isinstance(value, Tensor):
            return copy.deepcopy(value)
        with no_grad():
            if key == "step":
                return value.detach().clone()
            if value.is_floating_point():
                return value.to(device=param.device, dtype=param.dtype, copy=True)
            return value.to(device=param.device, copy=True)

    def step(self, closure=None):
        raise NotImplementedError


def check_grads(params, grads):
    """Validate every gradient before any update, so a failed step changes nothing."""
    for p, g in zip(params, grads):
        if g._device is not p._device:
            raise RuntimeError(f"Expected all tensors to be on the same device, but found at "
                               f"least two devices, {p._device} and {g._device}!")
        if g._shape != p._shape:
            raise RuntimeError(f"The size of tensor a ({list(p._shape)}) must match the size of "
                               f"tensor b ({list(g._shape)}): gradient shape does not match "
                               "its parameter")
        if g._dtype is not p._dtype:
            raise RuntimeError(f"expected gradient of dtype {p._dtype} for a parameter of that "
                               f"dtype, got {g._dtype}")


def by_device(*lists):
    """Split parallel lists of tensors by the device of the first list."""
    groups = {}
    for items in zip(*lists):
        groups.setdefault(items[0]._device, []).append(items)
    return {dev: [list(col) for col in zip(*rows)] for dev, rows in groups.items()}
