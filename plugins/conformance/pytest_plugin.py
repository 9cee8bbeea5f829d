"""pytest plugin of the conformance kit: ``pytest --plugrad-backend NAME``.

Registered through the ``pytest11`` entry point of plugrad (or ``-p
plugrad.plugins.conformance.pytest_plugin``). With ``--plugrad-backend`` and no test paths on
the command line, pytest collects the kit's suite (:mod:`plugrad.plugins.conformance.suite`):
one item per contract case, autograd case and training run; missing ops are skipped, and the
capability table is printed at the end. Importing this module is cheap: plugrad itself is
imported only when the option is used.
"""
from __future__ import annotations

import os

import pytest

_RESULTS = pytest.StashKey[list]()


def pytest_addoption(parser):
    group = parser.getgroup("plugrad", "plugrad backend conformance kit")
    group.addoption("--plugrad-backend", metavar="NAME", default=None,
                    help="run the plugrad conformance kit on this backend (device string)")
    group.addoption("--plugrad-quick", action="store_true", default=False,
                    help="fewer layouts per dtype (same ops and dtypes)")
    group.addoption("--plugrad-dtypes", metavar="LIST", default=None,
                    help="comma-separated dtypes to check (default: all)")


def pytest_configure(config):
    if not config.getoption("plugrad_backend"):
        return
    config.stash[_RESULTS] = []
    source = getattr(config, "args_source", None)
    explicit = source is not None and source == config.ArgsSource.ARGS
    if not explicit:
        config.args[:] = [_SUITE]


class _SuiteModule(pytest.Module):
    """The suite, imported under its package name (not as a path-derived ``plugins.…``)."""

    def _getobj(self):
        import importlib
        return importlib.import_module("plugrad.plugins.conformance.suite")


_SUITE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "suite.py")


@pytest.hookimpl(tryfirst=True)
def pytest_pycollect_makemodule(module_path, parent):
    # cheap for every other module of every pytest run: no import unless the kit is asked for
    if str(module_path) != _SUITE or not parent.config.getoption("plugrad_backend"):
        return None
    return _SuiteModule.from_parent(parent, path=module_path)


def record(config, result):
    """Keep a case result for the capability table printed at the end."""
    if _RESULTS in config.stash:
        config.stash[_RESULTS].append(result)


def pytest_terminal_summary(terminalreporter, config):
    if not config.getoption("plugrad_backend") or not config.stash.get(_RESULTS, None):
        return
    from .report import Report
    report = Report(config.getoption("plugrad_backend"), results=config.stash[_RESULTS])
    terminalreporter.section(f"plugrad conformance: {report.backend}")
    terminalreporter.write_line(report.table())
