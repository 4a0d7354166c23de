"""A trace as sent (defaults left out) made whole, the way the page and pydantic read it: tests
that look into raw JSON use this instead of guessing which fields a trace may leave out."""

from __future__ import annotations

from app.trace_model import Trace


def whole(sent: dict) -> dict:
    """Every field present, edges included, as plain JSON values."""
    trace = Trace.model_validate(sent)
    data = trace.model_dump(mode="json")
    data["edges"] = [edge.model_dump(mode="json") for edge in trace.edges]
    return data
