"""state_dict / load_state_dict for nn.Module (torch's keys, messages and strictness).

``load_state_dict`` is atomic: every key is checked and every copy planned before any value
is written, so an error (missing/unexpected keys, a size mismatch, a non-tensor value) leaves
the module exactly as it was -- torch may have copied part of the state by then.
"""
from __future__ import annotations

from collections import OrderedDict, namedtuple

from ..._tensor import Tensor
from ...autograd.grad_mode import no_grad
from ..parameter import Parameter


class _IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    def __repr__(self):
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()


class StateDictMixin:
    """The state-dict half of Module (mixed into it)."""

    def _save_to_state_dict(self, destination, prefix, keep_vars):
        for name, p in self._parameters.items():
            if p is not None:
                destination[prefix + name] = p if keep_vars else p.detach()
        for name, b in self._buffers.items():
            if b is not None and name not in self._non_persistent_buffers_set:
                destination[prefix + name] = b if keep_vars else b.detach()

    def state_dict(self, *args, destination=None, prefix="", keep_vars=False):
        if args:
            destination = args[0]
            if len(args) > 1:
                prefix = args[1]
        if destination is None:
            destination = OrderedDict()
        self._save_to_state_dict(destination, prefix, keep_vars)
        for name, module in self._modules.items():
            if module is not None:
                module.state_dict(destination=destination, prefix=prefix + name + ".",
                                  keep_vars=keep_vars)
        for hook in self._state_dict_hooks.values():
            result = hook(self, destination, prefix, {})
            if result is not None:
                destination = result
        return destination

    def _load_plan(self, state_dict, prefix, strict, missing, unexpected, errors, plan):
        """Collect (tensor, value) copies for this module without changing anything."""
        local = {**{k: v for k, v in self._parameters.items() if v is not None},
                 **{k: v for k, v in self._buffers.items()
                    if v is not None and k not in self._non_persistent_buffers_set}}
        for name, current in local.items():
            key = prefix + name
            if key not in state_dict:
                missing.append(key)
                continue
            value = state_dict[key]
            if not isinstance(value, Tensor):
                errors.append(f'While copying the parameter named "{key}", expected torch.Tensor '
                              f"or Tensor-like object from checkpoint but received "
                              f"{type(value)}")
                continue
            if value._shape != current._shape:
                from ..._tensor import Size
                errors.append(f"size mismatch for {key}: copying a param with shape "
                              f"{Size(value._shape)!r} from checkpoint, the shape in current "
                              f"model is {Size(current._shape)!r}.")
                continue
            plan.append((current, value, key))
        extra_state = prefix + "_extra_state"
        for key in state_dict:
            if not key.startswith(prefix) or key == extra_state:
                continue
            rest = key[len(prefix):]
            head = rest.split(".", 1)[0]
            if "." not in rest and head not in local:
                unexpected.append(key)
            elif "." in rest and head not in self._modules:
                unexpected.append(key)

    def load_state_dict(self, state_dict, strict: bool = True, assign: bool = False):
        """Copy values from ``state_dict``; on any error nothing is changed (atomic)."""
        if not isinstance(state_dict, dict):
            raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict)}.")
        # a copy (keeping torch's ``_metadata``) that modules may fill in, as torch's
        # _load_from_state_dict hooks do; the caller's dict is never modified
        metadata = getattr(state_dict, "_metadata", None)
        state_dict = OrderedDict(state_dict)
        if metadata is not None:
            state_dict._metadata = metadata
        missing, unexpected, errors, plan = [], [], [], []
        # torch walks every registered child, shared ones again under each name
        for prefix, module in self.named_modules(remove_duplicate=False):
            module._load_plan(state_dict, prefix + "." if prefix else "", strict, missing,
                              unexpected, errors, plan)
        if strict:
            if unexpected:
                errors.insert(0, "Unexpected key(s) in state_dict: {}. ".format(
                    ", ".join(f'"{k}"' for k in unexpected)))
            if missing:
                errors.insert(0, "Missing key(s) in state_dict: {}. ".format(
                    ", ".join(f'"{k}"' for k in missing)))
        if errors:
            raise RuntimeError("Error(s) in loading state_dict for {}:\n\t{}".format(
                self._get_name(), "\n\t".join(errors)))
        with no_grad():
            staged = [(current, value.to(device=current._device, dtype=current._dtype)
                       if not assign else value, key) for current, value, key in plan]
            for current, value, key in staged:
                if assign:
                    continue
                current.copy_(value)
        if assign:
            self._assign_loaded(staged)
        return _IncompatibleKeys(missing, unexpected)

    def _assign_loaded(self, staged):
        by_id = {id(c): (c, v) for c, v, _ in staged}
        for module in self.modules():
            for store in ("_parameters", "_buffers"):
                table = getattr(module, store)
                for name, t in list(table.items()):
                    if t is not None and id(t) in by_id:
                        value = by_id[id(t)][1]
                        if store == "_parameters":
                            table[name] = Parameter(value.detach(), t._requires_grad)
                        else:
                            table[name] = value
