"""``torch.compiler``: ``reset``, ``disable``, ``is_compiling`` for plugrad.compile."""
from __future__ import annotations

import functools

from ..compile.capture import is_compiling


def reset() -> None:
    """Forget every captured program (``torch._dynamo.reset()``): the next calls warm up and
    capture again."""
    from ..compile.compiled import _all_compiled
    for ref in list(_all_compiled):
        c = ref()
        if c is None:
            _all_compiled.remove(ref)
        else:
            c.reset()


def disable(fn=None, recursive=True, *, reason=None):
    """``torch.compiler.disable``: ``fn`` is never captured on its own -- compiling it, or a
    module whose forward it is, gives eager calls. (Called from inside another compiled
    function, its backend calls are part of that capture: plugrad records calls, not frames.)"""
    if fn is None:
        return functools.partial(disable, recursive=recursive, reason=reason)
    try:
        fn._plugrad_compile_disabled = True
    except (AttributeError, TypeError):
        pass
    return fn


def is_dynamo_compiling() -> bool:
    return is_compiling()


__all__ = ["reset", "disable", "is_compiling", "is_dynamo_compiling"]
