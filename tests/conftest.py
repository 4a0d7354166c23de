"""Suite-wide: in-process traces get a generous time limit.

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
