"""A trace as sent (defaults left out) made whole, the way the page and pydantic read it: tests
that look into raw JSON use this instead of guessing which fields a trace may leave out."""

from __future__ import annotations

from app.trace_model import Trace


def whole(sent: dict) -> dict:
    """Every field present, edges included, as plain JSON values."""
    return whole_json(Trace.model_validate(sent))


def whole_json(trace: Trace) -> dict:
    """A trace as plain JSON values with every field, edges included: what the page works from."""
    data = trace.model_dump(mode="json")
    data["edges"] = [edge.model_dump(mode="json") for edge in trace.edges]
    return data
