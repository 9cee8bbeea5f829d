"""Shared test fixtures: every backend-parametrized test runs once per available device.

``device`` is parametrized over cpu, opencl and cuda. A backend that is not available here is
skipped with the registry's reason -- unless it is listed in ``PLUGRAD_TEST_REQUIRE``
(comma-separated), in which case its absence fails the run (CI requires opencl, since PoCL is
installed there). ``PLUGRAD_TEST_DEVICES`` restricts the list (e.g. ``cuda`` on a GPU box).
"""
from __future__ import annotations

import os

import pytest

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
