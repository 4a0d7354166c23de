"""Step numbers in explanations are the ones the page shows: counted from 1, like the player and the
hand backprop table (issue 11: "the rule is shown at step 0" while steps start at 1)."""

from __future__ import annotations

from app.teaching.annotate import traced as trace

CROSS_ENTROPY = """\
import torch
import torch.nn.functional as F
logits = torch.tensor([[2.0, 1.0, 0.1], [0.5, 2.5, 0.3]], requires_grad=True)
target = torch.tensor([0, 1])
loss = F.cross_entropy(logits, target)
loss.backward()
"""


def test_an_inner_step_points_at_its_calls_step_counted_from_one():
    result = trace(CROSS_ENTROPY)
    (inner,) = [s for s in result.backward if s.kind == "internal"]
    main = next(s for s in result.backward if s.kind == "op" and s.node == inner.node)
    (note,) = [n for n in inner.explanation.notes if n.key == "internal_step"]
    assert note.params == {"op": "cross_entropy", "step": main.index + 1}
    assert main.index == 0 and note.params["step"] == 1
