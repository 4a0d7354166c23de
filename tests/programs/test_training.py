"""Training loops, compared with the same program run by plain Python and torch.

The programs of `training.py` are real tutorial loops at their real length (2,000 iterations of the
polynomial fits, 500 of the two-layer net, 300 minibatches of d2l's regression, 300 Adam steps of a
classifier). For each: the loss series equals the losses torch computed, pass by pass; the first and
last passes are in full; the last update step's parameters after the step are the program's final
parameters, and the gradients it used are the ones torch left in `.grad`.
"""

from __future__ import annotations

import math
import pytest
import torch

from app.settings import Limits
from app.teaching.annotate import traced
from tests.programs.reference import run_plain
from tests.programs.training import LOOPS, loop_source

LIMITS = Limits(time_limit_s=120)  # correctness here, not speed (bench/ measures that)


def _flat(value) -> list[float]:
    data = value.data if isinstance(value.data, list) else [value.data]
    flat, stack = [], list(reversed(data))
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(reversed(item))
        else:
            flat.append(float(item))
    return flat


def _close(actual: list[float], expected: list[float], rtol: float = 1e-5, atol: float = 1e-6,
           truncated: bool = False) -> bool:
    """Equal within tolerance; a truncated value is compared on the numbers it shows."""
    if truncated:
        expected = expected[: len(actual)]
    return len(actual) == len(expected) and all(math.isclose(a, b, rel_tol=rtol, abs_tol=atol)
                                                for a, b in zip(actual, expected))


@pytest.mark.parametrize("name", sorted(LOOPS))
def test_training_loop_matches_plain_torch(name: str, one_thread):
    source = loop_source(name)
    reference = run_plain(source, timeout_s=120)
    trace = traced(source, limits=LIMITS, gradcheck=False)

    losses = [summary.loss for summary in trace.summaries]
    assert len(losses) == len(reference.losses) >= 100
    assert _close(losses, reference.losses), next(
        (i, a, b) for i, (a, b) in enumerate(zip(losses, reference.losses)) if not math.isclose(a, b, rel_tol=1e-5))
    assert trace.output == reference.output

    last = len(losses) - 1
    assert [p.index for p in trace.passes] == [0, last]
    assert [s.index for s in trace.summaries if s.detailed] == [0, last]
    names = [param.name for param in trace.summary_params]
    assert names and all(len(s.values) <= len(names) for s in trace.summaries)

    final_updates = [u for u in trace.updates if u.pass_index == last and u.kind != "zero_grad"]
    assert final_updates, [(u.kind, u.pass_index) for u in trace.updates]
    for update in final_updates:
        for change in update.params:
            if change.name in reference.params:
                assert _close(_flat(change.after), reference.params[change.name], truncated=change.after.truncated)
                final_grad = reference.grads.get(change.name)
                if final_grad is not None and any(final_grad):  # the program did not zero it after the step
                    assert _close(_flat(change.grad), final_grad, truncated=change.grad.truncated), change.name
