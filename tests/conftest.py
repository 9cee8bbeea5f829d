"""Shared test fixtures: every backend-parametrized test runs once per available device.

``device`` is parametrized over cpu, opencl and cuda. A backend that is not available here is
skipped with the registry's reason -- unless it is listed in ``PLUGRAD_TEST_REQUIRE``
(comma-separated), in which case its absence fails the run (CI requires opencl, since PoCL is
installed there). ``PLUGRAD_TEST_DEVICES`` restricts the list (e.g. ``cuda`` on a GPU box).
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

# tests live in folders by layer (frontend, backends/<name>, plugins, fuzz, distributed, tools);
# the modules they share (oracles, bad-input rows, stand-ins) live in support/
sys.path.insert(0, str(Path(__file__).resolve().parent / "support"))

BACKENDS = ("cpu", "opencl", "cuda")


def _selected():
    chosen = os.environ.get("PLUGRAD_TEST_DEVICES")
    return tuple(d.strip() for d in chosen.split(",")) if chosen else BACKENDS


def _required():
    return {d.strip() for d in os.environ.get("PLUGRAD_TEST_REQUIRE", "").split(",") if d.strip()}


def availability(name):
    """True, or the registry's reason the backend cannot run here."""
    from plugrad.plugins import get_registry
    try:
        entry = get_registry().backend(name)
    except KeyError:
        return f"no plugin provides backend '{name}'"
    reason = entry.availability()
    if reason is True and entry.device_count() < 1:
        return "no devices"
    return reason


def _explicitly_parametrized(metafunc, name):
    for mark in metafunc.definition.iter_markers("parametrize"):
        names = mark.args[0]
        names = names.split(",") if isinstance(names, str) else names
        if name in (n.strip() for n in names):
            return True
    return False


def pytest_generate_tests(metafunc):
    # tests that parametrize ``device`` themselves (e.g. repr strings) keep their own values
    if "device" in metafunc.fixturenames and not _explicitly_parametrized(metafunc, "device"):
        metafunc.parametrize("device", _selected(), indirect=True)


@pytest.fixture
def device(request):
    name = request.param
    reason = availability(name)
    if reason is not True:
        if name in _required():
            pytest.fail(f"backend '{name}' is required (PLUGRAD_TEST_REQUIRE) but unavailable: "
                        f"{reason}")
        pytest.skip(f"backend '{name}' unavailable: {reason}")
    return name


# -- reliability counts (tests/support/fuzz_profiles.py): fuzz examples run, bad-input calls catalogued
@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    if call.when == "call":
        import sys
        counts = getattr(sys.modules.get("fuzz_profiles"), "COUNTS", {})
        for kind, counter in counts.items():
            if counter.get(item.nodeid):
                item.user_properties.append((kind, counter[item.nodeid]))
    yield


def pytest_terminal_summary(terminalreporter):
    per_test = {}
    for reports in terminalreporter.stats.values():
        for report in reports:
            for kind, n in getattr(report, "user_properties", ()):
                if kind in ("fuzz cases", "bad-input calls"):
                    per_test[(kind, report.nodeid)] = n
    if not per_test:
        return
    totals, tests, by_function = {}, {}, {}
    for (kind, nodeid), n in per_test.items():
        totals[kind] = totals.get(kind, 0) + n
        tests[kind] = tests.get(kind, 0) + 1
        if kind == "fuzz cases":
            function = nodeid.split("[", 1)[0]
            runs, cases = by_function.get(function, (0, 0))
            by_function[function] = (runs + 1, cases + n)
    write = terminalreporter.write_line
    terminalreporter.section("plugrad reliability counts")
    for function, (runs, cases) in sorted(by_function.items()):
        write(f"{cases:7d} fuzz cases  {function} ({runs} parametrizations)")
    write(", ".join(f"{kind}: {totals[kind]} (in {tests[kind]} tests)" for kind in sorted(totals)))


@pytest.fixture(autouse=True)
def _torch_distributions_validate():
    """torch's dynamo turns distribution validation off process-wide once it has compiled
    anything (torch/_dynamo/eval_frame.py), and the compile tests run torch.compile earlier in
    the same process: the oracle must validate by default, as it does in a fresh process."""
    dists = sys.modules.get("torch.distributions")
    if dists is None:
        yield
        return
    before = dists.Distribution._validate_args
    dists.Distribution.set_default_validate_args(True)
    yield
    dists.Distribution.set_default_validate_args(before)
