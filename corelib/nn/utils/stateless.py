"""``torch.nn.utils.stateless.functional_call``: run a module with some of its parameters and
buffers replaced by given tensors (for meta-learning, ensembling, per-sample gradients); the
module is restored afterwards, also when the call raises."""
from __future__ import annotations

__all__ = ["functional_call"]


def _owner(module, dotted):
    *path, name = dotted.split(".")
    for part in path:
        module = module._modules[part] if part in module._modules else getattr(module, part)
    return module, name


def functional_call(module, parameters_and_buffers, args=None, kwargs=None, *, tie_weights=True,
                    strict=False):
    """``module(*args, **kwargs)`` with ``parameters_and_buffers`` ({dotted name: tensor}, or a
    sequence of such dicts) standing in for the module's own tensors during the call."""
    if isinstance(parameters_and_buffers, (list, tuple)):
        merged = {}
        for d in parameters_and_buffers:
            overlap = set(merged) & set(d)
            if overlap:
                raise ValueError(f"{overlap} appeared in multiple dictionaries; behavior of "
                                 "functional call is ambiguous")
            merged.update(d)
        parameters_and_buffers = merged
    replacements = dict(parameters_and_buffers)
    if tie_weights:
        # a tensor shared by several names (tied weights) is replaced under all of them
        names = {}
        for name, t in [*module.named_parameters(remove_duplicate=False),
                        *module.named_buffers(remove_duplicate=False)]:
            names.setdefault(id(t), []).append(name)
        for group in names.values():
            given = [n for n in group if n in replacements]
            if given:
                for n in group:
                    replacements.setdefault(n, replacements[given[0]])
    if strict:
        expected = {n for n, _ in module.named_parameters()} | \
            {n for n, _ in module.named_buffers()}
        missing = sorted(expected - set(replacements))
        unexpected = sorted(set(replacements) - expected)
        if missing or unexpected:
            parts = []
            if unexpected:
                parts.append("Unexpected key(s): " + ", ".join(repr(k) for k in unexpected) + ".")
            if missing:
                parts.append("Missing key(s): " + ", ".join(repr(k) for k in missing) + ".")
            raise RuntimeError("Error(s) in reparametrizing for "
                               f"{type(module).__name__}:\n\t" + "\n\t".join(parts))
    saved = []
    try:
        for dotted, value in replacements.items():
            owner, name = _owner(module, dotted)
            store = owner._parameters if name in owner._parameters else \
                owner._buffers if name in owner._buffers else None
            if store is None:
                saved.append((owner.__dict__, name, owner.__dict__.get(name, _MISSING)))
                owner.__dict__[name] = value
            else:
                saved.append((store, name, store[name]))
                store[name] = value
        args = () if args is None else args if isinstance(args, tuple) else (args,)
        return module(*args, **(kwargs or {}))
    finally:
        for store, name, old in reversed(saved):
            if old is _MISSING:
                del store[name]
            else:
                store[name] = old


_MISSING = object()
