"""The lesson from ../shared/seed: J = 14, dJ/dw = -28, the eps experiment, the hand backprop."""

from __future__ import annotations

import torch

from app.engine import trace
from app.examples import LESSON, LESSON_NOTEBOOK
from tests.engine.helpers import assert_close, node_named

# The lesson program and the notebook's cells In [6] to In [17], pasted one after another as they
# are, are the first two built-in examples.
LESSON_CELLS = LESSON_NOTEBOOK


def reference():
    """The lesson computed directly with torch, independently of Grafo."""
    x = torch.arange(0, 4)
    y = 2 * torch.arange(0, 4)
    w = torch.ones(1, requires_grad=True)
    y_pred = x * w
    e = y_pred - y
    e2 = e.pow(2)
    J = e2.sum()
    for t in (y_pred, e, e2, J):
        t.retain_grad()
    J.backward()
    return dict(x=x, y=y, w=w, y_pred=y_pred, e=e, e2=e2, J=J)


def test_values_and_gradients_match_torch():
    result = trace(LESSON)
    ref = reference()
    assert node_named(result, "J").value.data == 14.0
    assert node_named(result, "w").grad.data == [-28.0]
    for name in ("x", "y", "w", "y_pred", "e", "e2", "J"):
        assert_close(node_named(result, name).value, ref[name])
    for name in ("y_pred", "e", "e2", "J", "w"):
        assert_close(node_named(result, name).grad, ref[name].grad)


def test_backward_steps_follow_the_engine():
    result = trace(LESSON)
    steps = result.backward
    assert [s.grad_fn for s in steps] == ["SumBackward0", "PowBackward0", "SubBackward0", "MulBackward0",
                                          "AccumulateGrad"]
    arriving = [s.grad_in[0].data for s in steps]
    assert arriving == [1.0, [1.0, 1.0, 1.0, 1.0], [0.0, -2.0, -4.0, -6.0], [0.0, -2.0, -4.0, -6.0], [-28.0]]
    assert steps[-1].accumulated.data == [-28.0]
    assert steps[-1].node == node_named(result, "w").id
    pow_step = steps[1]
    assert pow_step.grads_out[0].target == node_named(result, "e").id
    assert pow_step.grads_out[0].value.data == [0.0, -2.0, -4.0, -6.0]
    assert len(result.passes) == 1 and not result.passes[0].implicit


def test_constants_and_names_are_in_the_graph():
    result = trace(LESSON)
    assert node_named(result, "x").role == "constant"
    assert node_named(result, "y").role == "constant"
    # `Variable(y_t)` is a new tensor sharing y_t's memory: an op from y_t to y, as torch does it.
    variable = next(node for node in result.nodes if node.kind == "op" and node.op == "Variable"
                    and node.outputs == [node_named(result, "y").id])
    assert variable.inputs == [node_named(result, "y_t").id]
    assert node_named(result, "w").role == "param"
    assert node_named(result, "J").role == "root"
    for name in ("y_pred", "e", "e2"):
        node = node_named(result, name)
        assert node.role == "intermediate" and node.label == name
    ops = [node for node in result.nodes if node.kind == "op"]
    assert [op.grad_fn for op in ops if op.grad_fn] == ["MulBackward0", "SubBackward0", "PowBackward0", "SumBackward0"]
    assert [op.label for op in ops if op.op == "Variable"] == ["Variable", "Variable", "Variable requires_grad=True"]
    pow_op = next(op for op in ops if op.op == "pow")
    assert pow_op.label == "pow 2"
    assert {s.name for s in pow_op.saved} == {"self", "exponent"}
    assert node_named(result, "e2").span.line == 9


def test_gradient_check_matches_the_eps_experiment():
    result = trace(LESSON, eps=1e-3)
    (leaf,) = result.gradcheck.leaves
    (element,) = leaf.elements
    ref = reference()
    w_nudged = ref["w"].detach() + 1e-3
    j_new = ((ref["x"] * w_nudged - ref["y"]).pow(2)).sum()
    expected_delta = (j_new - ref["J"].detach()).item()
    assert leaf.name == "w"
    assert element.delta == expected_delta  # the lesson prints about -0.02798843
    assert abs(element.forward - expected_delta / 1e-3) < 1e-9
    assert abs(element.central - (-28.0)) < 1e-6
    assert element.autograd == -28.0
    assert -28.1 < element.forward < -27.9


def test_the_notebook_cells_trace_as_written():
    result = trace(LESSON_CELLS)
    assert result.output[0] == "tensor([-28.])"
    ref = reference()
    j_new = ((ref["x"] * (ref["w"].detach() + 0.001) - ref["y"]).pow(2)).sum()
    assert result.output[1] == str((j_new - ref["J"].detach()).numpy())
    assert node_named(result, "w").grad.data == [0.0]  # w.grad.data.zero_() ran
    assert result.backward[-1].accumulated.data == [-28.0]
    assert_close(node_named(result, "J_new").value, j_new)


def test_two_passes_with_retain_graph_accumulate_to_minus_56():
    source = LESSON.replace("J.backward()", "J.backward(retain_graph=True)\nJ.backward()")
    result = trace(source)
    assert [p.index for p in result.passes] == [0, 1]
    assert node_named(result, "w").grad.data == [-56.0]
    accumulations = [s.accumulated.data for s in result.backward if s.kind == "accumulate"]
    assert accumulations == [[-28.0], [-56.0]]
    assert result.output == ["tensor([-56.])"]


def test_a_root_that_cannot_be_recomputed_is_said_with_a_message_key(monkeypatch):
    """The note is a key and parameters, so the page says it in the reader's language."""
    from app.engine import gradcheck

    def broken(*args, **kwargs):
        raise RuntimeError("no replay for this op")

    monkeypatch.setattr(gradcheck, "Replay", broken)
    result = trace(LESSON)
    assert result.gradcheck.leaves == []
    assert result.gradcheck.note.key == "gradcheck_not_recomputed"
    assert result.gradcheck.note.params == {"error": "no replay for this op"}
