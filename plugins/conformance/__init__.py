"""The conformance kit: prove a backend correct against the cpu backend with one command.

    python -m plugrad conformance NAME          # prints the capability table
    pytest --plugrad-backend NAME               # the same checks as pytest items

Three phases, each comparing the backend under test with the cpu (numpy) backend:

1. every op of the contract the backend implements, over dtypes, shapes (0-d, 0-size),
   broadcasting, scalars, non-contiguous views and ``out=``;
2. autograd through the frontend: forward, backward and double backward of common ops;
3. a short training run (an MLP with SGD and with Adam): the loss falls and tracks cpu's;
4. compiled programs: the backend's ``optimize_program`` hook (fusion) returns programs whose
   replay gives the captured programs' results (:mod:`.programs`; skipped without the hook).

Ops the backend does not implement, or for which ``supports(op, dtype)`` is False, are
reported as missing -- not failures: the frontend falls back to cpu or composes them.
"""
from __future__ import annotations

import argparse
import sys

from .harness import run_cases
from .kernel_cases import all_cases
from .report import Report

__all__ = ["Report", "main", "run", "select_cases"]


def select_cases(ops=None, dtypes=None, quick=False) -> list:
    """The kit's cases, optionally restricted to some ops/dtypes.

    ``quick`` keeps every case of one representative dtype per op (float32 where it applies)
    and the first two cases of the others: about a third of the work, the same coverage of
    ops and dtypes.
    """
    cases = [c for c in all_cases() if (ops is None or c.op in ops) and
             (dtypes is None or c.dtype in dtypes or c.dtype == "-")]
    if not quick:
        return cases
    by_op = {}
    for c in cases:
        by_op.setdefault(c.op, []).append(c)
    kept = []
    for op, group in by_op.items():
        dts = [c.dtype for c in group]
        main_dt = "float32" if "float32" in dts else dts[0]
        seen = {}
        for c in group:
            seen[c.dtype] = seen.get(c.dtype, 0) + 1
            if c.dtype == main_dt or seen[c.dtype] <= 2:
                kept.append(c)
    return kept


def run(backend: str, *, ops=None, dtypes=None, quick=False, frontend=True, registry=None,
        progress=None) -> Report:
    """Run the kit on ``backend`` (a name or device string such as ``'opencl:1'``).

    ``registry`` defaults to the process-wide one; with another registry only phase one
    runs (the frontend always uses the process-wide registry).
    """
    from ..registry import get_registry
    reg = registry or get_registry()
    kind, index = reg.canonical(backend)
    table = reg.table(kind, index)
    report = Report(f"{kind}:{index or 0}" if kind != "cpu" else "cpu")
    report.results = run_cases(table, reg.table("cpu"), select_cases(ops, dtypes, quick),
                               progress)
    if reg.table("cpu").supports("add", "bfloat16") is False:
        report.notes.append("bfloat16 is not checked: the cpu reference has no bfloat16")
    if frontend and registry in (None, get_registry()):
        from .frontend import autograd_checks, training_checks
        device = f"{kind}:{index}" if index is not None else kind
        from .programs import program_checks
        report.frontend = (autograd_checks(device) + training_checks(device) +
                           program_checks(table))
    elif frontend:
        report.notes.append("autograd and training were not run: they need the backend in "
                            "the process-wide registry")
    return report


def main(argv=None) -> int:
    """``python -m plugrad conformance NAME``: print the capability table; 1 on failures."""
    from plugrad.__main__ import program_name
    parser = argparse.ArgumentParser(prog=f"{program_name()} conformance",
                                     description=__doc__.split("\n")[0].replace("``", ""))
    parser.add_argument("backend", help="backend name or device string (e.g. opencl:0)")
    parser.add_argument("--ops", help="comma-separated ops to check (default: all)")
    parser.add_argument("--dtypes", help="comma-separated dtypes to check (default: all)")
    parser.add_argument("--quick", action="store_true",
                        help="fewer layouts per dtype (same ops and dtypes)")
    parser.add_argument("--no-frontend", action="store_true",
                        help="skip the autograd and training phases")
    parser.add_argument("-v", "--verbose", action="store_true", help="print every case")
    args = parser.parse_args(argv)
    split = (lambda s: [x.strip() for x in s.split(",") if x.strip()] if s else None)
    def show(r):
        print(f"{r.case.ident:<50} {r.status}{'  ' + r.detail if r.detail else ''}")
    progress = show if args.verbose else None
    try:
        report = run(args.backend, ops=split(args.ops), dtypes=split(args.dtypes),
                     quick=args.quick, frontend=not args.no_frontend, progress=progress)
    except RuntimeError as exc:
        print(f"plugrad conformance: {exc}", file=sys.stderr)
        return 2
    print(report)
    return 0 if report.ok else 1
