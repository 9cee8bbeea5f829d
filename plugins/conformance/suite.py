"""The conformance kit as pytest items (collected by ``pytest --plugrad-backend NAME``).

Missing ops (not native, or ``supports(op, dtype)`` False) are skipped, never failed.
"""
from __future__ import annotations

import pytest

from plugrad.plugins.conformance import select_cases
from plugrad.plugins.conformance.frontend import _cases, autograd_checks, training_checks
from plugrad.plugins.conformance.harness import run_case
from plugrad.plugins.conformance.programs import PROGRAMS, program_checks
from plugrad.plugins.conformance.pytest_plugin import record


def _dtypes(config):
    value = config.getoption("plugrad_dtypes", None)
    return [d.strip() for d in value.split(",")] if value else None


def pytest_generate_tests(metafunc):
    config = metafunc.config
    if "case" in metafunc.fixturenames:
        cases = select_cases(dtypes=_dtypes(config),
                             quick=config.getoption("plugrad_quick", False))
        metafunc.parametrize("case", cases, ids=[c.ident for c in cases])
    if "autograd_case" in metafunc.fixturenames:
        import plugrad
        names = [c[0] for c in _cases(plugrad)]
        metafunc.parametrize("autograd_case", names)


@pytest.fixture(scope="session")
def backend(request):
    name = request.config.getoption("plugrad_backend", None)
    if not name:
        pytest.skip("pass --plugrad-backend NAME to run the plugrad conformance kit")
    return name


@pytest.fixture(scope="session")
def tables(backend):
    from plugrad.plugins import get_registry
    reg = get_registry()
    kind, index = reg.canonical(backend)
    return reg.table(kind, index), reg.table("cpu")


def test_contract(tables, case, request):
    table, cpu = tables
    result = run_case(table, cpu, case)
    record(request.config, result)
    if result.status == "missing":
        pytest.skip(result.detail)
    assert result.status == "pass", result.message()


def test_autograd(backend, autograd_case):
    (result,) = autograd_checks(backend, names=[autograd_case])
    if result.status == "skip":
        pytest.skip(result.detail)
    assert result.status == "pass", f"{result.name}: {result.detail}"


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_training(backend, optimizer):
    results = {r.name: r for r in training_checks(backend)}
    result = results[f"training mlp+{optimizer}"]
    assert result.status == "pass", f"{result.name}: {result.detail}"


@pytest.mark.parametrize("program", list(PROGRAMS))
def test_optimize_program(tables, program):
    (result,) = program_checks(tables[0], names=[program])
    if result.status == "skip":
        pytest.skip(result.detail)
    assert result.status == "pass", f"{result.name}: {result.detail}"
