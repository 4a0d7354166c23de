"""The largest programs the limits allow (10,000 ops) come back whole with the default size limits,
and their traces are checked in a process of their own, so the server's other requests do not wait."""

from __future__ import annotations

import json

import pytest

from app.service import trace_check
from app.settings import Limits, ServiceSettings
from app.trace_model import wire_json
from app.engine.tracer import trace
from tests.service.conftest import make_client
from tests.whole import whole

# 1 + 2 per iteration + 1 ops: 10,000 in all, each a 3-element tensor (15 MB of trace).
CHAIN = ("import torch\nh = torch.tensor([0.5, -0.25, 1.0], requires_grad=True)\n"
         "for i in range(4999):\n    h = h * 1.01 + 0.01\nJ = h.sum()\nJ.backward()\n")


@pytest.fixture(scope="module")
def patient_client():
    """Default limits but time: tracing 10,000 ops takes seconds, more on a loaded machine."""
    with make_client(ServiceSettings(workers=1, time_limit_s=300, result_cache_mb=0)) as test_client:
        yield test_client


def test_a_10000_op_program_comes_back_whole(patient_client):
    response = patient_client.post("/api/trace", json={"source": CHAIN, "gradcheck": False})
    assert response.status_code == 200, response.text[:300]
    assert len(response.content) > trace_check.IN_PROCESS_BYTES  # so it was checked out of process
    data = whole(response.json())
    ops = data["stats"]["ops"]  # (values out of the 15 MB trace first: pytest would print all of it)
    assert ops == Limits().max_ops
    leaf = next(n for n in data["nodes"] if n["kind"] == "tensor" and n["name"] == "h" and n["is_leaf"])
    gradient = leaf["grad"]
    namespace = {}
    exec(CHAIN.replace("h = torch.tensor", "h0 = h = torch.tensor"), namespace)  # the same program, plain torch
    expected = namespace["h0"].grad
    # Past the 2 MB target the worker previews fewer numbers (here none) and says so; the statistics stay.
    assert "values_summarised" in {warning["key"] for warning in data["warnings"]}
    assert (gradient["min"], gradient["max"]) == (expected.min().item(), expected.max().item())


def test_large_traces_are_checked_in_another_process(patient_client, monkeypatch):
    context = patient_client.app.state.service.pool._context
    body = wire_json(trace(CHAIN)).encode()

    def not_here(_body):
        raise AssertionError("a large trace was validated in the server's process")

    monkeypatch.setattr(trace_check, "_valid", not_here)  # the checker, forked earlier, keeps its own
    assert trace_check.trace_is_valid(body, context, timeout_s=60)
    forged = json.loads(body)
    forged["nodes"][0]["kind"] = "script"
    assert not trace_check.trace_is_valid(json.dumps(forged).encode(), context, timeout_s=60)
    assert not trace_check.trace_is_valid(b"[" * (2 << 20), context, timeout_s=60)
