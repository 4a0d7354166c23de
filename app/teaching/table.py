"""The hand backprop table (the lesson's last cell) from a trace: each tensor with dJ/d(tensor).

It needs no field of its own: the backward steps already say it. In one pass, the engine reaches
each tensor once, with its whole gradient (all contributions summed), as the `grad_in` of the step
that consumes it: the op that made it, or the leaf's AccumulateGrad. Walking the pass's steps in
order and reading `grad_in_targets` beside `grad_in` gives the rows from the root back to the
leaves, which is the lesson's order (`dJ = 1`, `de2 = [1,1,1,1]`, `de = [0,-2,-4,-6]`, `dw = -28`).

The browser does the same walk (a few lines); this is the reference it is tested against.
"""

from __future__ import annotations

from app.trace_model import TensorNode, TensorValue, Trace


def backprop_table(trace: Trace, pass_index: int = 0) -> list[dict]:
    """Rows `{"tensor": id, "step": index, "grad": TensorValue}` from the root to the leaves, for the
    pass with that number (it must be one the trace has in full)."""
    steps = {step.index: step for step in trace.backward}
    rows, seen = [], set()
    recorded = next(p for p in trace.passes if p.index == pass_index)  # only detailed passes are in the trace
    for index in recorded.steps:
        step = steps[index]
        for target, grad in zip(step.grad_in_targets, step.grad_in):
            if target is None or grad is None or target in seen:
                continue
            seen.add(target)
            rows.append({"tensor": target, "step": index, "grad": grad})
    return rows


def rows_by_name(trace: Trace, pass_index: int = 0) -> dict[str, TensorValue]:
    """The table keyed by tensor name (tests and the CLI read it this way)."""
    names = {node.id: node.name or node.label for node in trace.nodes if isinstance(node, TensorNode)}
    return {names[row["tensor"]]: row["grad"] for row in backprop_table(trace, pass_index)}
