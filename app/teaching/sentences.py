"""The lesson's reading of a gradient: "if w grows by 0.001, J grows by about -0.028".

The numbers are the gradient check's own (`delta` is J(w+eps) - J(w), measured, not predicted);
this only words them as a message key, per element, for the browser to show in either language.
"""

from __future__ import annotations

from app.teaching import notation
from app.trace_model import GradCheck, Message


def _delta_text(delta) -> str:
    return delta if isinstance(delta, str) else f"{float(delta):.2g}" if abs(float(delta)) < 1e-3 else f"{float(delta):.3g}"


def add_gradcheck_sentences(run, gradcheck: GradCheck) -> None:
    for leaf in gradcheck.leaves:
        record = run.graph.tensors[leaf.leaf]
        many = record.tensor.numel() > 1 or record.tensor.dim() > 1
        root = notation.name(_name(run, leaf.root), leaf.root)
        for element in leaf.elements:
            index = "[" + ",".join(map(str, element.index)) + "]" if many else ""
            element.sentence = Message(key="gradcheck_sentence", params={
                "leaf": f"{leaf.name}{index}", "eps": notation.number(gradcheck.eps) if gradcheck.eps >= 1e-4
                else f"{gradcheck.eps:g}", "root": root, "delta": _delta_text(element.delta)})


def _name(run, node_id: str) -> str:
    record = run.graph.tensors[node_id]
    return record.names[-1] if record.names else record.label
