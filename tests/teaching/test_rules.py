"""Every local derivative rule, evaluated on real traces and compared with what torch sent.

The check here is independent of the engine's own: the rule's executable form is run on the
recorded forward values and on the arriving gradient *as the trace reports it* (`grad_in`), and the
result, summed per input tensor, must equal the gradients the trace reports torch sent to that
tensor from the op's autograd nodes (`grads_out`). A wrong formula fails here.
"""

from __future__ import annotations

import pytest
import torch

from app.teaching import rules
from app.teaching.call import build_call, operand_positions
from app.teaching.shapes import sum_to
from tests.engine.helpers import as_tensor
from tests.teaching.helpers import trace_with_run
from tests.teaching.programs import PROGRAMS


def _same_tensor(run):
    """node -> first node of the same tensor value (ops like `m.float()` return their input)."""
    first, same = {}, {}
    for record in run.graph.tensors.values():
        same[record.id] = first.setdefault((id(record.tensor), record.version), record.id)
    return same


def _arriving(step, op, same):
    grads = {same.get(t, t): (as_tensor(g).to(getattr(torch, g.dtype)) if g is not None else None)
             for t, g in zip(step.grad_in_targets, step.grad_in)}
    return [grads.get(same[out]) for out in op.outputs]


def _rule_gradients(run, op, grads, same) -> tuple[str | None, dict[str, torch.Tensor]]:
    """The rule's gradient for each input tensor that requires grad, summed per tensor."""
    call = build_call(run.graph, op, grads)
    rule = rules.find_rule(call)
    if rule is None:
        return None, {}
    totals: dict[str, torch.Tensor] = {}
    for (position, operand), target in zip(operand_positions(call), op.inputs):
        spec = rule.each if isinstance(position, tuple) else rule.grads.get(position)
        if isinstance(position, tuple):
            call.k = position[1]
        if spec is None or not run.graph.tensors[target].requires_grad:
            continue
        value = spec.compute(call).to(torch.float64)
        if spec.broadcast:
            value = sum_to(value, operand.value.shape)
        key = same[target]
        totals[key] = value if key not in totals else totals[key] + value
    return rule.id, totals


def _sent(trace, op_id, pass_index, same) -> dict[str, torch.Tensor]:
    """What torch sent to each tensor from this op's autograd nodes in this pass (from the trace)."""
    sent: dict[str, torch.Tensor] = {}
    for step in trace.backward:
        if step.node != op_id or step.pass_index != pass_index or step.kind == "accumulate":
            continue
        for flow in step.grads_out:
            if flow.target is None or flow.value is None:
                continue
            key = same.get(flow.target, flow.target)
            value = as_tensor(flow.value)
            sent[key] = value if key not in sent else sent[key] + value
    return sent


def _check_program(source, monkeypatch) -> set[str]:
    trace, run = trace_with_run(source, monkeypatch)
    same = _same_tensor(run)
    checked = set()
    for step in trace.backward:
        if step.kind != "op":
            continue
        op = run.graph.ops[step.node]
        rule_id, mine = _rule_gradients(run, op, _arriving(step, op, same), same)
        assert rule_id is not None, f"no rule for {op.op} ({step.grad_fn})"
        sent = _sent(trace, op.id, step.pass_index, same)
        assert set(mine) == set(sent), (rule_id, op.source, set(mine), set(sent))
        for target, value in mine.items():
            assert value.shape == sent[target].shape, (rule_id, op.source)
            assert torch.allclose(value, sent[target], rtol=1e-4, atol=1e-5, equal_nan=True), \
                (rule_id, op.source, value, sent[target])
        checked.add(rule_id)
    return checked


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_rules_give_the_gradients_torch_sent(name, monkeypatch):
    assert _check_program(PROGRAMS[name], monkeypatch)


def test_every_rule_is_checked_on_a_traced_program(monkeypatch):
    checked = set()
    for source in PROGRAMS.values():
        checked |= _check_program(source, monkeypatch)
    no_backward = {"detach"}  # makes no autograd node: checked in test_detach_sends_nothing
    assert {rule.id for rule in rules.RULES} - no_backward == checked


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_engine_explains_every_step_with_a_verified_rule(name):
    from app.teaching.annotate import traced as trace

    result = trace(PROGRAMS[name])
    for step in result.backward:
        explanation = step.explanation
        assert explanation is not None and explanation.documented, (step.grad_fn, explanation)
        if step.kind == "op":
            assert explanation.verified is True, (step.grad_fn, explanation)
            assert all(line.text for line in explanation.lines if line.formula), explanation


def test_detach_sends_nothing(monkeypatch):
    trace, run = trace_with_run(PROGRAMS["detach_and_twice"], monkeypatch)
    detach = next(op for op in run.graph.ops.values() if op.op == "detach")
    assert detach.grad_fn is None and rules.DETACH.grads == {0: None}
    assert not any(step.node == detach.id for step in trace.backward)
    c = detach.outputs[0]
    assert not any(flow.target == c for step in trace.backward for flow in step.grads_out)


def test_a_wrong_formula_is_caught_and_never_shown(monkeypatch):
    """Break the pow rule: the engine's own check refuses it, and the independent check fails."""
    from app.teaching.annotate import traced as trace

    wrong = rules.Grad("{g} · {n}·{a}", lambda c: c.g * c.b * c.a * 3)
    broken = rules.Rule("pow", ("pow",), grads={0: wrong}, applies=rules.POW.applies,
                        symbols=rules.POW.symbols, generic=rules.POW.generic)
    monkeypatch.setattr(rules, "_BY_OP", {**rules._BY_OP, "pow": [broken]})
    result = trace(PROGRAMS["lesson"])
    pow_step = next(s for s in result.backward if s.grad_fn == "PowBackward0")
    assert pow_step.explanation.documented is False and pow_step.explanation.verified is False
    assert pow_step.explanation.lines == []
    assert [n.key for n in pow_step.explanation.notes] == ["rule_unverified"]
    with pytest.raises(AssertionError):
        _check_program(PROGRAMS["lesson"], monkeypatch)


def test_an_op_without_a_rule_says_so(monkeypatch):
    from app.teaching.annotate import traced as trace

    result = trace("import torch\nx = torch.tensor([1.0, 2.0, 4.0], requires_grad=True)\nL = x.cumsum(0).sum()\n")
    cumsum = next(s for s in result.backward if s.grad_fn == "CumsumBackward0")
    assert cumsum.explanation.documented is False and cumsum.explanation.lines == []
    assert [(n.key, n.params) for n in cumsum.explanation.notes] == [("rule_not_documented", {"op": "cumsum"})]
