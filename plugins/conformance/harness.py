"""Runs conformance cases on the backend under test and on the cpu reference, and compares.

Each case becomes a :class:`CaseResult`: ``pass``, ``fail`` (with the max absolute and
relative error, or which of shape/dtype/value differed), ``error`` (the backend raised; the
exception is kept) or ``missing`` (the op is not native there, or ``supports(op, dtype)``
says no -- a missing op is not a failure: the frontend falls back or composes it).
"""
from __future__ import annotations

import traceback
import warnings
from dataclasses import dataclass

import numpy as np

from .inputs import ALL, TOL, describe, kind


@dataclass
class CaseResult:
    case: object
    status: str                 # pass | fail | error | missing
    max_abs: float = 0.0
    max_rel: float = 0.0
    detail: str = ""

    @property
    def op(self):
        return self.case.op

    @property
    def dtype(self):
        return self.case.dtype

    def message(self) -> str:
        """What failed, with each input's shape and dtype (Chainer's error context)."""
        inputs = ", ".join(describe(a) for a in self.case.args) or "(built by the case)"
        return (f"{self.case.ident}: {self.status}: {self.detail}\n"
                f"  op {self.case.op!r} on dtype {self.case.dtype}, inputs: {inputs}")


def _errors(got, want):
    """(max abs error, max rel error) over finite positions, float64 arithmetic."""
    g, w = got.astype(np.float64), want.astype(np.float64)
    finite = np.isfinite(g) & np.isfinite(w)
    if not finite.any():
        return 0.0, 0.0
    diff = np.abs(g[finite] - w[finite])
    rel = diff / np.maximum(np.abs(w[finite]), np.finfo(np.float64).tiny)
    return float(diff.max()), float(rel.max())


def compare(got, want, tol):
    """(ok, max_abs, max_rel, detail) for one compared value (array, tuple or scalar)."""
    if not isinstance(want, np.ndarray):
        if isinstance(got, np.ndarray) and got.ndim == 0:
            got = got.item()
        same = (tuple(got) == tuple(want)) if isinstance(want, (tuple, list)) and \
            isinstance(got, (tuple, list)) else got == want
        return bool(same), 0.0, 0.0, "" if same else f"got {got!r}, expected {want!r}"
    got = np.asarray(got)
    if got.shape != want.shape:
        return False, np.inf, np.inf, f"shape {got.shape}, expected {want.shape}"
    if got.dtype != want.dtype:
        return False, np.inf, np.inf, f"dtype {got.dtype.name}, expected {want.dtype.name}"
    if want.size == 0:
        return True, 0.0, 0.0, ""
    if kind(want.dtype) != "f":
        bad = got != want
        if not bad.any():
            return True, 0.0, 0.0, ""
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        abs_err, rel_err = _errors(got.astype(np.float64), want.astype(np.float64))
        return False, abs_err, rel_err, (f"{int(bad.sum())} of {want.size} elements differ; "
                                         f"first at {where}: got {got[where]!r}, expected "
                                         f"{want[where]!r}")
    rtol, atol = tol or TOL[want.dtype.name]
    g, w = got.astype(np.float64), want.astype(np.float64)
    nan_ok = np.isnan(g) == np.isnan(w)
    inf_ok = (np.isinf(g) == np.isinf(w)) & (~np.isinf(w) | (g == w))
    with np.errstate(invalid="ignore"):
        close = np.isnan(w) | np.isinf(w) | (np.abs(g - w) <= atol + rtol * np.abs(w))
    ok = nan_ok & inf_ok & close
    abs_err, rel_err = _errors(got, want)
    if ok.all():
        return True, abs_err, rel_err, ""
    where = tuple(int(i) for i in np.argwhere(~ok)[0])
    return False, abs_err if nan_ok.all() and inf_ok.all() else np.inf, rel_err, (
        f"{int((~ok).sum())} of {want.size} elements differ (rtol={rtol}, atol={atol}); "
        f"first at {where}: got {got[where]!r}, expected {want[where]!r}; max abs error "
        f"{abs_err:.3g}, max rel error {rel_err:.3g}")


class _Snapshots:
    """A table whose ``to_host`` copies: the cpu backend's shares memory with the buffer, and
    a case may write to the buffer after reading it."""

    def __init__(self, table):
        self._table = table

    def __getattr__(self, name):
        return getattr(self._table, name)

    def to_host(self, buf):
        return np.array(self._table.to_host(buf), copy=True)


def is_missing(table, case) -> bool:
    """Not native, or a dtype the case uses -- its own or one named in its arguments (a cast's
    target) -- refused by ``supports``."""
    if case.op not in table.native and case.op not in table.derived:
        return True
    if case.dtype != "-" and not table.supports(case.op, case.dtype):
        return True
    return any(isinstance(a, str) and a in ALL and not table.supports(case.op, a)
               for a in case.args)


def run_case(table, ref, case) -> CaseResult:
    """One case on ``table`` against ``ref`` (the cpu table)."""
    if is_missing(table, case):
        return CaseResult(case, "missing", detail=f"'{case.op}' is not native for "
                                                   f"{case.dtype} on '{table.backend_name}'")
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        try:
            want = case.execute(_Snapshots(ref))
        except Exception as exc:  # the case itself is wrong: say so instead of blaming
            return CaseResult(case, "error", np.inf, np.inf,
                              f"the cpu reference raised {type(exc).__name__}: {exc} "
                              "(a bug in the conformance case, not in the backend)")
        try:
            got = case.execute(_Snapshots(table))
        except Exception as exc:
            tb = traceback.extract_tb(exc.__traceback__)[-1]
            return CaseResult(case, "error", np.inf, np.inf,
                              f"raised {type(exc).__name__}: {exc} "
                              f"(at {tb.filename}:{tb.lineno})")
    if len(got) != len(want):
        return CaseResult(case, "fail", np.inf, np.inf,
                          f"returned {len(got)} values, expected {len(want)}")
    worst_abs = worst_rel = 0.0
    for i, (g, w) in enumerate(zip(got, want)):
        ok, abs_err, rel_err, detail = compare(g, w, case.tol)
        if not ok:
            which = f"value {i}: " if len(want) > 1 else ""
            return CaseResult(case, "fail", abs_err, rel_err, which + detail)
        worst_abs, worst_rel = max(worst_abs, abs_err), max(worst_rel, rel_err)
    return CaseResult(case, "pass", worst_abs, worst_rel)


def run_cases(table, ref, cases, progress=None) -> list:
    results = []
    for case in cases:
        results.append(run_case(table, ref, case))
        if progress is not None:
            progress(results[-1])
    return results
