"""The OpenAPI schema: valid, every status of /api/trace declared, every field of the trace named."""

from __future__ import annotations

from openapi_spec_validator import validate
from pydantic import BaseModel

from app.service.api import create_app
from app.settings import ServiceSettings
from app.trace_model import Trace


def _schema() -> dict:
    return create_app(ServiceSettings(workers=1)).openapi()  # no lifespan: no workers started


def _models(model: type[BaseModel], seen: set) -> set:
    """Every pydantic model reachable from `model` through its fields."""
    if model in seen:
        return seen
    seen.add(model)
    for field in model.model_fields.values():
        for candidate in _types_in(field.annotation):
            if isinstance(candidate, type) and issubclass(candidate, BaseModel):
                _models(candidate, seen)
    return seen


def _types_in(annotation) -> list:
    args = getattr(annotation, "__args__", None)
    if not args:
        return [annotation]
    return [found for arg in args for found in _types_in(arg)]


def test_schema_is_valid_openapi():
    validate(_schema())


def test_trace_endpoint_declares_every_status():
    responses = _schema()["paths"]["/api/trace"]["post"]["responses"]
    assert set(responses) == {"200", "400", "413", "422", "429", "503"}
    assert responses["200"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Trace"}
    assert "Retry-After" in responses["503"]["headers"] and "Retry-After" in responses["429"]["headers"]


def test_schema_names_every_field_of_the_trace():
    components = _schema()["components"]["schemas"]
    models = _models(Trace, set())
    assert len(models) > 10
    for model in models:
        assert model.__name__ in components, model.__name__
        properties = components[model.__name__]["properties"]
        assert set(model.model_fields) <= set(properties), model.__name__


def test_request_model_forbids_extra_fields():
    schema = _schema()["components"]["schemas"]["TraceRequest"]
    assert schema["additionalProperties"] is False
    assert set(schema["properties"]) == {"source", "root", "gradcheck", "eps", "passes"}


def test_other_endpoints_are_documented():
    paths = _schema()["paths"]
    assert {"/api/trace", "/api/examples", "/api/health"} <= set(paths)
