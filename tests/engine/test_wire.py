"""The trace on the wire (contract version 3): defaults, one-element statistics and edges left out,
everything restored by whoever reads it (pydantic here, `static/js/trace-wire.js` in the page)."""

from __future__ import annotations

import json

from app import trace_defaults
from app.engine.tracer import trace
from app.examples import LESSON
from app.trace_model import Trace, wire_json

LOOP = ("import torch\nb = torch.tensor(0.5, requires_grad=True)\na = torch.tensor(1.0, requires_grad=True)\n"
        "for i in range(300):\n    a = (a * 1.01 + b) * 0.99\na.backward()\n")


def test_the_wire_form_reads_back_as_the_same_trace():
    for source in (LESSON, LOOP):
        result = trace(source)
        assert Trace.model_validate_json(wire_json(result)) == result


def test_a_loop_travels_without_its_defaults_and_edges():
    result = trace(LOOP)
    full = result.model_dump_json(exclude_defaults=False)  # (one-element statistics are left out in both)
    edges = json.dumps([e.model_dump() for e in result.edges], separators=(",", ":"))
    sent = wire_json(result)
    assert len(sent) < 0.75 * (len(full) + len(edges))
    body = json.loads(sent)
    assert "edges" not in body and body["version"] == 3
    kinds = {node["kind"] for node in body["nodes"]}
    assert kinds == {"tensor", "op"}  # the node type is always sent, even though it has one value


def test_one_element_statistics_are_left_out_and_restored():
    result = trace(LESSON)
    sent = json.loads(wire_json(result))
    j = next(node for node in sent["nodes"] if node.get("name") == "J")
    assert j["value"] == {"shape": [], "dtype": "float32", "numel": 1, "data": 14.0}
    read = Trace.model_validate(sent)
    j_read = next(node for node in read.nodes if node.kind == "tensor" and node.name == "J")
    assert (j_read.value.min, j_read.value.max, j_read.value.mean) == (14.0, 14.0, 14.0)
    x = next(node for node in sent["nodes"] if node.get("name") == "x")  # four elements: statistics sent
    assert x["value"]["numel"] == 4 and (x["value"]["min"], x["value"]["max"]) == (0.0, 3.0)


def test_edges_follow_from_each_ops_inputs_and_outputs():
    result = trace(LESSON)
    edges = {(e.source, e.target, e.kind, e.index) for e in result.edges}
    ops = [node for node in result.nodes if node.kind == "op"]
    assert len(edges) == sum(len(op.inputs) + len(op.outputs) for op in ops)
    for op in ops:
        assert all((t, op.id, "input", i) in edges for i, t in enumerate(op.inputs))
        assert all((op.id, t, "output", i) in edges for i, t in enumerate(op.outputs))


def test_the_pages_table_of_defaults_is_up_to_date():
    """After changing app/trace_model.py, run `python -m app.trace_defaults`."""
    assert trace_defaults.OUTPUT.read_text(encoding="utf-8") == trace_defaults.javascript()


def test_the_table_knows_every_default_a_trace_can_leave_out():
    models = trace_defaults.table()
    assert models["TensorNode"]["defaults"]["names"] == []
    assert models["OpNode"]["defaults"]["occurrence"] == 0
    assert models["Trace"]["children"]["nodes"] == {"each": {"kind": {"tensor": "TensorNode", "op": "OpNode"}}}
    assert models["ParamUpdate"]["children"]["state"] == {"values": "TensorValue"}
    assert "kind" not in models["OpNode"]["defaults"] and "version" not in models["Trace"]["defaults"]


def test_a_one_element_preview_cut_to_no_numbers_keeps_its_statistics():
    """Past the trace's size target the worker may preview 0 numbers: the statistics are then sent."""
    from app.engine.values import shrink_previews

    result = trace(LESSON)
    shrink_previews(result, 0)
    sent = json.loads(wire_json(result))
    j = next(node for node in sent["nodes"] if node.get("name") == "J")
    assert j["value"]["data"] == [] and j["value"]["min"] == 14.0
    assert Trace.model_validate(sent) == result
