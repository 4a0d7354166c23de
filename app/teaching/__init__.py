"""Teaching: the chain rule step by step, plain-language hints for autograd errors and warnings.

`annotate(run, gradcheck)` is what the engine calls at the end of a trace. It adds optional fields
only (`BackwardStep.explanation`, `GradCheckElement.sentence`); the trace itself is never changed.
"""

from __future__ import annotations

import torch

from app.teaching.explain import explain_steps
from app.teaching.sentences import add_gradcheck_sentences


def annotate(run, gradcheck) -> None:
    with run.paused(), torch.no_grad():
        explain_steps(run)
        if gradcheck is not None:
            add_gradcheck_sentences(run, gradcheck)
