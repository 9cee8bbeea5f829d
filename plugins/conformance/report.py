"""The kit's result: a capability table (op x dtype) plus the autograd and training checks."""
from __future__ import annotations

from dataclasses import dataclass, field

from ..contract import OPS
from .inputs import ALL

_ORDER = {name: i for i, name in enumerate(OPS)}


def _cell(results) -> str:
    statuses = {r.status for r in results}
    if "error" in statuses:
        return "ERR"
    if "fail" in statuses:
        worst = max(r.max_abs for r in results if r.status == "fail")
        details = " ".join(r.detail for r in results if r.status == "fail")
        if worst == float("inf"):
            return "FAIL " + ("shape" if "shape" in details else "dtype"
                              if "dtype" in details else "nan")
        return f"FAIL {worst:.0e}"
    if statuses == {"missing"}:
        return "miss"
    return "ok"


@dataclass
class Report:
    """Everything one kit run found; ``str(report)`` is what the CLI prints."""
    backend: str
    results: list = field(default_factory=list)        # harness.CaseResult
    frontend: list = field(default_factory=list)       # frontend.FrontendResult
    notes: list = field(default_factory=list)

    @property
    def failures(self) -> list:
        return [r for r in self.results + self.frontend if r.status in ("fail", "error")]

    @property
    def ok(self) -> bool:
        return not self.failures

    def counts(self) -> dict:
        out = {}
        for r in self.results + self.frontend:
            out[r.status] = out.get(r.status, 0) + 1
        return out

    def cells(self) -> dict:
        """{(op, dtype): 'ok' | 'FAIL 3e-02' | 'ERR' | 'miss'} for every case checked."""
        grouped = {}
        for r in self.results:
            grouped.setdefault((r.op, r.dtype), []).append(r)
        return {key: _cell(rs) for key, rs in grouped.items()}

    def table(self) -> str:
        cells = self.cells()
        ops = sorted({op for op, _ in cells}, key=lambda o: _ORDER.get(o, len(_ORDER)))
        dtypes = [d for d in ALL + ("-",) if any(dt == d for _, dt in cells)]
        width = max(len(op) for op in ops) if ops else 2
        colw = max(9, *(len(c) + 1 for c in cells.values())) if cells else 9
        head = "op".ljust(width) + " tier      " + "".join(d.rjust(colw) for d in dtypes)
        lines = [head, "-" * len(head)]
        for op in ops:
            row = op.ljust(width) + f" {OPS[op].tier:<9} " + "".join(
                cells.get((op, d), ".").rjust(colw) for d in dtypes)
            lines.append(row)
        return "\n".join(lines)

    def __str__(self):
        counts = self.counts()
        parts = [f"plugrad conformance kit: backend '{self.backend}' against the cpu backend",
                 "", self.table(), "",
                 "ok: every case agrees with cpu; FAIL e: max abs error e (or what differed); "
                 "ERR: raised; miss: not native (the frontend falls back to cpu or composes "
                 "it); .: not applicable"]
        if self.frontend:
            parts += ["", "Autograd, training (vs cpu) and compiled programs (vs unoptimized):"]
            parts += [f"  {r.name:<32} {r.status:<5} {r.detail}" for r in self.frontend]
        parts += [f"  note: {n}" for n in self.notes]
        failures = self.failures
        if failures:
            parts += ["", f"{len(failures)} failure(s); the first ones:"]
            for r in failures[:12]:
                text = r.message() if hasattr(r, "message") else f"{r.name}: {r.detail}"
                parts.append("  " + text.replace("\n", "\n  "))
        summary = ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))
        parts += ["", f"{'PASSED' if self.ok else 'FAILED'}: {summary}"]
        return "\n".join(parts)
