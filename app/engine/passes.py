"""Every backward pass in a few numbers: the loss, and each parameter's value and gradient.

A training loop runs hundreds of passes; drawing each in full would be megabytes of the same graph.
Each pass gets a `PassSummary` (cheap: a few reductions per parameter, in plain Python for small
ones), and only chosen passes are recorded in full (see `plan.py`). The parameters of a pass are the
leaves its graph reaches (the variables of its `AccumulateGrad` nodes), or the `inputs` of
`torch.autograd.grad`. Numbers for charts keep 7 significant digits (float32 holds about 7).
"""

from __future__ import annotations

import math

import torch

from app.engine.values import json_number
from app.trace_model import PassSummary, SummaryParam

_SMALL = 64  # up to this many elements, Python's arithmetic beats a torch call


def reachable_leaves(roots: list[torch.Tensor]) -> list[torch.Tensor]:
    """The leaves requiring grad that a backward from `roots` reaches, in the order autograd links them."""
    leaves, seen, stack = [], set(), [root.grad_fn for root in roots]
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        variable = getattr(node, "variable", None)
        if variable is not None:
            leaves.append(variable)
        stack.extend(next_node for next_node, _ in reversed(node.next_functions))
    return leaves


def _short(value: float):
    """A number for a chart: 7 significant digits, NaN and infinities as JSON's strings."""
    return json_number(float(f"{value:.7g}")) if math.isfinite(value) else json_number(value)


def mean_and_norm(tensor: torch.Tensor) -> tuple[float, float]:
    """(mean, L2 norm) of a tensor's values, in float64."""
    if tensor.numel() <= _SMALL:
        values = [float(v) for v in tensor.detach().reshape(-1).tolist()]
        if not values:
            return math.nan, 0.0
        return math.fsum(values) / len(values), math.sqrt(math.fsum(v * v for v in values))
    data = tensor.detach().double()
    return float(data.mean()), float(data.norm())


class PassSummaries:
    """The summaries of one run, and the parameters their lists follow."""

    def __init__(self, limit: int):
        self.limit = limit
        self.items: list[PassSummary] = []
        self.params: list[SummaryParam] = []
        self._order: dict[str, int] = {}

    def add(self, index: int, root: torch.Tensor, root_name: str | None, line: int | None, detailed: bool,
            params: list[tuple[str, torch.Tensor, torch.Tensor | None]]) -> None:
        """`params`: (name, value, the gradient this pass gave it) for each leaf."""
        if len(self.items) >= self.limit:
            return
        loss = json_number(float(root.detach().double().mean())) if root.numel() else None
        width = len(self.params)
        columns = {key: [None] * width for key in ("values", "norms", "grads", "grad_norms")}
        nonfinite = isinstance(loss, str)
        for name, value, grad in params:
            position = self._position(name, value.numel(), columns)
            mean, norm = mean_and_norm(value)
            columns["values"][position], columns["norms"][position] = _short(mean), _short(norm)
            nonfinite = nonfinite or not math.isfinite(norm)
            if grad is not None:
                grad_mean, grad_norm = mean_and_norm(grad)
                columns["grads"][position], columns["grad_norms"][position] = _short(grad_mean), _short(grad_norm)
                nonfinite = nonfinite or not math.isfinite(grad_norm)
        self.items.append(PassSummary.model_construct(
            index=index, root=root_name, loss=loss, line=line, detailed=detailed, nonfinite=nonfinite, **columns))

    def _position(self, name: str, numel: int, columns: dict[str, list]) -> int:
        position = self._order.get(name)
        if position is None:
            position = self._order[name] = len(self.params)
            self.params.append(SummaryParam(name=name, numel=numel))
        for column in columns.values():
            column.extend([None] * (position + 1 - len(column)))
        return position
