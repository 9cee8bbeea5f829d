"""The text of ``python -m plugrad info``: backends, availability, devices, providers, ops.

Available backends are loaded so their implemented ops can be counted; an unavailable one
shows the reason instead (never swallowed).
"""
from __future__ import annotations

from .contract import API_VERSION, HOST_STORABLE, KERNELS, OPS, PRIMITIVES, RUNTIME


def _rows(registry):
    rows, notes = [], []
    for entry in registry.entries():
        reason = entry.availability()
        devices, prims, kerns = "-", "-", "-"
        status = "available"
        if reason is True:
            count = entry.device_count()
            devices = "cpu" if entry.name == "cpu" else (
                ", ".join(f"{entry.name}:{i}" for i in range(count)) or "none")
            try:
                table = registry.table(entry.name, 0)
            except Exception as exc:  # a load failure is reported, not raised
                status = "broken"
                notes.append(f"{entry.name}: {type(exc).__name__}: {exc}")
            else:
                prims = f"{sum(op in table.native for op in PRIMITIVES)}/{len(PRIMITIVES)}"
                kerns = f"{sum(op in table.native for op in KERNELS)}/{len(KERNELS)}"
        else:
            status = "unavailable"
            notes.append(f"{entry.name}: {reason}")
        provider = f"{entry.provider.provider} ({entry.provider.plugin_name})"
        rows.append((entry.name, ",".join(entry.spec.aliases) or "-", status, devices,
                     provider, prims, kerns, entry.spec.description))
    return rows, notes


def _host_fallback_lines(registry):
    """One line per available backend lacking some host_fallback kernels, naming them."""
    lines = []
    wanted = [op for op in KERNELS if OPS[op].host_fallback]
    for entry in registry.entries():
        if entry.availability() is not True:
            continue
        try:
            table = registry.table(entry.name, 0)
        except Exception:   # reported as broken above
            continue
        lacking = [op for op in wanted if op not in table.native]
        if lacking:
            lines.append(f"  {entry.name}: {', '.join(lacking)}")
    return lines


def _host_dtype_lines(registry):
    """One line per available backend refusing some complex dtype (host_storage.py)."""
    lines = []
    for entry in registry.entries():
        if entry.availability() is not True:
            continue
        try:
            table = registry.table(entry.name, 0)
        except Exception:   # reported as broken above
            continue
        if table.host_dtypes:
            lines.append(f"  {entry.name}: {', '.join(d for d in HOST_STORABLE if d in table.host_dtypes)} -- complex "
                         "tensors, torch.fft and linalg.eig/eigvals run on the cpu backend")
    return lines


def _format(header, rows):
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip()
             for row in [header, *rows]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return lines


def info_table(registry=None) -> str:
    """Backends (availability or the reason, devices, provider, ops implemented), kernel
    plugins and their precedence, plugin problems, and fallbacks counted so far.

    ``registry`` defaults to the process-wide one (what ``python -m plugrad info`` prints).
    """
    if registry is None:
        from .registry import get_registry
        registry = get_registry()
    try:
        from importlib.metadata import version
        plugrad_version = version("plugrad")
    except Exception:
        plugrad_version = "?"
    rows, notes = _rows(registry)
    header = ("backend", "aliases", "status", "devices", "provided by", "primitives",
              "kernels", "description")
    out = [f"plugrad {plugrad_version}: backend contract api_version {API_VERSION} "
           f"({len(RUNTIME)} runtime functions required, {len(PRIMITIVES)} primitives, "
           f"{len(KERNELS)} optional kernels)", ""]
    out += _format(header, rows)
    if notes:
        out += ["", "Why a backend cannot be used:"] + [f"  {n}" for n in notes]
    hosted = _host_fallback_lines(registry)
    if hosted:
        out += ["", "Kernels without a composition that run on the cpu backend where a backend "
                "lacks them (torch.linalg's factorizations, complex math, torch.fft):"] + hosted
    host_dtypes = _host_dtype_lines(registry)
    if host_dtypes:
        out += ["", "Dtypes a backend cannot store: its tensors of them stay in host memory, "
                "their ops run on the cpu backend (FallbackWarning; PLUGRAD_STRICT_BACKEND=1 "
                "forbids it):"] + host_dtypes
    kernel_lines = []
    for info in registry.plugins():
        for item in info.kernels:
            backend, op = item.split(".", 1)
            entry_tables = registry.backend(backend).tables.values() \
                if backend in {e.name for e in registry.entries()} else ()
            winner = next((t.overridden.get(op) for t in entry_tables if op in t.overridden),
                          None)
            state = ("active" if winner == info.plugin_name else
                     f"shadowed by plugin '{winner}'" if winner else "active when loaded")
            kind = OPS[op].tier
            kernel_lines.append(f"  {backend}.{op} ({kind}) from plugin '{info.plugin_name}' "
                                f"(distribution {info.provider}): {state}")
    if kernel_lines:
        out += ["", "Kernel plugins (a plugin kernel replaces the backend's own; highest "
                "priority, then the plugin loaded last, wins):"] + kernel_lines
    if registry.problems:
        out += ["", "Plugin problems:"] + ["  " + p.replace("\n", "\n  ")
                                           for p in registry.problems]
    from .comm import get_comm_registry
    out += ["", "Communication backends (plugrad.distributed):"] + get_comm_registry().describe()
    fallbacks = registry.fallbacks.report()
    if fallbacks:
        out += ["", "Ops that ran on the cpu backend for lack of a native one:"] + [
            f"  {op}: {n} call(s)" for op, n in fallbacks.items()]
    return "\n".join(out)
