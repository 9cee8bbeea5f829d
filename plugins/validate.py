"""Validation of what plugins yield: backend specs, name claims, kernel specs.

Pure functions over ``(PluginInfo, [spec, ...])`` pairs, called by the registry when plugins
change. Each rejected item goes to ``problem(message)`` -- a warning, or a PluginError under
``PLUGRAD_STRICT_PLUGINS=1`` -- naming the plugin, its distribution and version, and the fix.
"""
from __future__ import annotations

from .contract import API_VERSION
from .types import BackendSpec, KernelSpec

BUILTIN_DISTRIBUTION = "plugrad"


def collect_backends(results, problem):
    """(name -> [(spec, info)], claims of every name and alias) from plugrad_backends."""
    claims: dict[str, list] = {}
    for info, specs in results:
        for spec in specs:
            if not isinstance(spec, BackendSpec):
                problem(f"{info.describe()}: plugrad_backends() yielded {spec!r}, "
                              "expected plugrad.plugins.BackendSpec")
                continue
            if spec.api_version != API_VERSION:
                newer = "plugrad" if spec.api_version > API_VERSION else "the plugin"
                problem(
                    f"{info.describe()}: backend '{spec.name}' declares api_version "
                    f"{spec.api_version}, but this plugrad implements api_version "
                    f"{API_VERSION}. Upgrade {newer} so both agree; the backend is "
                    "ignored until then.")
                continue
            for claimed in (spec.name, *spec.aliases):
                claims.setdefault(claimed, []).append((spec, info))
            info.backends.append(spec.name)
    return claims

def resolve_claims(claims, problem):
    """(name -> (spec, info), name -> conflict reason, alias -> name) from the claims.

    A name two plugins claim is unusable for all of them (listed with the reason), except
    a built-in name, which the built-in keeps; an alias that clashes is dropped.
    """
    chosen, conflicts, aliases = {}, {}, {}
    for claimed, owners in claims.items():
        keep = owners[0]
        if len(owners) > 1:
            builtin = [o for o in owners if o[1].distribution == BUILTIN_DISTRIBUTION]
            keep = builtin[0] if len(builtin) == 1 else None
            providers = ", ".join(f"{i.provider} (plugin '{i.plugin_name}')"
                                  for _, i in owners)
            lines = "\n".join(f"  {claimed!r} provided by: plugin '{i.plugin_name}' "
                              f"(distribution {i.provider})" for _, i in owners)
            outcome = ("The built-in backend keeps it; the others are ignored."
                       if keep else "None of them can be used until one is removed.")
            problem(f"Conflicting plugrad backends for the name {claimed!r}:\n"
                          f"{lines}\n\n{outcome} Uninstall one of them, or disable one "
                          "with PLUGRAD_DISABLE_PLUGINS=<plugin name>.")
            if keep is None:
                for spec, info in owners:
                    if spec.name == claimed:
                        chosen.setdefault(claimed, (spec, info))
                        conflicts[claimed] = (f"the name {claimed!r} is claimed by "
                                              f"several plugins: {providers}")
                continue
        spec, info = keep
        if spec.name == claimed:
            chosen[claimed] = keep
        else:
            aliases[claimed] = spec.name
    aliases = {a: n for a, n in aliases.items() if chosen.get(n, (None,))[0] is not None
               and a not in chosen}
    return chosen, conflicts, aliases


def collect_kernels(results, backends, problem) -> dict:
    """{backend: {op: (fn, plugin_name)}}: the winning plugin kernel per (backend, op)."""
    kernels: dict[str, dict] = {}
    for info, specs in results:
        for spec in specs:
            if not isinstance(spec, KernelSpec):
                problem(f"{info.describe()}: plugrad_kernels() yielded {spec!r}, "
                              "expected plugrad.plugins.KernelSpec")
                continue
            if spec.backend not in backends:
                problem(f"{info.describe()}: kernel '{spec.op}' is for backend "
                              f"'{spec.backend}', which no plugin provides (known: "
                              f"{', '.join(sorted(backends))}); the kernel is ignored.")
                continue
            info.kernels.append(f"{spec.backend}.{spec.op}")
            current = kernels.setdefault(spec.backend, {}).get(spec.op)
            if current is None or spec.priority >= current[2]:
                kernels[spec.backend][spec.op] = (spec.fn, info.plugin_name, spec.priority)
    return {b: {op: (fn, p) for op, (fn, p, _) in ops.items()}
            for b, ops in kernels.items()}
