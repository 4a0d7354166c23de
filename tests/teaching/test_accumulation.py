"""A tensor used more than once: each contribution and their sum; a second backward() adds to .grad."""

from __future__ import annotations

import torch

from app.teaching.annotate import traced as trace
from tests.engine.helpers import node_named
from tests.teaching.programs import PROGRAMS
from app.teaching import notation

USED_TWICE = """\
import torch
a = torch.tensor([2.0, 3.0], requires_grad=True)
b = a * a + a
s = b.sum()
s.backward()
"""


def test_leaf_used_three_times_shows_each_contribution_and_the_sum():
    result = trace(USED_TWICE)
    a_ref = torch.tensor([2.0, 3.0])
    step = next(s for s in result.backward if s.kind == "accumulate")
    incoming = step.explanation.incoming
    assert incoming.symbol == "ds/da" and incoming.target == node_named(result, "a").id
    # in the order the engine sent them: `+ a` runs first (it is nearer the root), then `a * a`
    assert [t.value for t in incoming.terms] == [notation.tensor(torch.ones(2)), notation.tensor(a_ref),
                                                notation.tensor(a_ref)]
    assert incoming.total == notation.tensor(2 * a_ref + 1)
    assert incoming.text == f"ds/da = [1,1] + [2,3] + [2,3] = {notation.tensor(2 * a_ref + 1)}"
    keys = [(n.key, n.params) for n in step.explanation.notes]
    assert ("sum_of_contributions", {"tensor": "a", "count": 3}) in keys


def test_intermediate_used_twice_is_summed_before_its_op_runs():
    source = ("import torch\nw = torch.tensor([1.0, -2.0], requires_grad=True)\nh = w * 3\n"
              "L = (h * h).sum()\nL.backward()\n")
    result = trace(source)
    h_ref = torch.tensor([1.0, -2.0]) * 3
    mul3 = next(s for s in result.backward if s.grad_fn == "MulBackward0" and s.grad_in_targets == [node_named(result, "h").id])
    incoming = mul3.explanation.incoming
    assert [t.value for t in incoming.terms] == [notation.tensor(h_ref), notation.tensor(h_ref)]
    assert incoming.total == notation.tensor(2 * h_ref)


def test_second_backward_adds_to_grad():
    result = trace(PROGRAMS["detach_and_twice"])
    accumulations = [s for s in result.backward if s.kind == "accumulate"]
    first, second = accumulations[0].explanation, accumulations[1].explanation
    assert "accumulate_add" not in [n.key for n in first.notes]
    assert "accumulate_add" in [n.key for n in second.notes]
    line = second.lines[0]
    assert line.formula == "w.grad + dL/dw"
    assert line.result == notation.tensor(torch.tensor(accumulations[1].accumulated.data))
