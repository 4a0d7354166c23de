"""Fixtures of the security suite, and the summary it prints at the end of every test run."""

from __future__ import annotations

import pytest

from tests.security.harness import REPORT, Server


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/security/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.security)


def pytest_terminal_summary(terminalreporter):
    """One line per group and per check, shown with or without -s (e.g. in `make test`)."""
    if REPORT:
        terminalreporter.section("Grafo security suite")
        for line in REPORT:
            terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def security_server():
    """The service as `make serve` runs it (2 workers), with a 2 s time limit to keep bombs short
    and the result cache off (its bounded growth would blur the memory check)."""
    env = {"GRAFO_TIME_LIMIT_S": "2", "GRAFO_LOG_LEVEL": "warning", "GRAFO_RESULT_CACHE_MB": "0"}
    server = Server(env, workers=2, name="catalogue")
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()
