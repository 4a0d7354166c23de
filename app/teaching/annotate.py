"""The engine's one call into teaching, at the end of a trace.

It adds optional fields only (`BackwardStep.explanation`, `GradCheckElement.sentence`); nothing the
trace already says is changed. Grafo's own torch work here is neither recorded nor budgeted.
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
