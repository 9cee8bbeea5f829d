"""Every public callable has a docstring, so ``help(plugrad.X)`` says what X does.

Covers ``plugrad``, ``plugrad.nn.functional`` / ``nn.init`` / ``special`` / ``autograd`` and
every public Tensor method (the op table's function, method and in-place variants, aliases
included). Aliases must share their op's docstring through the table's binding: the same
object, not a copy.
"""
from __future__ import annotations

import inspect

import pytest

import plugrad
import plugrad.nn.functional as F
import plugrad.nn.init
import plugrad.special
from plugrad.ops.table import OPS

# names whose docstring cannot be ours: none today (keep the reason next to any you add)
ALLOWED_UNDOCUMENTED: dict[str, str] = {}


def _public_functions(module):
    for name in dir(module):
        obj = getattr(module, name)
        if name.startswith("_") or inspect.isclass(obj) or inspect.ismodule(obj):
            continue
        if callable(obj):
            yield f"{module.__name__}.{name}", obj


def _table_methods():
    for row in OPS.values():
        for name in row.names():
            if "m" in row.variants:
                yield f"Tensor.{name}", getattr(plugrad.Tensor, name)
            if "i" in row.variants:
                yield f"Tensor.{name}_", getattr(plugrad.Tensor, f"{name}_")


def _undocumented(pairs):
    return sorted(name for name, obj in pairs
                  if not (getattr(obj, "__doc__", None) or "").strip()
                  and name not in ALLOWED_UNDOCUMENTED)


@pytest.mark.parametrize("module", [plugrad, F, plugrad.nn.init, plugrad.special,
                                    plugrad.autograd],
                         ids=["plugrad", "nn.functional", "nn.init", "special", "autograd"])
def test_public_functions_have_docstrings(module):
    assert _undocumented(_public_functions(module)) == []


def test_table_methods_have_docstrings():
    assert _undocumented(_table_methods()) == []


def test_tensor_methods_have_docstrings():
    """Every public Tensor method, the ones defined on the class and the table's alike."""
    methods = ((f"Tensor.{name}", getattr(plugrad.Tensor, name)) for name in dir(plugrad.Tensor)
               if not name.startswith("_") and callable(getattr(plugrad.Tensor, name))
               and not inspect.isclass(getattr(plugrad.Tensor, name)))
    assert _undocumented(methods) == []


def test_table_methods_listed():
    """The sweep above really walks the table (a broken walk would pass vacuously)."""
    names = dict(_table_methods())
    assert "Tensor.atan2" in names and "Tensor.arctan2_" in names and len(names) > 300


def test_aliases_share_the_op_docstring():
    for row in OPS.values():
        if "f" not in row.variants:
            continue
        docs = {getattr(plugrad, name).__doc__ for name in row.names()}
        assert len(docs) == 1, row.name
    assert plugrad.arctan2 is plugrad.atan2
    assert "arctangent" in plugrad.arctan2.__doc__


def test_help_shows_the_docstring():
    assert "Base-2 logarithm" in pydoc_text(plugrad.log2)
    assert "Base-2 logarithm" in pydoc_text(plugrad.Tensor.log2)
    assert "In-place" in pydoc_text(plugrad.Tensor.log2_)


def pydoc_text(obj):
    import pydoc
    return pydoc.render_doc(obj, renderer=pydoc.plaintext)


def test_ships_py_typed():
    from importlib.resources import files
    assert files("plugrad").joinpath("py.typed").is_file()


# the functions users call most: each has hints on every parameter and its return
HINTED = ("add", "sub", "mul", "div", "pow", "maximum", "minimum", "neg", "abs", "exp", "log",
          "sqrt", "rsqrt", "sin", "tanh", "sigmoid", "log2", "clamp", "sum", "mean", "prod",
          "amax", "amin", "argmax", "argmin", "var", "std", "logsumexp", "reshape", "view",
          "permute", "transpose", "t", "flatten", "squeeze", "unsqueeze", "expand", "cat",
          "stack", "matmul", "mm", "bmm", "dot", "addmm")


def _hints(fn):
    """The function's hints evaluated (they are strings: ``from __future__ import annotations``)
    with the names its module imports only under TYPE_CHECKING."""
    import typing
    from collections.abc import Sequence

    from plugrad import _dtype
    return typing.get_type_hints(fn, localns={"Sequence": Sequence, "Tensor": plugrad.Tensor,
                                              "Size": plugrad.Size, "D": _dtype})


@pytest.mark.parametrize("name", HINTED)
def test_common_functions_are_hinted(name):
    fn = getattr(plugrad, name, None) or getattr(plugrad.Tensor, name)   # view, expand: methods
    hints = _hints(fn)
    params = [p for p in inspect.signature(fn).parameters if not p.startswith("_")]
    assert [p for p in params if p not in hints] == []
    assert hints["return"] is plugrad.Tensor


def test_every_hint_resolves():
    """A misspelt or unimported name in any public hint fails here, not in a user's mypy."""
    for name, fn in _public_functions(plugrad):
        if inspect.isfunction(fn) and fn.__annotations__:
            _hints(fn)
