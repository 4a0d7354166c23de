"""Suite-wide: in-process traces get a generous time limit; one headless Chromium for every browser test.

Tests must not depend on the machine's speed. The engine's default limit (5 s) is a service setting
about strangers' programs; here a loaded CI machine could push a long test program past it. Tests
of the time limit itself pass their own `Limits`.
"""

from __future__ import annotations

import pytest

import app.engine.tracer as tracer
from app.settings import DEFAULT_LIMITS


@pytest.fixture(autouse=True, scope="session")
def generous_time_limit():
    original = tracer.DEFAULT_LIMITS
    tracer.DEFAULT_LIMITS = DEFAULT_LIMITS.with_changes(time_limit_s=120.0)
    yield
    tracer.DEFAULT_LIMITS = original


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium through Playwright, shared by tests/browser and tests/local (the sync API
    runs one Playwright at a time in a thread, so the suites cannot each start their own)."""
    from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, _need_chromium

    _need_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()
