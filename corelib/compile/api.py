"""``torch.compile``'s front door: arguments checked as torch checks them, then the model or
function wrapped in a :class:`~plugrad.compile.compiled.CompiledFunction`.

torch's contract is kept where programs can see it: a compiled module is an ``OptimizedModule``
holding the original as ``_orig_mod`` (so ``state_dict`` keys carry torch's ``_orig_mod.``
prefix and parameters are shared, not copied); a compiled function is a wrapper with the
original's name. ``backend`` and ``mode`` are validated but every backend string gets the same
capture and replay (a device's fusion hook, if any, is what makes it faster).
"""
from __future__ import annotations

import functools

from .compiled import CompiledFunction

MODES = ("default", "lite", "reduce-overhead", "max-autotune-no-cudagraphs", "max-autotune")
BACKENDS = ("inductor", "eager", "aot_eager", "cudagraphs")


class InvalidBackend(RuntimeError):
    """torch._dynamo.exc.InvalidBackend."""

    def __init__(self, name):
        super().__init__(f"Invalid backend: {name!r}, see `torch._dynamo.list_backends()` for "
                         f"available backends.")


def _optimized_module_class():
    from ..nn.modules.module import Module

    class OptimizedModule(Module):
        """A compiled module: calls go to ``_orig_mod``; attributes are read through to it."""

        def __init__(self, mod, fullgraph=False):
            super().__init__()
            self._orig_mod = mod
            object.__setattr__(self, "_compiled", CompiledFunction(mod, fullgraph, owner=mod))

        def forward(self, *args, **kwargs):
            return self._compiled(*args, **kwargs)

        def __getattr__(self, name):
            try:
                return super().__getattr__(name)
            except AttributeError:
                return getattr(self._modules["_orig_mod"], name)

    OptimizedModule.__module__ = "torch._dynamo.eval_frame"
    return OptimizedModule


_cls = []


def compile(model=None, *, fullgraph=False, dynamic=None, backend="inductor", mode=None,  # noqa: A001
            options=None, name=None, disable=False, recompile_limit=None,
            isolate_recompiles=False, shapes_spec=None):
    """``torch.compile``: validate the arguments, then return the model wrapped to run eagerly."""
    if mode is not None and options is not None:
        raise RuntimeError("Either mode or options can be specified, but both can't be specified "
                           "at the same time.")
    if mode is not None and mode not in MODES:
        raise RuntimeError(f"Unrecognized mode={mode}, should be one of: {', '.join(MODES)}")
    if backend is not None and not callable(backend) and backend not in BACKENDS:
        raise InvalidBackend(backend)
    if model is None:
        return functools.partial(compile, fullgraph=fullgraph, dynamic=dynamic, backend=backend,
                                 mode=mode, options=options, name=name, disable=disable)
    if not callable(model):
        raise AssertionError(f"A callable function is expected, but {type(model)} is provided.")
    from ..nn.modules.module import Module
    if disable:
        return model
    if isinstance(model, Module):
        if not _cls:
            _cls.append(_optimized_module_class())
        return _cls[0](model, fullgraph)
    inner = CompiledFunction(model, fullgraph)

    @functools.wraps(model)
    def compiled(*args, **kwargs):
        return inner(*args, **kwargs)
    compiled._plugrad_compiled = inner
    compiled._torchdynamo_orig_callable = model
    return compiled


def list_backends(exclude_tags=("debug", "experimental")):
    """``torch._dynamo.list_backends()``."""
    return sorted(b for b in BACKENDS if b not in ("eager", "aot_eager"))
