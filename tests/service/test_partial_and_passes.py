"""Through the API: a failing program's own graph as far as it ran, and backward passes asked for in full."""

from __future__ import annotations

from app.examples import EXAMPLES_BY_ID
from app.trace_model import ErrorResponse, Trace

LOOP = """\
import torch
w = torch.tensor([1.0], requires_grad=True)
for step in range(30):
    loss = ((3 * w - 6) ** 2).sum()
    loss.backward()
    with torch.no_grad():
        w -= 0.01 * w.grad
    w.grad.zero_()
"""


def test_a_backward_error_comes_with_the_graph_that_ran(client):
    response = client.post("/api/trace", json={"source": EXAMPLES_BY_ID["inplace-error"].source})
    assert response.status_code == 400, response.text
    body = ErrorResponse.model_validate_json(response.content)
    assert body.error.kind == "runtime" and body.error.line == 6
    partial = body.trace
    assert partial is not None and (partial.error.kind, partial.error.line) == ("runtime", 6)
    assert {node.op for node in partial.nodes if node.kind == "op"} >= {"exp", "add_", "sum"}
    (failed_pass,) = partial.passes
    assert not failed_pass.completed
    assert [step.grad_fn for step in partial.backward if step.failed] == ["ExpBackward0"]


def test_a_program_that_never_ends_says_how_far_it_got(tight_client):
    source = LOOP.replace("range(30)", "range(10**9)")
    response = tight_client.post("/api/trace", json={"source": source, "gradcheck": False})
    assert response.status_code == 400, response.text
    body = ErrorResponse.model_validate_json(response.content)
    assert body.error.kind == "timeout" and "backward pass" in body.error.message
    assert body.trace is not None and len(body.trace.summaries) > 10
    assert body.trace.summaries[0].detailed and body.trace.passes[0].index == 0


def test_passes_asked_for_are_recorded_in_full(client):
    response = client.post("/api/trace", json={"source": LOOP, "passes": [7, 12]})
    assert response.status_code == 200, response.text
    trace = Trace.model_validate_json(response.content)
    assert [p.index for p in trace.passes] == [0, 7, 12, 29]
    assert [s.index for s in trace.summaries if s.detailed] == [0, 7, 12, 29]
    assert {u.pass_index for u in trace.updates if u.kind == "manual"} == {0, 7, 12, 29}


def test_passes_must_be_a_short_list_of_integers(client):
    for passes in ([1.5], ["1"], list(range(17))):
        assert client.post("/api/trace", json={"source": LOOP, "passes": passes}).status_code == 422
