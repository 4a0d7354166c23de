"""An update step written out with its numbers, as a learner would on paper.

    w ← w − lr·dJ/dw = 1 − 0.01·(−28) = 1.28

For plain SGD and for manual updates whose change is a constant times the gradient (that constant
is the learning rate the program used), and for SGD with momentum (`w ← w − lr·v`, v the momentum
buffer). Adam and the rest get their rule with symbols; their numbers are in the step's state.
"""

from __future__ import annotations

import torch

from app.teaching import notation

_RULES = {
    "Adam": "{w} ← {w} − lr·m̂/(√v̂ + ε)",
    "AdamW": "{w} ← {w} − lr·(m̂/(√v̂ + ε) + λ·{w})",
    "RMSprop": "{w} ← {w} − lr·{g}/(√v + ε)",
    "Adagrad": "{w} ← {w} − lr·{g}/(√Σ{g}² + ε)",
}


def _learning_rate(before: torch.Tensor, after: torch.Tensor, grad: torch.Tensor) -> float | None:
    """The c in `after = before − c·grad`, when the change is exactly that (a manual SGD step)."""
    mask = grad != 0
    if not bool(mask.any()):
        return None
    ratios = ((before - after)[mask] / grad[mask]).double()
    rate = float(ratios.mean())
    return rate if torch.allclose(ratios, torch.full_like(ratios, rate), rtol=1e-4, atol=1e-12) else None


def _value(tensor: torch.Tensor) -> str:
    """`1.28` for one element, `[1,2]` for more."""
    return notation.number(tensor.item()) if tensor.numel() == 1 else notation.tensor(tensor)


def _sgd_text(name: str, rate: float, change, term: torch.Tensor, term_text: str) -> str:
    return (f"{name} ← {name} − lr·{term_text} = {_value(change.before)} − {notation.number(rate)}·"
            f"({_value(term)}) = {_value(change.after)}")


def update_text(record, change, root: str) -> str | None:
    """The rule for one parameter of one update step, with numbers where the rule is exact."""
    name = change.name
    grad_symbol = notation.gradient(root, name)
    if change.grad is None or change.after is None or change.before.numel() > notation.FULL_ELEMENTS:
        return None
    hyper = record.hyper
    if record.kind == "manual" or (record.optimizer == "SGD" and not hyper.get("momentum") and not hyper.get("weight_decay")):
        rate = hyper.get("lr") if record.kind == "optimizer" else _learning_rate(change.before, change.after, change.grad)
        if rate is None:
            return None
        if record.kind == "manual":
            record.hyper.setdefault("lr", float(f"{rate:.7g}"))  # the rate the program used, read off the change
        return _sgd_text(name, rate, change, change.grad, grad_symbol)
    if record.optimizer == "SGD" and "momentum_buffer" in change.state and not hyper.get("weight_decay"):
        return _sgd_text(name, hyper.get("lr", 0.0), change, change.state["momentum_buffer"], "v")
    rule = _RULES.get(record.optimizer or "")
    return rule.format(w=name, g=grad_symbol) if rule else None


def explain_updates(run) -> None:
    """Write each update step's rule into its parameters (`ParamChange.text`)."""
    roots = {summary.index: summary.root for summary in run.summaries.items}
    for record in run.updates.records:
        root = roots.get(record.pass_index) or "J"
        for change in record.changes:
            change.text = update_text(record, change, root)
