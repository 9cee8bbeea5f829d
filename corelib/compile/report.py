"""``plugrad.compile.explain(fn, *args)`` and ``torch._dynamo.explain(fn)(*args)``: how a
function captures, in torch's ``ExplainOutput`` shape.

The function is captured once (as a second call would be) with graph breaks collected
instead of acted on: ``graph_count`` is the number of pieces the host reads split it into,
``break_reasons`` say where each read happened, ``ops_per_graph`` lists each piece's backend
calls. Like torch's, explaining runs the function, with its side effects.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field


@dataclass
class GraphCompileReason:
    """torch._dynamo.output_graph.GraphCompileReason: why a graph ended."""
    reason: str
    user_stack: list
    graph_break: bool = True


@dataclass
class ExplainOutput:
    """torch._dynamo.backends.debugging.ExplainOutput."""
    graphs: list
    graph_count: int
    graph_break_count: int
    break_reasons: list
    op_count: int
    ops_per_graph: list | None = None
    out_guards: list | None = None
    compile_times: str | None = None
    eager_reason: str = field(default="")

    def __str__(self):
        out = (f"Graph Count: {self.graph_count}\nGraph Break Count: {self.graph_break_count}\n"
               f"Op Count: {self.op_count}\n")
        out += "Break Reasons:\n"
        for i, r in enumerate(self.break_reasons):
            out += f"  Break Reason {i + 1}:\n    Reason: {r.reason}\n    User Stack:\n"
            for frame in r.user_stack:
                out += f"      {frame}\n"
        if self.ops_per_graph is not None:
            out += "Ops per Graph:\n"
            for i, ops in enumerate(self.ops_per_graph):
                out += f"  Ops {i + 1}:\n" + "".join(f"    {op}\n" for op in ops)
        if self.eager_reason:
            out += f"Runs eagerly: {self.eager_reason}\n"
        if self.compile_times is not None:
            out += f"Compile Times: {self.compile_times}\n"
        return out


def explain(fn, *args, **kwargs):
    """``explain(fn, *args)`` captures ``fn(*args)`` and reports; ``explain(fn)`` returns a
    function taking the arguments (torch._dynamo's spelling)."""
    if not args and not kwargs:
        return lambda *a, **k: _explain(fn, a, k)
    return _explain(fn, args, kwargs)


def _explain(fn, args, kwargs):
    from .capture import Recorder
    from .program import Call
    target = getattr(fn, "_plugrad_compiled", None)
    fn = target.fn if target is not None else fn
    rec = Recorder()
    start = time.perf_counter()
    rec.start()
    try:
        fn(*args, **kwargs)
    finally:
        rec.stop()
    elapsed = time.perf_counter() - start
    pieces = [[]]
    for step in rec.steps:
        if type(step) is Call:
            pieces[-1].append(step.op)
        elif step.kind == "guard":
            pieces.append([])
    breaks = [GraphCompileReason(reason, [where]) for reason, where in rec.breaks]
    while len(pieces) < len(breaks) + 1:
        pieces.append([])
    return ExplainOutput(graphs=[None] * len(pieces), graph_count=len(pieces),
                         graph_break_count=len(breaks), break_reasons=breaks,
                         op_count=sum(len(p) for p in pieces), ops_per_graph=pieces,
                         out_guards=[], compile_times=f"capture: {elapsed:.4f} s",
                         eager_reason=rec.unsafe or "")
