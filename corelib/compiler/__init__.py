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
    """``torch.compiler.disable``: ``fn`` always runs eagerly, also inside compiled code
    (plugrad: its backend calls are still recorded when a caller is captured; it is not
    captured on its own)."""
    if fn is None:
        return functools.partial(disable, recursive=recursive, reason=reason)
    return fn


def is_dynamo_compiling() -> bool:
    return is_compiling()


__all__ = ["reset", "disable", "is_compiling", "is_dynamo_compiling"]
