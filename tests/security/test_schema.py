"""Schemathesis against the app's own OpenAPI schema, in process (the real worker pool runs).

Every generated request (valid and invalid, for every operation) must get an answer that is not a
5xx, whose status is declared for that operation, and whose body matches the declared schema of
that status (the error models included). Bounded: at most a few hundred examples, no deadline.
"""

from __future__ import annotations

from collections import Counter

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from app.service.api import create_app
from app.settings import ServiceSettings
from tests.security.harness import REPORT

APP = create_app(ServiceSettings(workers=2, time_limit_s=2, log_level="warning"))
schema = schemathesis.openapi.from_dict(APP.openapi())
schema.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          response_headers_conformance]
SEEN: Counter = Counter()
EXAMPLES = {"POST /api/trace": 150}


@pytest.fixture(scope="module")
def client():
    with TestClient(APP, raise_server_exceptions=False) as test_client:
        yield test_client
    statuses = ", ".join(f"{status}: {count}" for status, count in sorted(SEEN.items()))
    REPORT.append(f"schemathesis: {sum(SEEN.values())} requests, statuses {statuses}, 0 5xx, all conform")


@schema.parametrize()
@settings(max_examples=40, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_schema(case, client):
    kwargs = case.as_transport_kwargs(base_url="http://testserver")
    request = {key: kwargs[key] for key in ("method", "url", "headers", "params", "cookies") if kwargs.get(key)}
    if "json" in kwargs:
        request["json"] = kwargs["json"]
    elif kwargs.get("data") is not None:
        request["content"] = kwargs["data"]
    response = client.request(**request)
    SEEN[response.status_code] += 1
    assert response.status_code < 500, response.text
    case.validate_response(response, checks=CHECKS)


def test_every_status_is_declared_with_a_model():
    """400, 413, 422, 429 and 503 of POST /api/trace each declare a JSON body model."""
    responses = APP.openapi()["paths"]["/api/trace"]["post"]["responses"]
    assert set(responses) == {"200", "400", "413", "422", "429", "503"}
    for status, response in responses.items():
        assert "$ref" in response["content"]["application/json"]["schema"], status
    assert "Retry-After" in responses["503"]["headers"]
