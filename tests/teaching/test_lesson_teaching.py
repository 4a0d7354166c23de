"""The lesson, as issue 5 describes it: the pow step with its numbers, the hand backprop table, the
eps sentence. The lesson's numbers are the notebook's documented ones."""

from __future__ import annotations

from app.teaching.annotate import traced as trace
from app.teaching.table import rows_by_name
from tests.engine.helpers import node_named
from tests.engine.test_lesson import LESSON, LESSON_CELLS


def _step(result, grad_fn):
    return next(s for s in result.backward if s.grad_fn == grad_fn)


def test_pow_step_shows_the_rule_then_the_numbers_then_the_result():
    result = trace(LESSON)
    explanation = _step(result, "PowBackward0").explanation
    assert explanation.documented and explanation.verified and explanation.rule == "pow"
    assert explanation.general == ["dJ/da = dJ/dy · n·a^(n−1)"]
    (line,) = explanation.lines
    assert line.target == node_named(result, "e").id
    assert (line.symbol, line.formula, line.substituted, line.result) == (
        "dJ/de", "dJ/de2 · 2·e", "[1,1,1,1] · 2·[0,-1,-2,-3]", "[0,-2,-4,-6]")
    assert line.text == "dJ/de = dJ/de2 · 2·e = [1,1,1,1] · 2·[0,-1,-2,-3] = [0,-2,-4,-6]"


def test_every_lesson_step_is_explained():
    result = trace(LESSON)
    texts = {s.grad_fn: [line.text for line in s.explanation.lines] for s in result.backward}
    assert texts["SumBackward0"] == ["dJ/de2 = expand(dJ/dJ, [4]) = expand(1, [4]) = [1,1,1,1]"]
    assert texts["SubBackward0"] == ["dJ/dy_pred = dJ/de = [0,-2,-4,-6]", None]
    assert texts["MulBackward0"] == [None, "dJ/dw = Σ[0](dJ/dy_pred · x) = Σ[0]([0,-2,-4,-6] · [0,1,2,3]) = [-28]"]
    assert texts["AccumulateGrad"] == ["w.grad = dJ/dw = [-28]"]
    first = result.backward[0].explanation
    assert [(n.key, n.params) for n in first.notes] == [("seed", {"root": "J", "value": "1"})]


def test_constants_and_broadcasts_are_spelled_out():
    result = trace(LESSON)
    sub = _step(result, "SubBackward0").explanation
    assert [(n.key, n.params) for n in sub.lines[1].notes] == [("no_grad_needed", {"tensor": "y"})]
    mul = _step(result, "MulBackward0").explanation
    assert [(n.key, n.params) for n in mul.lines[0].notes] == [("no_grad_needed", {"tensor": "x"})]
    assert [(n.key, n.params) for n in mul.lines[1].notes] == [
        ("broadcast_sum", {"tensor": "w", "shape": "[1]", "broadcast_shape": "[4]", "dims": "0"})]


def test_hand_backprop_table_is_the_lessons():
    result = trace(LESSON)
    table = {name: value.data for name, value in rows_by_name(result).items()}
    assert list(table) == ["J", "e2", "e", "y_pred", "w"]  # from the root back to the leaves
    assert table == {"J": 1.0, "e2": [1.0] * 4, "e": [0.0, -2.0, -4.0, -6.0], "y_pred": [0.0, -2.0, -4.0, -6.0],
                     "w": [-28.0]}


def test_table_is_per_pass_even_when_the_program_zeroes_the_grad():
    result = trace(LESSON_CELLS)
    assert node_named(result, "w").grad.data == [0.0]  # w.grad.data.zero_() ran
    assert rows_by_name(result)["w"].data == [-28.0]


def test_gradcheck_sentence_reads_the_eps_experiment():
    result = trace(LESSON, eps=1e-3)
    (element,) = result.gradcheck.leaves[0].elements
    assert element.sentence.key == "gradcheck_sentence"
    assert element.sentence.params == {"leaf": "w", "eps": "0.001", "root": "J", "delta": "-0.028"}


def test_gradcheck_sentence_names_elements_of_larger_leaves():
    result = trace("import torch\nw = torch.tensor([1.0, 2.0], requires_grad=True)\nJ = (w * w).sum()\n")
    sentences = [e.sentence.params for e in result.gradcheck.leaves[0].elements]
    assert [s["leaf"] for s in sentences] == ["w[0]", "w[1]"]
