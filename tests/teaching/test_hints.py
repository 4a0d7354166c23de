"""Common autograd errors carry a hint key; the .grad-is-None situations carry a warning key."""

from __future__ import annotations

import pytest

from app.teaching.annotate import traced as trace
from app.errors import ProgramError
from app.trace_model import ErrorResponse

H = "import torch\n"
ERRORS = {
    "backward_twice": H + "w = torch.ones(2, requires_grad=True)\nJ = (w * w).sum()\nJ.backward()\nJ.backward()\n",
    "non_scalar_backward": H + "w = torch.ones(2, requires_grad=True)\ny = w * 2\ny.backward()\n",
    "inplace_saved_modified": H + "w = torch.ones(2, requires_grad=True)\ne = w.exp()\ne.add_(1)\ne.sum().backward()\n",
    "no_grad_backward": H + "w = torch.ones(2)\nJ = (w * 2).sum()\nJ.backward()\n",
    "leaf_inplace": H + "w = torch.ones(2, requires_grad=True)\nw.add_(1)\n",
    "numpy_requires_grad": H + "w = torch.ones(2, requires_grad=True)\nprint(w.numpy())\n",
    "gradient_shape_mismatch": H + "w = torch.ones(2, requires_grad=True)\ny = w * 2\ny.backward(torch.ones(3))\n",
}


@pytest.mark.parametrize("hint", sorted(ERRORS))
def test_error_carries_its_hint(hint):
    with pytest.raises(ProgramError) as caught:
        trace(ERRORS[hint])
    error = caught.value
    assert error.hint == hint and error.line is not None
    body = error.to_dict()
    assert body["hint"] == hint
    assert ErrorResponse.model_validate({"error": body}).error.hint == hint


def test_other_errors_keep_their_exact_shape():
    with pytest.raises(ProgramError) as caught:
        trace(H + "x = undefined_name\n")
    assert caught.value.hint is None and "hint" not in caught.value.to_dict()


def test_grad_of_a_non_leaf_warns_with_a_key():
    result = trace(H + "w = torch.ones(2, requires_grad=True)\nh = w * 2\nJ = h.sum()\nJ.backward()\nprint(h.grad)\n")
    (warning,) = result.warnings
    assert warning.key == "nonleaf_grad_none" and warning.line == 6


def test_grad_of_a_constant_warns_with_its_name():
    result = trace(H + "x = torch.ones(2)\nw = torch.ones(2, requires_grad=True)\nJ = (x * w).sum()\n"
                   "J.backward()\nprint(x.grad)\n")
    (warning,) = result.warnings
    assert (warning.key, warning.params, warning.line) == ("grad_of_constant", {"name": "x"}, 6)


def test_the_lesson_reading_its_parameter_grad_has_no_warning():
    from tests.engine.test_lesson import LESSON

    assert trace(LESSON).warnings == []


def test_engine_warnings_have_keys():
    nothing = trace(H + "x = torch.ones(2)\ny = x * 2\n")
    assert [w.key for w in nothing.warnings] == ["nothing_requires_grad"]
    seeded = trace(H + "w = torch.ones(3, requires_grad=True)\ny = w * 2\n")
    assert [(w.key, w.params) for w in seeded.warnings] == [("implicit_seed_ones", {"count": 3})]
    root = trace(H + "w = torch.ones(3, requires_grad=True)\nc = torch.ones(2)\n", root="c")
    assert [(w.key, w.params) for w in root.warnings] == [("root_no_grad", {"name": "c"})]
