"""The trace contract's defaults and nesting, written for the browser.

A trace travels without the fields that equal their defaults (`wire_json`). Python restores them when
it validates; the page restores them with `static/js/trace-wire.js`, from the table this module writes
to `static/js/trace-defaults.js`. Run `python -m app.trace_defaults` after changing `app/trace_model.py`
(a test fails while the file is out of date).
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic_core import to_jsonable_python

from app import trace_model
from app.trace_model import ErrorResponse

OUTPUT = Path(__file__).resolve().parents[1] / "static" / "js" / "trace-defaults.js"


def _shape(schema: dict):
    """Where a property leads: a model name, {"each": shape}, {"values": shape}, {"kind": {...}}, or None."""
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    if "anyOf" in schema:
        shapes = [shape for shape in map(_shape, schema["anyOf"]) if shape is not None]
        if len(shapes) > 1:  # a union of models, told apart by their `kind`
            return {"kind": {_kind_of(name): name for name in shapes}}
        return shapes[0] if shapes else None
    if "oneOf" in schema:
        return _shape({"anyOf": schema["oneOf"]})
    if isinstance(schema.get("items"), dict):
        inner = _shape(schema["items"])
        return None if inner is None else {"each": inner}
    if isinstance(schema.get("additionalProperties"), dict):
        inner = _shape(schema["additionalProperties"])
        return None if inner is None else {"values": inner}
    return None


def _kind_of(model_name: str) -> str:
    return getattr(trace_model, model_name).model_fields["kind"].annotation.__args__[0]


def _defaults(model_name: str) -> dict:
    fields = getattr(trace_model, model_name).model_fields
    return {name: to_jsonable_python(field.get_default(call_default_factory=True))
            for name, field in fields.items() if not field.is_required()}


def table() -> dict:
    """Every model an answer can hold: {name: {"defaults": {...}, "children": {field: shape}}}."""
    schema = ErrorResponse.model_json_schema()
    models = {}
    for name, definition in schema["$defs"].items():
        children = {field: shape for field, prop in definition.get("properties", {}).items()
                    if (shape := _shape(prop)) is not None}
        models[name] = {"defaults": _defaults(name), "children": children}
    return models


def javascript() -> str:
    body = json.dumps(table(), indent=1, sort_keys=True)
    return ("// Written by `python -m app.trace_defaults` from app/trace_model.py: do not edit by hand.\n"
            "// Each model of the trace contract: the defaults of the fields a trace may leave out, and\n"
            "// which fields hold other models (a name, {each}, {values}, or {kind} for node types).\n"
            f"export const MODELS = {body};\n")


if __name__ == "__main__":
    OUTPUT.write_text(javascript(), encoding="utf-8")
    print(f"wrote {OUTPUT}")
