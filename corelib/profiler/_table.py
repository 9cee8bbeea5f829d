"""``key_averages()`` and ``table()``: torch's summary of profiler events."""
from __future__ import annotations


def format_time(us: float) -> str:
    """torch's _format_time: s / ms / us with three decimals."""
    if us >= 1e6:
        return f"{us / 1e6:.3f}s"
    if us >= 1e3:
        return f"{us / 1e3:.3f}ms"
    return f"{us:.3f}us"


class FunctionEventAvg:
    """Events of one name (and input shapes, when grouped by them) summed."""

    def __init__(self, key, input_shapes=None):
        self.key, self.input_shapes = key, input_shapes
        self.count, self.cpu_time_total, self.self_cpu_time_total = 0, 0.0, 0.0

    def add(self, ev):
        self.count += 1
        self.cpu_time_total += ev.cpu_time_total
        self.self_cpu_time_total += ev.self_cpu_time_total

    @property
    def cpu_time(self) -> float:
        return self.cpu_time_total / max(self.count, 1)

    def __repr__(self):
        return (f"<FunctionEventAvg key={self.key} self_cpu_time={format_time(self.self_cpu_time_total)} "
                f"cpu_time={format_time(self.cpu_time)} count={self.count}>")


_SORT_KEYS = {"cpu_time_total", "self_cpu_time_total", "cpu_time", "count"}


class EventList(list):
    """A list of FunctionEventAvg (or events) with torch's ``table``."""

    def table(self, sort_by=None, row_limit=100, max_src_column_width=75, max_name_column_width=55,
              max_shapes_column_width=80, header=None, top_level_events_only=False, **kwargs):
        rows = list(self)
        if sort_by is not None:
            key = sort_by.replace("cuda", "cpu").replace("device", "cpu")
            if key not in _SORT_KEYS:
                raise AttributeError(f"'FunctionEventAvg' object has no attribute '{sort_by}'")
            rows.sort(key=lambda r: getattr(r, key), reverse=True)
        if row_limit is not None and row_limit > 0:
            rows = rows[:row_limit]
        total_self = sum(r.self_cpu_time_total for r in self) or 1.0
        with_shapes = any(getattr(r, "input_shapes", None) for r in rows)
        name_w = min(max([len(r.key) for r in rows] + [4]) + 4, max_name_column_width)
        heads = ["Name", "Self CPU %", "Self CPU", "CPU total %", "CPU total", "CPU time avg",
                 "# of Calls"] + (["Input Shapes"] if with_shapes else [])
        widths = [name_w] + [12] * 6 + ([max_shapes_column_width] if with_shapes else [])
        line = "  ".join("-" * w for w in widths) + "  "

        def fmt(cells):
            return "  ".join(str(c).rjust(w)[:w] if i < 7 else str(c).ljust(w)[:w]
                             for i, (c, w) in enumerate(zip(cells, widths))) + "  "
        out = ([header] if header else []) + [line, fmt(heads), line]
        for r in rows:
            name = r.key if len(r.key) <= name_w else r.key[:name_w - 3] + "..."
            cells = [name, f"{100 * r.self_cpu_time_total / total_self:.2f}%",
                     format_time(r.self_cpu_time_total),
                     f"{100 * r.cpu_time_total / total_self:.2f}%",
                     format_time(r.cpu_time_total), format_time(r.cpu_time), r.count]
            if with_shapes:
                cells.append(str(r.input_shapes or ""))
            out.append(fmt(cells))
        out += [line, f"Self CPU time total: {format_time(sum(r.self_cpu_time_total for r in self))}",
                ""]
        return "\n".join(out)

    def total_average(self):
        total = FunctionEventAvg("Total")
        for r in self:
            total.count += r.count
            total.cpu_time_total += r.cpu_time_total
            total.self_cpu_time_total += r.self_cpu_time_total
        return total


def key_averages(events, group_by_input_shape=False) -> EventList:
    groups = {}
    for ev in events:
        shapes = str(ev.shapes) if group_by_input_shape and ev.shapes is not None else None
        k = (ev.name, shapes)
        if k not in groups:
            groups[k] = FunctionEventAvg(ev.name, shapes)
        groups[k].add(ev)
    return EventList(groups.values())
