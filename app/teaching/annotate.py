"""Teaching on top of a trace: the engine runs the program, this adds what a learner reads.

`traced()` is what the service and the command line call: the engine's `trace()` with this layer's
annotator, and a hint on the errors it knows. It adds optional fields only
(`BackwardStep.explanation`, `GradCheckElement.sentence`, warning and error keys); nothing the trace
already says is changed. Grafo's own torch work here is not recorded.
"""

from __future__ import annotations

import torch

from app import engine
from app.errors import ProgramError
from app.teaching import hints
from app.teaching.explain import explain_steps
from app.teaching.sentences import add_gradcheck_sentences
from app.teaching.updates import explain_updates
from app.trace_model import Trace


def annotate(run, gradcheck) -> None:
    with run.paused(), torch.no_grad():
        explain_steps(run)
        explain_updates(run)
        if gradcheck is not None:
            add_gradcheck_sentences(run, gradcheck)
    for warning in run.warnings:
        if warning.key is None:
            warning.key = hints.warning_key(warning.message)


def traced(source: str, **options) -> Trace:
    """`app.engine.trace` with explanations; a ProgramError carries the hint for its message."""
    try:
        return engine.trace(source, annotate=annotate, **options)
    except ProgramError as error:
        if error.hint is None:
            error.hint = hints.error_hint(error.message)
        raise
