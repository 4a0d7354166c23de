"""Explanations stay cheap: capped in steps, and large tensors are written abbreviated."""

from __future__ import annotations

import torch

from app.teaching.annotate import traced as trace
from app.teaching import explain, notation


def test_steps_past_the_cap_have_no_explanation(monkeypatch):
    monkeypatch.setattr(explain, "MAX_STEPS", 10)
    source = "import torch\nw = torch.ones(2, requires_grad=True)\nh = w\n" + "h = h * 1.5 + w\n" * 10 + "L = h.sum()\n"
    result = trace(source, gradcheck=False)
    assert len(result.backward) > 10
    assert all(s.explanation is not None for s in result.backward[:10])
    assert all(s.explanation is None for s in result.backward[10:])


def test_large_tensors_are_abbreviated_with_their_shape():
    result = trace("import torch\nw = torch.ones(20, 30, requires_grad=True)\nL = (w * 2).sum()\n", gradcheck=False)
    mul = next(s for s in result.backward if s.grad_fn == "MulBackward0").explanation
    (line,) = mul.lines
    assert line.result == "[2,2,2,2,…][20,30]" and mul.verified
    assert len(line.text) < 120


def test_numbers_are_written_compactly():
    assert notation.tensor(torch.tensor([0.0, -2.0, 1e-5, 1 / 3])) == "[0,-2,1e-05,0.3333]"
    assert notation.tensor(torch.tensor(float("nan"))) == "nan"
    assert notation.tensor(torch.tensor([[1, 2], [3, 4]])) == "[[1,2],[3,4]]"


def test_without_numbers_the_rule_keeps_its_symbols(monkeypatch):
    monkeypatch.setattr(explain, "MAX_NUMBERS_ELEMENTS", 0)
    from tests.engine.test_lesson import LESSON

    pow_step = next(s for s in trace(LESSON).backward if s.grad_fn == "PowBackward0").explanation
    (line,) = pow_step.lines
    assert pow_step.documented and pow_step.verified is None
    assert (line.formula, line.substituted, line.result) == ("dJ/de2 · 2·e", None, None)
    assert line.text == "dJ/de = dJ/de2 · 2·e"
