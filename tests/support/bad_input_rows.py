"""The bad-input catalogue's row type and registry (rows live in ``bad_inputs_*.py``)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

@dataclass
class Row:
    area: str
    name: str
    setup: Callable[[Any, str], dict]
    call: Callable[[Any, dict], Any]
    exc: type
    match: str
    torch: bool = True        # torch has this call: it must raise the same type
    device: str = "cpu"       # plugrad's device for the row ("opencl": needs that backend)


ROWS: list[Row] = []


def row(area, name, setup, call, exc, match, torch=True, device="cpu"):
    ROWS.append(Row(area, name, setup, call, exc, match, torch, device))


def _x(T, dev="cpu", grad=False):
    return {"x": T.arange(6.0, device=dev).reshape(2, 3).requires_grad_(grad)}


def _xi(T, dev="cpu"):
    return {"x": T.arange(6, device=dev).reshape(2, 3)}
